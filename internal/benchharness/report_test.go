package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

var update = flag.Bool("update", false, "rewrite testdata/report.md")

func TestBuildPer100k(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		snaps []collector.SnapshotStat
		want  time.Duration
	}{
		{"none", nil, 0},
		{"no series", []collector.SnapshotStat{{Collector: "account", Build: time.Millisecond}}, 0},
		{"one", []collector.SnapshotStat{{Collector: "billing", Series: 50000, Build: 10 * time.Millisecond}}, 20 * time.Millisecond},
		// Summed, not averaged per collector: 30 ms over 300,000 series.
		{"sum over sum", []collector.SnapshotStat{
			{Collector: "billing", Series: 100000, Build: 25 * time.Millisecond},
			{Collector: "account", Series: 200000, Build: 5 * time.Millisecond},
		}, 10 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, buildPer100k(tc.snaps))
		})
	}
}

func TestByCollector(t *testing.T) {
	t.Parallel()
	got := byCollector([]collector.SnapshotStat{
		{Account: "a", Collector: "billing", Series: 10, Build: time.Millisecond},
		{Account: "a", Collector: "deployment_health", Series: 30, Build: 3 * time.Millisecond},
		{Account: "b", Collector: "billing", Series: 25, Build: 2 * time.Millisecond},
		{Account: "a", Collector: "account", Series: 1},
		{Account: "a", Collector: "api_keys", Series: 1},
	})
	assert.Equal(t, []collectorStat{
		{"billing", 35, 3 * time.Millisecond},
		{"deployment_health", 30, 3 * time.Millisecond},
		{"account", 1, 0},
		{"api_keys", 1, 0},
	}, got)
}

// fig is a row of variant v with the figures given.
func fig(v variant, p99, cpu, limP99, limCPU time.Duration, timeouts int) row {
	return row{
		variant: v,
		ours:    stats{p99: p99, cpu: cpu, scrapes: 10, timeouts: timeouts, bytes: 100},
		limit:   stats{p99: limP99, cpu: limCPU, scrapes: 10, bytes: 100},
	}
}

func TestTargetChecks(t *testing.T) {
	t.Parallel()
	text, gz := allVariants[0], allVariants[1]
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		row  row
		want string
	}{
		{"all met", fig(text, 40*ms, 8*ms, 30*ms, 5*ms, 0),
			"p99 ratio 1.33 <= 2 PASS; CPU ratio 1.60 <= 2 PASS; p99 40.00ms <= 50.00ms PASS; CPU/scrape 8.00ms <= 10.00ms PASS; timeouts 0 = 0 PASS"},
		{"at the limits", fig(text, 50*ms, 10*ms, 25*ms, 5*ms, 0),
			"p99 ratio 2.00 <= 2 PASS; CPU ratio 2.00 <= 2 PASS; p99 50.00ms <= 50.00ms PASS; CPU/scrape 10.00ms <= 10.00ms PASS; timeouts 0 = 0 PASS"},
		// gzip's p99 target is 25 ms: 40 ms passes identity, not gzip.
		{"gzip p99", fig(gz, 40*ms, 8*ms, 30*ms, 5*ms, 0),
			"p99 ratio 1.33 <= 2 PASS; CPU ratio 1.60 <= 2 PASS; p99 40.00ms <= 25.00ms MISS; CPU/scrape 8.00ms <= 10.00ms PASS; timeouts 0 = 0 PASS"},
		{"ratios missed", fig(gz, 20*ms, 9*ms, 2*ms, time.Millisecond, 0),
			"p99 ratio 10.00 <= 2 MISS; CPU ratio 9.00 <= 2 MISS; p99 20.00ms <= 25.00ms PASS; CPU/scrape 9.00ms <= 10.00ms PASS; timeouts 0 = 0 PASS"},
		{"timeouts", fig(text, 30*time.Second, 2*time.Second, 100*ms, 50*ms, 2),
			"p99 ratio 300.00 <= 2 MISS; CPU ratio 40.00 <= 2 MISS; p99 30000.00ms <= 50.00ms MISS; CPU/scrape 2000.00ms <= 10.00ms MISS; timeouts 2 = 0 MISS"},
		// A limit that could not be measured is no pass.
		{"limit not measured", row{variant: text, ours: stats{p99: ms, cpu: ms, scrapes: 10}, limitErr: "timed out"},
			"p99 ratio n/a <= 2 MISS; CPU ratio n/a <= 2 MISS; p99 1.00ms <= 50.00ms PASS; CPU/scrape 1.00ms <= 10.00ms PASS; timeouts 0 = 0 PASS"},
		// A CPU figure below getrusage's resolution divides by 1 µs.
		{"limit CPU zero", fig(text, 2*ms, 5*time.Microsecond, ms, 0, 0),
			"p99 ratio 2.00 <= 2 PASS; CPU ratio 5.00 <= 2 MISS; p99 2.00ms <= 50.00ms PASS; CPU/scrape 0.01ms <= 10.00ms PASS; timeouts 0 = 0 PASS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range targetChecks(tc.row) {
				got = append(got, c.String())
			}
			assert.Equal(t, tc.want, strings.Join(got, "; "))
		})
	}
}

