package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"

	"github.com/ece-exporter/ece_exporter/collector"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

const (
	sentinelKey      = "SENTINEL-APIKEY-a81f3c"
	sentinelPassword = "SENTINEL-PASSWORD-77d0e2"
	sentinelToken    = "SENTINEL-ADMIN-TOKEN-4be19a"
)

// testEnv is a config file with two accounts on simulators, secrets in files.
type testEnv struct {
	dir, config string
	ess, ece    *ecesim.Server
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{dir: t.TempDir()}
	e.ess = ecesim.New(ecesim.Options{Seed: 91, DeploymentsPerOrg: 4, APIKey: sentinelKey, LeakKeyField: true})
	e.ece = ecesim.New(ecesim.Options{Mode: ecesim.ModeECE, Seed: 92, DeploymentsPerOrg: 3, Username: "admin", Password: sentinelPassword,
		LeakKeyField: true, APIKeyExpiration: time.Now().Add(48 * time.Hour)})
	essSrv, eceSrv := httptest.NewServer(e.ess), httptest.NewServer(e.ece)
	t.Cleanup(essSrv.Close)
	t.Cleanup(eceSrv.Close)
	write := func(name, content string) string {
		p := filepath.Join(e.dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	write("key", sentinelKey+"\n")
	write("password", sentinelPassword+"\n")
	write("token", sentinelToken+"\n")
	e.config = write("config.yml", fmt.Sprintf(`
accounts:
  - {name: cloud, url: %q, api_key_file: key}
  - {name: onprem, platform: ece, url: %q, username: admin, password_file: password}
http: {max_retries: 0}
`, essSrv.URL, eceSrv.URL))
	return e
}

// TestSecretsNeverLeak runs the daemon with sentinel secrets, provokes
// errors, reloads, uses the admin endpoint and --config.check, and asserts
// no sentinel (nor the `key` field of key listings) appears anywhere.
func TestSecretsNeverLeak(t *testing.T) {
	e := newTestEnv(t)
	var outputs []string

	var check bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--config.file=" + e.config, "--config.check"}, &check, &check, nil))
	outputs = append(outputs, check.String())
	assert.True(t, strings.Contains(check.String(), "api_key_file: "+filepath.Join(e.dir, "key")), "the file path is shown, not its content")

	e.ess.SetFault("get-api-keys", ecesim.Fault{Status: 401})
	e.ece.SetFault("get-deployment-es-resource-remote-clusters", ecesim.Fault{Status: 502, HTMLBody: true})
	d := startDaemon(t, "--config.file="+e.config, "--log.level=debug", "--web.enable-lifecycle", "--admin.enabled", "--admin.token-file="+filepath.Join(e.dir, "token"))
	d.waitReady(t)

	_, metrics := d.get(t, "/metrics")
	outputs = append(outputs, metrics)
	assert.True(t, strings.Contains(metrics, `ece_exporter_collector_errors_total{account="cloud",collector="api_keys",reason="auth"} 1`), "the 401 is counted")
	_, statusPage := d.get(t, "/status")
	outputs = append(outputs, statusPage)
	assert.Contains(t, statusPage, `data-collector="api_keys" data-state="failing"`, "the 401 shows on the status page")

	dep := e.ess.Deployments()[0].ID
	for _, tc := range []struct{ path, token string }{
		{"/admin/v1/accounts/cloud/deployments/" + dep + "/kibana/main-kibana/upgrade", sentinelToken},
		{"/admin/v1/accounts/cloud/deployments/" + dep + "/upgrades", sentinelToken},
		{"/admin/v1/accounts/cloud/deployments/" + dep + "/kibana/main-kibana/upgrade", "wrong"},
		{"/admin/v1/accounts/nope/deployments/" + dep + "/apm/x/upgrade", sentinelToken},
	} {
		req, _ := http.NewRequest(http.MethodGet, d.url+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		outputs = append(outputs, string(b), fmt.Sprint(resp.Header))
	}
	e.ess.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 403})
	req, _ := http.NewRequest(http.MethodGet, d.url+"/admin/v1/accounts/cloud/deployments/"+dep+"/apm/main-apm/upgrade", nil)
	req.Header.Set("Authorization", "Bearer "+sentinelToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	outputs = append(outputs, string(b))

	// A bad reload (missing secret file) and a good one.
	require.NoError(t, os.Rename(filepath.Join(e.dir, "password"), filepath.Join(e.dir, "password.bak")))
	resp, err = http.Post(d.url+"/-/reload", "", nil)
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	outputs = append(outputs, string(b))
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.NoError(t, os.Rename(filepath.Join(e.dir, "password.bak"), filepath.Join(e.dir, "password")))
	resp, err = http.Post(d.url+"/-/reload", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, metrics = d.get(t, "/metrics")
	outputs = append(outputs, metrics)

	assert.Equal(t, 0, d.stop(t))
	outputs = append(outputs, d.logs.String())
	require.Contains(t, d.logs.String(), "poll failed", "errors were logged")

	for i, out := range outputs {
		for _, s := range []string{sentinelKey, sentinelPassword, sentinelToken, ecesim.LeakedKeyValue} {
			assert.False(t, strings.Contains(out, s), "output %d leaks %s", i, s[:12])
		}
	}
	assert.Zero(t, e.ess.RealUpgrades()+e.ece.RealUpgrades())
}

// TestEchoedSecretsNeverLeak: upstreams that echo the credential they got
// in an error answer, encoded as servers and proxies do (JSON escapes,
// percent-encoding in any case, base64, HTML escapes, case-folded), for
// API keys and ECE logins, on every collector's calls: no form of a
// secret reaches the logs or /metrics.
func TestEchoedSecretsNeverLeak(t *testing.T) {
	const (
		key      = `SENTINEL-Key+/aB<cD>==`
		password = `SENTINEL-Pa<ss>&"wörd'/x`
	)
	jsonEsc := func(s string) string { b, _ := json.Marshal(s); return strings.Trim(string(b), `"`) }
	encodings := map[string]func(string) string{
		"raw":         func(s string) string { return s },
		"upper":       strings.ToUpper,
		"json":        jsonEsc,
		"jsonupper":   func(s string) string { return strings.ToUpper(jsonEsc(s)) },
		"query":       url.QueryEscape,
		"querylower":  func(s string) string { return strings.ToLower(url.QueryEscape(s)) },
		"path":        url.PathEscape,
		"html":        html.EscapeString,
		"base64":      func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"base64url":   func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
		"b64userpass": func(s string) string { return base64.StdEncoding.EncodeToString([]byte("admin:" + s)) },
	}
	// Redirects whose target holds the key: to another host, to the same
	// host (then a 404), and an unparsable Location.
	redirects := map[string]func(string) string{
		"redirect-host": func(k string) string { return "http://other.invalid/leak/" + url.PathEscape(k) },
		"redirect-same": func(k string) string { return "/redirect-same/api/v1/leak/" + url.PathEscape(k) },
		"redirect-bad":  func(k string) string { return "http://[::1%zz/x?k=" + k },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /<encoding>/api/v1/...: the account's base path names the encoding.
		name, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if redirect := redirects[name]; redirect != nil {
			if strings.Contains(r.URL.Path, "/leak/") {
				http.NotFound(w, r)
				return
			}
			_, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			w.Header().Set("Location", redirect(cred))
			w.WriteHeader(http.StatusFound)
			return
		}
		enc := encodings[name]
		if enc == nil {
			http.NotFound(w, r)
			return
		}
		secret := ""
		if strings.HasSuffix(r.URL.Path, "/users/auth/_login") {
			var body map[string]string
			_ = json.NewDecoder(r.Body).Decode(&body)
			secret = body["password"]
		} else {
			_, secret, _ = strings.Cut(r.Header.Get("Authorization"), " ")
		}
		e := enc(secret)
		if strings.Contains(r.URL.Path, "/billing/") {
			w.Header().Set("x-cloud-error-codes", "root.unauthorized,"+e)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": "root.unauthorized", "message": "credential " + e + " refused"}}})
			_, _ = w.Write(b)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "rejected credential %s\n", e)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "key"), []byte(key+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "password"), []byte(password+"\n"), 0o600))
	var cfg strings.Builder
	cfg.WriteString("accounts:\n")
	for name := range encodings {
		fmt.Fprintf(&cfg, "  - {name: key-%s, url: %q, api_key_file: key}\n", name, srv.URL+"/"+name)
		fmt.Fprintf(&cfg, "  - {name: login-%s, platform: ece, url: %q, username: admin, password_file: password}\n", name, srv.URL+"/"+name)
	}
	for name := range redirects {
		fmt.Fprintf(&cfg, "  - {name: key-%s, url: %q, api_key_file: key}\n", name, srv.URL+"/"+name)
	}
	cfg.WriteString("http: {max_retries: 0}\n")
	config := filepath.Join(dir, "config.yml")
	require.NoError(t, os.WriteFile(config, []byte(cfg.String()), 0o600))

	d := startDaemon(t, "--config.file="+config, "--log.level=debug")
	d.waitReady(t)
	_, metrics := d.get(t, "/metrics")
	_, statusPage := d.get(t, "/status")
	assert.Equal(t, 0, d.stop(t))
	logs := d.logs.String()
	assert.Contains(t, statusPage, "&lt;secret&gt;", "the status page shows the redacted echoes")
	for name := range encodings {
		assert.Contains(t, logs, `account=key-`+name, "errors of %s were logged", name)
		assert.Contains(t, logs, `account=login-`+name, "errors of login-%s were logged", name)
	}
	for name := range redirects {
		assert.Contains(t, logs, `account=key-`+name, "errors of %s were logged", name)
	}
	assert.NotContains(t, logs, "::1%zz", "an unparsable Location is not quoted")
	assert.Contains(t, logs, "<secret>", "the echoes were there, and redacted")
	for _, out := range []string{logs, metrics, statusPage} {
		folded := strings.ToLower(out)
		for name, enc := range encodings {
			for _, sec := range []string{key, password} {
				// As echoed, and as quoted once (%q of an error text) and
				// twice (logfmt of that).
				form := enc(sec)
				once := strings.Trim(strconv.Quote(form), `"`)
				twice := strings.Trim(strconv.Quote(once), `"`)
				for _, f := range []string{form, once, twice} {
					assert.NotContains(t, folded, strings.ToLower(f), "%s form of a secret leaks", name)
				}
			}
		}
	}
}

// TestReloadStorm: 100 reloads alternating good and bad while scraping.
func TestReloadStorm(t *testing.T) {
	e := newTestEnv(t)
	good, err := os.ReadFile(e.config)
	require.NoError(t, err)
	d := startDaemon(t, "--config.file="+e.config, "--no-collector.billing", "--no-collector.billing_charts", "--web.enable-lifecycle")
	d.waitReady(t)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	scrapes := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := http.Get(d.url + "/metrics")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					scrapes++
				}
			}
		}
	}()
	for i := 0; i < 100; i++ {
		content := good
		want := http.StatusOK
		if i%2 == 1 {
			content = []byte("accounts: [{name: Bad!}]\n")
			want = http.StatusInternalServerError
		}
		require.NoError(t, os.WriteFile(e.config, content, 0o600))
		resp, err := http.Post(d.url+"/-/reload", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "reload %d", i)
	}
	close(stop)
	wg.Wait()
	assert.Positive(t, scrapes)
	_, metrics := d.get(t, "/metrics")
	assert.True(t, strings.Contains(metrics, "ece_exporter_config_last_reload_successful 0"), "the last reload was bad")
	assert.True(t, strings.Contains(metrics, `ece_exporter_collector_success{account="cloud",collector="deployments"} 1`), "the good config kept running")
	assert.True(t, strings.Contains(metrics, `ece_deployment_info{account="onprem"`))
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var logs bytes.Buffer
	code := run(context.Background(), []string{"--demo", "--web.listen-address=" + ln.Addr().String()}, io.Discard, &logs, nil)
	assert.Equal(t, 1, code)
	assert.Contains(t, logs.String(), "address already in use")
}

