package eceapi

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Identifiers used by the fixtures in testdata/.
const (
	orgID    = "1234567890"
	depID    = "4f8e2b6c1d3a4e5f9a7b8c0d1e2f3a4b"
	depID2   = "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
	depID3   = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	eceAdmin = "admin"
)

var (
	testFrom = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// testTo is not in UTC: the query must carry it converted to UTC.
	testTo = time.Date(2026, 11, 18, 13, 30, 0, 0, time.FixedZone("CET", 3600))
)

// methodCase describes one exported client method: how to call it, what it
// must send and what the documented error answer looks like.
type methodCase struct {
	op     string // spec operationId
	method string
	path   string // below /api/v1 (/api/v2 with v2)
	query  url.Values
	// body is the JSON request body the method must send ("" = none).
	body string
	// fixture is the success body (testdata/) and status its HTTP status.
	fixture string
	status  int
	call    func(ctx context.Context, c *Client) (any, *Response, error)
	check   func(t *testing.T, v any)
	// errStatus and errCode are a documented error answer of the operation.
	errStatus int
	errCode   string
	// errPrefix is how the method says what it was doing.
	errPrefix string
	// withSegments calls the method with one path parameter replaced, for
	// each path parameter.
	withSegments []func(ctx context.Context, c *Client, v string) error
	// emptyOK marks an operation whose 2xx may have an empty body (the
	// upgrade dry run): its "empty" case succeeds, see TestUpgradeDryRun_EmptyAnswer.
	emptyOK bool
	// v2 marks a Cloud Billing API (v2) operation, served below the
	// billing v2 base URL.
	v2 bool
}

