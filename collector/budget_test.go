package collector

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// simulateHour counts the calls of the collectors at their effective
// intervals over one hour of steady state, in the worst phase: a
// collector polled every d starts ceil(1h/d) polls in any hour.
func simulateHour(in []planInput, eff map[string]time.Duration) (calls int64, polls map[string]int64) {
	polls = map[string]int64{}
	for _, c := range in {
		n := int64(math.Ceil(float64(time.Hour) / float64(eff[c.Collector])))
		polls[c.Collector] = n
		calls += n * c.Calls
	}
	return calls, polls
}

func TestPlanBudget(t *testing.T) {
	t.Parallel()
	in := []planInput{
		{deploymentsName, 5 * time.Minute, 1},
		{remoteClustersName, time.Minute, 1000}, // 60,000/h
		{billingName, time.Hour, 1005},          // 1,005/h
		{deploymentHealthName, 2 * time.Minute, 4},
		{apiKeysName, 15 * time.Minute, 1},
	}
	for _, tc := range []struct {
		name   string
		budget float64
		want   map[string]time.Duration // only the stretched ones
	}{
		{"no budget", 0, nil},
		{"budget above the plan", 100_000, nil},
		// 0.9×20,000 = 18,000; the others take 1,005+120+12+4 = 1,141:
		// remote_clusters gets 16,859/h: 1000 calls every 213.5 s, so 16
		// polls an hour: every 225 s.
		{"remote clusters first", 20_000, map[string]time.Duration{remoteClustersName: 225 * time.Second}},
		// remote_clusters at its bound (60×: 1,000/h), billing next:
		// 1,800 - 1,000 - 136 = 664/h for 1,005 calls: every 5,449 s.
		{"then billing", 2_000, map[string]time.Duration{remoteClustersName: time.Hour, billingName: 5449 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eff, planned := planBudget(tc.budget, in)
			for _, c := range in {
				want, ok := tc.want[c.Collector]
				if !ok {
					want = c.Interval
				}
				assert.Equal(t, want, eff[c.Collector], c.Collector)
				assert.GreaterOrEqual(t, eff[c.Collector], c.Interval, "never below the configured interval")
			}
			if tc.budget > 0 {
				assert.LessOrEqual(t, planned, tc.budget*planHeadroom)
			}
		})
	}

	// Last resort: every tier at its bound, then all by one factor.
	eff, planned := planBudget(100, in)
	assert.LessOrEqual(t, planned, 90.0)
	for _, c := range in {
		assert.Greater(t, eff[c.Collector], c.Interval, c.Collector)
	}
	assert.InDelta(t, 1.0, float64(eff[deploymentHealthName])/float64(eff[apiKeysName])*7.5, 0.01,
		"deployment_health (2m) and api_keys (15m), one tier, keep their ratio: same factor")
	assert.Less(t, float64(eff[deploymentsName])/float64(5*time.Minute), float64(eff[apiKeysName])/float64(15*time.Minute),
		"the discovery is stretched less than the tiers before it")
}

