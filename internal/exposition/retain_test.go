package exposition

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// TestCachedHandlerKeepsNoReplacedSnapshot: once a scrape is over, nothing
// of its snapshots stays reachable from the handler's pools, even for an
// answer too big to be pooled again (its merged live bytes over 1 MiB,
// compressed by a pooled DEFLATE writer that still points at it).
func TestCachedHandlerKeepsNoReplacedSnapshot(t *testing.T) {
	var snaps []Snapshot
	var merged weak.Pointer[dto.MetricFamily]
	func() {
		var series [][]string
		var values []float64
		for i := 0; i < 20000; i++ {
			series = append(series, []string{"a", fmt.Sprintf("%064x", i)})
			values = append(values, float64(i))
		}
		// Twice in one account: merged decoded, encoded live.
		mf := gaugeFamily("ece_x", "X.", []string{"account", "deployment_id"}, series, values)
		merged = weak.Make(mf)
		snaps = []Snapshot{fakeSnapshot{account: "a", fams: []*dto.MetricFamily{mf}}, fakeSnapshot{account: "a", fams: []*dto.MetricFamily{mf}}}
	}()
	h, err := NewHandler(Options{Live: prometheus.NewRegistry(), Snapshots: func() []Snapshot { return snaps }})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
	require.Greater(t, rec.Body.Len(), 1000)
	require.False(t, strings.Contains(rec.Body.String(), "ece_x"), "compressed")
	snaps = nil // replaced
	runtime.GC()
	require.True(t, merged.Value() == nil, "the replaced snapshot's family is still reachable")
}