func methodCases() map[string]methodCase {
	costs := &CostsOptions{From: testFrom, To: testTo}
	costsQ := url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}}
	daily := &ChartsOptions{CostsOptions: *costs, Bucketing: BucketingDaily}
	dailyQ := url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}, "bucketing_strategy": {"daily"}}
	monthly := &ChartsOptions{CostsOptions: CostsOptions{From: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}, Bucketing: BucketingMonthly}
	monthlyQ := url.Values{"from": {"2026-10-01T00:00:00Z"}, "bucketing_strategy": {"monthly"}}

	return map[string]methodCase{
		"Deployments.List": {
			op: "list-deployments", method: http.MethodGet, path: "/deployments", fixture: "list-deployments/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.Deployments.List(ctx)) },
			check: func(t *testing.T, v any) {
				d := v.(*DeploymentsListResponse)
				require.Len(t, d.Deployments, 3)
				assert.Equal(t, DeploymentsListingData{ID: depID, Name: "search-prod", Resources: []DeploymentResource{
					{RefID: "main-elasticsearch", ID: "7d1a3c5e9b2f4a6c8e0d2b4f6a8c0e1d", Kind: "elasticsearch", Region: "gcp-europe-west1",
						CloudID: "search-prod:ZXVyb3BlLXdlc3QxLmdjcC5jbG91ZC5lcy5pbzo0NDMkN2QxYTNjNWU5YjJmNGE2YzhlMGQyYjRmNmE4YzBlMWQkYjJjNGU2ZjhhMGIyYzRkNmU4ZjBhMmI0YzZkOGUwZjE="},
					{RefID: "main-kibana", ElasticsearchClusterRefID: "main-elasticsearch", ID: "b2c4e6f8a0b2c4d6e8f0a2b4c6d8e0f1", Kind: "kibana", Region: "gcp-europe-west1"},
					{RefID: "main-integrations_server", ElasticsearchClusterRefID: "main-elasticsearch", ID: "c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f2", Kind: "integrations_server", Region: "gcp-europe-west1"},
					{RefID: "main-enterprise_search", ElasticsearchClusterRefID: "main-elasticsearch", ID: "d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a3", Kind: "enterprise_search", Region: "gcp-europe-west1"},
				}}, d.Deployments[0])
				assert.Equal(t, "apm", d.Deployments[1].Resources[2].Kind)
				assert.Equal(t, "azure-westeurope", d.Deployments[2].Resources[0].Region)
				b, err := json.Marshal(d)
				require.NoError(t, err)
				assert.NotContains(t, string(b), "SENTINEL", "credentials and secret_token are never decoded")
			},
			errStatus: 401, errCode: "root.unauthorized", errPrefix: "list deployments: ",
		},
		"Deployments.RemoteClusters": {
			op: "get-deployment-es-resource-remote-clusters", method: http.MethodGet, path: "/deployments/" + depID + "/elasticsearch/main-elasticsearch/remote-clusters",
			fixture: "get-deployment-es-resource-remote-clusters/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Deployments.RemoteClusters(ctx, depID, "main-elasticsearch"))
			},
			check: func(t *testing.T, v any) {
				r := v.(*RemoteResources)
				require.Len(t, r.Resources, 3)
				yes, no := true, false
				assert.Equal(t, RemoteResourceRef{DeploymentID: depID2, ElasticsearchRefID: "main-elasticsearch", Alias: "logs_us", SkipUnavailable: &yes,
					Info: &RemoteResourceInfo{Healthy: true, Connected: true, Compatible: true, Trusted: true, TrustedBack: true}}, r.Resources[0])
				assert.Equal(t, &no, r.Resources[1].SkipUnavailable)
				assert.False(t, r.Resources[1].Info.Connected)
				assert.Nil(t, r.Resources[2].SkipUnavailable, "absent, not false")
				assert.Nil(t, r.Resources[2].Info, "absent info")
			},
			errStatus: 404, errCode: "deployments.deployment_resource_not_found", errPrefix: "get remote clusters of deployment",
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Deployments.RemoteClusters(ctx, v, "main-elasticsearch")
					return err
				},
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Deployments.RemoteClusters(ctx, depID, v)
					return err
				},
			},
		},
		"Deployments.UpgradeDryRun": {
			op: "upgrade-deployment-stateless-resource", method: http.MethodPost, path: "/deployments/" + depID + "/kibana/main-kibana/_upgrade",
			query: url.Values{"validate_only": {"true"}}, fixture: "upgrade-deployment-stateless-resource/normal.json", status: 202,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Deployments.UpgradeDryRun(ctx, depID, "kibana", "main-kibana"))
			},
			check: func(t *testing.T, v any) {
				assert.Equal(t, &DeploymentResourceUpgradeResponse{ResourceID: "b2c4e6f8a0b2c4d6e8f0a2b4c6d8e0f1", StackVersion: "8.15.1"}, v)
			},
			errStatus: 404, errCode: "deployments.deployment_not_found", errPrefix: "upgrade dry run of deployment", emptyOK: true,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Deployments.UpgradeDryRun(ctx, v, "kibana", "main-kibana")
					return err
				},
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Deployments.UpgradeDryRun(ctx, depID, "kibana", v)
					return err
				},
			},
		},
		"Deployments.Search": {
			op: "search-deployments", method: http.MethodPost, path: "/deployments/_search",
			body:    `{"size":250,"cursor":"c2ltLWN1cnNvci0x","sort":[{"id":{"order":"asc"}}]}`,
			fixture: "search-deployments/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Deployments.Search(ctx, &SearchRequest{Size: 250, Cursor: "c2ltLWN1cnNvci0x", Sort: SortByID}))
			},
			check: func(t *testing.T, v any) {
				r := v.(*DeploymentsSearchResponse)
				assert.Equal(t, "c2ltLWN1cnNvci0y", r.Cursor)
				assert.Equal(t, 2.0, r.ReturnCount)
				require.Len(t, r.Deployments, 2)
				d := r.Deployments[0]
				assert.Equal(t, depID, d.ID)
				assert.True(t, d.Healthy)
				require.NotNil(t, d.Metadata)
				assert.Equal(t, []MetadataItem{{"team", "search"}, {"cost-center", "cc-42"}}, d.Metadata.Tags)
				require.Len(t, d.Resources.Elasticsearch, 1)
				es := d.Resources.Elasticsearch[0]
				assert.Equal(t, "main-elasticsearch", es.RefID)
				assert.Equal(t, "started", es.Info.Status)
				assert.Equal(t, "8.14.3", es.Info.PlanInfo.Current.Plan.Version())
				assert.Len(t, es.Info.PlanInfo.History, 2)
				assert.Equal(t, "green", es.Info.Elasticsearch.ShardsStatus.Status)
				assert.Equal(t, 96.0, es.Info.Snapshots.Count)
				assert.Equal(t, time.Date(2026, 11, 18, 13, 0, 0, 0, time.UTC), *es.Info.Snapshots.LatestSuccessfulEndTime)
				in := es.Info.Topology.Instances[1]
				assert.Equal(t, "instance-0000000001", in.InstanceName)
				assert.Equal(t, "europe-west1-c", in.Zone)
				assert.Equal(t, 4096.0, in.Memory.InstanceCapacity)
				assert.Equal(t, 48.0, *in.Memory.MemoryPressure)
				assert.Equal(t, 66.0, *in.Memory.NativeMemoryPressure)
				assert.Equal(t, 30720.0, in.Disk.DiskSpaceUsed)
				assert.Equal(t, 122880.0, *in.Disk.DiskSpaceAvailable)
				require.Len(t, d.Resources.Kibana, 1)
				assert.Equal(t, "8.14.3", d.Resources.Kibana[0].Info.PlanInfo.Current.Plan.Version())
				assert.Nil(t, d.Resources.Kibana[0].Info.Topology.Instances[0].Disk)

				d2 := r.Deployments[1]
				assert.False(t, d2.Healthy)
				assert.Nil(t, d2.Metadata)
				es2 := d2.Resources.Elasticsearch[0].Info
				require.NotNil(t, es2.PlanInfo.Pending)
				assert.Nil(t, es2.PlanInfo.Pending.AttemptEndTime)
				assert.False(t, es2.PlanInfo.Healthy)
				assert.Equal(t, "red", es2.Elasticsearch.ShardsStatus.Status)
				assert.Len(t, es2.Elasticsearch.BlockingIssues.ClusterLevel, 1)
				assert.False(t, es2.Elasticsearch.MasterInfo.Healthy)
				assert.Equal(t, "FAILED", es2.Snapshots.LatestStatus)
				require.Len(t, es2.SystemAlerts, 3)
				assert.Equal(t, ClusterSystemAlert{AlertType: "automatic_restart", InstanceName: "instance-0000000000", Timestamp: time.Date(2026, 11, 18, 13, 10, 0, 0, time.UTC)}, es2.SystemAlerts[0])
				require.Len(t, d2.Resources.IntegrationsServer, 1)
				assert.Equal(t, "8.11.1", d2.Resources.IntegrationsServer[0].Info.PlanInfo.Current.Plan.Version())
			},
			errStatus: 401, errCode: "root.unauthorized", errPrefix: "search deployments: ",
		},
		"Stack.Versions": {
			op: "get-version-stacks", method: http.MethodGet, path: "/stack/versions", query: url.Values{"show_deleted": {"true"}},
			fixture: "get-version-stacks/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.Stack.Versions(ctx, true)) },
			check: func(t *testing.T, v any) {
				r := v.(*StackVersionConfigs)
				require.Len(t, r.Stacks, 4)
				yes, no := true, false
				assert.Equal(t, StackVersionConfig{Version: "8.11.1", Deleted: true, Whitelisted: &yes, Accessible: &no,
					MinUpgradableFrom: "7.17.0", UpgradableTo: []string{"8.14.3", "8.15.1"}}, r.Stacks[2])
				assert.Equal(t, &no, r.Stacks[3].Whitelisted)
				assert.Equal(t, []string{}, r.Stacks[0].UpgradableTo)
			},
			errStatus: 401, errCode: "root.unauthorized", errPrefix: "list stack versions: ",
		},
		"Accounts.Get": {
			op: "get-current-account", method: http.MethodGet, path: "/account", fixture: "get-current-account/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.Accounts.Get(ctx)) },
			check: func(t *testing.T, v any) {
				assert.Equal(t, &AccountResponse{ID: orgID, Trust: &AccountTrustSettings{TrustAll: true}}, v)
			},
			errStatus: 404, errCode: "accounts.not_found", errPrefix: "get account: ",
		},
		"Organizations.List": {
			op: "list-organizations", method: http.MethodGet, path: "/organizations", fixture: "list-organizations/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.Organizations.List(ctx)) },
			check: func(t *testing.T, v any) {
				assert.Equal(t, &OrganizationList{Organizations: []Organization{{ID: orgID, Name: "Example Corp"}}}, v)
			},
			errStatus: 401, errCode: "user.not_found", errPrefix: "list organizations: ",
		},
		"Billing.Overview": {
			op: "get-costs-overview", method: http.MethodGet, path: "/billing/costs/" + orgID, query: costsQ, fixture: "get-costs-overview/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Billing.Overview(ctx, orgID, costs))
			},
			check: func(t *testing.T, v any) {
				o := v.(*CostsOverview)
				assert.Equal(t, 1234.5, o.Costs.Total)
				require.Len(t, o.Costs.Dimensions, 6)
				assert.Equal(t, Dimension{Type: "data_internode", Cost: 28.75}, o.Costs.Dimensions[2])
				assert.Equal(t, 2.9167, o.HourlyRate)
				assert.Zero(t, o.Trials)
				require.NotNil(t, o.Balance)
				assert.Equal(t, 98765.5, o.Balance.Remaining)
				assert.Equal(t, SimplifiedLineItem{ID: "li-2026-01", ECUQuantity: 100000, ECUBalance: 98765.5,
					Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, o.Balance.LineItems[0])
			},
			errStatus: 403, errCode: "organization.invalid_access", errPrefix: `get costs overview of organization "` + orgID + `": `,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.Overview(ctx, v, costs)
					return err
				},
			},
		},
		"Billing.Deployments": {
			op: "get-costs-deployments", method: http.MethodGet, path: "/billing/costs/" + orgID + "/deployments", query: costsQ, fixture: "get-costs-deployments/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Billing.Deployments(ctx, orgID, costs))
			},
			check: func(t *testing.T, v any) {
				d := v.(*DeploymentsCosts)
				assert.Equal(t, 1234.5, d.TotalCost)
				require.Len(t, d.Deployments, 3)
				assert.Equal(t, DeploymentCosts{DeploymentID: depID, DeploymentName: "search-prod", HourlyRate: 2.3275,
					Costs:  Costs{Total: 987.25, Dimensions: []Dimension{{"capacity", 940}, {"data_internode", 20.25}, {"data_out", 15}, {"storage_bytes", 12}}},
					Period: &Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)}}, d.Deployments[0])
				assert.Nil(t, d.Deployments[2].Period, "period is optional")
			},
			errStatus: 400, errCode: "costs.invalid_date_range", errPrefix: `get deployments costs of organization "` + orgID + `": `,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.Deployments(ctx, v, costs)
					return err
				},
			},
		},
		"Billing.DeploymentItems": {
			op: "get-costs-items-by-deployment", method: http.MethodGet, path: "/billing/costs/" + orgID + "/deployments/" + depID + "/items", query: costsQ,
			fixture: "get-costs-items-by-deployment/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Billing.DeploymentItems(ctx, orgID, depID, costs))
			},
			check: func(t *testing.T, v any) {
				i := v.(*ItemsCosts)
				assert.Equal(t, 987.25, i.Costs.Total)
				require.Len(t, i.DataTransferAndStorage, 1)
				require.Len(t, i.Resources, 3)
				assert.Equal(t, "gcp.kibana.n2.68x32x45", i.Resources[2].SKU)
				assert.Equal(t, 0.1, i.Resources[2].PricePerHour)
			},
			errStatus: 500, errCode: "billing_service.failed_request", errPrefix: `get itemized costs of deployment "` + depID + `": `,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.DeploymentItems(ctx, v, depID, costs)
					return err
				},
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.DeploymentItems(ctx, orgID, v, costs)
					return err
				},
			},
		},
		"Billing.Charts": {
			op: "get-costs-charts", method: http.MethodGet, path: "/billing/costs/" + orgID + "/charts", query: dailyQ, fixture: "get-costs-charts/daily-millis.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Billing.Charts(ctx, orgID, daily))
			},
			check: func(t *testing.T, v any) {
				ch := v.(*ChartItems)
				require.Len(t, ch.Data, 3)
				for i, day := range []int{16, 17, 18} {
					assert.Equal(t, time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC), ch.Data[i].Timestamp, "milliseconds normalised")
				}
				assert.Equal(t, int64(1794787200000), ch.Data[0].RawTimestamp)
				assert.Equal(t, ChartItemValue{ID: depID2, Name: "logs-observability", Value: 13.5}, ch.Data[1].Values[1])
			},
			errStatus: 400, errCode: "costs.invalid_date_range", errPrefix: `get cost charts of organization "` + orgID + `": `,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.Charts(ctx, v, daily)
					return err
				},
			},
		},
		"Billing.DeploymentCharts": {
			op: "get-costs-charts-by-deployment", method: http.MethodGet, path: "/billing/costs/" + orgID + "/deployments/" + depID + "/charts", query: monthlyQ,
			fixture: "get-costs-charts-by-deployment/monthly-seconds.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Billing.DeploymentCharts(ctx, orgID, depID, monthly))
			},
			check: func(t *testing.T, v any) {
				ch := v.(*ChartItems)
				require.Len(t, ch.Data, 2)
				assert.Equal(t, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), ch.Data[0].Timestamp, "seconds normalised")
				assert.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), ch.Data[1].Timestamp)
				assert.Equal(t, ChartItemValue{ID: "capacity", Name: "Capacity", Value: 940}, ch.Data[1].Values[0])
			},
			errStatus: 403, errCode: "organization.invalid_access", errPrefix: `get cost charts of deployment "` + depID + `": `,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.DeploymentCharts(ctx, v, depID, monthly)
					return err
				},
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Billing.DeploymentCharts(ctx, orgID, v, monthly)
					return err
				},
			},
		},
		"APIKeys.List": {
			op: "get-api-keys", method: http.MethodGet, path: "/users/auth/keys", fixture: "get-api-keys/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.APIKeys.List(ctx)) },
			check: func(t *testing.T, v any) {
				k := v.(*APIKeysResponse)
				require.Len(t, k.Keys, 2)
				exp := time.Date(2026, 4, 2, 3, 4, 5, 0, time.UTC)
				assert.Equal(t, APIKey{ID: "3f0c1b2e4d5a6978", UserID: "2735118390", OrganizationID: orgID, Description: "ece_exporter (prod)",
					CreationDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ExpirationDate: &exp}, k.Keys[0])
				assert.Nil(t, k.Keys[1].ExpirationDate, "a key that never expires")
				assertNoListedKey(t, k)
			},
			errStatus: 401, errCode: "root.unauthorized", errPrefix: "list API keys: ",
		},
		"APIKeys.ListAll": {
			op: "get-users-api-keys", method: http.MethodGet, path: "/users/auth/keys/_all", fixture: "get-users-api-keys/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.APIKeys.ListAll(ctx)) },
			check: func(t *testing.T, v any) {
				k := v.(*APIKeysResponse)
				require.Len(t, k.Keys, 3)
				assert.Equal(t, "readonly", k.Keys[2].UserID)
				assert.Empty(t, k.Keys[0].OrganizationID, "absent on ECE")
				assertNoListedKey(t, k)
			},
			errStatus: 403, errCode: "root.unauthorized", errPrefix: "list API keys of all users: ",
		},
		// The Cloud Billing API (v2), on its own base URL.
		"BillingV2.Instances": {
			op: "getCostsByInstancesV2", method: http.MethodGet, path: "/billing/organizations/" + orgID + "/costs/instances", v2: true,
			query:   url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}, "include_names": {"true"}},
			fixture: "getCostsByInstancesV2/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.BillingV2.Instances(ctx, orgID, InstancesOptions{CostsWindow: CostsWindow{From: testFrom, To: testTo}, IncludeNames: true}))
			},
			check: func(t *testing.T, v any) {
				ic := v.(*InstancesCosts)
				assert.InDelta(t, 31.7342, ic.TotalECU, 1e-9, "fractional although the spec says integer")
				require.Len(t, ic.Instances, 3)
				d := ic.Instances[0]
				assert.Equal(t, "7d1a3c5e9b2f4a6c8e0d2b4f6a8c0e1d", d.ID)
				assert.Equal(t, "search-prod", d.Name)
				assert.Equal(t, InstanceTypeDeployment, d.Type)
				assert.InDelta(t, 21.5304, d.TotalECU, 1e-9)
				require.Len(t, d.LineItems, 6)
				// A resize: the same resource on two SKUs, both kept.
				assert.Equal(t, ProductLineItem{Name: "Cloud Standard, GCP europe-west1, gcp.es.datahot.n2, 2GB, 2AZ", Type: "capacity",
					SKU: "gcp.es.datahot.n2_europe-west1_2048_2", Unit: "hour", Kind: "elasticsearch", TotalECU: 3.6864,
					Quantity: V2Quantity{Value: 24.5, FormattedValue: "24.5 hours"}, Rate: V2Rate{Value: 0.1504, FormattedValue: "0.1504 per hour"}}, d.LineItems[0])
				assert.Equal(t, "gcp.es.datahot.n2_europe-west1_4096_2", d.LineItems[1].SKU)
				// kind null is "".
				assert.Equal(t, ProductLineItem{Name: "GCP Data Transfer Out", Type: "data_out", SKU: "gcp.data-transfer-out", Unit: "GB", TotalECU: 0.4163,
					Quantity: V2Quantity{Value: 8.326714027673006, FormattedValue: "8.3267 GBs"}, Rate: V2Rate{Value: 0.05, FormattedValue: "0.0500 per GB"}}, d.LineItems[3])
				// A serverless project (no name without include_names) and an
				// organization-level service.
				assert.Equal(t, InstanceCosts{ID: "a0b1c2d3e4f5061728394a5b6c7d8e9f", Type: "observability", TotalECU: 9.8038, LineItems: []ProductLineItem{{
					Name: "Observability Serverless Ingest", Type: "ingest", SKU: "serverless.observability.ingest_aws-us-east-1", Unit: "GB", TotalECU: 9.8038,
					Quantity: V2Quantity{Value: 65.3587, FormattedValue: "65.3587 GBs"}, Rate: V2Rate{Value: 0.15, FormattedValue: "0.1500 per GB"}}}}, ic.Instances[1])
				assert.Equal(t, InstanceCosts{ID: "f00dfeedf00dfeedf00dfeedf00dfeed", Name: "Elastic Inference Service", Type: "elastic_inference_service", TotalECU: 0.4,
					LineItems: []ProductLineItem{{Name: "EIS ELSER tokens", Type: "inference", SKU: "global.eis.elser-tokens", Unit: "1M tokens", TotalECU: 0.4,
						Quantity: V2Quantity{Value: 5, FormattedValue: "5 1M tokens"}, Rate: V2Rate{Value: 0.08, FormattedValue: "0.0800 per 1M tokens"}}}}, ic.Instances[2])
			},
			errStatus: 400, errCode: "invalid_input", errPrefix: `get instances costs of organization "` + orgID + `"`,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.BillingV2.Instances(ctx, v, InstancesOptions{CostsWindow: CostsWindow{From: testFrom, To: testTo}})
					return err
				},
			},
		},
		"BillingV2.Items": {
			op: "getCostsByItemsV2", method: http.MethodGet, path: "/billing/organizations/" + orgID + "/costs/items", v2: true,
			query:   url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}, "serverless_group_by": {"product_family"}},
			fixture: "getCostsByItemsV2/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.BillingV2.Items(ctx, orgID, ItemsV2Options{CostsWindow: CostsWindow{From: testFrom, To: testTo}, ServerlessGroupBy: GroupByProductFamily}))
			},
			check: func(t *testing.T, v any) {
				pc := v.(*ProductsCosts)
				assert.InDelta(t, 11.3402, pc.TotalECU, 1e-9)
				require.Len(t, pc.Products, 2)
				assert.Equal(t, "hosted", pc.Products[0].Type)
				assert.InDelta(t, 1.5364, pc.Products[0].TotalECU, 1e-9)
				require.Len(t, pc.Products[0].LineItems, 2)
				assert.Equal(t, "aws.data-transfer-in", pc.Products[0].LineItems[1].SKU)
				assert.InDelta(t, 0.008, pc.Products[0].LineItems[1].Quantity.Value, 1e-12)
				assert.Equal(t, "serverless", pc.Products[1].Type)
			},
			errStatus: 400, errCode: "invalid_input", errPrefix: `get itemized costs (v2) of organization "` + orgID + `"`,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.BillingV2.Items(ctx, v, ItemsV2Options{CostsWindow: CostsWindow{From: testFrom, To: testTo}})
					return err
				},
			},
		},
		"BillingV2.Charts": {
			op: "getChartsV2", method: http.MethodGet, path: "/billing/organizations/" + orgID + "/charts", v2: true,
			query:   url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-18T12:30:00Z"}, "bucketing_strategy": {"daily"}},
			fixture: "getChartsV2/daily.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.BillingV2.Charts(ctx, orgID, ChartsV2Options{CostsWindow: CostsWindow{From: testFrom, To: testTo}, Bucketing: BucketingDaily}))
			},
			check: func(t *testing.T, v any) {
				ch := v.(*ChartItems)
				require.Len(t, ch.Data, 2)
				assert.Equal(t, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC), ch.Data[0].Timestamp)
				assert.Equal(t, []ChartItemValue{{ID: "7d1a3c5e9b2f4a6c8e0d2b4f6a8c0e1d", Name: "search-prod", Value: 10.7652},
					{ID: "a0b1c2d3e4f5061728394a5b6c7d8e9f", Value: 4.9019}}, ch.Data[0].Values)
				assert.Empty(t, ch.Data[1].Values)
			},
			errStatus: 404, errCode: "not_found", errPrefix: `get usage charts of organization "` + orgID + `"`,
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.BillingV2.Charts(ctx, v, ChartsV2Options{CostsWindow: CostsWindow{From: testFrom, To: testTo}})
					return err
				},
			},
		},
		"Platform.Allocators": {
			op: "get-allocators", method: http.MethodGet, path: "/platform/infrastructure/allocators",
			query: url.Values{"from": {"100"}, "size": {"50"}}, fixture: "get-allocators/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Platform.Allocators(ctx, &AllocatorsOptions{From: 100, Size: 50}))
			},
			check: func(t *testing.T, v any) {
				a := v.(*AllocatorOverview)
				require.Len(t, a.Zones, 2)
				assert.Equal(t, "ece-zone-1", a.Zones[0].ZoneID)
				require.Len(t, a.Zones[0].Allocators, 2)
				yes, no := true, false
				assert.Equal(t, AllocatorInfo{AllocatorID: "192.168.44.10", ZoneID: "ece-zone-1", HostIP: "10.0.1.0", PublicHostname: "192.168.44.10.ece.example",
					Status:   AllocatorHealthStatus{Connected: true, Healthy: true},
					Capacity: AllocatorCapacity{Memory: AllocatorCapacityMemory{Total: 65536, Used: 61440}, Storage: &AllocatorCapacityStorage{Total: 512000}},
					Instances: []AllocatedInstanceStatus{
						{ClusterType: "elasticsearch", ClusterID: "c0ffeeinstance-0000000000", InstanceName: "instance-0000000000", NodeMemory: 32768, Healthy: &yes, Moving: &no},
						{ClusterType: "elasticsearch", ClusterID: "c0ffeeinstance-0000000001", InstanceName: "instance-0000000001", NodeMemory: 28672, Healthy: &no, Moving: &yes},
					},
					BuildInfo: &AllocatorBuildInfo{Version: "3.8.0", CommitHash: "abc123"}}, a.Zones[0].Allocators[0])
				assert.False(t, a.Zones[0].Allocators[1].Status.Connected)
				assert.True(t, a.Zones[1].Allocators[0].Status.MaintenanceMode)
			},
			errStatus: 403, errCode: "root.unauthorized.rbac", errPrefix: "list allocators: ",
		},
		"Platform.ProxiesHealth": {
			op: "get-proxies-health", method: http.MethodGet, path: "/platform/infrastructure/proxies/health", fixture: "get-proxies-health/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Platform.ProxiesHealth(ctx))
			},
			check: func(t *testing.T, v any) {
				assert.Equal(t, &ProxiesHealth{Status: "Yellow", ObservedProxiesCount: 2, ExpectedProxiesCount: 3}, v)
			},
			errStatus: 403, errCode: "root.unauthorized.rbac", errPrefix: "get proxies health: ",
		},
		"Platform.Runners": {
			op: "get-runners", method: http.MethodGet, path: "/platform/infrastructure/runners", fixture: "get-runners/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.Platform.Runners(ctx)) },
			check: func(t *testing.T, v any) {
				r := v.(*RunnerOverview)
				require.Len(t, r.Runners, 2)
				assert.Equal(t, RunnerInfo{RunnerID: "192.168.44.10", Zone: "ece-zone-1", HostIP: "10.0.1.10", PublicHostname: "host-a.ece.example",
					Connected: true, Healthy: true, Roles: []RunnerRoleInfo{{"allocator"}, {"proxy"}},
					BuildInfo: &RunnerBuildInfo{Version: "3.8.0", CommitHash: "abc123"}}, r.Runners[0])
				assert.False(t, r.Runners[1].Connected)
				assert.Nil(t, r.Runners[1].BuildInfo)
			},
			errStatus: 403, errCode: "root.unauthorized.rbac", errPrefix: "list runners: ",
		},
		"Platform.License": {
			op: "get-license", method: http.MethodGet, path: "/platform/license", fixture: "get-license/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) { return wrap(c.Platform.License(ctx)) },
			check: func(t *testing.T, v any) {
				l := v.(*LicenseObject)
				assert.Equal(t, LicenseInfo{UID: "3f0c9b6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", Version: 4, Type: "enterprise", IssuedTo: "Example Corp", Issuer: "Elastic",
					StartDateMillis: 1767225600000, ExpiryDateMillis: 1798761600000, MaxResourceUnits: 4}, l.License)
				assert.Equal(t, &UsageStats{TotalConnectedMemory: 327680}, l.UsageStats)
				b, err := json.Marshal(l)
				require.NoError(t, err)
				assert.NotContains(t, string(b), "SENTINEL", "the signature is never decoded")
			},
			errStatus: 404, errCode: "license.license_not_found", errPrefix: "get license: ",
		},
		"Platform.TLSCertificate": {
			op: "get-tls-certificate", method: http.MethodGet, path: "/platform/configuration/security/tls/adminconsole", fixture: "get-tls-certificate/normal.json", status: 200,
			call: func(ctx context.Context, c *Client) (any, *Response, error) {
				return wrap(c.Platform.TLSCertificate(ctx, "adminconsole"))
			},
			check: func(t *testing.T, v any) {
				c := v.(*TLSPublicCertChain)
				assert.True(t, c.UserSupplied)
				require.Len(t, c.Chain, 2)
				assert.True(t, strings.HasPrefix(c.Chain[0], "-----BEGIN CERTIFICATE-----\n"))
				exp, ok := c.ChainStatus.Expiration()
				require.True(t, ok)
				assert.Equal(t, time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC), exp)
				assert.Equal(t, "CN=adminconsole.ece.example", c.ChainStatus.FirstCertificateToExpire)
			},
			errStatus: 403, errCode: "root.unauthorized.rbac", errPrefix: "get TLS certificate of adminconsole: ",
			withSegments: []func(context.Context, *Client, string) error{
				func(ctx context.Context, c *Client, v string) error {
					_, _, err := c.Platform.TLSCertificate(ctx, v)
					return err
				},
			},
		},
	}
}

