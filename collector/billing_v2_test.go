package collector

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// v2Env is simEnv with the account's billing on v2, its billing host the
// simulator (which serves v2 below /api/v2/ beside v1).
func v2Env(t *testing.T, o ecesim.Options) (*ecesim.Server, Env) {
	t.Helper()
	sim, env := simEnv(t, o)
	env.Account.Billing = config.Billing{API: config.BillingAPIV2, URL: env.Account.URL}
	client, err := eceapi.NewClient(eceapi.WithBaseURL(env.Account.URL), eceapi.WithBillingV2URL(env.Account.URL),
		eceapi.WithAPIKey("sim-api-key"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	env.Client = client
	env.orgs = &orgSource{account: env.Account, client: client, now: testNow}
	return sim, env
}

// seriesOf returns the series of the named families as sorted text lines
// (name, labels and value), for comparing two snapshots.
func seriesOf(t *testing.T, s *Snapshot, names ...string) []string {
	t.Helper()
	var out []string
	for _, m := range samples(s) {
		for _, n := range names {
			if m.name != n {
				continue
			}
			line := n
			for _, lp := range m.m.GetLabel() {
				line += " " + lp.GetName() + "=" + lp.GetValue()
			}
			out = append(out, line+" "+strconv.FormatFloat(m.m.GetGauge().GetValue(), 'g', -1, 64))
		}
	}
	sort.Strings(out)
	return out
}

// TestBillingV2AgainstSimulator: with billing v2, one costs/instances call
// per organization replaces the per-deployment item calls, the items are
// the ones v1 gives (same deployments, SKUs, costs, hours, prices; no
// instance count, which v2 lacks), the deployment totals and rates stay
// v1's, and serverless projects and organization-level services get
// ece_billing_instance_cost_ecu.
func TestBillingV2AgainstSimulator(t *testing.T) {
	t.Parallel()
	opts := ecesim.Options{Seed: 21, Organizations: 2, DeploymentsPerOrg: 6}
	sim1, env1 := simEnv(t, opts)
	sim2, env2 := v2Env(t, opts)

	v1, err := pollOnce(t, env1, newBillingSource)
	require.NoError(t, err)
	src2, err := newBillingSource(env2)
	require.NoError(t, err)
	sim2.ResetCounts()
	v2, err := src2.Poll(context.Background())
	require.NoError(t, err)
	require.Empty(t, v2.Partial)
	require.NoError(t, lintSnapshot(v2))

	assert.Equal(t, map[string]int{
		"list-organizations": 1, "get-costs-overview": 4, "get-costs-deployments": 4, "getCostsByInstancesV2": 2,
	}, sim2.RequestCounts(), "per organization: overview, listing, instances; the closed month (first poll) from v1")
	assert.Equal(t, 12, sim1.Requests("get-costs-items-by-deployment"), "v1 calls once per deployment")

	same := []string{
		"ece_billing_item_cost_ecu", "ece_billing_item_usage_seconds", "ece_billing_item_price_per_hour_ecu",
		"ece_billing_dts_cost_ecu", "ece_billing_dts_quantity", "ece_billing_dts_rate_ecu",
		"ece_billing_deployment_cost_ecu", "ece_billing_deployment_hourly_rate_ecu", "ece_billing_deployment_dimension_cost_ecu",
		"ece_billing_organization_cost_ecu", "ece_billing_line_item_balance_ecu",
	}
	want := seriesOf(t, v1, same...)
	require.NotEmpty(t, want)
	assert.Equal(t, want, seriesOf(t, v2, same...))
	assert.Positive(t, familyNames(t, v1)["ece_billing_item_instances"])
	assert.Zero(t, familyNames(t, v2)["ece_billing_item_instances"], "v2 has no instance count")

	// Five instances per organization are not deployments: three projects
	// and two services, each with a name (include_names=true).
	fams := familyNames(t, v2)
	assert.Equal(t, 10, fams["ece_billing_instance_cost_ecu"])
	assert.Equal(t, 10, fams["ece_billing_instance_info"])
	assert.Zero(t, countLabel(t, v2, "instance_type", "deployment"))
	assert.Zero(t, countLabel(t, v2, "instance_name", ""), "names looked up")
	for _, typ := range []string{"elasticsearch", "observability", "security", "elastic_inference_service", "cloud_connect"} {
		assert.Equal(t, 4, countLabel(t, v2, "instance_type", typ), typ) // cost + info, 2 organizations
	}
	assert.Positive(t, sumFamily(t, v2, "ece_billing_instance_cost_ecu", "", ""))
	assert.Zero(t, familyNames(t, v1)["ece_billing_instance_cost_ecu"], "v1 has no instances")

	// The next poll: no closed month, three calls per organization.
	sim2.ResetCounts()
	_, err = src2.Poll(context.Background())
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"get-costs-overview": 2, "get-costs-deployments": 2, "getCostsByInstancesV2": 2}, sim2.RequestCounts())
}

