package exposition

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func registry(t *testing.T, series int) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ece_test_value", Help: "Test."}, []string{"deployment_id"})
	for i := range series {
		g.WithLabelValues(fmt.Sprintf("%032x", i)).Set(float64(i))
	}
	require.NoError(t, reg.Register(g))
	return reg
}

func TestHandler(t *testing.T) {
	t.Parallel()
	const protoAccept = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`
	for _, tc := range []struct {
		name           string
		series         int
		accept         string
		acceptEncoding string
		wantGzip       bool
	}{
		{name: "text, gzip accepted", series: 500, acceptEncoding: "gzip", wantGzip: true},
		{name: "text, what Prometheus sends", series: 500, acceptEncoding: "gzip, deflate", wantGzip: true},
		{name: "text, no compression asked", series: 500},
		{name: "text, gzip refused", series: 500, acceptEncoding: "gzip;q=0, identity"},
		{name: "protobuf, gzip accepted", series: 500, accept: protoAccept, acceptEncoding: "gzip", wantGzip: true},
		{name: "small answer stays plain", series: 1, acceptEncoding: "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := registry(t, tc.series)
			h, err := Handler(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code)

			body := rec.Body.Bytes()
			if tc.wantGzip {
				assert.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
				assert.Contains(t, rec.Header().Values("Vary"), "Accept-Encoding")
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			} else {
				assert.Empty(t, rec.Header().Get("Content-Encoding"))
			}

			// The decoded answer holds every series, in the negotiated format.
			format := expfmt.ResponseFormat(rec.Header())
			if tc.accept == protoAccept {
				assert.Equal(t, expfmt.TypeProtoDelim, format.FormatType())
			} else {
				assert.Equal(t, expfmt.TypeTextPlain, format.FormatType())
			}
			dec := expfmt.NewDecoder(bytes.NewReader(body), format)
			var mf dto.MetricFamily
			require.NoError(t, dec.Decode(&mf))
			assert.Equal(t, "ece_test_value", mf.GetName())
			assert.Len(t, mf.GetMetric(), tc.series)
		})
	}
}

// TestHandlerKeepsPromhttpOptions: errors are still counted in the
// registry given in the options and ContinueOnError still serves what was
// gathered.
func TestHandlerKeepsPromhttpOptions(t *testing.T) {
	t.Parallel()
	reg := registry(t, 3)
	failing := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, _ := reg.Gather()
		return mfs, fmt.Errorf("one collector failed")
	})
	h, err := Handler(failing, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: reg})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, 3, strings.Count(rec.Body.String(), "ece_test_value{"))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var errs float64
	for _, mf := range mfs {
		if mf.GetName() == "promhttp_metric_handler_errors_total" {
			for _, m := range mf.GetMetric() {
				errs += m.GetCounter().GetValue()
			}
		}
	}
	assert.Equal(t, 1.0, errs)
}
