package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// interceptor sits in front of an upstream: it records every request
// ("METHOD path?query") and answers those its rule claims itself.
type interceptor struct {
	next http.Handler
	mu   sync.Mutex
	rule func(w http.ResponseWriter, r *http.Request) bool
	seen []string
}

func (i *interceptor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	i.seen = append(i.seen, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	rule := i.rule
	i.mu.Unlock()
	if rule != nil && rule(w, r) {
		return
	}
	i.next.ServeHTTP(w, r)
}

func (i *interceptor) setRule(rule func(w http.ResponseWriter, r *http.Request) bool) {
	i.mu.Lock()
	i.rule = rule
	i.mu.Unlock()
}

// requests returns the recorded requests whose path ends with suffix and
// clears the record.
func (i *interceptor) requests(suffix string) []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []string
	for _, s := range i.seen {
		if path, _, _ := strings.Cut(s, "?"); strings.HasSuffix(path, suffix) {
			out = append(out, s)
		}
	}
	return out
}

func (i *interceptor) reset() {
	i.mu.Lock()
	i.seen = nil
	i.mu.Unlock()
}

// plain403 answers as Elastic does when a key's role lacks a permission:
// text/plain, no x-cloud-error-codes.
func plain403(perm string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("403: User does not have '" + perm + "' permissions"))
	}
}

// isListDeployments matches GET /deployments (and not its sub-paths).
func isListDeployments(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/api/v1/deployments")
}

// simBehind starts a simulator behind an interceptor and returns an Env
// for one account on it.
func simBehind(t *testing.T, o ecesim.Options) (*ecesim.Server, *interceptor, Env) {
	t.Helper()
	if o.Now == nil {
		o.Now = testNow
	}
	sim := trackSim(ecesim.New(o))
	ic := &interceptor{next: sim}
	srv := httptest.NewServer(ic)
	t.Cleanup(srv.Close)
	acc := config.Account{Name: "test", Platform: config.PlatformESS, URL: srv.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}}
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("sim-api-key"),
		eceapi.WithMaxRetries(0), eceapi.WithBackoff(time.Millisecond, 2*time.Millisecond, 0))
	require.NoError(t, err)
	return sim, ic, Env{
		Account: acc, Client: client,
		Logger: log.NewNopLogger(), Discovery: NewDiscovery(), Sharder: NoSharding{}, Now: testNow,
		orgs: &orgSource{account: acc, client: client, now: testNow},
	}
}

// snapshotText is the text exposition of a snapshot.
func snapshotText(t *testing.T, s *Snapshot) string {
	t.Helper()
	mfs, err := snapGatherer(s).Gather()
	require.NoError(t, err)
	var b strings.Builder
	for _, mf := range mfs {
		_, err := expfmt.MetricFamilyToText(&b, mf)
		require.NoError(t, err)
	}
	return b.String()
}

// TestBillingNeverDependsOnDiscovery: whatever GET /deployments answers (a
// 404, a plain-text 403 as for a billing-only key, an empty list, or no
// answer yet), billing exports the same overview, per-deployment and item
// series with the same calls.
func TestBillingNeverDependsOnDiscovery(t *testing.T) {
	t.Parallel()
	opts := ecesim.Options{Seed: 71, Organizations: 2, DeploymentsPerOrg: 3}
	baseline := func(t *testing.T) (string, int) {
		sim, _, env := simBehind(t, opts)
		discover(t, env)
		src, err := newBillingSource(env)
		require.NoError(t, err)
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		return snapshotText(t, snap), len(sim.Deployments())
	}
	for _, tc := range []struct {
		name     string
		setup    func(sim *ecesim.Server, ic *interceptor)
		discover bool
	}{
		{name: "deployments 404", discover: true, setup: func(sim *ecesim.Server, _ *interceptor) {
			sim.SetFault("list-deployments", ecesim.Fault{Status: http.StatusNotFound})
		}},
		{name: "deployments 403 plain text", discover: true, setup: func(_ *ecesim.Server, ic *interceptor) {
			ic.setRule(func(w http.ResponseWriter, r *http.Request) bool {
				if isListDeployments(r) {
					plain403("deployments:get")(w, r)
					return true
				}
				return false
			})
		}},
		{name: "deployments empty", discover: true, setup: func(sim *ecesim.Server, _ *interceptor) {
			sim.SetFault("list-deployments", ecesim.Fault{Body: []byte(`{"deployments":[]}`)})
		}},
		{name: "no discovery poll yet", setup: func(*ecesim.Server, *interceptor) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, deployments := baseline(t)
			require.Contains(t, want, "ece_billing_item_cost_ecu")
			sim, ic, env := simBehind(t, opts)
			tc.setup(sim, ic)
			if tc.discover {
				src, err := newDeploymentsSource(env)
				require.NoError(t, err)
				_, _ = src.Poll(context.Background())
			}
			src, err := newBillingSource(env)
			require.NoError(t, err)
			sim.ResetCounts()
			ic.reset()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			snap, err := src.Poll(ctx)
			require.NoError(t, err)
			assert.Empty(t, snap.Partial)
			assert.Equal(t, want, snapshotText(t, snap), "the same billing series as with a working discovery")
			fams := familyNames(t, snap)
			assert.Equal(t, 2, fams["ece_billing_organization_cost_ecu"])
			assert.Equal(t, deployments, fams["ece_billing_deployment_cost_ecu"])
			for _, d := range sim.Deployments() {
				assert.Positive(t, countLabel(t, filterFamily(snap, "ece_billing_item_cost_ecu"), "deployment_id", d.ID), "items of %s", d.ID)
			}
			assert.Equal(t, map[string]int{
				"list-organizations": 1, "get-costs-overview": 4, "get-costs-deployments": 4,
				"get-costs-items-by-deployment": deployments,
			}, sim.RequestCounts(), "this month and the closed month per organization, one items call per deployment, no deployments listing")
			assert.Empty(t, ic.requests("/api/v1/deployments"), "billing never lists deployments")
		})
	}
}

