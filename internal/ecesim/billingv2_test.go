package ecesim

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v2Base is the billing v2 base of an organization, from the v1 base
// (…/api/v1/) start returns.
func v2Base(base, org string) string {
	return strings.TrimSuffix(base, "/api/v1/") + "/api/v2/billing/organizations/" + org
}

func v2Query(from, to string) string {
	return "?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)
}

// TestBillingV2MatchesV1 proves that v2 bills the hosted deployments as
// v1 does over the same window: each deployment's instance costs its v1
// total, its capacity lines are its v1 items (one per SKU after a resize)
// and its other lines its v1 data transfer and storage; the organization
// total is v1's plus the projects and services v1 does not show; items
// and chart buckets add up to the same.
func TestBillingV2MatchesV1(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 41, Organizations: 2, DeploymentsPerOrg: 6})
	// The instance of a deployment has the id of its Elasticsearch resource.
	esOf := map[string]string{}
	for _, d := range s.Deployments() {
		esOf[d.Resources[0].ID] = d.ID
	}
	var resized int
	for _, w := range [][2]string{
		{"2026-11-01T00:00:00Z", "2026-11-18T13:30:00Z"},      // month to date
		{"2026-10-03T07:45:00Z", "2026-11-17T22:10:00+00:00"}, // unaligned, +00:00
		{"2026-11-10T00:00:00Z", "2026-11-10T23:59:59.999Z"},  // one day, to its last millisecond
		{"2021-01-01T00:00:00+00:00", "2021-02-01T00:00:00Z"}, // the earliest accepted, before every deployment
	} {
		for _, org := range s.OrganizationIDs() {
			t.Run(org+"/"+w[0], func(t *testing.T) {
				v1 := base + "billing/costs/" + org
				v1q := v2Query(w[0], w[1])
				ov := get(t, v1+v1q)
				require.Equal(t, 200, ov.status, string(ov.raw))
				deps := get(t, v1+"/deployments"+v1q)
				require.Equal(t, 200, deps.status)
				v1Cost := map[string]float64{}
				for _, d := range list(t, deps.body, "deployments") {
					v1Cost[path(t, d, "deployment_id").(string)] = num(t, d, "costs", "total")
				}

				ins := get(t, v2Base(base, org)+"/costs/instances"+v2Query(w[0], w[1]))
				require.Equal(t, 200, ins.status, string(ins.raw))
				var others, all float64
				seen := map[string]bool{}
				types := map[string]int{}
				for _, in := range list(t, ins.body, "instances") {
					typ := path(t, in, "type").(string)
					types[typ]++
					total := num(t, in, "total_ecu")
					all += total
					lines := list(t, in, "product_line_items")
					assert.InDelta(t, total, sumValues(t, lines, "total_ecu"), eps, "an instance's lines sum to its total")
					for _, l := range lines {
						assert.InDelta(t, num(t, l, "total_ecu"), num(t, l, "quantity", "value")*num(t, l, "rate", "value"), eps, "total = quantity × rate")
						assert.Equal(t, num(t, l, "quantity", "value"), num(t, l, "display_quantity", "value"))
					}
					if typ != "deployment" {
						others += total
						for _, l := range lines {
							assert.Nil(t, path(t, l, "kind"), "a metered line has no resource kind")
						}
						continue
					}
					depID, ok := esOf[path(t, in, "id").(string)]
					require.True(t, ok, "a deployment instance has its Elasticsearch resource's id")
					seen[depID] = true
					assert.InDelta(t, v1Cost[depID], total, eps, "the deployment costs what v1 bills")

					items := get(t, v1+"/deployments/"+depID+"/items"+v1q)
					require.Equal(t, 200, items.status)
					var v1Lines, v2Lines []string
					for _, r := range list(t, items.body, "resources") {
						v1Lines = append(v1Lines, lineKey("capacity", path(t, r, "sku"), path(t, r, "kind"), num(t, r, "hours"), num(t, r, "price_per_hour"), num(t, r, "price")))
					}
					for _, x := range list(t, items.body, "data_transfer_and_storage") {
						v1Lines = append(v1Lines, lineKey(path(t, x, "type"), path(t, x, "sku"), nil, num(t, x, "quantity", "value"), num(t, x, "rate", "value"), num(t, x, "cost")))
					}
					for _, l := range lines {
						v2Lines = append(v2Lines, lineKey(path(t, l, "type"), path(t, l, "sku"), path(t, l, "kind"), num(t, l, "quantity", "value"), num(t, l, "rate", "value"), num(t, l, "total_ecu")))
					}
					sort.Strings(v1Lines)
					sort.Strings(v2Lines)
					assert.Equal(t, v1Lines, v2Lines, "the same lines as v1's items")
					for _, r := range list(t, items.body, "resources") {
						if h := num(t, r, "hours"); h != float64(int64(h)) {
							resized++ // a resize splits an hour between two SKUs
						}
					}
				}
				assert.Len(t, seen, len(v1Cost), "every v1 deployment is a v2 instance")
				assert.Equal(t, map[string]int{"deployment": 6, "elasticsearch": 1, "observability": 1, "security": 1,
					"elastic_inference_service": 1, "cloud_connect": 1}, types)
				v1Total := num(t, ov.body, "costs", "total")
				assert.InDelta(t, num(t, ins.body, "total_ecu"), v1Total+others, eps, "v2 = v1 + projects and services")
				assert.InDelta(t, num(t, ins.body, "total_ecu"), all, eps)
				if w[0] == "2021-01-01T00:00:00+00:00" {
					assert.Zero(t, v1Total)
				} else {
					assert.Positive(t, others)
				}

				items := get(t, v2Base(base, org)+"/costs/items"+v2Query(w[0], w[1]))
				require.Equal(t, 200, items.status)
				var prodSum float64
				for _, p := range list(t, items.body, "products") {
					assert.InDelta(t, num(t, p, "total_ecu"), sumValues(t, list(t, p, "product_line_items"), "total_ecu"), eps)
					prodSum += num(t, p, "total_ecu")
				}
				assert.InDelta(t, num(t, ins.body, "total_ecu"), prodSum, eps)
				assert.InDelta(t, num(t, ins.body, "total_ecu"), num(t, items.body, "total_ecu"), eps)

				// Chart buckets add up to the window, deployment by
				// deployment as in v1's chart.
				ch := get(t, v2Base(base, org)+"/charts"+v2Query(w[0], w[1])+"&bucketing_strategy=daily")
				require.Equal(t, 200, ch.status)
				v1ch := get(t, v1+"/charts"+v1q+"&bucketing_strategy=daily")
				require.Equal(t, 200, v1ch.status)
				v1Vals := map[string]float64{}
				for _, b := range list(t, v1ch.body, "data") {
					for _, v := range list(t, b, "values") {
						v1Vals[fmt.Sprint(num(t, b, "timestamp"))+path(t, v, "id").(string)] = num(t, v, "value")
					}
				}
				var chartSum float64
				for _, b := range list(t, ch.body, "data") {
					for _, v := range list(t, b, "values") {
						chartSum += num(t, v, "value")
						if dep, ok := esOf[path(t, v, "id").(string)]; ok {
							assert.InDelta(t, v1Vals[fmt.Sprint(num(t, b, "timestamp"))+dep], num(t, v, "value"), eps)
						}
					}
				}
				assert.InDelta(t, num(t, ins.body, "total_ecu"), chartSum, eps, "buckets sum to the window's cost")
			})
		}
	}
	assert.Positive(t, resized, "some windows hold a resize")
}

