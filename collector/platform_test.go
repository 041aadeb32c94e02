package collector

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// Helpers of the platform_* collector tests.

// platformFixtures serves fixture files (testdata/<operation>/<case>.json)
// by API path, on an ECE account.
func platformFixtures(t *testing.T, files map[string]string) Env {
	t.Helper()
	bodies := make(map[string]string, len(files))
	for path, file := range files {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(t, err)
		bodies["/api/v1/"+path] = string(b)
	}
	env, _ := fixtureEnv(t, bodies)
	env.Account.Platform = config.PlatformECE
	return env
}

// pollOnce builds a collector and polls it once.
func pollOnce(t *testing.T, env Env, newSource Factory) (*Snapshot, error) {
	t.Helper()
	src, err := newSource(env)
	require.NoError(t, err)
	return src.Poll(context.Background())
}

// compareSnapshot gathers the snapshot (checked as a pedantic registry would) and
// compares the named families with want, then lints the output.
func compareSnapshot(t *testing.T, s *Snapshot, want string, names ...string) {
	t.Helper()
	require.NoError(t, testutil.GatherAndCompare(snapGatherer(s), strings.NewReader(want), names...))
	require.NoError(t, lintSnapshot(s))
}

// logBuffer is a go-kit logger into a buffer, for log assertions.
func logBuffer(env *Env) *bytes.Buffer {
	var buf bytes.Buffer
	env.Logger = log.NewLogfmtLogger(log.NewSyncWriter(&buf))
	return &buf
}

var platformFactories = map[string]Factory{
	platformAllocatorsName:   newPlatformAllocatorsSource,
	platformProxiesName:      newPlatformProxiesSource,
	platformRunnersName:      newPlatformRunnersSource,
	platformLicenseName:      newPlatformLicenseSource,
	platformCertificatesName: newPlatformCertificatesSource,
}

// TestPlatformCollectorsNeedAPlatformAdmin: a key without the platform
// admin role fails each platform collector with reason auth and an error
// that names the role, and nothing else.
func TestPlatformCollectorsNeedAPlatformAdmin(t *testing.T) {
	t.Parallel()
	for name, factory := range platformFactories {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 3, NotPlatformAdmin: true})
			_, err := pollOnce(t, env, factory)
			require.Error(t, err)
			assert.Equal(t, ReasonAuth, Reason(err))
			assert.Contains(t, err.Error(), "needs the key of a platform administrator (role ece_platform_admin)")
			assert.Contains(t, err.Error(), "403")
			assert.NotContains(t, err.Error(), "sim-api-key")
		})
	}
	// The same key still serves the collectors that need no platform role.
	_, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 3, NotPlatformAdmin: true})
	_, err := pollOnce(t, env, newAPIKeysSource)
	require.NoError(t, err)
	discover(t, env)
}

// TestPlatformCollectorsAreECEOnly: on ESS they are never polled.
func TestPlatformCollectorsAreECEOnly(t *testing.T) {
	t.Parallel()
	for name := range platformFactories {
		reg := registry[name]
		require.NotNil(t, reg, name)
		assert.True(t, reg.DefaultEnabled, name)
		ok, why := reg.Supports(config.Account{Platform: config.PlatformESS})
		assert.False(t, ok, name)
		assert.Contains(t, why, "only in Elastic Cloud Enterprise")
		ok, _ = reg.Supports(config.Account{Platform: config.PlatformECE})
		assert.True(t, ok, name)
	}
}

// TestPlatformCollectorsOnTheSimulator polls the five collectors against
// the simulator's platform mix.
func TestPlatformCollectorsOnTheSimulator(t *testing.T) {
	t.Parallel()
	_, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 3})
	fams := map[string]int{}
	for name, factory := range platformFactories {
		snap, err := pollOnce(t, env, factory)
		require.NoError(t, err, name)
		require.Empty(t, snap.Partial, name)
		require.NoError(t, lintSnapshot(snap), name)
		for f, n := range familyNames(t, snap) {
			fams[f] += n
		}
	}
	assert.Equal(t, 6, fams["ece_platform_allocator_connected"])
	assert.Equal(t, 3, fams["ece_platform_allocator_zone_memory_capacity_bytes"])
	assert.Equal(t, 3, fams["ece_platform_proxies_status"])
	assert.Equal(t, 9, fams["ece_platform_runner_connected"])
	assert.Equal(t, 1, fams["ece_platform_license_expiration_timestamp_seconds"])
	assert.Equal(t, 4, fams["ece_platform_certificate_expiration_timestamp_seconds"])
	assert.Equal(t, 7, fams["ece_platform_certificate_not_after_timestamp_seconds"], "three chains of two and the CA")
}

func eceConfig(url string) *config.Config {
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{{Name: "onprem", Platform: config.PlatformECE, URL: url, Credentials: config.Credentials{APIKey: "sim-api-key"}}}
	return &cfg
}

