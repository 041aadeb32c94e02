package exposition

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Accept headers Prometheus sends, as built by scrape/scrape.go's
// acceptHeader() from config/config.go's ScrapeProtocolsHeaders and
// DefaultScrapeProtocols / DefaultProtoFirstScrapeProtocols (the q weight
// starts at len(ScrapeProtocolsHeaders)+1: 5 in 2.x, 6 in 3.x):
const (
	// v2.53.0–v2.55.0, DefaultScrapeProtocols = OpenMetricsText1_0_0,
	// OpenMetricsText0_0_1, PrometheusText0_0_4 (no escaping: 2.x validates
	// names the legacy way by default).
	acceptPrometheus2 = `application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`
	// v3.0.0–v3.2.x: acceptHeader appends config.UTF8NamesHeader
	// ("escaping=allow-utf-8") to every protocol under UTF-8 validation (the
	// default), and ScrapeProtocolsHeaders[PrometheusText1_0_0] already
	// carries it, so text 1.0.0 has it twice.
	acceptPrometheus30 = `application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;escaping=allow-utf-8;q=0.3,*/*;q=0.2`
	// v3.4.0 onwards (checked up to v3.14.0): only PrometheusText1_0_0 and
	// OpenMetricsText1_0_0 get ";escaping=" + the scrape config's
	// metric_name_escaping_scheme (default allow-utf-8).
	acceptPrometheus3 = `application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`
	// v3.4.0+, DefaultProtoFirstScrapeProtocols (native histograms or
	// created-timestamp-zero-ingestion on).
	acceptPrometheus3ProtoFirst = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1`
	// v3.4.0+ with metric_name_escaping_scheme: underscores.
	acceptPrometheus3Underscores = `application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2`
	// v3.x with scrape_protocols: [PrometheusText0.0.4].
	acceptPrometheus3TextOnly = `text/plain;version=0.0.4;q=0.6,*/*;q=0.5`
)

// familyRegistry holds a gauge vector, a counter, an info gauge and a
// histogram with integer bucket bounds: every kind of family the exporter
// serves, and the ones whose OpenMetrics form differs from the 0.0.4 text.
func familyRegistry(t *testing.T, series int) *prometheus.Registry {
	t.Helper()
	reg := registry(t, series)
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ece_test_requests_total", Help: "Test requests."}, []string{"code"})
	c.WithLabelValues("200").Add(41)
	c.WithLabelValues("429").Add(1)
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ece_test_info", Help: `Test "info" with a \ backslash.`}, []string{"version"})
	info.WithLabelValues(`8.17.1 "quoted" \ line` + "\n" + `break`).Set(1)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ece_test_duration_seconds", Help: "Test durations.", Buckets: []float64{.05, 1, 10}})
	for _, v := range []float64{0.01, 0.5, 3, 30} {
		h.Observe(v)
	}
	require.NoError(t, reg.Register(c))
	require.NoError(t, reg.Register(info))
	require.NoError(t, reg.Register(h))
	return reg
}

// flatten renders families as sorted "name{labels} value" lines of their
// samples (counters under their `_total` sample name, histograms as
// buckets, sum and count), so that an answer decoded from any format can
// be compared with what the registry gathered.
func flatten(mfs []*dto.MetricFamily) []string {
	var out []string
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			var lp []string
			for _, l := range m.GetLabel() {
				lp = append(lp, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			labels := strings.Join(lp, ",")
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				n := name
				if !strings.HasSuffix(n, "_total") {
					n += "_total"
				}
				out = append(out, fmt.Sprintf("counter %s{%s} %g", n, labels, m.GetCounter().GetValue()))
			case dto.MetricType_GAUGE:
				out = append(out, fmt.Sprintf("gauge %s{%s} %g", name, labels, m.GetGauge().GetValue()))
			case dto.MetricType_HISTOGRAM:
				for _, b := range m.GetHistogram().GetBucket() {
					if math.IsInf(b.GetUpperBound(), 1) {
						continue // implied by the count; parsers add it, Gather does not
					}
					out = append(out, fmt.Sprintf("histogram %s_bucket{%s,le=%g} %d", name, labels, b.GetUpperBound(), b.GetCumulativeCount()))
				}
				out = append(out, fmt.Sprintf("histogram %s_sum{%s} %g", name, labels, m.GetHistogram().GetSampleSum()),
					fmt.Sprintf("histogram %s_count{%s} %d", name, labels, m.GetHistogram().GetSampleCount()))
			default:
				out = append(out, fmt.Sprintf("%s %s{%s}", mf.GetType(), name, labels))
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestHandlerNegotiatesWhatPrometheusSends: each Accept header Prometheus 2
// and 3 really send gets the format it ranks first among those we offer,
// with and without gzip, and the body parses with the decoder of the
// Content-Type it came with into exactly the samples the registry holds.
func TestHandlerNegotiatesWhatPrometheusSends(t *testing.T) {
	t.Parallel()
	const (
		om2 = `application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores`
		om3 = `application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8`
		pb  = `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores`
		txt = `text/plain; version=0.0.4; charset=utf-8; escaping=underscores`
	)
	for _, tc := range []struct {
		name, accept, contentType string
		wantType                  expfmt.FormatType
	}{
		{"Prometheus 2.x", acceptPrometheus2, om2, expfmt.TypeOpenMetrics},
		{"Prometheus 3.0-3.3", acceptPrometheus30, om3, expfmt.TypeOpenMetrics},
		{"Prometheus 3.4+", acceptPrometheus3, om3, expfmt.TypeOpenMetrics},
		{"Prometheus 3 protobuf first", acceptPrometheus3ProtoFirst, pb, expfmt.TypeProtoDelim},
		{"Prometheus 3 escaping=underscores", acceptPrometheus3Underscores, om2, expfmt.TypeOpenMetrics},
		{"Prometheus 3 text only", acceptPrometheus3TextOnly, txt, expfmt.TypeTextPlain},
		{"no Accept (curl)", "", txt, expfmt.TypeTextPlain},
	} {
		// Prometheus sends "gzip", or "identity" with enable_compression: false
		// (scrape.go's acceptEncodingHeader).
		for _, enc := range []string{"gzip", "identity"} {
			t.Run(tc.name+", "+enc, func(t *testing.T) {
				t.Parallel()
				reg := familyRegistry(t, 20)
				want, err := reg.Gather()
				require.NoError(t, err)
				h, err := Handler(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
				require.NoError(t, err)
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if tc.accept != "" {
					req.Header.Set("Accept", tc.accept)
				}
				req.Header.Set("Accept-Encoding", enc)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				require.Equal(t, http.StatusOK, rec.Code)

				assert.Equal(t, tc.contentType, rec.Header().Get("Content-Type"))
				assert.Equal(t, tc.contentType, string(Negotiate(req.Header)), "Negotiate is what the handler does")
				body := rec.Body.Bytes()
				if enc == "gzip" {
					require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
					zr, err := gzip.NewReader(bytes.NewReader(body))
					require.NoError(t, err)
					body, err = io.ReadAll(zr)
					require.NoError(t, err)
				} else {
					assert.Empty(t, rec.Header().Get("Content-Encoding"))
				}

				format := expfmt.ResponseFormat(rec.Header())
				require.Equal(t, tc.wantType, format.FormatType())
				dec := expfmt.NewDecoder(bytes.NewReader(body), format)
				var got []*dto.MetricFamily
				for {
					mf := &dto.MetricFamily{}
					err := dec.Decode(mf)
					if errors.Is(err, io.EOF) {
						break
					}
					require.NoError(t, err)
					got = append(got, mf)
				}
				assert.Equal(t, flatten(want), flatten(got))

				text := string(body)
				has := func(s string) bool { return strings.Contains(text, s) }
				switch tc.wantType {
				case expfmt.TypeOpenMetrics:
					assert.True(t, strings.HasSuffix(text, "# EOF\n"), "an OpenMetrics answer ends with # EOF")
					// The family is named without _total, the samples keep it:
					// the series Prometheus stores are those of the 0.0.4 text.
					assert.True(t, has("# TYPE ece_test_requests counter\n"), "counter family without _total")
					assert.True(t, has(`ece_test_requests_total{code="200"} 41.0`+"\n"), "counter sample with _total")
					assert.True(t, has(`ece_test_duration_seconds_bucket{le="1.0"} 2`+"\n"), "le as a float")
					assert.False(t, has("_created"), "no synthetic _created series")
					assert.False(t, has("# UNIT"), "no unit metadata")
				case expfmt.TypeTextPlain:
					assert.False(t, has("# EOF"))
					assert.True(t, has("# TYPE ece_test_requests_total counter\n"))
					assert.True(t, has(`ece_test_duration_seconds_bucket{le="1"} 2`+"\n"))
				}
			})
		}
	}
}

// TestAcceptedFormatsOffersOpenMetrics: the formats offered, and the
// server's preference for `*/*`: the 0.0.4 text stays what a browser or
// curl gets.
func TestAcceptedFormatsOffersOpenMetrics(t *testing.T) {
	t.Parallel()
	var types []expfmt.FormatType
	for _, f := range AcceptedFormats() {
		types = append(types, f.FormatType())
	}
	assert.Contains(t, types, expfmt.TypeOpenMetrics)
	assert.Contains(t, types, expfmt.TypeProtoDelim)
	assert.Contains(t, types, expfmt.TypeTextPlain)
	for accept, want := range map[string]expfmt.FormatType{
		"": expfmt.TypeTextPlain,
		"text/html,application/xhtml+xml,*/*;q=0.8": expfmt.TypeTextPlain, // a browser
		"*/*":                          expfmt.TypeTextPlain,
		"application/openmetrics-text": expfmt.TypeOpenMetrics,
		"text/plain":                   expfmt.TypeTextPlain,
	} {
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		assert.Equal(t, want, Negotiate(h).FormatType(), accept)
	}
}
