package eceapi

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUpgradeDryRun_Kinds(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"kibana", "apm", "appsearch", "enterprise_search", "integrations_server"}, StatelessKinds, "the spec's stateless_resource_kind enum")
	for _, kind := range StatelessKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var got *http.Request
			mux.HandleFunc(p("/deployments/"+depID+"/"+kind+"/main-"+kind+"/_upgrade"), func(w http.ResponseWriter, r *http.Request) {
				got = r
				writeJSON(w, http.StatusAccepted, `{"resource_id":"r","stack_version":"8.15.1"}`)
			})
			v, resp, err := c.Deployments.UpgradeDryRun(context.Background(), depID, kind, "main-"+kind)
			require.NoError(t, err)
			assert.Equal(t, "8.15.1", v.StackVersion)
			assert.Equal(t, http.StatusAccepted, resp.StatusCode)
			require.NotNil(t, got)
			assert.Equal(t, http.MethodPost, got.Method)
			assert.Equal(t, url.Values{"validate_only": {"true"}}, got.URL.Query())
		})
	}
	t.Run("other kinds are refused before sending", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		var hits atomic.Int32
		mux.HandleFunc("/", counter(&hits, func(w http.ResponseWriter, r *http.Request) {}))
		for _, kind := range []string{"elasticsearch", "Kibana", "KIBANA", "kibana ", "", "../kibana", "kibana/x", "kibana?validate_only=false", "enterprise-search", "integrations-server", "observability"} {
			_, _, err := c.Deployments.UpgradeDryRun(context.Background(), depID, kind, "main-kibana")
			assert.ErrorIs(t, err, ErrInvalidKind, "%q", kind)
			assert.False(t, IsStatelessKind(kind), kind)
		}
		assert.Zero(t, hits.Load())
	})
}

// TestUpgradeGuard calls the unexported do directly: whatever builds the
// request, an _upgrade without validate_only=true never leaves the client.
func TestUpgradeGuard(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", counter(&hits, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusAccepted, `{}`) }))
	for _, tc := range []struct {
		name  string
		path  string
		query url.Values
	}{
		{"no query", "deployments/d/kibana/k/_upgrade", nil},
		{"false", "deployments/d/kibana/k/_upgrade", url.Values{"validate_only": {"false"}}},
		{"upper case TRUE", "deployments/d/kibana/k/_upgrade", url.Values{"validate_only": {"TRUE"}}},
		{"1", "deployments/d/kibana/k/_upgrade", url.Values{"validate_only": {"1"}}},
		{"empty", "deployments/d/kibana/k/_upgrade", url.Values{"validate_only": {""}}},
		{"true and false", "deployments/d/kibana/k/_upgrade", url.Values{"validate_only": {"true", "false"}}},
		{"other parameter only", "deployments/d/kibana/k/_upgrade", url.Values{"validate": {"true"}}},
		{"elasticsearch", "deployments/d/elasticsearch/main-elasticsearch/_upgrade", nil},
		{"trailing slash", "deployments/d/kibana/k/_upgrade/", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, retry := range []bool{false, true} {
				for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodGet} {
					req, err := c.newRequest(context.Background(), "upgrade-deployment-stateless-resource", method, tc.path, tc.query, nil)
					require.NoError(t, err)
					_, err = c.do(req, nil, retry)
					assert.ErrorIs(t, err, ErrRealUpgradeRefused, "%s retry=%v", method, retry)
				}
			}
		})
	}
	assert.Zero(t, hits.Load(), "nothing was sent")

	req, err := c.newRequest(context.Background(), "upgrade-deployment-stateless-resource", http.MethodPost, "deployments/d/kibana/k/_upgrade", url.Values{"validate_only": {"true"}}, nil)
	require.NoError(t, err)
	_, err = c.do(req, nil, false)
	require.NoError(t, err, "the dry run itself passes the guard")
	assert.Equal(t, int32(1), hits.Load())
}

// TestUpgradeGuard_Redirect: a 307/308 keeps the method and the body; a
// redirect to the same path without validate_only must not become a real
// upgrade.
func TestUpgradeGuard_Redirect(t *testing.T) {
	t.Parallel()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			c, mux, srvURL := setup(t)
			var real atomic.Int32
			path := p("/deployments/d/kibana/k/_upgrade")
			mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("validate_only") != "true" {
					real.Add(1)
					writeJSON(w, http.StatusAccepted, `{"resource_id":"r","stack_version":"9.0.0"}`)
					return
				}
				http.Redirect(w, r, srvURL+path, code)
			})
			_, _, err := c.Deployments.UpgradeDryRun(context.Background(), "d", "kibana", "k")
			require.ErrorIs(t, err, ErrRealUpgradeRefused)
			assert.Zero(t, real.Load(), "no real upgrade reached the server")
		})
	}
}

// TestUpgradeDryRun_EmptyAnswer: the API may accept the dry run with 202
// and an empty body, a body of only whitespace, or {}: no version
// reported, not a decode error, and the call is observed as a success (no
// Observation.Err, so no failure counted). Bodies that are there but
// broken still are errors, observed as such.
func TestUpgradeDryRun_EmptyAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		body    string
		chunked bool // no Content-Length
		wantErr bool
	}{
		{"empty", "", false, false},
		{"empty, chunked", "", true, false},
		{"empty object", "{}", false, false},
		{"resource id only", `{"resource_id":"r"}`, false, false},
		{"newline", "\n", false, false},
		{"whitespace", " \r\n", false, false},
		{"whitespace, chunked", "  \n\t", true, false},
		{"truncated", `{"resource_id"`, false, true},
		{"null", "null", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var obs observations
			c, mux, _ := setup(t, obs.option())
			mux.HandleFunc(p("/deployments/"+depID+"/kibana/main-kibana/_upgrade"), func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, url.Values{"validate_only": {"true"}}, r.URL.Query())
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusAccepted)
				if tc.chunked {
					w.(http.Flusher).Flush()
				}
				_, _ = w.Write([]byte(tc.body))
			})
			v, resp, err := c.Deployments.UpgradeDryRun(context.Background(), depID, "kibana", "main-kibana")
			seen := obs.get()
			require.Len(t, seen, 1)
			if tc.wantErr {
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				assert.Nil(t, v)
				assert.ErrorAs(t, seen[0].Err, &de, "a broken body is observed as a failed call")
				return
			}
			require.NoError(t, err)
			assert.NoError(t, seen[0].Err, "an accepted answer is not observed as a failed call")
			require.NotNil(t, v)
			assert.Equal(t, http.StatusAccepted, resp.StatusCode)
			assert.False(t, v.VersionReported())
			assert.Empty(t, v.StackVersion)
		})
	}
	var none *DeploymentResourceUpgradeResponse
	assert.False(t, none.VersionReported())
	assert.True(t, (&DeploymentResourceUpgradeResponse{StackVersion: "8.15.1"}).VersionReported())
}
