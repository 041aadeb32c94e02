package eceapi

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileCall is one client method, named by its operation.
type hostileCall struct {
	op   string
	call func(ctx context.Context, c *Client) error
}

func hostileCalls() []hostileCall {
	wrap := func(_ any, _ *Response, err error) error { return err }
	return []hostileCall{
		{"list-deployments", func(ctx context.Context, c *Client) error { return wrap(c.Deployments.List(ctx)) }},
		{"get-deployment-es-resource-remote-clusters", func(ctx context.Context, c *Client) error {
			return wrap(c.Deployments.RemoteClusters(ctx, "d1", "main-elasticsearch"))
		}},
		{"upgrade-deployment-stateless-resource", func(ctx context.Context, c *Client) error {
			return wrap(c.Deployments.UpgradeDryRun(ctx, "d1", "kibana", "main-kibana"))
		}},
		{"get-current-account", func(ctx context.Context, c *Client) error { return wrap(c.Accounts.Get(ctx)) }},
		{"list-organizations", func(ctx context.Context, c *Client) error { return wrap(c.Organizations.List(ctx)) }},
		{"get-api-keys", func(ctx context.Context, c *Client) error { return wrap(c.APIKeys.List(ctx)) }},
		{"get-users-api-keys", func(ctx context.Context, c *Client) error { return wrap(c.APIKeys.ListAll(ctx)) }},
		{"get-costs-overview", func(ctx context.Context, c *Client) error { return wrap(c.Billing.Overview(ctx, "o1", nil)) }},
		{"get-costs-deployments", func(ctx context.Context, c *Client) error { return wrap(c.Billing.Deployments(ctx, "o1", nil)) }},
		{"get-costs-items-by-deployment", func(ctx context.Context, c *Client) error {
			return wrap(c.Billing.DeploymentItems(ctx, "o1", "d1", nil))
		}},
		{"get-costs-charts", func(ctx context.Context, c *Client) error { return wrap(c.Billing.Charts(ctx, "o1", nil)) }},
		{"get-costs-charts-by-deployment", func(ctx context.Context, c *Client) error {
			return wrap(c.Billing.DeploymentCharts(ctx, "o1", "d1", nil))
		}},
		{"getCostsByInstancesV2", func(ctx context.Context, c *Client) error {
			return wrap(c.BillingV2.Instances(ctx, "o1", InstancesOptions{CostsWindow: v2Window}))
		}},
		{"getCostsByItemsV2", func(ctx context.Context, c *Client) error {
			return wrap(c.BillingV2.Items(ctx, "o1", ItemsV2Options{CostsWindow: v2Window}))
		}},
		{"getChartsV2", func(ctx context.Context, c *Client) error {
			return wrap(c.BillingV2.Charts(ctx, "o1", ChartsV2Options{CostsWindow: v2Window}))
		}},
	}
}

