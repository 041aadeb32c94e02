package admin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

const token = "admin-token-SENTINEL-7d3a9"

// allSims collects every simulator of the package's tests, so that TestMain
// can assert that no test ever caused a real upgrade.
var (
	simsMu  sync.Mutex
	allSims []*ecesim.Server
)

func TestMain(m *testing.M) {
	code := m.Run()
	simsMu.Lock()
	real := 0
	for _, s := range allSims {
		real += s.RealUpgrades()
	}
	simsMu.Unlock()
	if real != 0 {
		os.Stderr.WriteString("FAIL: the admin tests caused real upgrades\n")
		os.Exit(1)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
	}
	os.Exit(code)
}

type fakeBackend struct {
	client *eceapi.Client
	deps   map[string][]Resource
}

func (b fakeBackend) Client(account string) (*eceapi.Client, bool) {
	return b.client, account == "prod"
}

func (b fakeBackend) Resources(account, id string) ([]Resource, bool) {
	r, ok := b.deps[id]
	return r, ok && account == "prod"
}

type fixture struct {
	sim  *ecesim.Server
	h    *Handler
	reg  *prometheus.Registry
	logs *bytes.Buffer
	dep  ecesim.DeploymentRef
	now  time.Time
	mu   sync.Mutex
}

func newFixture(t testing.TB, opts Options, simOpts ...ecesim.Options) *fixture {
	t.Helper()
	f := &fixture{now: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC), logs: &bytes.Buffer{}}
	so := ecesim.Options{Seed: 9, DeploymentsPerOrg: 4}
	if len(simOpts) > 0 {
		so = simOpts[0]
	}
	f.sim = ecesim.New(so)
	simsMu.Lock()
	allSims = append(allSims, f.sim)
	simsMu.Unlock()
	srv := httptest.NewServer(f.sim)
	t.Cleanup(srv.Close)
	client, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("sim-api-key"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	deps := map[string][]Resource{}
	for _, d := range f.sim.Deployments() {
		for _, r := range d.Resources {
			deps[d.ID] = append(deps[d.ID], Resource{Kind: r.Kind, RefID: r.RefID})
		}
		if len(d.Resources) > 2 {
			f.dep = d
		}
	}
	dir := t.TempDir()
	opts.TokenFile = filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(opts.TokenFile, []byte(token+"\n"), 0o600))
	f.reg = prometheus.NewRegistry()
	opts.Registerer = f.reg
	opts.Logger = log.NewLogfmtLogger(log.NewSyncWriter(syncWriter{f}))
	opts.Now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	f.h, err = New(opts, fakeBackend{client: client, deps: deps})
	require.NoError(t, err)
	return f
}

type syncWriter struct{ f *fixture }

func (w syncWriter) Write(p []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.logs.Write(p)
}

func (f *fixture) do(t *testing.T, method, path, tok string) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	assert.NotContains(t, string(body), token, "the token is never echoed")
	var m map[string]any
	if method != http.MethodHead {
		require.NoError(t, json.Unmarshal(body, &m), "JSON body: %s", body)
	}
	return resp, m
}

func (f *fixture) upgradePath(kind, ref string) string {
	return "/admin/v1/accounts/prod/deployments/" + f.dep.ID + "/" + kind + "/" + ref + "/upgrade"
}

func TestUnauthorizedSendsNothingUpstream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	for _, tok := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
		resp, body := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), tok)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, "unauthorized", body["error"].(map[string]any)["code"])
	}
	req := httptest.NewRequest(http.MethodGet, f.upgradePath("kibana", "main-kibana"), nil)
	req.Header.Set("Authorization", "Basic "+token)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, 0, f.sim.TotalRequests())
	assert.Equal(t, float64(5), testutil.ToFloat64(f.h.requests.WithLabelValues(outcomeUnauthorized)))
}