// TestBillingV2Join: v2 names a hosted deployment's instance by its
// Elasticsearch resource id, so instances are joined to the costs listing
// by id, else by name, else by name and total; an instance that stays
// ambiguous gets no items; filters and sharding apply to the joined
// deployment; with items off, only the org-level instances are read.
func TestBillingV2Join(t *testing.T) {
	t.Parallel()
	listing := `{"total_cost":10,"deployments":[
		{"deployment_id":"d-one","deployment_name":"one","hourly_rate":0.1,"costs":{"total":1,"dimensions":[]}},
		{"deployment_id":"d-twin-a","deployment_name":"twin","hourly_rate":0.2,"costs":{"total":2,"dimensions":[]}},
		{"deployment_id":"d-twin-b","deployment_name":"twin","hourly_rate":0.3,"costs":{"total":3,"dimensions":[]}},
		{"deployment_id":"d-dup-a","deployment_name":"dup","hourly_rate":0.4,"costs":{"total":4,"dimensions":[]}},
		{"deployment_id":"d-dup-b","deployment_name":"dup","hourly_rate":0.4,"costs":{"total":4,"dimensions":[]}},
		{"deployment_id":"d-byid","deployment_name":"renamed","hourly_rate":0,"costs":{"total":5,"dimensions":[]}},
		{"deployment_id":"d-excluded","deployment_name":"scratch","hourly_rate":0,"costs":{"total":6,"dimensions":[]}}]}`
	line := func(sku string, cost float64) string {
		return `{"name":"n","type":"capacity","sku":"` + sku + `","unit":"hour","kind":"elasticsearch","total_ecu":` + strconvF(cost) +
			`,"quantity":{"value":10,"formatted_value":"10 hours"},"rate":{"value":0.1,"formatted_value":"0.1 per hour"},"quantities":[]}`
	}
	inst := func(id, name, typ string, total float64) string {
		return `{"id":"` + id + `","name":"` + name + `","type":"` + typ + `","total_ecu":` + strconvF(total) + `,"product_line_items":[` + line("sku-"+id, total) + `]}`
	}
	instances := `{"total_ecu":40,"instances":[` + strings.Join([]string{
		inst("es-one", "one", "deployment", 1.5),   // its name alone: the totals need not agree
		inst("es-twin-b", "twin", "deployment", 3), // the twin whose total it is
		inst("es-dup", "dup", "deployment", 4),     // two candidates with that total: ambiguous
		inst("d-byid", "old-name", "deployment", 5),
		inst("es-scratch", "scratch", "deployment", 6),
		inst("es-gone", "unknown", "deployment", 7),
		inst("p1", "", "elasticsearch", 8),
		inst("p1", "", "elasticsearch", 8),
	}, ",") + `]}`
	for _, tc := range []struct {
		name      string
		items     bool
		shard     Sharder
		wantItems []string
		wantCalls int
	}{
		{name: "all", items: true, shard: NoSharding{}, wantItems: []string{"d-byid", "d-one", "d-twin-b"}, wantCalls: 1},
		{name: "items off", items: false, shard: NoSharding{}, wantCalls: 1},
		{name: "other shard", items: true, shard: fixedShard{org: false, deps: map[string]bool{"d-one": true}}, wantItems: []string{"d-one"}, wantCalls: 1},
		{name: "other shard, nothing owned", items: true, shard: fixedShard{org: false, deps: map[string]bool{}}, wantCalls: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			env, srv := fixtureEnv(t, map[string]string{
				"/api/v1/organizations":                `{"organizations":[{"id":"o1","name":"org"}]}`,
				"/api/v1/billing/costs/o1":             `{"costs":{"total":40,"dimensions":[]},"trials":0,"hourly_rate":1}`,
				"/api/v1/billing/costs/o1/deployments": listing,
			})
			v2 := httptest.NewServer(countingJSON(instances, &calls))
			t.Cleanup(v2.Close)
			client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithBillingV2URL(v2.URL), eceapi.WithAPIKey("k"), eceapi.WithMaxRetries(0))
			require.NoError(t, err)
			env.Client, env.orgs = client, &orgSource{account: env.Account, client: client, now: testNow}
			env.Account.Billing = config.Billing{API: config.BillingAPIV2, URL: v2.URL}
			env.Account.Deployments = config.DeploymentFilter{Exclude: []string{"scratch"}}
			env.Options = withOptions(billingName, func(o *BillingOptions) { o.Items = tc.items })
			env.Sharder = tc.shard
			buf := logBuffer(&env)
			snap, err := pollOnce(t, env, newBillingSource)
			require.NoError(t, err)
			assert.Equal(t, tc.wantCalls, calls)

			var got []string
			for _, l := range seriesOf(t, snap, "ece_billing_item_cost_ecu") {
				for _, f := range strings.Fields(l) {
					if id, ok := strings.CutPrefix(f, "deployment_id="); ok {
						got = append(got, id)
					}
				}
			}
			assert.Equal(t, tc.wantItems, got)
			if tc.shard.OwnsOrganization() {
				assert.Equal(t, []string{"ece_billing_instance_cost_ecu account=test instance_id=p1 instance_type=elasticsearch organization_id=o1 8"},
					seriesOf(t, snap, "ece_billing_instance_cost_ecu"), "deployments are not instances here; a repeated instance counts once")
			} else {
				assert.Empty(t, seriesOf(t, snap, "ece_billing_instance_cost_ecu"), "the organization's shard exports them")
			}
			if tc.items && tc.shard.OwnsOrganization() {
				assert.Contains(t, buf.String(), "instances=2 first=es-dup", "the ambiguous and the unknown instance are logged")
			}
			assert.NotContains(t, buf.String(), "k\"", "no key in logs")
		})
	}
}

