package ecesim

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call is one request of an operation.
type call struct {
	name, op, method, path, auth string
	body                         []byte
	status                       int
	code                         string // error code expected ("" for success)
}

// essCalls covers every ESS operation with its success and documented
// errors.
func essCalls(s *Server) []call {
	org := s.OrganizationIDs()[0]
	dep := s.Deployments()[0].ID
	win := "?from=2026-11-01&to=2026-11-18T12:00:00Z"
	b := "billing/costs/" + org
	unknown := "ffffffffffffffffffffffffffffffff"
	return []call{
		{"list", opListDeployments, "GET", "deployments", apiKeyAuth, nil, 200, ""},
		{"list 401", opListDeployments, "GET", "deployments", "ApiKey wrong", nil, 401, "root.unauthorized"},
		{"account", opAccount, "GET", "account", apiKeyAuth, nil, 200, ""},
		{"organizations", opOrganizations, "GET", "organizations", apiKeyAuth, nil, 200, ""},
		{"overview", opOverview, "GET", b + win, apiKeyAuth, nil, 200, ""},
		{"overview defaults", opOverview, "GET", b, apiKeyAuth, nil, 200, ""},
		{"overview 404", opOverview, "GET", "billing/costs/999" + win, apiKeyAuth, nil, 404, "organization.not_found"},
		{"overview 400", opOverview, "GET", b + "?from=2020-12-31", apiKeyAuth, nil, 400, "costs.invalid_date_range"},
		{"deployments costs", opCostsDeployments, "GET", b + "/deployments" + win, apiKeyAuth, nil, 200, ""},
		{"deployments costs 400", opCostsDeployments, "GET", b + "/deployments?from=2026-11-10&to=2026-11-01", apiKeyAuth, nil, 400, "costs.invalid_date_range"},
		{"deployments costs 404", opCostsDeployments, "GET", "billing/costs/999/deployments", apiKeyAuth, nil, 404, "organization.not_found"},
		{"items", opItems, "GET", b + "/items" + win, apiKeyAuth, nil, 200, ""},
		{"items 400", opItems, "GET", b + "/items?from=yesterday", apiKeyAuth, nil, 400, "costs.invalid_date_range"},
		{"items by deployment", opItemsByDeployment, "GET", b + "/deployments/" + dep + "/items" + win, apiKeyAuth, nil, 200, ""},
		{"items by deployment 404", opItemsByDeployment, "GET", b + "/deployments/" + unknown + "/items", apiKeyAuth, nil, 404, "billing_service.es_cluster_id_not_found"},
		{"items by deployment unknown org", opItemsByDeployment, "GET", "billing/costs/999/deployments/" + dep + "/items", apiKeyAuth, nil, 404, "organization.not_found"},
		{"charts", opCharts, "GET", b + "/charts" + win + "&bucketing_strategy=daily", apiKeyAuth, nil, 200, ""},
		{"charts monthly", opCharts, "GET", b + "/charts?from=2026-01-01&bucketing_strategy=monthly", apiKeyAuth, nil, 200, ""},
		{"charts 404", opCharts, "GET", "billing/costs/999/charts", apiKeyAuth, nil, 404, "organization.not_found"},
		{"charts 400", opCharts, "GET", b + "/charts?to=2020-01-01", apiKeyAuth, nil, 400, "costs.invalid_date_range"},
		{"charts by deployment", opChartsByDeployment, "GET", b + "/deployments/" + dep + "/charts" + win, apiKeyAuth, nil, 200, ""},
		{"charts by deployment 404", opChartsByDeployment, "GET", "billing/costs/999/deployments/" + dep + "/charts", apiKeyAuth, nil, 404, "organization.not_found"},
		{"remote clusters", opRemoteClusters, "GET", "deployments/" + dep + "/elasticsearch/main-elasticsearch/remote-clusters", apiKeyAuth, nil, 200, ""},
		{"remote clusters _main", opRemoteClusters, "GET", "deployments/" + dep + "/elasticsearch/_main/remote-clusters", apiKeyAuth, nil, 200, ""},
		{"remote clusters 404 deployment", opRemoteClusters, "GET", "deployments/" + unknown + "/elasticsearch/main-elasticsearch/remote-clusters", apiKeyAuth, nil, 404, "deployments.deployment_not_found"},
		{"remote clusters 404 ref", opRemoteClusters, "GET", "deployments/" + dep + "/elasticsearch/nope/remote-clusters", apiKeyAuth, nil, 404, "deployments.deployment_resource_not_found"},
		{"api keys", opAPIKeys, "GET", "users/auth/keys", apiKeyAuth, nil, 200, ""},
		{"api key", opAPIKey, "GET", "users/auth/keys/sim-key-0001", apiKeyAuth, nil, 200, ""},
		{"api key 404", opAPIKey, "GET", "users/auth/keys/nope", apiKeyAuth, nil, 404, "api_keys.key_not_found"},
		{"upgrade dry run", opUpgrade, "POST", "deployments/" + dep + "/kibana/main-kibana/_upgrade?validate_only=true", apiKeyAuth, nil, 202, ""},
		{"upgrade 404 deployment", opUpgrade, "POST", "deployments/" + unknown + "/kibana/main-kibana/_upgrade?validate_only=true", apiKeyAuth, nil, 404, "deployments.deployment_not_found"},
		{"upgrade 404 ref", opUpgrade, "POST", "deployments/" + dep + "/kibana/other-kibana/_upgrade?validate_only=true", apiKeyAuth, nil, 404, "deployments.deployment_resource_not_found"},
	}
}