// TestTokenCarriers: the token is accepted from X-Admin-Token or from any
// Authorization: Bearer header (basic auth of --web.config.file may hold
// the first Authorization header); nothing else authorizes.
func TestTokenCarriers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("prom:pass"))
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"bearer", http.Header{"Authorization": {"Bearer " + token}}, http.StatusOK},
		{"lower-case scheme (RFC 7235: case-insensitive)", http.Header{"Authorization": {"bearer " + token}}, http.StatusOK},
		{"upper-case scheme", http.Header{"Authorization": {"BEARER " + token}}, http.StatusOK},
		{"several spaces after the scheme", http.Header{"Authorization": {"Bearer   " + token}}, http.StatusOK},
		{"scheme only", http.Header{"Authorization": {"Bearer "}}, http.StatusUnauthorized},
		{"another scheme ending in bearer", http.Header{"Authorization": {"NotBearer " + token}}, http.StatusUnauthorized},
		{"X-Admin-Token", http.Header{TokenHeader: {token}}, http.StatusOK},
		{"basic first, then bearer", http.Header{"Authorization": {basic, "Bearer " + token}}, http.StatusOK},
		{"basic and X-Admin-Token", http.Header{"Authorization": {basic}, TokenHeader: {token}}, http.StatusOK},
		{"basic only", http.Header{"Authorization": {basic}}, http.StatusUnauthorized},
		{"wrong X-Admin-Token, right bearer", http.Header{TokenHeader: {"wrong"}, "Authorization": {"Bearer " + token}}, http.StatusUnauthorized},
		{"token without scheme", http.Header{"Authorization": {token}}, http.StatusUnauthorized},
		{"empty X-Admin-Token", http.Header{TokenHeader: {" "}}, http.StatusUnauthorized},
	} {
		req := httptest.NewRequest(http.MethodGet, f.upgradePath("kibana", "main-kibana"), nil)
		req.Header = tc.header
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		assert.Equal(t, tc.want, rec.Code, tc.name)
		assert.NotContains(t, rec.Body.String(), token, tc.name)
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "TRACE"} {
		resp, _ := f.do(t, m, f.upgradePath("kibana", "main-kibana"), token)
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, m)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), m)
	}
	assert.Equal(t, 0, f.sim.TotalRequests())
	resp, _ := f.do(t, http.MethodHead, f.upgradePath("kibana", "main-kibana"), token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestBadSegments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	id := f.dep.ID
	for _, tc := range []struct{ path, segment string }{
		{"/admin/v1/accounts/nope/deployments/" + id + "/kibana/main-kibana/upgrade", "account"},
		{"/admin/v1/accounts//deployments/" + id + "/kibana/main-kibana/upgrade", "account"},
		{"/admin/v1/accounts/prod/deployments/..%2f/kibana/main-kibana/upgrade", "deployment_id"},
		{"/admin/v1/accounts/prod/deployments/a.b/kibana/main-kibana/upgrade", "deployment_id"},
		{"/admin/v1/accounts/prod/deployments/" + strings.Repeat("a", 65) + "/kibana/main-kibana/upgrade", "deployment_id"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/elasticsearch/main-elasticsearch/upgrade", "kind"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/KIBANA/main-kibana/upgrade", "kind"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/kibana/-x/upgrade", "ref_id"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/kibana/a%20b/upgrade", "ref_id"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/kibana/main-kibana/_upgrade", "path"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/kibana/main-kibana/upgrade/x", "path"},
		{"/admin/v1/accounts/prod/clusters/" + id + "/upgrades", "path"},
		{"/admin/v1/accounts/prod/deployments/" + id + "/upgradez", "path"},
	} {
		resp, body := f.do(t, http.MethodGet, tc.path, token)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.path)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		assert.True(t, strings.HasPrefix(msg, tc.segment+":"), "%s: %q should name %s", tc.path, msg, tc.segment)
	}
	assert.Equal(t, 0, f.sim.TotalRequests(), "nothing upstream before validation passes")
}

// TestMethodBeforeToken: a method other than GET/HEAD gets the documented
// 405 whatever the token (none, wrong, right), and nothing goes upstream.
func TestMethodBeforeToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for _, tok := range []string{"", "wrong-token-wrong-token", token} {
			resp, body := f.do(t, m, f.upgradePath("kibana", "main-kibana"), tok)
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "%s with token %q", m, tok != "")
			assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"), m)
			assert.Equal(t, "method_not_allowed", body["error"].(map[string]any)["code"], m)
		}
	}
	assert.Equal(t, 0, f.sim.TotalRequests())
	assert.Equal(t, float64(15), testutil.ToFloat64(f.h.requests.WithLabelValues(outcomeMethodNotAllowed)))
}