// serverPath is the path the test server sees for the case.
func (mc methodCase) serverPath() string {
	if mc.v2 {
		return p2(mc.path)
	}
	return p(mc.path)
}

// wrap turns a typed (v, resp, err) into (any, resp, err), keeping a nil
// pointer a nil interface.
func wrap[T any](v *T, resp *Response, err error) (any, *Response, error) {
	if v == nil {
		return nil, resp, err
	}
	return v, resp, err
}

// assertNoListedKey proves the `key` field of ApiKeyResponse is never
// decoded: the fixtures carry it, the decoded value marshals without it.
func assertNoListedKey(t *testing.T, k *APIKeysResponse) {
	t.Helper()
	b, err := json.Marshal(k)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "SENTINEL-LISTED-KEY")
	assert.NotContains(t, string(b), `"key"`)
	_, has := reflect.TypeOf(APIKey{}).FieldByName("Key")
	assert.False(t, has, "APIKey has no Key field")
}

// invalidSegments are path parameters that must be refused before any
// request is sent.
var invalidSegments = []string{"", ".", "..", "a/b", "/", "../admin", "a?b", "?", "a#b", "#", "a%2Fb", "%", "%2e%2e", `a\b`, "a\nb", "a\x00b", "a\x7fb", strings.Repeat("x", 300)}