// eceCalls covers every ECE operation with its success and documented
// errors.
func eceCalls(s *Server) []call {
	dep := s.Deployments()[0].ID
	return []call{
		{"list", opListDeployments, "GET", "deployments", apiKeyAuth, nil, 200, ""},
		{"list basic", opListDeployments, "GET", "deployments", basicAuth("admin", "sim-password"), nil, 200, ""},
		{"list 401", opListDeployments, "GET", "deployments", "", nil, 401, "root.unauthorized"},
		{"account", opAccount, "GET", "account", apiKeyAuth, nil, 200, ""},
		{"remote clusters", opRemoteClusters, "GET", "deployments/" + dep + "/elasticsearch/elasticsearch/remote-clusters", apiKeyAuth, nil, 200, ""},
		{"remote clusters 404 ESS ref_id", opRemoteClusters, "GET", "deployments/" + dep + "/elasticsearch/main-elasticsearch/remote-clusters", apiKeyAuth, nil, 404, "deployments.deployment_resource_not_found"},
		{"api keys", opAPIKeys, "GET", "users/auth/keys", apiKeyAuth, nil, 200, ""},
		{"all api keys", opUsersAPIKeys, "GET", "users/auth/keys/_all", apiKeyAuth, nil, 200, ""},
		{"user api keys", opUserAPIKeys, "GET", "users/sim-user-1/auth/keys", apiKeyAuth, nil, 200, ""},
		{"user api keys 404", opUserAPIKeys, "GET", "users/nobody/auth/keys", apiKeyAuth, nil, 404, "api_keys.user_not_found"},
		{"api key 404", opAPIKey, "GET", "users/auth/keys/nope", apiKeyAuth, nil, 404, "api_keys.key_not_found"},
		{"login", opLogin, "POST", "users/auth/_login", "", []byte(`{"username":"admin","password":"sim-password"}`), 200, ""},
		{"login 401", opLogin, "POST", "users/auth/_login", "", []byte(`{"username":"admin","password":"nope"}`), 401, "root.unauthenticated"},
		{"refresh 401", opRefresh, "POST", "users/auth/_refresh", "Bearer expired-or-unknown", nil, 401, "root.unauthorized"},
		{"upgrade dry run", opUpgrade, "POST", "deployments/" + dep + "/kibana/_main/_upgrade?validate_only=true", apiKeyAuth, nil, 202, ""},
	}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64Std(user+":"+pass)
}

