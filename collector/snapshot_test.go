package collector

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"

	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

func TestSnapshotSeal(t *testing.T) {
	t.Parallel()
	d := newSeriesDesc("ece_test_cost", "Cost.", []string{"account", "zone", "deployment_id"})
	other := newSeriesDesc("ece_test_a", "A.", []string{"account"})
	bad := newSeriesDesc("ece_test_bad", "Bad.", []string{"account", "a-b"})
	require.Error(t, bad.err)
	require.ErrorContains(t, newSeriesDesc("ece_t", "T.", []string{"account", "x", "x"}).err, "duplicate label name")
	require.ErrorContains(t, newSeriesDesc("ece-t", "T.", []string{"account"}).err, "invalid metric name")

	s := NewSnapshot("prod")
	s.gauge(d, 3, "b", "dep-2")
	s.gauge(d, 1, "a", "dep-1")
	s.gauge(d, 2, "a", "dep-2")
	s.gauge(d, 9, "a", "dep-1")          // duplicate: dropped, the first stays
	s.gauge(d, 4, "c\xff", "dep-3")      // invalid UTF-8: repaired
	s.gauge(d, 5, "too", "many", "vals") // wrong label count: dropped
	s.gauge(bad, 6, "x")                 // invalid descriptor: dropped
	s.gauge(other, 7)
	s.seal()
	s.seal() // no-op

	assert.Equal(t, 3, s.invalid)
	assert.Equal(t, 5, s.Len())
	require.Len(t, s.Families(), 2)
	assert.Equal(t, "ece_test_a", s.Families()[0].GetName(), "families sorted by name")
	var got []string
	for _, m := range s.Families()[1].GetMetric() {
		var l []string
		for _, lp := range m.GetLabel() {
			l = append(l, lp.GetName()+"="+lp.GetValue())
		}
		got = append(got, fmt.Sprintf("%s %g", strings.Join(l, ","), m.GetGauge().GetValue()))
	}
	assert.Equal(t, []string{
		"account=prod,deployment_id=dep-1,zone=a 1",
		"account=prod,deployment_id=dep-2,zone=a 2",
		"account=prod,deployment_id=dep-2,zone=b 3",
		"account=prod,deployment_id=dep-3,zone=c\uFFFD 4",
	}, got, "label pairs in name order, series in label-value order")

	// Label pairs are interned: one pair per distinct name=value.
	ms := s.Families()[1].GetMetric()
	assert.Same(t, ms[0].Label[0], ms[3].Label[0], "account pair shared")
	assert.Same(t, ms[1].Label[1], ms[2].Label[1], "deployment_id=dep-2 shared")
	assert.Panics(t, func() { s.gauge(d, 1, "a", "b") }, "a sealed snapshot is immutable")

	// The registry path sees the same series.
	require.NoError(t, testutil.GatherAndCompare(snapGatherer(s), strings.NewReader(`
# HELP ece_test_a A.
# TYPE ece_test_a gauge
ece_test_a{account="prod"} 7
# HELP ece_test_cost Cost.
# TYPE ece_test_cost gauge
ece_test_cost{account="prod",deployment_id="dep-1",zone="a"} 1
ece_test_cost{account="prod",deployment_id="dep-2",zone="a"} 2
ece_test_cost{account="prod",deployment_id="dep-2",zone="b"} 3
ece_test_cost{account="prod",deployment_id="dep-3",zone="c`+"\uFFFD"+`"} 4
`)))
}