func TestBadConfigExits1AndNamesTheField(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yml")
	require.NoError(t, os.WriteFile(p, []byte("accounts:\n  - {name: a, api_key: k, url: \"ftp://x\"}\n"), 0o600))
	var logs bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"--config.file=" + p}, io.Discard, &logs, nil))
	assert.Contains(t, logs.String(), `accounts[0].url: \"ftp://x\": scheme must be http or https`)
	assert.Equal(t, 1, run(context.Background(), []string{"--config.file=" + p, "--config.check"}, io.Discard, &logs, nil))
}

// TestShutdownDuringAPoll: SIGTERM (context cancel) while every poll hangs
// upstream still exits 0 quickly, with no goroutine left (TestMain checks).
func TestShutdownDuringAPoll(t *testing.T) {
	e := newTestEnv(t)
	e.ess.SetFault("*", ecesim.Fault{Hang: true})
	d := startDaemon(t, "--config.file="+e.config)
	time.Sleep(2500 * time.Millisecond) // past the start jitter: polls are hanging
	code, _ := d.get(t, "/-/healthy")
	assert.Equal(t, http.StatusOK, code)
	code, _ = d.get(t, "/metrics")
	assert.Equal(t, http.StatusOK, code, "scrapes answer while polls hang")
	start := time.Now()
	assert.Equal(t, 0, d.stop(t))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.True(t, strings.Contains(d.logs.String(), "stopped"))
}