// lineKey identifies a billed line by what it bills (kind nil for none).
func lineKey(typ, sku, kind any, qty, rate, cost float64) string {
	return fmt.Sprintf("%v|%v|%v|%.6f|%.6f|%.6f", typ, sku, kind, qty, rate, cost)
}

// TestBillingV2Errors checks v2's own error answers: 400 with the
// service's JSON body for a missing, unparsable or too early from/to, 404
// for an unknown organization or instance, the text/plain 403 of a key
// without billing, and never x-cloud-error-codes.
func TestBillingV2Errors(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 42, DeploymentsPerOrg: 2})
	org := s.OrganizationIDs()[0]
	b := v2Base(base, org)
	ok := v2Query("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")
	for _, tc := range []struct {
		name, url string
		status    int
		want      string // the whole body
	}{
		{"no window", b + "/costs/instances", 400,
			`{"error":"invalid_input","message":"An error occurred with input: {}","detail":{"messages":{"from":["Missing data for required field."],"to":["Missing data for required field."]}},"success":false}`},
		{"no to", b + "/costs/items?from=2026-11-01T00:00:00Z", 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2026-11-01T00:00:00Z'}","detail":{"messages":{"to":["Missing data for required field."]}},"success":false}`},
		{"too early", b + "/charts" + v2Query("2001-08-04T00:00:00Z", "2001-08-05T00:00:00Z"), 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2001-08-04T00:00:00Z', 'to': '2001-08-05T00:00:00Z'}","detail":{"messages":{"_schema":["'from' must not be earlier than 2021-01-01T00:00:00+00:00"]}},"success":false}`},
		{"a second too early", b + "/costs/instances" + v2Query("2020-12-31T23:59:59Z", "2021-01-02T00:00:00Z"), 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2020-12-31T23:59:59Z', 'to': '2021-01-02T00:00:00Z'}","detail":{"messages":{"_schema":["'from' must not be earlier than 2021-01-01T00:00:00+00:00"]}},"success":false}`},
		{"date only", b + "/costs/instances?from=2026-11-01&to=2026-11-02", 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2026-11-01', 'to': '2026-11-02'}","detail":{"messages":{"from":["Not a valid datetime."],"to":["Not a valid datetime."]}},"success":false}`},
		{"unencoded +", b + "/costs/instances?from=2026-11-01T00:00:00+00:00&to=2026-11-02T00:00:00Z", 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2026-11-01T00:00:00 00:00', 'to': '2026-11-02T00:00:00Z'}","detail":{"messages":{"from":["Not a valid datetime."]}},"success":false}`},
		{"to before from", b + "/costs/instances" + v2Query("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z"), 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2026-11-02T00:00:00Z', 'to': '2026-11-01T00:00:00Z'}","detail":{"messages":{"_schema":["'to' must not be earlier than 'from'"]}},"success":false}`},
		{"bad bucketing", b + "/charts" + ok + "&bucketing_strategy=Daily", 400,
			`{"error":"invalid_input","message":"An error occurred with input: {'from': '2026-11-01T00:00:00Z', 'to': '2026-11-02T00:00:00Z'}","detail":{"messages":{"bucketing_strategy":["Must be one of: daily, monthly."]}},"success":false}`},
		{"unknown organization", v2Base(base, "999") + "/costs/instances" + ok, 404,
			`{"error":"not_found","message":"Organization 999 not found","detail":{},"success":false}`},
		{"unknown instance", b + "/costs/instances/ffffffffffffffffffffffffffffffff/items" + ok, 404,
			`{"error":"not_found","message":"Instance ffffffffffffffffffffffffffffffff not found","detail":{},"success":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, tc.url)
			assert.Equal(t, tc.status, a.status)
			assert.JSONEq(t, tc.want, string(a.raw))
			assert.Equal(t, "application/json", a.header.Get("Content-Type"))
			assert.Empty(t, a.header.Values("x-cloud-error-codes"), "v2 sends no x-cloud-error-codes")
		})
	}

	t.Run("billing forbidden", func(t *testing.T) {
		t.Parallel()
		s, base := start(t, Options{Seed: 42, DeploymentsPerOrg: 2, BillingForbidden: true})
		org := s.OrganizationIDs()[0]
		for _, op := range []string{"/costs/instances", "/costs/items", "/charts"} {
			a := get(t, v2Base(base, org)+op+ok)
			assert.Equal(t, 403, a.status)
			assert.Equal(t, "text/plain; charset=utf-8", a.header.Get("Content-Type"))
			assert.Equal(t, "403: User does not have 'billing-costs:get:"+org+"' permissions", string(a.raw))
			assert.Empty(t, a.header.Values("x-cloud-error-codes"))
		}
	})
	t.Run("not in ECE", func(t *testing.T) {
		t.Parallel()
		_, base := start(t, Options{Mode: ModeECE, Seed: 42, DeploymentsPerOrg: 2})
		a := get(t, v2Base(base, "1")+"/costs/instances"+ok)
		assert.Equal(t, 404, a.status)
		assert.Contains(t, string(a.raw), "currently unavailable in self-hosted ECE")
	})
	t.Run("credentials required", func(t *testing.T) {
		a := do(t, "GET", b+"/costs/instances"+ok, "ApiKey wrong", nil)
		assert.Equal(t, 401, a.status)
	})
	assert.Equal(t, 7, s.Requests(opV2Instances), "counted under its operationId")
	assert.Zero(t, s.Requests("unknown"))
}

// TestBillingV2Instances checks the instances beyond v1: serverless
// projects of the three project types, named only with include_names,
// and organization-level services; the per-instance operations agree with
// the listing.
func TestBillingV2Instances(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 43, DeploymentsPerOrg: 3})
	org := s.OrganizationIDs()[0]
	b := v2Base(base, org)
	q := v2Query("2026-11-01T00:00:00Z", "2026-11-18T00:00:00Z")
	plain := get(t, b+"/costs/instances"+q)
	named := get(t, b+"/costs/instances"+q+"&include_names=true")
	require.Equal(t, 200, plain.status)
	require.Equal(t, 200, named.status)
	pl, nl := list(t, plain.body, "instances"), list(t, named.body, "instances")
	require.Len(t, pl, 3+3+2)
	for i := range pl {
		typ := path(t, pl[i], "type").(string)
		name := path(t, nl[i], "name").(string)
		assert.NotEmpty(t, name)
		switch typ {
		case "elasticsearch", "observability", "security":
			assert.Empty(t, path(t, pl[i], "name"), "a project has no name without include_names")
			assert.True(t, strings.HasPrefix(name, "sim-project-"), name)
		default:
			assert.Equal(t, name, path(t, pl[i], "name"))
		}
		id := path(t, pl[i], "id").(string)
		assert.Len(t, id, 32)
		// The instance's own items and chart agree with the listing.
		items := get(t, b+"/costs/instances/"+id+"/items"+q)
		require.Equal(t, 200, items.status, string(items.raw))
		assert.InDelta(t, num(t, pl[i], "total_ecu"), num(t, items.body, "total_ecu"), eps)
		assert.Equal(t, path(t, pl[i], "product_line_items"), path(t, items.body, "products", 0, "product_line_items"))
		ch := get(t, b+"/instances/"+id+"/charts"+q+"&bucketing_strategy=monthly&instance_type=all")
		require.Equal(t, 200, ch.status, string(ch.raw))
		require.Len(t, list(t, ch.body, "data"), 1)
		assert.InDelta(t, num(t, pl[i], "total_ecu"), num(t, ch.body, "data", 0, "values", 0, "value"), eps)
		assert.Equal(t, typ, path(t, ch.body, "data", 0, "values", 0, "type"))
	}
	// The same options give the same answer; another seed other ids.
	again := get(t, b+"/costs/instances"+q)
	assert.Equal(t, string(plain.raw), string(again.raw))
	s2, base2 := start(t, Options{Seed: 44, DeploymentsPerOrg: 3})
	other := get(t, v2Base(base2, s2.OrganizationIDs()[0])+"/costs/instances"+q)
	assert.NotEqual(t, path(t, pl[3], "id"), path(t, list(t, other.body, "instances")[3], "id"))
	assert.Equal(t, len(pl), s.Requests(opV2InstanceChart))
}
