package eceapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var v2Window = CostsWindow{From: testFrom, To: testTo}

// The billing v2 service's own error bodies become an *APIError with the
// status, a code and a bounded message; the credential never shows.
func TestBillingV2_ErrorBodies(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		name        string
		status      int
		contentType string
		body        string
		check       func(t *testing.T, e *APIError)
	}{
		{"400 invalid_input", 400, "application/json", fixture(t, "getCostsByInstancesV2/error-invalid-input.json"), func(t *testing.T, e *APIError) {
			assert.Equal(t, []string{"invalid_input"}, e.Codes)
			require.Len(t, e.Errors, 1)
			assert.Equal(t, "invalid_input", e.Errors[0].Code)
			assert.Equal(t, "An error occurred with input: {'from': '2019-08-04T00:00:00Z', 'to': '2019-08-05T00:00:00Z'}; "+
				"'from' must not be earlier than 2021-01-01T00:00:00+00:00", e.Errors[0].Message)
			assert.Empty(t, e.Errors[0].Fields, "_schema is not a field")
			assert.Empty(t, e.BodyHint)
			assert.Contains(t, e.Error(), "400 Bad Request [invalid_input]: An error occurred")
		}},
		{"400 with field messages", 400, "application/json",
			`{"error":"invalid_input","message":"bad","detail":{"messages":{"to":["Missing data for required field."],"from":"Not a valid datetime."}},"success":false}`,
			func(t *testing.T, e *APIError) {
				require.Len(t, e.Errors, 1)
				assert.Equal(t, []string{"from", "to"}, e.Errors[0].Fields)
				assert.Equal(t, "bad; from: Not a valid datetime.; to: Missing data for required field.", e.Errors[0].Message)
			}},
		{"403 plain text", 403, "text/plain; charset=utf-8", fixture(t, "getCostsByInstancesV2/error-forbidden.txt"), func(t *testing.T, e *APIError) {
			assert.Empty(t, e.Codes)
			assert.Empty(t, e.Errors)
			assert.Equal(t, `non-JSON error body (text/plain): "403: User does not have 'billing-costs:get:1234567890' permissions"`, e.BodyHint)
			assert.Contains(t, e.Error(), "403 Forbidden: non-JSON error body")
		}},
		{"huge message and detail are bounded", 500, "application/json",
			`{"error":"internal","message":"` + long + `","detail":{"messages":{"_schema":["` + long + `","b","c","d","e","f","g"]}}}`,
			func(t *testing.T, e *APIError) {
				require.Len(t, e.Errors, 1)
				assert.Less(t, len(e.Error()), 2000)
				assert.Equal(t, 6, strings.Count(e.Errors[0].Message, "; ")+1, "the message and at most 5 detail messages")
			}},
		{"echoed credential is redacted", 400, "application/json",
			`{"error":"invalid_input","message":"bad header ApiKey ` + sentinelKey + `","detail":{}}`,
			func(t *testing.T, e *APIError) {
				require.Len(t, e.Errors, 1)
				assert.Equal(t, "bad header ApiKey <secret>", e.Errors[0].Message)
			}},
		{"detail of another shape", 404, "application/json", `{"error":"not_found","message":"Organization not found","detail":"nope"}`,
			func(t *testing.T, e *APIError) {
				assert.Equal(t, []ErrorElement{{Code: "not_found", Message: "Organization not found"}}, e.Errors)
			}},
		{"JSON without error is a body hint", 500, "application/json", `{"message":"boom"}`, func(t *testing.T, e *APIError) {
			assert.Empty(t, e.Errors)
			assert.Contains(t, e.BodyHint, "boom")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, WithMaxRetries(0))
			mux.HandleFunc(p2("/billing/organizations/o/costs/instances"), func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			v, _, err := c.BillingV2.Instances(context.Background(), "o", InstancesOptions{CostsWindow: v2Window})
			assert.Nil(t, v)
			var e *APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, "getCostsByInstancesV2", e.Operation)
			assert.Equal(t, p2("/billing/organizations/o/costs/instances"), e.Path)
			assert.NotContains(t, err.Error(), sentinelKey)
			tc.check(t, e)
		})
	}
}

