package ecesim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var simNow = time.Date(2026, 11, 18, 13, 30, 0, 0, time.UTC)

func start(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return simNow }
	}
	s := New(o)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/api/v1/"
}

func get(t *testing.T, method, url, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

const key = "ApiKey sim-api-key"

func TestCostsAreConsistent(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 1, Organizations: 2, DeploymentsPerOrg: 6})
	for _, org := range s.OrganizationIDs() {
		q := "?from=2026-11-01T00:00:00Z&to=2026-11-18T13:00:00Z"
		_, _, ov := get(t, "GET", base+"billing/costs/"+org+q, key)
		_, _, deps := get(t, "GET", base+"billing/costs/"+org+"/deployments"+q, key)
		_, _, chart := get(t, "GET", base+"billing/costs/"+org+"/charts"+q+"&bucketing_strategy=daily", key)
		total := ov["costs"].(map[string]any)["total"].(float64)
		var depSum, chartSum float64
		for _, d := range deps["deployments"].([]any) {
			dm := d.(map[string]any)
			c := dm["costs"].(map[string]any)
			depSum += c["total"].(float64)
			var dimSum float64
			for _, dim := range c["dimensions"].([]any) {
				dimSum += dim.(map[string]any)["cost"].(float64)
			}
			assert.InDelta(t, c["total"].(float64), dimSum, 0.01)
			_, _, items := get(t, "GET", base+"billing/costs/"+org+"/deployments/"+dm["deployment_id"].(string)+"/items"+q, key)
			var itemSum float64
			for _, r := range items["resources"].([]any) {
				itemSum += r.(map[string]any)["price"].(float64)
			}
			for _, x := range items["data_transfer_and_storage"].([]any) {
				itemSum += x.(map[string]any)["cost"].(float64)
			}
			assert.InDelta(t, c["total"].(float64), itemSum, 0.01, "items sum to the deployment total")
		}
		for _, b := range chart["data"].([]any) {
			for _, v := range b.(map[string]any)["values"].([]any) {
				chartSum += v.(map[string]any)["value"].(float64)
			}
		}
		assert.Positive(t, total)
		assert.InDelta(t, total, depSum, 0.01, "deployments sum to the overview")
		assert.InDelta(t, total, chartSum, 0.05, "chart buckets sum to the overview")
		assert.Len(t, chart["data"].([]any), 18, "one daily bucket per day of the window")
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := New(Options{Seed: 5, DeploymentsPerOrg: 20, Now: func() time.Time { return simNow }})
	b := New(Options{Seed: 5, DeploymentsPerOrg: 20, Now: func() time.Time { return simNow }})
	c := New(Options{Seed: 6, DeploymentsPerOrg: 20, Now: func() time.Time { return simNow }})
	assert.Equal(t, a.Deployments(), b.Deployments())
	assert.NotEqual(t, a.Deployments(), c.Deployments())
	for _, d := range a.Deployments() {
		assert.Regexp(t, `^[0-9a-f]{32}$`, d.ID)
		assert.True(t, strings.HasPrefix(d.Name, "sim-"), "obviously fake names")
	}
}

func TestAuthAndModes(t *testing.T) {
	t.Parallel()
	_, ess := start(t, Options{Seed: 2})
	_, ece := start(t, Options{Mode: ModeECE, Seed: 2, Username: "admin", Password: "pw"})
	for _, tc := range []struct {
		name, method, url, auth string
		status                  int
		code                    string
	}{
		{"no auth", "GET", ess + "deployments", "", 401, "root.unauthorized"},
		{"wrong key", "GET", ess + "deployments", "ApiKey nope", 401, "root.unauthorized"},
		{"basic on ESS", "GET", ess + "deployments", "Basic YWRtaW46cHc=", 401, "root.unauthorized"},
		{"ok", "GET", ess + "deployments", key, 200, ""},
		{"basic on ECE", "GET", ece + "deployments", "Basic YWRtaW46cHc=", 200, ""},
		{"login on ESS", "POST", ess + "users/auth/_login", "", 404, "root.resource_not_found"},
		{"_all on ESS", "GET", ess + "users/auth/keys/_all", key, 404, "root.resource_not_found"},
		{"orgs on ECE", "GET", ece + "organizations", key, 404, "root.resource_not_found"},
		{"billing on ECE", "GET", ece + "billing/costs/1", key, 404, "root.resource_not_found"},
		{"unknown org", "GET", ess + "billing/costs/42", key, 404, "organization.not_found"},
		{"bad range", "GET", ess + "billing/costs/1/deployments?from=2020-01-01", key, 404, ""},
		{"method", "DELETE", ess + "deployments", key, 405, "root.method_not_allowed"},
		{"upper-case bucketing", "GET", ess + "billing/costs/ORG/charts?bucketing_strategy=Daily", key, 404, ""},
	} {
		status, h, body := get(t, tc.method, tc.url, tc.auth)
		assert.Equal(t, tc.status, status, tc.name)
		if tc.code != "" {
			assert.Equal(t, tc.code, body["errors"].([]any)[0].(map[string]any)["code"], tc.name)
		}
		assert.NotEmpty(t, h.Get("x-ratelimit-limit"), tc.name)
	}
}