// TestRefusedRequestsLogThrottled: a burst of refused requests writes one
// warning naming the remote address and path; the next one after
// RefusedLogInterval says how many were left out. Every refusal is counted.
func TestRefusedRequestsLogThrottled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	refuse := func(method, tok string) {
		req := httptest.NewRequest(method, f.upgradePath("kibana", "main-kibana"), nil)
		req.RemoteAddr = "192.0.2.7:40123"
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusMethodNotAllowed}, rec.Code)
	}
	logLines := func() []string {
		f.mu.Lock()
		defer f.mu.Unlock()
		return strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	}
	guess := token[:len(token)-1] + "!"
	for i := 0; i < 1000; i++ {
		refuse(http.MethodGet, guess)
	}
	refuse(http.MethodPost, "")
	lines := logLines()
	require.Len(t, lines, 1, "one line for 1,001 refusals within the interval")
	for _, want := range []string{"level=warn", `msg="admin request refused"`, "outcome=unauthorized", "method=GET",
		"path=/admin/v1/accounts/prod/deployments/" + f.dep.ID + "/kibana/main-kibana/upgrade", "remote_addr=192.0.2.7:40123", "suppressed=0"} {
		assert.Contains(t, lines[0], want)
	}

	f.mu.Lock()
	f.now = f.now.Add(RefusedLogInterval)
	f.mu.Unlock()
	refuse(http.MethodDelete, "")
	lines = logLines()
	require.Len(t, lines, 2)
	assert.Contains(t, lines[1], "outcome=method_not_allowed")
	assert.Contains(t, lines[1], "method=DELETE")
	assert.Contains(t, lines[1], "suppressed=1000")
	assert.Equal(t, float64(1000), testutil.ToFloat64(f.h.requests.WithLabelValues(outcomeUnauthorized)))
	assert.Equal(t, float64(2), testutil.ToFloat64(f.h.requests.WithLabelValues(outcomeMethodNotAllowed)))
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.NotContains(t, f.logs.String(), guess)
	assert.NotContains(t, f.logs.String(), token)
}

// TestCacheTTLZero: --admin.cache-ttl=0s means every request asks the API.
func TestCacheTTLZero(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{CacheTTL: 0})
	for i := 1; i <= 3; i++ {
		resp, body := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, false, body["cached"])
		assert.Equal(t, i, f.sim.Requests("upgrade-deployment-stateless-resource"))
	}
	f.h.cacheMu.Lock()
	defer f.h.cacheMu.Unlock()
	assert.Empty(t, f.h.cache, "nothing is kept")
}

// TestRateLimitZeroIsUnlimited: --admin.rate-limit=0 disables the limit.
func TestRateLimitZeroIsUnlimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{RatePerMinute: 0, Burst: 1, CacheTTL: time.Hour})
	for i := 0; i < 30; i++ {
		resp, _ := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d", i)
	}
}

func TestNewRejectsNonsense(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"negative cache TTL", Options{CacheTTL: -time.Second}, "admin cache TTL -1s is negative (0 disables the cache)"},
		{"negative rate", Options{RatePerMinute: -5}, "admin rate limit -5 per minute is not a number >= 0 (0 disables the limit)"},
		{"NaN rate", Options{RatePerMinute: math.NaN()}, "admin rate limit NaN per minute is not a number >= 0 (0 disables the limit)"},
		{"infinite rate", Options{RatePerMinute: math.Inf(1)}, "admin rate limit +Inf per minute is not a number >= 0 (0 disables the limit)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.TokenFile = filepath.Join(t.TempDir(), "token")
			require.NoError(t, os.WriteFile(tc.opts.TokenFile, []byte(token), 0o600))
			_, err := New(tc.opts, fakeBackend{})
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestDryRunCacheAndLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{CacheTTL: time.Minute})
	resp, body := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "prod", body["account"])
	assert.Equal(t, f.dep.ID, body["deployment_id"])
	assert.Equal(t, "kibana", body["kind"])
	assert.NotEmpty(t, body["resource_id"])
	assert.Regexp(t, `^\d+\.\d+\.\d+$`, body["stack_version"])
	assert.Equal(t, "2026-11-18T12:00:00Z", body["checked_at"])
	assert.Equal(t, false, body["cached"])
	assert.Equal(t, 1, f.sim.Requests("upgrade-deployment-stateless-resource"))

	_, body = f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	assert.Equal(t, true, body["cached"])
	assert.Equal(t, 1, f.sim.Requests("upgrade-deployment-stateless-resource"), "cache hit")

	f.mu.Lock()
	f.now = f.now.Add(61 * time.Second)
	f.mu.Unlock()
	_, body = f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	assert.Equal(t, false, body["cached"])
	assert.Equal(t, 2, f.sim.Requests("upgrade-deployment-stateless-resource"), "expired entry")
	f.mu.Lock()
	logs := f.logs.String()
	f.mu.Unlock()
	assert.Contains(t, logs, "outcome=ok")
	assert.Contains(t, logs, "cached=true")
	assert.NotContains(t, logs, token)
	assert.NotContains(t, logs, "sim-api-key")
	assert.Equal(t, 0, f.sim.RealUpgrades())
}