// from and to are required and no earlier than 2021-01-01: a window the
// API would refuse is never sent.
func TestBillingV2_WindowRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", counter(&hits, func(w http.ResponseWriter, r *http.Request) {}))
	early := time.Date(2020, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		name string
		w    CostsWindow
		want string
	}{
		{"zero", CostsWindow{}, "from and to are both required"},
		{"no to", CostsWindow{From: testFrom}, "from and to are both required"},
		{"no from", CostsWindow{To: testTo}, "from and to are both required"},
		{"before 2021", CostsWindow{From: early, To: testTo}, "from 2020-12-31T23:59:59Z is before 2021-01-01T00:00:00Z"},
		{"to before from", CostsWindow{From: testFrom, To: testFrom.Add(-time.Second)}, "to is before from"},
	} {
		_, _, err := c.BillingV2.Instances(context.Background(), "o", InstancesOptions{CostsWindow: tc.w})
		assert.ErrorIs(t, err, ErrInvalidCostsWindow, tc.name)
		assert.ErrorContains(t, err, tc.want, tc.name)
		_, _, err = c.BillingV2.Items(context.Background(), "o", ItemsV2Options{CostsWindow: tc.w})
		assert.ErrorIs(t, err, ErrInvalidCostsWindow, tc.name)
		_, _, err = c.BillingV2.Charts(context.Background(), "o", ChartsV2Options{CostsWindow: tc.w})
		assert.ErrorIs(t, err, ErrInvalidCostsWindow, tc.name)
	}
	_, _, err := c.BillingV2.Items(context.Background(), "o", ItemsV2Options{CostsWindow: v2Window, ServerlessGroupBy: "Product"})
	assert.ErrorContains(t, err, "must be product or product_family")
	_, _, err = c.BillingV2.Charts(context.Background(), "o", ChartsV2Options{CostsWindow: v2Window, Bucketing: "weekly"})
	assert.ErrorContains(t, err, "must be daily or monthly")
	assert.Zero(t, hits.Load(), "no request was sent")
}

// The optional parameters are sent only when set; the window starting at
// the earliest accepted instant is sent.
func TestBillingV2_Query(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var mu sync.Mutex
	got := map[string]string{}
	for _, op := range []string{"costs/instances", "costs/items", "charts"} {
		mux.HandleFunc(p2("/billing/organizations/o/"+op), func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[op] = r.URL.RawQuery
			mu.Unlock()
			writeJSON(w, http.StatusOK, `{}`)
		})
	}
	w := CostsWindow{From: EarliestCostsDate, To: time.Date(2021, 1, 2, 1, 0, 0, 0, time.FixedZone("CET", 3600))}
	ctx := context.Background()
	_, _, err := c.BillingV2.Instances(ctx, "o", InstancesOptions{CostsWindow: w})
	require.NoError(t, err)
	_, _, err = c.BillingV2.Items(ctx, "o", ItemsV2Options{CostsWindow: w})
	require.NoError(t, err)
	_, _, err = c.BillingV2.Charts(ctx, "o", ChartsV2Options{CostsWindow: w, Bucketing: BucketingMonthly})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	q := "from=2021-01-01T00%3A00%3A00Z&to=2021-01-02T00%3A00%3A00Z"
	assert.Equal(t, map[string]string{"costs/instances": q, "costs/items": q, "charts": "bucketing_strategy=monthly&" + q}, got)
}