// TestOperationsMatchTheSpec sends every operation's success and error
// cases and checks each answer against the official spec of its mode.
func TestOperationsMatchTheSpec(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeESS, ModeECE} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			sp := loadSpec(t, mode)
			s, base := start(t, Options{Mode: mode, Seed: 11, Organizations: 2, DeploymentsPerOrg: 4, APIKeys: 6, LeakKeyField: true})
			var calls []call
			if mode == ModeECE {
				calls = eceCalls(s)
			} else {
				calls = essCalls(s)
			}
			seen := map[string]bool{}
			for _, c := range calls {
				t.Run(c.name, func(t *testing.T) {
					a := do(t, c.method, base+c.path, c.auth, c.body)
					require.Equalf(t, c.status, a.status, "%s", a.raw)
					checkAnswer(t, sp, c.op, a)
					if c.code != "" {
						assert.Equal(t, c.code, a.errCode(t))
					}
					assert.Equal(t, 1, s.Requests(c.op)-countBefore(calls, c), "counted under %s", c.op)
				})
				seen[c.op] = true
			}
			want := []string{opListDeployments, opAccount, opRemoteClusters, opAPIKeys, opUpgrade}
			if mode == ModeESS {
				want = append(want, opOrganizations, opOverview, opCostsDeployments, opItems, opItemsByDeployment, opCharts, opChartsByDeployment)
			} else {
				want = append(want, opUsersAPIKeys, opUserAPIKeys, opLogin, opRefresh)
			}
			for _, op := range want {
				assert.True(t, seen[op], "operation %s is covered", op)
			}
		})
	}
}

// countBefore is how many calls of c's operation come before c.
func countBefore(calls []call, c call) int {
	n := 0
	for _, x := range calls {
		if x.name == c.name {
			return n
		}
		if x.op == c.op {
			n++
		}
	}
	return n
}

// TestSuccessShapes asserts the fields the exporter relies on, beyond the
// schema check: values, formats and cross references.
func TestSuccessShapes(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 12, DeploymentsPerOrg: 8})
	org := s.OrganizationIDs()[0]

	t.Run("deployments", func(t *testing.T) {
		t.Parallel()
		deps := list(t, get(t, base+"deployments").body, "deployments")
		require.Len(t, deps, 8)
		kinds := map[string]int{}
		hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
		for i, d := range deps {
			assert.Regexp(t, hex32, path(t, d, "id"))
			assert.Regexp(t, `^sim-[a-z]+-[a-z]+-\d{3}$`, path(t, d, "name"))
			// ESS's own names, except every fifth deployment's, which
			// its user named.
			ref := func(kind string) string { return "main-" + kind }
			if i%5 == 4 {
				ref = func(kind string) string { return nameWords[i%len(nameWords)] + "-" + kind }
			}
			res := list(t, d, "resources")
			assert.Equal(t, "elasticsearch", path(t, res, 0, "kind"))
			assert.Equal(t, ref("elasticsearch"), path(t, res, 0, "ref_id"))
			assert.NotEmpty(t, path(t, res, 0, "cloud_id"))
			assert.Nil(t, path(t, res, 0, "elasticsearch_cluster_ref_id"))
			assert.Equal(t, "kibana", path(t, res, 1, "kind"))
			assert.Equal(t, ref("kibana"), path(t, res, 1, "ref_id"))
			for _, r := range res {
				kinds[path(t, r, "kind").(string)]++
				assert.Regexp(t, hex32, path(t, r, "id"))
				assert.Regexp(t, `^(gcp|aws|azure)-`, path(t, r, "region"))
				assert.Equal(t, ref(path(t, r, "kind").(string)), path(t, r, "ref_id"))
				if path(t, r, "kind") != "elasticsearch" {
					assert.Equal(t, ref("elasticsearch"), path(t, r, "elasticsearch_cluster_ref_id"))
				}
			}
		}
		for _, k := range []string{"apm", "integrations_server", "enterprise_search", "appsearch"} {
			assert.Positive(t, kinds[k], "some deployments have %s", k)
		}
		assert.Equal(t, 8, kinds["kibana"])
	})
	t.Run("account and organizations", func(t *testing.T) {
		t.Parallel()
		acc := get(t, base+"account").obj(t)
		assert.Equal(t, org, acc["id"])
		assert.Equal(t, true, path(t, acc, "trust", "trust_all"))
		orgs := list(t, get(t, base+"organizations").body, "organizations")
		require.Len(t, orgs, 1)
		assert.Regexp(t, `^\d{10}$`, path(t, orgs, 0, "id"))
		assert.Equal(t, "sim-org-01", path(t, orgs, 0, "name"))
	})
	t.Run("api keys", func(t *testing.T) {
		t.Parallel()
		for _, k := range list(t, get(t, base+"users/auth/keys").body, "keys") {
			assert.Equal(t, org, path(t, k, "organization_id"))
			assert.Nil(t, path(t, k, "key"), "the key itself is never listed")
		}
	})
	t.Run("ECE regions and no organizations", func(t *testing.T) {
		t.Parallel()
		ece, eceBase := start(t, Options{Mode: ModeECE, Seed: 12, DeploymentsPerOrg: 3})
		assert.Nil(t, ece.OrganizationIDs())
		for _, d := range ece.Deployments() {
			assert.Empty(t, d.OrganizationID)
		}
		for _, d := range list(t, get(t, eceBase+"deployments").body, "deployments") {
			for _, r := range list(t, d, "resources") {
				assert.Equal(t, "ece-region", path(t, r, "region"))
			}
		}
		for _, k := range list(t, get(t, eceBase+"users/auth/keys/_all").body, "keys") {
			assert.Nil(t, path(t, k, "organization_id"), "ECE keys have no organization")
		}
	})
}

