package main

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/admin"
	"github.com/ece-exporter/ece_exporter/config"
)

// TestAdminTokenSwappedOnlyWhenApplied: the token read with a reload
// becomes the admin token only when that reload's configuration is
// applied; a reload superseded (never applied) or whose apply fails
// leaves the token alone. (main.go swapped it in the load before.)
func TestAdminTokenSwappedOnlyWhenApplied(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("token-number-one-0001"), 0o600))
	h, err := admin.New(admin.Options{TokenFile: file}, nil)
	require.NoError(t, err)

	var read, setTokens []admin.Token
	tr := newTokenReload(func() (admin.Token, error) {
		require.NoError(t, os.WriteFile(file, []byte("token-number-"+string(rune('a'+len(read)))+"-0000000"), 0o600))
		tok, err := h.ReadToken()
		read = append(read, tok)
		return tok, err
	}, func(tok admin.Token) { setTokens = append(setTokens, tok) })
	load := tr.load(func() (*config.Config, error) { c := config.DefaultConfig; return &c, nil })
	failing := errors.New("apply failed")
	var applyErr error
	apply := tr.apply(func(*config.Config) error { return applyErr })

	superseded, err := load() // read[0], never applied
	require.NoError(t, err)
	applied, err := load() // read[1], applied
	require.NoError(t, err)
	assert.Empty(t, setTokens, "loading swaps no token")
	require.NoError(t, apply(applied))
	assert.Equal(t, []admin.Token{read[1]}, setTokens)
	assert.NotEqual(t, read[0], read[1])

	failed, err := load() // read[2], its apply fails
	require.NoError(t, err)
	applyErr = failing
	require.ErrorIs(t, apply(failed), failing)
	assert.Equal(t, []admin.Token{read[1]}, setTokens, "a failed reload keeps the token")

	// The first configuration (applied by Set at start-up, its token read
	// by admin.New) has no pending token.
	applyErr = nil
	c := config.DefaultConfig
	require.NoError(t, apply(&c))
	assert.Len(t, setTokens, 1)
	_ = superseded
}

// TestAdminTokenRotatesWithReload: the daemon reads a rotated admin token
// file at a reload that is applied, and keeps the token at one that fails.
func TestAdminTokenRotatesWithReload(t *testing.T) {
	e := newTestEnv(t)
	tokenFile := filepath.Join(e.dir, "token")
	d := startDaemon(t, "--config.file="+e.config, "--web.enable-lifecycle", "--no-collector.billing", "--no-collector.billing_charts",
		"--admin.enabled", "--admin.token-file="+tokenFile)
	path := "/admin/v1/accounts/cloud/deployments/" + e.ess.Deployments()[0].ID + "/kibana/main-kibana/upgrade"
	status := func(method, path, token string) int {
		req, _ := http.NewRequest(method, d.url+path, nil)
		if token != "" {
			req.Header.Set("X-Admin-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	const rotated, third = "SENTINEL-ROTATED-TOKEN-0002", "SENTINEL-THIRD-TOKEN-000003"
	require.Equal(t, http.StatusOK, status(http.MethodGet, path, sentinelToken))
	require.NoError(t, os.WriteFile(tokenFile, []byte(rotated), 0o600))
	require.Equal(t, http.StatusOK, status(http.MethodPost, "/-/reload", ""))
	assert.Equal(t, http.StatusUnauthorized, status(http.MethodGet, path, sentinelToken))
	assert.Equal(t, http.StatusOK, status(http.MethodGet, path, rotated))

	good, err := os.ReadFile(e.config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tokenFile, []byte(third), 0o600))
	require.NoError(t, os.WriteFile(e.config, []byte("accounts: [{name: Bad!}]\n"), 0o600))
	assert.Equal(t, http.StatusInternalServerError, status(http.MethodPost, "/-/reload", ""))
	assert.Equal(t, http.StatusOK, status(http.MethodGet, path, rotated), "a failed reload keeps the token")
	assert.Equal(t, http.StatusUnauthorized, status(http.MethodGet, path, third))
	require.NoError(t, os.WriteFile(e.config, good, 0o600))
	assert.Equal(t, 0, d.stop(t))
}