// costsListingFixture serves one organization whose costs listing names
// three deployments; d-gone was deleted this month and GET /deployments no
// longer lists it.
func costsListingFixture(t *testing.T) (Env, *interceptor) {
	t.Helper()
	dims := `"dimensions":[{"type":"capacity","cost":9},{"type":"data_out","cost":1}]`
	bodies := map[string]string{
		"/api/v1/deployments":      `{"deployments":[{"id":"d-live","name":"web-prod","resources":[]},{"id":"d-test","name":"web-staging","resources":[]}]}`,
		"/api/v1/organizations":    `{"organizations":[{"id":"o1","name":"org"}]}`,
		"/api/v1/billing/costs/o1": `{"costs":{"total":30,` + dims + `},"trials":0,"hourly_rate":0.3}`,
		"/api/v1/billing/costs/o1/deployments": `{"total_cost":30,"deployments":[
			{"deployment_id":"d-live","deployment_name":"web-prod","hourly_rate":0.1,"costs":{"total":10,` + dims + `}},
			{"deployment_id":"d-gone","deployment_name":"old-search","hourly_rate":0,"costs":{"total":10,` + dims + `}},
			{"deployment_id":"d-test","deployment_name":"web-staging","hourly_rate":0.2,"costs":{"total":10,` + dims + `}}]}`,
	}
	for _, id := range []string{"d-live", "d-gone", "d-test"} {
		bodies["/api/v1/billing/costs/o1/deployments/"+id+"/items"] = `{"costs":{"total":10,"dimensions":[]},"resources":[
			{"hours":10,"instance_count":1,"period":{"start":"2026-11-01T00:00:00Z","end":"2026-11-18T00:00:00Z"},"kind":"elasticsearch","price":10,"price_per_hour":1,"name":"es","sku":"aws.es.datahot.c6gd_us-east-1_4096_2"}],
			"data_transfer_and_storage":[]}`
	}
	ic := &interceptor{next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			w.Header().Set("x-cloud-error-codes", "root.resource_not_found")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"root.resource_not_found","message":"not found"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})}
	srv := httptest.NewServer(ic)
	t.Cleanup(srv.Close)
	acc := config.Account{Name: "test", Platform: config.PlatformESS, URL: srv.URL, Credentials: config.Credentials{APIKey: "k"}}
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("k"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	return Env{
		Account: acc, Client: client,
		Logger: log.NewNopLogger(), Discovery: NewDiscovery(), Sharder: NoSharding{}, Now: testNow,
		orgs: &orgSource{account: acc, client: client, now: testNow},
	}, ic
}