// TestDeploymentsAccessors checks Deployments, OrganizationIDs and
// DeleteDeployment against what the API answers.
func TestDeploymentsAccessors(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 13, Organizations: 3, DeploymentsPerOrg: 2})
	orgs := s.OrganizationIDs()
	require.Len(t, orgs, 3)
	deps := s.Deployments()
	require.Len(t, deps, 6)
	listed := list(t, get(t, base+"deployments").body, "deployments")
	for i, d := range deps {
		assert.Equal(t, d.ID, path(t, listed, i, "id"))
		assert.Equal(t, d.Name, path(t, listed, i, "name"))
		assert.Equal(t, orgs[i/2], d.OrganizationID)
		for j, r := range d.Resources {
			assert.Equal(t, r.ID, path(t, listed, i, "resources", j, "id"))
			assert.Equal(t, r.Kind, path(t, listed, i, "resources", j, "kind"))
			assert.Equal(t, r.RefID, path(t, listed, i, "resources", j, "ref_id"))
		}
	}

	gone := deps[1]
	require.True(t, s.DeleteDeployment(gone.ID))
	assert.False(t, s.DeleteDeployment(gone.ID), "already deleted")
	assert.False(t, s.DeleteDeployment("nope"))
	assert.Len(t, s.Deployments(), 5)
	listed = list(t, get(t, base+"deployments").body, "deployments")
	assert.Len(t, listed, 5)
	assert.NotContains(t, fmt.Sprint(listed), gone.ID)
	a := get(t, base+"deployments/"+gone.ID+"/elasticsearch/main-elasticsearch/remote-clusters")
	assert.Equal(t, 404, a.status)
	assert.Equal(t, "deployments.deployment_not_found", a.errCode(t))
	a = do(t, "POST", base+"deployments/"+gone.ID+"/kibana/main-kibana/_upgrade?validate_only=true", apiKeyAuth, nil)
	assert.Equal(t, "deployments.deployment_not_found", a.errCode(t))
	// Billing, as Elastic's, keeps billing it for the time it ran.
	costs := get(t, base+"billing/costs/"+gone.OrganizationID+"/deployments")
	assert.Len(t, list(t, costs.body, "deployments"), 2, "billing keeps the deleted deployment")
	a = get(t, base+"billing/costs/"+gone.OrganizationID+"/deployments/"+gone.ID+"/items")
	assert.Equal(t, 200, a.status)
	// A window after its deletion no longer knows it.
	next := "?from=2026-12-01T00:00:00Z&to=2026-12-31T23:59:59Z"
	costs = get(t, base+"billing/costs/"+gone.OrganizationID+"/deployments"+next)
	assert.Len(t, list(t, costs.body, "deployments"), 1)
	a = get(t, base+"billing/costs/"+gone.OrganizationID+"/deployments/"+gone.ID+"/items"+next)
	assert.Equal(t, 404, a.status)
	assert.Equal(t, "billing_service.es_cluster_id_not_found", a.errCode(t))
}

