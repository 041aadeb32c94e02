package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

// scrapeAccepts are the Accept headers the cached path is checked with:
// each format asked for alone, and the lists Prometheus 2 and 3 send.
var scrapeAccepts = map[string]string{
	"none":                    "",
	"browser":                 "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"text":                    "text/plain;version=0.0.4",
	"text-utf8":               "text/plain;version=0.0.4;escaping=allow-utf-8",
	"openmetrics-1":           "application/openmetrics-text;version=1.0.0",
	"openmetrics-001":         "application/openmetrics-text;version=0.0.1",
	"protobuf":                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	"prometheus-2":            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	"prometheus-3":            "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1",
	"prometheus-3-pb":         "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
	"text-1.0.0":              "text/plain;version=1.0.0;escaping=allow-utf-8",
	"openmetrics-underscores": "application/openmetrics-text;version=1.0.0;escaping=underscores",
	"protobuf-values":         "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=values",
	// Not cached: served by promhttp, and compared all the same.
	"protobuf-text": "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text",
	"dots":          "text/plain;version=0.0.4;escaping=dots",
}

// frozen gathers g once and answers that at every call, so that the
// reference and the cached path see the same live families.
func frozen(t *testing.T, g prometheus.Gatherer) prometheus.Gatherer {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
}

// scrapeBody scrapes h once and returns the Content-Type and the body,
// decompressed (a gzip answer must be one member).
func scrapeBody(t *testing.T, h http.Handler, path, accept string, gz bool) (string, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := rec.Body.Bytes()
	if cl := rec.Header().Get("Content-Length"); cl != "" {
		require.Equal(t, fmt.Sprint(len(body)), cl, "Content-Length")
	}
	if rec.Header().Get("Content-Encoding") == "gzip" {
		require.True(t, gz)
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		zr.Multistream(false)
		body, err = io.ReadAll(zr)
		require.NoError(t, err)
		rest, _ := io.ReadAll(zr)
		require.Empty(t, rest)
	} else if gz {
		require.Less(t, len(body), 1024, "only small answers go uncompressed")
	}
	return rec.Header().Get("Content-Type"), body
}

// requireSameAnswers compares the cached handler with promhttp over the
// same families (All), for every Accept header, gzip or not, and a name[]
// filter.
func requireSameAnswers(t *testing.T, ours http.Handler, all prometheus.Gatherer) {
	t.Helper()
	ref, err := exposition.Handler(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	require.NoError(t, err)
	for name, accept := range scrapeAccepts {
		for _, gz := range []bool{false, true} {
			for _, path := range []string{"/metrics", "/metrics?name[]=ece_deployment_info&name[]=ece_exporter_build_info&name[]=ece_rand_b"} {
				wantType, want := scrapeBody(t, ref, path, accept, false)
				gotType, got := scrapeBody(t, ours, path, accept, gz)
				require.Equal(t, wantType, gotType, "%s gzip=%v %s", name, gz, path)
				require.Equal(t, string(want), string(got), "%s gzip=%v %s", name, gz, path)
			}
		}
	}
}

// TestCachedAnswersEqualPromhttpDemo: the demo's data (an ESS and an ECE
// account, every default collector and the opt-in ones) answered from the
// cached bytes equals promhttp's encoding of the merged families, in every
// format and encoding.
func TestCachedAnswersEqualPromhttpDemo(t *testing.T) {
	t.Parallel()
	ess := httptest.NewServer(trackSim(ecesim.New(ecesim.Options{Seed: 71, DeploymentsPerOrg: 12, RemoteClustersPerES: 2, APIKeys: 5, Now: testNow})))
	t.Cleanup(ess.Close)
	ece := httptest.NewServer(trackSim(ecesim.New(ecesim.Options{Mode: ecesim.ModeECE, Seed: 72, DeploymentsPerOrg: 7, RemoteClustersPerES: 1, APIKeys: 3, Now: testNow})))
	t.Cleanup(ece.Close)
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{
		{Name: "onprem", Platform: config.PlatformECE, URL: ece.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}},
		{Name: "prod", Platform: config.PlatformESS, URL: ess.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}},
	}
	reg := prometheus.NewPedanticRegistry()
	m, err := NewManager(Options{Registerer: reg, Enabled: append(DefaultEnabled(), upgradesName), Now: testNow,
		ClientOptions: []eceapi.Option{eceapi.WithBackoff(time.Millisecond, 2*time.Millisecond, 0)}})
	require.NoError(t, err)
	require.NoError(t, m.Apply(&cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Stop(ctx)
	})
	waitReady(t, m)
	live := frozen(t, reg)
	ours, err := m.Handler(live, exposition.Options{})
	require.NoError(t, err)
	requireSameAnswers(t, ours, m.Gatherer(live))
	// Both accounts' series are in one family.
	_, body := scrapeBody(t, ours, "/metrics?name[]=ece_deployment_info", scrapeAccepts["text"], false)
	require.Equal(t, 1, strings.Count(string(body), "# TYPE ece_deployment_info gauge"))
	require.Contains(t, string(body), `account="onprem"`)
	require.Contains(t, string(body), `account="prod"`)
}

