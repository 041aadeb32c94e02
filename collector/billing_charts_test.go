package collector

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func TestBillingChartsAgainstSimulator(t *testing.T) {
	t.Parallel()
	for _, millis := range []bool{false, true} {
		sim, env := simEnv(t, ecesim.Options{Seed: 21, DeploymentsPerOrg: 4, ChartTimestampsMillis: millis})
		discover(t, env)
		src, err := newBillingChartsSource(env)
		require.NoError(t, err)
		sim.ResetCounts()
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"list-organizations": 1, "get-costs-charts": 1}, sim.RequestCounts())
		fams := familyNames(t, snap)
		assert.Equal(t, 8, fams["ece_billing_chart_cost_ecu"], "4 deployments × current and previous")
		assert.Equal(t, float64(time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC).Unix()), sumFamily(t, snap, "ece_billing_chart_bucket_start_timestamp_seconds", "bucket", "current"), "millis=%v", millis)
		assert.Equal(t, float64(time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC).Unix()), sumFamily(t, snap, "ece_billing_chart_bucket_start_timestamp_seconds", "bucket", "previous"))
		assert.Greater(t, sumFamily(t, snap, "ece_billing_chart_cost_ecu", "bucket", "previous"), sumFamily(t, snap, "ece_billing_chart_cost_ecu", "bucket", "current"), "a whole day costs more than 13.5 hours")
		require.NoError(t, lintSnapshot(snap))
	}
}

func TestBillingChartsPerDeployment(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 22, DeploymentsPerOrg: 3})
	env.Options = withOptions(billingChartsName, func(o *BillingChartsOptions) { o.PerDeployment = true })
	discover(t, env)
	src, _ := newBillingChartsSource(env)
	sim.ResetCounts()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, sim.Requests("get-costs-charts-by-deployment"))
	for _, d := range sim.Deployments() {
		assert.Positive(t, countLabel(t, snap, "deployment_id", d.ID))
	}
}

func TestBillingChartsFixtureMonthly(t *testing.T) {
	t.Parallel()
	env, _ := fixtureEnv(t, map[string]string{
		"/api/v1/organizations": `{"organizations":[{"id":"o1","name":"org"}]}`,
		// Out of order, in milliseconds, with a bucket in the future that is ignored.
		"/api/v1/billing/costs/o1/charts": `{"data":[
			{"timestamp":1793491200000,"values":[{"id":"d1","name":"one","value":100},{"id":"d2","name":"two","value":50}]},
			{"timestamp":1796083200000,"values":[{"id":"d1","name":"one","value":999}]},
			{"timestamp":1790812800000,"values":[{"id":"d1","name":"one","value":90}]}]}`,
	})
	env.Options = withOptions(billingChartsName, func(o *BillingChartsOptions) { o.Bucketing = "monthly" })
	src, _ := newBillingChartsSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	want := `
# HELP ece_billing_chart_cost_ecu Cost of one chart series in the current (partial) or previous (complete) bucket, in ECU; deployment_id is empty for the organization chart, where series_id is a deployment id. Cached; refreshed by collector billing_charts.
# TYPE ece_billing_chart_cost_ecu gauge
ece_billing_chart_cost_ecu{account="test",bucket="current",deployment_id="",organization_id="o1",series_id="d1"} 100
ece_billing_chart_cost_ecu{account="test",bucket="current",deployment_id="",organization_id="o1",series_id="d2"} 50
ece_billing_chart_cost_ecu{account="test",bucket="previous",deployment_id="",organization_id="o1",series_id="d1"} 90
# HELP ece_billing_chart_bucket_start_timestamp_seconds Start of the current or previous chart bucket. Cached; refreshed by collector billing_charts.
# TYPE ece_billing_chart_bucket_start_timestamp_seconds gauge
ece_billing_chart_bucket_start_timestamp_seconds{account="test",bucket="current",deployment_id="",organization_id="o1"} 1.7934912e+09
ece_billing_chart_bucket_start_timestamp_seconds{account="test",bucket="previous",deployment_id="",organization_id="o1"} 1.7908128e+09
`
	require.NoError(t, testutil.GatherAndCompare(snapGatherer(snap), stringsReader(want)))
}

