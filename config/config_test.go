package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// sentinel is the secret in testdata/key.txt, testdata/multiline.txt and
// the inline keys of some cases; it must never show up in output.
const sentinel = "SENTINEL-SECRET-5f1c"

// testEnv sets EC_API_KEY to the sentinel and EC_API_KEY_BLANK to blanks.
func testEnv(k string) (string, bool) {
	switch k {
	case "EC_API_KEY":
		return sentinel + "\n", true
	case "EC_API_KEY_BLANK":
		return " \n", true
	}
	return "", false
}

// invalidCases maps each file in testdata/ to the exact error it gives.
var invalidCases = map[string]string{
	"no-accounts.yml":               `accounts: at least one account is required`,
	"empty-document.yml":            `accounts: at least one account is required`,
	"invalid-url-scheme.yml":        `accounts[1].url: "ftp://x": scheme must be http or https`,
	"url-without-host.yml":          `accounts[0].url: "https:///api/v1": host is required`,
	"url-with-credentials.yml":      `accounts[0].url: "https://xxxxx@api.example.com": credentials in the URL are not allowed; use api_key_file`,
	"url-with-query.yml":            `accounts[0].url: "https://api.example.com/?xxxxx": query and fragment are not allowed`,
	"name-invalid.yml":              `accounts[0].name: "Prod": must match ^[a-z0-9_-]+$`,
	"name-missing.yml":              `accounts[0].name: required`,
	"duplicate-account.yml":         `accounts[2].name: "prod": duplicate account name (also accounts[0])`,
	"bad-platform.yml":              `accounts[0].platform: "gcp": must be ess or ece`,
	"ece-without-url.yml":           `accounts[0].url: required for ece accounts (https://<coordinator>:12443)`,
	"conflicting-secrets.yml":       `accounts[0]: api_key_file and api_key_env are mutually exclusive`,
	"inline-and-file.yml":           `accounts[0]: api_key_file and api_key are mutually exclusive`,
	"api-key-and-login.yml":         `accounts[0]: api_key_file and username are mutually exclusive`,
	"no-credentials.yml":            `accounts[0]: no credentials: set one of api_key_file, api_key_env, api_key, or username with password_file (ece only)`,
	"username-on-ess.yml":           `accounts[0].username: username and password_file are only supported on ece accounts`,
	"password-file-on-ess.yml":      `accounts[0].password_file: username and password_file are only supported on ece accounts`,
	"username-without-password.yml": `accounts[0]: username and password_file must be set together`,
	"missing-secret-file.yml":       `accounts[0].api_key_file: "/nonexistent/ec_api_key": open /nonexistent/ec_api_key: no such file or directory`,
	"secret-file-is-directory.yml":  `accounts[0].api_key_file: ".": read testdata: is a directory`,
	"empty-secret-file.yml":         `accounts[0].api_key_file: "empty.txt": file is empty`,
	"multiline-secret-file.yml":     `accounts[0].api_key_file: "multiline.txt": the API key contains a line break or control character`,
	"unset-env.yml":                 `accounts[0].api_key_env: "EC_API_KEY_NOT_SET": environment variable is not set or empty`,
	"blank-env.yml":                 `accounts[0].api_key_env: "EC_API_KEY_BLANK": environment variable is not set or empty`,
	"blank-inline-key.yml":          `accounts[0].api_key: is blank`,
	"bad-org-id.yml":                `accounts[0].organization_ids[1]: "a/b": not a valid organization id`,
	"bad-regex.yml":                 "accounts[0].deployments.include[1]: \"(\": error parsing regexp: missing closing ): `(`",
	"bad-exclude-regex.yml":         "accounts[0].deployments.exclude[0]: \")(\": error parsing regexp: unexpected ): `)(`",
	"missing-ca-file.yml":           `accounts[0].tls.ca_file: "/nonexistent/ca.pem": open /nonexistent/ca.pem: no such file or directory`,
	"ca-not-pem.yml":                `accounts[0].tls.ca_file: "key.txt": no PEM certificate found`,
	"cert-without-key.yml":          `accounts[0].tls: cert_file and key_file must be set together`,
	"interval-too-short.yml":        `collectors.billing.interval: "1m": must be at least 5m0s`,
	"platform-too-short.yml":        `collectors.platform_license.interval: "1m": must be at least 5m0s`,
	"platform-unknown.yml":          "collectors.platform_certificates.services: unknown field (line 4)",
	"interval-not-positive.yml":     `collectors.deployments.interval: "-5m": must be greater than 0`,
	"bad-duration.yml":              `collectors.deployments.interval: "soon": not a valid duration (e.g. 90s, 5m, 1h30m, 1d)`,
	"duration-without-unit.yml":     `collectors.remote_clusters.interval: "300": not a valid duration (e.g. 90s, 5m, 1h30m, 1d)`,
	"bad-duration-type.yml":         "collectors.api_keys.interval: must be a duration (e.g. 90s, 5m, 1h30m, 1d), not a list (line 4)",
	"wrong-type-int.yml":            "http.max_retries: must be an integer, not a string (line 3)",
	"accounts-not-a-list.yml":       "accounts: must be a list, not a mapping (line 1)",
	"flow-look-alike.yml":           "http.max_retries: must be an integer, not a string (line 2)",
	"alias-wrong-type.yml":          "yaml: line 2: cannot unmarshal !!str into int",
	"secret-wrong-tag.yml":          "yaml: cannot decode !!str as a !!int",
	"same-key-twice-on-a-line.yml":  "accounts[0].colour: unknown field (line 2)\nyaml: line 4: field itmes not found in type collector.BillingOptions\nyaml: line 4: field itmes not found in type collector.BillingChartsOptions",
	"root-is-a-list.yml":            "yaml: the configuration must be a mapping, not a list (line 1)",
	"bad-bucketing.yml":             `collectors.billing_charts.bucketing: "hourly": must be daily or monthly`,
	"bad-scope.yml":                 `collectors.api_keys.scope: "mine": must be own or all`,
	"health-interval-too-short.yml": `collectors.deployment_health.interval: "10s": must be at least 30s`,
	"health-tag-empty.yml":          `collectors.deployment_health.tags[1]: must not be empty`,
	"health-tag-twice.yml":          `collectors.deployment_health.tags[2]: "team": listed twice`,
	"stack-versions-too-short.yml":  `collectors.stack_versions.interval: "1m": must be at least 15m0s`,
	"bad-concurrency.yml":           `collectors.remote_clusters.concurrency: 100: must be between 1 and 64`,
	"max-in-flight.yml":             `http.max_in_flight: 0: must be between 1 and 256`,
	"http-timeout-too-long.yml":     `http.timeout: "11m": must be at most 10m0s`,
	"max-retries.yml":               `http.max_retries: 11: must be between 0 and 10`,
	"max-body-bytes.yml":            `http.max_body_bytes: 100: must be at least 1024 (1 KiB)`,
	"unknown-key.yml":               "accounts[0].colour: unknown field (line 2)",
	"unknown-collector-key.yml":     "collectors.billing.itmes: unknown field (line 4)",
	"unknown-top-key.yml":           "scrape_interval: unknown field (line 3)",
	"syntax-error.yml":              "yaml: line 1: did not find expected '-' indicator",
	"multiple-documents.yml":        `yaml: the configuration must be a single YAML document`,
	"url-port-out-of-range.yml":     `accounts[0].url: "http://[::1]:99999": port 99999: must be between 1 and 65535`,
	"url-port-zero.yml":             `accounts[0].url: "https://ece.example.internal:0": port 0: must be between 1 and 65535`,
	"url-port-without-host.yml":     `accounts[0].url: "https://:12443": host is required`,
	"url-empty-port.yml":            `accounts[0].url: "https://ece.example.internal:": port is empty`,
	"billing-api-unknown.yml":       `accounts[0].billing.api: "v3": must be v1 or v2`,
	"billing-v2-on-ece.yml":         `accounts[0].billing.api: "v2": the billing API v2 is ESS only`,
	"billing-url-without-v2.yml":    `accounts[0].billing.url: only used with api: v2`,
	"billing-url-invalid.yml":       `accounts[0].billing.url: "ftp://billing.example.com": scheme must be http or https`,
	"budget-not-a-number.yml":       "accounts[0].budgets[0].monthly_ecu: must be a number, not a string (line 5)",
	"budget-errors.yml": strings.Join([]string{
		`accounts[0].budgets[1].monthly_ecu: must be > 0`,
		`accounts[0].budgets[2].name: "total": duplicate budget name (also budgets[0])`,
		`accounts[0].budgets[2].organization_id: "222": not one of the account's organization_ids`,
		`accounts[0].budgets[3].name: "Big Team": must match ^[a-z0-9_-]+$`,
		`accounts[0].budgets[3].tag: must be one key and value, not 2`,
		`accounts[0].budgets[3].monthly_ecu: must be > 0`,
		`accounts[0].budgets[4].name: required`,
		`accounts[0].budgets[4].tag: key and value must not be empty`,
	}, "\n"),
	// Every error at once (issue 14 §20): the document's, accounts first,
	// then those of reading the files and variables of the accounts that
	// passed the document check.
	"many-errors.yml": strings.Join([]string{
		`accounts[0].name: "Prod": must match ^[a-z0-9_-]+$`,
		`accounts[0].url: "http://[::1]:99999": port 99999: must be between 1 and 65535`,
		`accounts[0].organization_ids[0]: "a/b": not a valid organization id`,
		`accounts[4].name: "files": duplicate account name (also accounts[1])`,
		`collectors.billing.interval: "1m": must be at least 5m0s`,
		`collectors.billing.concurrency: 100: must be between 1 and 64`,
		`collectors.api_keys.scope: "mine": must be own or all`,
		`http.timeout: "11m": must be at most 10m0s`,
		`http.max_in_flight: 0: must be between 1 and 256`,
		`accounts[1].api_key_file: "/nonexistent/ec_api_key": open /nonexistent/ec_api_key: no such file or directory`,
		`accounts[2].api_key_env: "EC_API_KEY_NOT_SET": environment variable is not set or empty`,
	}, "\n"),
	"account-many-errors.yml": strings.Join([]string{
		`accounts[0].name: required`,
		`accounts[0].url: required for ece accounts (https://<coordinator>:12443)`,
		`accounts[0]: api_key_file and api_key_env are mutually exclusive`,
		`accounts[0].tls: cert_file and key_file must be set together`,
		`accounts[0].organization_ids[1]: "1": duplicate (also organization_ids[0])`,
		`accounts[0].organization_ids[2]: "": not a valid organization id`,
		"accounts[0].deployments.include[0]: \"(\": error parsing regexp: missing closing ): `(`",
		"accounts[0].deployments.exclude[0]: \")(\": error parsing regexp: unexpected ): `)(`",
	}, "\n"),
	"tls-many-errors.yml": strings.Join([]string{
		`accounts[0].api_key_file: "/nonexistent/ec_api_key": open /nonexistent/ec_api_key: no such file or directory`,
		`accounts[0].tls.ca_file: "key.txt": no PEM certificate found`,
		`accounts[0].tls.cert_file: "/nonexistent/client.pem": open /nonexistent/client.pem: no such file or directory`,
		`accounts[0].tls.key_file: "/nonexistent/client.key": open /nonexistent/client.key: no such file or directory`,
	}, "\n"),
	"errors-beside-a-type-error.yml": "collectors.billing.interval: \"1m\": must be at least 5m0s\nhttp.max_retries: must be an integer, not a string (line 7)",
}