func TestTargetsApply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		deployments, totalShards int
		want                     bool
	}{
		{500, 1, false},
		{5000, 1, true},
		{20000, 1, false},
		{20000, 4, true},
		{20000, 2, false},
		{5000, 4, true},
		{50, 4, false},
	} {
		r := result{deployments: tc.deployments, totalShards: tc.totalShards}
		assert.Equal(t, tc.want, r.targetsApply(), "%d deployments, %d shards", tc.deployments, tc.totalShards)
	}
}

func TestGzipRatio(t *testing.T) {
	t.Parallel()
	text, gz := allVariants[0], allVariants[1]
	assert.True(t, math.IsNaN(row{variant: text, ours: stats{bytes: 100}, identityBytes: 100}.gzipRatio()))
	assert.InDelta(t, 0.08, row{variant: gz, ours: stats{bytes: 8}, identityBytes: 100}.gzipRatio(), 1e-9)
	assert.True(t, math.IsNaN(row{variant: gz, ours: stats{bytes: 8}}.gzipRatio()), "identity size unknown")
}

func TestIdentitySize(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("ece_test_value 1\n"), 1000)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, err := zw.Write(body)
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	n, err := answer{header: http.Header{}, body: body}.identitySize()
	require.NoError(t, err)
	assert.Equal(t, len(body), n)
	n, err = answer{header: http.Header{"Content-Encoding": {"gzip"}}, body: zb.Bytes()}.identitySize()
	require.NoError(t, err)
	assert.Equal(t, len(body), n)
	assert.Less(t, zb.Len(), len(body)/10)
	_, err = answer{header: http.Header{"Content-Encoding": {"zstd"}}, body: body}.identitySize()
	assert.ErrorContains(t, err, "zstd")
}

func TestChosenShards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		total   int
		list    string
		want    []int
		wantErr string
	}{
		{1, "", []int{0}, ""},
		{4, "", []int{0, 1, 2, 3}, ""},
		{4, "0", []int{0}, ""},
		{4, "3, 1", []int{3, 1}, ""},
		{4, "4", nil, `"4"`},
		{0, "", nil, "at least 1"},
	} {
		got, err := chosenShards(tc.total, tc.list)
		if tc.wantErr != "" {
			assert.ErrorContains(t, err, tc.wantErr)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 697638: "697,638", 2043661: "2,043,661", -1234: "-1,234"} {
		assert.Equal(t, want, thousands(n))
	}
}

