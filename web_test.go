package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logfmt/logfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/collector"
)

// TestBadFlagValuesExit1: values the exporter cannot serve or that mean
// nothing are flag errors (exit 1, one line naming the flag), never a
// panic and never a silent default.
func TestBadFlagValuesExit1(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--web.telemetry-path=metrics"}, `ece_exporter: --web.telemetry-path "metrics" must start with "/"`},
		{[]string{"--web.telemetry-path="}, `ece_exporter: --web.telemetry-path must not be empty (default /metrics)`},
		{[]string{"--web.telemetry-path=/-/healthy"}, `ece_exporter: --web.telemetry-path "/-/healthy" collides with the exporter's own endpoints under /-/`},
		{[]string{"--web.telemetry-path=/-/ready"}, `ece_exporter: --web.telemetry-path "/-/ready" collides with the exporter's own endpoints under /-/`},
		{[]string{"--web.telemetry-path=/-/reload"}, `ece_exporter: --web.telemetry-path "/-/reload" collides with the exporter's own endpoints under /-/`},
		{[]string{"--web.telemetry-path=/admin/v1"}, `ece_exporter: --web.telemetry-path "/admin/v1" collides with the exporter's own endpoints under /admin/v1/`},
		{[]string{"--web.telemetry-path=/admin/v1/x"}, `ece_exporter: --web.telemetry-path "/admin/v1/x" collides with the exporter's own endpoints under /admin/v1/`},
		{[]string{"--web.telemetry-path=/status"}, `ece_exporter: --web.telemetry-path "/status" collides with the exporter's own endpoints under /status/`},
		{[]string{"--web.telemetry-path=/metrics/"}, `ece_exporter: --web.telemetry-path "/metrics/" must be a clean path (no trailing "/", "//", "." or ".."); did you mean "/metrics"?`},
		{[]string{"--web.telemetry-path=//metrics"}, `ece_exporter: --web.telemetry-path "//metrics" must be a clean path (no trailing "/", "//", "." or ".."); did you mean "/metrics"?`},
		{[]string{"--web.telemetry-path=/a/../metrics"}, `ece_exporter: --web.telemetry-path "/a/../metrics" must be a clean path (no trailing "/", "//", "." or ".."); did you mean "/metrics"?`},
		{[]string{"--web.telemetry-path=/{x}"}, `ece_exporter: --web.telemetry-path "/{x}" must be a plain path: no spaces, control characters or any of {}?#%\`},
		{[]string{"--web.telemetry-path=/metrics ok"}, `ece_exporter: --web.telemetry-path "/metrics ok" must be a plain path: no spaces, control characters or any of {}?#%\`},
		{[]string{"--web.telemetry-path=/m?x"}, `ece_exporter: --web.telemetry-path "/m?x" must be a plain path: no spaces, control characters or any of {}?#%\`},
		{[]string{"--admin.cache-ttl=-1s"}, `ece_exporter: --admin.cache-ttl -1s must not be negative (0s disables the cache)`},
		{[]string{"--admin.rate-limit=-5"}, `ece_exporter: --admin.rate-limit -5 must be a number of requests per minute from 0 (no limit) to 1e9`},
		{[]string{"--admin.rate-limit=NaN"}, `ece_exporter: --admin.rate-limit NaN must be a number of requests per minute from 0 (no limit) to 1e9`},
		{[]string{"--admin.rate-limit=+Inf"}, `ece_exporter: --admin.rate-limit +Inf must be a number of requests per minute from 0 (no limit) to 1e9`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append(tc.args, "--demo"), &stdout, &stderr, nil)
			assert.Equal(t, 1, code)
			assert.Equal(t, tc.want+"\n", stderr.String())
			assert.Empty(t, stdout.String())
		})
	}
}

// TestTelemetryPathServed: a custom path serves the metrics and the landing
// page links it; the root path serves metrics without a landing page.
func TestTelemetryPathServed(t *testing.T) {
	d := startDaemon(t, "--demo", "--web.telemetry-path=/prom/metrics")
	d.waitReady(t)
	code, body := d.get(t, "/prom/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "\nece_exporter_collector_success{")
	code, _ = d.get(t, "/metrics")
	assert.Equal(t, http.StatusNotFound, code)
	_, page := d.get(t, "/")
	assert.Contains(t, page, `href="/prom/metrics"`)
	assert.Equal(t, 0, d.stop(t))

	d = startDaemon(t, "--demo", "--web.telemetry-path=/")
	d.waitReady(t)
	code, body = d.get(t, "/")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "\nece_exporter_collector_success{")
	code, _ = d.get(t, "/-/healthy")
	assert.Equal(t, http.StatusOK, code)
}

// TestLandingPageLinks: every link of the landing page answers (/status
// among them), and there
// is no link to /debug/pprof/ (not served: no unauthenticated profiling).
func TestLandingPageLinks(t *testing.T) {
	d := startDaemon(t, "--demo")
	d.waitReady(t)
	code, page := d.get(t, "/")
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, page, "debug/pprof")
	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, links, 4, page) // metrics, status, healthy, ready
	for _, l := range links {
		code, _ := d.get(t, l[1])
		assert.Equal(t, http.StatusOK, code, l[1])
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap"} {
		code, _ := d.get(t, p)
		assert.Equal(t, http.StatusNotFound, code, p)
	}
}

// shortTimeouts makes the server's timeouts test-sized for one test.
func shortTimeouts(t *testing.T, st serverTimeouts) {
	old := httpTimeouts
	httpTimeouts = st
	t.Cleanup(func() { httpTimeouts = old })
}

// closedByServer reads c until the server closes it and reports whether it
// did before deadline (far beyond the server's timeouts, so that "never
// closed" is a failure, not a hang).
func closedByServer(c net.Conn, r io.Reader, deadline time.Time) bool {
	if err := c.SetReadDeadline(deadline); err != nil {
		return false
	}
	_, err := io.Copy(io.Discard, r)
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestServerDropsIdleAndSlowClients: connections that never send a request,
// send their headers too slowly, or stay idle after a request are closed by
// the server, while scrapes keep answering during the flood. The figures
// (file descriptors, scrape latency) go to the test log.
func TestServerDropsIdleAndSlowClients(t *testing.T) {
	shortTimeouts(t, serverTimeouts{ReadHeader: 500 * time.Millisecond, Idle: 500 * time.Millisecond, Read: 10 * time.Second, Write: 10 * time.Second})
	d := startDaemon(t, "--demo")
	d.waitReady(t)
	addr := strings.TrimPrefix(d.url, "http://")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	fdsBefore := openFDs(t)

	const perKind = 100
	type flood struct {
		kind string
		c    net.Conn
		r    io.Reader
	}
	var conns []flood
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	for i := 0; i < perKind; i++ {
		silent := dial() // never sends a byte
		conns = append(conns, flood{"silent", silent, silent})

		slow := dial() // starts a request, never ends its headers
		_, err := io.WriteString(slow, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		require.NoError(t, err)
		conns = append(conns, flood{"slow headers", slow, slow})

		idle := dial() // one request, then keep-alive silence
		_, err = io.WriteString(idle, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(idle)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		conns = append(conns, flood{"idle keep-alive", idle, br})
	}
	fdsFlood := openFDs(t)

	var worst time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		resp, err := client.Get(d.url + "/metrics")
		require.NoError(t, err, "scrape during the flood")
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		worst = max(worst, time.Since(start))
	}

	// Read them all at once: a read after an expired deadline fails even
	// on a closed connection.
	deadline := time.Now().Add(20 * time.Second)
	open := make(chan string, len(conns))
	var wg sync.WaitGroup
	for _, f := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !closedByServer(f.c, f.r, deadline) {
				open <- f.kind
			}
			f.c.Close()
		}()
	}
	wg.Wait()
	close(open)
	neverClosed := map[string]int{}
	for k := range open {
		neverClosed[k]++
	}
	assert.Empty(t, neverClosed, "connections the server never closed, by kind")
	resp, err := client.Get(d.url + "/metrics")
	require.NoError(t, err, "scrape after the flood")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	t.Logf("%d flood connections: fds %d before, %d during, %d after; slowest of 5 scrapes during the flood %s",
		len(conns), fdsBefore, fdsFlood, openFDs(t), worst.Round(time.Millisecond))
}

// TestConnectionCapEvictsIdle: past the connection cap, a new connection
// closes the oldest idle or silent one, so that under a flood (at the file
// descriptor limit every accept would fail) scrapes keep answering before
// any timeout has expired.
func TestConnectionCapEvictsIdle(t *testing.T) {
	shortTimeouts(t, serverTimeouts{ReadHeader: time.Minute, Idle: time.Minute, Read: time.Minute, Write: time.Minute})
	oldMax := maxConns
	maxConns = 40
	t.Cleanup(func() { maxConns = oldMax })
	d := startDaemon(t, "--demo")
	d.waitReady(t)
	addr := strings.TrimPrefix(d.url, "http://")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

	var conns []net.Conn
	for i := 0; i < 150; i++ {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		if i%2 == 0 {
			_, err = io.WriteString(c, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
		}
		conns = append(conns, c)
	}
	for i := 0; i < 5; i++ {
		resp, err := client.Get(d.url + "/metrics")
		require.NoError(t, err, "scrape past the cap")
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	deadline := time.Now().Add(5 * time.Second)
	var mu sync.Mutex
	open := 0
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !closedByServer(c, c, deadline) {
				mu.Lock()
				open++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, open, 40, "flood connections the server kept past the cap")
	assert.Positive(t, open, "the newest ones stay")
}

// TestConnGuardNeverClosesActive: eviction takes the oldest connection
// without a request in progress.
func TestConnGuardNeverClosesActive(t *testing.T) {
	g := newConnGuard(2)
	pipe := func() net.Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a
	}
	closed := func(c net.Conn) bool {
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
		_, err := c.Write([]byte("x"))
		return errors.Is(err, io.ErrClosedPipe)
	}
	active, idle, fresh := pipe(), pipe(), pipe()
	g.track(active, http.StateNew)
	g.track(active, http.StateActive)
	g.track(idle, http.StateNew)
	g.track(idle, http.StateActive)
	g.track(idle, http.StateIdle)
	g.track(fresh, http.StateNew)
	assert.True(t, closed(idle), "the idle one is evicted")
	assert.False(t, closed(active), "a request in progress is never cut")
	assert.False(t, closed(fresh))
	assert.Equal(t, 2, g.open())
	g.track(active, http.StateClosed)
	assert.Equal(t, 1, g.open())
}

// TestServerTimeoutsFitLargeScrapes: the production timeouts drop idle and
// slow-header clients quickly but leave a large scrape (46 MiB at 5,000
// deployments, README "Scale") minutes, not seconds.
func TestServerTimeoutsFitLargeScrapes(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), nil)
	assert.Equal(t, 10*time.Second, srv.ReadHeaderTimeout)
	assert.Equal(t, 30*time.Second, srv.IdleTimeout)
	assert.GreaterOrEqual(t, srv.WriteTimeout, 2*time.Minute, "a WriteTimeout cuts the answer short")
	assert.GreaterOrEqual(t, srv.ReadTimeout, srv.WriteTimeout, "ReadTimeout cancels the request context")
	assert.NotNil(t, srv.ErrorLog)
}

// logKeys decodes every line as logfmt (or JSON) and returns its keys.
func logKeys(t *testing.T, format, logs string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		rec := map[string]string{}
		if format == "json" {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), "not JSON: %s", line)
			for k, v := range m {
				s, _ := v.(string)
				rec[k] = s
			}
		} else {
			dec := logfmt.NewDecoder(strings.NewReader(line))
			require.True(t, dec.ScanRecord(), line)
			for dec.ScanKeyval() {
				_, dup := rec[string(dec.Key())]
				require.False(t, dup, "key %s twice in %s", dec.Key(), line)
				rec[string(dec.Key())] = string(dec.Value())
			}
			require.NoError(t, dec.Err(), "not logfmt: %s", line)
			require.False(t, dec.ScanRecord(), "one record per line: %s", line)
		}
		rec["_line"] = line
		out = append(out, rec)
	}
	return out
}

// writeTLSWebConfig writes a self-signed certificate for 127.0.0.1 and a
// --web.config.file serving TLS with it.
func writeTLSWebConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cfg := filepath.Join(dir, "web.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("tls_server_config:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+"\n"), 0o600))
	return cfg
}

// TestLogLinesOneKeySet: every line a short run writes (our packages,
// exporter-toolkit's slog lines, net/http's own errors) has the same keys
// with the same meaning, and "stopped" is the last line.
func TestLogLinesOneKeySet(t *testing.T) {
	webConfig := writeTLSWebConfig(t)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			d := startDaemon(t, "--demo", "--log.level=debug", "--log.format="+format, "--web.config.file="+webConfig, "--web.enable-lifecycle")
			base := strings.Replace(d.url, "http://", "https://", 1)
			get := func(path string) int {
				resp, err := client.Get(base + path)
				if err != nil {
					return 0
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			deadline := time.Now().Add(30 * time.Second)
			for get("/-/ready") != http.StatusOK {
				require.True(t, time.Now().Before(deadline), "not ready: %s", d.logs.String())
				time.Sleep(50 * time.Millisecond)
			}
			require.Equal(t, http.StatusOK, get("/metrics"))
			// Plain HTTP to the TLS port: net/http logs a TLS handshake
			// error through Server.ErrorLog.
			c, err := net.Dial("tcp", strings.TrimPrefix(d.url, "http://"))
			require.NoError(t, err)
			_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.Copy(io.Discard, c)
			c.Close()
			resp, err := client.Post(base+"/-/reload", "text/plain", nil)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, 0, d.stop(t))

			recs := logKeys(t, format, d.logs.String())
			require.NotEmpty(t, recs)
			msgs := map[string]bool{}
			for _, r := range recs {
				line := r["_line"]
				msgs[r["msg"]] = true
				for _, k := range []string{"ts", "level", "caller", "msg"} {
					assert.NotEmpty(t, r[k], "%s missing in %s", k, line)
				}
				assert.NotContains(t, r, "time", line)
				assert.Contains(t, []string{"debug", "info", "warn", "error"}, r["level"], line)
				ts, err := time.Parse(time.RFC3339Nano, r["ts"])
				if assert.NoError(t, err, line) {
					assert.Equal(t, time.UTC, ts.Location(), line)
				}
				assert.Regexp(t, `^[a-z0-9_]+\.go:\d+$`, r["caller"], line)
			}
			for _, m := range []string{"Listening on", "TLS is enabled.", "configuration reloaded", "HTTP server error", "shutting down"} {
				assert.True(t, msgs[m], "a %q line (have %v)", m, msgs)
			}
			assert.Equal(t, "stopped", recs[len(recs)-1]["msg"], "the last line")
		})
	}
}

// TestREADMEFlagTable: README's flag table names every flag of --help
// and nothing else.
func TestREADMEFlagTable(t *testing.T) {
	var help bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--help"}, &help, io.Discard, nil))
	registered := map[string]bool{}
	collectors := map[string]bool{}
	isCollector := map[string]bool{}
	for _, n := range collector.Names() {
		isCollector[n] = true
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--(\[no-\])?([a-z0-9][a-z0-9._-]*)`).FindAllStringSubmatch(help.String(), -1) {
		name := m[2]
		if c, ok := strings.CutPrefix(name, "collector."); ok && m[1] != "" && isCollector[c] {
			collectors[c] = true
			name = "collector.<name>"
		}
		registered[name] = true
	}
	assert.Len(t, collectors, len(isCollector), "every collector's flag is in --help")
	for _, f := range []string{"help", "help-long", "help-man"} {
		delete(registered, f)
	}

	readme, err := os.ReadFile(filepath.Join("README.md"))
	require.NoError(t, err)
	section := string(readme)
	start := strings.Index(section, "\n## Flags\n")
	require.GreaterOrEqual(t, start, 0)
	section = section[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	documented := map[string]bool{}
	for _, row := range regexp.MustCompile("(?m)^\\| (`--[^|]+)\\|").FindAllStringSubmatch(section, -1) {
		for _, m := range regexp.MustCompile("`--(?:\\[no-\\])?([a-z0-9][a-z0-9._<>-]*)`").FindAllStringSubmatch(row[1], -1) {
			documented[m[1]] = true
		}
	}
	delete(documented, "no-collector.<name>")
	assert.Equal(t, sortedKeys(registered), sortedKeys(documented), "README's flag table vs --help")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