// TestBillingV2Refused: the billing host answers a key whose role lacks
// billing with a plain-text 403: the billing collector fails with reason
// auth (its own call), keeping its last good snapshot, and the key is in
// no error.
func TestBillingV2Refused(t *testing.T) {
	t.Parallel()
	env, srv := fixtureEnv(t, map[string]string{
		"/api/v1/organizations":                `{"organizations":[{"id":"o1","name":"org"}]}`,
		"/api/v1/billing/costs/o1":             `{"costs":{"total":1,"dimensions":[]},"trials":0,"hourly_rate":0}`,
		"/api/v1/billing/costs/o1/deployments": `{"total_cost":0,"deployments":[]}`,
	})
	v2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("403: User does not have 'billing-costs:get:o1' permissions"))
	}))
	t.Cleanup(v2.Close)
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithBillingV2URL(v2.URL), eceapi.WithAPIKey("sekrit-key"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	env.Client, env.orgs = client, &orgSource{account: env.Account, client: client, now: testNow}
	env.Account.Billing = config.Billing{API: config.BillingAPIV2, URL: v2.URL}
	// The refused v2 call is a partial failure: v1's series stay.
	snap, err := pollOnce(t, env, newBillingSource)
	require.NoError(t, err)
	assert.Equal(t, 1, countValue(t, snap, "ece_billing_organization_cost_ecu", 1), "v1's overview is still exported")
	require.Len(t, snap.Partial, 1)
	err = snap.Partial[0]
	assert.Equal(t, ReasonAuth, Reason(err))
	assert.Contains(t, err.Error(), "/api/v2/billing/organizations/o1/costs/instances: 403")
	assert.NotContains(t, err.Error(), "sekrit-key")
}