// TestScrapeStatsCountsTimeouts: a scrape that outlives the client's
// timeout is counted and the loop goes on; its time enters the
// percentiles.
func TestScrapeStatsCountsTimeouts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1)%2 == 0 { // every second scrape hangs until the client gives up
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		_, _ = w.Write([]byte("ece_test_value 1\n"))
	}))
	defer srv.Close()
	defer close(release)
	// A second is far more than a loopback answer of 17 bytes takes, so
	// only the hanging scrapes time out, even on a loaded machine.
	const timeout = time.Second
	c := newClient(timeout)
	defer c.CloseIdleConnections()

	st, err := scrapeStats(c, srv.URL, allVariants[0], 4)
	require.NoError(t, err)
	assert.Equal(t, 4, st.scrapes)
	assert.Equal(t, 2, st.timeouts)
	assert.Equal(t, len("ece_test_value 1\n"), st.bytes)
	assert.GreaterOrEqual(t, st.p99, timeout, "a timed-out scrape took at least the timeout")

	// Any other failure still stops the measurement.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	_, err = scrapeStats(c, bad.URL, allVariants[0], 2)
	assert.ErrorContains(t, err, "status 500")
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		lat      []time.Duration
		p50, p99 time.Duration
	}{
		{nil, 0, 0},
		{[]time.Duration{3 * ms}, 3 * ms, 3 * ms},
		{[]time.Duration{5 * ms, 1 * ms, 4 * ms, 2 * ms, 3 * ms}, 3 * ms, 5 * ms},
	} {
		p50, p99 := percentiles(tc.lat)
		assert.Equal(t, tc.p50, p50)
		assert.Equal(t, tc.p99, p99)
	}
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(100-i) * ms
	}
	p50, p99 := percentiles(lat)
	assert.Equal(t, 51*ms, p50)
	assert.Equal(t, 100*ms, p99)
	assert.Equal(t, time.Duration(100)*ms, lat[0], "the input is not sorted in place")
}

// TestExpectedCalls runs the exporter as the bench does (one cycle against
// the simulator, unsharded and as each of 4 shards) and holds the API calls
// it made to expectedCalls.
func TestExpectedCalls(t *testing.T) {
	t.Parallel()
	const n = 300 // two search pages and a short one
	for _, tc := range []struct{ shard, total int }{{0, 1}, {0, 4}, {1, 4}, {3, 4}} {
		t.Run(strings.Join([]string{"shard", string(rune('0' + tc.shard)), "of", string(rune('0' + tc.total))}, "_"), func(t *testing.T) {
			sim := ecesim.New(ecesim.Options{Seed: 1, DeploymentsPerOrg: n, RemoteClustersPerES: 2, APIKeys: 20})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			sh, err := collector.NewHashSharder(tc.shard, tc.total)
			require.NoError(t, err)
			owned := 0
			for _, d := range sim.Deployments() {
				if sh.OwnsDeployment(d.ID) {
					owned++
				}
			}
			cfg := benchConfig(srv.URL)
			m, err := collector.NewManager(collector.Options{Registerer: prometheus.NewRegistry(), Enabled: collector.DefaultEnabled(), Sharder: sh})
			require.NoError(t, err)
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				m.Stop(ctx)
			}()
			require.NoError(t, m.Apply(&cfg))
			require.Eventually(t, m.Ready, 30*time.Second, 5*time.Millisecond)
			assert.Equal(t, expectedCalls(n, owned, sh.OwnsOrganization(), collector.DefaultEnabled()), sim.TotalRequests(), "%v", sim.RequestCounts())
		})
	}
}

// sampleResults is a run of two sizes with fixed figures.
func sampleResults() (runInfo, []result) {
	ms := time.Millisecond
	text, gz := allVariants[0], allVariants[1]
	ri := runInfo{scrapes: 20, scrapesLarge: 10, totalShards: 1, shards: []int{0}, latency: 20 * ms, timeout: 30 * time.Second, cores: 2}
	small := result{
		deployments: 50, totalShards: 1, owned: 50, series: 7199, calls: 111, expected: 111, inflight: 16,
		cycle: 262 * ms, rssMiB: 26.2, heapMiB: 4.4, scrapes: 20,
		snapshots: []collector.SnapshotStat{{Account: "bench", Collector: "billing", Series: 1882, Build: ms}, {Account: "bench", Collector: "deployment_health", Series: 4124, Build: 2 * ms}},
		rows: []row{
			{variant: text, ours: stats{p50: 6 * ms, p99: 8 * ms, cpu: 7 * ms, bytes: 1258291, scrapes: 20}, limit: stats{p50: ms / 2, p99: ms, cpu: ms, bytes: 1258291, scrapes: 20}, identityBytes: 1258291},
			{variant: gz, ours: stats{p50: 5 * ms, p99: 6 * ms, cpu: 5 * ms, bytes: 88064, scrapes: 20, timeouts: 1}, limit: stats{p50: ms / 10, p99: ms / 4, cpu: ms / 10, bytes: 88064, scrapes: 20}, identityBytes: 1258291},
		},
	}
	big := small
	big.deployments, big.owned, big.totalShards, big.shard = 20000, 5012, 4, 2
	big.failed = []string{"billing (decode)", "remote_clusters"}
	return ri, []result{small, big}
}

