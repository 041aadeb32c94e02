package collector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/config"
)

// billingFixtures serves an organization's billing answers from fixture
// files (testdata/<operation>/<case>.json), by API path.
func billingFixtures(t *testing.T, files map[string]string) Env {
	t.Helper()
	bodies := map[string]string{"/api/v1/organizations": `{"organizations":[{"id":"o1","name":"org"}]}`}
	for path, file := range files {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(t, err)
		bodies["/api/v1/"+path] = string(b)
	}
	env, _ := fixtureEnv(t, bodies)
	return env
}

// TestBillingCreditLineItems: every prepaid credit line of the overview's
// balance is exported with its quantity, balance, start and end (ends
// arrive as the last millisecond of a day and keep it); a line without an
// id is labelled by its validity; a repeated id keeps the first line; no
// balance, no line series.
func TestBillingCreditLineItems(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, overview, want string
	}{
		{
			name:     "credits",
			overview: "get-costs-overview/credits.json",
			want: `
# HELP ece_billing_line_item_balance_ecu Prepaid credit line item: ECU balance left on the line. Cached; refreshed by collector billing.
# TYPE ece_billing_line_item_balance_ecu gauge
ece_billing_line_item_balance_ecu{account="test",line_item_id="2026-07-01_2027-06-30",organization_id="o1"} 2469.0678
ece_billing_line_item_balance_ecu{account="test",line_item_id="8a3f2c1e-0b9d-4e57-9c61-2f1d7a4b5e60",organization_id="o1"} 98765.4322
ece_billing_line_item_balance_ecu{account="test",line_item_id="expired-2025",organization_id="o1"} 1200
# HELP ece_billing_line_item_ecu_quantity Prepaid credit line item: ECU quantity bought (the line's original amount). Cached; refreshed by collector billing.
# TYPE ece_billing_line_item_ecu_quantity gauge
ece_billing_line_item_ecu_quantity{account="test",line_item_id="2026-07-01_2027-06-30",organization_id="o1"} 2500
ece_billing_line_item_ecu_quantity{account="test",line_item_id="8a3f2c1e-0b9d-4e57-9c61-2f1d7a4b5e60",organization_id="o1"} 100000
ece_billing_line_item_ecu_quantity{account="test",line_item_id="expired-2025",organization_id="o1"} 50000
# HELP ece_billing_line_item_end_timestamp_seconds Prepaid credit line item: end of its validity (its last instant, e.g. 23:59:59.999 UTC of its last day). Cached; refreshed by collector billing.
# TYPE ece_billing_line_item_end_timestamp_seconds gauge
ece_billing_line_item_end_timestamp_seconds{account="test",line_item_id="2026-07-01_2027-06-30",organization_id="o1"} 1.814399999999e+09
ece_billing_line_item_end_timestamp_seconds{account="test",line_item_id="8a3f2c1e-0b9d-4e57-9c61-2f1d7a4b5e60",organization_id="o1"} 1.798761599999e+09
ece_billing_line_item_end_timestamp_seconds{account="test",line_item_id="expired-2025",organization_id="o1"} 1.767225599999e+09
# HELP ece_billing_line_item_start_timestamp_seconds Prepaid credit line item: start of its validity. Cached; refreshed by collector billing.
# TYPE ece_billing_line_item_start_timestamp_seconds gauge
ece_billing_line_item_start_timestamp_seconds{account="test",line_item_id="2026-07-01_2027-06-30",organization_id="o1"} 1.782864e+09
ece_billing_line_item_start_timestamp_seconds{account="test",line_item_id="8a3f2c1e-0b9d-4e57-9c61-2f1d7a4b5e60",organization_id="o1"} 1.7672256e+09
ece_billing_line_item_start_timestamp_seconds{account="test",line_item_id="expired-2025",organization_id="o1"} 1.7356896e+09
# HELP ece_billing_organization_balance_available_ecu Organization prepaid balance available, in ECU. Cached; refreshed by collector billing.
# TYPE ece_billing_organization_balance_available_ecu gauge
ece_billing_organization_balance_available_ecu{account="test",organization_id="o1"} 101234.5
`,
		},
		{name: "no-balance", overview: "get-costs-overview/no-balance.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := billingFixtures(t, map[string]string{
				"billing/costs/o1":             tc.overview,
				"billing/costs/o1/deployments": "get-costs-deployments/empty.json",
			})
			snap, err := pollOnce(t, env, newBillingSource)
			require.NoError(t, err)
			compareSnapshot(t, snap, tc.want,
				"ece_billing_line_item_ecu_quantity", "ece_billing_line_item_balance_ecu",
				"ece_billing_line_item_start_timestamp_seconds", "ece_billing_line_item_end_timestamp_seconds",
				"ece_billing_organization_balance_available_ecu")
		})
	}
}

// TestBillingBudgets: each configured budget is exported for the
// organizations it applies to (its own, or each one the account bills),
// a tag budget with the tag it covers.
func TestBillingBudgets(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/api/v1/organizations":                `{"organizations":[{"id":"o1","name":"one"},{"id":"o2","name":"two"}]}`,
		"/api/v1/billing/costs/o1":             `{"costs":{"total":1,"dimensions":[]},"trials":0,"hourly_rate":0}`,
		"/api/v1/billing/costs/o2":             `{"costs":{"total":2,"dimensions":[]},"trials":0,"hourly_rate":0}`,
		"/api/v1/billing/costs/o1/deployments": `{"total_cost":0,"deployments":[]}`,
		"/api/v1/billing/costs/o2/deployments": `{"total_cost":0,"deployments":[]}`,
	}
	env, _ := fixtureEnv(t, bodies)
	env.Account.Budgets = []config.Budget{
		{Name: "total", MonthlyECU: 5000},
		{Name: "org-two", OrganizationID: "o2", MonthlyECU: 1200.5},
		{Name: "team-search", Tag: map[string]string{"team": "search"}, MonthlyECU: 800},
		{Name: "elsewhere", OrganizationID: "o9", MonthlyECU: 1},
	}
	snap, err := pollOnce(t, env, newBillingSource)
	require.NoError(t, err)
	compareSnapshot(t, snap, `
# HELP ece_billing_budget_ecu Monthly budget of the exporter's configuration (accounts[].budgets), in ECU per calendar month (UTC); tag_key and tag_value are empty for an organization budget, else the deployment tag it covers. Cached; refreshed by collector billing.
# TYPE ece_billing_budget_ecu gauge
ece_billing_budget_ecu{account="test",budget="org-two",organization_id="o2",tag_key="",tag_value=""} 1200.5
ece_billing_budget_ecu{account="test",budget="team-search",organization_id="o1",tag_key="team",tag_value="search"} 800
ece_billing_budget_ecu{account="test",budget="team-search",organization_id="o2",tag_key="team",tag_value="search"} 800
ece_billing_budget_ecu{account="test",budget="total",organization_id="o1",tag_key="",tag_value=""} 5000
ece_billing_budget_ecu{account="test",budget="total",organization_id="o2",tag_key="",tag_value=""} 5000
`, "ece_billing_budget_ecu")
}