// A null list is empty, at any depth.
func TestBillingV2_NullLists(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	serve := func(op, body string) {
		mux.HandleFunc(p2("/billing/organizations/o/"+op), func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, body) })
	}
	serve("costs/instances", fixture(t, "getCostsByInstancesV2/null-instances.json"))
	serve("costs/items", fixture(t, "getCostsByItemsV2/null-lists.json"))
	serve("charts", fixture(t, "getChartsV2/null-lists.json"))
	mux.HandleFunc(p2("/billing/organizations/lines/costs/instances"), func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, fixture(t, "getCostsByInstancesV2/null-lists.json"))
	})
	ctx := context.Background()
	ic, _, err := c.BillingV2.Instances(ctx, "o", InstancesOptions{CostsWindow: v2Window})
	require.NoError(t, err)
	assert.Empty(t, ic.Instances)
	assert.Zero(t, ic.TotalECU)
	ic, _, err = c.BillingV2.Instances(ctx, "lines", InstancesOptions{CostsWindow: v2Window})
	require.NoError(t, err)
	assert.Equal(t, []InstanceCosts{{ID: "f00dfeedf00dfeedf00dfeedf00dfeed", Type: "elastic_inference_service", TotalECU: 0.4}}, ic.Instances)
	pc, _, err := c.BillingV2.Items(ctx, "o", ItemsV2Options{CostsWindow: v2Window})
	require.NoError(t, err)
	assert.Equal(t, []ProductCosts{{Type: "other"}}, pc.Products)
	ch, _, err := c.BillingV2.Charts(ctx, "o", ChartsV2Options{CostsWindow: v2Window})
	require.NoError(t, err)
	require.Len(t, ch.Data, 1)
	assert.Empty(t, ch.Data[0].Values)
}

func TestBillingV2URL(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	require.NoError(t, err)
	assert.Equal(t, "https://billing.elastic-cloud.com/api/v2/", c.billingV2URL.String())
	for raw, want := range map[string]string{
		"https://cloud.elastic.co":          "https://cloud.elastic.co/api/v2/",
		"https://cloud.elastic.co/":         "https://cloud.elastic.co/api/v2/",
		"https://proxy:8443/billing/api/v2": "https://proxy:8443/billing/api/v2/",
		" http://127.0.0.1:9/x/?q=1#f ":     "http://127.0.0.1:9/x/api/v2/",
	} {
		c, err := NewClient(WithBillingV2URL(raw))
		require.NoError(t, err, raw)
		assert.Equal(t, want, c.billingV2URL.String(), raw)
		assert.Equal(t, "https://api.elastic-cloud.com/api/v1/", c.baseURL.String(), "the API base URL is unchanged")
	}
	for raw, want := range map[string]string{
		"ftp://billing":                "billing v2 URL \"ftp://billing\": scheme must be http or https",
		"https://":                     "billing v2 URL \"https://\": host is missing",
		"https://u:pw@billing.example": "billing v2 URL: credentials in the URL are not allowed",
	} {
		_, err := NewClient(WithBillingV2URL(raw))
		assert.EqualError(t, err, want)
	}
}

// The billing v2 host is the request's own: a redirect within it is
// followed, one to another host (the API's included) is refused, so the
// key reaches only the hosts configured.
func TestBillingV2_Redirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(counter(&elsewhere, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) }))
	t.Cleanup(other.Close)
	// The API itself is elsewhere: only the billing host serves here.
	c, mux, _ := setup(t, WithMaxRetries(0), WithBaseURL("https://api.example.invalid"))
	mux.HandleFunc(p2("/billing/organizations/same/costs/instances"), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p2("/billing/organizations/moved/costs/instances")+"?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	})
	mux.HandleFunc(p2("/billing/organizations/moved/costs/instances"), func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "ApiKey "+sentinelKey, r.Header.Get("Authorization"))
		writeJSON(w, http.StatusOK, `{"total_ecu": 1.5, "instances": []}`)
	})
	mux.HandleFunc(p2("/billing/organizations/away/costs/instances"), func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	ic, _, err := c.BillingV2.Instances(context.Background(), "same", InstancesOptions{CostsWindow: v2Window})
	require.NoError(t, err)
	assert.InDelta(t, 1.5, ic.TotalECU, 1e-12)
	_, _, err = c.BillingV2.Instances(context.Background(), "away", InstancesOptions{CostsWindow: v2Window})
	require.ErrorIs(t, err, ErrRedirectRefused)
	assert.Zero(t, elsewhere.Load())
}
