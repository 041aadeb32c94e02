package collector

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// TestRequestFailuresCounted: a 200 whose body is bad JSON or too large is
// not a success: the code stays the HTTP status, and the failure is
// counted by reason in ece_exporter_api_request_failures_total, like a 503
// and an answer that never came.
func TestRequestFailuresCounted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/users/auth/keys":
			_, _ = w.Write([]byte(`{"keys":[`))
		case "/api/v1/deployments/d/elasticsearch/main-elasticsearch/remote-clusters":
			_, _ = w.Write([]byte(`{"resources":[],"x":"` + strings.Repeat("x", 2<<20) + `"}`))
		case "/api/v1/account":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte(`{"deployments":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	reg := prometheus.NewPedanticRegistry()
	self, err := newSelfMetrics(reg)
	require.NoError(t, err)
	c, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithMaxRetries(0), eceapi.WithObserver(self.observer("prod", &rateState{})))
	require.NoError(t, err)
	ctx := context.Background()
	_, _, err = c.APIKeys.List(ctx)
	require.Error(t, err)
	_, _, err = c.Deployments.RemoteClusters(ctx, "d", "main-elasticsearch")
	require.ErrorIs(t, err, eceapi.ErrBodyTooLarge)
	_, _, err = c.Accounts.Get(ctx)
	require.Error(t, err)
	_, _, err = c.Deployments.List(ctx)
	require.NoError(t, err)
	refused, err := eceapi.NewClient(eceapi.WithBaseURL("http://127.0.0.1:1"), eceapi.WithMaxRetries(0), eceapi.WithTimeout(5*time.Second),
		eceapi.WithObserver(self.observer("prod", &rateState{})))
	require.NoError(t, err)
	_, _, err = refused.Organizations.List(ctx)
	require.Error(t, err)

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP ece_exporter_api_request_failures_total HTTP requests to the Elastic Cloud API that failed, by spec operation and bounded reason; a 2xx answer whose body could not be read or decoded counts here too.
# TYPE ece_exporter_api_request_failures_total counter
ece_exporter_api_request_failures_total{account="prod",operation="get-api-keys",reason="decode"} 1
ece_exporter_api_request_failures_total{account="prod",operation="get-current-account",reason="server"} 1
ece_exporter_api_request_failures_total{account="prod",operation="get-deployment-es-resource-remote-clusters",reason="decode"} 1
ece_exporter_api_request_failures_total{account="prod",operation="list-organizations",reason="network"} 1
# HELP ece_exporter_api_requests_total HTTP requests sent to the Elastic Cloud API, by spec operation and status code ("none" when no answer arrived).
# TYPE ece_exporter_api_requests_total counter
ece_exporter_api_requests_total{account="prod",code="200",operation="get-api-keys"} 1
ece_exporter_api_requests_total{account="prod",code="200",operation="get-deployment-es-resource-remote-clusters"} 1
ece_exporter_api_requests_total{account="prod",code="200",operation="list-deployments"} 1
ece_exporter_api_requests_total{account="prod",code="503",operation="get-current-account"} 1
ece_exporter_api_requests_total{account="prod",code="none",operation="list-organizations"} 1
`), "ece_exporter_api_request_failures_total", "ece_exporter_api_requests_total"))
}

// TestDescriptorsAreValidAndUnique: every descriptor a collector creates
// is valid (an invalid one would drop its series at every poll) and its
// name belongs to that collector alone; none clashes with a self-metric.
func TestDescriptorsAreValidAndUnique(t *testing.T) {
	t.Parallel()
	self, err := newSelfMetrics(nil)
	require.NoError(t, err)
	owner := map[string]string{}
	for n := range self.defs {
		owner[n] = "self-metrics"
	}
	for _, name := range Names() {
		descs := registry[name].describe()
		assert.NotEmpty(t, descs, name)
		for _, d := range descs {
			assert.NoError(t, d.err, "%s: %s", name, d.name)
			if prev, dup := owner[d.name]; dup && prev != name {
				t.Errorf("metric %s declared by %s and %s", d.name, prev, name)
			}
			owner[d.name] = name
			assert.Equal(t, "account", d.labels[0], d.name)
		}
	}
}

// TestEmptyDryRunAnswerIsNoFailure: a dry run accepted with 202 and an
// empty or whitespace-only body ("no version") is a success:
// ece_exporter_api_requests_total counts it, the failures counter does not,
// while a truncated body still counts as a decode failure.
func TestEmptyDryRunAnswerIsNoFailure(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{"kibana": "", "apm": "\n", "integrations_server": " \r\n", "enterprise_search": `{"resource_id"`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(bodies[strings.Split(r.URL.Path, "/")[5]]))
	}))
	t.Cleanup(srv.Close)
	reg := prometheus.NewPedanticRegistry()
	self, err := newSelfMetrics(reg)
	require.NoError(t, err)
	c, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithMaxRetries(0), eceapi.WithObserver(self.observer("prod", &rateState{})))
	require.NoError(t, err)
	for _, kind := range []string{"kibana", "apm", "integrations_server"} {
		v, _, err := c.Deployments.UpgradeDryRun(t.Context(), "d", kind, "main-"+kind)
		require.NoError(t, err, kind)
		require.False(t, v.VersionReported(), kind)
	}
	_, _, err = c.Deployments.UpgradeDryRun(t.Context(), "d", "enterprise_search", "main-enterprise_search")
	require.Error(t, err)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP ece_exporter_api_request_failures_total HTTP requests to the Elastic Cloud API that failed, by spec operation and bounded reason; a 2xx answer whose body could not be read or decoded counts here too.
# TYPE ece_exporter_api_request_failures_total counter
ece_exporter_api_request_failures_total{account="prod",operation="upgrade-deployment-stateless-resource",reason="decode"} 1
# HELP ece_exporter_api_requests_total HTTP requests sent to the Elastic Cloud API, by spec operation and status code ("none" when no answer arrived).
# TYPE ece_exporter_api_requests_total counter
ece_exporter_api_requests_total{account="prod",code="202",operation="upgrade-deployment-stateless-resource"} 4
`), "ece_exporter_api_request_failures_total", "ece_exporter_api_requests_total"))
}