// TestBillingDeploymentsFromCostsListing: items are fetched for every
// deployment the costs listing names (a deployment deleted this month
// included), include/exclude filters apply to the id and the costs API's
// deployment_name for every per-deployment series, and sharding splits the
// items by the stable hash of the id.
func TestBillingDeploymentsFromCostsListing(t *testing.T) {
	t.Parallel()
	all := []string{"d-gone", "d-live", "d-test"}
	perDeployment := []string{"ece_billing_deployment_cost_ecu", "ece_billing_deployment_hourly_rate_ecu",
		"ece_billing_deployment_dimension_cost_ecu", "ece_billing_deployment_previous_month_cost_ecu"}
	for _, tc := range []struct {
		name      string
		filter    config.DeploymentFilter
		sharder   Sharder
		wantItems []string // deployments whose items are fetched and exported
		wantTotal []string // deployments with per-deployment totals
	}{
		{name: "no filter", wantItems: all, wantTotal: all},
		{name: "exclude by costs name", filter: config.DeploymentFilter{Exclude: []string{"web-staging"}},
			wantItems: []string{"d-gone", "d-live"}, wantTotal: []string{"d-gone", "d-live"}},
		{name: "include by costs name of a deleted deployment", filter: config.DeploymentFilter{Include: []string{"old-.*"}},
			wantItems: []string{"d-gone"}, wantTotal: []string{"d-gone"}},
		{name: "exclude by id", filter: config.DeploymentFilter{Exclude: []string{"d-live"}},
			wantItems: []string{"d-gone", "d-test"}, wantTotal: []string{"d-gone", "d-test"}},
		// FNV-1a mod 2: d-live and d-test hash to 0, d-gone to 1.
		{name: "shard 0 of 2", sharder: HashSharder{Shard: 0, TotalShards: 2},
			wantItems: []string{"d-live", "d-test"}, wantTotal: all},
		{name: "shard 1 of 2", sharder: HashSharder{Shard: 1, TotalShards: 2},
			wantItems: []string{"d-gone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, ic := costsListingFixture(t)
			env.Account.Deployments = tc.filter
			env.orgs.account = env.Account
			if tc.sharder != nil {
				env.Sharder = tc.sharder
			}
			discover(t, env)
			src, err := newBillingSource(env)
			require.NoError(t, err)
			ic.reset()
			snap, err := src.Poll(context.Background())
			require.NoError(t, err)
			require.Empty(t, snap.Partial)
			require.NoError(t, lintSnapshotGather(snap))

			var fetched []string
			for _, r := range ic.requests("/items") {
				path, _, _ := strings.Cut(r, "?")
				fetched = append(fetched, strings.TrimSuffix(strings.TrimPrefix(path, "GET /api/v1/billing/costs/o1/deployments/"), "/items"))
			}
			sort.Strings(fetched)
			assert.Equal(t, tc.wantItems, fetched, "items calls")
			for _, id := range all {
				items := countLabel(t, filterFamily(snap, "ece_billing_item_cost_ecu"), "deployment_id", id)
				assert.Equal(t, slices.Contains(tc.wantItems, id), items == 1, "item series of %s", id)
				for _, fam := range perDeployment {
					n := countLabel(t, filterFamily(snap, fam), "deployment_id", id)
					want := 0
					if slices.Contains(tc.wantTotal, id) {
						want = 1
						if fam == "ece_billing_deployment_dimension_cost_ecu" {
							want = 2
						}
					}
					assert.Equal(t, want, n, "%s of %s", fam, id)
				}
			}
		})
	}
}

