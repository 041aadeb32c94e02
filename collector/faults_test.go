package collector

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// switchable sends requests to a closed port while refuse is set:
// connection refused, for real.
type switchable struct {
	refuse atomic.Bool
	closed string
	next   http.RoundTripper
}

func (s *switchable) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.refuse.Load() {
		r = r.Clone(r.Context())
		r.URL.Host = s.closed
	}
	return s.next.RoundTrip(r)
}

func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// walk applies f to every number of a decoded JSON document.
func walk(v any, f func(float64) float64) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k != "timestamp" { // a garbage chart timestamp is rejected, rightly
				x[k] = walk(e, f)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = walk(e, f)
		}
	case float64:
		return f(x)
	}
	return v
}

// double duplicates every list (duplicate ids everywhere).
func double(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = double(e)
		}
	case []any:
		return append(x, x...)
	}
	return v
}

type faultCase struct {
	name   string
	fault  ecesim.Fault
	refuse bool
	// reason is the expected failure reason; "" means the poll succeeds.
	reason string
	check  func(t *testing.T, before, after *Snapshot)
	// per, when set, overrides reason and check for some collectors.
	per map[string]faultOutcome
}

type faultOutcome struct {
	reason string
	check  func(t *testing.T, before, after *Snapshot)
}

// invalidUTF8Names puts a 0xff byte at the start of every name-like string
// of a JSON body (names, aliases, descriptions).
func invalidUTF8Names(b []byte) []byte {
	for _, k := range []string{"name", "deployment_name", "alias", "description"} {
		b = bytes.ReplaceAll(b, []byte(`"`+k+`":"`), []byte(`"`+k+`":"`+"\xff"))
	}
	return b
}

func faultCases() []faultCase {
	sameSize := func(t *testing.T, before, after *Snapshot) {
		assert.Equal(t, before.Len(), after.Len(), "same series")
	}
	// repaired: the names carry U+FFFD instead of the invalid byte, no
	// series is lost (the exposition's validity is checked for every
	// tolerated fault).
	repaired := func(t *testing.T, before, after *Snapshot) {
		sameSize(t, before, after)
		assert.Positive(t, countLabelValueContaining(t, after, "\uFFFD"), "names repaired, not dropped")
	}
	return []faultCase{
		{name: "401", fault: ecesim.Fault{Status: 401}, reason: ReasonAuth},
		{name: "403", fault: ecesim.Fault{Status: 403}, reason: ReasonAuth},
		{name: "429 with headers", fault: ecesim.Fault{Status: 429, Headers: map[string]string{"Retry-After": "30", "x-ratelimit-remaining": "0"}}, reason: ReasonRateLimited},
		{name: "429 without headers", fault: ecesim.Fault{Status: 429, NoRateLimitHeaders: true}, reason: ReasonRateLimited},
		{name: "500", fault: ecesim.Fault{Status: 500}, reason: ReasonServer},
		{name: "502 html", fault: ecesim.Fault{Status: 502, HTMLBody: true}, reason: ReasonServer},
		{name: "503", fault: ecesim.Fault{Status: 503}, reason: ReasonServer},
		{name: "404", fault: ecesim.Fault{Status: 404}, reason: ReasonNotFound, per: map[string]faultOutcome{
			// Per-deployment calls: a 404 is a deployment deleted since
			// discovery, not a failure; its series vanish.
			remoteClustersName: {check: func(t *testing.T, before, after *Snapshot) {
				assert.Less(t, after.Len(), before.Len(), "deleted deployments vanish")
				assert.Empty(t, after.Partial)
			}},
		}},
		{name: "connection refused", refuse: true, reason: ReasonNetwork},
		{name: "connection reset mid-body", fault: ecesim.Fault{ResetConn: true}, reason: ReasonNetwork},
		{name: "timeout", fault: ecesim.Fault{Hang: true}, reason: ReasonTimeout},
		{name: "slow body past the timeout", fault: ecesim.Fault{SlowBody: 5 * time.Second}, reason: ReasonTimeout},
		{name: "truncated JSON", fault: ecesim.Fault{Truncate: true}, reason: ReasonDecode},
		{name: "malformed JSON", fault: ecesim.Fault{Body: []byte(`{"deployments":[{"id":`)}, reason: ReasonDecode},
		{name: "null body", fault: ecesim.Fault{Body: []byte(`null`)}, reason: ReasonDecode},
		{name: "wrong types", fault: ecesim.Fault{Body: []byte(`{"deployments":"x","resources":"x","keys":"x","data":"x","total_cost":"x","organizations":"x"}`)}, reason: ReasonDecode},
		{name: "body over the size limit", fault: ecesim.Fault{OversizeBytes: 200 << 10}, reason: ReasonDecode},
		{name: "huge numbers", fault: ecesim.Fault{Mutate: func(v any) any { return walk(v, func(float64) float64 { return 1e300 }) }}, check: sameSize},
		{name: "negative costs", fault: ecesim.Fault{Mutate: func(v any) any { return walk(v, func(f float64) float64 { return -f }) }}, check: sameSize},
		{name: "unknown extra fields", fault: ecesim.Fault{Mutate: func(v any) any {
			if m, ok := v.(map[string]any); ok {
				m["sim_extra"] = map[string]any{"nested": []any{1, "x"}}
			}
			return v
		}}, check: sameSize},
		{name: "duplicate ids", fault: ecesim.Fault{Mutate: double}, check: sameSize},
		{name: "non-UTF-8 bytes in names", fault: ecesim.Fault{MutateBody: invalidUTF8Names}, check: sameSize, per: map[string]faultOutcome{
			deploymentsName:    {check: repaired},
			remoteClustersName: {check: repaired},
			apiKeysName:        {check: repaired},
		}},
		{name: "empty lists", fault: ecesim.Fault{Body: []byte(`{"deployments":[],"resources":[],"keys":[],"data":[],"data_transfer_and_storage":[],"total_cost":0,"costs":{"total":0,"dimensions":[]},"organizations":[]}`)},
			check: func(t *testing.T, before, after *Snapshot) {
				assert.Less(t, after.Len(), before.Len(), "what is gone upstream vanishes")
			}},
	}
}

