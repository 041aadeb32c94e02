package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/collector"
)

// flags are the command line, parsed.
type flags struct {
	configFile, metricsPath, logLevel, logFormat         string
	configCheck, disableExporterMetrics, lifecycle, demo bool
	maxRequests                                          int
	adminEnabled                                         bool
	adminTokenFile                                       string
	adminCacheTTL                                        time.Duration
	adminRate                                            float64
	shard, totalShards                                   int
	shardFromHostname                                    bool
	toolkit                                              *web.FlagConfig
	// enabled are the collectors the --collector.* flags select.
	enabled []string
}

// parseFlags parses args. done is true when the program ends here (help,
// version, a bad flag), with code as its exit code.
func parseFlags(args []string, stdout, stderr io.Writer) (f flags, code int, done bool) {
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
	app.Flag("config.file", "Path to the configuration file.").Default("ece_exporter.yml").StringVar(&f.configFile)
	app.Flag("config.check", "Validate the configuration, print the effective configuration (secrets as <secret>) and exit.").BoolVar(&f.configCheck)
	app.Flag("web.telemetry-path", "Path under which to expose metrics: a clean path starting with /, outside /-/ and /admin/v1/.").Default("/metrics").StringVar(&f.metricsPath)
	app.Flag("web.disable-exporter-metrics", "Exclude the Go runtime and process metrics of the exporter itself.").BoolVar(&f.disableExporterMetrics)
	app.Flag("web.enable-lifecycle", "Enable reloading the configuration via HTTP (POST or PUT /-/reload). SIGHUP always reloads.").BoolVar(&f.lifecycle)
	app.Flag("web.max-requests", "Maximum number of parallel scrape requests; 0 disables the limit.").Default("40").IntVar(&f.maxRequests)
	app.Flag("log.level", "Only log messages with the given severity or above: debug, info, warn, error.").Default("info").EnumVar(&f.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages: logfmt or json.").Default("logfmt").EnumVar(&f.logFormat, "logfmt", "json")
	app.Flag("demo", "Run against a built-in simulated Elastic Cloud API with fake data (no account, no config file, no network).").BoolVar(&f.demo)
	app.Flag("admin.enabled", "Serve the read-only upgrade dry-run endpoint under /admin/v1/ (needs --admin.token-file).").BoolVar(&f.adminEnabled)
	app.Flag("admin.token-file", "File holding the bearer token of the admin endpoint; re-read on reload.").StringVar(&f.adminTokenFile)
	app.Flag("admin.cache-ttl", "How long an upgrade dry-run result is reused; 0s disables the cache.").Default(strconv.Itoa(int(admin.DefaultCacheTTL/time.Second)) + "s").DurationVar(&f.adminCacheTTL)
	app.Flag("admin.rate-limit", "Admin requests allowed per minute and token; 0 disables the limit.").Default(strconv.Itoa(admin.DefaultRatePerMinute)).Float64Var(&f.adminRate)
	app.Flag("shard", "Shard of this replica, 0 to --total-shards-1: it polls only the deployments whose id hashes to it; shard 0 also reports organization-level data.").Default("0").IntVar(&f.shard)
	app.Flag("total-shards", "Number of replicas the deployments are split across.").Default("1").IntVar(&f.totalShards)
	app.Flag("shard.from-hostname", "Take --shard from the ordinal at the end of the hostname (StatefulSet pod name-N).").BoolVar(&f.shardFromHostname)
	f.toolkit = kingpinflag.AddFlags(app, ":9871")
	showVersion := false
	app.Flag("version", "Show the version and exit.").BoolVar(&showVersion)
	selection := collector.RegisterFlags(app)
	if _, err := app.Parse(args); err != nil {
		_, _ = fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return f, 1, true
	}
	if terminated >= 0 {
		return f, terminated, true
	}
	if showVersion {
		_, _ = fmt.Fprintln(stdout, version.Print(program))
		return f, 0, true
	}
	for _, err := range []error{checkTelemetryPath(f.metricsPath), checkAdminFlags(f.adminCacheTTL, f.adminRate)} {
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "%s: %v\n", program, err)
			return f, 1, true
		}
	}
	f.enabled = selection.Enabled()
	return f, 0, false
}

// warnings are the flag combinations that are valid but most likely not
// what was meant; --config.check prints them too.
func (f flags) warnings() []string {
	var ws []string
	if len(f.enabled) == 0 {
		ws = append(ws, "no collector is enabled (--collector.disable-defaults or --no-collector.<name> without any --collector.<name>): only the exporter's own metrics are served")
	}
	if f.adminTokenFile != "" && !f.adminEnabled {
		ws = append(ws, "--admin.token-file is set but the admin endpoint is off: add --admin.enabled to serve it")
	}
	return ws
}