func TestDateRangeAndBucketing(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 3})
	org := s.OrganizationIDs()[0]
	for q, want := range map[string]int{
		"?from=2020-12-31":                                      400,
		"?from=2026-11-10&to=2026-11-01":                        400,
		"?from=2026-11-01":                                      200,
		"?from=2026-11-01T00:00:00Z&to=2026-11-18T00:00:00Z":    200,
		"?bucketing_strategy=Daily":                             400,
		"?bucketing_strategy=monthly&from=2026-01-01T00:00:00Z": 200,
	} {
		status, h, _ := get(t, "GET", base+"billing/costs/"+org+"/charts"+q, key)
		assert.Equal(t, want, status, q)
		if want == 400 {
			assert.NotEmpty(t, h.Get("x-cloud-error-codes"), q)
		}
	}
}

func TestLoginRefresh(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Mode: ModeECE, Seed: 4, Username: "admin", Password: "pw"})
	resp, err := http.Post(base+"users/auth/_login", "application/json", strings.NewReader(`{"username":"admin","password":"pw"}`))
	require.NoError(t, err)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	status, _, _ := get(t, "GET", base+"deployments", "Bearer "+tok["token"].(string))
	assert.Equal(t, 200, status)
	status, _, _ = get(t, "POST", base+"users/auth/_refresh", "Bearer "+tok["token"].(string))
	assert.Equal(t, 200, status)
	resp, err = http.Post(base+"users/auth/_login", "application/json", strings.NewReader(`{"username":"admin","password":"no"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode)
}

func TestUpgradeDryRunVersusReal(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 5})
	d := s.Deployments()[0]
	status, _, body := get(t, "POST", base+"deployments/"+d.ID+"/kibana/main-kibana/_upgrade?validate_only=true", key)
	assert.Equal(t, 202, status)
	assert.NotEmpty(t, body["stack_version"])
	assert.Zero(t, s.RealUpgrades())
	for _, q := range []string{"", "?validate_only=false", "?validate_only=TRUE"} {
		status, _, _ = get(t, "POST", base+"deployments/"+d.ID+"/kibana/main-kibana/_upgrade"+q, key)
		assert.Equal(t, 202, status)
	}
	assert.Equal(t, 3, s.RealUpgrades(), "every _upgrade without validate_only=true is recorded")
	status, _, _ = get(t, "POST", base+"deployments/"+d.ID+"/elasticsearch/main-elasticsearch/_upgrade?validate_only=true", key)
	assert.Equal(t, 400, status)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 6, DeploymentsPerOrg: 3})
	s.SetFault("list-deployments", Fault{Status: 502, HTMLBody: true, Times: 1})
	status, h, _ := get(t, "GET", base+"deployments", key)
	assert.Equal(t, 502, status)
	assert.Contains(t, h.Get("Content-Type"), "text/html")
	status, _, _ = get(t, "GET", base+"deployments", key)
	assert.Equal(t, 200, status, "Times: 1 is used up")

	s.SetFault("*", Fault{Status: 429, Headers: map[string]string{"Retry-After": "3"}})
	status, h, body := get(t, "GET", base+"account", key)
	assert.Equal(t, 429, status)
	assert.Equal(t, "3", h.Get("Retry-After"))
	assert.Equal(t, "root.rate_limited", h.Get("x-cloud-error-codes"))
	assert.NotNil(t, body["errors"])
	s.ClearFaults()

	s.SetFault("list-deployments", Fault{Mutate: func(v any) any {
		m := v.(map[string]any)
		m["extra"] = true
		return m
	}, OversizeBytes: 4096})
	req, _ := http.NewRequest("GET", base+"deployments", nil)
	req.Header.Set("Authorization", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.GreaterOrEqual(t, len(b), 4096)
	assert.Contains(t, string(b), `"extra":true`)

	s.SetFault("list-deployments", Fault{Truncate: true})
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.False(t, json.Valid(b), "truncated JSON")

	s.SetFault("list-deployments", Fault{ResetConn: true})
	resp, err = http.DefaultClient.Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	assert.Error(t, err, "connection reset mid-body")

	s.ClearFaults()
	d := s.Deployments()[0]
	require.True(t, s.DeleteDeployment(d.ID))
	status, _, _ = get(t, "GET", base+"deployments/"+d.ID+"/elasticsearch/main-elasticsearch/remote-clusters", key)
	assert.Equal(t, 404, status)
	assert.Len(t, s.Deployments(), 2)
	assert.Positive(t, s.Requests("list-deployments"))
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 7, RateLimit: 3, RateLimitInterval: time.Minute})
	codes := []int{}
	for i := 0; i < 5; i++ {
		status, h, _ := get(t, "GET", base+"account", key)
		codes = append(codes, status)
		if status == 429 {
			assert.NotEmpty(t, h.Get("Retry-After"))
			assert.Equal(t, "0", h.Get("x-ratelimit-remaining"))
		}
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, codes)
	assert.Equal(t, 5, s.TotalRequests())
}

func TestRemoteMixAndKeys(t *testing.T) {
	t.Parallel()
	s := New(Options{Seed: 8, DeploymentsPerOrg: 12, Now: func() time.Time { return simNow }})
	states := map[string]int{}
	for _, d := range s.w.deployments {
		for _, r := range d.remotes {
			states[r.state]++
		}
	}
	for _, st := range append(remoteMix, "ok") {
		assert.Positive(t, states[st], st)
	}
	never, expired := 0, 0
	for _, k := range s.w.keys {
		if k.expires == nil {
			never++
		} else if k.expires.Before(simNow) {
			expired++
		}
	}
	assert.Equal(t, 1, never)
	assert.Equal(t, 1, expired)
}

func BenchmarkListDeployments5000(b *testing.B) {
	s := New(Options{Seed: 1, DeploymentsPerOrg: 5000})
	req := httptest.NewRequest("GET", "/api/v1/deployments", nil)
	req.Header.Set("Authorization", key)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