// target is one collector and the operation whose answers are faulted.
type target struct {
	collector string
	op        string
	new       func(Env) (Source, error)
}

var targets = []target{
	{deploymentsName, "list-deployments", newDeploymentsSource},
	{billingName, "get-costs-deployments", newBillingSource},
	{billingChartsName, "get-costs-charts", newBillingChartsSource},
	{remoteClustersName, "get-deployment-es-resource-remote-clusters", newRemoteClustersSource},
	{apiKeysName, "get-api-keys", newAPIKeysSource},
}

// TestFaultMatrix runs every fault against every collector and asserts:
// the poll fails with the right reason (or succeeds for tolerated
// oddities), nothing panics, the last good snapshot stays exported, a
// scrape answers at once while the poll hangs, and the next good poll
// recovers.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	n := 0
	for _, tg := range targets {
		for _, fc := range faultCases() {
			n++
			t.Run(tg.collector+"/"+fc.name, func(t *testing.T) {
				t.Parallel()
				sim := trackSim(ecesim.New(ecesim.Options{Seed: 61, DeploymentsPerOrg: 4, RemoteClustersPerES: 2, Now: testNow}))
				srv := httptest.NewServer(sim)
				t.Cleanup(srv.Close)
				sw := &switchable{closed: closedAddr(t), next: http.DefaultTransport.(*http.Transport).Clone()}
				client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("sim-api-key"),
					eceapi.WithHTTPClient(&http.Client{Transport: sw}), eceapi.WithMaxRetries(0), eceapi.WithMaxBodyBytes(128<<10))
				require.NoError(t, err)
				acc := config.Account{Name: "test", Platform: config.PlatformESS, URL: srv.URL}
				env := Env{Account: acc, Client: client, Logger: log.NewNopLogger(),
					Discovery: NewDiscovery(), Sharder: NoSharding{}, Now: testNow, orgs: &orgSource{account: acc, client: client, now: testNow}}
				if tg.collector != deploymentsName {
					discover(t, env)
				}
				src, err := tg.new(env)
				require.NoError(t, err)
				var reasons []string
				logs := &lockedBuffer{}
				p := newPoller("test", tg.collector, src, time.Minute, log.NewLogfmtLogger(logs), func(r string) { reasons = append(reasons, r) })
				p.timeout = 300 * time.Millisecond
				ctx := context.Background()

				p.pollOnce(ctx)
				good := p.state()
				require.True(t, good.success, "baseline poll")
				require.Positive(t, good.snap.Len())

				sim.SetFault(tg.op, fc.fault)
				sw.refuse.Store(fc.refuse)
				done := make(chan struct{})
				go func() { defer close(done); p.pollOnce(ctx) }()
				// A scrape while the poll is in flight answers at once.
				time.Sleep(20 * time.Millisecond)
				start := time.Now()
				_, err = snapGatherer(p.state().snap).Gather()
				require.NoError(t, err)
				assert.Less(t, time.Since(start), 250*time.Millisecond, "scrape blocked by the poll (which hangs for 300ms)")
				<-done

				after := p.state()
				if o, ok := fc.per[tg.collector]; ok {
					fc.reason, fc.check = o.reason, o.check
				}
				if fc.reason != "" {
					assert.False(t, after.success)
					assert.Equal(t, []string{fc.reason}, reasons)
					assert.Same(t, good.snap, after.snap, "the last good snapshot stays exported (stale)")
					out := logs.String()
					assert.Equal(t, 1, strings.Count(out, "poll failed"), "one clear log line: %s", out)
					assert.Contains(t, out, "reason="+fc.reason)
					assert.Contains(t, out, "account=test")
					assert.Contains(t, out, "collector="+tg.collector)
					if fc.fault.Status >= 400 {
						// An API error names the spec operation and the code.
						assert.Contains(t, out, "operation="+tg.op)
						assert.Contains(t, out, "code=")
					}
				} else {
					require.True(t, after.success, "tolerated: %v", reasons)
					require.NoError(t, lintSnapshotGather(after.snap))
					if fc.check != nil {
						fc.check(t, good.snap, after.snap)
					}
				}

				// Recovery.
				sim.ClearFaults()
				sw.refuse.Store(false)
				p.pollOnce(ctx)
				rec := p.state()
				assert.True(t, rec.success, "recovers on the next good poll")
				assert.Equal(t, good.snap.Len(), rec.snap.Len())
			})
		}
	}
	assert.GreaterOrEqual(t, n, 40)
}

