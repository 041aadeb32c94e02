package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// TestRefusedCallLoggedOncePerCollector: a 403 is counted as reason="auth"
// on every poll, but logged once per account and collector (until the
// collector succeeds again), naming the refused call and the role Elastic
// calls it needs.
func TestRefusedCallLoggedOncePerCollector(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		collector string
		new       func(Env) (Source, error)
		refuse    func(r *http.Request) bool
		perm      string
		call      string
		needs     string
		hint      []string // what the hint says the refusal affects
	}{
		{collector: billingName, new: newBillingSource,
			refuse: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/billing/costs/") },
			perm:   "billing-costs:get:org", call: "/billing/costs/", needs: `"Billing admin"`,
			hint: []string{"only this collector is affected"}},
		{collector: deploymentsName, new: newDeploymentsSource, refuse: isListDeployments,
			perm: "deployments:get", call: "GET /api/v1/deployments", needs: `"Viewer"`,
			hint: []string{"remote_clusters and upgrades collectors", "reason=dependency", "--no-collector.remote_clusters", "--no-collector.upgrades"}},
	} {
		t.Run(tc.collector, func(t *testing.T) {
			t.Parallel()
			_, ic, env := simBehind(t, ecesim.Options{Seed: 73, DeploymentsPerOrg: 2})
			src, err := tc.new(env)
			require.NoError(t, err)
			logs := &lockedBuffer{}
			var reasons []string
			p := newPoller("test", tc.collector, src, time.Minute, log.NewLogfmtLogger(logs), func(r string) { reasons = append(reasons, r) })
			refuse := func(w http.ResponseWriter, r *http.Request) bool {
				if tc.refuse(r) {
					plain403(tc.perm)(w, r)
					return true
				}
				return false
			}
			ic.setRule(refuse)
			ctx := context.Background()
			for i := 0; i < 3; i++ {
				p.pollOnce(ctx)
			}
			assert.Equal(t, []string{ReasonAuth, ReasonAuth, ReasonAuth}, reasons)
			out := logs.String()
			assert.Equal(t, 1, strings.Count(out, "level=warn"), "logged once, not every poll: %s", out)
			assert.Equal(t, 1, strings.Count(out, "refused_call="), out)
			assert.Contains(t, out, tc.call)
			assert.Contains(t, out, "reason=auth")
			assert.Contains(t, out, "needs=")
			assert.Contains(t, out, strings.ReplaceAll(tc.needs, `"`, `\"`))
			assert.NotContains(t, out, "sim-api-key")
			for _, h := range tc.hint {
				assert.Contains(t, out, h)
			}
			if tc.collector == deploymentsName {
				assert.NotContains(t, out, "only this collector is affected", "other collectors depend on the deployments list")
			}

			// After a success, a new refusal is news again.
			ic.setRule(nil)
			p.pollOnce(ctx)
			require.True(t, p.state().success)
			ic.setRule(refuse)
			p.pollOnce(ctx)
			p.pollOnce(ctx)
			assert.Equal(t, 2, strings.Count(logs.String(), "refused_call="))
		})
	}
}

// TestBillingOnlyKey: with a key that may read billing but not list
// deployments, the Manager exports billing (success, its series) and
// counts the 403 as reason="auth" on the deployments collector alone;
// billing never counts a "dependency" failure. Collectors that really
// iterate the discovered deployments still do.
// deployment_health (the _search) and stack_versions do not depend on the
// list and succeed.
func TestBillingOnlyKey(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 74, DeploymentsPerOrg: 3, Now: testNow}))
	ic := &interceptor{next: sim, rule: func(w http.ResponseWriter, r *http.Request) bool {
		if isListDeployments(r) {
			plain403("deployments:get")(w, r)
			return true
		}
		return false
	}}
	srv := httptest.NewServer(ic)
	t.Cleanup(srv.Close)
	_, reg := startManager(t, essConfig(srv.URL))
	want := `
# HELP ece_exporter_collector_success Whether the last poll of the collector succeeded (1) or failed (0).
# TYPE ece_exporter_collector_success gauge
ece_exporter_collector_success{account="prod",collector="account"} 1
ece_exporter_collector_success{account="prod",collector="api_keys"} 1
ece_exporter_collector_success{account="prod",collector="billing"} 1
ece_exporter_collector_success{account="prod",collector="billing_charts"} 1
ece_exporter_collector_success{account="prod",collector="deployment_health"} 1
ece_exporter_collector_success{account="prod",collector="deployments"} 0
ece_exporter_collector_success{account="prod",collector="remote_clusters"} 0
ece_exporter_collector_success{account="prod",collector="stack_versions"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "ece_exporter_collector_success"))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	errs := map[string]float64{}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] += len(mf.GetMetric())
		if mf.GetName() != "ece_exporter_collector_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var coll, reason string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "collector":
					coll = lp.GetValue()
				case "reason":
					reason = lp.GetValue()
				}
			}
			errs[coll+"/"+reason] = m.GetCounter().GetValue()
		}
	}
	assert.Equal(t, 1.0, errs["deployments/auth"])
	assert.Zero(t, errs["billing/dependency"])
	assert.Zero(t, errs["billing/auth"])
	assert.Zero(t, errs["billing_charts/dependency"])
	assert.Equal(t, 1.0, errs["remote_clusters/dependency"], "remote clusters do iterate the discovered deployments")
	assert.Equal(t, 3, series["ece_billing_deployment_cost_ecu"])
	assert.Positive(t, series["ece_billing_item_cost_ecu"])
	assert.Zero(t, series["ece_deployment_info"])
}

// TestBillingAloneNeverListsDeployments: with only the billing collectors
// enabled, no hidden discovery runs: GET /deployments is never called.
func TestBillingAloneNeverListsDeployments(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 75, DeploymentsPerOrg: 3, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	_, reg := startManager(t, essConfig(srv.URL), billingName, billingChartsName)
	assert.Zero(t, sim.Requests("list-deployments"))
	assert.Equal(t, 3, sim.Requests("get-costs-items-by-deployment"))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP ece_exporter_collector_success Whether the last poll of the collector succeeded (1) or failed (0).
# TYPE ece_exporter_collector_success gauge
ece_exporter_collector_success{account="prod",collector="billing"} 1
ece_exporter_collector_success{account="prod",collector="billing_charts"} 1
`), "ece_exporter_collector_success"))
}