// TestWebConfigBasicAuth: --web.config.file (exporter-toolkit) protects
// every endpoint, and /-/ready stays 503 while first polls hang.
func TestWebConfigBasicAuth(t *testing.T) {
	e := newTestEnv(t)
	e.ess.SetFault("*", ecesim.Fault{Hang: true})
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pass"), bcrypt.MinCost)
	require.NoError(t, err)
	web := filepath.Join(e.dir, "web.yml")
	require.NoError(t, os.WriteFile(web, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600))
	d := startDaemon(t, "--config.file="+e.config, "--web.config.file="+web)
	for _, path := range []string{"/metrics", "/-/healthy", "/-/ready", "/", "/status"} {
		code, _ := d.get(t, path)
		assert.Equal(t, http.StatusUnauthorized, code, path)
	}
	get := func(path string) int {
		req, _ := http.NewRequest(http.MethodGet, d.url+path, nil)
		req.SetBasicAuth("prom", "scrape-pass")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get("/metrics"))
	assert.Equal(t, http.StatusOK, get("/-/healthy"))
	assert.Equal(t, http.StatusOK, get("/status"))
	assert.Equal(t, http.StatusServiceUnavailable, get("/-/ready"), "first polls have not finished")
	assert.Equal(t, 0, d.stop(t))
}

