package ecesim

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eps is floating precision for sums of a few thousand ECU amounts.
const eps = 1e-6

func sumValues(t *testing.T, items []any, key string) float64 {
	t.Helper()
	var s float64
	for _, it := range items {
		s += num(t, it, key)
	}
	return s
}

func dimsByType(t *testing.T, costs any) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, d := range list(t, costs, "dimensions") {
		out[path(t, d, "type").(string)] += num(t, d, "cost")
	}
	return out
}

// TestCostsAreConsistent checks the invariants between the billing
// operations over several windows.
func TestCostsAreConsistent(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 31, Organizations: 2, DeploymentsPerOrg: 5})
	windows := []string{
		"", // defaults: start of month to now
		"?from=2026-10-03T07:45:00Z&to=2026-11-17T22:10:00Z", // unaligned ends
		"?from=2026-06-01&to=2026-12-31",                     // ends in the future
		"?from=2021-01-01&to=2021-01-31",                     // before every deployment
	}
	for i, org := range s.OrganizationIDs() {
		for _, q := range windows[i*2 : i*2+2] {
			t.Run(org+q, func(t *testing.T) {
				t.Parallel()
				b := base + "billing/costs/" + org
				ov := get(t, b+q)
				require.Equal(t, 200, ov.status, string(ov.raw))
				total := num(t, ov.body, "costs", "total")
				ovDims := dimsByType(t, path(t, ov.body, "costs"))

				deps := get(t, b+"/deployments"+q)
				require.Equal(t, 200, deps.status)
				depList := list(t, deps.body, "deployments")
				assert.Len(t, depList, 5)
				depSum := 0.0
				sumDims := map[string]float64{}
				var allRes, allDTS float64
				for _, d := range depList {
					c := path(t, d, "costs")
					dt := num(t, c, "total")
					depSum += dt
					dimSum := 0.0
					for k, v := range dimsByType(t, c) {
						dimSum += v
						sumDims[k] += v
					}
					assert.InDelta(t, dt, dimSum, eps, "a deployment's dimensions sum to its total")

					id := path(t, d, "deployment_id").(string)
					items := get(t, b+"/deployments/"+id+"/items"+q)
					require.Equal(t, 200, items.status)
					res, dts := list(t, items.body, "resources"), list(t, items.body, "data_transfer_and_storage")
					itemSum := sumValues(t, res, "price") + sumValues(t, dts, "cost")
					allRes += sumValues(t, res, "price")
					allDTS += sumValues(t, dts, "cost")
					assert.InDelta(t, dt, itemSum, eps, "items sum to the deployment total")
					assert.InDelta(t, dt, num(t, items.body, "costs", "total"), eps)
					for _, r := range res {
						h := num(t, r, "hours")
						assert.Equal(t, math.Trunc(h*splitDenom), h*splitDenom, "whole hours, or a share of the hour of a resize")
						assert.InDelta(t, h*num(t, r, "price_per_hour"), num(t, r, "price"), eps, "price = hours × price_per_hour")
					}
					for _, x := range dts {
						qv := num(t, x, "quantity", "value")
						assert.InDelta(t, math.Round(qv*1000), qv*1000, 1e-6, "quantities in thousandths of a unit")
						assert.InDelta(t, qv*num(t, x, "rate", "value"), num(t, x, "cost"), eps, "cost = quantity × rate")
					}
					dimCap := dimsByType(t, c)["capacity"]
					assert.InDelta(t, dimCap, sumValues(t, res, "price"), eps, "capacity = resources")
				}
				assert.InDelta(t, total, depSum, eps, "deployments sum to the overview")
				assert.InDelta(t, total, num(t, deps.body, "total_cost"), eps, "total_cost is the sum")
				for k, v := range ovDims {
					assert.InDelta(t, v, sumDims[k], eps, "dimension %s", k)
				}

				items := get(t, b+"/items"+q)
				require.Equal(t, 200, items.status)
				assert.InDelta(t, total, num(t, items.body, "costs", "total"), eps)
				assert.InDelta(t, allRes, sumValues(t, list(t, items.body, "resources"), "price"), eps)
				assert.InDelta(t, allDTS, sumValues(t, list(t, items.body, "data_transfer_and_storage"), "cost"), eps)

				for _, strategy := range []string{"daily", "monthly"} {
					chart := get(t, b+"/charts"+amp(q)+"bucketing_strategy="+strategy)
					require.Equal(t, 200, chart.status)
					chartSum := 0.0
					for _, bk := range list(t, chart.body, "data") {
						values := list(t, bk, "values")
						assert.Len(t, values, 5, "one value per deployment")
						chartSum += sumValues(t, values, "value")
					}
					assert.InDelta(t, total, chartSum, eps, "%s chart buckets sum to the overview", strategy)
				}
				// The deployment charts add up to the deployment totals.
				for _, d := range depList {
					id := path(t, d, "deployment_id").(string)
					chart := get(t, b+"/deployments/"+id+"/charts"+q)
					require.Equal(t, 200, chart.status)
					sum := 0.0
					for _, bk := range list(t, chart.body, "data") {
						sum += sumValues(t, list(t, bk, "values"), "value")
					}
					assert.InDelta(t, num(t, d, "costs", "total"), sum, eps)
				}
			})
		}
	}
}