// TestDependencyFailureLoggedOnce: a collector that iterates the
// discovered deployments (remote_clusters, upgrades) fails with
// reason="dependency" on every poll while the discovery fails (a
// billing-only key): counted every poll, logged once until it succeeds.
func TestDependencyFailureLoggedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		collector string
		new       func(Env) (Source, error)
	}{
		{remoteClustersName, newRemoteClustersSource},
		{upgradesName, newUpgradesSource},
	} {
		t.Run(tc.collector, func(t *testing.T) {
			t.Parallel()
			sim, _, env := simBehind(t, ecesim.Options{Seed: 75, DeploymentsPerOrg: 2})
			env.Discovery.markDone() // the first discovery poll ended without a list
			src, err := tc.new(env)
			require.NoError(t, err)
			logs := &lockedBuffer{}
			var reasons []string
			p := newPoller("test", tc.collector, src, time.Minute, log.NewLogfmtLogger(logs), func(r string) { reasons = append(reasons, r) })
			ctx := context.Background()
			for i := 0; i < 3; i++ {
				p.pollOnce(ctx)
			}
			assert.Equal(t, []string{ReasonDependency, ReasonDependency, ReasonDependency}, reasons, "counted every poll")
			out := logs.String()
			assert.Equal(t, 1, strings.Count(out, "level=warn"), "logged once, not every poll: %s", out)
			assert.Contains(t, out, "reason=dependency")
			assert.Contains(t, out, "--no-collector."+tc.collector)

			// Once it succeeds, a new failure is news again.
			var deps []Deployment
			for _, d := range sim.Deployments() {
				deps = append(deps, Deployment{ID: d.ID, Name: d.Name})
			}
			env.Discovery.set(deps)
			p.pollOnce(ctx)
			require.True(t, p.state().success)
		})
	}
}

// TestPartialRefusalLoggedOnce: a successful billing poll whose closed-month
// fetch and one deployment's item call are refused (403) counts
// reason="auth" for each refused call on every poll, but logs each refused
// operation once, naming the call and the role it needs, until that call
// succeeds again.
func TestPartialRefusalLoggedOnce(t *testing.T) {
	t.Parallel()
	sim, ic, env := simBehind(t, ecesim.Options{Seed: 76, DeploymentsPerOrg: 3})
	src, err := newBillingSource(env)
	require.NoError(t, err)
	victim := sim.Deployments()[0].ID
	refuse := func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/deployments/"+victim+"/items") || strings.Contains(r.URL.RawQuery, "from=2026-10-01") {
			plain403("billing-costs:get:org")(w, r)
			return true
		}
		return false
	}
	ic.setRule(refuse)
	logs := &lockedBuffer{}
	var reasons []string
	p := newPoller("test", billingName, src, time.Minute, log.NewLogfmtLogger(logs), func(r string) { reasons = append(reasons, r) })
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		p.pollOnce(ctx)
		require.True(t, p.state().success)
	}
	assert.Equal(t, ReasonAuth, reasons[0])
	assert.Len(t, reasons, 2+2*2, "first poll: items and the closed month refused; later polls: items, and the closed month again (not yet had)")
	for _, r := range reasons {
		assert.Equal(t, ReasonAuth, r)
	}
	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "level=warn"), "one line per refused operation, not per poll: %s", out)
	assert.Equal(t, 2, warnLines(out, "refused_call="), out)
	assert.Contains(t, out, "/deployments/"+victim+"/items")
	assert.Contains(t, out, "operation=get-costs-items-by-deployment")
	assert.Contains(t, out, `\"Billing admin\"`)
	assert.NotContains(t, out, "poll succeeded with partial failures", "refusals are not logged again as plain partial failures")
	assert.NotContains(t, out, "sim-api-key")

	// The items are allowed again, then refused again: news again.
	ic.setRule(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.RawQuery, "from=2026-10-01") {
			plain403("billing-costs:get:org")(w, r)
			return true
		}
		return false
	})
	p.pollOnce(ctx)
	ic.setRule(refuse)
	p.pollOnce(ctx)
	p.pollOnce(ctx)
	out = logs.String()
	assert.Equal(t, 3, strings.Count(out, "level=warn"), out)
	assert.Equal(t, 2, warnLines(out, "operation=get-costs-items-by-deployment"), out)
}

// warnLines counts the warn lines of out that contain sub.
func warnLines(out, sub string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "level=warn") && strings.Contains(l, sub) {
			n++
		}
	}
	return n
}
