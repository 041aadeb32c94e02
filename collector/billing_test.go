package collector

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// sumFamily sums the values of a family, optionally only series with label=value.
func sumFamily(t *testing.T, s *Snapshot, name string, label, value string) float64 {
	t.Helper()
	var sum float64
	for _, m := range samples(s) {
		if m.name != name {
			continue
		}
		pb := metricPB(t, m)
		ok := label == ""
		for _, lp := range pb.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				ok = true
			}
		}
		if ok {
			sum += pb.GetGauge().GetValue()
		}
	}
	return sum
}

func TestBillingAgainstSimulator(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 11, Organizations: 2, DeploymentsPerOrg: 5})
	discover(t, env)
	src, err := newBillingSource(env)
	require.NoError(t, err)
	sim.ResetCounts()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	require.Empty(t, snap.Partial)

	// Calls: organizations discovered once, then per organization the
	// overview and the per-deployment totals of this month and (first poll
	// only) of the closed previous month, and one items call per deployment.
	assert.Equal(t, map[string]int{
		"list-organizations": 1, "get-costs-overview": 4, "get-costs-deployments": 4, "get-costs-items-by-deployment": 10,
	}, sim.RequestCounts())

	fams := familyNames(t, snap)
	assert.Equal(t, 2, fams["ece_billing_organization_cost_ecu"])
	assert.Equal(t, 10, fams["ece_billing_deployment_cost_ecu"])
	assert.Equal(t, 2, fams["ece_billing_window_start_timestamp_seconds"])
	assert.Equal(t, float64(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Unix())*2, sumFamily(t, snap, "ece_billing_window_start_timestamp_seconds", "", ""))
	require.NoError(t, lintSnapshot(snap))

	// The simulator's costs are consistent; so must the exported figures be.
	for _, org := range sim.OrganizationIDs() {
		orgCost := sumFamily(t, snap, "ece_billing_organization_cost_ecu", "organization_id", org)
		depCost := sumFamily(t, snap, "ece_billing_deployment_cost_ecu", "organization_id", org)
		assert.InDelta(t, orgCost, depCost, 0.01, "organization %s", org)
		assert.Positive(t, orgCost)
	}
	for _, d := range sim.Deployments() {
		dep := sumFamily(t, snap, "ece_billing_deployment_cost_ecu", "deployment_id", d.ID)
		items := sumFamily(t, snap, "ece_billing_item_cost_ecu", "deployment_id", d.ID) + sumFamily(t, snap, "ece_billing_dts_cost_ecu", "deployment_id", d.ID)
		assert.InDelta(t, dep, items, 0.01, "deployment %s", d.ID)
	}

	// A second poll reuses the discovered organizations and the closed month.
	sim.ResetCounts()
	_, err = src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, sim.Requests("list-organizations"))
	assert.Equal(t, 2, sim.Requests("get-costs-overview"))
	assert.Equal(t, 2, sim.Requests("get-costs-deployments"))
}

func TestBillingItemsOff(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 12, DeploymentsPerOrg: 4})
	env.Options = withOptions(billingName, func(o *BillingOptions) { o.Items = false })
	discover(t, env)
	src, _ := newBillingSource(env)
	sim.ResetCounts()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, sim.Requests("get-costs-items-by-deployment"))
	assert.Zero(t, familyNames(t, snap)["ece_billing_item_cost_ecu"])
}

