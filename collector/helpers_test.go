package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"

	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

// sims are every simulator the package's tests start: TestMain asserts
// that none of them ever saw a real upgrade.
var (
	simsMu sync.Mutex
	sims   []*ecesim.Server
)

func trackSim(s *ecesim.Server) *ecesim.Server {
	simsMu.Lock()
	sims = append(sims, s)
	simsMu.Unlock()
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	simsMu.Lock()
	for _, s := range sims {
		if s.RealUpgrades() != 0 {
			fmt.Fprintln(os.Stderr, "FAIL: a collector test caused a real upgrade")
			code = 1
		}
	}
	simsMu.Unlock()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// fixedNow is the clock of every collector test.
var fixedNow = time.Date(2026, 11, 18, 13, 30, 0, 0, time.UTC)

func testNow() time.Time { return fixedNow }

// simEnv starts a simulator and returns an Env for one account on it.
func simEnv(t *testing.T, o ecesim.Options) (*ecesim.Server, Env) {
	t.Helper()
	if o.Now == nil {
		o.Now = testNow
	}
	sim := trackSim(ecesim.New(o))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	platform := config.PlatformESS
	if o.Mode == ecesim.ModeECE {
		platform = config.PlatformECE
	}
	key := o.APIKey
	if key == "" {
		key = "sim-api-key"
	}
	acc := config.Account{Name: "test", Platform: platform, URL: srv.URL, Credentials: config.Credentials{APIKey: config.Secret(key)}}
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey(key),
		eceapi.WithMaxRetries(0), eceapi.WithBackoff(time.Millisecond, 2*time.Millisecond, 0))
	require.NoError(t, err)
	env := Env{
		Account: acc, Client: client,
		Logger: log.NewNopLogger(), Discovery: NewDiscovery(), Sharder: NoSharding{}, Now: testNow,
		orgs: &orgSource{account: acc, client: client, now: testNow},
	}
	return sim, env
}

// withOptions returns the default options of collector name, changed.
func withOptions[O config.CollectorOptions](name string, change func(*O)) O {
	o := registry[name].Defaults.(O)
	change(&o)
	return o
}

// discover runs the deployments collector once so that env.Discovery is set.
func discover(t *testing.T, env Env) *Snapshot {
	t.Helper()
	src, err := newDeploymentsSource(env)
	require.NoError(t, err)
	snap, err := src.Poll(context.Background())
	require.NoError(t, err)
	return snap
}

// snapGatherer seals a snapshot and serves it the way Manager.Gatherer
// does, inside prometheus.Gatherers, which checks every series as a
// pedantic registry does (duplicates, label names and values).
func snapGatherer(s *Snapshot) prometheus.Gatherer {
	s.seal()
	return prometheus.Gatherers{prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		return exposition.MergeFamilies(s.Families())
	})}
}

// sample is one series of a sealed snapshot.
type sample struct {
	name, help string
	m          *dto.Metric
}

// samples seals a snapshot and returns its series in exposition order.
func samples(s *Snapshot) []sample {
	s.seal()
	var out []sample
	for _, mf := range s.Families() {
		for _, m := range mf.Metric {
			out = append(out, sample{mf.GetName(), mf.GetHelp(), m})
		}
	}
	return out
}

// familyNames lists the metric names present in a snapshot.
func familyNames(t *testing.T, s *Snapshot) map[string]int {
	t.Helper()
	mfs, err := snapGatherer(s).Gather()
	require.NoError(t, err)
	out := map[string]int{}
	for _, mf := range mfs {
		out[mf.GetName()] = len(mf.GetMetric())
	}
	return out
}

// fixtureEnv serves fixed JSON bodies by path (anything else is a 404 with
// a BasicFailedReply) and returns an Env on it.
func fixtureEnv(t *testing.T, bodies map[string]string) (Env, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			w.Header().Set("x-cloud-error-codes", "root.resource_not_found")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"root.resource_not_found","message":"not found"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	acc := config.Account{Name: "test", Platform: config.PlatformESS, URL: srv.URL, Credentials: config.Credentials{APIKey: "k"}}
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("k"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	return Env{
		Account: acc, Client: client,
		Logger: log.NewNopLogger(), Discovery: NewDiscovery(), Sharder: NoSharding{}, Now: testNow,
		orgs: &orgSource{account: acc, client: client, now: testNow},
	}, srv
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// lintSnapshot runs promlint over the snapshot.
func lintSnapshot(s *Snapshot) error {
	problems, err := testutil.GatherAndLint(snapGatherer(s))
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("lint problems: %v", problems)
	}
	return nil
}

// countValue counts the series of a family with value v.
func countValue(t *testing.T, s *Snapshot, name string, v float64) int {
	t.Helper()
	n := 0
	for _, m := range samples(s) {
		if m.name == name && m.m.GetGauge().GetValue() == v {
			n++
		}
	}
	return n
}

// countLabel counts the series having label=value.
func countLabel(t *testing.T, s *Snapshot, label, value string) int {
	t.Helper()
	n := 0
	for _, m := range samples(s) {
		for _, lp := range m.m.GetLabel() {
			if lp.GetName() == label && lp.GetValue() == value {
				n++
			}
		}
	}
	return n
}

func metricPB(t *testing.T, m sample) *dto.Metric {
	t.Helper()
	return m.m
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func strconvF(v float64) string { return fmt.Sprintf("%.6f", v) }