func amp(q string) string {
	if q == "" {
		return "?"
	}
	return q + "&"
}

func TestCostsOverviewFields(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 32, DeploymentsPerOrg: 5})
	org := s.OrganizationIDs()[0]
	ov := get(t, base+"billing/costs/"+org).obj(t)
	assert.Positive(t, num(t, ov, "costs", "total"))
	assert.Zero(t, num(t, ov, "trials"))
	rate := num(t, ov, "hourly_rate")
	assert.Positive(t, rate)
	depRates := 0.0
	for _, d := range list(t, get(t, base+"billing/costs/"+org+"/deployments").body, "deployments") {
		depRates += num(t, d, "hourly_rate")
		assert.Equal(t, "2026-11-01T00:00:00.000Z", path(t, d, "period", "start"), "milliseconds and Z, as the API writes them")
		assert.Equal(t, "2026-11-18T13:30:00.000Z", path(t, d, "period", "end"))
	}
	assert.InDelta(t, rate, depRates, eps, "the organization's hourly rate is the sum")
	bal := path(t, ov, "balance")
	assert.InDelta(t, num(t, bal, "available")-num(t, ov, "costs", "total"), num(t, bal, "remaining"), eps)
	assert.Len(t, list(t, bal, "line_items"), 1)
	types := []string{}
	for _, d := range list(t, ov, "costs", "dimensions") {
		types = append(types, path(t, d, "type").(string))
	}
	assert.Equal(t, dimensionTypes, types, "every spec dimension, in enum order")
}

// TestDefaultWindow: without from/to the window is the current month to
// now, counted in whole hours.
func TestDefaultWindow(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 33, DeploymentsPerOrg: 3})
	org := s.OrganizationIDs()[0]
	d := s.w.deployments[0]
	items := get(t, base+"billing/costs/"+org+"/deployments/"+d.id+"/items")
	hours := num(t, items.body, "resources", 0, "hours")
	want := d.hoursIn(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), simNow.Truncate(time.Hour)) // whole hours up to now
	assert.Equal(t, float64(want), hours)
	assert.LessOrEqual(t, hours, float64(17*24+13), "at most the hours since the 1st")
	explicit := get(t, base+"billing/costs/"+org+"/deployments/"+d.id+"/items?from=2026-11-01&to=2026-11-18T13:30:00Z")
	assert.Equal(t, string(items.raw), string(explicit.raw))
}

func TestDateRangeValidation(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 34})
	org := s.OrganizationIDs()[0]
	for _, c := range []struct {
		query  string
		status int
		fields []any
	}{
		{"?from=2020-12-31", 400, []any{"from"}},
		{"?from=2021-01-01", 400, []any{"from", "to"}}, // more than 400 days to now
		{"?from=2021-01-01&to=2022-02-04", 200, nil},
		{"?from=2021-01-01&to=2022-02-06", 400, []any{"from", "to"}},
		{"?from=2026-11-10&to=2026-11-01", 400, []any{"from", "to"}},
		{"?from=2026-11-10&to=2026-11-10", 200, nil},
		{"?from=11/01/2026", 400, []any{"from"}},
		{"?to=tomorrow", 400, []any{"to"}},
		{"?from=2026-11-01T00:00:00.000Z&to=2026-11-02T00:00:00%2B01:00", 200, nil},
		{"?from=2026-11-01", 200, nil},
	} {
		t.Run(c.query, func(t *testing.T) {
			t.Parallel()
			for _, p := range []string{"", "/deployments", "/items", "/charts"} {
				a := get(t, base+"billing/costs/"+org+p+c.query)
				require.Equal(t, c.status, a.status, "%s%s: %s", p, c.query, a.raw)
				if c.status == 400 {
					assert.Equal(t, "costs.invalid_date_range", a.errCode(t))
					assert.Equal(t, "costs.invalid_date_range", a.header.Get("x-cloud-error-codes"))
					assert.Equal(t, c.fields, path(t, a.body, "errors", 0, "fields"))
				}
			}
		})
	}
}

