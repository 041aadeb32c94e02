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
		{"search-deployments", func(ctx context.Context, c *Client) error {
			return wrap(c.Deployments.Search(ctx, &SearchRequest{Size: 250, Sort: SortByID}))
		}},
		{"get-version-stacks", func(ctx context.Context, c *Client) error { return wrap(c.Stack.Versions(ctx, true)) }},
		{"get-allocators", func(ctx context.Context, c *Client) error { return wrap(c.Platform.Allocators(ctx, nil)) }},
		{"get-proxies-health", func(ctx context.Context, c *Client) error { return wrap(c.Platform.ProxiesHealth(ctx)) }},
		{"get-runners", func(ctx context.Context, c *Client) error { return wrap(c.Platform.Runners(ctx)) }},
		{"get-license", func(ctx context.Context, c *Client) error { return wrap(c.Platform.License(ctx)) }},
		{"get-tls-certificate", func(ctx context.Context, c *Client) error { return wrap(c.Platform.TLSCertificate(ctx, "proxy")) }},
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
// doubling buffers, ~1 GB for the same run. The bound is per account:
// max_in_flight is per client, and each account has its own, so N
// accounts under hostile upstreams at once may hold N times as much.
// Not parallel: it measures the process's heap.
func TestHostileBodiesBoundedMemory(t *testing.T) {
	bomb := gzipBomb(t, 128<<20) // 4 × the largest limit
	require.Less(t, len(bomb), 256<<10, "the bomb is small on the wire")
	calls := hostileCalls()

	c0, err := NewClient()
	require.NoError(t, err)
	top := heldBodies(c0, calls)
	bound := 2*(top+DefaultMaxInFlight<<20) + 16<<20

	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			srv := hostileServer(t, bomb, gz)
			c, err := NewClient(WithBaseURL(srv.URL), WithBillingV2URL(srv.URL), WithMaxRetries(0), WithTimeout(time.Minute))
			require.NoError(t, err)

			errs, growth, allocated := runThrice(t, c, calls)

			for i, err := range errs {
				op := calls[i%len(calls)].op
				require.ErrorIs(t, err, ErrBodyTooLarge, op)
				assert.Contains(t, err.Error(), fmt.Sprintf("%s: response body too large (limit %d bytes)", op, c.bodyLimit(op)))
			}
			t.Logf("%d requests, %d in flight: peak heap growth %.1f MiB (bound %.1f MiB = 2 × (%.1f MiB + 8 MiB) + 16 MiB), allocated %.1f MiB",
				len(errs), DefaultMaxInFlight, mib(growth), mib(bound), mib(top), mib(int64(allocated)))
			assert.Less(t, growth, bound, "peak heap growth")
			// The bound itself leaves the rest of the shipped 512Mi memory
			// limit (at least 352 MiB) to snapshots and expositions.
			assert.Less(t, bound, int64(160<<20), "bound")
			assert.False(t, strings.Contains(fmt.Sprint(errs), "aaaaaaaa"), "errors do not quote the body")
		})
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// runThrice makes every call three times at once on c and returns their
// errors (in the order of calls, three rounds), how much the heap in use
// grew at its peak while they ran (sampled every millisecond, from a
// collected heap) and the bytes they allocated.
func runThrice(t *testing.T, c *Client, calls []hostileCall) (errs []error, growth int64, allocated uint64) {
	t.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapInuse
	done, sampled := make(chan struct{}), make(chan struct{})
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
	errs = make([]error, 3*len(calls))
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
	return errs, int64(peak) - int64(before.HeapInuse), after.TotalAlloc - before.TotalAlloc
}

// heldBodies is the most the bodies of max_in_flight requests of calls
// can hold at once: the largest limit of largeBodyOps (read one at a
// time) plus the max_in_flight - 1 largest other limits.
func heldBodies(c *Client, calls []hostileCall) int64 {
	var limits []int64
	var large int64
	for _, hc := range calls {
		if largeBodyOps[hc.op] {
			large = max(large, c.bodyLimit(hc.op))
			continue
		}
		limits = append(limits, c.bodyLimit(hc.op))
	}
	slices.Sort(limits)
	slices.Reverse(limits)
	top := large
	for _, l := range limits[:DefaultMaxInFlight-1] {
		top += l
	}
	return top
}

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

// validBodyField is the array an operation's answer holds its items in,
// for the near-limit valid answers; an operation not listed gets its
// items under a field it ignores (the body is still read and parsed).
var validBodyField = map[string]string{
	"list-deployments":                           "deployments",
	"search-deployments":                         "deployments",
	"get-costs-deployments":                      "deployments",
	"get-users-api-keys":                         "keys",
	"get-api-keys":                               "keys",
	"get-runners":                                "runners",
	"get-version-stacks":                         "stacks",
	"get-allocators":                             "zones",
	"list-organizations":                         "organizations",
	"get-deployment-es-resource-remote-clusters": "resources",
}

