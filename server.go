package main

import (
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/admin"
)

// serverTimeouts bound how long a connection may hold a file descriptor
// and a goroutine without doing anything useful.
type serverTimeouts struct {
	// ReadHeader bounds a new connection's TLS handshake and request
	// headers. Prometheus sends its few headers at once; 10 s is room for
	// a slow link, and a client that never sends anything is dropped then.
	ReadHeader time.Duration
	// Idle closes a keep-alive connection with no request. Prometheus
	// reuses its connection when it scrapes more often than this; a
	// longer interval costs one new TCP (and TLS) handshake per scrape,
	// and Go clients retry a GET that raced the close. 30 s keeps an idle
	// connection flood from pinning file descriptors for long.
	Idle time.Duration
	// Read and Write bound a whole request and its answer. They are long
	// on purpose: the answer of 5,000 deployments is 46 MiB (3.9 MiB
	// gzipped, 33 s at 1 Mbit/s), produced in under half a second, and a
	// Prometheus scrape_timeout cannot exceed its interval; 5 minutes only
	// stops a client that reads a large answer byte by byte from holding
	// it forever. (Read also cancels the request context when it expires,
	// so it must not be shorter than Write.)
	Read, Write time.Duration
}

// httpTimeouts are the web server's timeouts (tests shorten them).
var httpTimeouts = serverTimeouts{
	ReadHeader: 10 * time.Second,
	Idle:       30 * time.Second,
	Read:       5 * time.Minute,
	Write:      5 * time.Minute,
}

// maxConns caps the web server's connections; 0 derives it from the file
// descriptor limit (tests set it).
var maxConns = 0

// newHTTPServer returns the web server of h, with httpTimeouts, a
// connection cap below the file descriptor limit, and its own errors
// (accept errors, TLS handshake failures, panics) logged through logger like
// every other line.
func newHTTPServer(h http.Handler, logger log.Logger) *http.Server {
	t := httpTimeouts
	g := newConnGuard(maxConns)
	if g.max == 0 {
		g.max = connCapFromFDLimit()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		IdleTimeout:       t.Idle,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		ErrorLog:          stdlog.New(httpErrorWriter{logger}, "", 0),
		ConnState:         g.track,
	}
}

// connGuard keeps the server's connections at most max: a connection that
// would exceed it closes the oldest one that is idle or has not sent a
// request yet. The timeouts alone would free the file descriptors of an
// idle-connection flood only after ReadHeader or Idle, and until then every
// accept fails (EMFILE): scrapes and health checks time out. With the cap
// below the descriptor limit, accept keeps working and the flood evicts
// itself; requests in progress are never closed.
type connGuard struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]connEntry
}

type connEntry struct {
	active bool
	since  time.Time // when it became new or idle
}

func newConnGuard(max int) *connGuard {
	return &connGuard{max: max, conns: map[net.Conn]connEntry{}}
}

// track is the http.Server.ConnState hook. StateNew is reported from the
// accept loop, before the connection is served.
func (g *connGuard) track(c net.Conn, s http.ConnState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch s {
	case http.StateNew:
		g.conns[c] = connEntry{since: time.Now()}
		if g.max > 0 && len(g.conns) > g.max {
			g.evictLocked(c)
		}
	case http.StateActive:
		g.conns[c] = connEntry{active: true}
	case http.StateIdle:
		g.conns[c] = connEntry{since: time.Now()}
	case http.StateHijacked, http.StateClosed:
		delete(g.conns, c)
	}
}

// evictLocked closes the oldest connection without a request in progress,
// other than keep.
func (g *connGuard) evictLocked(keep net.Conn) {
	var oldest net.Conn
	var at time.Time
	for c, e := range g.conns {
		if c != keep && !e.active && (oldest == nil || e.since.Before(at)) {
			oldest, at = c, e.since
		}
	}
	if oldest != nil {
		delete(g.conns, oldest)
		_ = oldest.Close()
	}
}

// open returns the number of connections the guard tracks.
func (g *connGuard) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// connCapFromFDLimit leaves an eighth of the file descriptor limit, and at
// least 64, to everything else (API connections, files, the runtime); 0 (no
// cap) where the limit is unknown or too small to split.
func connCapFromFDLimit() int {
	limit := fdLimit()
	reserve := max(64, limit/8)
	if limit <= 2*reserve {
		return 0
	}
	return limit - reserve
}

// httpErrorWriter turns net/http's error log lines into log records.
type httpErrorWriter struct{ logger log.Logger }

func (w httpErrorWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	lvl := level.Error
	if strings.HasPrefix(msg, "http: TLS handshake error") || strings.HasPrefix(msg, "http: URL query contains semicolon") {
		// Caused by the client, not by the exporter.
		lvl = level.Warn
	}
	_ = lvl(w.logger).Log("msg", "HTTP server error", "err", msg)
	return len(p), nil
}

// reservedPaths are served by the exporter itself; --web.telemetry-path
// must not take them.
var reservedPaths = []string{"/-/", admin.PathPrefix, "/status/"}

// checkTelemetryPath rejects a --web.telemetry-path that net/http cannot
// route (it would panic) or that hides another endpoint.
func checkTelemetryPath(p string) error {
	const flag = "--web.telemetry-path"
	switch {
	case p == "":
		return fmt.Errorf("%s must not be empty (default /metrics)", flag)
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%s %q must start with \"/\"", flag, p)
	case strings.ContainsAny(p, " {}?#%\\") || strings.IndexFunc(p, func(r rune) bool { return r < 0x21 || r == 0x7f }) >= 0:
		return fmt.Errorf("%s %q must be a plain path: no spaces, control characters or any of {}?#%%\\", flag, p)
	case path.Clean(p) != p:
		return fmt.Errorf("%s %q must be a clean path (no trailing \"/\", \"//\", \".\" or \"..\"); did you mean %q?", flag, p, path.Clean(p))
	}
	for _, r := range reservedPaths {
		if strings.HasPrefix(p+"/", r) {
			return fmt.Errorf("%s %q collides with the exporter's own endpoints under %s", flag, p, r)
		}
	}
	return nil
}

// checkAdminFlags rejects values of --admin.cache-ttl and --admin.rate-limit
// that have no meaning (0 is meaningful: no cache, no limit).
func checkAdminFlags(cacheTTL time.Duration, ratePerMinute float64) error {
	if cacheTTL < 0 {
		return fmt.Errorf("--admin.cache-ttl %s must not be negative (0s disables the cache)", cacheTTL)
	}
	if !(ratePerMinute >= 0) || ratePerMinute > 1e9 {
		return fmt.Errorf("--admin.rate-limit %v must be a number of requests per minute from 0 (no limit) to 1e9", ratePerMinute)
	}
	return nil
}
