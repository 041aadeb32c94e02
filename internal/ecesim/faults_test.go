package ecesim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawGet sends GET with the API key and returns the response and the body
// read error (the body is closed).
func rawGet(t *testing.T, ctx context.Context, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", apiKeyAuth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaultStatusAndCodes(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 41, DeploymentsPerOrg: 3})
	org := s.OrganizationIDs()[0]
	dep := s.Deployments()[0].ID
	urls := map[string]string{
		opListDeployments:    "deployments",
		opAccount:            "account",
		opOrganizations:      "organizations",
		opAPIKeys:            "users/auth/keys",
		opOverview:           "billing/costs/" + org,
		opItemsByDeployment:  "billing/costs/" + org + "/deployments/" + dep + "/items",
		opCharts:             "billing/costs/" + org + "/charts",
		opChartsByDeployment: "billing/costs/" + org + "/deployments/" + dep + "/charts",
		opRemoteClusters:     "deployments/" + dep + "/elasticsearch/main-elasticsearch/remote-clusters",
		opAPIKey:             "users/auth/keys/sim-key-0001",
	}
	for _, c := range []struct {
		op     string
		fault  Fault
		status int
		code   string // "" = no x-cloud-error-codes header
		body   string // code in the body
	}{
		{opAPIKeys, Fault{Status: 401}, 401, "root.unauthorized", "root.unauthorized"},
		{opListDeployments, Fault{Status: 401}, 401, "", "root.unauthorized"},
		{opListDeployments, Fault{Status: 401, Code: "root.custom"}, 401, "root.custom", "root.custom"},
		{opOverview, Fault{Status: 403}, 403, "organization.invalid_access", "organization.invalid_access"},
		{opRemoteClusters, Fault{Status: 404}, 404, "deployments.deployment_not_found", "deployments.deployment_not_found"},
		{opOverview, Fault{Status: 404}, 404, "organization.not_found", "organization.not_found"},
		{opAPIKey, Fault{Status: 404}, 404, "api_keys.key_not_found", "api_keys.key_not_found"},
		{opAccount, Fault{Status: 404}, 404, "accounts.not_found", "accounts.not_found"},
		{opCharts, Fault{Status: 429}, 429, "billing_service.rate_limited", "billing_service.rate_limited"},
		{opChartsByDeployment, Fault{Status: 429}, 429, "billing_service.rate_limited", "billing_service.rate_limited"},
		{opAccount, Fault{Status: 429}, 429, "root.rate_limited", "root.rate_limited"},
		{opItemsByDeployment, Fault{Status: 500}, 500, "billing_service.failed_request", "billing_service.failed_request"},
		{opItemsByDeployment, Fault{Status: 400}, 400, "costs.invalid_date_range", "costs.invalid_date_range"},
		{opOrganizations, Fault{Status: 503}, 503, "root.service_unavailable", "root.service_unavailable"},
		{opOrganizations, Fault{Status: 418}, 418, "root.unexpected_error", "root.unexpected_error"},
		{opRemoteClusters, Fault{Status: 404, Code: "deployments.deployment_resource_not_found"}, 404, "deployments.deployment_resource_not_found", "deployments.deployment_resource_not_found"},
	} {
		t.Run(c.op+"/"+strconv.Itoa(c.fault.Status)+c.fault.Code, func(t *testing.T) {
			s.SetFault(c.op, c.fault)
			defer s.ClearFaults()
			before := s.Requests(c.op)
			a := get(t, base+urls[c.op])
			assert.Equal(t, c.status, a.status)
			assert.Equal(t, c.code, a.header.Get("x-cloud-error-codes"))
			assert.Equal(t, c.body, a.errCode(t))
			assert.NotEmpty(t, path(t, a.body, "errors", 0, "message"))
			assert.Equal(t, "application/json", a.header.Get("Content-Type"))
			assert.NotEmpty(t, a.header.Get("x-ratelimit-remaining"), "rate-limit headers on fault answers too")
			assert.Equal(t, before+1, s.Requests(c.op), "counted when a fault answers")
		})
	}

	t.Run("default codes of the other operations", func(t *testing.T) {
		for op, want := range map[string]string{
			opLogin + "/401":        "root.unauthenticated",
			opUsersAPIKeys + "/403": "root.unauthorized.rbac",
			opUserAPIKeys + "/404":  "api_keys.user_not_found",
			"unknown/404":           "root.resource_not_found",
			opLogin + "/501":        "authc.no_authentication_cluster",
			opRefresh + "/502":      "authc.authentication_cluster_error",
			opAccount + "/502":      "root.bad_gateway",
			opAccount + "/400":      "root.invalid_data",
		} {
			name, status, _ := strings.Cut(op, "/")
			n, _ := strconv.Atoi(status)
			assert.Equal(t, want, defaultCode(name, n), op)
		}
	})
}