// TestDeletedBetweenDiscoveryAndDetail: a deployment deleted after the
// discovery vanishes from remote clusters and upgrades without failing the
// polls; billing, which never used the discovery, keeps exporting its costs
// and items (Elastic keeps billing it for the time it ran).
func TestDeletedBetweenDiscoveryAndDetail(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 62, DeploymentsPerOrg: 4})
	discover(t, env)
	gone := sim.Deployments()[1].ID
	require.True(t, sim.DeleteDeployment(gone))
	for _, f := range []func(Env) (Source, error){newRemoteClustersSource, newUpgradesSource} {
		src, err := f(env)
		require.NoError(t, err)
		snap, err := src.Poll(context.Background())
		require.NoError(t, err)
		assert.Empty(t, snap.Partial)
		assert.Zero(t, countLabel(t, snap, "deployment_id", gone))
	}
	src, err := newBillingSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	assert.Empty(t, snap.Partial)
	assert.Positive(t, sumFamily(t, snap, "ece_billing_deployment_cost_ecu", "deployment_id", gone))
	assert.Positive(t, sumFamily(t, snap, "ece_billing_item_cost_ecu", "deployment_id", gone))
}

// filterFamily returns a snapshot holding only the series of one family.
func filterFamily(s *Snapshot, name string) *Snapshot {
	s.seal()
	out := &Snapshot{account: s.account, sealed: true, records: s.records, labels: s.labels, pairs: s.pairs}
	for _, fr := range s.fams {
		if s.records[fr.lo].d.name == name {
			out.fams, out.series = append(out.fams, fr), fr.hi-fr.lo
		}
	}
	return out
}