// fixedShard owns the organization or not, and the listed deployments.
type fixedShard struct {
	org  bool
	deps map[string]bool
}

func (f fixedShard) OwnsDeployment(id string) bool { return f.deps[id] }
func (f fixedShard) OwnsOrganization() bool        { return f.org }

// countingJSON answers every request with body and counts them.
func countingJSON(body string, calls *int) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
}

// TestBillingCallsPerCycleV1V2 measures the billing collector's calls per
// cycle against the simulator, v1 and v2, on the first cycle (with the
// closed month) and the next: per organization, v1 costs 2 + D (overview,
// listing, one items call per deployment), v2 costs 3 (overview, listing,
// costs/instances); the first cycle adds 2 per organization for the
// closed month either way. README's "API calls per poll cycle" quotes the
// 5,000-deployment figures (skipped with -short and under -race), and the size of the v2
// answer the body limit must hold.
func TestBillingCallsPerCycleV1V2(t *testing.T) {
	t.Parallel()
	for _, d := range []int{7, 5000} {
		if d > 100 && (testing.Short() || raceEnabled) {
			continue
		}
		for _, api := range []string{config.BillingAPIV1, config.BillingAPIV2} {
			t.Run(fmt.Sprintf("%s/%d", api, d), func(t *testing.T) {
				t.Parallel()
				opts := ecesim.Options{Seed: 41, DeploymentsPerOrg: d}
				sim, env := simEnv(t, opts)
				if api == config.BillingAPIV2 {
					sim, env = v2Env(t, opts)
				}
				env.Options = withOptions(billingName, func(o *BillingOptions) { o.Concurrency = 16 })
				src, err := newBillingSource(env)
				require.NoError(t, err)
				first, err := src.Poll(context.Background())
				require.NoError(t, err)
				require.Empty(t, first.Partial)
				firstCalls := sim.TotalRequests()
				sim.ResetCounts()
				_, err = src.Poll(context.Background())
				require.NoError(t, err)
				next := sim.TotalRequests()
				want := 2 + d
				if api == config.BillingAPIV2 {
					want = 3
				}
				assert.Equal(t, want, next, "calls per cycle")
				assert.Equal(t, 1+want+2, firstCalls, "first cycle: organizations discovery and the closed month")
				assert.Equal(t, d, countLabel(t, filterFamily(first, "ece_billing_deployment_cost_ecu"), "organization_id", sim.OrganizationIDs()[0]))
				items := familyNames(t, first)["ece_billing_item_cost_ecu"]
				assert.GreaterOrEqual(t, items, 2*d, "every deployment's items")
				t.Logf("billing %s, %d deployments: %d calls per cycle (first cycle %d), %d series", api, d, next, firstCalls, first.Len())
				if api == config.BillingAPIV2 {
					ins, _, err := env.Client.BillingV2.Instances(context.Background(), sim.OrganizationIDs()[0], eceapi.InstancesOptions{
						CostsWindow: eceapi.CostsWindow{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: fixedNow}, IncludeNames: true})
					require.NoError(t, err)
					size := v2BodySize(t, env.Account.URL, sim.OrganizationIDs()[0])
					t.Logf("costs/instances at %d deployments: %d instances, %d bytes (%.1f MiB)", d, len(ins.Instances), size, float64(size)/(1<<20))
				}
			})
		}
	}
}

// v2BodySize is the size of the simulator's costs/instances answer for
// the current month.
func v2BodySize(t *testing.T, base, org string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v2/billing/organizations/"+org+
		"/costs/instances?from=2026-11-01T00:00:00Z&to=2026-11-18T13:30:00Z&include_names=true", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "ApiKey sim-api-key")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return len(b)
}