// TestFaultStatusBelow400 replaces the status of the normal answer.
func TestFaultStatusBelow400(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 42})
	s.SetFault(opAccount, Fault{Status: 203})
	a := get(t, base+"account")
	assert.Equal(t, 203, a.status)
	assert.Equal(t, s.w.accountID, path(t, a.body, "id"))
}

func TestFaultBodies(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 43})
	for _, c := range []struct {
		name   string
		fault  Fault
		status int
		ctype  string
		body   string
	}{
		{"malformed", Fault{Body: []byte(`{"keys":[`)}, 200, "application/json", `{"keys":[`},
		{"null", Fault{Body: []byte(`null`)}, 200, "application/json", `null`},
		{"wrong type", Fault{Body: []byte(`{"keys":"nope"}`)}, 200, "application/json", `{"keys":"nope"}`},
		{"huge number", Fault{Body: []byte(`{"keys":[{"id":"k","description":"d","creation_date":1e400}]}`)}, 200, "application/json", `{"keys":[{"id":"k","description":"d","creation_date":1e400}]}`},
		{"non-UTF-8", Fault{Body: []byte("{\"keys\":[{\"id\":\"\xff\xfe\"}]}")}, 200, "application/json", "{\"keys\":[{\"id\":\"\xff\xfe\"}]}"},
		{"raw error body with status", Fault{Status: 500, Body: []byte(`oops`)}, 500, "application/json", `oops`},
		{"empty body", Fault{Body: []byte{}}, 200, "application/json", ``},
		{"html", Fault{HTMLBody: true}, 502, "text/html; charset=utf-8", "502 Bad Gateway"},
		{"html 503", Fault{HTMLBody: true, Status: 503}, 503, "text/html; charset=utf-8", "503 Service Unavailable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.SetFault(opAPIKeys, c.fault)
			defer s.ClearFaults()
			a := get(t, base+"users/auth/keys")
			assert.Equal(t, c.status, a.status)
			assert.Equal(t, c.ctype, a.header.Get("Content-Type"))
			if c.fault.HTMLBody {
				assert.Contains(t, string(a.raw), "<html>")
				assert.Contains(t, string(a.raw), c.body)
				assert.Empty(t, a.header.Get("x-cloud-error-codes"))
			} else {
				assert.Equal(t, c.body, string(a.raw))
			}
		})
	}
}

func TestFaultHeadersTimesAndScope(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 44})
	s.SetFault("*", Fault{Status: 429, Headers: map[string]string{"Retry-After": "3", "x-ratelimit-remaining": "0"}})
	s.SetFault(opAccount, Fault{Status: 500, Times: 2})
	a := get(t, base+"users/auth/keys")
	assert.Equal(t, 429, a.status)
	assert.Equal(t, "3", a.header.Get("Retry-After"))
	assert.Equal(t, "0", a.header.Get("x-ratelimit-remaining"), "fault headers win")
	assert.Equal(t, "root.rate_limited", a.errCode(t))
	assert.Equal(t, 429, get(t, base+"nope").status, "* covers unknown paths too")

	assert.Equal(t, 500, get(t, base+"account").status, "the operation's own fault first")
	assert.Equal(t, 500, get(t, base+"account").status)
	assert.Equal(t, 429, get(t, base+"account").status, "Times used up: the * fault applies")

	s.ClearFault("*")
	assert.Equal(t, 200, get(t, base+"account").status)
	s.SetFault("", Fault{Status: 502, Times: 1})
	assert.Equal(t, 502, get(t, base+"deployments").status, `"" means every operation`)
	assert.Equal(t, 200, get(t, base+"deployments").status)

	s.SetFault(opAccount, Fault{Status: 500})
	s.SetFault(opAccount, Fault{Status: 503})
	assert.Equal(t, 503, get(t, base+"account").status, "a later fault replaces the earlier")
	s.ClearFaults()
	assert.Equal(t, 200, get(t, base+"account").status)

	s.SetFault(opAccount, Fault{Headers: map[string]string{"X-Extra": "yes"}})
	a = get(t, base+"account")
	assert.Equal(t, 200, a.status)
	assert.Equal(t, "yes", a.header.Get("X-Extra"), "headers on a normal answer")
}

