package exposition

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSnapshot serves gauge families (of one account) through this
// package's encoders, as collector.Snapshot does.
type fakeSnapshot struct {
	account string
	fams    []*dto.MetricFamily
}

func (f fakeSnapshot) Encoded(k Kind, gz bool) Encoded {
	var e Encoded
	for _, mf := range f.fams {
		var labels [][]byte
		start := len(e.Body)
		for _, m := range mf.Metric {
			labels = labels[:0]
			for _, lp := range m.Label {
				labels = append(labels, AppendLabel(nil, k, lp.GetName(), lp.GetValue()))
			}
			e.Body = AppendGaugeSample(e.Body, k, mf.GetName(), labels, m.GetGauge().GetValue())
		}
		e.Fams = append(e.Fams, Family{Name: mf.GetName(), Header: AppendGaugeHeader(nil, k, mf.GetName(), mf.GetHelp()),
			Start: start, End: len(e.Body), Account: f.account, AccountFirst: true})
		e.Chunks = append(e.Chunks, []Chunk{Compress(e.Body[start:])})
	}
	return e
}

func (f fakeSnapshot) Family(name string) *dto.MetricFamily {
	for _, mf := range f.fams {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, x := range v {
		if err, ok := x.(error); ok {
			parts = append(parts, err.Error())
		} else if s, ok := x.(string); ok {
			parts = append(parts, s)
		}
	}
	l.lines = append(l.lines, strings.Join(parts, " "))
}

func TestCachedHandlerErrors(t *testing.T) {
	snap := fakeSnapshot{account: "a", fams: []*dto.MetricFamily{
		gaugeFamily("ece_x", "X.", []string{"account"}, [][]string{{"a"}}, []float64{1}),
	}}
	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return nil, errors.New("self-metrics broke") })
	for _, tc := range []struct {
		name     string
		snaps    []Snapshot
		status   int
		contains string
	}{
		{"no data at all: 500", nil, http.StatusInternalServerError, "self-metrics broke"},
		{"snapshots still served", []Snapshot{snap}, http.StatusOK, `ece_x{account="a"} 1`},
		{"empty snapshots only: 500", []Snapshot{fakeSnapshot{account: "a"}, fakeSnapshot{account: "b"}}, http.StatusInternalServerError, "self-metrics broke"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			logs := &logLines{}
			h, err := NewHandler(Options{Live: failing, Snapshots: func() []Snapshot { return tc.snaps }, All: failing, ErrorLog: logs, Registry: reg})
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			assert.Equal(t, tc.status, rec.Code)
			assert.Contains(t, rec.Body.String(), tc.contains)
			assert.Equal(t, []string{"error gathering metrics: self-metrics broke"}, logs.lines)
			require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP promhttp_metric_handler_errors_total Total number of internal errors encountered by the promhttp metric handler.
# TYPE promhttp_metric_handler_errors_total counter
promhttp_metric_handler_errors_total{cause="encoding"} 0
promhttp_metric_handler_errors_total{cause="gathering"} 1
`)))
		})
	}
}

// TestCachedHandlerTypeClash: a live counter and a cached gauge of one
// name are merged as Manager.Gatherer merges them (the first type kept),
// and the clash is logged and counted once.
func TestCachedHandlerTypeClash(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ece_x", Help: "Live."})
	c.Add(2)
	reg.MustRegister(c)
	snap := fakeSnapshot{account: "a", fams: []*dto.MetricFamily{
		gaugeFamily("ece_x", "X.", []string{"account"}, [][]string{{"a"}}, []float64{1}),
	}}
	logs := &logLines{}
	self := prometheus.NewRegistry()
	h, err := NewHandler(Options{Live: reg, Snapshots: func() []Snapshot { return []Snapshot{snap} }, ErrorLog: logs, Registry: self})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "# HELP ece_x Live.\n# TYPE ece_x counter\nece_x 2\n", rec.Body.String())
	require.Len(t, logs.lines, 1)
	assert.Contains(t, logs.lines[0], "exposed with types COUNTER and GAUGE")
	assert.Equal(t, 1.0, testutil.ToFloat64(mustCounter(t, self, "gathering")))
}

func mustCounter(t *testing.T, g prometheus.Gatherer, cause string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			if m.Label[0].GetValue() == cause {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x", Help: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	t.Fatalf("no counter for cause %s", cause)
	return nil
}

// TestCachedHandlerInFlightLimit: a scrape beyond the limit gets a 503 at
// once, the cached path and the fallback alike.
func TestCachedHandlerInFlightLimit(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	blocking := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		entered <- struct{}{}
		<-release
		return nil, nil
	})
	h, err := NewHandler(Options{Live: blocking, All: prometheus.NewRegistry(), MaxRequestsInFlight: 1})
	require.NoError(t, err)
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		done <- rec.Code
	}()
	<-entered
	for _, accept := range []string{"", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", accept)
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, accept)
		assert.Contains(t, rec.Body.String(), "Limit of concurrent requests reached (1)")
	}
	close(release)
	assert.Equal(t, http.StatusOK, <-done, "the first scrape completes")
}

var testTime = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestWants(t *testing.T) {
	now := testTime
	w := NewWants(func() time.Time { return now })
	assert.True(t, w.Wanted(KindOpenMetrics, true), "what Prometheus asks for is wanted from the start")
	assert.False(t, w.Wanted(KindText, false))
	w.Note(KindText, false)
	assert.False(t, w.Wanted(KindText, false), "asked once: a one-off")
	now = now.Add(time.Minute)
	w.Note(KindText, false)
	assert.True(t, w.Wanted(KindText, false), "asked twice")
	assert.False(t, w.Wanted(KindText, true), "per encoding")
	now = now.Add(wantedFor - time.Second)
	assert.False(t, w.Wanted(KindText, false), "forgotten when the older ask is too old")
	w.Note(KindText, false)
	assert.True(t, w.Wanted(KindText, false), "two asks within the window again")
	now = now.Add(wantedFor)
	assert.False(t, w.Wanted(KindOpenMetrics, true))
	var nilWants *Wants
	nilWants.Note(KindText, true)
	assert.False(t, nilWants.Wanted(KindText, true))
}

// TestCachedHandlerHEAD: a HEAD request is answered uncompressed even when
// gzip is accepted, as the promhttp path (gzhttp) answers it, with the
// headers a GET would get otherwise.
func TestCachedHandlerHEAD(t *testing.T) {
	var series [][]string
	var values []float64
	for i := 0; i < 100; i++ {
		series = append(series, []string{"a", strings.Repeat("d", i)})
		values = append(values, float64(i))
	}
	mf := gaugeFamily("ece_x", "X.", []string{"account", "deployment_id"}, series, values)
	snap := fakeSnapshot{account: "a", fams: []*dto.MetricFamily{mf}}
	all := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return []*dto.MetricFamily{mf}, nil })
	ours, err := NewHandler(Options{Live: prometheus.NewRegistry(), Snapshots: func() []Snapshot { return []Snapshot{snap} }, All: all})
	require.NoError(t, err)
	ref, err := Handler(all, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	require.NoError(t, err)
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		for _, accept := range []string{"", "application/openmetrics-text;version=1.0.0", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"} {
			do := func(h http.Handler) *httptest.ResponseRecorder {
				req := httptest.NewRequest(method, "/metrics", nil)
				req.Header.Set("Accept", accept)
				req.Header.Set("Accept-Encoding", "gzip")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			want, got := do(ref), do(ours)
			require.Equal(t, http.StatusOK, got.Code)
			assert.Equal(t, want.Header().Get("Content-Encoding"), got.Header().Get("Content-Encoding"), "%s %s", method, accept)
			assert.Equal(t, want.Header().Get("Content-Type"), got.Header().Get("Content-Type"), "%s %s", method, accept)
			assert.ElementsMatch(t, want.Header().Values("Vary"), got.Header().Values("Vary"), "%s %s", method, accept)
		}
	}
}

// TestCachedHandlerFilteredTypeClash: promhttp gathers everything before
// it filters by name[], so a clash in a family the filter leaves out is
// still logged and counted; the cached path does the same.
func TestCachedHandlerFilteredTypeClash(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ece_x", Help: "Live."})
	c.Add(2)
	reg.MustRegister(c)
	snap := fakeSnapshot{account: "a", fams: []*dto.MetricFamily{
		gaugeFamily("ece_x", "X.", []string{"account"}, [][]string{{"a"}}, []float64{1}),
		gaugeFamily("ece_y", "Y.", []string{"account"}, [][]string{{"a"}}, []float64{3}),
	}}
	for _, path := range []string{"/metrics?name[]=ece_y", "/metrics?name[]=ece_x"} {
		logs := &logLines{}
		self := prometheus.NewRegistry()
		h, err := NewHandler(Options{Live: reg, Snapshots: func() []Snapshot { return []Snapshot{snap} }, ErrorLog: logs, Registry: self})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Len(t, logs.lines, 1, path)
		assert.Contains(t, logs.lines[0], "metric family ece_x exposed with types COUNTER and GAUGE", path)
		assert.Equal(t, 1.0, testutil.ToFloat64(mustCounter(t, self, "gathering")), path)
	}
}

// TestCachedHandlerHEADIsNotAsked: HEAD requests (an uptime check every
// minute) do not make a format wanted: no identity body is kept at every
// poll for answers that never carry one. GETs do.
func TestCachedHandlerHEADIsNotAsked(t *testing.T) {
	wants := NewWants(func() time.Time { return testTime })
	h, err := NewHandler(Options{Live: prometheus.NewRegistry(), Wants: wants})
	require.NoError(t, err)
	do := func(method string) {
		req := httptest.NewRequest(method, "/metrics", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
	}
	for range 3 {
		do(http.MethodHead)
	}
	assert.False(t, wants.Wanted(KindText, false), "HEADs only")
	do(http.MethodGet)
	do(http.MethodGet)
	assert.True(t, wants.Wanted(KindText, false), "two GETs")
}
