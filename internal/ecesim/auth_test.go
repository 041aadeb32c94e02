package ecesim

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthenticationPerMode(t *testing.T) {
	t.Parallel()
	_, ess := start(t, Options{Seed: 21, APIKey: "k-ess"})
	_, ece := start(t, Options{Mode: ModeECE, Seed: 21, APIKey: "k-ece", Username: "root", Password: "pw"})
	for _, c := range []struct {
		name, base, auth string
		status           int
	}{
		{"ESS api key", ess, "ApiKey k-ess", 200},
		{"ESS no credentials", ess, "", 401},
		{"ESS wrong key", ess, "ApiKey nope", 401},
		{"ESS key without scheme", ess, "k-ess", 401},
		{"ESS bearer prefix", ess, "Bearer k-ess", 401},
		{"ESS colon form", ess, "ApiKey: k-ess", 401},
		{"ESS basic is refused", ess, basicAuth("root", "pw"), 401},
		{"ECE api key", ece, "ApiKey k-ece", 200},
		{"ECE basic", ece, basicAuth("root", "pw"), 200},
		{"ECE basic wrong password", ece, basicAuth("root", "nope"), 401},
		{"ECE basic garbage", ece, "Basic !!!", 401},
		{"ECE unknown bearer", ece, "Bearer nope", 401},
		{"ECE no credentials", ece, "", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range []string{"deployments", "account", "users/auth/keys"} {
				a := do(t, "GET", c.base+p, c.auth, nil)
				require.Equal(t, c.status, a.status, p)
				if c.status == 401 {
					assert.Equal(t, "root.unauthorized", a.errCode(t), p)
					assert.NotEmpty(t, path(t, a.body, "errors", 0, "message"))
					if p == "deployments" {
						assert.Empty(t, a.header.Get("x-cloud-error-codes"), "the spec declares no code header on this 401")
					} else {
						assert.Equal(t, "root.unauthorized", a.header.Get("x-cloud-error-codes"), p)
					}
				}
			}
		})
	}
}