func TestBillingFixtureAggregatesItems(t *testing.T) {
	t.Parallel()
	env, _ := fixtureEnv(t, map[string]string{
		"/api/v1/deployments":   `{"deployments":[{"id":"d1","name":"one","resources":[]}]}`,
		"/api/v1/organizations": `{"organizations":[{"id":"o1","name":"org"}]}`,
		"/api/v1/billing/costs/o1": `{"costs":{"total":30.5,"dimensions":[{"type":"capacity","cost":30},{"type":"data_out","cost":0.5}]},
			"trials":0,"hourly_rate":0.4}`,
		"/api/v1/billing/costs/o1/deployments": `{"total_cost":30.5,"deployments":[{"deployment_id":"d1","deployment_name":"one","hourly_rate":0.4,
			"costs":{"total":30.5,"dimensions":[{"type":"capacity","cost":30},{"type":"data_out","cost":0.5}]}}]}`,
		"/api/v1/billing/costs/o1/deployments/d1/items": `{"costs":{"total":30.5,"dimensions":[]},
			"resources":[
			 {"hours":10.5,"instance_count":1,"period":{"start":"2026-11-01T00:00:00Z","end":"2026-11-05T00:00:00Z"},"kind":"elasticsearch","price":10,"price_per_hour":1,"name":"a","sku":"es.sku"},
			 {"hours":20,"instance_count":2,"period":{"start":"2026-11-05T00:00:00Z","end":"2026-11-18T00:00:00Z"},"kind":"elasticsearch","price":20,"price_per_hour":2,"name":"b","sku":"es.sku"}],
			"data_transfer_and_storage":[{"cost":0.5,"name":"out","quantity":{"value":8.25,"formatted_value":"8.25 GB"},"rate":{"value":0.06,"formatted_value":"0.06 per GB"},"sku":"dts.out","type":"data_out"}]}`,
	})
	discover(t, env)
	src, _ := newBillingSource(env)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	want := `
# HELP ece_billing_item_cost_ecu Itemized resource costs of the current month by kind and SKU, in ECU. Cached; refreshed by collector billing.
# TYPE ece_billing_item_cost_ecu gauge
ece_billing_item_cost_ecu{account="test",deployment_id="d1",kind="elasticsearch",organization_id="o1",sku="es.sku"} 30
# HELP ece_billing_item_instances Number of instances of the itemized resource. Cached; refreshed by collector billing.
# TYPE ece_billing_item_instances gauge
ece_billing_item_instances{account="test",deployment_id="d1",kind="elasticsearch",organization_id="o1",sku="es.sku"} 2
# HELP ece_billing_item_usage_seconds Itemized resource usage of the current month (the API's hours, converted to the base unit seconds). Cached; refreshed by collector billing.
# TYPE ece_billing_item_usage_seconds gauge
ece_billing_item_usage_seconds{account="test",deployment_id="d1",kind="elasticsearch",organization_id="o1",sku="es.sku"} 109800
# HELP ece_billing_dts_quantity Data transfer and storage usage of the current month in the SKU's unit (raw quantity). Cached; refreshed by collector billing.
# TYPE ece_billing_dts_quantity gauge
ece_billing_dts_quantity{account="test",deployment_id="d1",organization_id="o1",sku="dts.out"} 8.25
# HELP ece_billing_organization_dimension_cost_ecu Organization costs of the current month by billing dimension, in ECU. Cached; refreshed by collector billing.
# TYPE ece_billing_organization_dimension_cost_ecu gauge
ece_billing_organization_dimension_cost_ecu{account="test",dimension="capacity",organization_id="o1"} 30
ece_billing_organization_dimension_cost_ecu{account="test",dimension="data_out",organization_id="o1"} 0.5
`
	require.NoError(t, testutil.GatherAndCompare(snapGatherer(snap), stringsReader(want),
		"ece_billing_item_cost_ecu", "ece_billing_item_instances", "ece_billing_item_usage_seconds", "ece_billing_dts_quantity", "ece_billing_organization_dimension_cost_ecu"))
	fams := familyNames(t, snap)
	assert.Zero(t, fams["ece_billing_organization_balance_available_ecu"], "no balance in the answer, no balance series")
}

func TestBillingMonthBoundaryClosesPreviousMonth(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sim, env := simEnv(t, ecesim.Options{Seed: 13, DeploymentsPerOrg: 3, Now: clock})
	env.Now = clock
	env.orgs.now = clock
	discover(t, env)
	src, _ := newBillingSource(env)
	_, err := src.Poll(context.Background())
	require.NoError(t, err)

	mu.Lock()
	now = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	mu.Unlock()
	sim.ResetCounts()
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, sim.Requests("get-costs-overview"), "current month + the closing of November")
	assert.Equal(t, 2, sim.Requests("get-costs-deployments"))
	prev := sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", "")
	assert.Positive(t, prev)
	assert.InDelta(t, prev, sumFamily(t, snap, "ece_billing_deployment_previous_month_cost_ecu", "", ""), 0.01)
	assert.Equal(t, float64(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Unix()), sumFamily(t, snap, "ece_billing_window_start_timestamp_seconds", "", ""))

	// The third poll, still in the first 48 hours of December, fetches
	// November again (Elastic's billing data arrives late).
	sim.ResetCounts()
	snap, err = src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, sim.Requests("get-costs-overview"))
	assert.Equal(t, prev, sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", ""))

	// After 48 hours it does not fetch November again but keeps exposing it.
	mu.Lock()
	now = time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC)
	mu.Unlock()
	sim.ResetCounts()
	snap, err = src.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, sim.Requests("get-costs-overview"))
	assert.Equal(t, prev, sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", ""))
}

