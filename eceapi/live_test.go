package eceapi_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// The client against the answers of Elastic's live API that the specs do
// not show, as the simulator serves them (issue 13).

var liveNow = time.Date(2026, 11, 18, 13, 30, 0, 0, time.UTC)

func liveClient(t *testing.T, o ecesim.Options, opts ...eceapi.Option) (*ecesim.Server, *eceapi.Client) {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return liveNow }
	}
	sim := ecesim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	if len(opts) == 0 {
		opts = []eceapi.Option{eceapi.WithAPIKey("sim-api-key")}
	}
	c, err := eceapi.NewClient(append([]eceapi.Option{eceapi.WithBaseURL(srv.URL), eceapi.WithMaxRetries(0)}, opts...)...)
	require.NoError(t, err)
	return sim, c
}

// TestLive_RemoteClustersForEveryRefID: remote clusters of every
// Elasticsearch resource, whatever its ref_id.
func TestLive_RemoteClustersForEveryRefID(t *testing.T) {
	t.Parallel()
	for _, mode := range []ecesim.Mode{ecesim.ModeESS, ecesim.ModeECE} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			sim, c := liveClient(t, ecesim.Options{Mode: mode, Seed: 3, DeploymentsPerOrg: 5})
			refs := map[string]bool{}
			for _, d := range sim.Deployments() {
				ref := d.Resources[0].RefID
				refs[ref] = true
				rc, _, err := c.Deployments.RemoteClusters(context.Background(), d.ID, ref)
				require.NoError(t, err, "%s/%s", d.ID, ref)
				assert.Len(t, rc.Resources, 2)
			}
			own := map[ecesim.Mode]string{ecesim.ModeESS: "main-elasticsearch", ecesim.ModeECE: "elasticsearch"}[mode]
			assert.Equal(t, map[string]bool{own: true, "security-elasticsearch": true}, refs)
		})
	}
}

// TestLive_Fractions: fractional hours and quantities decode as they are,
// and a resized resource has two items.
func TestLive_Fractions(t *testing.T) {
	t.Parallel()
	sim, c := liveClient(t, ecesim.Options{Seed: 4, DeploymentsPerOrg: 3})
	org := sim.OrganizationIDs()[0]
	d := sim.Deployments()[1] // every third deployment, from the second, was resized
	ic, _, err := c.Billing.DeploymentItems(context.Background(), org, d.ID, nil)
	require.NoError(t, err)
	var es []eceapi.ItemCosts
	for _, r := range ic.Resources {
		if r.Kind == "elasticsearch" {
			es = append(es, r)
		}
	}
	require.Len(t, es, 2)
	assert.NotEqual(t, es[0].SKU, es[1].SKU)
	fOld, fCur := es[0].Hours-math.Trunc(es[0].Hours), es[1].Hours-math.Trunc(es[1].Hours)
	assert.Positive(t, fOld, "fractional hours decode as they are: %v", es[0].Hours)
	assert.Equal(t, 1.0, fOld+fCur, "the two shares of the hour of the resize")
	fractional := 0
	for _, x := range ic.DataTransferAndStorage {
		if x.Quantity.Value != math.Trunc(x.Quantity.Value) {
			fractional++
		}
	}
	assert.Positive(t, fractional)
}

// TestLive_NullLists: null in place of a list decodes as an empty list.
func TestLive_NullLists(t *testing.T) {
	t.Parallel()
	sim, c := liveClient(t, ecesim.Options{Seed: 5, DeploymentsPerOrg: -1})
	org := sim.OrganizationIDs()[0]
	ctx := context.Background()
	dc, _, err := c.Billing.Deployments(ctx, org, nil)
	require.NoError(t, err)
	assert.Empty(t, dc.Deployments)
	ov, _, err := c.Billing.Overview(ctx, org, nil)
	require.NoError(t, err)
	assert.Len(t, ov.Costs.Dimensions, 6, "every dimension, at zero")
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	ch, _, err := c.Billing.Charts(ctx, org, &eceapi.ChartsOptions{CostsOptions: eceapi.CostsOptions{From: day, To: day}})
	require.NoError(t, err)
	assert.Empty(t, ch.Data)
}

