package collector

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

func essConfig(url string) *config.Config {
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{{Name: "prod", Platform: config.PlatformESS, URL: url, Credentials: config.Credentials{APIKey: "sim-api-key"}}}
	return &cfg
}

// startManager starts a Manager and returns it with the Gatherer /metrics
// would serve.
func startManager(t *testing.T, cfg *config.Config, enabled ...string) (*Manager, prometheus.Gatherer) {
	t.Helper()
	if len(enabled) == 0 {
		enabled = DefaultEnabled()
	}
	reg := prometheus.NewPedanticRegistry()
	m, err := NewManager(Options{Registerer: reg, Enabled: enabled, Now: testNow,
		ClientOptions: []eceapi.Option{eceapi.WithBackoff(time.Millisecond, 2*time.Millisecond, 0)}})
	require.NoError(t, err)
	require.NoError(t, m.Apply(cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Stop(ctx)
	})
	waitReady(t, m)
	return m, m.Gatherer(reg)
}

func waitReady(t *testing.T, m *Manager) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !m.Ready() {
		require.True(t, time.Now().Before(deadline), "manager not ready within 15s")
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCallsPerCycle asserts the API calls of one poll cycle against the
// formula: 1 deployments list + 1 organizations discovery + per
// organization 2 billing calls + 1 chart call + D item calls + R
// remote-cluster calls + 1 keys call + ceil(D/250) deployment search pages
// (at least 1) + 1 stack versions call + 1 account call, and on this first
// cycle 2 billing calls per organization for the closed previous month.
func TestCallsPerCycle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ orgs, perOrg int }{{1, 5}, {2, 25}, {1, 260}} {
		sim := trackSim(ecesim.New(ecesim.Options{Seed: 31, Organizations: tc.orgs, DeploymentsPerOrg: tc.perOrg, Now: testNow}))
		srv := httptest.NewServer(sim)
		m, _ := startManager(t, essConfig(srv.URL))
		d := tc.orgs * tc.perOrg
		want := map[string]int{
			"list-deployments": 1, "list-organizations": 1,
			"get-costs-overview": 2 * tc.orgs, "get-costs-deployments": 2 * tc.orgs, "get-costs-charts": tc.orgs,
			"get-costs-items-by-deployment":              d,
			"get-deployment-es-resource-remote-clusters": d,
			"get-api-keys":       1,
			"search-deployments": max(1, (d+healthPageSize-1)/healthPageSize), "get-version-stacks": 1,
			"get-current-account": 1,
		}
		assert.Equal(t, want, sim.RequestCounts(), "orgs=%d deployments=%d", tc.orgs, d)
		assert.Equal(t, 1+1+3*tc.orgs+2*d+1+max(1, (d+healthPageSize-1)/healthPageSize)+1+1+2*tc.orgs, sim.TotalRequests())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m.Stop(ctx)
		cancel()
		srv.Close()
	}
}

// TestScrapesNeverCallTheAPI: 100 scrapes, zero upstream requests.
func TestScrapesNeverCallTheAPI(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 32, DeploymentsPerOrg: 6, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	_, reg := startManager(t, essConfig(srv.URL))
	sim.ResetCounts()
	for i := 0; i < 100; i++ {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		require.NotEmpty(t, mfs)
	}
	assert.Equal(t, 0, sim.TotalRequests())
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// TestFailedPollKeepsStaleData drives one poller by hand.
func TestFailedPollKeepsStaleData(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 33, APIKeys: 4})
	src, _ := newAPIKeysSource(env)
	var reasons []string
	p := newPoller("test", apiKeysName, src, time.Minute, env.Logger, func(r string) { reasons = append(reasons, r) })
	ctx := context.Background()

	p.pollOnce(ctx)
	st := p.state()
	require.True(t, st.success)
	require.Equal(t, 4, familyNames(t, st.snap)["ece_api_key_info"])

	for _, tc := range []struct {
		name   string
		fault  ecesim.Fault
		reason string
	}{
		{"500", ecesim.Fault{Status: 500}, ReasonServer},
		{"401", ecesim.Fault{Status: 401}, ReasonAuth},
		{"429", ecesim.Fault{Status: 429, Headers: map[string]string{"Retry-After": "7"}}, ReasonRateLimited},
		{"html 502", ecesim.Fault{Status: 502, HTMLBody: true}, ReasonServer},
		{"malformed", ecesim.Fault{Body: []byte(`{"keys":[`)}, ReasonDecode},
		{"null", ecesim.Fault{Body: []byte(`null`)}, ReasonDecode},
		{"wrong type", ecesim.Fault{Body: []byte(`{"keys":"nope"}`)}, ReasonDecode},
	} {
		sim.SetFault("get-api-keys", tc.fault)
		reasons = nil
		wait := p.pollOnce(ctx)
		st = p.state()
		assert.False(t, st.success, tc.name)
		assert.Equal(t, []string{tc.reason}, reasons, tc.name)
		assert.Equal(t, 4, familyNames(t, st.snap)["ece_api_key_info"], "%s: last good data stays", tc.name)
		if tc.reason == ReasonRateLimited {
			assert.Equal(t, 7*time.Second, wait, "the poller waits as long as the API asked")
		}
	}

	// Recovery, and deleted things disappear.
	sim.ClearFaults()
	sim.SetFault("get-api-keys", ecesim.Fault{Mutate: func(v any) any {
		m := v.(map[string]any)
		m["keys"] = m["keys"].([]any)[:1]
		return m
	}})
	p.pollOnce(ctx)
	st = p.state()
	assert.True(t, st.success)
	assert.Equal(t, 1, familyNames(t, st.snap)["ece_api_key_info"])
}