// serveSnapshots returns the cached handler over snaps beside the live
// families, and the reference: the same families decoded and merged, as
// Manager.Gatherer merges them.
func serveSnapshots(t *testing.T, live prometheus.Gatherer, wants *exposition.Wants, snaps []*Snapshot) (http.Handler, prometheus.Gatherer) {
	t.Helper()
	src := make([]exposition.Snapshot, len(snaps))
	for i, s := range snaps {
		src[i] = s
	}
	all := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := live.Gather()
		if err != nil {
			return nil, err
		}
		lists := [][]*dto.MetricFamily{mfs}
		for _, s := range snaps {
			lists = append(lists, s.Families())
		}
		return exposition.MergeFamilies(lists...)
	})
	ours, err := exposition.NewHandler(exposition.Options{Live: live, Snapshots: func() []exposition.Snapshot { return src }, All: all, Wants: wants})
	require.NoError(t, err)
	return ours, all
}

// randomSnapshots builds snapshots of several accounts and collectors over
// shared families: the same family in several accounts (concatenated),
// twice in one account (merged), and under a label that sorts before
// account (merged); values of every kind, label values with escapes,
// duplicates and invalid UTF-8.
func randomSnapshots(r *rand.Rand) []*Snapshot {
	descs := []*seriesDesc{
		newSeriesDesc("ece_rand_a", "A.", []string{"account", "deployment_id"}),
		newSeriesDesc("ece_rand_b", "B with \\ and \"quotes\"\nand a new line.", []string{"account", "zone", "name"}),
		newSeriesDesc("ece_rand_c", "C.", []string{"account"}),
		newSeriesDesc("ece_rand_d", "D sorts aardvark first.", []string{"account", "aardvark"}),
		newSeriesDesc("ece_exporter_build_info", "Clashes with a live family.", []string{"account", "version"}),
	}
	values := []float64{0, 1, -1, 0.25, 1e21, 123456, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 3.5e-9}
	str := func() string {
		alphabet := []string{"a", "b", "Z", "0", "-", "_", " ", "\\", "\"", "\n", "é", "✓", "\xff"}
		var b strings.Builder
		for i := r.IntN(6); i > 0; i-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	var out []*Snapshot
	for _, acc := range []string{"a", "b", "c"} {
		for coll := 0; coll < 2; coll++ {
			s := NewSnapshot(acc)
			for _, d := range descs {
				if r.IntN(3) == 0 {
					continue
				}
				for n := r.IntN(30); n > 0; n-- {
					labels := make([]string, len(d.labels)-1)
					for i := range labels {
						labels[i] = str()
					}
					s.gauge(d, values[r.IntN(len(values))], labels...)
				}
			}
			s.seal()
			out = append(out, s)
		}
	}
	return out
}

// TestCachedAnswersEqualPromhttpRandom: random snapshots, served by the
// cached path beside live families, equal promhttp's answer for the
// families Manager.Gatherer would merge.
func TestCachedAnswersEqualPromhttpRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(19, 20))
	selfReg := prometheus.NewRegistry()
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ece_exporter_build_info", Help: "Build."}, []string{"version"})
	info.WithLabelValues("1.0").Set(1)
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ece_exporter_scrape_errors_total", Help: "Errors."}, []string{"account"})
	errs.WithLabelValues("a").Add(3)
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ece_exporter_poll_duration_seconds", Help: "Polls.", Buckets: []float64{0.1, 1}})
	hist.Observe(0.5)
	selfReg.MustRegister(info, errs, hist)
	live := frozen(t, selfReg)
	for round := 0; round < 25; round++ {
		// Prepared at seal for some kinds, lazily for the others.
		ours, all := serveSnapshots(t, live, exposition.NewWants(nil), randomSnapshots(r))
		requireSameAnswers(t, ours, all)
	}
}

