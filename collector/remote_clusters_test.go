package collector

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func TestRemoteClusters(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 1, DeploymentsPerOrg: 8, RemoteClustersPerES: 3})
	discover(t, env)
	src, err := newRemoteClustersSource(env)
	require.NoError(t, err)
	sim.ResetCounts()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 8, sim.Requests("get-deployment-es-resource-remote-clusters"), "one call per Elasticsearch resource")

	fams := familyNames(t, snap)
	assert.Equal(t, 24, fams["ece_remote_cluster_skip_unavailable"], "every remote has skip_unavailable")
	missing := 24 - fams["ece_remote_cluster_healthy"]
	assert.Positive(t, missing, "the simulator mixes in remotes without info")
	for _, f := range []string{"connected", "compatible", "trusted", "trusted_back"} {
		assert.Equal(t, fams["ece_remote_cluster_healthy"], fams["ece_remote_cluster_"+f], f)
	}
	assert.Equal(t, 8, fams["ece_remote_cluster_info_missing"])
	require.NoError(t, lintSnapshot(snap))

	// Every kind of bad link is visible as a 0.
	zeros := map[string]bool{}
	for _, f := range []string{"healthy", "connected", "compatible", "trusted", "trusted_back"} {
		zeros[f] = countValue(t, snap, "ece_remote_cluster_"+f, 0) > 0
	}
	assert.Equal(t, map[string]bool{"healthy": true, "connected": true, "compatible": true, "trusted": true, "trusted_back": true}, zeros)
}

func TestRemoteClustersFixture(t *testing.T) {
	t.Parallel()
	env, _ := fixtureEnv(t, map[string]string{
		"/api/v1/deployments": `{"deployments":[{"id":"d1","name":"one","resources":[{"ref_id":"main-elasticsearch","id":"r1","kind":"elasticsearch","region":"x"}]}]}`,
		"/api/v1/deployments/d1/elasticsearch/main-elasticsearch/remote-clusters": `{"resources":[
			{"deployment_id":"d2","elasticsearch_ref_id":"es","alias":"ok","skip_unavailable":true,"info":{"healthy":true,"connected":true,"compatible":true,"trusted":true,"trusted_back":true}},
			{"deployment_id":"d3","elasticsearch_ref_id":"es","alias":"bad","info":{"healthy":false,"connected":false,"compatible":true,"trusted":true,"trusted_back":false}},
			{"deployment_id":"d4","elasticsearch_ref_id":"es","alias":"noinfo","new_field":1}]}`,
	})
	discover(t, env)
	src, err := newRemoteClustersSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	want := `
# HELP ece_remote_cluster_healthy Whether the remote cluster is healthy (1) or not (0). Cached; refreshed by collector remote_clusters.
# TYPE ece_remote_cluster_healthy gauge
ece_remote_cluster_healthy{account="test",alias="bad",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d3",remote_ref_id="es"} 0
ece_remote_cluster_healthy{account="test",alias="ok",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d2",remote_ref_id="es"} 1
# HELP ece_remote_cluster_info_missing Remote clusters of the resource for which the API returned no live state (info); no health flags are exposed for them. Cached; refreshed by collector remote_clusters.
# TYPE ece_remote_cluster_info_missing gauge
ece_remote_cluster_info_missing{account="test",deployment_id="d1",ref_id="main-elasticsearch"} 1
# HELP ece_remote_cluster_skip_unavailable Whether searches skip the remote cluster when it is unavailable (1) or fail (0). Cached; refreshed by collector remote_clusters.
# TYPE ece_remote_cluster_skip_unavailable gauge
ece_remote_cluster_skip_unavailable{account="test",alias="bad",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d3",remote_ref_id="es"} 0
ece_remote_cluster_skip_unavailable{account="test",alias="noinfo",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d4",remote_ref_id="es"} 0
ece_remote_cluster_skip_unavailable{account="test",alias="ok",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d2",remote_ref_id="es"} 1
# HELP ece_remote_cluster_trusted_back Whether the remote cluster trusts this cluster back (1) or not (0). Cached; refreshed by collector remote_clusters.
# TYPE ece_remote_cluster_trusted_back gauge
ece_remote_cluster_trusted_back{account="test",alias="bad",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d3",remote_ref_id="es"} 0
ece_remote_cluster_trusted_back{account="test",alias="ok",deployment_id="d1",ref_id="main-elasticsearch",remote_deployment_id="d2",remote_ref_id="es"} 1
`
	require.NoError(t, testutil.GatherAndCompare(snapGatherer(snap), stringsReader(want),
		"ece_remote_cluster_healthy", "ece_remote_cluster_info_missing", "ece_remote_cluster_skip_unavailable", "ece_remote_cluster_trusted_back"))
}

func TestRemoteClustersDeletedDeploymentIsNotAFailure(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 2, DeploymentsPerOrg: 3, RemoteClustersPerES: 1})
	discover(t, env)
	gone := sim.Deployments()[0].ID
	require.True(t, sim.DeleteDeployment(gone))
	src, _ := newRemoteClustersSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Empty(t, snap.Partial, "a 404 is not a failure")
	assert.Equal(t, 0, countLabel(t, snap, "deployment_id", gone), "the deleted deployment's series are gone")
	assert.Equal(t, 2, familyNames(t, snap)["ece_remote_cluster_info_missing"])
}

func TestRemoteClustersPartialFailure(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 3, DeploymentsPerOrg: 4, RemoteClustersPerES: 1})
	discover(t, env)
	sim.SetFault("get-deployment-es-resource-remote-clusters", ecesim.Fault{Status: 500, Times: 1})
	src, _ := newRemoteClustersSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err, "one failed deployment does not fail the poll")
	require.Len(t, snap.Partial, 1)
	assert.Equal(t, ReasonServer, Reason(snap.Partial[0]))
	assert.Equal(t, 3, familyNames(t, snap)["ece_remote_cluster_info_missing"])

	sim.SetFault("get-deployment-es-resource-remote-clusters", ecesim.Fault{Status: 503})
	_, err = src.Poll(context.Background())
	require.Error(t, err, "all deployments failing is a failed poll")
	assert.Equal(t, ReasonServer, Reason(err))
}
