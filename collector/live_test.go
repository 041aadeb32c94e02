package collector

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// The collectors against the answers of Elastic's live API that the specs
// do not show, as the simulator serves them (issue 13).

// TestRemoteClustersEveryRefID: ECE installs name Elasticsearch
// "elasticsearch", users name it as they like; remote clusters are
// exported for each, labelled with the resource's own ref_id.
func TestRemoteClustersEveryRefID(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 21, DeploymentsPerOrg: 5})
	discover(t, env)
	src, err := newRemoteClustersSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Empty(t, snap.Partial)
	refs := map[string]int{}
	remoteRefs := map[string]bool{}
	for _, l := range labelSets(t, snap, "ece_remote_cluster_skip_unavailable") {
		refs[l["ref_id"]]++
		remoteRefs[l["remote_ref_id"]] = true
	}
	assert.Equal(t, map[string]int{"elasticsearch": 8, "security-elasticsearch": 2}, refs, "two remotes for each of the five")
	assert.Equal(t, map[string]bool{"elasticsearch": true, "security-elasticsearch": true}, remoteRefs)
	assert.Equal(t, 5, sim.Requests("get-deployment-es-resource-remote-clusters"))
}

// TestBillingResizedResource: a resize during the month gives one resource
// two items with different SKUs; both are exported as separate series,
// with their fractional hours, and no cost is lost.
func TestBillingResizedResource(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 22, DeploymentsPerOrg: 3})
	discover(t, env)
	src, err := newBillingSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	require.Empty(t, snap.Partial)
	require.NoError(t, lintSnapshot(snap))
	d := sim.Deployments()[1] // resized this month
	var skus []string
	for _, l := range labelSets(t, snap, "ece_billing_item_cost_ecu") {
		if l["deployment_id"] == d.ID && l["kind"] == "elasticsearch" {
			skus = append(skus, l["sku"])
		}
	}
	require.Len(t, skus, 2, "one series per SKU")
	assert.NotEqual(t, skus[0], skus[1])
	var shares float64
	for _, sku := range skus {
		assert.Regexp(t, `^[a-z]+\.es\.datahot\.[a-z0-9]+_[a-z0-9-]+_\d+_\d$`, sku)
		secs := seriesValue(t, snap, "ece_billing_item_usage_seconds", map[string]string{"deployment_id": d.ID, "sku": sku})
		share := math.Mod(secs, 3600)
		assert.Positive(t, share, "%s: a share of the hour of the resize", sku)
		assert.NotEqual(t, math.Trunc(secs), secs, "%s: fractional seconds as the API's fractional hours give", sku)
		shares += share
	}
	assert.Equal(t, 3600.0, shares, "the two shares make the hour of the resize")
	dep := sumFamily(t, snap, "ece_billing_deployment_cost_ecu", "deployment_id", d.ID)
	items := sumFamily(t, snap, "ece_billing_item_cost_ecu", "deployment_id", d.ID) + sumFamily(t, snap, "ece_billing_dts_cost_ecu", "deployment_id", d.ID)
	assert.InDelta(t, dep, items, 1e-6, "no cost lost")
	fractional := 0
	for _, l := range labelSets(t, snap, "ece_billing_dts_quantity") {
		q := seriesValue(t, snap, "ece_billing_dts_quantity", l)
		if q != math.Trunc(q) {
			fractional++
		}
	}
	assert.Positive(t, fractional, "fractional DTS quantities exported as they are")
}

// TestBillingNullLists: "deployments": null and the like read as empty.
func TestBillingNullLists(t *testing.T) {
	t.Parallel()
	_, env := simEnv(t, ecesim.Options{Seed: 23, DeploymentsPerOrg: -1})
	discover(t, env)
	src, err := newBillingSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Empty(t, snap.Partial)
	fams := familyNames(t, snap)
	assert.Equal(t, 1, fams["ece_billing_organization_cost_ecu"])
	assert.Equal(t, 6, fams["ece_billing_organization_dimension_cost_ecu"], "all six dimensions")
	assert.Zero(t, fams["ece_billing_deployment_cost_ecu"])
}

// TestBillingTextPlainForbidden: ESS refuses billing to a key without the
// role with a text/plain 403 and no error code; that is an auth failure.
func TestBillingTextPlainForbidden(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 24, DeploymentsPerOrg: 2, BillingForbidden: true})
	discover(t, env)
	src, err := newBillingSource(env)
	require.NoError(t, err)
	_, err = src.Poll(context.Background())
	require.Error(t, err)
	assert.Equal(t, ReasonAuth, Reason(err))
	assert.Contains(t, err.Error(), "billing-costs:get:"+sim.OrganizationIDs()[0])
}

// seriesValue returns the value of the one series of a family whose labels
// include want.
func seriesValue(t *testing.T, s *Snapshot, name string, want map[string]string) float64 {
	t.Helper()
	var found []float64
	for _, m := range samples(s) {
		pb := metricPB(t, m)
		if !familyIs(m, name) {
			continue
		}
		l := map[string]string{}
		for _, lp := range pb.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		ok := true
		for k, v := range want {
			ok = ok && l[k] == v
		}
		if ok {
			found = append(found, pb.GetGauge().GetValue())
		}
	}
	require.Len(t, found, 1, "%s%v: "+strconv.Itoa(len(found))+" series", name, want)
	return found[0]
}

// TestNullListsEverywhere: null in place of any list is an empty list for
// every collector, not a failure.
func TestNullListsEverywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		bodies map[string]string
		newSrc func(Env) (Source, error)
		family string
		want   float64
	}{
		{"deployments", map[string]string{"/api/v1/deployments": `{"deployments":null}`}, newDeploymentsSource, "", 0},
		{"deployment resources", map[string]string{"/api/v1/deployments": `{"deployments":[{"id":"d1","name":"n","resources":null}]}`}, newDeploymentsSource, "ece_deployment_info", 1},
		{"remote clusters", map[string]string{
			"/api/v1/deployments": `{"deployments":[{"id":"d1","name":"n","resources":[{"ref_id":"elasticsearch","id":"r","kind":"elasticsearch","region":"ece-region"}]}]}`,
			"/api/v1/deployments/d1/elasticsearch/elasticsearch/remote-clusters": `{"resources":null}`,
		}, newRemoteClustersSource, "ece_remote_cluster_skip_unavailable", 0},
		{"api keys", map[string]string{"/api/v1/users/auth/keys": `{"keys":null}`}, newAPIKeysSource, "ece_api_keys", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, _ := fixtureEnv(t, tc.bodies)
			if tc.name == "remote clusters" {
				discover(t, env)
			}
			src, err := tc.newSrc(env)
			require.NoError(t, err)
			snap, err := src.Poll(context.Background())
			require.NoError(t, err)
			assert.Empty(t, snap.Partial)
			if tc.family != "" {
				assert.Equal(t, int(tc.want), familyNames(t, snap)[tc.family])
			}
			require.NoError(t, lintSnapshot(snap))
		})
	}
}