// TestCachedAnswersLargeFamilies: families larger than a chunk, prepared
// at seal for OpenMetrics with gzip (encoded and compressed a chunk at a
// time, no body kept) and encoded lazily for the other kinds, answer as
// promhttp does.
func TestCachedAnswersLargeFamilies(t *testing.T) {
	t.Parallel()
	d := newSeriesDesc("ece_big", "Big.", []string{"account", "deployment_id", "name"})
	small := newSeriesDesc("ece_small", "Small.", []string{"account"})
	wants := exposition.NewWants(nil)
	var snaps []*Snapshot
	for _, acc := range []string{"a", "b"} {
		s := NewSnapshot(acc)
		for i := 0; i < 12000; i++ {
			s.gauge(d, float64(i)/7, fmt.Sprintf("%032x", i*7919), strings.Repeat("n", i%40))
		}
		s.gauge(small, 1)
		s.wants = wants
		s.seal()
		require.Nil(t, s.enc[exposition.KindOpenMetrics].body, "gzip only: no body kept")
		require.Greater(t, len(s.enc[exposition.KindOpenMetrics].chunks[0]), 1, "the big family is several chunks")
		snaps = append(snaps, s)
	}
	ours, all := serveSnapshots(t, prometheus.NewRegistry(), wants, snaps)
	requireSameAnswers(t, ours, all)
}

// TestScrapesDoNotReencode: a snapshot is encoded at seal for what
// scrapers want, once more for a kind first asked for later, and never
// per scrape; gzip scrapes reuse the chunks compressed at seal.
func TestScrapesDoNotReencode(t *testing.T) {
	t.Parallel()
	d := newSeriesDesc("ece_x", "X.", []string{"account", "id"})
	s := NewSnapshot("a")
	for i := 0; i < 2000; i++ {
		s.gauge(d, float64(i), fmt.Sprint(i))
	}
	wants := exposition.NewWants(nil)
	s.wants = wants
	s.seal()
	require.EqualValues(t, 1, s.encodes.Load(), "OpenMetrics for gzip, at seal")
	h, err := exposition.NewHandler(exposition.Options{Live: prometheus.NewRegistry(), Snapshots: func() []exposition.Snapshot { return []exposition.Snapshot{s} }, Wants: wants})
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		scrapeBody(t, h, "/metrics", scrapeAccepts["prometheus-2"], true)
	}
	require.EqualValues(t, 1, s.encodes.Load(), "gzip scrapes write the chunks of the seal")
	scrapeBody(t, h, "/metrics", scrapeAccepts["text"], false)
	require.EqualValues(t, 2, s.encodes.Load(), "a one-off text scrape: encoded for that answer")
	require.Nil(t, s.enc[exposition.KindText].body, "and not kept")
	for i := 0; i < 10; i++ {
		scrapeBody(t, h, "/metrics", scrapeAccepts["text"], false)
	}
	require.EqualValues(t, 3, s.encodes.Load(), "asked twice: the text body is kept")
	for i := 0; i < 10; i++ {
		scrapeBody(t, h, "/metrics", scrapeAccepts["text"], true)
	}
	require.EqualValues(t, 3, s.encodes.Load(), "text chunks come from the kept text body")
	// The next poll's snapshot is prepared for all three at seal.
	next := NewSnapshot("a")
	next.gauge(d, 1, "x")
	next.wants = wants
	next.seal()
	require.EqualValues(t, 2, next.encodes.Load(), "OpenMetrics and text, each encoded once")
	require.NotNil(t, next.enc[exposition.KindText].body)
	require.NotNil(t, next.enc[exposition.KindText].chunks)
	require.Nil(t, next.enc[exposition.KindOpenMetrics].body, "no identity OpenMetrics scrape: no body kept")
}