// testMethod runs the standard scenarios against one client method.
func testMethod(t *testing.T, name string) {
	t.Parallel()
	mc, ok := methodCases()[name]
	require.True(t, ok, "no methodCase for %s", name)
	scenarios := []struct {
		name string
		run  func(*testing.T, methodCase)
	}{
		{"success", testMethodSuccess},
		{"api_error", testMethodAPIError},
		{"rate_limited", testMethodRateLimited},
		{"malformed_body", testMethodMalformed},
		{"html_error_page", testMethodHTMLError},
		{"timeout", testMethodTimeout},
	}
	if len(mc.withSegments) > 0 {
		scenarios = append(scenarios, struct {
			name string
			run  func(*testing.T, methodCase)
		}{"invalid_path_segments", testMethodInvalidSegments})
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, mc)
		})
	}
}

func testMethodSuccess(t *testing.T, mc methodCase) {
	c, mux, _ := setup(t)
	var hits atomic.Int32
	body := fixture(t, mc.fixture)
	mux.HandleFunc(mc.serverPath(), counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, mc.method, r.Method)
		assert.Equal(t, mc.serverPath(), r.URL.Path)
		want := mc.query
		if want == nil {
			want = url.Values{}
		}
		assert.Equal(t, want, r.URL.Query())
		assert.Equal(t, "ApiKey "+sentinelKey, r.Header.Get("Authorization"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.Equal(t, "ece_exporter/1.2.3", r.Header.Get("User-Agent"))
		b, err := io.ReadAll(r.Body)
		assert.NoError(t, err)
		if mc.body == "" {
			assert.Empty(t, b, "the operation has no request body")
			assert.Empty(t, r.Header.Get("Content-Type"))
		} else {
			assert.JSONEq(t, mc.body, string(b))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		}
		writeJSON(w, mc.status, body)
	}))
	v, resp, err := mc.call(context.Background(), c)
	require.NoError(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, mc.status, resp.StatusCode)
	assert.Equal(t, 1, resp.Attempts)
	assert.Equal(t, int32(1), hits.Load())
	mc.check(t, v)
}