// TestReloadWithBrokenSecretFile: a secret file that vanished, or can no
// longer be read, fails the reload with a message naming the field; the
// running configuration keeps polling with the credentials it had, and a
// reload after the file is back succeeds.
func TestReloadWithBrokenSecretFile(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, "--config.file="+e.config, "--no-collector.billing", "--no-collector.billing_charts", "--web.enable-lifecycle")
	d.waitReady(t)
	keyFile := filepath.Join(e.dir, "key")
	reload := func() (int, string) {
		t.Helper()
		resp, err := http.Post(d.url+"/-/reload", "", nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name    string
		breakIt func()
	}{
		{"vanished", func() { require.NoError(t, os.Remove(keyFile)) }},
		// A directory where the file was: unreadable even for root.
		{"unreadable", func() { require.NoError(t, os.Mkdir(keyFile, 0o700)) }},
	} {
		tc.breakIt()
		code, body := reload()
		assert.Equal(t, http.StatusInternalServerError, code, tc.name)
		assert.Contains(t, body, "accounts[0].api_key_file", tc.name)
		assert.NotContains(t, body, sentinelKey)
		_, metrics := d.get(t, "/metrics")
		assert.Contains(t, metrics, "ece_exporter_config_last_reload_successful 0", tc.name)
		assert.Contains(t, metrics, `ece_exporter_collector_success{account="cloud",collector="deployments"} 1`, tc.name)
		assert.Contains(t, metrics, `ece_deployment_info{account="cloud"`, tc.name)
		if tc.name == "vanished" {
			continue
		}
		require.NoError(t, os.Remove(keyFile))
	}
	require.NoError(t, os.WriteFile(keyFile, []byte(sentinelKey+"\n"), 0o600))
	code, body := reload()
	assert.Equal(t, http.StatusOK, code, body)
	_, metrics := d.get(t, "/metrics")
	assert.Contains(t, metrics, "ece_exporter_config_last_reload_successful 1")
}