// TestModeRejections: each mode answers the other mode's operations as the
// real one does, counted under the operation.
func TestModeRejections(t *testing.T) {
	t.Parallel()
	ess, essBase := start(t, Options{Seed: 22})
	ece, eceBase := start(t, Options{Mode: ModeECE, Seed: 22})
	for _, c := range []struct {
		name   string
		s      *Server
		method string
		url    string
		auth   string
		op     string
		status int
		code   string
	}{
		{"ECE organizations", ece, "GET", eceBase + "organizations", apiKeyAuth, opOrganizations, 404, "root.resource_not_found"},
		{"ECE overview", ece, "GET", eceBase + "billing/costs/1", apiKeyAuth, opOverview, 404, "root.resource_not_found"},
		{"ECE deployments costs", ece, "GET", eceBase + "billing/costs/1/deployments", apiKeyAuth, opCostsDeployments, 404, "root.resource_not_found"},
		{"ECE items", ece, "GET", eceBase + "billing/costs/1/items", apiKeyAuth, opItems, 404, "root.resource_not_found"},
		{"ECE items by deployment", ece, "GET", eceBase + "billing/costs/1/deployments/x/items", apiKeyAuth, opItemsByDeployment, 404, "root.resource_not_found"},
		{"ECE charts", ece, "GET", eceBase + "billing/costs/1/charts", apiKeyAuth, opCharts, 404, "root.resource_not_found"},
		{"ECE charts by deployment", ece, "GET", eceBase + "billing/costs/1/deployments/x/charts", apiKeyAuth, opChartsByDeployment, 404, "root.resource_not_found"},
		{"ECE billing needs credentials first", ece, "GET", eceBase + "billing/costs/1", "", opOverview, 401, "root.unauthorized"},
		{"ESS login", ess, "POST", essBase + "users/auth/_login", "", opLogin, 404, "root.resource_not_found"},
		{"ESS refresh", ess, "POST", essBase + "users/auth/_refresh", apiKeyAuth, opRefresh, 404, "root.resource_not_found"},
		{"ESS _all is an unknown key id", ess, "GET", essBase + "users/auth/keys/_all", apiKeyAuth, opAPIKey, 404, "api_keys.key_not_found"},
		{"ESS user keys", ess, "GET", essBase + "users/sim-user-1/auth/keys", apiKeyAuth, opUserAPIKeys, 404, "root.resource_not_found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.s.Requests(c.op)
			var body []byte
			if c.op == opLogin {
				body = []byte(`{"username":"admin","password":"sim-password"}`)
			}
			a := do(t, c.method, c.url, c.auth, body)
			assert.Equal(t, c.status, a.status)
			assert.Equal(t, c.code, a.errCode(t))
			assert.Equal(t, c.code, a.header.Get("x-cloud-error-codes"))
			assert.Equal(t, before+1, c.s.Requests(c.op))
		})
	}
	assert.Zero(t, ess.Requests("unknown"))
	assert.Zero(t, ece.Requests("unknown"))
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestLoginRefreshAndExpiry(t *testing.T) {
	t.Parallel()
	clk := &clock{t: simNow}
	s, base := start(t, Options{Mode: ModeECE, Seed: 23, Username: "root", Password: "pw", TokenTTL: 10 * time.Minute, Now: clk.Now})
	sp := loadSpec(t, ModeECE)

	for _, body := range []string{`{"username":"root","password":"nope"}`, `{"username":"admin","password":"pw"}`, `not json`, `{}`} {
		a := do(t, "POST", base+"users/auth/_login", "", []byte(body))
		assert.Equal(t, 401, a.status, body)
		checkAnswer(t, sp, opLogin, a)
		assert.Equal(t, "root.unauthenticated", a.errCode(t))
	}

	a := do(t, "POST", base+"users/auth/_login", "", []byte(`{"username":"root","password":"pw"}`))
	require.Equal(t, 200, a.status)
	checkAnswer(t, sp, opLogin, a)
	tok := path(t, a.body, "token").(string)
	assert.Equal(t, simNow.Add(10*time.Minute).Format("2006-01-02T15:04:05.000Z"), path(t, a.body, "session_expiration_time"))
	assert.Equal(t, 200, do(t, "GET", base+"deployments", "Bearer "+tok, nil).status)

	clk.Add(5 * time.Minute)
	a = do(t, "POST", base+"users/auth/_refresh", "Bearer "+tok, nil)
	require.Equal(t, 200, a.status)
	checkAnswer(t, sp, opRefresh, a)
	tok2 := path(t, a.body, "token").(string)
	assert.NotEqual(t, tok, tok2)
	assert.Equal(t, simNow.Add(15*time.Minute).Format("2006-01-02T15:04:05.000Z"), path(t, a.body, "session_expiration_time"))

	clk.Add(6 * time.Minute) // the first token has expired, the refreshed one not
	a = do(t, "GET", base+"deployments", "Bearer "+tok, nil)
	assert.Equal(t, 401, a.status)
	assert.Equal(t, "root.unauthorized", a.errCode(t))
	a = do(t, "POST", base+"users/auth/_refresh", "Bearer "+tok, nil)
	assert.Equal(t, 401, a.status, "an expired token cannot be refreshed")
	checkAnswer(t, sp, opRefresh, a)
	assert.Equal(t, 200, do(t, "GET", base+"deployments", "Bearer "+tok2, nil).status)

	a = do(t, "POST", base+"users/auth/_refresh", apiKeyAuth, nil)
	assert.Equal(t, 401, a.status, "refresh needs a bearer token")
	assert.Equal(t, "root.unauthorized", a.errCode(t))

	clk.Add(10 * time.Minute)
	assert.Equal(t, 401, do(t, "GET", base+"deployments", "Bearer "+tok2, nil).status)
	assert.Equal(t, 3, s.Requests(opRefresh))
	assert.Equal(t, 5, s.Requests(opLogin))
}

