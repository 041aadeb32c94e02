package config_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	// The collectors register their options with config: the tests of this
	// directory (internal ones included) decode the real collectors.
	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
)

func dur(d time.Duration) config.Duration { return config.NewDuration(d) }

func parseCollectors(t *testing.T, collectors string) config.Collectors {
	t.Helper()
	cfg, err := config.Parse([]byte("accounts: [{name: a, platform: ece, url: 'https://ece:12443', api_key: k}]\n" + collectors))
	require.NoError(t, err)
	return cfg.Collectors
}

// TestCollectorDefaults: a configuration without collectors gets every
// registered collector's defaults.
func TestCollectorDefaults(t *testing.T) {
	t.Parallel()
	want := config.Collectors{
		"deployments":     collector.IntervalOptions{Interval: dur(5 * time.Minute)},
		"billing":         collector.BillingOptions{Interval: dur(time.Hour), Items: true, Concurrency: 4},
		"billing_charts":  collector.BillingChartsOptions{Interval: dur(6 * time.Hour), Bucketing: "daily", PerDeployment: false, Concurrency: 4},
		"remote_clusters": collector.RemoteClustersOptions{Interval: dur(time.Minute), Concurrency: 8},
		"account":         collector.IntervalOptions{Interval: dur(time.Hour)},
		"api_keys":        collector.APIKeysOptions{Interval: dur(15 * time.Minute), Scope: "own"},
		"upgrades":        collector.UpgradesOptions{Interval: dur(24 * time.Hour), Concurrency: 2},

		"deployment_health": collector.DeploymentHealthOptions{Interval: dur(2 * time.Minute)},
		"stack_versions":    collector.IntervalOptions{Interval: dur(6 * time.Hour)},

		"platform_allocators":   collector.IntervalOptions{Interval: dur(time.Minute)},
		"platform_proxies":      collector.IntervalOptions{Interval: dur(time.Minute)},
		"platform_runners":      collector.IntervalOptions{Interval: dur(5 * time.Minute)},
		"platform_license":      collector.IntervalOptions{Interval: dur(time.Hour)},
		"platform_certificates": collector.IntervalOptions{Interval: dur(time.Hour)},
	}
	assert.Equal(t, want, parseCollectors(t, ""))
	assert.Equal(t, want, config.DefaultCollectors())
	assert.Equal(t, collector.Names(), config.CollectorNames())
	for name, o := range want {
		assert.Equal(t, o, config.Collectors(nil).Options(name), "a nil Collectors has the defaults")
	}
}

// TestCollectorOptionsDecode: set keys change, the others keep their
// defaults; "60s" and "1m" are the same interval.
func TestCollectorOptionsDecode(t *testing.T) {
	t.Parallel()
	c := parseCollectors(t, `collectors:
  deployments:
  api_keys: {scope: all, interval: 30m}
  billing: {interval: 2h}
  billing_charts: {bucketing: monthly, per_deployment: true}
  remote_clusters: {concurrency: 64, interval: 60s}
  upgrades: {interval: 1d}
`)
	def := config.DefaultCollectors()
	assert.Equal(t, def["deployments"], c["deployments"], "an empty value keeps the defaults")
	assert.Equal(t, collector.APIKeysOptions{Interval: dur(30 * time.Minute), Scope: "all"}, c["api_keys"])
	assert.Equal(t, collector.BillingOptions{Interval: dur(2 * time.Hour), Items: true, Concurrency: 4}, c["billing"])
	assert.Equal(t, collector.BillingChartsOptions{Interval: dur(6 * time.Hour), Bucketing: "monthly", PerDeployment: true, Concurrency: 4}, c["billing_charts"])
	assert.Equal(t, collector.RemoteClustersOptions{Interval: dur(time.Minute), Concurrency: 64}, c["remote_clusters"])
	assert.Equal(t, collector.UpgradesOptions{Interval: dur(24 * time.Hour), Concurrency: 2}, c["upgrades"])
	assert.Equal(t, def["platform_license"], c["platform_license"])
}

