package ecesim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The answers of the real API that the specs do not show, as Elastic's own
// recorded answers and clients do (issue 13).

// TestRefIDs: ESS names resources main-<kind>, ECE installs <kind>, and
// every fifth deployment has names its user chose; remote clusters answer
// for every Elasticsearch ref_id (and _main), and name the remote's own.
func TestRefIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode Mode
		own  string // the platform's ref_id of Elasticsearch
	}{{ModeESS, "main-elasticsearch"}, {ModeECE, "elasticsearch"}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			t.Parallel()
			s, base := start(t, Options{Mode: tc.mode, Seed: 71, DeploymentsPerOrg: 10})
			deps := s.Deployments()
			esRef := map[string]string{}
			refs := map[string]int{}
			for _, d := range deps {
				esRef[d.ID] = d.Resources[0].RefID
				refs[d.Resources[0].RefID]++
				for _, r := range d.Resources[1:] {
					assert.Equal(t, strings.TrimSuffix(d.Resources[0].RefID, "elasticsearch")+r.Kind, r.RefID, "one naming scheme per deployment")
				}
			}
			assert.Equal(t, 8, refs[tc.own], "the platform's names")
			assert.Equal(t, 1, refs["security-elasticsearch"], "a user's names")
			assert.Equal(t, 1, refs["traces-elasticsearch"])
			for _, d := range deps {
				for _, ref := range []string{d.Resources[0].RefID, "_main"} {
					a := get(t, base+"deployments/"+d.ID+"/elasticsearch/"+ref+"/remote-clusters")
					require.Equal(t, 200, a.status, "%s %s: %s", d.Name, ref, a.raw)
					res := list(t, a.body, "resources")
					require.Len(t, res, 2)
					for _, r := range res {
						assert.Equal(t, esRef[path(t, r, "deployment_id").(string)], path(t, r, "elasticsearch_ref_id"))
					}
				}
				a := get(t, base+"deployments/"+d.ID+"/elasticsearch/"+d.Resources[1].RefID+"/remote-clusters")
				assert.Equal(t, 404, a.status, "the Kibana's ref_id is no Elasticsearch")
				assert.Equal(t, "deployments.deployment_resource_not_found", a.errCode(t))
			}
			// The dry run finds stateless resources by their own ref_id.
			d := deps[4]
			a := do(t, "POST", base+"deployments/"+d.ID+"/kibana/"+d.Resources[1].RefID+"/_upgrade?validate_only=true", apiKeyAuth, nil)
			assert.Equal(t, 202, a.status, string(a.raw))
		})
	}
}

// TestResizedResourceItems: a resize during the month gives the same
// resource two items with different SKUs and fractional hours, and every
// cost still adds up.
func TestResizedResourceItems(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 72, DeploymentsPerOrg: 6})
	org := s.OrganizationIDs()[0]
	skuRE := regexp.MustCompile(`^(aws|gcp|azure)\.es\.datahot\.[a-z0-9]+_[a-z0-9-]+_\d+_[1-3]$`)
	resized := 0
	for i, d := range s.Deployments() {
		items := get(t, base+"billing/costs/"+org+"/deployments/"+d.ID+"/items")
		require.Equal(t, 200, items.status)
		var es []any
		for _, r := range list(t, items.body, "resources") {
			if path(t, r, "kind") == "elasticsearch" {
				es = append(es, r)
				assert.Regexp(t, skuRE, path(t, r, "sku"))
			}
		}
		if i%3 != 1 {
			require.Len(t, es, 1, d.Name)
			continue
		}
		resized++
		require.Len(t, es, 2, "%s: one item per SKU", d.Name)
		old, cur := es[0], es[1]
		assert.NotEqual(t, path(t, old, "sku"), path(t, cur, "sku"))
		assert.Equal(t, path(t, old, "period", "end"), path(t, cur, "period", "start"), "the second SKU starts where the first ends")
		hOld, hCur := num(t, old, "hours"), num(t, cur, "hours")
		fOld, fCur := hOld-math.Trunc(hOld), hCur-math.Trunc(hCur)
		assert.Positive(t, fOld, "the hour of the resize is split: %v", hOld)
		assert.Positive(t, fCur, "the hour of the resize is split: %v", hCur)
		assert.Equal(t, 1.0, fOld+fCur, "the two shares make the hour")
		assert.NotEqual(t, 0.5, fOld, "an arbitrary share, not a half")
		assert.NotEqual(t, math.Trunc(fOld*1000), fOld*1000, "not a round fraction: %v", hOld)
		assert.Equal(t, num(t, list(t, items.body, "resources")[len(es)], "hours"), hOld+hCur, "the same hours as the other resources")
		for _, it := range es {
			assert.InDelta(t, num(t, it, "hours")*num(t, it, "price_per_hour"), num(t, it, "price"), eps)
		}
		capacity := dimsByType(t, path(t, items.body, "costs"))["capacity"]
		assert.InDelta(t, capacity, sumValues(t, list(t, items.body, "resources"), "price"), eps, "no cost lost")
	}
	assert.Equal(t, 2, resized)
}

