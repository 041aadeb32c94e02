package eceapi

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	sentinelKey      = "SENTINEL-API-KEY-0b7e"
	sentinelPassword = "SENTINEL-PASSWORD-9c2f"
	basePath         = "/proxy"
)

// setup returns a client whose base URL has a non-empty path (/proxy) and
// the mux serving /proxy/api/v1/...
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(basePath+APIBasePath+"/", mux)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	all := append([]Option{WithBaseURL(srv.URL + basePath), WithAPIKey(sentinelKey), WithUserAgent("1.2.3"),
		WithBackoff(time.Millisecond, 5*time.Millisecond, time.Second)}, opts...)
	c, err := NewClient(all...)
	require.NoError(t, err)
	return c, mux, srv.URL
}

func p(path string) string { return basePath + APIBasePath + path }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

var testFrom = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
var testTo = time.Date(2026, 11, 18, 13, 30, 0, 0, time.FixedZone("CET", 3600))

// methodCase is one client method: how to call it and what it must send.
type methodCase struct {
	name, method, path string
	query              url.Values
	fixture            string
	call               func(ctx context.Context, c *Client) (any, error)
	check              func(t *testing.T, v any)
}

func methodCases() []methodCase {
	costs := &CostsOptions{From: testFrom, To: testTo}
	cq := url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}}
	charts := &ChartsOptions{CostsOptions: *costs, Bucketing: BucketingMonthly}
	chq := url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}, "bucketing_strategy": {"monthly"}}
	return []methodCase{
		{"Deployments.List", "GET", "/deployments", nil, "deployments.json",
			func(ctx context.Context, c *Client) (any, error) { v, _, err := c.Deployments.List(ctx); return v, err },
			func(t *testing.T, v any) {
				d := v.(*DeploymentsListResponse)
				require.Len(t, d.Deployments, 2)
				assert.Equal(t, "elasticsearch", d.Deployments[0].Resources[0].Kind)
				assert.Equal(t, "main-kibana", d.Deployments[0].Resources[1].RefID)
			}},
		{"Deployments.RemoteClusters", "GET", "/deployments/d1/elasticsearch/main-elasticsearch/remote-clusters", nil, "remote_clusters.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Deployments.RemoteClusters(ctx, "d1", "main-elasticsearch")
				return v, err
			},
			func(t *testing.T, v any) {
				r := v.(*RemoteResources)
				require.Len(t, r.Resources, 2)
				assert.True(t, r.Resources[0].Info.TrustedBack)
				assert.Nil(t, r.Resources[1].Info)
				assert.True(t, *r.Resources[0].SkipUnavailable)
			}},
		{"Deployments.UpgradeDryRun", "POST", "/deployments/d1/kibana/main-kibana/_upgrade", url.Values{"validate_only": {"true"}}, "upgrade.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Deployments.UpgradeDryRun(ctx, "d1", "kibana", "main-kibana")
				return v, err
			},
			func(t *testing.T, v any) {
				assert.Equal(t, "8.15.1", v.(*DeploymentResourceUpgradeResponse).StackVersion)
			}},
		{"Accounts.Get", "GET", "/account", nil, "account.json",
			func(ctx context.Context, c *Client) (any, error) { v, _, err := c.Accounts.Get(ctx); return v, err },
			func(t *testing.T, v any) { assert.Equal(t, "1234567890", v.(*AccountResponse).ID) }},
		{"Organizations.List", "GET", "/organizations", nil, "organizations.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Organizations.List(ctx)
				return v, err
			},
			func(t *testing.T, v any) { assert.Equal(t, "1234567890", v.(*OrganizationList).Organizations[0].ID) }},
		{"Billing.Overview", "GET", "/billing/costs/o1", cq, "costs_overview.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Billing.Overview(ctx, "o1", costs)
				return v, err
			},
			func(t *testing.T, v any) {
				o := v.(*CostsOverview)
				assert.Equal(t, 1234.5, o.Costs.Total)
				assert.Equal(t, 98765.5, o.Balance.Remaining)
			}},
		{"Billing.Deployments", "GET", "/billing/costs/o1/deployments", cq, "costs_deployments.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Billing.Deployments(ctx, "o1", costs)
				return v, err
			},
			func(t *testing.T, v any) {
				d := v.(*DeploymentsCosts)
				assert.Equal(t, "d1", d.Deployments[0].DeploymentID)
				assert.Equal(t, "capacity", d.Deployments[0].Costs.Dimensions[0].Type)
			}},
		{"Billing.Items", "GET", "/billing/costs/o1/items", cq, "costs_items.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Billing.Items(ctx, "o1", costs)
				return v, err
			},
			func(t *testing.T, v any) {
				i := v.(*ItemsCosts)
				assert.Equal(t, 10.5, i.Resources[0].Hours, "fractional hours decode")
				assert.Equal(t, 8.326714027673006, i.DataTransferAndStorage[0].Quantity.Value, "fractional quantity decodes")
			}},
		{"Billing.DeploymentItems", "GET", "/billing/costs/o1/deployments/d1/items", cq, "costs_items.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Billing.DeploymentItems(ctx, "o1", "d1", costs)
				return v, err
			},
			func(t *testing.T, v any) {
				assert.Equal(t, "gcp.es.datahot.n2.68x10x45", v.(*ItemsCosts).Resources[0].SKU)
			}},
		{"Billing.Charts", "GET", "/billing/costs/o1/charts", chq, "charts_millis.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Billing.Charts(ctx, "o1", charts)
				return v, err
			},
			func(t *testing.T, v any) {
				ch := v.(*ChartItems)
				assert.Equal(t, time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC), ch.Data[0].Timestamp, "milliseconds normalised")
				assert.Equal(t, time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC), ch.Data[1].Timestamp, "seconds and floats accepted")
			}},
		{"Billing.DeploymentCharts", "GET", "/billing/costs/o1/deployments/d1/charts", chq, "charts_millis.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.Billing.DeploymentCharts(ctx, "o1", "d1", charts)
				return v, err
			},
			func(t *testing.T, v any) { assert.Len(t, v.(*ChartItems).Data, 2) }},
		{"APIKeys.List", "GET", "/users/auth/keys", nil, "api_keys.json",
			func(ctx context.Context, c *Client) (any, error) { v, _, err := c.APIKeys.List(ctx); return v, err },
			func(t *testing.T, v any) {
				k := v.(*APIKeysResponse)
				require.Len(t, k.Keys, 2)
				assert.NotNil(t, k.Keys[0].ExpirationDate)
				assert.Nil(t, k.Keys[1].ExpirationDate, "never expires")
				b, _ := json.Marshal(k)
				assert.NotContains(t, string(b), "SENTINEL-LISTED-KEY", "the key field is never decoded")
			}},
		{"APIKeys.ListAll", "GET", "/users/auth/keys/_all", nil, "api_keys.json",
			func(ctx context.Context, c *Client) (any, error) { v, _, err := c.APIKeys.ListAll(ctx); return v, err },
			func(t *testing.T, v any) { assert.Len(t, v.(*APIKeysResponse).Keys, 2) }},
		{"APIKeys.ListForUser", "GET", "/users/u1/auth/keys", nil, "api_keys.json",
			func(ctx context.Context, c *Client) (any, error) {
				v, _, err := c.APIKeys.ListForUser(ctx, "u1")
				return v, err
			},
			func(t *testing.T, v any) { assert.Equal(t, "u1", v.(*APIKeysResponse).Keys[0].UserID) }},
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	for _, mc := range methodCases() {
		t.Run(mc.name+"/success", func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc(p(mc.path), func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, mc.method, r.Method)
				assert.Equal(t, "ApiKey "+sentinelKey, r.Header.Get("Authorization"))
				assert.Equal(t, "application/json", r.Header.Get("Accept"))
				assert.Equal(t, "ece_exporter/1.2.3", r.Header.Get("User-Agent"))
				want := mc.query
				if want == nil {
					want = url.Values{}
				}
				assert.Equal(t, want, r.URL.Query())
				status := http.StatusOK
				if mc.method == "POST" {
					status = http.StatusAccepted
				}
				writeJSON(w, status, fixture(t, mc.fixture))
			})
			v, err := mc.call(context.Background(), c)
			require.NoError(t, err)
			mc.check(t, v)
		})
		t.Run(mc.name+"/api_error", func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc(p(mc.path), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-cloud-error-codes", "organization.not_found, extra.code")
				writeJSON(w, http.StatusNotFound, `{"errors":[{"code":"organization.not_found","message":"Organization not found","fields":["organization_id"]}]}`)
			})
			_, err := mc.call(context.Background(), c)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
			assert.Equal(t, []string{"organization.not_found", "extra.code"}, apiErr.Codes)
			assert.Equal(t, []string{"organization_id"}, apiErr.Errors[0].Fields)
			assert.Contains(t, err.Error(), "Organization not found")
			assert.NotContains(t, err.Error(), sentinelKey)
		})
		t.Run(mc.name+"/rate_limited", func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, WithMaxRetries(0))
			mux.HandleFunc(p(mc.path), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.Header().Set("x-cloud-error-codes", "billing_service.rate_limited")
				writeJSON(w, http.StatusTooManyRequests, `{"errors":[{"code":"billing_service.rate_limited","message":"Too many requests"}]}`)
			})
			_, err := mc.call(context.Background(), c)
			var rl *RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, 30*time.Second, rl.RetryAfter)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr, "a 429 is also an *APIError")
		})
		t.Run(mc.name+"/malformed", func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc(p(mc.path), func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, `{"deployments": [`)
			})
			_, err := mc.call(context.Background(), c)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
		})
		t.Run(mc.name+"/timeout", func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			mux.HandleFunc(p(mc.path), func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := mc.call(ctx, c)
			require.Error(t, err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

func TestPathSegmentsValidatedBeforeSending(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx := context.Background()
	for _, bad := range []string{"", ".", "..", "a/b", "a?b", "a#b", "a%2fb", "a\\b", "a\nb", strings.Repeat("x", 300)} {
		calls := []func() error{
			func() error { _, _, err := c.Deployments.RemoteClusters(ctx, bad, "es"); return err },
			func() error { _, _, err := c.Deployments.RemoteClusters(ctx, "d", bad); return err },
			func() error { _, _, err := c.Deployments.UpgradeDryRun(ctx, bad, "kibana", "k"); return err },
			func() error { _, _, err := c.Deployments.UpgradeDryRun(ctx, "d", "kibana", bad); return err },
			func() error { _, _, err := c.Billing.Overview(ctx, bad, nil); return err },
			func() error { _, _, err := c.Billing.Deployments(ctx, bad, nil); return err },
			func() error { _, _, err := c.Billing.Items(ctx, bad, nil); return err },
			func() error { _, _, err := c.Billing.DeploymentItems(ctx, "o", bad, nil); return err },
			func() error { _, _, err := c.Billing.Charts(ctx, bad, nil); return err },
			func() error { _, _, err := c.Billing.DeploymentCharts(ctx, "o", bad, nil); return err },
			func() error { _, _, err := c.APIKeys.ListForUser(ctx, bad); return err },
		}
		for i, call := range calls {
			assert.ErrorIs(t, call(), ErrInvalidPathSegment, "call %d with %q", i, bad)
		}
	}
	for _, kind := range []string{"elasticsearch", "KIBANA", "", "../kibana"} {
		_, _, err := c.Deployments.UpgradeDryRun(ctx, "d", kind, "k")
		assert.ErrorIs(t, err, ErrInvalidKind, kind)
	}
	_, _, err := c.Billing.Charts(ctx, "o", &ChartsOptions{Bucketing: "Daily"})
	assert.ErrorContains(t, err, "must be daily or monthly")
	assert.Zero(t, hits.Load(), "nothing was sent")
}

func TestUpgradeGuard(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	for _, q := range []url.Values{nil, {"validate_only": {"false"}}, {"validate_only": {"true", "false"}}, {"validate_only": {"TRUE"}}} {
		req, err := c.newRequest(context.Background(), "x", http.MethodPost, "deployments/d/kibana/k/_upgrade", q, nil)
		require.NoError(t, err)
		_, err = c.do(req, nil, false)
		assert.ErrorIs(t, err, ErrRealUpgradeRefused, "%v", q)
	}
	assert.Zero(t, hits.Load())
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://api.elastic-cloud.com":          "https://api.elastic-cloud.com/api/v1/",
		"https://api.elastic-cloud.com/":         "https://api.elastic-cloud.com/api/v1/",
		"https://api.elastic-cloud.com/api/v1":   "https://api.elastic-cloud.com/api/v1/",
		"https://api.elastic-cloud.com/api/v1/":  "https://api.elastic-cloud.com/api/v1/",
		"https://ece:12443":                      "https://ece:12443/api/v1/",
		"http://proxy.internal/elastic?x=1#frag": "http://proxy.internal/elastic/api/v1/",
	} {
		c, err := NewClient(WithBaseURL(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, c.BaseURL(), in)
	}
	c, err := NewClient()
	require.NoError(t, err)
	assert.Equal(t, "https://api.elastic-cloud.com/api/v1/", c.BaseURL())
	for _, bad := range []string{"ftp://x", "https://", "https://user:" + sentinelPassword + "@x", "::"} {
		_, err := NewClient(WithBaseURL(bad))
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), sentinelPassword)
	}
	tr := c.httpClient.Transport.(*http.Transport)
	assert.NotNil(t, tr.Proxy, "proxy from environment")
}

func TestRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		statuses []int
		wantErr  bool
		attempts int
	}{
		{"503 then ok", []int{503, 200}, false, 2},
		{"502 504 then ok", []int{502, 504, 200}, false, 3},
		{"429 then ok", []int{429, 200}, false, 2},
		{"500 is not retried", []int{500, 200}, true, 1},
		{"404 is not retried", []int{404, 200}, true, 1},
		{"400 is not retried", []int{400, 200}, true, 1},
		{"bounded", []int{503, 503, 503, 503, 503, 503}, true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var obs []Observation
			var mu sync.Mutex
			c, mux, _ := setup(t, WithObserver(func(o Observation) { mu.Lock(); obs = append(obs, o); mu.Unlock() }))
			var n atomic.Int32
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				w.Header().Set("x-ratelimit-limit", "100")
				w.Header().Set("x-ratelimit-remaining", fmt.Sprint(99-i))
				w.Header().Set("x-ratelimit-interval", "60")
				if tc.statuses[i] == 429 {
					w.Header().Set("Retry-After", "0")
				}
				if tc.statuses[i] != 200 {
					writeJSON(w, tc.statuses[i], `{"errors":[{"code":"x","message":"y"}]}`)
					return
				}
				writeJSON(w, 200, `{"id":"a"}`)
			})
			_, resp, err := c.Accounts.Get(context.Background())
			assert.Equal(t, tc.wantErr, err != nil, "%v", err)
			assert.Equal(t, tc.attempts, int(n.Load()))
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, obs, tc.attempts, "observer called once per attempt")
			for i, o := range obs {
				assert.Equal(t, "get-current-account", o.Operation)
				assert.Equal(t, i+1, o.Attempt)
				assert.Equal(t, tc.statuses[i], o.StatusCode)
				assert.Equal(t, RateLimit{Present: true, Limit: 100, Remaining: 99 - i, Interval: time.Minute}, o.RateLimit)
			}
			if !tc.wantErr {
				assert.Equal(t, tc.attempts, resp.Attempts)
			}
		})
	}
}

