package main

import (
	"net/http/httptest"
	"time"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// demoNow is the clock of the demo data (tests fix it for the golden file).
var demoNow = time.Now

// demoServers are the simulated APIs of --demo.
type demoServers []*httptest.Server

func (d demoServers) Close() {
	for _, s := range d {
		s.Close()
	}
}

// startDemo starts two ESS simulators (billing v1 and v2) and an ECE
// simulator on loopback and returns a configuration pointing at them.
func startDemo() (demoServers, *config.Config) {
	now := demoNow
	ess := httptest.NewServer(ecesim.New(ecesim.Options{
		Mode: ecesim.ModeESS, Seed: 42, Organizations: 2, DeploymentsPerOrg: 12, IDPrefix: "deadbeef",
		APIKey: "demo-ess-api-key", Now: now,
		RateLimit: 10000, RateLimitInterval: time.Minute,
	}))
	ece := httptest.NewServer(ecesim.New(ecesim.Options{
		Mode: ecesim.ModeECE, Seed: 7, DeploymentsPerOrg: 12, IDPrefix: "deadbeef",
		APIKey: "demo-ece-api-key", Username: "demo-admin", Password: "demo-password", Now: now,
		APIKeyExpiration: now().Add(20 * 24 * time.Hour),
	}))
	// One organization on billing v2 (serverless projects and services,
	// items from costs/instances; the simulator serves v2 beside v1).
	essV2 := httptest.NewServer(ecesim.New(ecesim.Options{
		Mode: ecesim.ModeESS, Seed: 43, Organizations: 1, DeploymentsPerOrg: 4, IDPrefix: "cafef00d",
		APIKey: "demo-ess-v2-api-key", Now: now,
	}))
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{
		{Name: "demo-ess", Platform: config.PlatformESS, URL: ess.URL,
			Credentials: config.Credentials{APIKey: "demo-ess-api-key"},
			Budgets: []config.Budget{{Name: "total", MonthlyECU: 20000},
				{Name: "team-search", Tag: map[string]string{"team": "search"}, MonthlyECU: 3000}}},
		{Name: "demo-ess-v2", Platform: config.PlatformESS, URL: essV2.URL,
			Credentials: config.Credentials{APIKey: "demo-ess-v2-api-key"},
			Billing:     config.Billing{API: config.BillingAPIV2, URL: essV2.URL},
			Budgets:     []config.Budget{{Name: "total", MonthlyECU: 5000}}},
		{Name: "demo-ece", Platform: config.PlatformECE, URL: ece.URL,
			Credentials: config.Credentials{APIKey: "demo-ece-api-key"}},
	}
	// The simulator tags its deployments (team, cost-center): allow-list
	// team so the demo shows ece_deployment_tag_info and cost by team.
	health := config.DefaultCollectors().Options("deployment_health").(collector.DeploymentHealthOptions)
	health.Tags = []string{"team"}
	cfg.Collectors = cfg.Collectors.With("deployment_health", health)
	return demoServers{ess, essV2, ece}, &cfg
}

// configSource returns how the configuration is loaded (again at every
// reload), the clock of the collectors, and what to close at exit. With
// --demo the simulated API runs in-process and a generated configuration
// points at it; a message says so.
func configSource(f flags) (load func() (*config.Config, error), now func() time.Time, closeFn func(), demoMsg []any) {
	if !f.demo {
		return func() (*config.Config, error) { return config.Load(f.configFile) }, time.Now, func() {}, nil
	}
	sims, cfg := startDemo()
	msg := []any{"msg", "DEMO MODE: all data comes from a built-in simulated Elastic Cloud API and is fake", "accounts", accountList(cfg)}
	return func() (*config.Config, error) { return cfg, nil }, demoNow, sims.Close, msg
}