// TestFractionalQuantities: DTS quantities are fractional, the SKUs are
// <csp>.data-transfer-in and the like.
func TestFractionalQuantities(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 73, DeploymentsPerOrg: 2})
	org := s.OrganizationIDs()[0]
	items := get(t, base+"billing/costs/"+org+"/items")
	require.Equal(t, 200, items.status)
	skus := map[string]bool{}
	fractions := 0
	for _, x := range list(t, items.body, "data_transfer_and_storage") {
		q := num(t, x, "quantity", "value")
		if q != math.Trunc(q) {
			fractions++
		}
		sku := path(t, x, "sku").(string)
		skus[sku[strings.Index(sku, ".")+1:]] = true
		assert.InDelta(t, q*num(t, x, "rate", "value"), num(t, x, "cost"), eps)
	}
	assert.Positive(t, fractions)
	for _, sku := range []string{"data-transfer-in", "data-transfer-out", "data-transfer-internode", "snapshot-storage", "snapshot-api-requests"} {
		assert.True(t, skus[sku], sku)
	}
	// Decoded as a number with its fraction, not rounded.
	assert.Regexp(t, `"quantity":\{"value":\d+\.\d+,`, string(items.raw))
}

// TestDateOnlyWindow: a date-only from/to names whole days.
func TestDateOnlyWindow(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 74, DeploymentsPerOrg: 3})
	org := s.OrganizationIDs()[0]
	d := s.w.deployments[0]
	require.True(t, d.created.Before(time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)))
	day := d.costMicro(time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC))
	require.Equal(t, 24*(d.resourceMicro+d.dtsMicro), day)
	for _, q := range []string{
		"?from=2026-11-10&to=2026-11-10",
		"?from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z",
		"?from=2026-11-10T00:00:00.000Z&to=2026-11-10T23:59:59.999Z", // the last instant counts its hour
	} {
		a := get(t, base+"billing/costs/"+org+"/deployments"+q)
		require.Equal(t, 200, a.status, q)
		for _, dc := range list(t, a.body, "deployments") {
			if path(t, dc, "deployment_id") == d.id {
				assert.InDelta(t, ecu(day), num(t, dc, "costs", "total"), eps, q)
			}
		}
	}
	// The first instant of the next day does not count that day.
	a := get(t, base+"billing/costs/"+org+"?from=2026-11-10&to=2026-11-11T00:00:00Z")
	b := get(t, base+"billing/costs/"+org+"?from=2026-11-10&to=2026-11-10")
	assert.Equal(t, num(t, b.body, "costs", "total"), num(t, a.body, "costs", "total"))
}

