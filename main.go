// Command ece_exporter is a Prometheus exporter for the Elastic Cloud (ESS)
// and Elastic Cloud Enterprise (ECE) API: deployment costs, cost charts,
// remote-cluster health and API key expirations, polled in the background
// and served from a cache.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

const program = "ece_exporter"

// shutdownGrace bounds a graceful shutdown.
const shutdownGrace = 15 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run is the whole program. Cancelling ctx shuts it down gracefully. When
// ln is non-nil it is served instead of --web.listen-address (tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ln net.Listener) int {
	app := kingpin.New(program, "Prometheus exporter for the Elastic Cloud (ESS) and Elastic Cloud Enterprise (ECE) API.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	// kingpin ends the program itself after --help, --help-long,
	// --help-man and the completion flags; run returns their code instead.
	terminated := -1
	app.Terminate(func(code int) {
		if terminated < 0 {
			terminated = code
		}
	})
	app.HelpFlag.Short('h')
	var (
		configFile     = app.Flag("config.file", "Path to the configuration file.").Default("ece_exporter.yml").String()
		configCheck    = app.Flag("config.check", "Validate the configuration, print the effective configuration (secrets as <secret>) and exit.").Bool()
		metricsPath    = app.Flag("web.telemetry-path", "Path under which to expose metrics: a clean path starting with /, outside /-/ and /admin/v1/.").Default("/metrics").String()
		disableExpMet  = app.Flag("web.disable-exporter-metrics", "Exclude the Go runtime and process metrics of the exporter itself.").Bool()
		lifecycle      = app.Flag("web.enable-lifecycle", "Enable reloading the configuration via HTTP (POST or PUT /-/reload). SIGHUP always reloads.").Bool()
		maxRequests    = app.Flag("web.max-requests", "Maximum number of parallel scrape requests; 0 disables the limit.").Default("40").Int()
		logLevel       = app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").Enum("debug", "info", "warn", "error")
		logFormat      = app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").Enum("logfmt", "json")
		demo           = app.Flag("demo", "Run against a built-in simulated Elastic Cloud API with fake data (no account, no config file, no network).").Bool()
		adminEnabled   = app.Flag("admin.enabled", "Serve the read-only upgrade dry-run endpoint under /admin/v1/ (needs --admin.token-file).").Bool()
		adminTokenFile = app.Flag("admin.token-file", "File holding the bearer token of the admin endpoint; re-read on reload.").String()
		adminCacheTTL  = app.Flag("admin.cache-ttl", "How long an upgrade dry-run result is reused; 0s disables the cache.").Default(strconv.Itoa(int(admin.DefaultCacheTTL/time.Second)) + "s").Duration()
		adminRate      = app.Flag("admin.rate-limit", "Admin requests allowed per minute and token; 0 disables the limit.").Default(strconv.Itoa(admin.DefaultRatePerMinute)).Float64()
		shard          = app.Flag("shard", "Shard of this replica, 0 to --total-shards-1: it polls only the deployments whose id hashes to it; shard 0 also reports organization-level data.").Default("0").Int()
		totalShards    = app.Flag("total-shards", "Number of replicas the deployments are split across.").Default("1").Int()
		shardAuto      = app.Flag("shard.from-hostname", "Take --shard from the ordinal at the end of the hostname (StatefulSet pod name-N).").Bool()
		toolkitFlags   = kingpinflag.AddFlags(app, ":9871")
		versionFlagSet = false
	)
	app.Flag("version", "Show the version and exit.").Action(func(*kingpin.ParseContext) error {
		versionFlagSet = true
		return nil
	}).Bool()
	collector.RegisterFlags(app)
	if _, err := app.Parse(args); err != nil {
		_, _ = fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	if terminated >= 0 {
		return terminated
	}
	if versionFlagSet {
		_, _ = fmt.Fprintln(stdout, version.Print(program))
		return 0
	}
	for _, err := range []error{checkTelemetryPath(*metricsPath), checkAdminFlags(*adminCacheTTL, *adminRate)} {
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "%s: %v\n", program, err)
			return 1
		}
	}

	logger, slogger := newLoggers(stderr, *logFormat, *logLevel)
	// "stopped" is the last line, written once everything below has
	// returned (deferred calls run last-in, first-out).
	serving := false
	defer func() {
		if serving {
			level.Info(logger).Log("msg", "stopped")
		}
	}()
	for _, w := range flagWarnings(collector.EnabledFromFlags(), *adminEnabled, *adminTokenFile) {
		level.Warn(logger).Log("msg", w)
	}

	// The demo runs the simulated API in-process and points a generated
	// configuration at it.
	var load func() (*config.Config, error)
	now := time.Now
	if *demo {
		now = demoNow
		sims, demoCfg := startDemo()
		defer sims.Close()
		load = func() (*config.Config, error) { return demoCfg, nil }
		level.Warn(logger).Log("msg", "DEMO MODE: all data comes from a built-in simulated Elastic Cloud API and is fake", "accounts", strings.Join(accountNames(demoCfg), ","))
	} else {
		load = func() (*config.Config, error) { return config.Load(*configFile) }
	}
	cfg, err := load()
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "file", *configFile, "err", err)
		return 1
	}
	if *configCheck {
		out, err := cfg.Redacted()
		if err != nil {
			level.Error(logger).Log("msg", "cannot print configuration", "err", err)
			return 1
		}
		if _, err := fmt.Fprintf(stdout, "%s", out); err != nil {
			level.Error(logger).Log("msg", "cannot print configuration", "err", err)
			return 1
		}
		return 0
	}

	if *shardAuto {
		host, _ := os.Hostname()
		n, err := collector.OrdinalFromHostname(host)
		if err != nil {
			level.Error(logger).Log("msg", "invalid sharding flags", "err", err)
			return 1
		}
		*shard = n
	}
	sharder, err := collector.NewHashSharder(*shard, *totalShards)
	if err != nil {
		level.Error(logger).Log("msg", "invalid sharding flags", "err", err)
		return 1
	}
	enabled := collector.EnabledFromFlags()
	level.Info(logger).Log("msg", "starting "+program, "version", version.Info(), "build_context", version.BuildContext())
	level.Info(logger).Log("msg", "configuration loaded", "accounts", strings.Join(accountNames(cfg), ","), "collectors", strings.Join(enabled, ","))

	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(program))
	if !*disableExpMet {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	mgr, err := collector.NewManager(collector.Options{
		Logger: logger, Registerer: reg, Enabled: enabled, Version: version.Version,
		StartJitter: 2 * time.Second, Now: now, Sharder: sharder,
	})
	if err != nil {
		level.Error(logger).Log("msg", "cannot set up collectors", "err", err)
		return 1
	}
	reg.MustRegister(mgr)
	if *totalShards > 1 {
		reg.MustRegister(collector.ShardMetrics(sharder)...)
	}
	var adminHandler *admin.Handler
	if *adminEnabled {
		adminHandler, err = admin.New(admin.Options{
			Logger: log.With(logger, "component", "admin"), Registerer: reg,
			TokenFile: *adminTokenFile, CacheTTL: *adminCacheTTL, RatePerMinute: *adminRate,
		}, adminBackend{mgr})
		if err != nil {
			level.Error(logger).Log("msg", "cannot enable the admin endpoint", "err", err)
			return 1
		}
	}
	reloadLoad := load
	if adminHandler != nil {
		reloadLoad = func() (*config.Config, error) {
			cfg, err := load()
			if err == nil {
				err = adminHandler.ReloadToken()
			}
			return cfg, err
		}
	}
	reloads, err := config.NewSafeConfig(reg, logger, reloadLoad, mgr.Apply)
	if err != nil {
		level.Error(logger).Log("msg", "cannot set up reloads", "err", err)
		return 1
	}
	if err := reloads.Set(cfg); err != nil {
		level.Error(logger).Log("msg", "cannot start collectors", "err", err)
		return 1
	}
	// Reloads in flight end at shutdown, even one waiting on a hung file.
	reloadCtx, stopReloads := context.WithCancel(ctx)
	defer stopReloads()

	mux := http.NewServeMux()
	metricsHandler, err := exposition.Handler(mgr.Gatherer(reg), promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: *maxRequests,
		ErrorLog:            stdErrLogger{logger},
		Registry:            reg,
	})
	if err != nil {
		level.Error(logger).Log("msg", "cannot build the metrics handler", "err", err)
		return 1
	}
	mux.Handle(*metricsPath, metricsHandler)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !mgr.Ready() {
			http.Error(w, "Not ready: waiting for the first poll of every collector", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		// As Prometheus: GET is 405 either way; without the flag POST and
		// PUT are 403, since the default listen address is every interface.
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Only POST or PUT requests allowed", http.StatusMethodNotAllowed)
			return
		}
		if !*lifecycle {
			http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
			return
		}
		if err := reloads.Reload(reloadCtx); err != nil {
			http.Error(w, "Reload failed; the previous configuration stays active: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprintln(w, "Reloaded")
	})
	if adminHandler != nil {
		mux.Handle(admin.PathPrefix, adminHandler)
	}
	if *metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        program,
			Description: "Prometheus exporter for the Elastic Cloud and ECE API",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: *metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
			// No pprof links: the exporter does not serve /debug/pprof/.
			Profiling: "false",
		})
		if err != nil {
			level.Error(logger).Log("msg", "cannot build landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	srv := newHTTPServer(mux, log.With(logger, "component", "http"))

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var hupDone sync.WaitGroup
	hupDone.Add(1)
	defer func() { signal.Stop(hup); stopReloads(); hupDone.Wait() }()
	go func() {
		defer hupDone.Done()
		for {
			select {
			case <-hup:
				_ = reloads.Reload(reloadCtx)
			case <-reloadCtx.Done():
				return
			}
		}
	}()

	serving = true
	serveErr := make(chan error, 1)
	go func() {
		if ln != nil {
			serveErr <- web.Serve(ln, srv, toolkitFlags, slogger)
			return
		}
		serveErr <- web.ListenAndServe(srv, toolkitFlags, slogger)
	}()

	code := 0
	served := false
	select {
	case err := <-serveErr:
		served = true
		if !errors.Is(err, http.ErrServerClosed) {
			level.Error(logger).Log("msg", "cannot serve", "err", err)
			code = 1
		}
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		level.Warn(logger).Log("msg", "HTTP server did not stop in time", "err", err)
	}
	if !served {
		<-serveErr // Serve returns as soon as Shutdown has closed the listeners
	}
	mgr.Stop(sctx)
	return code
}

// stdErrLogger adapts go-kit to promhttp's error logger.
type stdErrLogger struct{ logger log.Logger }

func (l stdErrLogger) Println(v ...any) {
	level.Error(l.logger).Log("msg", "error serving metrics", "err", fmt.Sprint(v...))
}

// flagWarnings are the flag combinations that are valid but most likely
// not what was meant; --config.check prints them too.
func flagWarnings(enabled []string, adminEnabled bool, adminTokenFile string) []string {
	var ws []string
	if len(enabled) == 0 {
		ws = append(ws, "no collector is enabled (--collector.disable-defaults or --no-collector.<name> without any --collector.<name>): only the exporter's own metrics are served")
	}
	if adminTokenFile != "" && !adminEnabled {
		ws = append(ws, "--admin.token-file is set but the admin endpoint is off: add --admin.enabled to serve it")
	}
	return ws
}

func accountNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		names = append(names, a.Name)
	}
	return names
}

// adminBackend gives the admin endpoint the manager's clients and discovery.
type adminBackend struct{ m *collector.Manager }

func (b adminBackend) Client(account string) (*eceapi.Client, bool) { return b.m.Client(account) }

func (b adminBackend) Resources(account, deploymentID string) ([]admin.Resource, bool) {
	d, ok := b.m.Discovery(account)
	if !ok {
		return nil, false
	}
	dep, ok := d.Find(deploymentID)
	if !ok {
		return nil, false
	}
	out := make([]admin.Resource, 0, len(dep.Resources))
	for _, r := range dep.Resources {
		out = append(out, admin.Resource{Kind: r.Kind, RefID: r.RefID})
	}
	return out, true
}

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
	return demoServers{ess, essV2, ece}, &cfg
}