// TestAdminBehindBasicAuth: with --web.config.file basic auth in front of
// everything, the admin token travels in X-Admin-Token (or a second
// Authorization header); basic auth alone does not open the admin endpoint.
func TestAdminBehindBasicAuth(t *testing.T) {
	e := newTestEnv(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pass"), bcrypt.MinCost)
	require.NoError(t, err)
	web := filepath.Join(e.dir, "web.yml")
	require.NoError(t, os.WriteFile(web, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600))
	d := startDaemon(t, "--config.file="+e.config, "--web.config.file="+web, "--no-collector.billing", "--no-collector.billing_charts",
		"--admin.enabled", "--admin.token-file="+filepath.Join(e.dir, "token"))
	dep := e.ess.Deployments()[0].ID
	path := "/admin/v1/accounts/cloud/deployments/" + dep + "/kibana/main-kibana/upgrade"
	do := func(h http.Header) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, d.url+path, nil)
		for k, vs := range h {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("prom:scrape-pass"))
	code, _ := do(http.Header{"X-Admin-Token": {sentinelToken}})
	assert.Equal(t, http.StatusUnauthorized, code, "no basic auth: stopped by the web config")
	code, body := do(http.Header{"Authorization": {basic}})
	assert.Equal(t, http.StatusUnauthorized, code, "basic auth alone: stopped by the admin token check")
	assert.Contains(t, body, "X-Admin-Token")
	code, body = do(http.Header{"Authorization": {basic}, "X-Admin-Token": {sentinelToken}})
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"stack_version"`)
	code, body = do(http.Header{"Authorization": {basic, "Bearer " + sentinelToken}})
	assert.Equal(t, http.StatusOK, code, body)
	assert.NotContains(t, body, sentinelToken)
	assert.Zero(t, e.ess.RealUpgrades())
}

// TestSIGHUPReloads: SIGHUP reloads like POST /-/reload: a good file is
// applied (a removed account's series go), a bad one is refused and
// reported.
func TestSIGHUPReloads(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, "--config.file="+e.config, "--no-collector.billing", "--no-collector.billing_charts")
	d.waitReady(t)
	_, metrics := d.get(t, "/metrics")
	require.Contains(t, metrics, `ece_deployment_info{account="onprem"`)

	good, err := os.ReadFile(e.config)
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.Split(string(good), "\n") {
		if !strings.Contains(line, "name: onprem") {
			kept = append(kept, line)
		}
	}
	require.NoError(t, os.WriteFile(e.config, []byte(strings.Join(kept, "\n")), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		_, m := d.get(t, "/metrics")
		return !strings.Contains(m, `account="onprem"`) && strings.Contains(m, "ece_exporter_config_last_reload_successful 1")
	}, 10*time.Second, 50*time.Millisecond, "the removed account's series are gone after SIGHUP")

	require.NoError(t, os.WriteFile(e.config, []byte("accounts: [{name: Bad!}]\n"), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		_, m := d.get(t, "/metrics")
		return strings.Contains(m, "ece_exporter_config_last_reload_successful 0")
	}, 10*time.Second, 50*time.Millisecond, "a bad file is refused")
	_, metrics = d.get(t, "/metrics")
	assert.Contains(t, metrics, `ece_deployment_info{account="cloud"`, "the running config keeps serving")
	assert.Contains(t, d.logs.String(), "accounts[0].name")
}

// TestCollectorSelectionFlags: --collector.disable-defaults keeps only the
// collectors enabled explicitly; --no-collector.<name> turns one off. With
// deployments off, deployments are neither polled nor exported, and the
// collectors that iterate them are not polled either, which the start-up
// log says once per collector.
func TestCollectorSelectionFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    []string
		skipped []string // not polled: they need the deployments discovery
	}{
		{args: []string{"--collector.disable-defaults", "--collector.deployments", "--collector.remote_clusters"}, want: []string{"deployments", "remote_clusters"}},
		{args: []string{"--no-collector.billing", "--no-collector.billing_charts", "--no-collector.api_keys"}, want: []string{"deployment_health", "deployments", "remote_clusters", "stack_versions"}},
		{args: []string{"--no-collector.deployment_health", "--no-collector.stack_versions"}, want: []string{"api_keys", "billing", "billing_charts", "deployments", "remote_clusters"}},
		{args: []string{"--collector.disable-defaults", "--collector.upgrades"}, skipped: []string{"upgrades"}},
		// deployment_health walks the search itself: it needs no discovery.
		{args: []string{"--no-collector.deployments"}, want: []string{"api_keys", "billing", "billing_charts", "deployment_health", "stack_versions"}, skipped: []string{"remote_clusters"}},
	} {
		e := newTestEnv(t)
		d := startDaemon(t, append([]string{"--config.file=" + e.config}, tc.args...)...)
		d.waitReady(t)
		_, metrics := d.get(t, "/metrics")
		var got []string
		for _, c := range []string{"api_keys", "billing", "billing_charts", "deployment_health", "deployments", "remote_clusters", "stack_versions", "upgrades"} {
			if strings.Contains(metrics, `ece_exporter_collector_interval_seconds{account="cloud",collector="`+c+`"}`) {
				got = append(got, c)
			}
		}
		assert.Equal(t, tc.want, got, "%v", tc.args)
		if !slices.Contains(tc.want, "deployments") {
			assert.NotContains(t, metrics, "ece_deployment_info{", "%v: deployments are not exported", tc.args)
			assert.NotContains(t, metrics, "ece_upgrade_target_info{", "%v", tc.args)
		}
		d.stop(t)
		for _, c := range tc.skipped {
			assert.Equal(t, 1, strings.Count(d.logs.String(), "collector "+c+" needs the deployments discovery"), "%v: warned once", tc.args)
		}
	}
}

// TestConfigCheckNotesSkippedCollectors: --config.check says which
// enabled collectors will not be polled because deployments is off, as a
// YAML comment after the effective configuration.
func TestConfigCheckNotesSkippedCollectors(t *testing.T) {
	e := newTestEnv(t)
	var out bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--config.file=" + e.config, "--config.check", "--no-collector.deployments"}, &out, io.Discard, nil))
	assert.Contains(t, out.String(), "# note: collector remote_clusters needs the deployments discovery, and the deployments collector is off: remote_clusters is not polled")
	var back map[string]any
	require.NoError(t, yaml.Unmarshal(out.Bytes(), &back), "still YAML")

	out.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"--config.file=" + e.config, "--config.check"}, &out, io.Discard, nil))
	assert.NotContains(t, out.String(), "# note:")
}

// TestReloadWithFIFOSecret: a secret file replaced by a named pipe fails a
// SIGHUP reload at once (reload_successful 0, logged) instead of wedging
// the reloader; a later reload and the shutdown still work (issue 14 §1).
func TestReloadWithFIFOSecret(t *testing.T) {
	e := newTestEnv(t)
	d := startDaemon(t, "--config.file="+e.config, "--no-collector.billing", "--no-collector.billing_charts", "--web.enable-lifecycle")
	d.waitReady(t)
	keyFile := filepath.Join(e.dir, "key")
	require.NoError(t, os.Remove(keyFile))
	require.NoError(t, syscall.Mkfifo(keyFile, 0o600))

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	require.Eventually(t, func() bool {
		_, m := d.get(t, "/metrics")
		return strings.Contains(m, "ece_exporter_config_last_reload_successful 0")
	}, 10*time.Second, 20*time.Millisecond, "the SIGHUP reload failed and says so")
	assert.Contains(t, d.logs.String(), `accounts[0].api_key_file: \"key\": read `+keyFile+`: not a regular file (a named pipe)`)

	require.NoError(t, os.Remove(keyFile))
	require.NoError(t, os.WriteFile(keyFile, []byte(sentinelKey+"\n"), 0o600))
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(d.url+"/-/reload", "", nil)
	require.NoError(t, err, "a later reload is not held up")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	_, metrics := d.get(t, "/metrics")
	assert.Contains(t, metrics, "ece_exporter_config_last_reload_successful 1")
	assert.Equal(t, 0, d.stop(t), "shutdown works")
	assert.NotContains(t, d.logs.String(), sentinelKey)
}

// TestConfigCheckWithFIFO: --config.check on a named pipe (or with a FIFO
// secret) fails at once naming the file, instead of blocking forever.
func TestConfigCheckWithFIFO(t *testing.T) {
	e := newTestEnv(t)
	fifo := filepath.Join(e.dir, "fifo.yml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	keyFile := filepath.Join(e.dir, "key")
	require.NoError(t, os.Remove(keyFile))
	require.NoError(t, syscall.Mkfifo(keyFile, 0o600))
	for _, tc := range []struct{ file, want string }{
		{fifo, `err="read config file: read ` + fifo + `: not a regular file (a named pipe)"`},
		{e.config, `err="accounts[0].api_key_file: \"key\": read ` + keyFile + `: not a regular file (a named pipe)"`},
	} {
		var out syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(context.Background(), []string{"--config.file=" + tc.file, "--config.check"}, &out, &out, nil)
		}()
		select {
		case code := <-done:
			assert.Equal(t, 1, code)
		case <-time.After(10 * time.Second):
			t.Fatalf("--config.check on %s blocked", tc.file)
		}
		assert.Contains(t, out.String(), tc.want)
	}
}

// TestLifecycleFlag: /-/reload reloads over HTTP only with
// --web.enable-lifecycle, like Prometheus: without it POST and PUT get 403
// "Lifecycle API is not enabled." and nothing is reloaded; GET is 405
// either way. SIGHUP reloads regardless (TestSIGHUPReloads runs without the
// flag).
func TestLifecycleFlag(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		postStatus int
		postBody   string
	}{
		{"disabled by default", nil, http.StatusForbidden, "Lifecycle API is not enabled.\n"},
		{"enabled", []string{"--web.enable-lifecycle"}, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			d := startDaemon(t, append([]string{"--config.file=" + e.config, "--no-collector.billing", "--no-collector.billing_charts"}, tc.args...)...)
			d.waitReady(t)
			// A bad configuration: a reload that runs fails, one that does not
			// leaves ece_exporter_config_last_reload_successful at 1.
			require.NoError(t, os.WriteFile(e.config, []byte("accounts: [{name: Bad!}]\n"), 0o600))
			for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodGet} {
				req, err := http.NewRequest(method, d.url+"/-/reload", nil)
				require.NoError(t, err)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case method == http.MethodGet:
					assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
					assert.Equal(t, "POST, PUT", resp.Header.Get("Allow"))
				case tc.postStatus == http.StatusOK:
					assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, method)
					assert.Contains(t, string(b), "accounts[0].name", method)
				default:
					assert.Equal(t, tc.postStatus, resp.StatusCode, method)
					assert.Equal(t, tc.postBody, string(b), method)
				}
			}
			_, metrics := d.get(t, "/metrics")
			if tc.postStatus == http.StatusOK {
				assert.Contains(t, metrics, "ece_exporter_config_last_reload_successful 0")
			} else {
				assert.Contains(t, metrics, "ece_exporter_config_last_reload_successful 1", "nothing was reloaded")
			}
			assert.Equal(t, 0, d.stop(t))
		})
	}
}