func TestDryRunIsNeverRetried(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var n atomic.Int32
	mux.HandleFunc(p("/deployments/d/apm/main-apm/_upgrade"), func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 503, `{"errors":[{"code":"x","message":"busy"}]}`)
	})
	_, _, err := c.Deployments.UpgradeDryRun(context.Background(), "d", "apm", "main-apm")
	require.Error(t, err)
	assert.Equal(t, int32(1), n.Load())
}

func TestCancelStopsRetryWait(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithBackoff(time.Hour, time.Hour, time.Hour))
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"errors":[{"code":"x","message":"busy"}]}`)
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	_, _, err := c.Accounts.Get(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestRetryAfterSources(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{"http date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"exhausted window", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Interval": {"45"}}, 45 * time.Second},
		{"go duration interval", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Interval": {"2m"}}, 2 * time.Minute},
		{"nothing", http.Header{}, DefaultRetryAfter},
		{"garbage", http.Header{"Retry-After": {"soon"}}, DefaultRetryAfter},
	} {
		assert.Equal(t, tc.want, retryAfter(tc.h, parseRateLimit(tc.h), now), tc.name)
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithMaxRetries(0))
	mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1>\x00\x01</body></html>")
	})
	_, _, err := c.Deployments.List(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.Contains(t, apiErr.BodyHint, "text/html")
	assert.Contains(t, apiErr.BodyHint, "502 Bad Gateway")
	assert.NotContains(t, err.Error(), "<h1>")
}

func TestBodyLimitsAndNull(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithMaxBodyBytes(1024))
	mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"deployments":[]`+strings.Repeat(" ", 2000)+`}`)
	})
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "null") })
	mux.HandleFunc(p("/organizations"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"organizations":[{"id":"o","name":"n","unknown_field":{"deep":[1,2]}}]}`)
	})
	_, _, err := c.Deployments.List(context.Background())
	assert.ErrorIs(t, err, ErrBodyTooLarge)
	_, _, err = c.Accounts.Get(context.Background())
	var de *DecodeError
	assert.ErrorAs(t, err, &de)
	orgs, _, err := c.Organizations.List(context.Background())
	require.NoError(t, err, "unknown fields are ignored")
	assert.Equal(t, "o", orgs.Organizations[0].ID)
}

func TestAuthSchemes(t *testing.T) {
	t.Parallel()
	t.Run("basic", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t, WithBasicAuth("admin", sentinelPassword))
		mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
			u, pw, ok := r.BasicAuth()
			assert.True(t, ok)
			assert.Equal(t, "admin", u)
			assert.Equal(t, sentinelPassword, pw)
			writeJSON(w, 200, `{"id":"a"}`)
		})
		_, _, err := c.Accounts.Get(context.Background())
		require.NoError(t, err)
	})
	t.Run("login and refresh", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		c, mux, _ := setup(t, WithLogin("admin", sentinelPassword), WithClock(clock))
		var logins, refreshes atomic.Int32
		mux.HandleFunc(p("/users/auth/_login"), func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, http.MethodPost, r.Method)
			var body map[string]string
			require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
			if body["password"] != sentinelPassword {
				writeJSON(w, 401, `{"errors":[{"code":"root.unauthenticated","message":"bad"}]}`)
				return
			}
			n := logins.Add(1)
			writeJSON(w, 200, fmt.Sprintf(`{"token":"tok-login-%d","session_expiration_time":%q}`, n, clock().Add(15*time.Minute).Format(time.RFC3339)))
		})
		mux.HandleFunc(p("/users/auth/_refresh"), func(w http.ResponseWriter, r *http.Request) {
			assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-"))
			n := refreshes.Add(1)
			writeJSON(w, 200, fmt.Sprintf(`{"token":"tok-refresh-%d","session_expiration_time":%q}`, n, clock().Add(15*time.Minute).Format(time.RFC3339)))
		})
		var seen []string
		mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.Header.Get("Authorization"))
			writeJSON(w, 200, `{"id":"a"}`)
		})
		get := func() { _, _, err := c.Accounts.Get(context.Background()); require.NoError(t, err) }
		get()
		get()
		mu.Lock()
		now = now.Add(11 * time.Minute) // past 2/3 of the lifetime
		mu.Unlock()
		get()
		mu.Lock()
		now = now.Add(time.Hour) // expired: log in again
		mu.Unlock()
		get()
		assert.Equal(t, []string{"Bearer tok-login-1", "Bearer tok-login-1", "Bearer tok-refresh-1", "Bearer tok-login-2"}, seen)
		assert.Equal(t, int32(2), logins.Load())
		assert.Equal(t, int32(1), refreshes.Load())
	})
	t.Run("bad login error hides the password", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t, WithLogin("admin", "wrong-"+sentinelPassword))
		mux.HandleFunc(p("/users/auth/_login"), func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 401, `{"errors":[{"code":"root.unauthenticated","message":"The supplied authentication is invalid"}]}`)
		})
		_, _, err := c.Accounts.Get(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), sentinelPassword)
		assert.Contains(t, err.Error(), "root.unauthenticated")
		assert.NotContains(t, fmt.Sprintf("%+v %#v %+v", c.auth, c.auth, *c), sentinelPassword)
	})
}

func TestSecretPrinting(t *testing.T) {
	t.Parallel()
	s := Secret(sentinelKey)
	for _, out := range []string{fmt.Sprintf("%v %s %q %x %#v %+v %d", s, s, s, s, s, s, s), s.String()} {
		assert.NotContains(t, out, sentinelKey)
	}
	b, _ := json.Marshal(struct{ K Secret }{s})
	assert.NotContains(t, string(b), sentinelKey)
	assert.Equal(t, sentinelKey, s.Reveal())
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), sentinelKey) {
			leaked.Add(1)
		}
		writeJSON(w, 200, `{"id":"evil"}`)
	}))
	t.Cleanup(other.Close)
	c, mux, srv := setup(t)
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x", http.StatusFound)
	})
	mux.HandleFunc(p("/organizations"), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv+p("/organizations2"), http.StatusFound)
	})
	mux.HandleFunc(p("/organizations2"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"organizations":[{"id":"same-host","name":"n"}]}`)
	})
	_, _, err := c.Accounts.Get(context.Background())
	assert.ErrorIs(t, err, ErrRedirectRefused)
	assert.Zero(t, leaked.Load())
	orgs, _, err := c.Organizations.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "same-host", orgs.Organizations[0].ID)
}