func TestBillingOnECEIsAConfigurationErrorLoggedOnce(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 14, DeploymentsPerOrg: 2})
	env.Account.OrganizationIDs = []string{"1"}
	var logs bytes.Buffer
	env.Logger = log.NewLogfmtLogger(log.NewSyncWriter(&logs))
	discover(t, env)
	src, _ := newBillingSource(env)
	_, err := src.Poll(context.Background())
	require.Error(t, err)
	assert.Equal(t, ReasonConfig, Reason(err))
	assert.Contains(t, err.Error(), "unavailable in self-hosted ECE")
	sim.ResetCounts()
	_, err = src.Poll(context.Background())
	require.Error(t, err)
	assert.Equal(t, 0, sim.TotalRequests(), "no crash loop: the API is not asked again")
	assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("configuration error")))

	ok, why := essOnly(env.Account)
	assert.False(t, ok)
	assert.Contains(t, why, "self-hosted ECE")
}

func TestMonthWindowNeverBeforeEarliest(t *testing.T) {
	t.Parallel()
	from, _ := monthWindow(time.Date(2020, 6, 15, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), from)
	from, _ = chartWindow(time.Date(2021, 1, 1, 5, 0, 0, 0, time.UTC), "daily")
	assert.Equal(t, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), from)
}

// TestOrganizationDiscovery: configured ids are used as they are; else GET
// /organizations; when that fails or lists nothing, the account id from GET
// /account. The discovered list is cached for orgRefresh.
func TestOrganizationDiscovery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		configured []string
		fault      *ecesim.Fault // on list-organizations
		accountErr bool
		wantOrgs   func(sim *ecesim.Server) []string
		wantErr    string
	}{
		{name: "configured", configured: []string{"42"}, wantOrgs: func(*ecesim.Server) []string { return []string{"42"} }},
		{name: "listed", wantOrgs: func(sim *ecesim.Server) []string { return sim.OrganizationIDs() }},
		{name: "organizations forbidden: account id", fault: &ecesim.Fault{Status: 403},
			wantOrgs: func(sim *ecesim.Server) []string { return sim.OrganizationIDs()[:1] }},
		{name: "organizations empty: account id", fault: &ecesim.Fault{Body: []byte(`{"organizations":[]}`)},
			wantOrgs: func(sim *ecesim.Server) []string { return sim.OrganizationIDs()[:1] }},
		{name: "both fail", fault: &ecesim.Fault{Status: 500}, accountErr: true, wantErr: "discover organizations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, env := simEnv(t, ecesim.Options{Seed: 17, Organizations: 2, DeploymentsPerOrg: 1})
			if tc.fault != nil {
				sim.SetFault("list-organizations", *tc.fault)
			}
			if tc.accountErr {
				sim.SetFault("get-current-account", ecesim.Fault{Status: 500})
			}
			env.orgs.account.OrganizationIDs = tc.configured
			ids, err := env.orgs.get(context.Background())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantOrgs(sim), ids)
			// Cached: a second call sends nothing.
			before := sim.TotalRequests()
			_, err = env.orgs.get(context.Background())
			require.NoError(t, err)
			assert.Equal(t, before, sim.TotalRequests())
		})
	}
}

// TestPerDeploymentConcurrencyIsBounded: item, remote-cluster and upgrade
// calls never have more requests in flight than the collector's
// concurrency setting.
func TestPerDeploymentConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		collector string
		new       func(Env) (Source, error)
		set       func(int) config.CollectorOptions
	}{
		{billingName, newBillingSource, func(n int) config.CollectorOptions {
			return withOptions(billingName, func(o *BillingOptions) { o.Concurrency = n })
		}},
		{remoteClustersName, newRemoteClustersSource, func(n int) config.CollectorOptions {
			return withOptions(remoteClustersName, func(o *RemoteClustersOptions) { o.Concurrency = n })
		}},
		{upgradesName, newUpgradesSource, func(n int) config.CollectorOptions {
			return withOptions(upgradesName, func(o *UpgradesOptions) { o.Concurrency = n })
		}},
	} {
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/%d", tc.collector, n), func(t *testing.T) {
				t.Parallel()
				sim, env := simEnv(t, ecesim.Options{Seed: 18, DeploymentsPerOrg: 12, RemoteClustersPerES: 1})
				discover(t, env)
				env.Options = tc.set(n)
				src, err := tc.new(env)
				require.NoError(t, err)
				// Slow answers so that requests overlap when allowed to.
				sim.SetFault("*", ecesim.Fault{Latency: 15 * time.Millisecond})
				sim.ResetCounts()
				_, err = src.Poll(context.Background())
				require.NoError(t, err)
				assert.LessOrEqual(t, sim.MaxInFlight(), n)
				if n > 1 {
					assert.Greater(t, sim.MaxInFlight(), 1, "the requests do overlap")
				}
			})
		}
	}
}