// TestNullLists: the API sends null, not [], for empty lists.
func TestNullLists(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 75, DeploymentsPerOrg: -1})
	org := s.OrganizationIDs()[0]
	for _, tc := range []struct{ path, want string }{
		{"/deployments", `"deployments":null`},
		{"/items", `"resources":null`},
		{"/items", `"data_transfer_and_storage":null`},
		{"/charts?from=2026-11-03T00:00:00Z&to=2026-11-03T00:00:00Z", `"data":null`},
	} {
		a := get(t, base+"billing/costs/"+org+tc.path)
		require.Equal(t, 200, a.status)
		assert.Contains(t, string(a.raw), tc.want)
	}
	ov := get(t, base+"billing/costs/"+org)
	var types []string
	for _, d := range list(t, ov.body, "costs", "dimensions") {
		types = append(types, path(t, d, "type").(string))
	}
	assert.Equal(t, []string{"capacity", "data_in", "data_internode", "data_out", "storage_api", "storage_bytes"}, types, "all six, alphabetical, even with no cost")
}

// TestBillingForbidden: a key without the billing role gets a text/plain
// 403 without x-cloud-error-codes on every billing operation, and the
// other operations still work.
func TestBillingForbidden(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 76, DeploymentsPerOrg: 2, BillingForbidden: true})
	org := s.OrganizationIDs()[0]
	dep := s.Deployments()[0].ID
	for _, p := range []string{"", "/deployments", "/items", "/charts", "/deployments/" + dep + "/items", "/deployments/" + dep + "/charts"} {
		a := get(t, base+"billing/costs/"+org+p)
		assert.Equal(t, 403, a.status, p)
		assert.Equal(t, "text/plain; charset=utf-8", a.header.Get("Content-Type"))
		assert.Empty(t, a.header.Values("x-cloud-error-codes"))
		assert.Equal(t, "403: User does not have 'billing-costs:get:"+org+"' permissions", string(a.raw))
	}
	assert.Equal(t, 200, get(t, base+"deployments").status)
	assert.Equal(t, 200, get(t, base+"users/auth/keys").status)
}

// TestDateTimesWithMillis: date-times have milliseconds and Z; a balance
// line item ends at the last millisecond of its last day.
func TestDateTimesWithMillis(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 77, DeploymentsPerOrg: 1})
	org := s.OrganizationIDs()[0]
	millis := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	ov := get(t, base+"billing/costs/"+org)
	li := list(t, ov.body, "balance", "line_items")[0]
	assert.Equal(t, "2026-01-01T00:00:00.000Z", path(t, li, "start"))
	assert.Equal(t, "2026-12-31T23:59:59.999Z", path(t, li, "end"))
	for _, k := range list(t, get(t, base+"users/auth/keys").body, "keys") {
		assert.Regexp(t, millis, path(t, k, "creation_date"))
		if e := path(t, k, "expiration_date"); e != nil {
			assert.Regexp(t, millis, e)
		}
	}
	items := get(t, base+"billing/costs/"+org+"/items")
	assert.Regexp(t, millis, path(t, items.body, "resources", 0, "period", "start"))
}

// TestECEKeyOwners: ECE cannot create keys for its built-in admin and
// readonly users: every key belongs to another user, and admin's listing
// is empty, not unknown. The API key, as every ECE key, is owned by the
// (non-built-in) user who created it, so its own listing has that user's
// keys, while the default admin login (basic auth) owns none.
func TestECEKeyOwners(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Mode: ModeECE, Seed: 78, APIKeys: 9})
	all := list(t, get(t, base+"users/auth/keys/_all").body, "keys")
	require.NotEmpty(t, all)
	owners := map[string]bool{}
	never := 0
	for _, k := range all {
		owners[path(t, k, "user_id").(string)] = true
		if path(t, k, "expiration_date") == nil {
			never++
		}
	}
	assert.Equal(t, map[string]bool{"sim-user-1": true, "sim-user-2": true}, owners)
	assert.Positive(t, never, "keys that never expire (ECE 3.0 and older)")
	own := list(t, get(t, base+"users/auth/keys").body, "keys")
	require.NotEmpty(t, own, "the API key's owner has keys")
	for _, k := range own {
		assert.Equal(t, "sim-user-1", path(t, k, "user_id"), "the API key's owner by default")
	}
	asAdmin := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:sim-password"))
	a := do(t, "GET", base+"users/auth/keys", asAdmin, nil)
	require.Equal(t, 200, a.status)
	assert.Empty(t, list(t, a.body, "keys"), "admin owns no key")
	id := path(t, own[0], "id").(string)
	assert.Equal(t, 200, get(t, base+"users/auth/keys/"+id).status, "the owner reads its key")
	assert.Equal(t, 404, do(t, "GET", base+"users/auth/keys/"+id, asAdmin, nil).status, "admin does not own it")

	// A configured owner.
	_, base2 := start(t, Options{Mode: ModeECE, Seed: 78, APIKeys: 9, APIKeyUser: "ops-bot"})
	own = list(t, get(t, base2+"users/auth/keys").body, "keys")
	require.NotEmpty(t, own)
	for _, k := range own {
		assert.Equal(t, "ops-bot", path(t, k, "user_id"))
	}
	assert.Equal(t, 200, get(t, base2+"users/ops-bot/auth/keys").status)
	for _, u := range []string{"admin", "readonly"} {
		a := get(t, base+"users/"+u+"/auth/keys")
		assert.Equal(t, 200, a.status, u)
		assert.Empty(t, list(t, a.body, "keys"))
	}
}