func TestUnknownPathAndMethod(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 14})
	for _, c := range []struct {
		name, method, url string
		status            int
		code, allow       string
	}{
		{"unknown path", "GET", base + "nope", 404, "root.resource_not_found", ""},
		{"outside the base path", "GET", strings.TrimSuffix(base, "api/v1/") + "deployments", 404, "root.resource_not_found", ""},
		{"deployment detail is not simulated", "GET", base + "deployments/abc", 404, "root.resource_not_found", ""},
		{"wrong method", "DELETE", base + "deployments", 405, "root.method_not_allowed", "GET"},
		{"GET on upgrade", "GET", base + "deployments/abc/kibana/main-kibana/_upgrade", 405, "root.method_not_allowed", "POST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := do(t, c.method, c.url, apiKeyAuth, nil)
			assert.Equal(t, c.status, a.status)
			assert.Equal(t, c.code, a.errCode(t))
			assert.Equal(t, c.code, a.header.Get("x-cloud-error-codes"))
			assert.Equal(t, "application/json", a.header.Get("Content-Type"))
			assert.Equal(t, c.allow, a.header.Get("Allow"))
			assert.NotEmpty(t, a.header.Get("x-ratelimit-limit"))
		})
	}
	assert.Equal(t, 5, s.Requests("unknown"))
	assert.Equal(t, 5, s.TotalRequests())
}