func TestMergeFamilies(t *testing.T) {
	t.Parallel()
	d := newSeriesDesc("ece_x", "X.", []string{"account", "id"})
	e := newSeriesDesc("ece_y", "Y.", []string{"account"})
	snap := func(account string, ids ...string) []*dto.MetricFamily {
		s := NewSnapshot(account)
		for _, id := range ids {
			s.gauge(d, 1, id)
		}
		s.gauge(e, 2)
		s.seal()
		return s.Families()
	}
	counter := &dto.MetricFamily{Name: strPtr("ece_y"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: new(float64)}}}}
	base := &dto.MetricFamily{Name: strPtr("ece_exporter_up"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: new(float64)}}}}

	for _, tc := range []struct {
		name    string
		lists   [][]*dto.MetricFamily
		want    []string
		wantErr string
	}{
		{name: "empty", want: []string{}},
		{name: "one list passes through", lists: [][]*dto.MetricFamily{snap("a", "2", "1")},
			want: []string{"ece_x a/1", "ece_x a/2", "ece_y a"}},
		{name: "accounts interleave in label order", lists: [][]*dto.MetricFamily{snap("b", "1"), snap("a", "3", "1"), {base}},
			want: []string{"ece_exporter_up ", "ece_x a/1", "ece_x a/3", "ece_x b/1", "ece_y a", "ece_y b"}},
		{name: "many accounts concatenate in order", lists: [][]*dto.MetricFamily{snap("d", "1"), snap("b", "2", "1"), snap("c", "1"), snap("a", "1")},
			want: []string{"ece_x a/1", "ece_x b/1", "ece_x b/2", "ece_x c/1", "ece_x d/1", "ece_y a", "ece_y b", "ece_y c", "ece_y d"}},
		{name: "interleaved lists are merged", lists: [][]*dto.MetricFamily{snap("a", "1", "3"), snap("a", "2", "4"), snap("a", "0", "5")},
			want: []string{"ece_x a/0", "ece_x a/1", "ece_x a/2", "ece_x a/3", "ece_x a/4", "ece_x a/5", "ece_y a"}},
		{name: "a series in two lists is kept once", lists: [][]*dto.MetricFamily{snap("a", "1"), snap("a", "1", "2")},
			want: []string{"ece_x a/1", "ece_x a/2", "ece_y a"}},
		{name: "type clash keeps the first and reports", lists: [][]*dto.MetricFamily{snap("a"), {counter}},
			want: []string{"ece_y a"}, wantErr: "exposed with types GAUGE and COUNTER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mfs, err := exposition.MergeFamilies(tc.lists...)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			got := []string{}
			for _, mf := range mfs {
				for _, m := range mf.GetMetric() {
					var vals []string
					for _, lp := range m.GetLabel() {
						vals = append(vals, lp.GetValue())
					}
					got = append(got, mf.GetName()+" "+strings.Join(vals, "/"))
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func strPtr(s string) *string { return &s }

// TestGathererServesWhatTheRegistryServes: Manager.Gatherer, the one data
// path, exposes byte for byte what a client_golang registry would expose
// for the same series (its sorting, merging and checks), for two accounts
// (ESS and ECE) with every collector on.
func TestGathererServesWhatTheRegistryServes(t *testing.T) {
	t.Parallel()
	ess := trackSim(ecesim.New(ecesim.Options{Seed: 7, Organizations: 2, DeploymentsPerOrg: 6, RemoteClustersPerES: 2, APIKeys: 5, Now: testNow}))
	ece := trackSim(ecesim.New(ecesim.Options{Seed: 8, Mode: ecesim.ModeECE, DeploymentsPerOrg: 5, RemoteClustersPerES: 1, APIKeys: 4, Now: testNow}))
	essSrv, eceSrv := httptest.NewServer(ess), httptest.NewServer(ece)
	t.Cleanup(essSrv.Close)
	t.Cleanup(eceSrv.Close)
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{
		{Name: "b-ess", Platform: config.PlatformESS, URL: essSrv.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}},
		{Name: "a-ece", Platform: config.PlatformECE, URL: eceSrv.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}},
	}
	m, reg := startManager(t, &cfg, Names()...)
	waitFirstPolls(t, m)

	text := func(g prometheus.Gatherer) string {
		t.Helper()
		mfs, err := g.Gather()
		require.NoError(t, err)
		var buf bytes.Buffer
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "ece_exporter_") {
				continue // the self-metrics: not data, and they change between gathers
			}
			_, err := expfmt.MetricFamilyToText(&buf, mf)
			require.NoError(t, err)
		}
		return buf.String()
	}
	g := reg // startManager returns the Manager's Gatherer
	viaGatherer := text(g)
	require.Contains(t, viaGatherer, `ece_remote_cluster_healthy{account="a-ece"`)
	require.Contains(t, viaGatherer, `ece_billing_item_cost_ecu{account="b-ess"`)

	mfs, err := g.Gather()
	require.NoError(t, err)
	plain := prometheus.NewPedanticRegistry()
	plain.MustRegister(newFamiliesCollector(mfs))
	assert.Equal(t, text(plain), viaGatherer)

	// The self-metrics registry holds no data: nothing is served twice.
	self := prometheus.NewRegistry()
	sm, err := NewManager(Options{Registerer: self})
	require.NoError(t, err)
	require.NoError(t, sm.Apply(&cfg))
	sm.Stop(context.Background())
	mfs, err = self.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		assert.True(t, strings.HasPrefix(mf.GetName(), "ece_exporter_"), "data in the self-metrics registry: %s", mf.GetName())
	}
	problems, err := testutil.GatherAndLint(g)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// BenchmarkScrape serves a snapshot of 50,000 series shaped like billing