func TestTLSOptions(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"id":"tls"}`) }))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pemCert(srv), 0o600))
	get := func(opts ...Option) error {
		c, err := NewClient(append([]Option{WithBaseURL(srv.URL), WithMaxRetries(0)}, opts...)...)
		require.NoError(t, err)
		_, _, err = c.Accounts.Get(context.Background())
		return err
	}
	assert.Error(t, get(), "unknown CA")
	assert.NoError(t, get(WithTLS(TLSOptions{CAFile: ca})))
	assert.NoError(t, get(WithTLS(TLSOptions{InsecureSkipVerify: true})))
	_, err := NewClient(WithTLS(TLSOptions{CAFile: "/nonexistent"}))
	assert.Error(t, err)
}

func TestInFlightCap(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithMaxInFlight(3))
	var cur, peak atomic.Int32
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			m := peak.Load()
			if n <= m || peak.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		writeJSON(w, 200, `{"id":"a"}`)
	})
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _, _, _ = c.Accounts.Get(context.Background()) }()
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Equal(t, int32(3), peak.Load())
}

func TestAPIKeyExpirationHeader(t *testing.T) {
	t.Parallel()
	var got time.Time
	c, mux, _ := setup(t, WithObserver(func(o Observation) { got = o.APIKeyExpiration }))
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-elastic-api-key-expiration", "2027-02-01T00:00:00Z")
		writeJSON(w, 200, `{"id":"a"}`)
	})
	_, resp, err := c.Accounts.Get(context.Background())
	require.NoError(t, err)
	want := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, want, resp.APIKeyExpiration)
	assert.Equal(t, want, got)
	assert.Equal(t, want, parseExpiration("1801440000"))
	assert.True(t, parseExpiration("garbage").IsZero())
}

func TestCheckResponseIsTheOnlyErrorPath(t *testing.T) {
	t.Parallel()
	for _, errs := range []error{&APIError{StatusCode: 500}, &RateLimitError{APIError: &APIError{StatusCode: 429}}} {
		assert.True(t, errors.As(errs, new(*APIError)))
	}
}

func pemCert(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func TestRequestBudget(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithRequestBudget(3, time.Hour))
	var n atomic.Int32
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) { n.Add(1); writeJSON(w, 200, `{"id":"a"}`) })
	for i := 0; i < 3; i++ {
		_, _, err := c.Accounts.Get(context.Background())
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err := c.Accounts.Get(ctx)
	assert.ErrorIs(t, err, ErrRequestBudget)
	assert.Equal(t, int32(3), n.Load(), "the fourth request was never sent")
	_, err = NewClient(WithRequestBudget(0, time.Hour))
	assert.Error(t, err)
}