// TestFlagWarnings: flag combinations that are valid but most likely not
// what was meant are warned about, by --config.check too (issue 14 §20).
func TestFlagWarnings(t *testing.T) {
	e := newTestEnv(t)
	const (
		noCollector = `msg="no collector is enabled (--collector.disable-defaults or --no-collector.<name> without any --collector.<name>): only the exporter's own metrics are served"`
		tokenOnly   = `msg="--admin.token-file is set but the admin endpoint is off: add --admin.enabled to serve it"`
	)
	token := "--admin.token-file=" + filepath.Join(e.dir, "token")
	var noDefaults []string // every default collector turned off one by one
	for _, name := range collector.DefaultEnabled() {
		noDefaults = append(noDefaults, "--no-collector."+name)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--collector.disable-defaults"}, []string{noCollector}},
		{noDefaults, []string{noCollector}},
		{[]string{token}, []string{tokenOnly}},
		{[]string{"--collector.disable-defaults", token}, []string{noCollector, tokenOnly}},
		{[]string{"--admin.enabled", token}, nil},
		{[]string{"--collector.disable-defaults", "--collector.deployments"}, nil},
	} {
		var out syncBuffer
		code := run(context.Background(), append([]string{"--config.file=" + e.config, "--config.check"}, tc.args...), io.Discard, &out, nil)
		assert.Equal(t, 0, code, "%v", tc.args)
		var warns []string
		for _, line := range strings.Split(out.String(), "\n") {
			if i := strings.Index(line, "msg="); i >= 0 && strings.Contains(line, "level=warn") {
				warns = append(warns, line[i:])
			}
		}
		assert.Equal(t, tc.want, warns, "%v", tc.args)
	}
}
