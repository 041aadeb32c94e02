package eceapi

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSearch_Drift: the live API sends null for arrays and objects and
// fractions where the spec says integer; one such deployment must not fail
// the page (testdata/search-deployments/drift-fractions-and-nulls.json is outside the spec, see
// TestFixturesMatchSpec).
func TestSearch_Drift(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc(p("/deployments/_search"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, fixture(t, "search-deployments/drift-fractions-and-nulls.json"))
	})
	r, _, err := c.Deployments.Search(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, r.Deployments, 1)
	d := r.Deployments[0]
	assert.Empty(t, r.Cursor, "no cursor: the last page")
	assert.Nil(t, d.Metadata.Tags)
	assert.Nil(t, d.Resources.Kibana)
	es := d.Resources.Elasticsearch[0].Info
	assert.Nil(t, es.SystemAlerts)
	assert.Nil(t, es.PlanInfo.History)
	assert.Equal(t, 3.0, es.Snapshots.Count)
	in := es.Topology.Instances[0]
	assert.Equal(t, 88.5, *in.Memory.MemoryPressure)
	assert.Nil(t, in.Memory.NativeMemoryPressure, "null is unknown, not 0")
	assert.Equal(t, 117760.25, in.Disk.DiskSpaceUsed)
}

// TestSearch_ReadOnlyPost: the search is a POST with a body, retried like a
// read (it changes nothing); the body is sent again on the retry. A nil
// request sends an empty object: every deployment matches.
func TestSearch_ReadOnlyPost(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc(p("/deployments/_search"), func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `{}`, string(b))
		assert.Equal(t, http.MethodPost, r.Method)
		if hits.Add(1) == 1 {
			writeJSON(w, http.StatusServiceUnavailable, errorBody("root.unavailable", "try again"))
			return
		}
		writeJSON(w, http.StatusOK, `{"return_count":0,"deployments":[]}`)
	})
	r, resp, err := c.Deployments.Search(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, r.Deployments)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, int32(2), hits.Load())
}

// TestSearch_RedirectToUpgradeRefused: the upgrade guard still holds for
// the only other POST the exporter sends: a 307 from _search to an
// _upgrade path keeps the method and must not reach the server.
func TestSearch_RedirectToUpgradeRefused(t *testing.T) {
	t.Parallel()
	c, mux, srvURL := setup(t)
	var real atomic.Int32
	mux.HandleFunc(p("/deployments/d/kibana/k/_upgrade"), func(w http.ResponseWriter, r *http.Request) {
		real.Add(1)
		writeJSON(w, http.StatusAccepted, `{}`)
	})
	mux.HandleFunc(p("/deployments/_search"), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srvURL+p("/deployments/d/kibana/k/_upgrade"), http.StatusTemporaryRedirect)
	})
	_, _, err := c.Deployments.Search(context.Background(), &SearchRequest{Size: 10})
	require.ErrorIs(t, err, ErrRealUpgradeRefused)
	assert.Zero(t, real.Load())
}