func testMethodAPIError(t *testing.T, mc methodCase) {
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc(mc.serverPath(), counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-cloud-error-codes", mc.errCode+", extra.header_only")
		writeJSON(w, mc.errStatus, `{"errors":[{"code":"`+mc.errCode+`","message":"documented failure","fields":["some_field"]},`+
			`{"code":"second.code","message":"second failure"}]}`)
	}))
	v, resp, err := mc.call(context.Background(), c)
	require.Error(t, err)
	assert.Nil(t, v)
	require.NotNil(t, resp)
	assert.Equal(t, mc.errStatus, resp.StatusCode)

	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, mc.errStatus, apiErr.StatusCode)
	assert.Equal(t, mc.op, apiErr.Operation)
	assert.Equal(t, mc.method, apiErr.Method)
	assert.Equal(t, mc.serverPath(), apiErr.Path)
	assert.Equal(t, []string{mc.errCode, "second.code", "extra.header_only"}, apiErr.Codes, "body codes first, then the header's, no duplicates")
	assert.True(t, apiErr.HasCode(mc.errCode))
	assert.Equal(t, mc.errCode, apiErr.Code())
	assert.Equal(t, []ErrorElement{{Code: mc.errCode, Message: "documented failure", Fields: []string{"some_field"}}, {Code: "second.code", Message: "second failure"}}, apiErr.Errors)
	assert.False(t, errorsAsRateLimit(err))
	assert.Contains(t, err.Error(), mc.errPrefix)
	assert.Contains(t, err.Error(), "documented failure")
	assert.NotContains(t, err.Error(), sentinelKey)
	assert.NotContains(t, err.Error(), "validate_only", "the path in errors has no query")
	assert.Equal(t, int32(1), hits.Load(), "a %d is not retried", mc.errStatus)
}