func TestFaultConcurrentTimes(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 45})
	s.SetFault(opAccount, Fault{Status: 500, Times: 5})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 20 {
		wg.Go(func() {
			a := get(t, base+"account")
			mu.Lock()
			codes[a.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[int]int{500: 5, 200: 15}, codes)
	assert.Equal(t, 20, s.Requests(opAccount))
}

func TestFaultMutate(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 46, DeploymentsPerOrg: 3})
	s.SetFault(opListDeployments, Fault{Mutate: func(v any) any {
		m := v.(map[string]any)
		deps := m["deployments"].([]any)
		m["deployments"] = append(deps, deps[0]) // a duplicate id
		m["unknown_field"] = 1.5
		return m
	}})
	a := get(t, base+"deployments")
	assert.Equal(t, 200, a.status)
	deps := list(t, a.body, "deployments")
	require.Len(t, deps, 4)
	assert.Equal(t, path(t, deps, 0, "id"), path(t, deps, 3, "id"))
	assert.Equal(t, 1.5, path(t, a.body, "unknown_field"))

	s.SetFault(opListDeployments, Fault{Mutate: func(any) any { return nil }})
	assert.Equal(t, "null", string(get(t, base+"deployments").raw))

	// Error answers are not mutated.
	s.SetFault(opListDeployments, Fault{Mutate: func(any) any { return "mutated" }})
	a = do(t, "GET", base+"deployments", "ApiKey wrong", nil)
	assert.Equal(t, 401, a.status)
	assert.Equal(t, "root.unauthorized", a.errCode(t))
	// The cached list is not altered by a mutation.
	s.ClearFaults()
	assert.Len(t, list(t, get(t, base+"deployments").body, "deployments"), 3)
}

func TestFaultMutateBody(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 46, DeploymentsPerOrg: 3})
	s.SetFault(opListDeployments, Fault{MutateBody: func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte(`"name":"`), []byte("\"name\":\"\xff"))
	}})
	a := get(t, base+"deployments")
	assert.Equal(t, 200, a.status)
	assert.False(t, utf8.Valid(a.raw), "invalid UTF-8 inside the JSON strings")
	assert.Equal(t, 3, bytes.Count(a.raw, []byte("\"name\":\"\xff")))
	// Error answers are not mutated.
	b := do(t, "GET", base+"deployments", "ApiKey wrong", nil)
	assert.Equal(t, 401, b.status)
	assert.True(t, utf8.Valid(b.raw))
}

func TestFaultOversize(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 47})
	normal := get(t, base+"deployments")
	s.SetFault(opListDeployments, Fault{OversizeBytes: 300 << 10})
	a := get(t, base+"deployments")
	assert.Equal(t, 200, a.status)
	assert.Len(t, a.raw, 300<<10)
	assert.True(t, json.Valid(a.raw), "still valid JSON")
	assert.Equal(t, normal.body, a.body)
	assert.Equal(t, strconv.Itoa(300<<10), a.header.Get("Content-Length"))

	s.SetFault(opListDeployments, Fault{OversizeBytes: 10})
	assert.Equal(t, normal.raw, get(t, base+"deployments").raw, "never shrinks")
}