// TestCachedAnswersSmallGzip: a gzip scrape whose answer is under the
// compression threshold (a name[] filter, a small snapshot) is written
// uncompressed, as promhttp does, although the snapshot was prepared for
// gzip only and keeps no identity body.
func TestCachedAnswersSmallGzip(t *testing.T) {
	t.Parallel()
	big := newSeriesDesc("ece_big", "Big.", []string{"account", "deployment_id"})
	small := newSeriesDesc("ece_small", "Small.", []string{"account"})
	wants := exposition.NewWants(nil)
	var snaps []*Snapshot
	for _, acc := range []string{"a", "b"} {
		s := NewSnapshot(acc)
		for i := 0; i < 100; i++ {
			s.gauge(big, float64(i), fmt.Sprintf("%032x", i))
		}
		s.gauge(small, 1)
		s.wants = wants
		s.seal()
		require.Nil(t, s.enc[exposition.KindOpenMetrics].body, "gzip only: no body kept")
		snaps = append(snaps, s)
	}
	ours, all := serveSnapshots(t, prometheus.NewRegistry(), wants, snaps)
	ref, err := exposition.Handler(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	require.NoError(t, err)
	for _, path := range []string{"/metrics?name[]=ece_small", "/metrics?name[]=ece_small&name[]=ece_none"} {
		for _, accept := range []string{scrapeAccepts["prometheus-3"], scrapeAccepts["openmetrics-1"], scrapeAccepts["text"], scrapeAccepts["protobuf"]} {
			wantType, want := scrapeBody(t, ref, path, accept, true)
			gotType, got := scrapeBody(t, ours, path, accept, true)
			require.Equal(t, wantType, gotType, accept)
			require.Equal(t, string(want), string(got), accept)
			require.Less(t, len(got), 1024)
		}
	}
	// Still no identity body kept for a kind only asked for compressed.
	for _, s := range snaps {
		require.Nil(t, s.enc[exposition.KindOpenMetrics].body)
	}
}

// TestCachedAnswersConcurrent: scrapes in every cached kind, compressed
// or not, racing on snapshots that encoded nothing at seal (each kind is
// encoded by whichever scrape comes first), all get promhttp's answer.
// Run with -race.
func TestCachedAnswersConcurrent(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 3; round++ {
		snaps := randomSnapshots(r)
		// Families big enough that gzip answers are compressed.
		big := newSeriesDesc("ece_rand_big", "Big.", []string{"account", "deployment_id"})
		for _, acc := range []string{"a", "b"} {
			s := NewSnapshot(acc)
			for n := 0; n < 50; n++ {
				s.gauge(big, float64(n), fmt.Sprintf("%032x", n))
			}
			s.seal()
			snaps = append(snaps, s)
		}
		var lists [][]*dto.MetricFamily
		src := make([]exposition.Snapshot, len(snaps))
		for i, s := range snaps {
			src[i] = s
			lists = append(lists, s.Families())
		}
		all := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return exposition.MergeFamilies(lists...) })
		ref, err := exposition.Handler(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
		require.NoError(t, err)
		ours, err := exposition.NewHandler(exposition.Options{Live: prometheus.NewRegistry(), Snapshots: func() []exposition.Snapshot { return src }, All: all})
		require.NoError(t, err)
		accepts := []string{scrapeAccepts["text"], scrapeAccepts["prometheus-3"], scrapeAccepts["protobuf"]}
		want := map[string]string{}
		for _, accept := range accepts {
			_, body := scrapeBody(t, ref, "/metrics", accept, false)
			want[accept] = string(body)
		}
		type result struct {
			accept string
			gz     bool
			body   []byte
			err    error
		}
		results := make(chan result, 64)
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			for _, accept := range accepts {
				for _, gz := range []bool{g%2 == 0, g%2 != 0} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
						req.Header.Set("Accept", accept)
						if gz {
							req.Header.Set("Accept-Encoding", "gzip")
						}
						rec := httptest.NewRecorder()
						ours.ServeHTTP(rec, req)
						res := result{accept: accept, gz: gz, body: rec.Body.Bytes()}
						if gz != (rec.Header().Get("Content-Encoding") == "gzip") {
							res.err = fmt.Errorf("Content-Encoding %q", rec.Header().Get("Content-Encoding"))
						} else if gz {
							zr, err := gzip.NewReader(bytes.NewReader(res.body))
							if err == nil {
								zr.Multistream(false)
								res.body, err = io.ReadAll(zr)
							}
							res.err = err
						}
						results <- res
					}()
				}
			}
		}
		go func() { wg.Wait(); close(results) }()
		n := 0
		for res := range results {
			n++
			require.NoError(t, res.err, "%s gzip=%v", res.accept, res.gz)
			require.Equal(t, want[res.accept], string(res.body), "%s gzip=%v", res.accept, res.gz)
		}
		require.Equal(t, 8*len(accepts)*2, n)
	}
}

