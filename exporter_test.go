package main

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/config"
)

// The collectors' Manager is the admin endpoint's Backend: no adapter.
var _ admin.Backend = (*collector.Manager)(nil)

// TestTLSFilesReadOnceAtLoad: the TLS files are read when the
// configuration is loaded, and the API clients are built from what was read
// then, so a file gone (or being rotated) between the load and the
// collectors' start cannot fail or change the start (issue 15 §6: the client
// used to read ca_file again).
func TestTLSFilesReadOnceAtLoad(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	file := filepath.Join(dir, "ece_exporter.yml")
	require.NoError(t, os.WriteFile(file, []byte("accounts:\n  - {name: ece, platform: ece, url: '"+srv.URL+"', api_key: k, tls: {ca_file: ca.pem}}\n"), 0o600))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	require.NoError(t, os.Remove(ca))

	mgr, err := collector.NewManager(collector.Options{Registerer: prometheus.NewRegistry(), Enabled: []string{"deployments"}})
	require.NoError(t, err)
	t.Cleanup(func() { mgr.Stop(context.Background()) })
	require.NoError(t, mgr.Apply(cfg), "the client must not read the CA file again")
}
