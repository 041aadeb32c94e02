package main

import (
	"net/http/httptest"
	"time"

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

// startDemo starts an ESS and an ECE simulator on loopback and returns a
// configuration pointing at them.
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
	cfg := config.DefaultConfig
	cfg.Accounts = []config.Account{
		{Name: "demo-ess", Platform: config.PlatformESS, URL: ess.URL,
			Credentials: config.Credentials{APIKey: "demo-ess-api-key"}},
		{Name: "demo-ece", Platform: config.PlatformECE, URL: ece.URL,
			Credentials: config.Credentials{APIKey: "demo-ece-api-key"}},
	}
	return demoServers{ess, ece}, &cfg
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