// TestCachedAnswersHEAD: a HEAD request gets the headers of an
// uncompressed GET (as gzhttp answers HEAD) without making the snapshots
// encode or keep an identity body they do not otherwise need.
func TestCachedAnswersHEAD(t *testing.T) {
	t.Parallel()
	d := newSeriesDesc("ece_big", "Big.", []string{"account", "deployment_id"})
	wants := exposition.NewWants(nil)
	s := NewSnapshot("a")
	for i := 0; i < 200; i++ {
		s.gauge(d, float64(i), fmt.Sprintf("%032x", i))
	}
	s.wants = wants
	s.seal()
	mfs := s.Families()
	all := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
	ours, err := exposition.NewHandler(exposition.Options{Live: prometheus.NewRegistry(), Snapshots: func() []exposition.Snapshot { return []exposition.Snapshot{s} }, All: all, Wants: wants})
	require.NoError(t, err)
	ref, err := exposition.Handler(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	require.NoError(t, err)
	_, want := scrapeBody(t, ref, "/metrics", scrapeAccepts["prometheus-3"], false)
	require.Nil(t, s.enc[exposition.KindOpenMetrics].body, "sealed compressed only")
	req := httptest.NewRequest(http.MethodHead, "/metrics", nil)
	req.Header.Set("Accept", scrapeAccepts["prometheus-3"])
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	ours.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Header().Get("Content-Encoding"))
	require.Equal(t, fmt.Sprint(len(want)), rec.Header().Get("Content-Length"))
	require.True(t, s.enc[exposition.KindOpenMetrics].body == nil, "no identity body encoded for a HEAD")
	require.False(t, wants.Wanted(exposition.KindOpenMetrics, false), "a HEAD does not make identity wanted")
}