func TestInvalidConfigs(t *testing.T) {
	t.Parallel()
	for file, want := range invalidCases {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", file))
			require.NoError(t, err)
			cfg, err := Parse(data, WithBaseDir("testdata"), WithLookupEnv(testEnv))
			require.Error(t, err)
			assert.Nil(t, cfg)
			assert.Equal(t, want, err.Error())
			assert.NotContains(t, err.Error(), sentinel)
		})
	}
}

// TestEveryTestdataFileIsACase keeps the table and the directory in step.
func TestEveryTestdataFileIsACase(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	require.NoError(t, err)
	var got, want []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	for f := range invalidCases {
		want = append(want, f)
	}
	sort.Strings(want)
	assert.Equal(t, want, got)
	assert.GreaterOrEqual(t, len(want), 20)
}

func TestMinimalESSGetsDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte("accounts:\n  - {name: prod, api_key_env: EC_API_KEY}\n"), WithLookupEnv(testEnv))
	require.NoError(t, err)

	want := &Config{
		Accounts: []Account{{
			Name: "prod", Platform: PlatformESS, URL: "https://api.elastic-cloud.com", APIKeyEnv: "EC_API_KEY",
			Billing:     Billing{API: BillingAPIV1},
			Credentials: Credentials{APIKey: sentinel},
		}},
		// The collectors' own values are checked in TestCollectorDefaults.
		Collectors: DefaultCollectors(),
		HTTP:       HTTP{Timeout: 30 * time.Second, MaxInFlight: 8, MaxRetries: 3, MaxBodyBytes: 67108864},
	}
	assert.Equal(t, want, cfg)
	assert.Equal(t, DefaultCollectors(), cfg.Collectors)
	assert.Equal(t, DefaultHTTP, cfg.HTTP)
	assert.Equal(t, sentinel, cfg.Accounts[0].Credentials.APIKey.Reveal(), "trailing newline trimmed")
	assert.True(t, cfg.Accounts[0].Deployments.Match("anything", "any"))
}

