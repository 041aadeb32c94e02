package eceapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixturesMatchSpec validates every success fixture of the client
// tests against the response schema of its operation in the official spec,
// so that the client is tested against answers shaped exactly like the
// documented ones. The drift fixtures (fractional integers, float
// hours and quantities) are checked to be outside the spec: they show that
// the client tolerates what the live API sends beyond it. Float notation of
// an integral timestamp (1.7948736e9) is still a JSON Schema integer.
func TestFixturesMatchSpec(t *testing.T) {
	t.Parallel()
	const host = "https://api.elastic-cloud.com"
	const dep = "4f8e2b6c1d3a4e5f9a7b8c0d1e2f3a4b"
	// The operations are byte-identical in both files; the ECE one also
	// has the ECE-only API key listings. One load keeps the test quick.
	router := loadSpec(t, "apidocs.json", host)
	for _, tc := range []struct {
		fixture, method, path string
		status                int
		op                    string
		valid                 bool
	}{
		{"deployments.json", "GET", "/deployments", 200, "list-deployments", true},
		{"remote_clusters.json", "GET", "/deployments/" + dep + "/elasticsearch/main-elasticsearch/remote-clusters", 200, "get-deployment-es-resource-remote-clusters", true},
		{"upgrade.json", "POST", "/deployments/" + dep + "/kibana/main-kibana/_upgrade?validate_only=true", 202, "upgrade-deployment-stateless-resource", true},
		{"account.json", "GET", "/account", 200, "get-current-account", true},
		{"organizations.json", "GET", "/organizations", 200, "list-organizations", true},
		{"costs_overview.json", "GET", "/billing/costs/1234567890", 200, "get-costs-overview", true},
		{"costs_deployments.json", "GET", "/billing/costs/1234567890/deployments", 200, "get-costs-deployments", true},
		{"costs_items.json", "GET", "/billing/costs/1234567890/items", 200, "get-costs-items", true},
		{"costs_items_deployment.json", "GET", "/billing/costs/1234567890/deployments/" + dep + "/items", 200, "get-costs-items-by-deployment", true},
		{"charts_daily_millis.json", "GET", "/billing/costs/1234567890/charts?bucketing_strategy=daily", 200, "get-costs-charts", true},
		{"charts_monthly_seconds.json", "GET", "/billing/costs/1234567890/deployments/" + dep + "/charts?bucketing_strategy=monthly", 200, "get-costs-charts-by-deployment", true},
		{"api_keys.json", "GET", "/users/auth/keys", 200, "get-api-keys", true},
		{"api_keys_all.json", "GET", "/users/auth/keys/_all", 200, "get-users-api-keys", true},
		{"api_keys_all.json", "GET", "/users/admin/auth/keys", 200, "get-user-api-keys", true},
		{"platform_allocators.json", "GET", "/platform/infrastructure/allocators?size=100", 200, "get-allocators", true},
		{"platform_proxies_health.json", "GET", "/platform/infrastructure/proxies/health", 200, "get-proxies-health", true},
		{"platform_runners.json", "GET", "/platform/infrastructure/runners", 200, "get-runners", true},
		{"platform_license.json", "GET", "/platform/license", 200, "get-license", true},
		{"platform_tls.json", "GET", "/platform/configuration/security/tls/adminconsole", 200, "get-tls-certificate", true},
		{"search_deployments.json", "POST", "/deployments/_search", 200, "search-deployments", true},
		{"stack_versions.json", "GET", "/stack/versions?show_deleted=true", 200, "get-version-stacks", true},
		// Drift on purpose.
		{"search_deployments_drift.json", "POST", "/deployments/_search", 200, "search-deployments", false},
		{"costs_items_fractional.json", "GET", "/billing/costs/1234567890/items", 200, "get-costs-items", false},
		{"charts_float_timestamps.json", "GET", "/billing/costs/1234567890/charts", 200, "get-costs-charts", true},
	} {
		t.Run(tc.fixture+"/"+tc.op, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.fixture))
			require.NoError(t, err)
			req, err := http.NewRequest(tc.method, host+"/api/v1"+tc.path, nil)
			require.NoError(t, err)
			route, params, err := router.FindRoute(req)
			require.NoError(t, err)
			require.Equal(t, tc.op, route.Operation.OperationID)
			ri := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: ri, Status: tc.status,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
			err = openapi3filter.ValidateResponse(context.Background(), rv)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err, "a drift fixture must stay outside the spec")
			}
		})
	}
}
