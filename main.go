// Command ece_exporter is a Prometheus exporter for the Elastic Cloud (ESS)
// and Elastic Cloud Enterprise (ECE) API: deployment costs, cost charts,
// remote-cluster health and API key expirations, polled in the background
// and served from a cache.
//
// This file is the wiring: flags.go parses the command line, logging.go
// builds the loggers, demo.go the --demo set-up, exporter.go the
// registry, collectors, admin endpoint and reloads, routes.go the handlers,
// server.go the web server.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/ece-exporter/ece_exporter/collector"
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
	f, code, done := parseFlags(args, stdout, stderr)
	if done {
		return code
	}
	logger, slogger := newLoggers(stderr, f.logFormat, f.logLevel)
	// "stopped" is the last line, written once everything below has
	// returned (deferred calls run last-in, first-out).
	serving := false
	defer func() {
		if serving {
			level.Info(logger).Log("msg", "stopped")
		}
	}()
	for _, w := range f.warnings() {
		level.Warn(logger).Log("msg", w)
	}
	load, now, closeDemo, demoMsg := configSource(f)
	defer closeDemo()
	if demoMsg != nil {
		level.Warn(logger).Log(demoMsg...)
	}
	cfg, err := load()
	if err != nil {
		level.Error(logger).Log("msg", "invalid configuration", "file", f.configFile, "err", err)
		return 1
	}
	if f.configCheck {
		return printConfig(stdout, cfg, f.enabled, logger)
	}
	sharder, err := newSharder(f)
	if err != nil {
		level.Error(logger).Log("msg", "invalid sharding flags", "err", err)
		return 1
	}
	level.Info(logger).Log("msg", "starting "+program, "version", version.Info(), "build_context", version.BuildContext())
	level.Info(logger).Log("msg", "configuration loaded", "accounts", accountList(cfg), "collectors", strings.Join(f.enabled, ","))

	// Reloads in flight end at shutdown, even one waiting on a hung file.
	reloadCtx, stopReloads := context.WithCancel(ctx)
	defer stopReloads()
	e, err := newExporter(f, logger, load, now, sharder)
	if err != nil {
		level.Error(logger).Log("msg", "cannot set up the exporter", "err", err)
		return 1
	}
	mux, err := newMux(e.routes(f, reloadCtx))
	if err != nil {
		level.Error(logger).Log("msg", "cannot set up the web server", "err", err)
		return 1
	}
	if err := e.reloads.Set(cfg); err != nil {
		level.Error(logger).Log("msg", "cannot start collectors", "err", err)
		return 1
	}
	defer watchSIGHUP(reloadCtx, stopReloads, e.reloads)()
	serving = true
	return serve(ctx, newHTTPServer(mux, log.With(logger, "component", "http")), ln, f.toolkit, slogger, logger, e.mgr, shutdownGrace)
}

// serve serves srv until it fails or ctx ends, then shuts it and the
// collectors down within grace.
func serve(ctx context.Context, srv *http.Server, ln net.Listener, toolkit *web.FlagConfig, slogger *slog.Logger, logger log.Logger, mgr *collector.Manager, grace time.Duration) int {
	serveErr := make(chan error, 1)
	go func() {
		if ln != nil {
			serveErr <- web.Serve(ln, srv, toolkit, slogger)
			return
		}
		serveErr <- web.ListenAndServe(srv, toolkit, slogger)
	}()
	code, served := 0, false
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
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		level.Warn(logger).Log("msg", "HTTP server did not stop in time", "err", err)
	}
	if !served {
		// Serve returns as soon as Shutdown has closed the listeners, with
		// http.ErrServerClosed, which says nothing new.
		// The toolkit may still be stuck before serving (reading its
		// web config file): wait no longer than the grace period.
		select {
		case err := <-serveErr:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				level.Warn(logger).Log("msg", "HTTP server stopped with an error", "err", err)
			}
		case <-sctx.Done():
			level.Warn(logger).Log("msg", "HTTP server did not return in time; stopping anyway")
		}
	}
	mgr.Stop(sctx)
	return code
}