// TestRenderMarkdown compares the Markdown of a fixed run with
// testdata/report.md.
func TestRenderMarkdown(t *testing.T) {
	t.Parallel()
	ri, rs := sampleResults()
	got := renderMarkdown(ri, rs)
	golden := filepath.Join("testdata", "report.md")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if strings.HasPrefix(line, "|") {
			assert.True(t, strings.HasSuffix(line, "|"), line)
		}
	}
}

// TestResultText checks the text block: the size's figures, one row per
// variant, the collectors, and the target lines only where they apply.
func TestResultText(t *testing.T) {
	t.Parallel()
	_, rs := sampleResults()
	small := rs[0].text()
	assert.Contains(t, small, "== 50 deployments, shard - (50 owned): 7199 series, 111 API calls per cycle (expected 111)")
	assert.Contains(t, small, "build 49.95ms per 100k series") // 3 ms over 6,006 series
	assert.Contains(t, small, "collectors (series, build): deployment_health 4124 2.00ms; billing 1882 1.00ms;")
	assert.Regexp(t, `(?m)^text\+gzip +86K +1\.2M +0\.07 `, small)
	assert.NotContains(t, small, "targets")
	assert.NotContains(t, small, "calls by operation")

	big := rs[1].text()
	assert.Contains(t, big, "shard 2/4 (5012 owned)")
	assert.Contains(t, big, "targets text+gzip")
	assert.Contains(t, big, "timeouts 1 = 0 MISS")

	one := rs[1]
	one.totalShards, one.calls, one.failed = 1, 112, []string{"billing (decode)"}
	assert.Contains(t, one.text(), "   FAILED last poll: billing (decode)\n")
	assert.Contains(t, one.text(), "one replica: 1 timeouts at a 30s scrape timeout MISS, RSS 26.2 MiB")
	assert.Contains(t, one.text(), "calls by operation")
}

func TestFailedCollectors(t *testing.T) {
	t.Parallel()
	gauge := func(collector string, v float64) *dto.Metric {
		return &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("account"), Value: proto.String("bench")}, {Name: proto.String("collector"), Value: proto.String(collector)}}, Gauge: &dto.Gauge{Value: proto.Float64(v)}}
	}
	errs := func(collector, reason string, v float64) *dto.Metric {
		return &dto.Metric{Label: []*dto.LabelPair{{Name: proto.String("collector"), Value: proto.String(collector)}, {Name: proto.String("reason"), Value: proto.String(reason)}}, Counter: &dto.Counter{Value: proto.Float64(v)}}
	}
	success := func(ms ...*dto.Metric) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String("ece_exporter_collector_success"), Metric: ms}
	}
	errors := func(ms ...*dto.Metric) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String("ece_exporter_collector_errors_total"), Metric: ms}
	}
	for _, tc := range []struct {
		name string
		mfs  []*dto.MetricFamily
		want []string
	}{
		{"none", nil, []string{}},
		{"all good, old errors", []*dto.MetricFamily{success(gauge("billing", 1)), errors(errs("billing", "timeout", 3))}, []string{}},
		{"failed with reasons", []*dto.MetricFamily{
			success(gauge("remote_clusters", 0), gauge("billing", 0), gauge("account", 1)),
			errors(errs("billing", "timeout", 1), errs("billing", "decode", 2), errs("billing", "server", 0), errs("account", "auth", 1)),
		}, []string{"billing (decode, timeout)", "remote_clusters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, failedCollectors(tc.mfs))
		})
	}
}