// validBody is a JSON answer of op just under limit bytes: an array of
// items whose string fields (those of the operation's item type among
// them) are all decoded, so the decoded value costs about as much as the
// body.
func validBody(op string, limit int64) []byte {
	field := validBodyField[op]
	var b bytes.Buffer
	if field == "" {
		// An id, as /account must have one.
		field = "padding"
		b.WriteString(`{"id":"a1",`)
	} else {
		b.WriteString(`{`)
	}
	b.WriteString(`"` + field + `":[`)
	fields := []string{"id", "name", "deployment_id", "deployment_name", "runner_id", "host_ip", "public_hostname",
		"description", "version", "alias", "allocator_id", "zone_id", "user_id", "elasticsearch_ref_id"}
	for i := 0; ; i++ {
		var item bytes.Buffer
		if i > 0 {
			item.WriteByte(',')
		}
		item.WriteByte('{')
		for j, f := range fields {
			if j > 0 {
				item.WriteByte(',')
			}
			fmt.Fprintf(&item, `"%s":"%s-%016x%08x"`, f, f, i, j)
		}
		item.WriteByte('}')
		if int64(b.Len()+item.Len()+2) > limit-1024 {
			break
		}
		b.Write(item.Bytes())
	}
	b.WriteString("]}")
	return b.Bytes()
}

// TestNearLimitValidBodiesBoundedMemory: every operation, three times over
// at the default max_in_flight, answered with valid JSON just under its
// limit (with Content-Length, as a real server sends it). These answers
// succeed, so each request holds its body (one buffer of the announced
// length) and the decoded value it fills (Go strings copy their bytes:
// about the body's size again, plus the slices an array grows through) at
// once: ~3 × the limit at the decoder's peak. The bound is the hostile
// test's, with that factor: 2 × (3 × heldBodies + max_in_flight × 1 MiB)
// + 16 MiB, where heldBodies is the largest limit of largeBodyOps (the
// read-one-at-a-time rule covers the decode too) plus the max_in_flight - 1
// largest other limits. All of it is per account:
// max_in_flight is per client, so N accounts polled at once may hold N
// times as much.
// Not parallel: it measures the process's heap.
func TestNearLimitValidBodiesBoundedMemory(t *testing.T) {
	calls := hostileCalls()
	c0, err := NewClient()
	require.NoError(t, err)
	bodies := map[string][]byte{}
	for _, hc := range calls {
		bodies[hc.op] = validBody(hc.op, c0.bodyLimit(hc.op))
	}
	top := heldBodies(c0, calls)
	bound := 2*(3*top+DefaultMaxInFlight<<20) + 16<<20

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := "" // the operation whose path end matches longest
		for _, hc := range calls {
			if p := opPaths[hc.op]; strings.HasSuffix(r.URL.Path, p) && len(p) > len(opPaths[op]) {
				op = hc.op
			}
		}
		body, ok := bodies[op]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(WithBaseURL(srv.URL), WithBillingV2URL(srv.URL), WithMaxRetries(0), WithTimeout(time.Minute))
	require.NoError(t, err)

	errs, growth, _ := runThrice(t, c, calls)
	for i, err := range errs {
		require.NoError(t, err, calls[i%len(calls)].op)
	}
	t.Logf("%d near-limit valid answers, %d in flight: peak heap growth %.1f MiB (bound %.1f MiB = 2 × (3 × %.1f MiB + 8 MiB) + 16 MiB)",
		len(errs), DefaultMaxInFlight, mib(growth), mib(bound), mib(top))
	assert.Less(t, growth, bound, "peak heap growth")
}

// opPaths tells the operations of hostileCalls apart by their path's end.
var opPaths = map[string]string{
	"list-deployments":                           "/deployments",
	"get-deployment-es-resource-remote-clusters": "/remote-clusters",
	"upgrade-deployment-stateless-resource":      "/_upgrade",
	"get-current-account":                        "/account",
	"list-organizations":                         "/organizations",
	"get-api-keys":                               "/users/auth/keys",
	"get-users-api-keys":                         "/users/auth/keys/_all",
	"get-costs-overview":                         "/billing/costs/o1",
	"get-costs-deployments":                      "/billing/costs/o1/deployments",
	"get-costs-items-by-deployment":              "/deployments/d1/items",
	"get-costs-charts":                           "/billing/costs/o1/charts",
	"get-costs-charts-by-deployment":             "/deployments/d1/charts",
	"search-deployments":                         "/deployments/_search",
	"get-version-stacks":                         "/stack/versions",
	"get-allocators":                             "/platform/infrastructure/allocators",
	"get-proxies-health":                         "/proxies/health",
	"get-runners":                                "/infrastructure/runners",
	"get-license":                                "/platform/license",
	"get-tls-certificate":                        "/security/tls/proxy",
	"getCostsByInstancesV2":                      "/organizations/o1/costs/instances",
	"getCostsByItemsV2":                          "/organizations/o1/costs/items",
	"getChartsV2":                                "/billing/organizations/o1/charts",
}
