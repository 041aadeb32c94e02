package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sentinel = "SENTINEL-SECRET-5f1c"

func noEnv(string) (string, bool) { return "", false }

func TestInvalidConfigs(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"no-accounts.yml":               `accounts: at least one account is required`,
		"url-scheme.yml":                `accounts[1].url: "ftp://x": scheme must be http or https`,
		"name-invalid.yml":              `accounts[0].name: "Prod": must match ^[a-z0-9_-]+$`,
		"duplicate-account.yml":         `accounts[2].name: "prod": duplicate account name (also accounts[0])`,
		"conflicting-secrets.yml":       `accounts[0]: api_key_file and api_key_env are mutually exclusive`,
		"no-credentials.yml":            `accounts[0]: no credentials: set one of api_key_file, api_key_env, api_key, or username with password_file (ece only)`,
		"missing-secret-file.yml":       `accounts[0].api_key_file: "/nonexistent/ec_api_key": open /nonexistent/ec_api_key: no such file or directory`,
		"empty-secret-file.yml":         `accounts[0].api_key_file: "empty.txt": file is empty`,
		"unset-env.yml":                 `accounts[0].api_key_env: "EC_API_KEY_NOT_SET": environment variable is not set or empty`,
		"bad-platform.yml":              `accounts[0].platform: "gcp": must be ess or ece`,
		"username-on-ess.yml":           `accounts[0].username: username and password_file are only supported on ece accounts`,
		"ece-without-url.yml":           `accounts[0].url: required for ece accounts (https://<coordinator>:12443)`,
		"username-without-password.yml": `accounts[0]: username and password_file must be set together`,
		"bad-regex.yml":                 "accounts[0].deployments.include[1]: \"(\": error parsing regexp: missing closing ): `(`",
		"interval-too-short.yml":        `collectors.billing.interval: "1m0s": must be at least 5m0s`,
		"bad-bucketing.yml":             `collectors.billing_charts.bucketing: "hourly": must be daily or monthly`,
		"bad-scope.yml":                 `collectors.api_keys.scope: "mine": must be own or all`,
		"max-in-flight.yml":             `http.max_in_flight: 0: must be between 1 and 256`,
		"unknown-key.yml":               "yaml: unmarshal errors:\n  line 2: field colour not found in type config.Account",
		"bad-duration.yml":              "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `soon` into time.Duration",
		"missing-ca-file.yml":           `accounts[0].tls.ca_file: "/nonexistent/ca.pem": stat /nonexistent/ca.pem: no such file or directory`,
		"cert-without-key.yml":          `accounts[0].tls: cert_file and key_file must be set together`,
		"bad-concurrency.yml":           `collectors.remote_clusters.concurrency: 100: must be between 1 and 64`,
		"url-with-credentials.yml":      `accounts[0].url: "https://user:pw@api.example.com": credentials in the URL are not allowed; use api_key_file`,
	} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", file))
			require.NoError(t, err)
			_, err = Parse(data, WithBaseDir("testdata"), WithLookupEnv(noEnv))
			require.Error(t, err)
			assert.Equal(t, want, err.Error())
			assert.NotContains(t, err.Error(), sentinel)
		})
	}
}

func TestValidMinimalESSWithDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte("accounts:\n  - {name: prod, api_key_env: EC_API_KEY}\n"),
		WithLookupEnv(func(k string) (string, bool) { return sentinel + "\n", k == "EC_API_KEY" }))
	require.NoError(t, err)
	a := cfg.Accounts[0]
	assert.Equal(t, PlatformESS, a.Platform)
	assert.Equal(t, "https://api.elastic-cloud.com", a.URL)
	assert.Equal(t, sentinel, a.Credentials.APIKey.Reveal())
	assert.Equal(t, DefaultCollectors, cfg.Collectors)
	assert.Equal(t, DefaultHTTP, cfg.HTTP)
	assert.True(t, a.Deployments.Match("anything", "any"))
}

func TestValidECELogin(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
accounts:
  - name: onprem
    platform: ece
    url: https://ece.example.internal:12443
    username: readonly
    password_file: key.txt
    tls: {insecure_skip_verify: true}
collectors:
  api_keys: {scope: all, interval: 30m}
`), WithBaseDir("testdata"))
	require.NoError(t, err)
	a := cfg.Accounts[0]
	assert.Equal(t, "readonly", a.Credentials.Username)
	assert.Equal(t, sentinel, a.Credentials.Password.Reveal())
	assert.Equal(t, 30*time.Minute, cfg.Collectors.APIKeys.Interval)
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
accounts:
  - {name: a, api_key_file: key.txt}
  - {name: b, api_key: "`+sentinel+`"}
  - {name: c, platform: ece, url: "https://ece:12443", username: u, password_file: key.txt}
`), WithBaseDir("testdata"))
	require.NoError(t, err)
	out, err := cfg.Redacted()
	require.NoError(t, err)
	assert.NotContains(t, string(out), sentinel)
	assert.Contains(t, string(out), "<secret>")
	assert.Contains(t, string(out), "interval: 5m0s")
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %v %q", cfg, cfg, cfg, cfg.Accounts, cfg.Accounts[1].APIKey)} {
		assert.NotContains(t, s, sentinel)
	}
	// The redacted output is itself a loadable configuration shape.
	assert.True(t, strings.HasPrefix(string(out), "accounts:"))
}

func TestEqual(t *testing.T) {
	t.Parallel()
	load := func(secret string) Account {
		cfg, err := Parse([]byte("accounts:\n  - {name: prod, api_key_file: k}\n"), WithReadFile(func(string) ([]byte, error) { return []byte(secret), nil }))
		require.NoError(t, err)
		return cfg.Accounts[0]
	}
	assert.True(t, load("one").Equal(load("one")))
	assert.False(t, load("one").Equal(load("two")), "a rotated key is a change")
}

func TestExampleConfigIsValid(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "config.example.yml"))
	require.NoError(t, err)
	cfg, err := Parse(data, WithReadFile(func(string) ([]byte, error) { return []byte("example"), nil }),
		WithLookupEnv(func(string) (string, bool) { return "example", true }))
	require.NoError(t, err)
	assert.NotEmpty(t, cfg.Accounts)
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte(sentinel), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.yml"), []byte("accounts:\n  - {name: p, api_key_file: key}\n"), 0o600))
	cfg, err := Load(filepath.Join(dir, "c.yml"))
	require.NoError(t, err)
	assert.Equal(t, sentinel, cfg.Accounts[0].Credentials.APIKey.Reveal())
	_, err = Load(filepath.Join(dir, "missing.yml"))
	assert.ErrorContains(t, err, "read configuration")
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"accounts:\n  - {name: prod, api_key: k}\n",
		"accounts: [{name: a, platform: ece, url: 'https://x:12443', username: u, password_file: p}]",
		"collectors: {billing: {interval: 1h}}", "http: {timeout: 1s}", "{}", "",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(data, WithReadFile(func(string) ([]byte, error) { return []byte(sentinel), nil }), WithLookupEnv(noEnv))
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.Contains(msg, sentinel) {
			t.Fatalf("secret in error: %s", msg)
		}
		for _, p := range []string{"accounts", "collectors.", "http.", "yaml: "} {
			if strings.HasPrefix(msg, p) {
				return
			}
		}
		t.Fatalf("error does not name a field: %q", msg)
	})
}