func testMethodRateLimited(t *testing.T, mc methodCase) {
	c, mux, _ := setup(t) // retries on, but 30s exceeds the 1s setup allows waiting
	var hits atomic.Int32
	mux.HandleFunc(mc.serverPath(), counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.Header().Set("x-cloud-error-codes", "billing_service.rate_limited")
		w.Header().Set("x-ratelimit-limit", "60")
		w.Header().Set("x-ratelimit-remaining", "0")
		w.Header().Set("x-ratelimit-interval", "60")
		writeJSON(w, http.StatusTooManyRequests, errorBody("billing_service.rate_limited", "Too many requests."))
	}))
	_, resp, err := mc.call(context.Background(), c)
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 30*time.Second, rl.RetryAfter)
	assert.Equal(t, RateLimit{Present: true, Limit: 60, Remaining: 0, Interval: time.Minute}, rl.RateLimit)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "a 429 is also an *APIError")
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Equal(t, []string{"billing_service.rate_limited"}, apiErr.Codes)
	assert.Contains(t, err.Error(), "retry after 30s")
	require.NotNil(t, resp)
	assert.Equal(t, rl.RateLimit, resp.RateLimit)
	assert.Equal(t, int32(1), hits.Load(), "a Retry-After beyond the allowed wait is not waited for")
}