// lintSnapshotGather seals and gathers the snapshot with the consistency
// checks of a pedantic registry: no duplicate series (none dropped by
// seal either), valid label values.
func lintSnapshotGather(s *Snapshot) error {
	s.seal()
	if s.invalid > 0 {
		return fmt.Errorf("%d series dropped as invalid or duplicate", s.invalid)
	}
	_, err := snapGatherer(s).Gather()
	return err
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestIDChurn: deployments deleted and recreated between two polls (new
// ids). The removed ids vanish from every collector's series but billing's,
// the new ones appear, and nothing counts as a failure. Billing keeps the
// removed ones with the month-to-date cost and items they had (Elastic
// keeps billing them for the time they ran): the organization's total does
// not fall.
func TestIDChurn(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 63, DeploymentsPerOrg: 6, RemoteClustersPerES: 1})
	news := map[string]func(Env) (Source, error){
		deploymentsName: newDeploymentsSource, remoteClustersName: newRemoteClustersSource, billingName: newBillingSource,
		billingChartsName: newBillingChartsSource, upgradesName: newUpgradesSource,
	}
	sources := map[string]Source{}
	for name, f := range news {
		src, err := f(env)
		require.NoError(t, err)
		sources[name] = src
	}
	poll := func() map[string]*Snapshot {
		out := map[string]*Snapshot{}
		for _, name := range []string{deploymentsName, remoteClustersName, billingName, billingChartsName, upgradesName} {
			snap, err := sources[name].Poll(context.Background())
			require.NoError(t, err, name)
			assert.Empty(t, snap.Partial, name)
			snap.seal()
			out[name] = snap
		}
		return out
	}
	first := poll()
	removed, added := sim.ChurnDeployments(2)
	for _, id := range removed {
		require.Positive(t, countLabel(t, first[deploymentsName], "deployment_id", id))
		require.Positive(t, countLabel(t, first[billingName], "deployment_id", id))
	}
	second := poll()
	for name, snap := range second {
		for _, id := range removed {
			if name == billingName || name == billingChartsName {
				continue
			}
			assert.Zero(t, countLabel(t, snap, "deployment_id", id), "%s still exposes removed %s", name, id)
			assert.Zero(t, countLabel(t, snap, "series_id", id), "%s still exposes removed %s", name, id)
		}
	}
	bill1, bill2 := first[billingName], second[billingName]
	assert.Equal(t, sumFamily(t, bill1, "ece_billing_organization_cost_ecu", "", ""), sumFamily(t, bill2, "ece_billing_organization_cost_ecu", "", ""),
		"month-to-date does not fall")
	for _, id := range removed {
		for _, fam := range []string{"ece_billing_deployment_cost_ecu", "ece_billing_deployment_previous_month_cost_ecu", "ece_billing_item_cost_ecu", "ece_billing_item_usage_seconds", "ece_billing_dts_cost_ecu"} {
			v := sumFamily(t, bill2, fam, "deployment_id", id)
			assert.Positive(t, v, "%s of removed %s", fam, id)
			assert.Equal(t, sumFamily(t, bill1, fam, "deployment_id", id), v, "%s of removed %s unchanged", fam, id)
		}
		assert.Zero(t, sumFamily(t, bill2, "ece_billing_deployment_hourly_rate_ecu", "deployment_id", id), "a removed %s costs nothing more", id)
		assert.Equal(t, sumFamily(t, first[billingChartsName], "ece_billing_chart_cost_ecu", "series_id", id),
			sumFamily(t, second[billingChartsName], "ece_billing_chart_cost_ecu", "series_id", id), "chart of removed %s", id)
		assert.Positive(t, sumFamily(t, second[billingChartsName], "ece_billing_chart_cost_ecu", "series_id", id))
	}
	assert.Equal(t, 6, countValue(t, second[deploymentsName], "ece_deployment_info", 1), "one info series per listed deployment")
	for _, id := range added {
		assert.Positive(t, countLabel(t, second[deploymentsName], "deployment_id", id), "new %s discovered", id)
		assert.Positive(t, countLabel(t, second[upgradesName], "deployment_id", id), "new %s dry-run", id)
	}
	assert.Equal(t, 6.0, sumFamily(t, second[deploymentsName], "ece_deployments", "", ""))
}