func TestUpgradeDryRunVersusReal(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 15, DeploymentsPerOrg: 12})
	// Find a resource with an upgrade available and one already current.
	var pending, current *resource
	var pendingDep, currentDep string
	for _, d := range s.w.deployments {
		for _, r := range d.resources {
			switch {
			case r.kind == "elasticsearch":
			case r.target != r.version && pending == nil:
				pending, pendingDep = r, d.id
			case r.target == r.version && current == nil:
				current, currentDep = r, d.id
			}
		}
	}
	require.NotNil(t, pending)
	require.NotNil(t, current)
	up := func(dep string, r *resource, query string) answer {
		return do(t, "POST", base+"deployments/"+dep+"/"+r.kind+"/"+r.refID+"/_upgrade"+query, apiKeyAuth, nil)
	}

	a := up(currentDep, current, "?validate_only=true")
	assert.Equal(t, 202, a.status)
	assert.Equal(t, map[string]any{"resource_id": current.id, "stack_version": currentVersion}, a.body, "already current")
	for range 2 {
		a = up(pendingDep, pending, "?validate_only=true")
		assert.Equal(t, 202, a.status)
		assert.Equal(t, map[string]any{"resource_id": pending.id, "stack_version": targetVersion}, a.body)
	}
	assert.Zero(t, s.RealUpgrades(), "validate_only=true never upgrades")

	for i, q := range []string{"", "?validate_only=false", "?validate_only=TRUE", "?validate_only=1", "?validate_only=true&validate_only=true"} {
		a = up(pendingDep, pending, q)
		assert.Equal(t, 202, a.status, q)
		assert.Equal(t, targetVersion, path(t, a.body, "stack_version"), q)
		assert.Equal(t, i+1, s.RealUpgrades(), "%q is a real upgrade", q)
	}
	s.mu.Lock()
	assert.Equal(t, targetVersion, pending.version, "the stored version changed")
	s.mu.Unlock()

	a = do(t, "POST", base+"deployments/"+pendingDep+"/elasticsearch/main-elasticsearch/_upgrade?validate_only=true", apiKeyAuth, nil)
	assert.Equal(t, 400, a.status, "elasticsearch is not a stateless kind")
	assert.Equal(t, "root.invalid_data", a.errCode(t))
	assert.Equal(t, []any{"stateless_resource_kind"}, path(t, a.body, "errors", 0, "fields"))
	assert.Equal(t, 5, s.RealUpgrades())
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	bodies := func(seed int64, mode Mode) []string {
		s, base := start(t, Options{Seed: seed, Mode: mode, DeploymentsPerOrg: 20, Organizations: 2})
		urls := []string{"deployments", "account", "users/auth/keys"}
		for _, d := range s.Deployments()[:3] {
			urls = append(urls, "deployments/"+d.ID+"/elasticsearch/"+d.Resources[0].RefID+"/remote-clusters")
		}
		if mode == ModeESS {
			org := s.OrganizationIDs()[1]
			urls = append(urls, "organizations", "billing/costs/"+org, "billing/costs/"+org+"/deployments",
				"billing/costs/"+org+"/items", "billing/costs/"+org+"/charts",
				"billing/costs/"+org+"/deployments/"+s.Deployments()[25].ID+"/items")
		}
		var out []string
		for _, u := range urls {
			a := get(t, base+u)
			require.Equal(t, 200, a.status, u)
			out = append(out, string(a.raw))
		}
		return out
	}
	for _, mode := range []Mode{ModeESS, ModeECE} {
		a, b, c := bodies(5, mode), bodies(5, mode), bodies(6, mode)
		assert.Equal(t, a, b, "same seed, same bodies")
		assert.NotEqual(t, a[0], c[0], "another seed, other deployments")
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := New(Options{Now: fixedNow})
	assert.Equal(t, ModeESS, s.opts.Mode)
	assert.Len(t, s.OrganizationIDs(), 1)
	assert.Len(t, s.Deployments(), 10)
	assert.Len(t, s.w.keys, 6)
	for _, d := range s.w.deployments {
		assert.Len(t, d.remotes, 2)
	}
	assert.Equal(t, 15*time.Minute, s.opts.TokenTTL)
	assert.Equal(t, time.Minute, s.opts.RateLimitInterval)

	none := New(Options{DeploymentsPerOrg: -1, APIKeys: -1, RemoteClustersPerES: -1})
	assert.Empty(t, none.Deployments())
	assert.Empty(t, none.w.keys)

	few := New(Options{DeploymentsPerOrg: 3, RemoteClustersPerES: 10})
	for _, d := range few.w.deployments {
		assert.Len(t, d.remotes, 2, "capped at the other deployments")
		for _, r := range d.remotes {
			assert.NotEqual(t, d.id, r.deploymentID, "never itself")
		}
	}
	one := New(Options{DeploymentsPerOrg: 1})
	assert.Empty(t, one.w.deployments[0].remotes)
}

func TestGenerationIsFastAt5000(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	s := New(Options{Seed: 1, DeploymentsPerOrg: 5000})
	elapsed := time.Since(begin)
	assert.Len(t, s.Deployments(), 5000)
	limit := time.Second
	if raceEnabled {
		limit = 20 * time.Second // the race detector, on a busy machine
	}
	assert.Less(t, elapsed, limit, "generation well under a second")
	ids := map[string]bool{}
	for _, d := range s.w.deployments {
		ids[d.id] = true
	}
	assert.Len(t, ids, 5000, "unique ids")
}