func TestUpgradesOfADeployment(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	f.sim.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 500, Times: 1})
	resp, body := f.do(t, http.MethodGet, "/admin/v1/accounts/prod/deployments/"+f.dep.ID+"/upgrades", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	res := body["resources"].([]any)
	assert.Len(t, res, len(f.dep.Resources)-1, "every stateless resource, not Elasticsearch")
	failed := 0
	for _, r := range res {
		m := r.(map[string]any)
		if e, ok := m["error"]; ok {
			failed++
			assert.Equal(t, float64(502), e.(map[string]any)["status"])
		} else {
			assert.NotEmpty(t, m["stack_version"])
		}
	}
	assert.Equal(t, 1, failed, "one entry carries its error, the others their result")
	resp, _ = f.do(t, http.MethodGet, "/admin/v1/accounts/prod/deployments/ffffffffffffffffffffffffffffffff/upgrades", token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, 0, f.sim.RealUpgrades())
}

// TestNoVersionReported: a dry run accepted with an empty body (or {})
// names no version; the answer says so and is a success, not an error.
func TestNoVersionReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{}, ecesim.Options{Seed: 9, DeploymentsPerOrg: 4, EmptyUpgradeAnswers: true})
	resp, body := f.do(t, http.MethodGet, "/admin/v1/accounts/prod/deployments/"+f.dep.ID+"/upgrades", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	none, versions := 0, 0
	for _, r := range body["resources"].([]any) {
		m := r.(map[string]any)
		assert.NotContains(t, m, "error")
		if m["no_version_reported"] == true {
			none++
			assert.NotContains(t, m, "stack_version")
			assert.NotEmpty(t, m["checked_at"])
		} else {
			versions++
			assert.NotContains(t, m, "no_version_reported")
			assert.NotEmpty(t, m["stack_version"])
		}
	}
	assert.Positive(t, none)
	assert.Positive(t, versions)

	// An answer without a resource_id or stack_version: the dry run
	// reports no version.
	noVersion, err := os.ReadFile(filepath.Join("testdata", "upgrade-deployment-stateless-resource", "no-version.json"))
	require.NoError(t, err)
	f.sim.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 202, Body: noVersion})
	f.mu.Lock()
	f.now = f.now.Add(time.Hour) // past the cache
	f.mu.Unlock()
	resp, body = f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, true, body["no_version_reported"])
	assert.NotContains(t, body, "error")
	assert.Equal(t, 0, f.sim.RealUpgrades())
}

func TestUpstreamErrorMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		fault      ecesim.Fault
		status     int
		code       string
		retryAfter string
	}{
		{"404", ecesim.Fault{Status: 404, Code: "deployments.deployment_resource_not_found"}, 404, "deployments.deployment_resource_not_found", ""},
		{"429", ecesim.Fault{Status: 429, Headers: map[string]string{"Retry-After": "12"}}, 429, "root.rate_limited", "12"},
		{"401", ecesim.Fault{Status: 401}, 502, "upstream_permission_denied", ""},
		{"403", ecesim.Fault{Status: 403}, 502, "upstream_permission_denied", ""},
		{"timeout", ecesim.Fault{Hang: true}, 504, "upstream_timeout", ""},
		{"500", ecesim.Fault{Status: 500}, 502, "billing_service.failed_request", ""},
		{"html 502", ecesim.Fault{Status: 502, HTMLBody: true}, 502, "upstream_error", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{Timeout: 200 * time.Millisecond})
			f.sim.SetFault("upgrade-deployment-stateless-resource", tc.fault)
			resp, body := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
			assert.Equal(t, tc.status, resp.StatusCode)
			e := body["error"].(map[string]any)
			assert.Equal(t, tc.code, e["code"])
			assert.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			assert.NotContains(t, e["message"], "sim-api-key")
			assert.Equal(t, 1, f.sim.Requests("upgrade-deployment-stateless-resource"), "the dry run is not retried")
		})
	}
}

func TestRateLimitPerToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{RatePerMinute: 1, Burst: 3, CacheTTL: time.Minute})
	codes := []int{}
	for i := 0; i < 5; i++ {
		resp, _ := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
		codes = append(codes, resp.StatusCode)
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, codes)
	assert.Equal(t, 1, f.sim.Requests("upgrade-deployment-stateless-resource"))
}