// TestPlatformCollectors: the five platform collectors share one options
// type; each keeps its own default and minimum and is named in its own
// errors.
func TestPlatformCollectors(t *testing.T) {
	t.Parallel()
	c := parseCollectors(t, "collectors:\n  platform_runners: {interval: 10m}\n  platform_license: {}\n")
	assert.Equal(t, 10*time.Minute, c["platform_runners"].PollInterval().Duration())
	assert.Equal(t, time.Hour, c["platform_license"].PollInterval().Duration(), "an empty mapping keeps the default")
	assert.Equal(t, time.Minute, c["platform_allocators"].PollInterval().Duration())
	assert.Equal(t, config.DefaultCollectors()["platform_certificates"], c["platform_certificates"])

	_, err := config.Parse([]byte("accounts: [{name: a, api_key: k}]\ncollectors: {platform_allocators: {interval: 5s}}\n"))
	assert.EqualError(t, err, `collectors.platform_allocators.interval: "5s": must be at least 15s`)
	_, err = config.Parse([]byte("accounts: [{name: a, api_key: k}]\ncollectors: {platform_runners: {interval: 30s}}\n"))
	assert.EqualError(t, err, `collectors.platform_runners.interval: "30s": must be at least 1m0s`)
	_, err = config.Parse([]byte("accounts: [{name: a, api_key: k}]\ncollectors: {billing: {interval: 60s}}\n"))
	assert.EqualError(t, err, `collectors.billing.interval: "60s": must be at least 5m0s`, "the interval as written")
}

// TestUnknownCollector: a collector name the registry does not know is an
// error naming it.
func TestUnknownCollector(t *testing.T) {
	t.Parallel()
	_, err := config.Parse([]byte("accounts: [{name: a, api_key: k}]\ncollectors:\n  billing: {interval: 1h}\n  colour: {interval: 1h}\n"))
	assert.EqualError(t, err, "collectors.colour: unknown collector")
}

// TestRedactedPrintsEveryCollector: --config.check shows every
// collector's effective options, and they load back unchanged.
func TestRedactedPrintsEveryCollector(t *testing.T) {
	t.Parallel()
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{{Name: "a", APIKey: "k"}}
	cfg.Collectors = cfg.Collectors.With("billing", collector.BillingOptions{Interval: dur(2 * time.Hour), Concurrency: 3})
	out, err := cfg.Redacted()
	require.NoError(t, err)
	var doc struct {
		Collectors map[string]map[string]any `yaml:"collectors"`
	}
	require.NoError(t, yaml.Unmarshal(out, &doc))
	var names []string
	for n := range doc.Collectors {
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, collector.Names(), names)
	assert.Equal(t, map[string]any{"interval": "2h", "items": false, "concurrency": 3}, doc.Collectors["billing"])
	assert.Equal(t, map[string]any{"interval": "5m"}, doc.Collectors["deployments"])

	back, err := config.Parse(out)
	require.NoError(t, err)
	assert.Equal(t, cfg.Collectors.Options("billing"), back.Collectors["billing"])
	assert.Equal(t, config.DefaultCollectors()["api_keys"], back.Collectors["api_keys"])
}

// TestExampleConfigCollectors: config.example.yml's collector section
// lists every registered collector with every one of its options, set to
// the defaults.
func TestExampleConfigCollectors(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "config.example.yml"))
	require.NoError(t, err)
	var example struct {
		Collectors map[string]map[string]any `yaml:"collectors"`
	}
	require.NoError(t, yaml.Unmarshal(data, &example))
	for _, name := range config.CollectorNames() {
		var want map[string]any
		b, err := yaml.Marshal(config.DefaultCollectors()[name])
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(b, &want))
		assert.Equal(t, want, example.Collectors[name], "collectors.%s in config.example.yml", name)
	}
	assert.Len(t, example.Collectors, len(config.CollectorNames()), "config.example.yml names a collector that is not registered")
}