// hostileServer answers every request with a body far larger than any
// limit: an endless JSON string, or a gzip bomb (Content-Encoding: gzip)
// that inflates to many times the largest limit.
func hostileServer(t *testing.T, bomb []byte, gzipped bool) *httptest.Server {
	t.Helper()
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if gzipped {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
			return
		}
		_, _ = w.Write([]byte(`{"deployments":[{"id":"`))
		for written := 0; written < 1<<30 && r.Context().Err() == nil; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func gzipBomb(t *testing.T, inflated int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	_, _ = zw.Write([]byte(`{"deployments":[{"id":"`))
	zeros := make([]byte, 1<<20)
	for i := range zeros {
		zeros[i] = 'a'
	}
	for n := 0; n < inflated; n += len(zeros) {
		_, err := zw.Write(zeros)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestHostileBodiesBoundedMemory sends every operation of the client,
// three times over and at the default max_in_flight, to upstreams that
// answer with endless bodies and with a gzip bomb (~64 KiB on the wire,
// 128 MiB inflated), and holds the peak heap growth under a bound derived
// from the per-operation limits: the max_in_flight requests in flight hold
// at most their limits plus one read chunk (1 MiB) each, of which one
// body at most is of the large organization-wide operations (largeBodyOps,
// read one at a time), and the garbage of finished requests may double
// that before the collector runs (GOGC=100): bound = 2 × (the largest
// limit of largeBodyOps + the sum of the max_in_flight - 1 largest other
// limits + max_in_flight × 1 MiB) + 16 MiB. Before the per-operation limits each
// request could hold 64 MiB (http.max_body_bytes) and io.ReadAll's
// doubling buffers, ~1 GB for the same run.
// Not parallel: it measures the process's heap.
func TestHostileBodiesBoundedMemory(t *testing.T) {
	bomb := gzipBomb(t, 128<<20) // 4 × the largest limit
	require.Less(t, len(bomb), 256<<10, "the bomb is small on the wire")
	calls := hostileCalls()

	var limits []int64
	var large int64
	c0, err := NewClient()
	require.NoError(t, err)
	for _, hc := range calls {
		if largeBodyOps[hc.op] {
			large = max(large, c0.bodyLimit(hc.op))
			continue
		}
		limits = append(limits, c0.bodyLimit(hc.op))
	}
	slices.Sort(limits)
	slices.Reverse(limits)
	top := large
	for _, l := range limits[:DefaultMaxInFlight-1] {
		top += l
	}
	bound := 2*(top+DefaultMaxInFlight<<20) + 16<<20

	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			srv := hostileServer(t, bomb, gz)
			c, err := NewClient(WithBaseURL(srv.URL), WithBillingV2URL(srv.URL), WithMaxRetries(0), WithTimeout(time.Minute))
			require.NoError(t, err)

			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			peak := before.HeapInuse
			done := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-done:
						return
					case <-tick.C:
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapInuse)
					}
				}
			}()

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, 3*len(calls))
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = calls[i%len(calls)].call(ctx, c)
				}()
			}
			wg.Wait()
			close(done)
			<-sampled
			var after runtime.MemStats
			runtime.ReadMemStats(&after)

			for i, err := range errs {
				op := calls[i%len(calls)].op
				require.ErrorIs(t, err, ErrBodyTooLarge, op)
				assert.Contains(t, err.Error(), fmt.Sprintf("%s: response body too large (limit %d bytes)", op, c.bodyLimit(op)))
			}
			growth := int64(peak) - int64(before.HeapInuse)
			t.Logf("%d requests, %d in flight: peak heap growth %.1f MiB (bound %.1f MiB = 2 × (%.1f MiB + 8 MiB) + 16 MiB), allocated %.1f MiB",
				len(errs), DefaultMaxInFlight, mib(growth), mib(bound), mib(top), mib(int64(after.TotalAlloc-before.TotalAlloc)))
			assert.Less(t, growth, bound, "peak heap growth")
			// The bound itself leaves the rest of the shipped 256Mi memory
			// limit (at least 96 MiB) to snapshots and expositions.
			assert.Less(t, bound, int64(160<<20), "bound")
			assert.False(t, strings.Contains(fmt.Sprint(errs), "aaaaaaaa"), "errors do not quote the body")
		})
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// TestLargeLimitsAreReadOneAtATime: every operation allowed more than
// 4 MiB is one of largeBodyOps, whose bodies a client reads one at a
// time, so that a new large limit cannot silently raise what max_in_flight
// requests may hold; and such reads do wait for each other.
func TestLargeLimitsAreReadOneAtATime(t *testing.T) {
	t.Parallel()
	for op, n := range bodyLimits {
		if n > 4<<20 {
			assert.True(t, largeBodyOps[op], "%s (%d MiB) must be in largeBodyOps", op, n>>20)
		}
	}
	for op := range largeBodyOps {
		assert.Contains(t, bodyLimits, op)
	}
	c, err := NewClient()
	require.NoError(t, err)
	release, err := c.acquireBody(context.Background(), "getCostsByInstancesV2")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.acquireBody(ctx, "list-deployments")
	require.ErrorIs(t, err, context.Canceled, "a second large body waits")
	other, err := c.acquireBody(ctx, "get-costs-overview")
	require.NoError(t, err, "small bodies never wait")
	other()
	release()
	again, err := c.acquireBody(context.Background(), "list-deployments")
	require.NoError(t, err, "free again once released")
	again()
}

// TestREADMEBodyLimits: README's table of response body limits is the
// code's table.
func TestREADMEBodyLimits(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(raw), "### Response body limits")
	require.True(t, ok)
	section, _, _ = strings.Cut(section, "\n\n"+"Secrets")
	got := map[string]int64{}
	row := regexp.MustCompile("(?m)^\\| (`[A-Za-z0-9-]+`|any other) \\| (\\d+) (KiB|MiB) \\|$")
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		n, err := strconv.ParseInt(m[2], 10, 64)
		require.NoError(t, err)
		if m[3] == "KiB" {
			n <<= 10
		} else {
			n <<= 20
		}
		got[strings.Trim(m[1], "`")] = n
	}
	want := maps.Clone(bodyLimits)
	want["any other"] = DefaultBodyLimit
	assert.Equal(t, want, got)
	called := []string{"login", "refresh-token"}
	for _, hc := range hostileCalls() {
		called = append(called, hc.op)
	}
	for op := range bodyLimits {
		assert.Contains(t, called, op, "a limit for an operation the client does not call")
	}
	assert.Len(t, called, len(bodyLimits), "every operation has its limit")
}
