package config

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
)

// SafeConfig is the running configuration and its safe reload, after
// blackbox_exporter's: a reload loads and validates the new configuration
// completely, then hands it to the apply function; on any error the
// running configuration stays and the reload metrics say so.
//
// Loading runs without any lock held and is bounded in time (every file is
// read with internal/safefile), so a reload that reads a bad file never
// holds up a later reload or shutdown. Reloads that overlap are applied in
// the order they started: one whose load finishes after a later reload was
// already applied is dropped (the later one read the files later).
type SafeConfig struct {
	load   func() (*Config, error)
	apply  func(*Config) error
	logger log.Logger

	started atomic.Uint64 // sequence number of the last reload started

	mu       sync.Mutex // serialises apply; guards the fields below
	cur      *Config
	applied  uint64 // sequence number of the configuration applied
	reported uint64 // sequence number of the outcome the gauges show
	success  prometheus.Gauge
	when     prometheus.Gauge
}

// NewSafeConfig returns a SafeConfig that loads with load and applies with
// apply, and registers ece_exporter_config_last_reload_successful and
// ece_exporter_config_last_reload_success_timestamp_seconds with reg.
// Nothing is loaded before the first Reload.
func NewSafeConfig(reg prometheus.Registerer, logger log.Logger, load func() (*Config, error), apply func(*Config) error) (*SafeConfig, error) {
	s := &SafeConfig{
		load: load, apply: apply, logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ece_exporter_config_last_reload_successful",
			Help: "Whether the last configuration reload succeeded (1) or kept the previous configuration (0).",
		}),
		when: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ece_exporter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully.",
		}),
	}
	for _, c := range []prometheus.Collector{s.success, s.when} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Config returns the configuration applied last, or nil before the first
// successful Reload.
func (s *SafeConfig) Config() *Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Set applies a configuration the caller loaded (the first one, at start-up)
// and, if that succeeds, records it as the running one.
func (s *SafeConfig) Set(cfg *Config) error {
	seq := s.started.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.apply(cfg); err != nil {
		return err
	}
	s.cur, s.applied, s.reported = cfg, seq, seq
	s.success.Set(1)
	s.when.SetToCurrentTime()
	return nil
}

// Reload loads the configuration and applies it. It returns when the
// reload is done or ctx is cancelled, whichever comes first; a load
// abandoned by a cancelled ctx finishes in the background (within
// safefile's time bound per file) and is then dropped.
func (s *SafeConfig) Reload(ctx context.Context) error {
	seq := s.started.Add(1)
	type result struct {
		cfg *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := s.load()
		done <- result{cfg, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return ctx.Err()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applied > seq {
		level.Debug(s.logger).Log("msg", "configuration reload superseded by a later one", "err", r.err)
		return r.err
	}
	err := r.err
	if err == nil {
		err = s.apply(r.cfg)
	}
	if err != nil {
		if seq > s.reported {
			s.reported = seq
			s.success.Set(0)
		}
		level.Error(s.logger).Log("msg", "configuration reload failed; keeping the previous configuration", "err", err)
		return err
	}
	s.cur, s.applied, s.reported = r.cfg, seq, seq
	s.success.Set(1)
	s.when.SetToCurrentTime()
	level.Info(s.logger).Log("msg", "configuration reloaded", "accounts", strings.Join(accountNames(r.cfg), ","))
	return nil
}

func accountNames(cfg *Config) []string {
	names := make([]string, 0, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		names = append(names, a.Name)
	}
	return names
}