func testMethodMalformed(t *testing.T, mc methodCase) {
	good := fixture(t, mc.fixture)
	for _, tc := range []struct{ name, body string }{
		{"truncated", good[:len(good)/2]},
		{"empty", ""},
		{"null", "null"},
		{"array instead of object", "[" + good + "]"},
		{"trailing garbage", good + "}"},
		{"html with 2xx", "<html><body>maintenance</body></html>"},
	} {
		if tc.body == "" && mc.emptyOK {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var hits atomic.Int32
			mux.HandleFunc(mc.serverPath(), counter(&hits, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, mc.status, tc.body) }))
			v, _, err := mc.call(context.Background(), c)
			assert.Nil(t, v)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, mc.op, de.Operation)
			assert.False(t, errorsAsAPIError(err))
			assert.Contains(t, err.Error(), mc.errPrefix)
			assert.Equal(t, int32(1), hits.Load(), "a bad body is not retried")
		})
	}
}

func testMethodHTMLError(t *testing.T, mc methodCase) {
	c, mux, _ := setup(t, WithMaxRetries(0))
	mux.HandleFunc(mc.serverPath(), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><head><title>502</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>")
	})
	_, _, err := mc.call(context.Background(), c)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
	assert.Empty(t, apiErr.Codes)
	assert.Empty(t, apiErr.Errors)
	assert.Equal(t, `non-JSON error body (text/html): "502 502 Bad Gateway nginx"`, apiErr.BodyHint)
	assert.Contains(t, err.Error(), apiErr.BodyHint)
	assert.NotContains(t, err.Error(), "<h1>")
}

func testMethodTimeout(t *testing.T, mc methodCase) {
	c, mux, _ := setup(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux.HandleFunc(mc.serverPath(), func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	v, _, err := mc.call(ctx, c)
	assert.Nil(t, v)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.NotContains(t, err.Error(), sentinelKey)
}

func testMethodInvalidSegments(t *testing.T, mc methodCase) {
	c, mux, _ := setup(t)
	var hits atomic.Int32
	mux.HandleFunc("/", counter(&hits, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, mc.status, fixture(t, mc.fixture)) }))
	for i, call := range mc.withSegments {
		for _, bad := range invalidSegments {
			err := call(context.Background(), c, bad)
			assert.ErrorIs(t, err, ErrInvalidPathSegment, "parameter %d = %q", i, bad)
		}
	}
	assert.Zero(t, hits.Load(), "no request was sent")
}

func errorsAsAPIError(err error) bool {
	var e *APIError
	return errors.As(err, &e)
}

func errorsAsRateLimit(err error) bool {
	var e *RateLimitError
	return errors.As(err, &e)
}

// One test per exported method: the names the closing note maps to the
// spec operations.

func TestDeploymentsService_List(t *testing.T)           { testMethod(t, "Deployments.List") }
func TestDeploymentsService_RemoteClusters(t *testing.T) { testMethod(t, "Deployments.RemoteClusters") }
func TestDeploymentsService_UpgradeDryRun(t *testing.T)  { testMethod(t, "Deployments.UpgradeDryRun") }
func TestDeploymentsService_Search(t *testing.T)         { testMethod(t, "Deployments.Search") }
func TestStackService_Versions(t *testing.T)             { testMethod(t, "Stack.Versions") }
func TestAccountsService_Get(t *testing.T)               { testMethod(t, "Accounts.Get") }
func TestOrganizationsService_List(t *testing.T)         { testMethod(t, "Organizations.List") }
func TestBillingService_Overview(t *testing.T)           { testMethod(t, "Billing.Overview") }
func TestBillingService_Deployments(t *testing.T)        { testMethod(t, "Billing.Deployments") }
func TestBillingService_DeploymentItems(t *testing.T)    { testMethod(t, "Billing.DeploymentItems") }
func TestBillingService_Charts(t *testing.T)             { testMethod(t, "Billing.Charts") }
func TestBillingService_DeploymentCharts(t *testing.T)   { testMethod(t, "Billing.DeploymentCharts") }
func TestAPIKeysService_List(t *testing.T)               { testMethod(t, "APIKeys.List") }
func TestAPIKeysService_ListAll(t *testing.T)            { testMethod(t, "APIKeys.ListAll") }
func TestBillingV2Service_Instances(t *testing.T)        { testMethod(t, "BillingV2.Instances") }
func TestBillingV2Service_Items(t *testing.T)            { testMethod(t, "BillingV2.Items") }
func TestBillingV2Service_Charts(t *testing.T)           { testMethod(t, "BillingV2.Charts") }
func TestPlatformService_Allocators(t *testing.T)        { testMethod(t, "Platform.Allocators") }
func TestPlatformService_ProxiesHealth(t *testing.T)     { testMethod(t, "Platform.ProxiesHealth") }
func TestPlatformService_Runners(t *testing.T)           { testMethod(t, "Platform.Runners") }
func TestPlatformService_License(t *testing.T)           { testMethod(t, "Platform.License") }
func TestPlatformService_TLSCertificate(t *testing.T)    { testMethod(t, "Platform.TLSCertificate") }

// TestEveryMethodHasACase fails when a service gains a method without a
// methodCase (and so without the scenarios above).
func TestEveryMethodHasACase(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	require.NoError(t, err)
	var methods []string
	cv := reflect.ValueOf(c).Elem()
	for i := 0; i < cv.NumField(); i++ {
		f := cv.Type().Field(i)
		if !f.IsExported() || f.Type.Kind() != reflect.Pointer || !reflect.TypeOf((*service)(nil)).ConvertibleTo(f.Type) {
			continue
		}
		for j := 0; j < f.Type.NumMethod(); j++ {
			methods = append(methods, f.Name+"."+f.Type.Method(j).Name)
		}
	}
	var cases []string
	for name := range methodCases() {
		cases = append(cases, name)
	}
	sort.Strings(methods)
	sort.Strings(cases)
	// The reflection above must see every method the sources declare on
	// a *...Service (was a hand-kept count).
	assert.Equal(t, sourceServiceMethods(t), methods)
	assert.Equal(t, methods, cases)
}

// sourceServiceMethods lists the exported methods declared on the
// services in the package's source files, as Client field.Method names.
func sourceServiceMethods(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range ServiceMethodDecls(t) {
		out = append(out, m.Name)
	}
	sort.Strings(out)
	require.NotEmpty(t, out)
	return out
}

