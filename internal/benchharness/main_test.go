package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

// TestLimitIsOurAnswer checks what the bench compares: each variant's
// Accept header gets the format it is named after from the real /metrics
// handler, gzip when asked, and the limit answers the same headers and the
// same bytes.
func TestLimitIsOurAnswer(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ece_test_value", Help: "A test gauge."}, []string{"id"})
	for i := 0; i < 200; i++ { // over gzhttp's 1 KiB minimum
		g.WithLabelValues(strconv.Itoa(i)).Set(float64(i))
	}
	reg.MustRegister(g)
	h, err := exposition.Handler(reg, promhttp.HandlerOpts{})
	require.NoError(t, err)
	ours := httptest.NewServer(h)
	defer ours.Close()
	c := newClient(scrapeTimeout)
	defer c.CloseIdleConnections()

	for _, v := range allVariants {
		t.Run(v.name, func(t *testing.T) {
			a, err := fetch(c, ours.URL, v)
			require.NoError(t, err)
			assert.Regexp(t, "^"+v.wantType+";", a.header.Get("Content-Type"))
			body := a.body
			if v.acceptEncoding == "gzip" {
				require.Equal(t, "gzip", a.header.Get("Content-Encoding"))
				zr, err := gzip.NewReader(bytes.NewReader(a.body))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			} else {
				assert.Empty(t, a.header.Get("Content-Encoding"))
			}
			if v.wantType == "application/openmetrics-text" {
				assert.True(t, bytes.HasSuffix(body, []byte("# EOF\n")))
			}

			limit := httptest.NewServer(fixedAnswer(a))
			defer limit.Close()
			b, err := fetch(c, limit.URL, v)
			require.NoError(t, err)
			assert.Equal(t, a.body, b.body)
			for _, k := range []string{"Content-Type", "Content-Encoding", "Vary"} {
				assert.Equal(t, a.header.Get(k), b.header.Get(k), k)
			}

			st, err := scrapeStats(c, limit.URL, v, 3)
			require.NoError(t, err)
			assert.Equal(t, len(a.body), st.bytes)
			assert.LessOrEqual(t, st.p50, st.p99)
		})
	}
}

func TestChosenVariants(t *testing.T) {
	defer func(a, e, l string) { accept, acceptEncoding, variantList = a, e, l }(accept, acceptEncoding, variantList)
	accept, acceptEncoding, variantList = "", "", "protobuf+gzip, text"
	vs, err := chosenVariants()
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, "protobuf+gzip", vs[0].name)
	assert.Equal(t, "text", vs[1].name)

	variantList = "text,xml"
	_, err = chosenVariants()
	assert.ErrorContains(t, err, `"xml"`)

	acceptEncoding = "gzip"
	vs, err = chosenVariants()
	require.NoError(t, err)
	assert.Equal(t, []variant{{name: "custom", acceptEncoding: "gzip"}}, vs)
}

// TestWarmUpMakesVariantsWanted: after the warm-up every variant's format
// and encoding is one the snapshots keep encoded (exposition.Wants), so
// that no measured scrape pays for a one-time encoding of a kept body.
func TestWarmUpMakesVariantsWanted(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ece_test_value", Help: "A test gauge."}, []string{"id"})
	for i := 0; i < 200; i++ {
		g.WithLabelValues(strconv.Itoa(i)).Set(float64(i))
	}
	reg.MustRegister(g)
	wants := exposition.NewWants(nil)
	h, err := exposition.NewHandler(exposition.Options{Live: reg, Wants: wants})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := newClient(scrapeTimeout)
	defer c.CloseIdleConnections()

	rows := make([]row, len(allVariants))
	for i, v := range allVariants {
		rows[i].variant = v
	}
	require.NoError(t, warmUp(c, srv.URL, rows))
	for _, r := range rows {
		req := newRequest(srv.URL, r.variant)
		k, ok := exposition.KindOf(exposition.Negotiate(req.Header))
		require.True(t, ok, r.variant.name)
		assert.True(t, wants.Wanted(k, r.variant.acceptEncoding == "gzip"), "%s is kept encoded after the warm-up", r.variant.name)
		assert.Zero(t, r.ours.timeouts, r.variant.name)
	}
}