func TestChartBuckets(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 35, DeploymentsPerOrg: 3})
	_, millisBase := start(t, Options{Seed: 35, DeploymentsPerOrg: 3, ChartTimestampsMillis: true})
	org := s.OrganizationIDs()[0]
	dep := s.Deployments()[0]
	day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() }
	for _, c := range []struct {
		name, query string
		want        []int64 // bucket starts, Unix seconds
	}{
		{"daily default window", "", func() []int64 {
			var out []int64
			for d := 1; d <= 18; d++ {
				out = append(out, day(2026, 11, d))
			}
			return out
		}()},
		{"daily unaligned", "?from=2026-11-03T10:00:00Z&to=2026-11-05T01:00:00Z&bucketing_strategy=daily",
			[]int64{day(2026, 11, 3), day(2026, 11, 4), day(2026, 11, 5)}},
		{"daily ends at midnight", "?from=2026-11-03&to=2026-11-05T00:00:00Z", []int64{day(2026, 11, 3), day(2026, 11, 4)}},
		{"a date-only to is the whole day", "?from=2026-11-03&to=2026-11-05", []int64{day(2026, 11, 3), day(2026, 11, 4), day(2026, 11, 5)}},
		{"from = to = one whole day", "?from=2026-11-03&to=2026-11-03", []int64{day(2026, 11, 3)}},
		{"monthly", "?from=2026-09-15&to=2026-11-18&bucketing_strategy=monthly",
			[]int64{day(2026, 9, 1), day(2026, 10, 1), day(2026, 11, 1)}},
		{"empty window", "?from=2026-11-03T00:00:00Z&to=2026-11-03T00:00:00Z", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range []string{"/charts", "/deployments/" + dep.ID + "/charts"} {
				secs := get(t, base+"billing/costs/"+org+p+c.query)
				millis := get(t, millisBase+"billing/costs/"+org+p+c.query)
				require.Equal(t, 200, secs.status, string(secs.raw))
				if c.want == nil {
					assert.Contains(t, string(secs.raw), `"data":null`, "no bucket: null, as the API sends it")
					assert.Contains(t, string(millis.raw), `"data":null`)
					return
				}
				data, mdata := list(t, secs.body, "data"), list(t, millis.body, "data")
				require.Len(t, data, len(c.want))
				require.Len(t, mdata, len(c.want))
				for i, w := range c.want {
					assert.Equal(t, float64(w), num(t, data[i], "timestamp"), "seconds")
					assert.Equal(t, float64(w*1000), num(t, mdata[i], "timestamp"), "milliseconds")
					assert.Equal(t, path(t, data[i], "values"), path(t, mdata[i], "values"))
				}
			}
		})
	}

	t.Run("series", func(t *testing.T) {
		t.Parallel()
		org := get(t, base+"billing/costs/"+org+"/charts?from=2026-11-10&to=2026-11-11")
		values := list(t, org.body, "data", 0, "values")
		require.Len(t, values, 3)
		for i, d := range s.Deployments() {
			assert.Equal(t, d.ID, path(t, values[i], "id"))
			assert.Equal(t, d.Name, path(t, values[i], "name"))
		}
		one := get(t, base+"billing/costs/"+s.OrganizationIDs()[0]+"/deployments/"+dep.ID+"/charts?from=2026-11-10&to=2026-11-11")
		var ids []string
		for _, v := range list(t, one.body, "data", 0, "values") {
			ids = append(ids, path(t, v, "id").(string))
			assert.NotEmpty(t, path(t, v, "name"))
		}
		want := []string{}
		for _, r := range dep.Resources {
			want = append(want, r.Kind)
		}
		assert.ElementsMatch(t, append(want, "data_transfer_and_storage"), ids)
	})

	t.Run("bucketing strategy", func(t *testing.T) {
		t.Parallel()
		for _, v := range []string{"Daily", "MONTHLY", "weekly", "hourly"} {
			a := get(t, base+"billing/costs/"+org+"/charts?bucketing_strategy="+v)
			assert.Equal(t, 400, a.status, v)
			assert.Equal(t, "root.invalid_data", a.errCode(t))
			assert.Equal(t, []any{"bucketing_strategy"}, path(t, a.body, "errors", 0, "fields"))
		}
	})
}

