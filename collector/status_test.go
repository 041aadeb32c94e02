package collector

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// TestManagerStatus: every account × registered collector appears, with
// its state: ok with its series and the calls of its last poll, failing
// with its (redacted) error, not polled with why (disabled, another
// platform's collector).
func TestManagerStatus(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 3, Organizations: 1, DeploymentsPerOrg: 4, Now: testNow}))
	sim.SetFault("get-api-keys", ecesim.Fault{Status: http.StatusInternalServerError,
		Body: []byte(`{"errors":[{"code":"root.unexpected_error","message":"upstream saw key sim-api-key"}]}`)})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	m, _ := startManager(t, essConfig(srv.URL), deploymentsName, apiKeysName, stackVersionsName, platformLicenseName)

	st := m.Status()
	require.Len(t, st.Accounts, 1)
	acc := st.Accounts[0]
	assert.Equal(t, "prod", acc.Name)
	assert.Equal(t, "ess", acc.Platform)
	assert.True(t, acc.RateLimit.Present, "the simulator sends x-ratelimit-* headers")
	byName := map[string]CollectorStatus{}
	for _, c := range acc.Collectors {
		byName[c.Name] = c
	}
	assert.Len(t, byName, len(Names()), "every registered collector is listed")

	dep := byName[deploymentsName]
	assert.Equal(t, StateOK, dep.State)
	assert.Equal(t, int64(1), dep.Calls, "one list-deployments call")
	assert.Positive(t, dep.Series)
	assert.False(t, dep.LastSuccess.IsZero())
	assert.Empty(t, dep.LastError)
	assert.Positive(t, dep.Interval)
	assert.False(t, dep.NextPoll.IsZero())
	assert.Positive(t, dep.EffectiveInterval)

	keys := byName[apiKeysName]
	assert.Equal(t, StateFailing, keys.State)
	assert.Contains(t, keys.LastError, "upstream saw key")
	assert.NotContains(t, keys.LastError, "sim-api-key")
	assert.False(t, keys.LastErrorAt.IsZero())
	assert.Positive(t, keys.Calls, "the failed attempts are counted too")
	assert.Zero(t, keys.Series)

	assert.Equal(t, StateNotPolled, byName[platformLicenseName].State)
	assert.NotEmpty(t, byName[platformLicenseName].Reason, "why an ECE-only collector is not polled on ESS")
	assert.Equal(t, StateNotPolled, byName[billingName].State)
	assert.Equal(t, "disabled: turn it on with --collector.billing", byName[billingName].Reason)
}

// TestManagerStatusRedactsAndBounds: an error text that carries the
// account's secret (any collector's own error, not only the client's
// API errors, which it redacts itself) is redacted, and a long one cut.
func TestManagerStatusRedactsAndBounds(t *testing.T) {
	t.Parallel()
	sim := trackSim(ecesim.New(ecesim.Options{Seed: 3, Organizations: 1, DeploymentsPerOrg: 2, Now: testNow}))
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	m, _ := startManager(t, essConfig(srv.URL), deploymentsName, stackVersionsName)
	m.mu.RLock()
	p := m.pollers[pollerKey{"prod", stackVersionsName}]
	m.mu.RUnlock()
	require.NotNil(t, p)
	p.rec.mu.Lock()
	p.rec.lastErr = "dial: token=sim-api-key b64=" + "c2ltLWFwaS1rZXk=" + " " + strings.Repeat("é", 1000)
	p.rec.mu.Unlock()

	for _, c := range m.Status().Accounts[0].Collectors {
		if c.Name != stackVersionsName {
			continue
		}
		assert.NotContains(t, c.LastError, "sim-api-key")
		assert.NotContains(t, c.LastError, "c2ltLWFwaS1rZXk")
		assert.True(t, strings.HasPrefix(c.LastError, "dial: token=<secret> b64=<secret> é"), c.LastError[:40])
		assert.LessOrEqual(t, len(c.LastError), maxStatusError+len(" …(cut)"))
		assert.True(t, strings.HasSuffix(c.LastError, "é …(cut)"), "cut at a rune boundary")
		return
	}
	t.Fatal("stack_versions missing")
}
