package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/collector"
)

// TestWebConfigFIFOFailsAtStart: a --web.config.file that is a FIFO, or
// that names a FIFO as its TLS certificate, ends the daemon at start with
// exit code 1 and an error naming the file, instead of hanging before it
// serves.
func TestWebConfigFIFOFailsAtStart(t *testing.T) {
	e := newTestEnv(t)
	fifo := filepath.Join(e.dir, "web-fifo.yml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	certFIFO := filepath.Join(e.dir, "cert.pem")
	require.NoError(t, syscall.Mkfifo(certFIFO, 0o600))
	tlsWeb := filepath.Join(e.dir, "web-tls.yml")
	require.NoError(t, os.WriteFile(tlsWeb, []byte("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"), 0o600))
	bad := filepath.Join(e.dir, "web-bad.yml")
	require.NoError(t, os.WriteFile(bad, []byte("basic_auth_users: [not, a, map]\n"), 0o600))
	for _, tc := range []struct{ file, want string }{
		{fifo, "read " + fifo + ": not a regular file (a named pipe)"},
		{tlsWeb, "read " + certFIFO + ": not a regular file (a named pipe)"},
		{bad, "web config file " + bad},
	} {
		var out syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(context.Background(), []string{"--config.file=" + e.config, "--web.config.file=" + tc.file, "--web.listen-address=127.0.0.1:0"}, &out, &out, nil)
		}()
		select {
		case code := <-done:
			assert.Equal(t, 1, code)
		case <-time.After(20 * time.Second):
			t.Fatalf("start with --web.config.file=%s blocked", tc.file)
		}
		assert.Contains(t, out.String(), `msg="cannot set up the exporter"`)
		assert.Contains(t, out.String(), tc.want)
	}
}

// TestServeStopsWhenTheToolkitHangs: should the toolkit still block before
// serving (its web config file became a FIFO after the check), the end of
// ctx stops serve within the grace period instead of waiting forever.
func TestServeStopsWhenTheToolkitHangs(t *testing.T) {
	t.Parallel()
	fifo := filepath.Join(t.TempDir(), "web.yml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		// Let the toolkit's read of the FIFO end and close the listener
		// it never served. It must read invalid YAML: an empty file is a
		// valid web config, and the toolkit would then open the FIFO a
		// second time (validateUsers, then getConfig) and block there.
		// A non-blocking open for writing succeeds only once the reader
		// has the FIFO open: the toolkit's goroutine may not be there yet.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_, _ = w.Write([]byte("{ not yaml\n"))
				_ = w.Close()
				break
			}
		}
		_ = ln.Close()
	})
	mgr, err := collector.NewManager(collector.Options{})
	require.NoError(t, err)
	addrs, systemd := []string{}, false
	toolkit := &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &fifo}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Second}, ln, toolkit, slog.New(slog.DiscardHandler), log.NewLogfmtLogger(&logs), mgr, 200*time.Millisecond)
	}()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	assert.Contains(t, logs.String(), "HTTP server did not return in time")
}