// TestCostsBeforeCreationAndInTheFuture: a deployment costs nothing before
// it was created, and nothing is charged past now.
func TestCostsBeforeCreationAndInTheFuture(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 36, DeploymentsPerOrg: 4})
	org := s.OrganizationIDs()[0]
	d := s.w.deployments[0]
	before := d.created.Add(-48 * time.Hour)
	q := fmt.Sprintf("?from=%s&to=%s", before.Format(time.RFC3339), d.created.Format(time.RFC3339))
	items := get(t, base+"billing/costs/"+org+"/deployments/"+d.id+"/items"+q)
	assert.Zero(t, num(t, items.body, "costs", "total"))
	assert.Zero(t, num(t, items.body, "resources", 0, "hours"))

	future := get(t, base+"billing/costs/"+org+"/deployments/"+d.id+"/items?from=2026-11-18T14:00:00Z&to=2026-11-30")
	assert.Zero(t, num(t, future.body, "costs", "total"), "nothing past now")
	q = fmt.Sprintf("?from=%s&to=%s", d.created.Format(time.RFC3339), d.created.Add(5*time.Hour).Format(time.RFC3339))
	five := get(t, base+"billing/costs/"+org+"/deployments/"+d.id+"/items"+q)
	assert.Equal(t, 5.0, num(t, five.body, "resources", 0, "hours"))
	assert.InDelta(t, 5*ecu(d.resourceMicro+d.dtsMicro), num(t, five.body, "costs", "total"), eps)
}

// TestBillingKeepsDeletedDeployments: after ChurnDeployments the deleted
// deployments stay in the costs listing with the total they had, their
// items still answer and sum to it, the organization chart keeps them, and
// the organization's month-to-date total never falls; as time passes they
// are billed up to the hour of their deletion and no further.
func TestBillingKeepsDeletedDeployments(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := simNow // 13:30: the hour 13 is not billed yet
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, base := start(t, Options{Seed: 91, DeploymentsPerOrg: 4, Now: clock})
	org := s.OrganizationIDs()[0]
	snapshot := func() (overview float64, byDep map[string]float64, items map[string]float64, chart map[string]float64) {
		overview = num(t, get(t, base+"billing/costs/"+org).body, "costs", "total")
		byDep, items, chart = map[string]float64{}, map[string]float64{}, map[string]float64{}
		for _, d := range list(t, get(t, base+"billing/costs/"+org+"/deployments").body, "deployments") {
			id := path(t, d, "deployment_id").(string)
			byDep[id] = num(t, d, "costs", "total")
			a := get(t, base+"billing/costs/"+org+"/deployments/"+id+"/items")
			require.Equal(t, 200, a.status, id)
			items[id] = sumValues(t, list(t, a.body, "resources"), "price") + sumValues(t, list(t, a.body, "data_transfer_and_storage"), "cost")
		}
		for _, b := range list(t, get(t, base+"billing/costs/"+org+"/charts?bucketing_strategy=monthly").body, "data") {
			for _, v := range list(t, b, "values") {
				chart[path(t, v, "id").(string)] += num(t, v, "value")
			}
		}
		return
	}
	ov0, dep0, _, _ := snapshot()
	removed, added := s.ChurnDeployments(2)
	ov1, dep1, items1, chart1 := snapshot()
	assert.InDelta(t, ov0, ov1, eps, "month-to-date never falls")
	for _, id := range removed {
		require.Contains(t, dep1, id, "deleted %s stays in the costs listing", id)
		assert.Positive(t, dep1[id])
		assert.InDelta(t, dep0[id], dep1[id], eps, "deleted %s keeps its total", id)
		assert.InDelta(t, dep1[id], items1[id], eps, "items of deleted %s sum to its total", id)
		assert.InDelta(t, dep1[id], chart1[id], eps, "chart of deleted %s", id)
	}
	for _, id := range added {
		assert.Zero(t, dep1[id], "new %s has no cost yet", id)
	}

	// Two hours later: the deleted ones were billed for the hour of their
	// deletion (13:00-14:00) and nothing after; the others grew.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	ov2, dep2, items2, _ := snapshot()
	assert.Greater(t, ov2, ov1)
	for _, id := range removed {
		assert.Greater(t, dep2[id], dep1[id], "the hour of the deletion is billed")
		assert.InDelta(t, dep2[id], items2[id], eps)
	}
	mu.Lock()
	now = now.Add(5 * time.Hour)
	mu.Unlock()
	_, dep3, _, _ := snapshot()
	for _, id := range removed {
		assert.InDelta(t, dep2[id], dep3[id], eps, "nothing billed after the deletion hour")
	}
	for _, id := range added {
		assert.Greater(t, dep3[id], dep2[id])
	}
}