// TestBudgetPlanAt5000Deployments: the calls of one real cycle of every
// default collector against the simulator at 5,000 deployments, planned
// for a budget of 20,000 calls/h: an hour of polls at the effective
// intervals stays within the budget, each collector polls in that hour
// (nothing starves: none is stretched past its tier's bound), and none
// runs faster than configured.
func TestBudgetPlanAt5000Deployments(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 deployments")
	}
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 44, DeploymentsPerOrg: 5000, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := essConfig(srv.URL)
	cfg.HTTP.MaxRequestsPerHour = 20_000
	reg := prometheus.NewPedanticRegistry()
	m, err := NewManager(Options{Registerer: reg, Enabled: DefaultEnabled(), Now: testNow})
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, m.Apply(cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Stop(ctx)
	})
	// One cycle is some 10,000 requests: bounded, not timed.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for !m.Ready() {
		select {
		case <-ctx.Done():
			t.Fatal("the first cycle did not end within 3 minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("first cycle: %s", time.Since(start).Round(time.Millisecond))
	g := m.Gatherer(reg)

	var in []planInput
	var total int64
	for _, p := range m.pollerList() {
		calls, ok := p.cycleCalls()
		require.True(t, ok, p.collector)
		st := p.state()
		require.True(t, st.success, "%s: the first cycle completes", p.collector)
		in = append(in, planInput{p.collector, p.baseInterval(), calls})
		total += calls
	}
	assert.LessOrEqual(t, total, int64(sim.TotalRequests()), "each request is one collector's")
	eff, planned := planBudget(20_000, in)
	calls, polls := simulateHour(in, eff)
	var lines []string
	for _, c := range in {
		lines = append(lines, fmt.Sprintf("%s: %d calls/cycle, every %s (configured %s), %d polls/h",
			c.Collector, c.Calls, eff[c.Collector], c.Interval, polls[c.Collector]))
		assert.GreaterOrEqual(t, eff[c.Collector], c.Interval, c.Collector)
		assert.LessOrEqual(t, eff[c.Collector], maxTierStretch*c.Interval, "%s starves", c.Collector)
		assert.LessOrEqual(t, eff[c.Collector], max(c.Interval, 2*time.Hour), "%s must poll in a simulated hour or two", c.Collector)
	}
	sort.Strings(lines)
	t.Logf("5,000 deployments, budget 20,000/h: unplanned %.0f/h, planned %.0f/h, simulated hour %d calls\n%v",
		sumRates(in), planned, calls, lines)
	assert.LessOrEqual(t, calls, int64(20_000), "the calls of a simulated hour stay within the budget")
	assert.Greater(t, sumRates(in), 20_000.0, "the test needs a plan that stretches")
	assert.Greater(t, eff[remoteClustersName], time.Minute, "remote_clusters is stretched first")

	// The running manager planned the same (its calls are those above).
	eventually(t, func() bool {
		v, ok := gaugeOf(t, g, "ece_exporter_collector_effective_interval_seconds", remoteClustersName)
		return ok && v > 60
	})
	v, _ := gaugeOf(t, g, "ece_exporter_api_budget_requests_per_hour", "")
	assert.Equal(t, 20_000.0, v)
	v, ok := gaugeOf(t, g, "ece_exporter_api_planned_requests_per_hour", "")
	require.True(t, ok)
	assert.LessOrEqual(t, v, 18_000.0)
}

func sumRates(in []planInput) (r float64) {
	for _, c := range in {
		r += callsPerHour(c.Calls, c.Interval)
	}
	return r
}

// TestBudgetPlanRetimesRunningPollers: a short real run at scaled-down
// intervals (a second instead of a minute) and a budget the plan
// exceeds: after the first cycle remote_clusters is stretched to its
// tier's bound, then billing, while the discovery keeps its interval;
// the metrics show the configured and effective intervals, the budget
// and the plan.
func TestBudgetPlanRetimesRunningPollers(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 45, DeploymentsPerOrg: 50, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := essConfig(srv.URL)
	cfg.HTTP.MaxRequestsPerHour = 36_000
	cfg.Collectors = cfg.Collectors.With(deploymentsName, IntervalOptions{Interval: config.NewDuration(2 * time.Second)})
	ro := registry[remoteClustersName].Defaults.(RemoteClustersOptions)
	ro.Interval = config.NewDuration(time.Second)
	cfg.Collectors = cfg.Collectors.With(remoteClustersName, ro)
	bo := registry[billingName].Defaults.(BillingOptions)
	bo.Interval = config.NewDuration(5 * time.Second)
	cfg.Collectors = cfg.Collectors.With(billingName, bo)
	logs := &lockedBuffer{}
	preg := prometheus.NewPedanticRegistry()
	m, err := NewManager(Options{Registerer: preg, Logger: log.NewLogfmtLogger(logs), Now: testNow,
		Enabled: []string{deploymentsName, remoteClustersName, billingName}})
	require.NoError(t, err)
	require.NoError(t, m.Apply(cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Stop(ctx)
	})
	reg := m.Gatherer(preg)

	// 50 remote-cluster calls a second: 180,000/h, far over 32,400.
	eventually(t, func() bool {
		v, ok := gaugeOf(t, reg, "ece_exporter_collector_effective_interval_seconds", remoteClustersName)
		return ok && v == maxTierStretch
	})
	eventually(t, func() bool {
		v, ok := gaugeOf(t, reg, "ece_exporter_collector_effective_interval_seconds", billingName)
		return ok && v > 5
	})
	v, _ := gaugeOf(t, reg, "ece_exporter_collector_interval_seconds", remoteClustersName)
	assert.Equal(t, 1.0, v, "the configured interval is unchanged")
	v, _ = gaugeOf(t, reg, "ece_exporter_collector_effective_interval_seconds", deploymentsName)
	assert.Equal(t, 2.0, v, "the discovery is stretched last")
	v, _ = gaugeOf(t, reg, "ece_exporter_api_budget_requests_per_hour", "")
	assert.Equal(t, 36_000.0, v)
	v, _ = gaugeOf(t, reg, "ece_exporter_api_planned_requests_per_hour", "")
	assert.LessOrEqual(t, v, 36_000*planHeadroom)
	assert.Greater(t, v, 0.0)

	// Logged after the first cycle and on changes only, not every poll.
	var plans []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="API request plan"`) {
			_, intervals, _ := strings.Cut(line, "intervals=")
			plans = append(plans, intervals)
		}
	}
	require.NotEmpty(t, plans)
	assert.Contains(t, plans[len(plans)-1], remoteClustersName+"=1m0s (configured 1s)")
	for i := 1; i < len(plans); i++ {
		assert.NotEqual(t, plans[i-1], plans[i], "a plan is logged again only when it changes")
	}
	assert.Less(t, len(plans), 6, "a handful of plans, not one per poll")

	// A reload with the budget removed restores the configured intervals.
	cfg2 := *cfg
	cfg2.HTTP.MaxRequestsPerHour = 0
	require.NoError(t, m.Apply(&cfg2))
	eventually(t, func() bool {
		v, ok := gaugeOf(t, reg, "ece_exporter_collector_effective_interval_seconds", remoteClustersName)
		return ok && v == 1
	})
	_, ok := gaugeOf(t, reg, "ece_exporter_api_budget_requests_per_hour", "")
	assert.False(t, ok, "no budget, no budget series")
}

// TestBudgetLoweredUnderSustained429: three 429s within ten minutes lower
// the budget to the rate used meanwhile; it comes back 30 minutes after
// the last 429. A single 429 changes nothing.
func TestBudgetLoweredUnderSustained429(t *testing.T) {
	t.Parallel()
	now := fixedNow
	b := newBudgetState(20_000, func() time.Time { return now })
	for i := 0; i < 600; i++ { // 600 calls in 30 minutes: 1,200/h
		now = now.Add(3 * time.Second)
		b.record(200)
	}
	b.record(429)
	got, lowered := b.budget()
	assert.Equal(t, 20_000.0, got)
	assert.False(t, lowered, "one 429 is not sustained")
	now = now.Add(time.Minute)
	b.record(429)
	now = now.Add(time.Minute)
	b.record(429)
	got, lowered = b.budget()
	assert.True(t, lowered)
	assert.InDelta(t, 603.0*60/32, got, 1, "the rate of the last 32 minutes")

	// The plan shrinks with it.
	in := []planInput{{remoteClustersName, time.Minute, 10}} // 600/h
	eff, planned := planBudget(got, in)
	assert.Equal(t, time.Minute, eff[remoteClustersName], "600/h fits in 0.9×1,130")
	assert.InDelta(t, 600, planned, 1)
	eff, planned = planBudget(got, []planInput{{remoteClustersName, time.Minute, 100}})
	assert.LessOrEqual(t, planned, got*planHeadroom)
	assert.Greater(t, eff[remoteClustersName], time.Minute)

	now = now.Add(rate429Quiet + time.Second)
	got, lowered = b.budget()
	assert.False(t, lowered, "restored once the 429s stopped")
	assert.Equal(t, 20_000.0, got)

	// Without a configured budget, sustained 429s make one.
	b = newBudgetState(0, func() time.Time { return now })
	for i := 0; i < 10; i++ {
		now = now.Add(time.Minute)
		b.record(429)
	}
	got, lowered = b.budget()
	assert.True(t, lowered)
	assert.InDelta(t, 60.0, got, 0.1, "10 calls in 10 minutes")
}

// gaugeOf returns the value of a self-metric of account prod (and
// collector, when not empty).
func gaugeOf(t *testing.T, g prometheus.Gatherer, name, collector string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if collector == "" || labelOf(mt, "collector") == collector {
				return mt.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// eventually waits, bounded, for cond.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met within 30s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestObserverFeedsTheBudget: the client's 429 answers reach the
// account's budget through the observer; three of them lower it.
func TestObserverFeedsTheBudget(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	self, err := newSelfMetrics(nil)
	require.NoError(t, err)
	b := newBudgetState(20_000, nil)
	c, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithMaxRetries(0),
		eceapi.WithObserver(self.observer("prod", &rateState{budget: b})))
	require.NoError(t, err)
	for i := 0; i < sustained429; i++ {
		_, _, err = c.APIKeys.List(context.Background())
		require.Error(t, err)
	}
	got, lowered := b.budget()
	assert.True(t, lowered)
	assert.InDelta(t, float64(sustained429)*60, got, 0.1, "3 calls in the first minute: 180/h")
}