func TestSelfMetricsOfAFailingCollector(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 34, DeploymentsPerOrg: 2, Now: testNow}))
	sim.SetFault("get-api-keys", ecesim.Fault{Status: 503})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	m, reg := startManager(t, essConfig(srv.URL), "deployments", "api_keys")
	want := `
# HELP ece_exporter_collector_stale 1 when the last poll failed and the exported data is from an earlier successful poll.
# TYPE ece_exporter_collector_stale gauge
ece_exporter_collector_stale{account="prod",collector="api_keys"} 0
ece_exporter_collector_stale{account="prod",collector="deployments"} 0
# HELP ece_exporter_collector_success Whether the last poll of the collector succeeded (1) or failed (0).
# TYPE ece_exporter_collector_success gauge
ece_exporter_collector_success{account="prod",collector="api_keys"} 0
ece_exporter_collector_success{account="prod",collector="deployments"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, stringsReader(want), "ece_exporter_collector_stale", "ece_exporter_collector_success"))
	for _, r := range allReasons {
		want := 0.0
		if r == ReasonServer {
			want = 1
		}
		assert.Equal(t, want, testutil.ToFloat64(m.self.errors.WithLabelValues("prod", "api_keys", r)), r)
	}
	// 3 retries of a 503 GET: 4 attempts, all counted by code.
	assert.Equal(t, float64(4), testutil.ToFloat64(mustVec(t, reg)))
}

func mustVec(t *testing.T, reg prometheus.Gatherer) prometheus.Collector {
	t.Helper()
	return prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != "ece_exporter_api_requests_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" && l.GetValue() == "503" {
						ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("x", "x", nil, nil), prometheus.CounterValue, m.GetCounter().GetValue())
					}
				}
			}
		}
	})
}

func TestReloadKeepsUnchangedPollersAndRejectsBadConfig(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 35, DeploymentsPerOrg: 2, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := essConfig(srv.URL)
	m, reg := startManager(t, cfg, "deployments", "api_keys", "remote_clusters")
	before := map[pollerKey]*poller{}
	for k, p := range m.pollers {
		before[k] = p
	}

	// Only the api_keys interval changes: no poller restarts; the api_keys
	// poller keeps its snapshot and only its ticker changes, which the
	// interval gauge shows.
	keysKey := pollerKey{"prod", "api_keys"}
	keysSnap := before[keysKey].state().snap
	require.NotNil(t, keysSnap)
	retimed := *cfg
	retimed.Collectors = cfg.Collectors.With(apiKeysName, withOptions(apiKeysName, func(o *APIKeysOptions) { o.Interval = config.NewDuration(30 * time.Minute) }))
	require.NoError(t, m.Apply(&retimed))
	for k, p := range before {
		assert.Same(t, p, m.pollers[k], "%v restarted on an interval change", k)
	}
	assert.Same(t, keysSnap, m.pollers[keysKey].state().snap, "the snapshot is kept")
	assert.Equal(t, 30*time.Minute, m.pollers[keysKey].state().interval)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP ece_exporter_collector_interval_seconds Configured poll interval of the collector.
# TYPE ece_exporter_collector_interval_seconds gauge
ece_exporter_collector_interval_seconds{account="prod",collector="api_keys"} 1800
ece_exporter_collector_interval_seconds{account="prod",collector="deployments"} 300
ece_exporter_collector_interval_seconds{account="prod",collector="remote_clusters"} 60
`), "ece_exporter_collector_interval_seconds"))

	// Another api_keys option changes: only that poller restarts, and it
	// keeps its data until its new first poll.
	next := retimed
	next.Collectors = retimed.Collectors.With(apiKeysName, withOptions(apiKeysName, func(o *APIKeysOptions) {
		o.Interval, o.Scope = config.NewDuration(30*time.Minute), ScopeAll
	}))
	require.NoError(t, m.Apply(&next))
	assert.Same(t, before[pollerKey{"prod", "deployments"}], m.pollers[pollerKey{"prod", "deployments"}])
	assert.Same(t, before[pollerKey{"prod", "remote_clusters"}], m.pollers[pollerKey{"prod", "remote_clusters"}])
	assert.NotSame(t, before[pollerKey{"prod", "api_keys"}], m.pollers[pollerKey{"prod", "api_keys"}])
	n, err := testutil.GatherAndCount(reg, "ece_api_key_info")
	require.NoError(t, err)
	assert.Positive(t, n)

	// A config whose client cannot be built (missing CA file) changes nothing.
	bad := next
	bad.Accounts = []config.Account{next.Accounts[0]}
	bad.Accounts[0].TLS.CAFile = "/nonexistent/ca.pem"
	require.Error(t, m.Apply(&bad))
	assert.Equal(t, 3, len(m.pollers))
	assert.Equal(t, next.Collectors.Options(apiKeysName), m.cfg.Collectors.Options(apiKeysName))

	// Removing the account removes its series.
	empty := next
	empty.Accounts = []config.Account{{Name: "other", Platform: config.PlatformESS, URL: srv.URL, Credentials: config.Credentials{APIKey: "sim-api-key"}}}
	require.NoError(t, m.Apply(&empty))
	waitFirstPolls(t, m)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, met := range mf.GetMetric() {
			for _, l := range met.GetLabel() {
				assert.False(t, l.GetName() == "account" && l.GetValue() == "prod", "series of the removed account remain: %s", mf.GetName())
			}
		}
	}
}