// TestCachedBytesExposed: ece_exporter_exposition_cached_bytes shows what
// the snapshots keep: OpenMetrics for gzip from the start, a text body
// only once text was scraped uncompressed twice, and its value is the
// size of the identity answer's data part.
func TestCachedBytesExposed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(trackSim(ecesim.New(ecesim.Options{Seed: 73, DeploymentsPerOrg: 3, Now: testNow})))
	t.Cleanup(srv.Close)
	m, _ := startManager(t, essConfig(srv.URL), apiKeysName)
	cached := func(format, encoding string) float64 {
		t.Helper()
		reg := prometheus.NewRegistry()
		reg.MustRegister(pollerCollector{m})
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != "ece_exporter_exposition_cached_bytes" {
				continue
			}
			for _, mt := range mf.Metric {
				l := map[string]string{}
				for _, lp := range mt.Label {
					l[lp.GetName()] = lp.GetValue()
				}
				if l["account"] == "prod" && l["format"] == format && l["encoding"] == encoding {
					return mt.GetGauge().GetValue()
				}
			}
		}
		t.Fatalf("no series for %s/%s", format, encoding)
		return 0
	}
	assert.Positive(t, cached("openmetrics", "gzip"), "prepared at seal")
	assert.Zero(t, cached("text", "identity"))
	h, err := m.Handler(prometheus.NewRegistry(), exposition.Options{})
	require.NoError(t, err)
	_, body := scrapeBody(t, h, "/metrics", scrapeAccepts["text"], false)
	assert.Zero(t, cached("text", "identity"), "a one-off scrape keeps nothing")
	scrapeBody(t, h, "/metrics", scrapeAccepts["text"], false)
	got := cached("text", "identity")
	assert.Positive(t, got, "scraped twice: kept")
	// The kept body is the samples of the answer: the answer less its
	// HELP and TYPE lines.
	var samples int
	for _, line := range strings.SplitAfter(string(body), "\n") {
		if !strings.HasPrefix(line, "#") {
			samples += len(line)
		}
	}
	assert.Equal(t, float64(samples), got)
}

// TestEncodingDoesNotBlockOtherKinds: while a snapshot encodes one kind
// (a one-off uncompressed curl, or the first scrape of a kind not
// prepared at seal, which takes long at 5,000 deployments), the self-
// metrics of every scrape (the cached bytes) and scrapes of the kinds
// already kept do not wait for it.
func TestEncodingDoesNotBlockOtherKinds(t *testing.T) {
	t.Parallel()
	for name, blocked := range map[string]struct {
		k  exposition.Kind
		gz bool
	}{
		"one-off text":        {exposition.KindText, false},
		"first protobuf gzip": {exposition.KindProto, true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := newSeriesDesc("ece_x", "X.", []string{"account", "id"})
			s := NewSnapshot("a")
			for i := 0; i < 500; i++ {
				s.gauge(d, float64(i), fmt.Sprint(i))
			}
			s.wants = exposition.NewWants(nil)
			s.seal()
			var want [exposition.NumKinds][2]int
			for _, cs := range s.enc[exposition.KindOpenMetrics].chunks {
				for _, c := range cs {
					want[exposition.KindOpenMetrics][1] += len(c.Data)
				}
			}
			require.Positive(t, want[exposition.KindOpenMetrics][1])

			started, release := make(chan struct{}), make(chan struct{})
			s.onEncode = func(k exposition.Kind) {
				if k == blocked.k {
					close(started)
					<-release
				}
			}
			encoded := make(chan struct{})
			go func() {
				defer close(encoded)
				s.Encoded(blocked.k, blocked.gz)
			}()
			<-started
			done := make(chan [exposition.NumKinds][2]int, 1)
			go func() {
				var sizes [exposition.NumKinds][2]int
				s.addCachedBytes(&sizes)
				assert.NotNil(t, s.Encoded(exposition.KindOpenMetrics, true).Chunks)
				done <- sizes
			}()
			select {
			case sizes := <-done:
				assert.Equal(t, want, sizes, "what is kept while another kind encodes")
			case <-time.After(10 * time.Second):
				t.Error("the cached bytes or an OpenMetrics gzip scrape waited for another kind's encoding")
			}
			close(release)
			<-encoded
		})
	}
}