func TestFaultTruncate(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 48})
	normal := get(t, base+"deployments").raw
	s.SetFault(opListDeployments, Fault{Truncate: true})
	resp, b, err := rawGet(t, context.Background(), base+"deployments")
	require.NoError(t, err, "the HTTP exchange completes")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, normal[:len(normal)/2], b)
	assert.False(t, json.Valid(b), "truncated JSON")
	assert.NotEqual(t, strconv.Itoa(len(normal)), resp.Header.Get("Content-Length"))
}

func TestFaultResetConn(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 49})
	s.SetFault(opListDeployments, Fault{ResetConn: true})
	for range 3 { // fresh and reused connections alike
		resp, b, err := rawGet(t, context.Background(), base+"deployments")
		require.Error(t, err, "the body read fails")
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, 200, resp.StatusCode)
		assert.NotEmpty(t, b, "part of the body arrived")
		assert.Equal(t, 200, get(t, base+"account").status, "the server goes on")
	}
	assert.Equal(t, 3, s.Requests(opListDeployments), "never retried by the client")

	// Without a hijackable connection (a recorder), half the body is written.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/deployments", nil)
	req.Header.Set("Authorization", apiKeyAuth)
	s.ServeHTTP(rec, req)
	assert.False(t, json.Valid(rec.Body.Bytes()))
}

func TestFaultSlowBody(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 50})
	normal := get(t, base+"deployments").raw
	s.SetFault(opListDeployments, Fault{SlowBody: 800 * time.Millisecond})
	begin := time.Now()
	req, _ := http.NewRequest("GET", base+"deployments", nil)
	req.Header.Set("Authorization", apiKeyAuth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	headersAt := time.Since(begin)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Less(t, headersAt, 600*time.Millisecond, "headers and half the body come first")
	assert.GreaterOrEqual(t, time.Since(begin), 800*time.Millisecond)
	assert.Equal(t, normal, b)

	// A client timeout cuts the slow body.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s.SetFault(opListDeployments, Fault{SlowBody: 5 * time.Second})
	_, _, err = rawGet(t, ctx, base+"deployments")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestFaultLatencyAndHang(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 51})
	s.SetFault(opAccount, Fault{Latency: 150 * time.Millisecond})
	begin := time.Now()
	assert.Equal(t, 200, get(t, base+"account").status)
	assert.GreaterOrEqual(t, time.Since(begin), 150*time.Millisecond)

	// The request's context ends a latency.
	s.SetFault(opAccount, Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, _, err := rawGet(t, ctx, base+"account")
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// A hang lasts until the client gives up...
	s.SetFault(opAccount, Fault{Hang: true, Status: 500})
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	begin = time.Now()
	_, _, err = rawGet(t, ctx, base+"account")
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(begin), 100*time.Millisecond)

	// ...or ClearFaults releases it with the normal answer (not the 500).
	done := make(chan int)
	go func() {
		resp, _, err := rawGet(t, context.Background(), base+"account")
		if err != nil {
			done <- -1
			return
		}
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool { return s.inFlight.Load() >= 1 }, 2*time.Second, 5*time.Millisecond)
	select {
	case <-done:
		t.Fatal("a hang answered")
	case <-time.After(50 * time.Millisecond):
	}
	s.ClearFaults()
	select {
	case code := <-done:
		assert.Equal(t, 200, code)
	case <-time.After(2 * time.Second):
		t.Fatal("ClearFaults did not release the hang")
	}
}