func TestAPIKeyExpirationHeader(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 12, 8, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	_, ece := start(t, Options{Mode: ModeECE, Seed: 24, APIKeyExpiration: exp})
	_, ess := start(t, Options{Seed: 24, APIKeyExpiration: exp})
	_, eceNone := start(t, Options{Mode: ModeECE, Seed: 24})
	for _, c := range []struct {
		name, url, auth, want string
	}{
		{"ECE api key", ece + "deployments", apiKeyAuth, "2026-12-08T09:00:00Z"},
		{"ECE api key on an error answer", ece + "users/nobody/auth/keys", apiKeyAuth, "2026-12-08T09:00:00Z"},
		{"ECE basic", ece + "deployments", basicAuth("admin", "sim-password"), ""},
		{"ECE wrong key", ece + "deployments", "ApiKey nope", ""},
		{"ESS never", ess + "deployments", apiKeyAuth, ""},
		{"ECE unset", eceNone + "deployments", apiKeyAuth, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, "GET", c.url, c.auth, nil)
			assert.Equal(t, c.want, a.header.Get("x-elastic-api-key-expiration"))
		})
	}
}

func TestAPIKeyListings(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Mode: ModeECE, Seed: 25, APIKeys: 12, Username: "root"})
	ids := func(a answer) []string {
		var out []string
		for _, k := range list(t, a.body, "keys") {
			out = append(out, path(t, k, "id").(string))
		}
		return out
	}
	own := get(t, base+"users/auth/keys")
	all := get(t, base+"users/auth/keys/_all")
	mine := get(t, base+"users/root/auth/keys")
	other := get(t, base+"users/sim-user-2/auth/keys")
	assert.Len(t, ids(all), 10, "12 keys less the two expired ones (sim-key-0005, sim-key-0011), which no listing shows")
	assert.NotContains(t, ids(all), "sim-key-0005")
	assert.NotContains(t, ids(all), "sim-key-0011")
	assert.Len(t, ids(own), 4, "the configured user's keys: every third")
	assert.Equal(t, ids(own), ids(mine))
	assert.Len(t, ids(other), 4)
	for _, k := range list(t, other.body, "keys") {
		assert.Equal(t, "sim-user-2", path(t, k, "user_id"))
	}
	a := get(t, base+"users/auth/keys/sim-key-0001")
	assert.Equal(t, 200, a.status)
	assert.Equal(t, "sim-key-0001", path(t, a.body, "id"))
	assert.Equal(t, 404, get(t, base+"users/auth/keys/sim-key-0002").status, "another user's key")

	_, denied := start(t, Options{Mode: ModeECE, Seed: 25, NotPlatformAdmin: true})
	a = get(t, denied+"users/auth/keys/_all")
	assert.Equal(t, 403, a.status)
	assert.Equal(t, "root.unauthorized.rbac", a.errCode(t))
	assert.Equal(t, "root.unauthorized.rbac", a.header.Get("x-cloud-error-codes"))
	assert.Equal(t, 200, get(t, denied+"users/auth/keys").status, "own keys stay readable")

	_, leaky := start(t, Options{Seed: 25, LeakKeyField: true})
	for _, k := range list(t, get(t, leaky+"users/auth/keys").body, "keys") {
		assert.Equal(t, LeakedKeyValue, path(t, k, "key"))
	}
}

// TestAPIKeyMix: the default six keys expire within 7 days, within 28
// days, later, never, already, and later again.
func TestAPIKeyMix(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Seed: 26})
	keys := list(t, get(t, base+"users/auth/keys").body, "keys")
	require.Len(t, keys, 5, "the expired sixth is not listed")
	buckets := map[string]int{}
	for _, k := range keys {
		created, err := time.Parse(time.RFC3339, path(t, k, "creation_date").(string))
		require.NoError(t, err)
		assert.True(t, created.Before(simNow))
		assert.Equal(t, "sim-user-1", path(t, k, "user_id"))
		v := path(t, k, "expiration_date")
		if v == nil {
			buckets["never"]++
			continue
		}
		exp, err := time.Parse(time.RFC3339, v.(string))
		require.NoError(t, err)
		switch left := exp.Sub(simNow); {
		case left < 0:
			buckets["expired"]++
		case left <= 7*24*time.Hour:
			buckets["7d"]++
		case left <= 28*24*time.Hour:
			buckets["28d"]++
		default:
			buckets["later"]++
		}
	}
	assert.Equal(t, map[string]int{"never": 1, "7d": 1, "28d": 1, "later": 2}, buckets, "expired keys are removed from the listing")
	assert.Equal(t, 404, get(t, base+"users/auth/keys/sim-key-0005").status, "nor can an expired key be read")
}