func waitFirstPolls(t *testing.T, m *Manager) {
	t.Helper()
	m.mu.RLock()
	ps := make([]*poller, 0, len(m.pollers))
	for _, p := range m.pollers {
		ps = append(ps, p)
	}
	m.mu.RUnlock()
	for _, p := range ps {
		select {
		case <-p.firstDone:
		case <-time.After(10 * time.Second):
			t.Fatal("poller did not finish its first poll")
		}
	}
}

func TestDeploymentFiltersAndSharding(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 36, DeploymentsPerOrg: 30})
	cfg, err := config.Parse([]byte(`
accounts:
  - name: test
    api_key: x
    deployments:
      include: ["sim-(search|logs)-.*"]
      exclude: ["sim-logs-staging-.*"]
`))
	require.NoError(t, err)
	env.Account.Deployments = cfg.Accounts[0].Deployments
	snap := discover(t, env)
	deps, _ := env.Discovery.Current()
	require.NotEmpty(t, deps)
	for _, d := range deps {
		assert.Regexp(t, `^sim-(search|logs)-`, d.Name)
		assert.NotRegexp(t, `^sim-logs-staging-`, d.Name)
	}
	assert.Equal(t, len(deps), familyNames(t, snap)["ece_deployment_info"])

	// Three shards split the deployments without overlap or loss.
	seen := map[string]int{}
	for shard := 0; shard < 3; shard++ {
		h, err := NewHashSharder(shard, 3)
		require.NoError(t, err)
		env.Sharder = h
		env.Account.Deployments = config.DeploymentFilter{}
		discover(t, env)
		deps, _ := env.Discovery.Current()
		for _, d := range deps {
			seen[d.ID]++
		}
	}
	assert.Len(t, seen, len(sim.Deployments()))
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
	_, err = NewHashSharder(3, 3)
	assert.Error(t, err)
}

// TestApplyRejectsOptionsOfAnotherType: options of the wrong type (a
// configuration built in code) are an error of Apply, not silently the
// defaults.
func TestApplyRejectsOptionsOfAnotherType(t *testing.T) {
	t.Parallel()
	m, err := NewManager(Options{Enabled: []string{apiKeysName}})
	require.NoError(t, err)
	cfg := essConfig("http://127.0.0.1:1")
	cfg.Collectors = cfg.Collectors.With(apiKeysName, IntervalOptions{Interval: config.NewDuration(time.Hour)})
	assert.EqualError(t, m.Apply(cfg), `collector "api_keys": options of type collector.IntervalOptions, want collector.APIKeysOptions`)
	m.Stop(context.Background())
}