func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 52})
	s.SetFault(opAccount, Fault{Hang: true})
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() { get(t, base+"account") })
	}
	require.Eventually(t, func() bool { return s.inFlight.Load() == 6 }, 5*time.Second, 5*time.Millisecond)
	s.ClearFaults() // releases the six
	wg.Wait()
	assert.Equal(t, 6, s.MaxInFlight())
	s.ResetCounts()
	assert.Zero(t, s.MaxInFlight())
	assert.Zero(t, s.TotalRequests())
	assert.Empty(t, s.RequestCounts())
	get(t, base+"deployments")
	assert.Equal(t, 1, s.MaxInFlight())
	assert.Equal(t, map[string]int{opListDeployments: 1}, s.RequestCounts())
	counts := s.RequestCounts()
	counts[opListDeployments] = 99
	assert.Equal(t, 1, s.Requests(opListDeployments), "RequestCounts returns a copy")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	clk := &clock{t: simNow}
	s, base := start(t, Options{Seed: 53, RateLimit: 3, RateLimitInterval: 90 * time.Second, Now: clk.Now})
	org := s.OrganizationIDs()[0]
	var statuses, remaining []string
	for i := range 5 {
		url := base + "account"
		if i == 4 {
			url = base + "billing/costs/" + org + "/charts"
		}
		a := get(t, url)
		statuses = append(statuses, strconv.Itoa(a.status))
		remaining = append(remaining, a.header.Get("x-ratelimit-remaining"))
		assert.Equal(t, "3", a.header.Get("x-ratelimit-limit"))
		assert.Equal(t, "90", a.header.Get("x-ratelimit-interval"), "whole seconds")
		if a.status == 429 {
			assert.Equal(t, "90", a.header.Get("Retry-After"))
			code := "root.rate_limited"
			if i == 4 {
				code = "billing_service.rate_limited"
				checkAnswer(t, loadSpec(t, ModeESS), opCharts, a)
			}
			assert.Equal(t, code, a.errCode(t))
			assert.Equal(t, code, a.header.Get("x-cloud-error-codes"))
		}
	}
	assert.Equal(t, []string{"200", "200", "200", "429", "429"}, statuses)
	assert.Equal(t, []string{"2", "1", "0", "0", "0"}, remaining)
	assert.Equal(t, 5, s.TotalRequests(), "rejected requests are counted")

	clk.Add(60 * time.Second)
	a := get(t, base+"account")
	assert.Equal(t, 429, a.status)
	assert.Equal(t, "30", a.header.Get("Retry-After"), "seconds until the window ends")
	clk.Add(30 * time.Second)
	a = get(t, base+"account")
	assert.Equal(t, 200, a.status, "a new window")
	assert.Equal(t, "2", a.header.Get("x-ratelimit-remaining"))

	_, unlimited := start(t, Options{Seed: 53})
	for i := range 3 {
		a := get(t, unlimited+"account")
		assert.Equal(t, 200, a.status)
		assert.Equal(t, strconv.Itoa(UnlimitedQuota), a.header.Get("x-ratelimit-limit"))
		assert.Equal(t, strconv.Itoa(UnlimitedQuota-i-1), a.header.Get("x-ratelimit-remaining"))
		assert.Equal(t, "60", a.header.Get("x-ratelimit-interval"))
	}
}

// TestConcurrentUse hammers every operation in parallel (run with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 54, DeploymentsPerOrg: 6})
	org := s.OrganizationIDs()[0]
	deps := s.Deployments()
	urls := []string{"deployments", "account", "organizations", "users/auth/keys", "billing/costs/" + org,
		"billing/costs/" + org + "/deployments", "billing/costs/" + org + "/charts"}
	for _, d := range deps {
		urls = append(urls, "deployments/"+d.ID+"/elasticsearch/main-elasticsearch/remote-clusters",
			"billing/costs/"+org+"/deployments/"+d.ID+"/items")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 8 {
		wg.Go(func() {
			for i, u := range urls {
				if (i+w)%5 == 0 {
					s.SetFault(opAccount, Fault{Status: 500, Times: 1})
				}
				if (i+w)%7 == 0 {
					s.DeleteDeployment(deps[(i+w)%len(deps)].ID)
				}
				resp, _, err := rawGet(t, context.Background(), base+u)
				if err != nil {
					errs <- err
					continue
				}
				if resp.StatusCode >= 500 && !strings.HasSuffix(u, "account") {
					errs <- errors.New(u + ": " + resp.Status)
				}
				_ = s.Deployments()
				_ = s.RequestCounts()
			}
			_ = do(t, "POST", base+"deployments/"+deps[w%len(deps)].ID+"/kibana/main-kibana/_upgrade", apiKeyAuth, nil)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, 8*(len(urls)+1), s.TotalRequests())
}

func BenchmarkListDeployments5000(b *testing.B) {
	s := New(Options{Seed: 1, DeploymentsPerOrg: 5000})
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/deployments", nil)
	req.Header.Set("Authorization", apiKeyAuth)
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 5000*300 {
			b.Fatal(resp.Status, n)
		}
	}
}

func BenchmarkNew5000(b *testing.B) {
	for b.Loop() {
		New(Options{Seed: 1, DeploymentsPerOrg: 5000})
	}
}

func BenchmarkOrgCosts5000(b *testing.B) {
	s := New(Options{Seed: 1, DeploymentsPerOrg: 5000})
	org := s.OrganizationIDs()[0]
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range []string{"", "/deployments", "/charts"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/api/v1/billing/costs/"+org+p, nil)
			req.Header.Set("Authorization", apiKeyAuth)
			s.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(p, rec.Code)
			}
		}
	}
}