func TestECEWithLogin(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
accounts:
  - name: onprem
    platform: ece
    url: https://ece.example.internal:12443/api/v1
    username: readonly
    password_file: key.txt
    tls: {insecure_skip_verify: true, server_name: ece.example.internal}
collectors:
  api_keys: {scope: all, interval: 30m}
`), WithBaseDir("testdata"))
	require.NoError(t, err)
	a, ok := cfg.Account("onprem")
	require.True(t, ok)
	assert.Equal(t, PlatformECE, a.Platform)
	assert.Equal(t, "https://ece.example.internal:12443/api/v1", a.URL, "a trailing /api/v1 is kept; the client appends it once")
	assert.Equal(t, filepath.Join("testdata", "key.txt"), a.PasswordFile, "resolved against the base directory")
	assert.Equal(t, Credentials{Username: "readonly", Password: sentinel}, a.Credentials)
	assert.Equal(t, TLS{InsecureSkipVerify: true, ServerName: "ece.example.internal"}, a.TLS)
	// The collector options of this document: TestCollectorOptionsDecode.
	assert.Equal(t, DefaultCollectors()["billing"], cfg.Collectors["billing"])

	_, ok = cfg.Account("missing")
	assert.False(t, ok)
}

func TestPartialSectionsKeepDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`
accounts:
  - name: prod
    api_key: inline
    organization_ids: ["123", "456"]
collectors:
  deployments:
  billing: {interval: 2h}
  billing_charts: {bucketing: monthly, per_deployment: true}
  remote_clusters: {concurrency: 64}
  upgrades: {interval: 1d}
http:
  timeout: 1m30s
  max_retries: 0
  max_requests_per_hour: 1000
`))
	require.NoError(t, err)
	// The collector options of this document: TestCollectorOptionsDecode.
	assert.Equal(t, DefaultCollectors()["deployments"], cfg.Collectors["deployments"], "an empty value keeps the defaults")
	assert.Equal(t, HTTP{Timeout: 90 * time.Second, MaxInFlight: 8, MaxRetries: 0, MaxBodyBytes: 64 << 20, MaxRequestsPerHour: 1000}, cfg.HTTP)
	assert.Equal(t, []string{"123", "456"}, cfg.Accounts[0].OrganizationIDs)
	assert.Equal(t, Secret("inline"), cfg.Accounts[0].Credentials.APIKey)
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute, "1h0m0s": time.Hour,
		"1.5h": 90 * time.Minute, "500ms": 500 * time.Millisecond, "1d": 24 * time.Hour, "2w": 14 * 24 * time.Hour,
		"1y": 365 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1w2d3h4m5s6ms": 9*24*time.Hour + 3*time.Hour + 4*time.Minute + 5*time.Second + 6*time.Millisecond,
		"0": 0, "-5m": -5 * time.Minute,
	} {
		got, err := ParseDuration(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, in := range []string{"", "5", "soon", "1d-1h", "1h1d", "d", "99999999999999y", "293y", "106751d23h47m16s855ms", "1.5d"} {
		_, err := ParseDuration(in)
		assert.Error(t, err, in)
	}
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		30 * time.Second: "30s", 24 * time.Hour: "24h", 1500 * time.Millisecond: "1.5s", 0: "0s",
	} {
		assert.Equal(t, want, formatDuration(d))
		back, err := ParseDuration(want)
		require.NoError(t, err)
		assert.Equal(t, d, back)
	}
}

func TestDeploymentFilterMatch(t *testing.T) {
	t.Parallel()
	parse := func(include, exclude string) DeploymentFilter {
		cfg, err := Parse([]byte(fmt.Sprintf("accounts:\n  - name: a\n    api_key: k\n    deployments: {include: %s, exclude: %s}\n", include, exclude)))
		require.NoError(t, err)
		return cfg.Accounts[0].Deployments
	}
	for _, tc := range []struct {
		include, exclude, id, name string
		want                       bool
	}{
		{"[]", "[]", "abc123", "anything", true},
		{"[prod]", "[]", "abc123", "prod", true},
		{"[prod]", "[]", "abc123", "prod-eu", false}, // anchored
		{"[prod]", "[]", "abc123", "preprod", false},
		{"['prod-.*']", "[]", "abc123", "prod-eu", true},
		{"[abc123]", "[]", "abc123", "logs", true},                    // matches the id
		{"['prod-.*']", "['.*-staging']", "x", "prod-staging", false}, // exclude wins
		{"[]", "['.*-staging']", "x", "logs-staging", false},
		{"[]", "['.*-staging']", "x", "logs", true},
		{"['a|b']", "[]", "x", "b", true}, // alternation stays inside the anchors
		{"['a|b']", "[]", "x", "ab", false},
	} {
		f := parse(tc.include, tc.exclude)
		assert.Equal(t, tc.want, f.Match(tc.id, tc.name), "%+v", tc)

		// A filter built by hand behaves the same.
		hand := DeploymentFilter{Include: f.Include, Exclude: f.Exclude}
		assert.Equal(t, tc.want, hand.Match(tc.id, tc.name), "by hand %+v", tc)
	}
	assert.False(t, DeploymentFilter{Include: []string{"("}}.Match("(", "("), "an invalid expression matches nothing")
}

func TestEqual(t *testing.T) {
	t.Parallel()
	files := map[string]string{"/k": "one", "/same": "one", "/other": "two"}
	load := func(doc string) Account {
		t.Helper()
		cfg, err := Parse([]byte(doc), WithReadFile(func(name string) ([]byte, error) {
			if v, ok := files[name]; ok {
				return []byte(v), nil
			}
			return os.ReadFile(name)
		}), WithLookupEnv(func(string) (string, bool) { return "one", true }))
		require.NoError(t, err)
		return cfg.Accounts[0]
	}
	base := load("accounts:\n  - {name: prod, api_key_file: /k}\n")
	assert.True(t, base.Equal(load("accounts:\n  - {name: prod, api_key_file: /k}\n")))
	assert.True(t, base.Equal(load("accounts:\n  - {name: prod, api_key_file: /same}\n")), "same key from another file")
	assert.True(t, base.Equal(load("accounts:\n  - {name: prod, api_key_env: X}\n")), "same key from the environment")
	assert.True(t, base.Equal(load("accounts:\n  - {name: prod, api_key_file: /k}\ncollectors: {billing: {interval: 2h}}\n")), "collector settings are global")
	for what, doc := range map[string]string{
		"rotated key":   "accounts:\n  - {name: prod, api_key_file: /other}\n",
		"name":          "accounts:\n  - {name: prod2, api_key_file: /k}\n",
		"url":           "accounts:\n  - {name: prod, api_key_file: /k, url: 'https://proxy.example.com'}\n",
		"platform":      "accounts:\n  - {name: prod, api_key_file: /k, platform: ece, url: 'https://api.elastic-cloud.com'}\n",
		"tls":           "accounts:\n  - {name: prod, api_key_file: /k, tls: {insecure_skip_verify: true}}\n",
		"organizations": "accounts:\n  - {name: prod, api_key_file: /k, organization_ids: ['1']}\n",
		"include":       "accounts:\n  - {name: prod, api_key_file: /k, deployments: {include: [x]}}\n",
		"exclude":       "accounts:\n  - {name: prod, api_key_file: /k, deployments: {exclude: [x]}}\n",
		"billing api":   "accounts:\n  - {name: prod, api_key_file: /k, billing: {api: v2}}\n",
		"budget":        "accounts:\n  - {name: prod, api_key_file: /k, budgets: [{name: total, monthly_ecu: 10}]}\n",
	} {
		assert.False(t, base.Equal(load(doc)), what)
	}

	// Rotating a TLS file behind the same path is a change too.
	dir := t.TempDir()
	writeCert(t, dir, "ca.pem", "unused.key")
	tlsDoc := "accounts:\n  - {name: prod, api_key_file: /k, tls: {ca_file: " + filepath.Join(dir, "ca.pem") + "}}\n"
	before := load(tlsDoc)
	assert.True(t, before.Equal(load(tlsDoc)))
	writeCert(t, dir, "ca.pem", "unused.key")
	assert.False(t, before.Equal(load(tlsDoc)), "rotated CA")
}

// writeCert writes a fresh self-signed certificate and its key.
func writeCert(t *testing.T, dir, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, certFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
}

func TestTLSFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeCert(t, dir, "ca.pem", "ca.key")
	writeCert(t, dir, "client.pem", "client.key")
	writeCert(t, dir, "other.pem", "other.key")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte(sentinel+"\n"), 0o600))
	write := func(tls string) string {
		f := filepath.Join(dir, "c.yml")
		require.NoError(t, os.WriteFile(f, []byte("accounts:\n  - {name: p, platform: ece, url: 'https://ece:12443', api_key_file: key, tls: "+tls+"}\n"), 0o600))
		return f
	}

	cfg, err := Load(write("{ca_file: ca.pem, cert_file: client.pem, key_file: client.key}"))
	require.NoError(t, err)
	assert.Equal(t, TLS{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "client.pem"),
		KeyFile:  filepath.Join(dir, "client.key"),
	}, cfg.Accounts[0].TLS, "paths resolved against the config file's directory")

	_, err = Load(write("{cert_file: client.pem, key_file: other.key}"))
	require.Error(t, err)
	assert.Equal(t, `accounts[0].tls: cert_file "client.pem" and key_file "other.key": tls: private key does not match public key`, err.Error())

	_, err = Load(write("{cert_file: client.pem, key_file: key}"))
	require.Error(t, err)
	assert.Equal(t, `accounts[0].tls: cert_file "client.pem" and key_file "key": tls: failed to find any PEM data in key input`, err.Error())
	assert.NotContains(t, err.Error(), sentinel)
}

// TestTLSConfigBuiltOnce: the client TLS configuration is built at load
// from the files read then, each read once; removing the files afterwards
// changes nothing, since the API client reads none (issue 15 §6).
func TestTLSConfigBuiltOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeCert(t, dir, "ca.pem", "ca.key")
	writeCert(t, dir, "client.pem", "client.key")
	doc := "accounts:\n  - {name: p, platform: ece, url: 'https://ece:12443', api_key: k, tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client.key, server_name: ece.internal}}\n"
	reads := map[string]int{}
	cfg, err := Parse([]byte(doc), WithBaseDir(dir), WithReadFile(func(p string) ([]byte, error) {
		reads[filepath.Base(p)]++
		return os.ReadFile(p)
	}))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"ca.pem": 1, "client.pem": 1, "client.key": 1}, reads)
	for _, f := range []string{"ca.pem", "client.pem", "client.key"} {
		require.NoError(t, os.Remove(filepath.Join(dir, f)))
	}
	tc, err := cfg.Accounts[0].TLSConfig()
	require.NoError(t, err)
	require.NotNil(t, tc)
	assert.NotNil(t, tc.RootCAs, "ca_file")
	assert.Len(t, tc.Certificates, 1, "cert_file and key_file")
	assert.Equal(t, "ece.internal", tc.ServerName)
	assert.False(t, tc.InsecureSkipVerify)

	// No tls settings: no TLS configuration (Go's defaults).
	tc, err = Account{Name: "p"}.TLSConfig()
	require.NoError(t, err)
	assert.Nil(t, tc)
	// Built by hand: settings without files work, files need Parse.
	tc, err = Account{TLS: TLS{InsecureSkipVerify: true}}.TLSConfig()
	require.NoError(t, err)
	assert.True(t, tc.InsecureSkipVerify)
	_, err = Account{TLS: TLS{CAFile: "/ca.pem"}}.TLSConfig()
	assert.ErrorIs(t, err, errTLSNotLoaded)
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte("  "+sentinel+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.yml"), []byte("accounts:\n  - {name: p, api_key_file: key}\n"), 0o600))
	cfg, err := Load(filepath.Join(dir, "c.yml"))
	require.NoError(t, err)
	assert.Equal(t, sentinel, cfg.Accounts[0].Credentials.APIKey.Reveal(), "surrounding whitespace trimmed")
	assert.Equal(t, filepath.Join(dir, "key"), cfg.Accounts[0].APIKeyFile)

	_, err = Load(filepath.Join(dir, "missing.yml"))
	require.Error(t, err)
	assert.Equal(t, "read config file: open "+filepath.Join(dir, "missing.yml")+": no such file or directory", err.Error())
}

func TestReadFileLimit(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte("accounts:\n  - {name: p, api_key_file: /big}\n"),
		WithReadFile(func(string) ([]byte, error) { return bytes.Repeat([]byte("a"), maxFileSize+1), nil }))
	require.Error(t, err)
	assert.Equal(t, `accounts[0].api_key_file: "/big": file is larger than 4194304 bytes`, err.Error())

	if _, statErr := os.Stat("/dev/zero"); statErr == nil {
		_, err = Parse([]byte("accounts:\n  - {name: p, api_key_file: /dev/zero}\n"))
		require.Error(t, err)
		assert.Equal(t, `accounts[0].api_key_file: "/dev/zero": read /dev/zero: not a regular file (a character device)`, err.Error())
	}
}

// secretsConfig has the sentinel in a file, the environment and inline.
const secretsConfig = `
accounts:
  - {name: from-file, api_key_file: key.txt}
  - {name: from-env, api_key_env: EC_API_KEY}
  - {name: inline, api_key: "` + sentinel + `", organization_ids: ["1234"], deployments: {include: ["prod-.*"], exclude: [".*-tmp"]}}
  - {name: login, platform: ece, url: "https://ece.example.internal:12443", username: admin, password_file: key.txt, tls: {insecure_skip_verify: true}}
collectors:
  billing: {interval: 90m}
http: {timeout: 45s}
`

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(secretsConfig), WithBaseDir("testdata"), WithLookupEnv(testEnv))
	require.NoError(t, err)
	for _, a := range cfg.Accounts {
		if a.Credentials.APIKey != "" {
			assert.Equal(t, sentinel, a.Credentials.APIKey.Reveal(), a.Name)
		} else {
			assert.Equal(t, sentinel, a.Credentials.Password.Reveal(), a.Name)
		}
	}

	out, err := cfg.Redacted()
	require.NoError(t, err)
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	// Every verb, including ones vet would flag, on every level.
	var verbs strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		for _, v := range []any{cfg, *cfg, cfg.Accounts, cfg.Accounts[2], &cfg.Accounts[3], cfg.Accounts[1].Credentials} {
			fmt.Fprintf(&verbs, verb, v)
		}
	}
	for what, s := range map[string]string{
		"fmt verbs":      verbs.String(),
		"redacted":       string(out),
		"json":           string(j),
		"fmt value":      fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg),
		"fmt accounts":   fmt.Sprintf("%v %+v %#v", cfg.Accounts, cfg.Accounts, cfg.Accounts),
		"fmt account":    fmt.Sprintf("%v %+v %#v", cfg.Accounts[2], cfg.Accounts[3], &cfg.Accounts[0]),
		"fmt creds":      fmt.Sprintf("%v %+v %#v %s", cfg.Accounts[0].Credentials, cfg.Accounts[3].Credentials, cfg.Accounts[1].Credentials, cfg.Accounts[2].APIKey),
		"fmt secret ptr": fmt.Sprintf("%v", &cfg.Accounts[0].Credentials.APIKey),
	} {
		assert.NotContains(t, s, sentinel, what)
	}
	assert.Contains(t, string(out), "api_key: <secret>")
}

func TestRedactedGolden(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(secretsConfig), WithBaseDir("testdata"), WithLookupEnv(testEnv))
	require.NoError(t, err)
	out, err := cfg.Redacted()
	require.NoError(t, err)

	golden := filepath.Join("testdata", "redacted.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))

	// The output is a configuration that loads back to the same thing,
	// except for the inline key, which now reads "<secret>".
	again, err := Parse(out, WithLookupEnv(testEnv))
	require.NoError(t, err)
	assert.Equal(t, cfg.Collectors, again.Collectors)
	assert.Equal(t, cfg.HTTP, again.HTTP)
	require.Len(t, again.Accounts, len(cfg.Accounts))
	for i, a := range again.Accounts {
		if cfg.Accounts[i].APIKey != "" {
			assert.Equal(t, "<secret>", a.Credentials.APIKey.Reveal())
			a.Credentials = cfg.Accounts[i].Credentials
		}
		assert.True(t, cfg.Accounts[i].Equal(a), cfg.Accounts[i].Name)
	}
}

func TestExampleConfig(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "config.example.yml"))
	require.NoError(t, err)
	var read []string
	cfg, err := Parse(data,
		WithBaseDir(".."),
		WithReadFile(func(name string) ([]byte, error) { read = append(read, name); return []byte("example-key\n"), nil }),
		WithLookupEnv(func(string) (string, bool) { return "example-key", true }))
	require.NoError(t, err)
	require.NotEmpty(t, cfg.Accounts)
	assert.Equal(t, []string{"/run/secrets/ec_api_key"}, read)
	assert.Equal(t, DefaultCollectors(), cfg.Collectors, "the example shows the defaults")
	assert.Equal(t, DefaultHTTP, cfg.HTTP, "the example shows the defaults")

	// Every key the configuration knows is documented in the example (the
	// collectors' keys: TestExampleConfigCollectors).
	for _, key := range yamlKeys(reflect.TypeOf(Config{})) {
		assert.Contains(t, string(data), key+":", "config.example.yml does not mention %q", key)
	}
}

// TestExampleConfigReportsEveryError: config.example.yml as shipped, on a
// machine with neither its key file nor its variable, names both (issue 14
// §20: it used to name only the first).
func TestExampleConfigReportsEveryError(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "config.example.yml"))
	require.NoError(t, err)
	_, err = Parse(data,
		WithBaseDir(".."),
		WithReadFile(func(name string) ([]byte, error) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}),
		WithLookupEnv(func(string) (string, bool) { return "", false }))
	require.Error(t, err)
	assert.Equal(t, `accounts[0].api_key_file: "/run/secrets/ec_api_key": open /run/secrets/ec_api_key: file does not exist`+"\n"+
		`accounts[1].api_key_env: "ECE_API_KEY": environment variable is not set or empty`, err.Error())
}

// yamlKeys lists the YAML keys of t and of the structs below it.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		keys = append(keys, name)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) {
			keys = append(keys, yamlKeys(ft)...)
		}
	}
	return keys
}

func TestDefaultsAreValid(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig
	cfg.Accounts = []Account{{Name: "a", APIKey: "k"}}
	out, err := cfg.Redacted()
	require.NoError(t, err)
	back, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, DefaultCollectors(), back.Collectors)
	assert.Equal(t, DefaultHTTP, back.HTTP)
	require.NotEmpty(t, CollectorNames())
	for _, name := range CollectorNames() {
		assert.Positive(t, MinInterval(name), name)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(secretsConfig))
	for _, seed := range []string{
		"accounts:\n  - {name: prod, api_key: k}\n",
		"accounts: [{name: a, platform: ece, url: 'https://x:12443', username: u, password_file: p}]",
		"accounts: [{name: a, api_key_env: E, deployments: {include: ['a.*'], exclude: ['(b']}}]",
		"accounts: [{name: a, api_key_file: f, tls: {ca_file: c, cert_file: x, key_file: y}}]",
		"collectors: {billing: {interval: 1h}}", "http: {timeout: 1s}", "{}", "", "~", "[]", "---\n---\n",
		"accounts: [{name: a, api_key: k}]\ncollectors: {api_keys: {interval: 1d, scope: all}}\nhttp: {max_in_flight: 300}",
	} {
		f.Add([]byte(seed))
	}
	for file := range invalidCases {
		if b, err := os.ReadFile(filepath.Join("testdata", file)); err == nil {
			f.Add(b)
		}
	}
	readFile := func(string) ([]byte, error) { return []byte(sentinel + "\n"), nil }
	lookupEnv := func(string) (string, bool) { return sentinel, true }
	f.Fuzz(func(t *testing.T, data []byte) {
		inInput := bytes.Contains(data, []byte(sentinel))
		cfg, err := Parse(data, WithReadFile(readFile), WithLookupEnv(lookupEnv))
		if err != nil {
			msg := err.Error()
			if !inInput && strings.Contains(msg, sentinel) {
				t.Fatalf("secret in error: %q", msg)
			}
			for _, p := range []string{"accounts", "collectors.", "collectors:", "http.", "http:", "yaml: "} {
				if strings.HasPrefix(msg, p) {
					return
				}
			}
			if strings.Contains(msg, ": unknown field (line ") {
				return // an unknown top-level key, named
			}
			t.Fatalf("error names no field and is no yaml error: %q", msg)
		}
		out, err := cfg.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if !inInput && bytes.Contains(out, []byte(sentinel)) {
			t.Fatalf("secret in Redacted output:\n%s", out)
		}
		again, err := Parse(out, WithReadFile(readFile), WithLookupEnv(lookupEnv))
		if err != nil {
			t.Fatalf("Redacted output does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(cfg.Collectors, again.Collectors) || cfg.HTTP != again.HTTP || len(cfg.Accounts) != len(again.Accounts) {
			t.Fatalf("Redacted output parses differently:\n%s", out)
		}
		for i, a := range again.Accounts {
			a.Credentials = cfg.Accounts[i].Credentials
			if !cfg.Accounts[i].Equal(a) {
				t.Fatalf("account %d parses differently:\n%s", i, out)
			}
		}
	})
}

// TestBillingAndBudgets: the billing source defaults to v1, v2 gets the
// billing host unless one is set, and budgets decode with their tag.
func TestBillingAndBudgets(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(`accounts:
  - {name: a, api_key: k}
  - {name: b, api_key: k, billing: {api: v2}}
  - name: c
    api_key: k
    organization_ids: ["111"]
    billing: {api: v2, url: "https://cloud.elastic.co"}
    budgets:
      - {name: total, organization_id: "111", monthly_ecu: 5000}
      - {name: team-search, tag: {team: search}, monthly_ecu: 800.5}
`))
	require.NoError(t, err)
	assert.Equal(t, Billing{API: BillingAPIV1}, cfg.Accounts[0].Billing)
	assert.Equal(t, Billing{API: BillingAPIV2, URL: DefaultBillingV2URL}, cfg.Accounts[1].Billing)
	assert.Equal(t, Billing{API: BillingAPIV2, URL: "https://cloud.elastic.co"}, cfg.Accounts[2].Billing)
	assert.Equal(t, []Budget{
		{Name: "total", OrganizationID: "111", MonthlyECU: 5000},
		{Name: "team-search", Tag: map[string]string{"team": "search"}, MonthlyECU: 800.5},
	}, cfg.Accounts[2].Budgets)
	assert.Equal(t, "team", cfg.Accounts[2].Budgets[1].TagKey())
	assert.Equal(t, "search", cfg.Accounts[2].Budgets[1].TagValue())
	assert.Empty(t, cfg.Accounts[2].Budgets[0].TagKey())
}