// TestExpiredKeysVanish: a key disappears from the listings once it
// expires.
func TestExpiredKeysVanish(t *testing.T) {
	t.Parallel()
	clk := &clock{t: simNow}
	_, base := start(t, Options{Seed: 79, Now: clk.Now})
	ids := func() []string {
		var out []string
		for _, k := range list(t, get(t, base+"users/auth/keys").body, "keys") {
			out = append(out, path(t, k, "id").(string))
		}
		return out
	}
	assert.Equal(t, []string{"sim-key-0001", "sim-key-0002", "sim-key-0003", "sim-key-0004", "sim-key-0006"}, ids())
	clk.Add(4 * 24 * time.Hour) // past sim-key-0001's expiry (3 days)
	assert.Equal(t, []string{"sim-key-0002", "sim-key-0003", "sim-key-0004", "sim-key-0006"}, ids())
	assert.Equal(t, 404, get(t, base+"users/auth/keys/sim-key-0001").status)
}

// TestLegacyLogin: ECE 2.x answers _login with a JWT whose exp claim is
// the only expiry.
func TestLegacyLogin(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Mode: ModeECE, Seed: 80, LegacyLogin: true, TokenTTL: 20 * time.Minute})
	a := do(t, "POST", base+"users/auth/_login", "", []byte(`{"username":"admin","password":"sim-password"}`))
	require.Equal(t, 200, a.status)
	assert.Equal(t, []string{"token"}, keys(a.obj(t)), "no session_expiration_time")
	tok := path(t, a.body, "token").(string)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct{ Exp int64 }
	require.NoError(t, json.Unmarshal(payload, &claims))
	assert.Equal(t, simNow.Add(20*time.Minute).Unix(), claims.Exp)
	assert.Equal(t, 200, do(t, "GET", base+"deployments", "Bearer "+tok, nil).status)
	r := do(t, "POST", base+"users/auth/_refresh", "Bearer "+tok, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{"token"}, keys(r.obj(t)))
}

// TestEmptyUpgradeAnswers: with EmptyUpgradeAnswers the dry run of a
// resource already current answers 202 with an empty body.
func TestEmptyUpgradeAnswers(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 81, DeploymentsPerOrg: 6, EmptyUpgradeAnswers: true})
	empty, versions := 0, 0
	for _, d := range s.Deployments() {
		for _, r := range d.Resources[1:] {
			a := do(t, "POST", base+fmt.Sprintf("deployments/%s/%s/%s/_upgrade?validate_only=true", d.ID, r.Kind, r.RefID), apiKeyAuth, nil)
			require.Equal(t, 202, a.status)
			if len(a.raw) == 0 {
				empty++
			} else {
				versions++
				assert.Equal(t, targetVersion, path(t, a.body, "stack_version"))
			}
		}
	}
	assert.Positive(t, empty)
	assert.Positive(t, versions)
	assert.Equal(t, 0, s.RealUpgrades())
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