// TestBillingClosedMonth: the previous month is fetched on the first poll
// after start-up (a restart does not lose it) and once after each month
// change, never on the polls in between; its window ends at the last
// instant of that month, not at the first instant of the next; a failed
// fetch hides neither the current month nor the next poll's retry.
func TestBillingClosedMonth(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := fixedNow // 2026-11-18
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	sim, ic, env := simBehind(t, ecesim.Options{Seed: 72, DeploymentsPerOrg: 3, Now: clock})
	env.Now, env.orgs.now = clock, clock
	env.Options = withOptions(billingName, func(o *BillingOptions) { o.Items = false })
	org := sim.OrganizationIDs()[0]
	src, err := newBillingSource(env)
	require.NoError(t, err)

	poll := func(t *testing.T) (*Snapshot, []string) {
		t.Helper()
		ic.reset()
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		var windows []string
		for _, r := range append(ic.requests("/billing/costs/"+org), ic.requests("/billing/costs/"+org+"/deployments")...) {
			_, q, _ := strings.Cut(r, "?")
			windows = append(windows, q)
		}
		sort.Strings(windows)
		return snap, windows
	}
	window := func(from, to string) string {
		return "from=" + strings.ReplaceAll(from, ":", "%3A") + "&to=" + strings.ReplaceAll(to, ":", "%3A")
	}
	october := window("2026-10-01T00:00:00Z", "2026-10-31T23:59:59Z")
	november := window("2026-11-01T00:00:00Z", "2026-11-30T23:59:59Z")

	// A closed-month fetch that fails is a partial failure, not a lost poll.
	ic.setRule(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.RawQuery, "from=2026-10-01") {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	snap, windows := poll(t)
	current := window("2026-11-01T00:00:00Z", "2026-11-18T13:30:00Z")
	assert.Equal(t, []string{october, current, current}, windows, "the overview of October failed, so its deployments were not asked")
	assert.Len(t, snap.Partial, 1)
	assert.Positive(t, sumFamily(t, snap, "ece_billing_organization_cost_ecu", "", ""))
	assert.Zero(t, familyNames(t, snap)["ece_billing_organization_previous_month_cost_ecu"])
	ic.setRule(nil)

	// First good poll: the current month and the closed October.
	snap, windows = poll(t)
	assert.Equal(t, []string{october, current}, uniq(windows))
	assert.Len(t, windows, 4, "overview and deployments, each for November so far and October")
	assert.Empty(t, snap.Partial)
	prev := sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", "")
	assert.Positive(t, prev)
	assert.InDelta(t, prev, sumFamily(t, snap, "ece_billing_deployment_previous_month_cost_ecu", "", ""), 0.01)
	assert.Equal(t, 3, familyNames(t, snap)["ece_billing_deployment_previous_month_cost_ecu"])

	// The next polls of the month do not fetch October again.
	for i := 0; i < 2; i++ {
		snap, windows = poll(t)
		assert.Equal(t, []string{current, current}, windows)
		assert.Equal(t, prev, sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", ""))
	}

	// The month changes: November is closed, ending on its last instant,
	// and fetched again on every poll of the first 48 hours of December
	// (Elastic's billing data arrives late), then no more.
	setNow(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	december := window("2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z")
	snap, windows = poll(t)
	assert.Equal(t, []string{november, december}, uniq(windows))
	assert.Len(t, windows, 4)
	novCost := sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", "")
	assert.Positive(t, novCost)
	snap, windows = poll(t)
	assert.Equal(t, []string{november, december}, uniq(windows), "still settling: November again")
	assert.Len(t, windows, 4)
	assert.Equal(t, novCost, sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", ""))

	// A refetch that fails while settling keeps the figure held.
	ic.setRule(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.RawQuery, "from=2026-11-01") {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	snap, _ = poll(t)
	assert.Len(t, snap.Partial, 1)
	assert.Equal(t, novCost, sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", ""))
	ic.setRule(nil)

	setNow(time.Date(2026, 12, 2, 23, 59, 59, 0, time.UTC))
	_, windows = poll(t)
	assert.Len(t, windows, 4, "the last poll before 48 h fetches November")
	assert.Equal(t, []string{november, window("2026-12-01T00:00:00Z", "2026-12-02T23:59:59Z")}, uniq(windows))

	setNow(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	december = window("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z")
	for i := 0; i < 2; i++ {
		snap, windows = poll(t)
		assert.Equal(t, []string{december, december}, windows, "48 h after the month change, November is settled")
		assert.Equal(t, 3, familyNames(t, snap)["ece_billing_deployment_previous_month_cost_ecu"])
		assert.Positive(t, sumFamily(t, snap, "ece_billing_organization_previous_month_cost_ecu", "", ""))
	}
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return slices.Compact(s)
}

// TestBillingDuplicateDeploymentKeepsFirst: a deployment listed twice keeps
// its first figure, in the current and in the closed month alike (no
// double count, no duplicate series).
func TestBillingDuplicateDeploymentKeepsFirst(t *testing.T) {
	t.Parallel()
	env, _ := fixtureEnv(t, map[string]string{
		"/api/v1/organizations":    `{"organizations":[{"id":"o1","name":"org"}]}`,
		"/api/v1/billing/costs/o1": `{"costs":{"total":10,"dimensions":[]},"trials":0,"hourly_rate":0.1}`,
		"/api/v1/billing/costs/o1/deployments": `{"total_cost":10,"deployments":[
			{"deployment_id":"d1","deployment_name":"one","hourly_rate":0.1,"costs":{"total":10,"dimensions":[]}},
			{"deployment_id":"d1","deployment_name":"one","hourly_rate":0.5,"costs":{"total":99,"dimensions":[]}}]}`,
	})
	env.Options = withOptions(billingName, func(o *BillingOptions) { o.Items = false })
	src, err := newBillingSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	require.NoError(t, lintSnapshotGather(snap))
	assert.Equal(t, 10.0, sumFamily(t, snap, "ece_billing_deployment_cost_ecu", "deployment_id", "d1"))
	assert.Equal(t, 10.0, sumFamily(t, snap, "ece_billing_deployment_previous_month_cost_ecu", "deployment_id", "d1"))
}
