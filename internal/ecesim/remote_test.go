package ecesim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRemoteClusterMix reads every remote cluster through the API and
// classifies it: mostly healthy, and each unhealthy kind present.
func TestRemoteClusterMix(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 61, DeploymentsPerOrg: 12})
	ids := map[string]bool{}
	for _, d := range s.Deployments() {
		ids[d.ID] = true
	}
	kinds := map[string]int{}
	skip := map[bool]int{}
	total := 0
	esRef := map[string]string{}
	for _, d := range s.Deployments() {
		esRef[d.ID] = d.Resources[0].RefID
	}
	for _, d := range s.Deployments() {
		a := get(t, base+"deployments/"+d.ID+"/elasticsearch/"+d.Resources[0].RefID+"/remote-clusters")
		require.Equal(t, 200, a.status)
		res := list(t, a.body, "resources")
		require.Len(t, res, 2)
		for _, r := range res {
			total++
			target := path(t, r, "deployment_id").(string)
			assert.True(t, ids[target], "remotes point at simulated deployments")
			assert.NotEqual(t, d.ID, target)
			assert.Equal(t, esRef[target], path(t, r, "elasticsearch_ref_id"), "the remote's own ref_id")
			assert.Regexp(t, `^[A-Za-z0-9_-]+$`, path(t, r, "alias"), "spec: letters, digits, dashes, underscores")
			skip[path(t, r, "skip_unavailable").(bool)]++
			info, ok := path(t, r, "info").(map[string]any)
			if !ok {
				assert.Nil(t, path(t, r, "info"))
				kinds["no info"]++
				continue
			}
			b := func(k string) bool { return info[k].(bool) }
			switch {
			case b("healthy") && b("connected") && b("compatible") && b("trusted") && b("trusted_back"):
				kinds["ok"]++
			case !b("connected"):
				assert.False(t, b("healthy"), "disconnected is unhealthy")
				kinds["disconnected"]++
			case !b("compatible"):
				kinds["incompatible"]++
			case !b("trusted"):
				kinds["untrusted"]++
			case !b("trusted_back"):
				kinds["not trusted back"]++
			case !b("healthy"):
				kinds["unhealthy"]++
			}
		}
	}
	assert.Equal(t, 24, total)
	assert.Equal(t, 18, kinds["ok"], "mostly all-true")
	for _, k := range []string{"unhealthy", "disconnected", "untrusted", "not trusted back", "no info", "incompatible"} {
		assert.Equal(t, 1, kinds[k], k)
	}
	assert.Positive(t, skip[true])
	assert.Positive(t, skip[false])

	// The default ten deployments already show every kind but incompatible.
	small, smallBase := start(t, Options{Seed: 62})
	seen := map[string]bool{}
	for _, d := range small.Deployments() {
		for _, r := range list(t, get(t, smallBase+"deployments/"+d.ID+"/elasticsearch/_main/remote-clusters").body, "resources") {
			info, ok := path(t, r, "info").(map[string]any)
			if !ok {
				seen["no info"] = true
				continue
			}
			for k, v := range info {
				if v == false {
					seen[k] = true
				}
			}
		}
	}
	for _, k := range []string{"no info", "healthy", "connected", "trusted", "trusted_back"} {
		assert.True(t, seen[k], "default mix includes %s", k)
	}

	_, none := start(t, Options{Seed: 63, RemoteClustersPerES: -1})
	dep := New(Options{Seed: 63, Now: fixedNow}).Deployments()[0].ID
	a := get(t, none+"deployments/"+dep+"/elasticsearch/main-elasticsearch/remote-clusters")
	assert.Equal(t, 200, a.status)
	assert.Empty(t, list(t, a.body, "resources"), "an empty list, not null")
}