// TestCallsPerCycleECE: one cycle of the default collectors on an ECE
// account: the deployments, remote clusters and keys calls, plus
// floor(A/100)+1 allocator pages, one call each for proxies, runners and
// the license, one per TLS service (4), one search page (deployment_health)
// and the stack versions.
func TestCallsPerCycleECE(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Mode: ecesim.ModeECE, Seed: 34, DeploymentsPerOrg: 5, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	startManager(t, eceConfig(srv.URL))
	assert.Equal(t, map[string]int{
		"list-deployments": 1, "get-deployment-es-resource-remote-clusters": 5, "get-api-keys": 1,
		"search-deployments": 1, "get-version-stacks": 1,
		"get-allocators": 1, "get-proxies-health": 1, "get-runners": 1, "get-license": 1, "get-tls-certificate": 4,
		"get-current-account": 1,
	}, sim.RequestCounts())
}

// TestPlatformRefusedLeavesTheOthersAlone: with a key that is not a
// platform administrator, the five platform collectors fail with
// reason="auth" and one log line each naming the role; the other
// collectors of the account succeed.
func TestPlatformRefusedLeavesTheOthersAlone(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Mode: ecesim.ModeECE, Seed: 35, DeploymentsPerOrg: 3, NotPlatformAdmin: true, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	reg := prometheus.NewPedanticRegistry()
	m, err := NewManager(Options{Registerer: reg, Enabled: DefaultEnabled(), Now: testNow, Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs))})
	require.NoError(t, err)
	require.NoError(t, m.Apply(eceConfig(srv.URL)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Stop(ctx)
	})
	waitReady(t, m)
	want := `
# HELP ece_exporter_collector_success Whether the last poll of the collector succeeded (1) or failed (0).
# TYPE ece_exporter_collector_success gauge
ece_exporter_collector_success{account="onprem",collector="account"} 1
ece_exporter_collector_success{account="onprem",collector="api_keys"} 1
ece_exporter_collector_success{account="onprem",collector="deployment_health"} 1
ece_exporter_collector_success{account="onprem",collector="deployments"} 1
ece_exporter_collector_success{account="onprem",collector="platform_allocators"} 0
ece_exporter_collector_success{account="onprem",collector="platform_certificates"} 0
ece_exporter_collector_success{account="onprem",collector="platform_license"} 0
ece_exporter_collector_success{account="onprem",collector="platform_proxies"} 0
ece_exporter_collector_success{account="onprem",collector="platform_runners"} 0
ece_exporter_collector_success{account="onprem",collector="remote_clusters"} 1
ece_exporter_collector_success{account="onprem",collector="stack_versions"} 1
`
	require.NoError(t, testutil.GatherAndCompare(m.Gatherer(reg), strings.NewReader(want), "ece_exporter_collector_success"))
	for name := range platformFactories {
		assert.Equal(t, 1.0, testutil.ToFloat64(m.self.errors.WithLabelValues("onprem", name, ReasonAuth)), name)
		assert.Zero(t, testutil.ToFloat64(m.self.errors.WithLabelValues("onprem", name, ReasonNetwork)), name)
	}
	lines := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "role ece_platform_admin") {
			lines++
			assert.Contains(t, l, "reason=auth")
			assert.Contains(t, l, "collector=platform_")
		}
	}
	assert.Equal(t, 5, lines, "one line per platform collector:\n%s", logs.String())
}

// TestPlatformNotPolledOnESS: the platform collectors are not started for
// an ESS account, and say so once, not on every reload.
func TestPlatformNotPolledOnESS(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 36, DeploymentsPerOrg: 2, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	m, err := NewManager(Options{Registerer: prometheus.NewRegistry(), Enabled: DefaultEnabled(), Now: testNow, Logger: log.NewLogfmtLogger(log.NewSyncWriter(&logs))})
	require.NoError(t, err)
	cfg := essConfig(srv.URL)
	require.NoError(t, m.Apply(cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.Stop(ctx)
	})
	waitReady(t, m)
	reload := *cfg
	reload.Collectors = cfg.Collectors.With(platformLicenseName, IntervalOptions{Interval: config.NewDuration(2 * time.Hour)})
	require.NoError(t, m.Apply(&reload))
	for name := range platformFactories {
		assert.Equal(t, 1, strings.Count(logs.String(), "collector="+name+" reason=\"the platform API exists only in Elastic Cloud Enterprise\""), name)
	}
	for _, op := range []string{"get-allocators", "get-proxies-health", "get-runners", "get-license", "get-tls-certificate"} {
		assert.Zero(t, sim.Requests(op), op)
	}
}

// TestPlatformOnlyOnShardZero: with --total-shards, shard 0 reports the
// platform (like the other account-wide data) and the others call nothing.
func TestPlatformOnlyOnShardZero(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 37})
	for _, shard := range []int{0, 1} {
		h, err := NewHashSharder(shard, 2)
		require.NoError(t, err)
		env.Sharder = h
		sim.ResetCounts()
		series := 0
		for name, factory := range platformFactories {
			snap, err := pollOnce(t, env, factory)
			require.NoError(t, err, name)
			series += snap.Len()
		}
		if shard == 0 {
			assert.Positive(t, series)
			assert.Equal(t, 8, sim.TotalRequests())
		} else {
			assert.Zero(t, series)
			assert.Zero(t, sim.TotalRequests())
		}
	}
}