// TestLive_TextPlainForbidden: a 403 with a text/plain body and no
// x-cloud-error-codes still gives an APIError with its status and the
// text, bounded.
func TestLive_TextPlainForbidden(t *testing.T) {
	t.Parallel()
	sim, c := liveClient(t, ecesim.Options{Seed: 6, DeploymentsPerOrg: 1, BillingForbidden: true})
	org := sim.OrganizationIDs()[0]
	_, resp, err := c.Billing.Overview(context.Background(), org, nil)
	var apiErr *eceapi.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, apiErr.Codes)
	assert.Equal(t, "get-costs-overview", apiErr.Operation)
	assert.Contains(t, apiErr.BodyHint, "text/plain")
	assert.Contains(t, err.Error(), "403 Forbidden")
	assert.Contains(t, err.Error(), "User does not have 'billing-costs:get:"+org+"' permissions")
	assert.NotContains(t, err.Error(), "sim-api-key")

	// A long text body is cut.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("403: " + strings.Repeat("no permission ", 100000)))
	}))
	t.Cleanup(srv.Close)
	c2, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("k"), eceapi.WithMaxRetries(0))
	require.NoError(t, err)
	_, _, err = c2.Billing.Overview(context.Background(), "1", nil)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
	assert.Less(t, len(err.Error()), 400, "bounded: %s", err)
}

// TestLive_MillisecondDateTimes: date-times with milliseconds and Z.
func TestLive_MillisecondDateTimes(t *testing.T) {
	t.Parallel()
	sim, c := liveClient(t, ecesim.Options{Seed: 7, DeploymentsPerOrg: 1})
	ov, _, err := c.Billing.Overview(context.Background(), sim.OrganizationIDs()[0], nil)
	require.NoError(t, err)
	require.Len(t, ov.Balance.LineItems, 1)
	assert.Equal(t, time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC), ov.Balance.LineItems[0].End)
	keys, _, err := c.APIKeys.List(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, keys.Keys)
	assert.NotZero(t, keys.Keys[0].CreationDate.Nanosecond(), "milliseconds kept")
}

// TestLive_LegacyLogin: against ECE 2.x's JWT-only login, the client
// refreshes by the token's exp claim.
func TestLive_LegacyLogin(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := liveNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	sim, c := liveClient(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 8, LegacyLogin: true, TokenTTL: 30 * time.Minute, Now: clock},
		eceapi.WithLogin("admin", "sim-password"), eceapi.WithClock(clock))
	get := func() error { _, _, err := c.Accounts.Get(context.Background()); return err }
	require.NoError(t, get())
	advance(19 * time.Minute)
	require.NoError(t, get())
	assert.Zero(t, sim.Requests("refresh-token"), "before two thirds of the JWT's 30 minutes")
	advance(2 * time.Minute)
	require.NoError(t, get())
	assert.Equal(t, 1, sim.Requests("refresh-token"), "after two thirds")
	assert.Equal(t, 1, sim.Requests("login"))
	advance(time.Hour) // expired: log in again
	require.NoError(t, get())
	assert.Equal(t, 2, sim.Requests("login"))
}

// TestLive_LargestOrganizationFitsTheLimits: the organization-wide
// listings of 20,000 deployments (the size the exporter is sized for on
// one replica) are read within their body limits: the costs listing is
// 8.7 MiB there, over the 8 MiB the limit once was.
func TestLive_LargestOrganizationFitsTheLimits(t *testing.T) {
	t.Parallel()
	sim, c := liveClient(t, ecesim.Options{Seed: 9, DeploymentsPerOrg: 20000, RemoteClustersPerES: -1, APIKeys: -1})
	ctx := context.Background()
	org := sim.OrganizationIDs()[0]
	costs, _, err := c.Billing.Deployments(ctx, org, nil)
	require.NoError(t, err)
	assert.Len(t, costs.Deployments, 20000)
	list, _, err := c.Deployments.List(ctx)
	require.NoError(t, err)
	assert.Len(t, list.Deployments, 20000)
}