// ServiceMethodDecl is an exported method of a service as the package's
// sources declare it (exported for the eceapi_test tests).
type ServiceMethodDecl struct {
	Name string // Client field.Method, e.g. "Deployments.List"
	File string
	Doc  string // its doc comment
}

// ServiceMethodDecls parses the package's non-test sources for the
// exported methods declared on a *...Service.
func ServiceMethodDecls(t *testing.T) []ServiceMethodDecl {
	t.Helper()
	fields := map[string]string{} // service type -> Client field
	ct := reflect.TypeOf(Client{})
	for i := 0; i < ct.NumField(); i++ {
		if f := ct.Field(i); f.IsExported() && f.Type.Kind() == reflect.Pointer {
			fields[f.Type.Elem().Name()] = f.Name
		}
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var out []ServiceMethodDecl
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !fd.Name.IsExported() {
				continue
			}
			star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			if id, ok := star.X.(*ast.Ident); ok && strings.HasSuffix(id.Name, "Service") {
				require.Contains(t, fields, id.Name, "a service that is not a Client field")
				out = append(out, ServiceMethodDecl{Name: fields[id.Name] + "." + fd.Name.Name, File: name, Doc: fd.Doc.Text()})
			}
		}
	}
	return out
}

func TestCostsOptionsQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts *ChartsOptions
		want url.Values
	}{
		{"nil", nil, url.Values{}},
		{"zero", &ChartsOptions{}, url.Values{}},
		{"from only", &ChartsOptions{CostsOptions: CostsOptions{From: testFrom}}, url.Values{"from": {"2026-11-01T00:00:00Z"}}},
		{"to converted to UTC, sub-seconds dropped", &ChartsOptions{CostsOptions: CostsOptions{To: time.Date(2026, 11, 18, 1, 30, 0, 999, time.FixedZone("PST", -8*3600))}},
			url.Values{"to": {"2026-11-18T09:30:00Z"}}},
		{"daily", &ChartsOptions{Bucketing: BucketingDaily}, url.Values{"bucketing_strategy": {"daily"}}},
		{"monthly", &ChartsOptions{Bucketing: BucketingMonthly}, url.Values{"bucketing_strategy": {"monthly"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var got url.Values
			mux.HandleFunc(p("/billing/costs/o/charts"), func(w http.ResponseWriter, r *http.Request) {
				got = r.URL.Query()
				writeJSON(w, http.StatusOK, `{"data":[]}`)
			})
			_, _, err := c.Billing.Charts(context.Background(), "o", tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	t.Run("invalid bucketing is refused before sending", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		var hits atomic.Int32
		mux.HandleFunc("/", counter(&hits, func(w http.ResponseWriter, r *http.Request) {}))
		for _, b := range []Bucketing{"Daily", "MONTHLY", "weekly", "daily "} {
			_, _, err := c.Billing.Charts(context.Background(), "o", &ChartsOptions{Bucketing: b})
			assert.ErrorContains(t, err, "must be daily or monthly", string(b))
			_, _, err = c.Billing.DeploymentCharts(context.Background(), "o", "d", &ChartsOptions{Bucketing: b})
			assert.ErrorContains(t, err, "must be daily or monthly", string(b))
		}
		assert.Zero(t, hits.Load())
	})
}

func TestAllocatorsOptionsQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts *AllocatorsOptions
		want url.Values
	}{
		{"nil", nil, url.Values{}},
		{"zero: the API defaults", &AllocatorsOptions{}, url.Values{}},
		{"first page", &AllocatorsOptions{Size: AllocatorsPageSize}, url.Values{"size": {"100"}}},
		{"later page", &AllocatorsOptions{From: 200, Size: 100}, url.Values{"from": {"200"}, "size": {"100"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var got url.Values
			mux.HandleFunc(p("/platform/infrastructure/allocators"), func(w http.ResponseWriter, r *http.Request) {
				got = r.URL.Query()
				writeJSON(w, http.StatusOK, `{"zones":null}`)
			})
			v, _, err := c.Platform.Allocators(context.Background(), tc.opts)
			require.NoError(t, err)
			assert.Empty(t, v.Zones, "a null zones array is no zone")
			assert.Equal(t, tc.want, got)
		})
	}
	t.Run("negative values are refused before sending", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		var hits atomic.Int32
		mux.HandleFunc("/", counter(&hits, func(w http.ResponseWriter, r *http.Request) {}))
		for _, o := range []AllocatorsOptions{{From: -1}, {Size: -5}} {
			_, _, err := c.Platform.Allocators(context.Background(), &o)
			assert.ErrorContains(t, err, "must not be negative")
		}
		assert.Zero(t, hits.Load())
	})
}

// TestPlatformDecodesDrift: numbers the spec calls integers may arrive as
// fractions, optional objects may be null, and the chain status date may
// be in a format of its own; none of it fails the answer.
func TestPlatformDecodesDrift(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	for path, file := range map[string]string{
		"/platform/infrastructure/allocators":     "get-allocators/drift-fractions-and-nulls.json",
		"/platform/configuration/security/tls/ui": "get-tls-certificate/drift-null-chain-unusual-date.json",
		"/platform/license":                       "get-license/drift-float-millis-null-usage.json",
	} {
		body := fixture(t, file)
		mux.HandleFunc(p(path), func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, body) })
	}
	a, _, err := c.Platform.Allocators(context.Background(), nil)
	require.NoError(t, err)
	got := a.Zones[0].Allocators[0]
	assert.Equal(t, AllocatorCapacityMemory{Total: 1024.5, Used: 0.25}, got.Capacity.Memory)
	assert.Nil(t, got.Capacity.Storage)
	assert.Nil(t, got.Instances)
	assert.Nil(t, got.BuildInfo)

	tls, _, err := c.Platform.TLSCertificate(context.Background(), "ui")
	require.NoError(t, err)
	assert.Empty(t, tls.Chain)
	_, ok := tls.ChainStatus.Expiration()
	assert.False(t, ok, "an unusual date is reported as unknown, not as an error")
	_, ok = (*ChainStatus)(nil).Expiration()
	assert.False(t, ok)

	l, _, err := c.Platform.License(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1798761600000.0, l.License.ExpiryDateMillis)
	assert.Equal(t, 65536.0, l.License.MaxRAMPerAllocator)
	assert.Nil(t, l.UsageStats)
}