// TestBillingChartsPerDeploymentWithoutDiscovery: the per-deployment
// charts are those of the organization chart's series (a deployment
// deleted this month included), filtered on the id and the chart's name,
// sharded by the id hash; the deployments discovery is never consulted.
func TestBillingChartsPerDeploymentWithoutDiscovery(t *testing.T) {
	t.Parallel()
	chart := `{"data":[{"timestamp":1794960000,"values":[{"id":"d-live","name":"web-prod","value":3},{"id":"d-gone","name":"old-search","value":2},{"id":"d-test","name":"web-staging","value":1}]}]}`
	for _, tc := range []struct {
		name    string
		filter  config.DeploymentFilter
		sharder Sharder
		want    []string
	}{
		{name: "all, deleted one included", want: []string{"d-gone", "d-live", "d-test"}},
		{name: "exclude by chart name", filter: config.DeploymentFilter{Exclude: []string{"web-.*"}}, want: []string{"d-gone"}},
		{name: "shard 1 of 2", sharder: HashSharder{Shard: 1, TotalShards: 2}, want: []string{"d-gone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bodies := map[string]string{
				"/api/v1/organizations":           `{"organizations":[{"id":"o1","name":"org"}]}`,
				"/api/v1/billing/costs/o1/charts": chart,
			}
			for _, id := range []string{"d-live", "d-gone", "d-test"} {
				bodies["/api/v1/billing/costs/o1/deployments/"+id+"/charts"] = `{"data":[{"timestamp":1794960000,"values":[{"id":"capacity","name":"Capacity","value":1}]}]}`
			}
			env, _ := fixtureEnv(t, bodies)
			env.Options = withOptions(billingChartsName, func(o *BillingChartsOptions) { o.PerDeployment = true })
			env.Account.Deployments = tc.filter
			if tc.sharder != nil {
				env.Sharder = tc.sharder
			}
			src, err := newBillingChartsSource(env)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			snap, err := src.Poll(ctx)
			require.NoError(t, err)
			require.Empty(t, snap.Partial)
			var got []string
			for _, id := range []string{"d-gone", "d-live", "d-test"} {
				if countLabel(t, snap, "deployment_id", id) > 0 {
					got = append(got, id)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestBillingChartsOrganizationChartFiltered: the organization chart's
// series are deployments, so include/exclude apply to them (on the id and
// on the name the chart gives, in either bucket) as to every other
// per-deployment series; they are not sharded (the organization's shard
// exports them, like billing's per-deployment costs).
func TestBillingChartsOrganizationChartFiltered(t *testing.T) {
	t.Parallel()
	// The name of d-test is given only in the previous bucket.
	chart := `{"data":[
		{"timestamp":1794873600,"values":[{"id":"d-live","name":"web-prod","value":30},{"id":"d-gone","name":"old-search","value":20},{"id":"d-test","name":"web-staging","value":10}]},
		{"timestamp":1794960000,"values":[{"id":"d-live","name":"web-prod","value":3},{"id":"d-gone","name":"old-search","value":2},{"id":"d-test","value":1}]}]}`
	for _, tc := range []struct {
		name    string
		filter  config.DeploymentFilter
		sharder Sharder
		want    []string
	}{
		{name: "no filter", want: []string{"d-gone", "d-live", "d-test"}},
		{name: "exclude by name", filter: config.DeploymentFilter{Exclude: []string{"web-.*"}}, want: []string{"d-gone"}},
		{name: "exclude by id", filter: config.DeploymentFilter{Exclude: []string{"d-gone"}}, want: []string{"d-live", "d-test"}},
		{name: "include by name", filter: config.DeploymentFilter{Include: []string{"web-staging"}}, want: []string{"d-test"}},
		{name: "shard 0 of 2 owns the organization: every series", sharder: HashSharder{Shard: 0, TotalShards: 2}, want: []string{"d-gone", "d-live", "d-test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, _ := fixtureEnv(t, map[string]string{
				"/api/v1/organizations":           `{"organizations":[{"id":"o1","name":"org"}]}`,
				"/api/v1/billing/costs/o1/charts": chart,
			})
			env.Account.Deployments = tc.filter
			if tc.sharder != nil {
				env.Sharder = tc.sharder
				require.True(t, tc.sharder.OwnsOrganization())
			}
			src, err := newBillingChartsSource(env)
			require.NoError(t, err)
			snap, err := src.Poll(context.Background())
			require.NoError(t, err)
			var got []string
			for _, id := range []string{"d-gone", "d-live", "d-test"} {
				n := countLabel(t, snap, "series_id", id)
				if n > 0 {
					assert.Equal(t, 2, n, "%s: current and previous", id)
					got = append(got, id)
				}
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, 2*len(tc.want), familyNames(t, snap)["ece_billing_chart_cost_ecu"])
			assert.Equal(t, 2, familyNames(t, snap)["ece_billing_chart_bucket_start_timestamp_seconds"])
		})
	}
}
