package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
)

// exporter is everything the web server serves: the registry, the
// collectors' manager, the optional admin endpoint and the reloads.
type exporter struct {
	reg     *prometheus.Registry
	mgr     *collector.Manager
	admin   *admin.Handler // nil when --admin.enabled is off
	reloads *config.SafeConfig
	logger  log.Logger
}

// newExporter sets up the registry, the collectors, the admin endpoint and
// the reloads; nothing polls until reloads.Set.
func newExporter(f flags, logger log.Logger, load func() (*config.Config, error), now func() time.Time, sharder collector.HashSharder) (*exporter, error) {
	// Before anything starts: the toolkit would hang on a FIFO.
	if f.toolkit != nil && f.toolkit.WebConfigFile != nil {
		if err := checkWebConfig(*f.toolkit.WebConfigFile); err != nil {
			return nil, err
		}
	}
	e := &exporter{reg: prometheus.NewRegistry(), logger: logger}
	e.reg.MustRegister(versioncollector.NewCollector(program))
	if !f.disableExporterMetrics {
		e.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	var err error
	e.mgr, err = collector.NewManager(collector.Options{
		Logger: logger, Registerer: e.reg, Enabled: f.enabled, Version: version.Version,
		StartJitter: 2 * time.Second, Now: now, Sharder: sharder,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot set up collectors: %w", err)
	}
	if f.totalShards > 1 {
		e.reg.MustRegister(collector.ShardMetrics(sharder)...)
	}
	if f.adminEnabled {
		e.admin, err = admin.New(admin.Options{
			Logger: log.With(logger, "component", "admin"), Registerer: e.reg,
			TokenFile: f.adminTokenFile, CacheTTL: f.adminCacheTTL, RatePerMinute: f.adminRate,
		}, e.mgr)
		if err != nil {
			return nil, fmt.Errorf("cannot enable the admin endpoint: %w", err)
		}
	}
	apply := e.mgr.Apply
	if e.admin != nil {
		// The admin token is re-read at every reload, and swapped in only
		// when that reload's configuration is applied.
		tr := newTokenReload(e.admin.ReadToken, e.admin.SetToken)
		load, apply = tr.load(load), tr.apply(apply)
	}
	e.reloads, err = config.NewSafeConfig(e.reg, logger, load, apply)
	if err != nil {
		return nil, fmt.Errorf("cannot set up reloads: %w", err)
	}
	return e, nil
}

// routes are the handlers of e.
func (e *exporter) routes(f flags, reloadCtx context.Context) routes {
	return routes{
		registry: e.reg, mgr: e.mgr, reloads: e.reloads,
		reloadCtx: reloadCtx, admin: e.admin, logger: e.logger, f: f,
	}
}

// newSharder returns the sharder of --shard, --total-shards and
// --shard.from-hostname.
func newSharder(f flags) (collector.HashSharder, error) {
	shard := f.shard
	if f.shardFromHostname {
		host, _ := os.Hostname()
		n, err := collector.OrdinalFromHostname(host)
		if err != nil {
			return collector.HashSharder{}, err
		}
		shard = n
	}
	return collector.NewHashSharder(shard, f.totalShards)
}

// watchSIGHUP reloads at every SIGHUP until ctx ends. The returned function
// stops it (calling stop, which must end ctx) and waits for it.
func watchSIGHUP(ctx context.Context, stop func(), reloads *config.SafeConfig) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		for {
			select {
			case <-hup:
				_ = reloads.Reload(ctx)
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { signal.Stop(hup); stop(); done.Wait() }
}

// accountList is the comma-separated account names of cfg, for log lines.
func accountList(cfg *config.Config) string {
	names := make([]string, 0, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		names = append(names, a.Name)
	}
	return strings.Join(names, ",")
}

// printConfig is --config.check: the effective configuration, secrets
// redacted.
func printConfig(w io.Writer, cfg *config.Config, enabled []string, logger log.Logger) int {
	out, err := cfg.Redacted()
	if err == nil {
		for _, note := range collector.SelectionNotes(enabled) {
			out = append(out, "# note: "+note+"\n"...)
		}
		_, err = fmt.Fprintf(w, "%s", out)
	}
	if err != nil {
		level.Error(logger).Log("msg", "cannot print configuration", "err", err)
		return 1
	}
	return 0
}