func TestChurnDeployments(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 47, DeploymentsPerOrg: 4, RemoteClustersPerES: 1})
	before := s.Deployments()
	removed, added := s.ChurnDeployments(2)
	require.Len(t, removed, 2)
	require.Len(t, added, 2)
	assert.Equal(t, []string{before[0].ID, before[1].ID}, removed)
	after := s.Deployments()
	require.Len(t, after, 4)
	ids := map[string]bool{}
	for _, d := range after {
		ids[d.ID] = true
	}
	for _, id := range removed {
		assert.False(t, ids[id], "removed %s still listed", id)
		assert.Equal(t, 404, get(t, base+"deployments/"+id+"/elasticsearch/main-elasticsearch/remote-clusters").status)
	}
	for _, id := range added {
		assert.True(t, ids[id], "added %s not listed", id)
		a := get(t, base+"deployments/"+id+"/elasticsearch/_main/remote-clusters")
		assert.Equal(t, 200, a.status)
	}
	listed := list(t, get(t, base+"deployments").body, "deployments")
	assert.Len(t, listed, 4, "the cached listing follows the churn")
	// Deterministic: the same seed churns to the same ids.
	s2, _ := start(t, Options{Seed: 47, DeploymentsPerOrg: 4, RemoteClustersPerES: 1})
	_, added2 := s2.ChurnDeployments(2)
	assert.Equal(t, added, added2)
}

func TestFaultNoRateLimitHeaders(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 48, DeploymentsPerOrg: 2})
	a := get(t, base+"account")
	assert.NotEmpty(t, a.header.Get("x-ratelimit-remaining"), "every answer carries them by default")
	s.SetFault(opAccount, Fault{Status: 429, NoRateLimitHeaders: true})
	a = get(t, base+"account")
	assert.Equal(t, 429, a.status)
	for _, h := range []string{"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-interval", "Retry-After"} {
		assert.Empty(t, a.header.Get(h), h)
	}
}

func TestIDPrefix(t *testing.T) {
	t.Parallel()
	s := New(Options{Seed: 49, DeploymentsPerOrg: 3, IDPrefix: "deadbeef"})
	for _, d := range s.Deployments() {
		assert.Regexp(t, `^deadbeef[0-9a-f]{24}$`, d.ID)
		for _, r := range d.Resources {
			assert.Regexp(t, `^deadbeef[0-9a-f]{24}$`, r.ID)
		}
	}
	_, added := s.ChurnDeployments(1)
	assert.Regexp(t, `^deadbeef`, added[0])
	assert.Panics(t, func() { New(Options{IDPrefix: "demo"}) }, "not hex")
}

func TestResourcesPerDeployment(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 4, 6, 9} {
		s := New(Options{Seed: 50, DeploymentsPerOrg: 3, ResourcesPerDeployment: n})
		for _, d := range s.Deployments() {
			require.Len(t, d.Resources, min(n, 6), "n=%d", n)
			assert.Equal(t, "elasticsearch", d.Resources[0].Kind)
		}
	}
	// Default: Elasticsearch plus 1 to 3 others.
	for _, d := range New(Options{Seed: 50, DeploymentsPerOrg: 4}).Deployments() {
		assert.GreaterOrEqual(t, len(d.Resources), 2)
		assert.LessOrEqual(t, len(d.Resources), 4)
	}
}
