package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
	"github.com/ece-exporter/ece_exporter/internal/status"
)

// routes are what the web server serves.
type routes struct {
	registry  *prometheus.Registry
	mgr       *collector.Manager
	reloads   *config.SafeConfig
	reloadCtx context.Context // ends at shutdown, with the reloads in flight
	admin     *admin.Handler  // nil when the admin endpoint is off
	logger    log.Logger
	f         flags
}

// newMux returns the handler of the metrics, the /-/ endpoints, the admin
// endpoint and the landing page.
func newMux(r routes) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	metricsHandler, err := r.mgr.Handler(r.registry, exposition.Options{
		MaxRequestsInFlight: r.f.maxRequests,
		ErrorLog:            stdErrLogger{r.logger},
		Registry:            r.registry,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot build the metrics handler: %w", err)
	}
	mux.Handle(r.f.metricsPath, metricsHandler)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !r.mgr.Ready() {
			http.Error(w, "Not ready: waiting for the first poll of every collector", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("/-/reload", r.reload)
	mux.Handle("/status", status.Handler(status.Options{Status: r.mgr.Status, Gatherer: r.registry, Shard: r.f.shard, TotalShards: r.f.totalShards, MetricsPath: r.f.metricsPath}))
	if r.admin != nil {
		mux.Handle(admin.PathPrefix, r.admin)
	}
	if r.f.metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        program,
			Description: "Prometheus exporter for the Elastic Cloud and ECE API",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: r.f.metricsPath, Text: "Metrics"},
				{Address: "/status", Text: "Status"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
			// No pprof links: the exporter does not serve /debug/pprof/.
			Profiling: "false",
		})
		if err != nil {
			return nil, fmt.Errorf("cannot build landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	return mux, nil
}

// reload serves /-/reload. As Prometheus: GET is 405 either way; without
// --web.enable-lifecycle POST and PUT are 403, since the default listen
// address is every interface.
func (r routes) reload(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "Only POST or PUT requests allowed", http.StatusMethodNotAllowed)
		return
	}
	if !r.f.lifecycle {
		http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
		return
	}
	if err := r.reloads.Reload(r.reloadCtx); err != nil {
		http.Error(w, "Reload failed; the previous configuration stays active: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = fmt.Fprintln(w, "Reloaded")
}

// stdErrLogger adapts go-kit to promhttp's error logger.
type stdErrLogger struct{ logger log.Logger }

func (l stdErrLogger) Println(v ...any) {
	level.Error(l.logger).Log("msg", "error serving metrics", "err", fmt.Sprint(v...))
}