// items (6 labels, 5 families, built deployment by deployment as the
// collectors do) through Manager.Gatherer (the /metrics path) and, for
// comparison, through a registry holding the same series as ready
// prometheus.Metric values (the "const metrics in Collect" design), text
// format.
func BenchmarkScrape(b *testing.B) {
	var descs []*seriesDesc
	for _, n := range []string{"cost_ecu", "usage_seconds", "instances", "price_per_hour_ecu", "rate_ecu"} {
		descs = append(descs, newSeriesDesc("ece_billing_item_"+n, "Item.", []string{"account", "deployment_id", "organization_id", "kind", "sku", "name"}))
	}
	s := NewSnapshot("prod")
	for dep := range 2_000 {
		id := fmt.Sprintf("%032x", (dep*7919)%2_000) // API order is not label order
		for sku := range 5 {
			for _, d := range descs {
				s.gauge(d, float64(dep+sku), id, "1028580493", "elasticsearch", fmt.Sprintf("aws.es.datahot.c6gd.%d", sku), "hot storage")
			}
		}
	}
	s.seal()
	m := &Manager{pollers: map[pollerKey]*poller{{"prod", "billing"}: {account: "prod", collector: "billing", snap: s}}}
	var err error
	if m.self, err = newSelfMetrics(nil); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, g prometheus.Gatherer) {
		b.ReportAllocs()
		for b.Loop() {
			mfs, err := g.Gather()
			if err != nil {
				b.Fatal(err)
			}
			enc := expfmt.NewEncoder(discard{}, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, mf := range mfs {
				if err := enc.Encode(mf); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("registry", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(pollerCollector{m}, newFamiliesCollector(s.Families()))
		run(b, reg)
	})
	b.Run("gatherer", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(pollerCollector{m})
		run(b, m.Gatherer(reg))
	})
	// What /metrics does: the cached bytes, written per format.
	for _, v := range []struct{ name, accept, encoding string }{
		{"cached/text", "text/plain;version=0.0.4", ""},
		{"cached/openmetrics+gzip", "application/openmetrics-text;version=1.0.0", "gzip"},
		{"cached/protobuf+gzip", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "gzip"},
	} {
		b.Run(v.name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(pollerCollector{m})
			h, err := m.Handler(reg, exposition.Options{})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", v.accept)
			req.Header.Set("Accept-Encoding", v.encoding)
			w := &discardResponse{header: http.Header{}}
			h.ServeHTTP(w, req) // encodes the kind once
			b.ReportAllocs()
			for b.Loop() {
				clear(w.header)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// discardResponse is an http.ResponseWriter that drops the body.
type discardResponse struct{ header http.Header }

func (d *discardResponse) Header() http.Header         { return d.header }
func (d *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardResponse) WriteHeader(int)             {}

// familiesCollector serves gauge families through a registry, each series
// a ready prometheus.Metric sharing the family's structures (as a const
// metric shares its label pairs): the design Manager.Gatherer replaces,
// kept to compare with.
type familiesCollector struct {
	descs   []*prometheus.Desc
	metrics [][]familyMetric
}

type familyMetric struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (f familyMetric) Desc() *prometheus.Desc { return f.desc }
func (f familyMetric) Write(out *dto.Metric) error {
	out.Label, out.Gauge = f.m.Label, f.m.Gauge
	return nil
}

func newFamiliesCollector(mfs []*dto.MetricFamily) *familiesCollector {
	c := &familiesCollector{}
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_GAUGE || len(mf.Metric) == 0 {
			continue
		}
		var labels []string
		for _, lp := range mf.Metric[0].Label {
			labels = append(labels, lp.GetName())
		}
		d := prometheus.NewDesc(mf.GetName(), mf.GetHelp(), labels, nil)
		ms := make([]familyMetric, len(mf.Metric))
		for i, m := range mf.Metric {
			ms[i] = familyMetric{d, m}
		}
		c.descs, c.metrics = append(c.descs, d), append(c.metrics, ms)
	}
	return c
}

func (c *familiesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *familiesCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ms := range c.metrics {
		for _, m := range ms {
			ch <- m
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkBuildAndSeal is what a poll pays, off the scrape path, to turn
// 50,000 values into a sealed snapshot: without any encoding, and encoded
// for what Prometheus asks for (OpenMetrics, gzip) or for every kind and
// encoding. ns/100k-series is the poll build time per 100,000 series.
func BenchmarkBuildAndSeal(b *testing.B) {
	d := newSeriesDesc("ece_billing_item_cost_ecu", "Item.", []string{"account", "deployment_id", "organization_id", "kind", "sku"})
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%032x", (i*7919)%len(ids))
	}
	for _, tc := range []struct {
		name  string
		wants func() *exposition.Wants
	}{
		{"no-encoding", func() *exposition.Wants { return nil }},
		{"openmetrics+gzip", func() *exposition.Wants { return exposition.NewWants(nil) }},
		{"every-kind", func() *exposition.Wants {
			w := exposition.NewWants(nil)
			for k := exposition.Kind(0); k < exposition.NumKinds; k++ {
				w.Note(k, false)
				w.Note(k, true)
			}
			return w
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			wants := tc.wants()
			b.ReportAllocs()
			for b.Loop() {
				s := NewSnapshot("prod")
				for i, id := range ids {
					for sku := range 5 {
						s.gauge(d, float64(i), id, "1028580493", "elasticsearch", skus[sku])
					}
				}
				s.wants = wants
				s.seal()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*100_000/float64(len(ids)*5), "ns/100k-series")
		})
	}
}

var skus = []string{"aws.es.datahot.c6gd", "aws.es.datawarm.d3", "aws.es.master.c5d", "aws.kibana.c5d", "aws.integrationsserver.c5d"}

// BenchmarkMergeManyAccounts gathers 150,000 series spread over 50
// accounts: the families shared by the accounts are concatenated, not
// merged one account at a time.
func BenchmarkMergeManyAccounts(b *testing.B) {
	d := newSeriesDesc("ece_billing_item_cost_ecu", "Item.", []string{"account", "deployment_id", "sku"})
	lists := [][]*dto.MetricFamily{}
	for a := range 50 {
		s := NewSnapshot(fmt.Sprintf("account-%02d", 49-a))
		for i := range 3_000 {
			s.gauge(d, 1, fmt.Sprintf("%032x", i/5), skus[i%5])
		}
		s.seal()
		lists = append(lists, s.Families())
	}
	b.ReportAllocs()
	for b.Loop() {
		mfs, err := exposition.MergeFamilies(lists...)
		if err != nil || len(mfs[0].Metric) != 150_000 {
			b.Fatal(err, len(mfs))
		}
	}
}

// TestDroppedSeriesIsExposed: duplicates dropped by seal show up in
// ece_exporter_collector_dropped_series.
func TestDroppedSeriesIsExposed(t *testing.T) {
	t.Parallel()
	d := newSeriesDesc("ece_test_x", "X.", []string{"account", "id"})
	s := NewSnapshot("prod")
	for _, id := range []string{"a", "b", "a", "a"} {
		s.gauge(d, 1, id)
	}
	s.seal()
	self, err := newSelfMetrics(nil)
	require.NoError(t, err)
	p := &poller{account: "prod", collector: "billing"}
	c := prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		self.collectPoller(ch, p, pollerState{snap: s, success: true, polled: true})
	})
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP ece_exporter_collector_dropped_series Series of the exported snapshot that were dropped: duplicates (the API listed an item twice) or values that could not be built.
# TYPE ece_exporter_collector_dropped_series gauge
ece_exporter_collector_dropped_series{account="prod",collector="billing"} 2
`), "ece_exporter_collector_dropped_series"))
}