func TestTokenReload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	require.NoError(t, os.WriteFile(f.h.opts.TokenFile, []byte("a-brand-new-admin-token-0001"), 0o600))
	require.NoError(t, f.h.ReloadToken())
	resp, _ := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), "a-brand-new-admin-token-0001")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	// A bad reload keeps the current token and never prints it.
	require.NoError(t, os.WriteFile(f.h.opts.TokenFile, nil, 0o600))
	err := f.h.ReloadToken()
	require.Error(t, err)
	resp, _ = f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), "a-brand-new-admin-token-0001")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func FuzzRouter(f *testing.F) {
	fx := newFixture(f, Options{RatePerMinute: 1e9, Burst: 1 << 30, Timeout: time.Second})
	for _, s := range []string{"/admin/v1/accounts/prod/deployments/abc/kibana/main-kibana/upgrade", "/admin/v1/accounts/prod/deployments/abc/upgrades", "/admin/v1/../../x", "/admin/v1/accounts/prod/deployments/%2e%2e/apm/_main/upgrade"} {
		f.Add(s, "GET")
	}
	f.Fuzz(func(t *testing.T, path, method string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t#?") || !validMethod(method) {
			return
		}
		req, err := http.NewRequest(method, "http://x"+path, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK && method != http.MethodGet && method != http.MethodHead {
			t.Fatalf("%s %s answered 200", method, path)
		}
		if fx.sim.RealUpgrades() != 0 {
			t.Fatalf("real upgrade after %s %s", method, path)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 10 {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// TestUpstreamFailureLogsOneLine: a failed dry run, alone or inside
// /upgrades, is the request's one log line, a warning with the error.
func TestUpstreamFailureLogsOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path  string
		wantStatus  int
		wantOutcome string
	}{
		{"one resource", "/kibana/main-kibana/upgrade", http.StatusBadGateway, "outcome=upstream_error"},
		{"every resource (errors in the answer)", "/upgrades", http.StatusOK, "outcome=ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, Options{})
			f.sim.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 500})
			resp, _ := f.do(t, http.MethodGet, "/admin/v1/accounts/prod/deployments/"+f.dep.ID+tc.path, token)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			f.mu.Lock()
			logs := f.logs.String()
			f.mu.Unlock()
			lines := strings.Split(strings.TrimSpace(logs), "\n")
			require.Len(t, lines, 1, logs)
			assert.Contains(t, lines[0], "level=warn")
			assert.Contains(t, lines[0], tc.wantOutcome)
			assert.Contains(t, lines[0], "err=")
		})
	}
}

// TestTokenFileFIFO: a named pipe as the token file fails at once, at
// start and on reload, instead of blocking forever (issue 14 §1); the
// current token stays.
func TestTokenFileFIFO(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	fifo := filepath.Join(t.TempDir(), "token-fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	want := "read admin token file: read " + fifo + ": not a regular file (a named pipe)"

	errs := make(chan error, 2)
	go func() {
		_, err := New(Options{TokenFile: fifo}, fakeBackend{})
		errs <- err
	}()
	f.h.opts.TokenFile = fifo
	go func() { errs <- f.h.ReloadToken() }()
	for range 2 {
		select {
		case err := <-errs:
			require.Error(t, err)
			assert.Equal(t, want, err.Error())
		case <-time.After(5 * time.Second):
			t.Fatal("reading a FIFO token file blocked")
		}
	}
	resp, _ := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the token read at start still works")
}

// TestUpstreamMessageIsBounded: a 404 whose message is 300,000 bytes and
// whose code is 10,000: the admin endpoint echoes them cut (eceapi bounds
// an error's upstream text).
func TestUpstreamMessageIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	body := `{"errors":[{"code":"` + strings.Repeat("c", 10000) + `","message":"` + strings.Repeat("A", 300000) + `"}]}`
	f.sim.SetFault("upgrade-deployment-stateless-resource", ecesim.Fault{Status: 404, Body: []byte(body)})
	resp, answer := f.do(t, http.MethodGet, f.upgradePath("kibana", "main-kibana"), token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	e := answer["error"].(map[string]any)
	assert.LessOrEqual(t, len(e["message"].(string)), 512)
	assert.LessOrEqual(t, len(e["code"].(string)), 64)
	assert.True(t, strings.HasPrefix(e["message"].(string), "AAAA"), "the message is cut, not dropped")
}
