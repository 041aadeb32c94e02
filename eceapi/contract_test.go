package eceapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// specDir is where CI keeps the official specs: ../shared/spec beside the
// checkout, i.e. ../../shared/spec from this package.
var specDir = filepath.Join("..", "..", "shared", "spec")

// loadSpec loads a spec as published. With live, the two fields that the
// live API (and so the simulator) sends with fractions although the spec
// types them as integers are relaxed to numbers.
func loadSpec(t *testing.T, file, serverURL string, live ...bool) routers.Router {
	t.Helper()
	path := filepath.Join(specDir, file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the contract test needs the official API specs at %s (../shared/spec beside the repository): %v", path, err)
	}
	var doc2 openapi2.T
	require.NoError(t, json.Unmarshal(data, &doc2))
	doc3, err := openapi2conv.ToV3(&doc2)
	require.NoError(t, err)
	doc3.Servers = openapi3.Servers{{URL: serverURL + "/api/v1"}}
	// The live API sends fractions in two fields the spec types as
	// integers (ItemCosts.hours, DtsQuantity.value: 8.326714027673006);
	// the simulator does too, and the client decodes them as float64.
	// Only those two are relaxed, and only for the live answers.
	for _, f := range []struct{ schema, prop string }{{"ItemCosts", "hours"}, {"DtsQuantity", "value"}} {
		if len(live) == 0 || !live[0] {
			break
		}
		if sr := doc3.Components.Schemas[f.schema]; sr != nil && sr.Value != nil {
			if pr := sr.Value.Properties[f.prop]; pr != nil && pr.Value != nil && pr.Value.Type.Is("integer") {
				pr.Value.Type, pr.Value.Format = &openapi3.Types{"number"}, "double"
			}
		}
	}
	// The official documents carry a few self-contradictions (the default
	// "Daily" outside its own enum, non-array examples of arrays): they
	// are about defaults and examples, not about what is sent, so those
	// two checks of the document itself are off.
	router, err := legacy.NewRouter(doc3, openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation())
	require.NoError(t, err)
	return router
}

// exchange is one request the client sent and the answer it got.
type exchange struct {
	req    *http.Request
	body   []byte
	status int
	header http.Header
	resp   []byte
}

// recorder is a RoundTripper that keeps every exchange.
type recorder struct {
	mu   sync.Mutex
	log  []exchange
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	r.mu.Lock()
	r.log = append(r.log, exchange{req: req.Clone(context.Background()), body: body, status: resp.StatusCode, header: resp.Header.Clone(), resp: rb})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// validate checks one exchange against the spec: the operation exists, the
// request validates, and the response (success or error) validates against
// the documented schema of its status.
func validate(t *testing.T, router routers.Router, ex exchange, wantOperation string) {
	t.Helper()
	req := ex.req.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(ex.body))
	route, params, err := router.FindRoute(req)
	require.NoError(t, err, "%s %s is not in the spec", req.Method, req.URL.Path)
	assert.Equal(t, wantOperation, route.Operation.OperationID, "%s %s", req.Method, req.URL.Path)
	ri := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	require.NoError(t, openapi3filter.ValidateRequest(context.Background(), ri), "request %s %s", req.Method, req.URL)
	if route.Operation.Responses.Status(ex.status) == nil {
		// Undocumented status (e.g. 401 on billing, 429 on most operations):
		// it must still be a BasicFailedReply.
		var reply struct {
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(ex.resp, &reply), "undocumented %d of %s: %s", ex.status, wantOperation, ex.resp)
		require.NotEmpty(t, reply.Errors)
		return
	}
	rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: ri, Status: ex.status, Header: ex.header,
		Body: io.NopCloser(bytes.NewReader(ex.resp)), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), rv), "response %d of %s: %.300s", ex.status, wantOperation, ex.resp)
	if ex.status >= 400 {
		codes := route.Operation.Responses.Status(ex.status).Value.Headers["x-cloud-error-codes"]
		if codes != nil {
			assert.NotEmpty(t, ex.header.Get("x-cloud-error-codes"), "%d of %s declares x-cloud-error-codes", ex.status, wantOperation)
		}
	}
}

type call struct {
	op  string
	run func(ctx context.Context, c *eceapi.Client, dep ecesim.DeploymentRef, org string) error
}

func clientCalls(mode ecesim.Mode) []call {
	costs := &eceapi.CostsOptions{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)}
	charts := &eceapi.ChartsOptions{CostsOptions: *costs, Bucketing: eceapi.BucketingDaily}
	calls := []call{
		{"list-deployments", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Deployments.List(ctx)
			return err
		}},
		{"get-current-account", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Accounts.Get(ctx)
			return err
		}},
		{"get-deployment-es-resource-remote-clusters", func(ctx context.Context, c *eceapi.Client, d ecesim.DeploymentRef, _ string) error {
			// The deployment's own ref_id: main-elasticsearch on ESS,
			// elasticsearch on ECE.
			_, _, err := c.Deployments.RemoteClusters(ctx, d.ID, d.Resources[0].RefID)
			return err
		}},
		{"upgrade-deployment-stateless-resource", func(ctx context.Context, c *eceapi.Client, d ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Deployments.UpgradeDryRun(ctx, d.ID, d.Resources[1].Kind, d.Resources[1].RefID)
			return err
		}},
		{"get-api-keys", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.APIKeys.List(ctx)
			return err
		}},
		{"search-deployments", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Deployments.Search(ctx, &eceapi.SearchRequest{Size: 3, Sort: eceapi.SortByID})
			return err
		}},
		{"get-version-stacks", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Stack.Versions(ctx, true)
			return err
		}},
	}
	if mode == ecesim.ModeECE {
		return append(append(calls,
			call{"get-users-api-keys", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
				_, _, err := c.APIKeys.ListAll(ctx)
				return err
			}},
		), platformCalls()...)
	}
	return append(calls,
		call{"list-organizations", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Organizations.List(ctx)
			return err
		}},
		call{"get-costs-overview", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, o string) error {
			_, _, err := c.Billing.Overview(ctx, o, costs)
			return err
		}},
		call{"get-costs-deployments", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, o string) error {
			_, _, err := c.Billing.Deployments(ctx, o, costs)
			return err
		}},
		call{"get-costs-items-by-deployment", func(ctx context.Context, c *eceapi.Client, d ecesim.DeploymentRef, o string) error {
			_, _, err := c.Billing.DeploymentItems(ctx, o, d.ID, costs)
			return err
		}},
		call{"get-costs-charts", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, o string) error {
			_, _, err := c.Billing.Charts(ctx, o, charts)
			return err
		}},
		call{"get-costs-charts-by-deployment", func(ctx context.Context, c *eceapi.Client, d ecesim.DeploymentRef, o string) error {
			_, _, err := c.Billing.DeploymentCharts(ctx, o, d.ID, charts)
			return err
		}},
	)
}

// platformCalls are the ECE platform operations, one call each (the
// allocators as a later page, so that from and size are both sent).
func platformCalls() []call {
	calls := []call{
		{"get-allocators", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Platform.Allocators(ctx, &eceapi.AllocatorsOptions{From: 2, Size: eceapi.AllocatorsPageSize})
			return err
		}},
		{"get-proxies-health", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Platform.ProxiesHealth(ctx)
			return err
		}},
		{"get-runners", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Platform.Runners(ctx)
			return err
		}},
		{"get-license", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Platform.License(ctx)
			return err
		}},
	}
	for _, svc := range eceapi.TLSServiceNames {
		calls = append(calls, call{"get-tls-certificate", func(ctx context.Context, c *eceapi.Client, _ ecesim.DeploymentRef, _ string) error {
			_, _, err := c.Platform.TLSCertificate(ctx, svc)
			return err
		}})
	}
	return calls
}

// documentedErrors are error answers the spec documents per operation,
// produced by the simulator itself (not by fault injection).
var documentedErrors = map[string]func(s *ecesim.Server, d *ecesim.DeploymentRef, org *string){
	"get-deployment-es-resource-remote-clusters": func(s *ecesim.Server, d *ecesim.DeploymentRef, _ *string) { d.ID = "ffffffffffffffffffffffffffffffff" },
	"upgrade-deployment-stateless-resource":      func(s *ecesim.Server, d *ecesim.DeploymentRef, _ *string) { d.ID = "ffffffffffffffffffffffffffffffff" },
	"get-costs-overview":                         func(s *ecesim.Server, _ *ecesim.DeploymentRef, org *string) { *org = "999" },
	"get-costs-deployments":                      func(s *ecesim.Server, _ *ecesim.DeploymentRef, org *string) { *org = "999" },
	"get-costs-items-by-deployment":              func(s *ecesim.Server, d *ecesim.DeploymentRef, _ *string) { d.ID = "ffffffffffffffffffffffffffffffff" },
	"get-costs-charts":                           func(s *ecesim.Server, _ *ecesim.DeploymentRef, org *string) { *org = "999" },
	"get-costs-charts-by-deployment":             func(s *ecesim.Server, _ *ecesim.DeploymentRef, org *string) { *org = "999" },
}

func TestContractAgainstOfficialSpec(t *testing.T) {
	for _, tc := range []struct {
		mode ecesim.Mode
		file string
	}{{ecesim.ModeESS, "apidocs-user.json"}, {ecesim.ModeECE, "apidocs.json"}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			sim := ecesim.New(ecesim.Options{Mode: tc.mode, Seed: 77, DeploymentsPerOrg: 4, Now: func() time.Time { return time.Date(2026, 11, 18, 13, 0, 0, 0, time.UTC) }})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			router := loadSpec(t, tc.file, srv.URL, true)
			rec := &recorder{next: http.DefaultTransport}
			c, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("sim-api-key"),
				eceapi.WithHTTPClient(&http.Client{Transport: rec}), eceapi.WithMaxRetries(0))
			require.NoError(t, err)
			dep := sim.Deployments()[0]
			org := ""
			if ids := sim.OrganizationIDs(); len(ids) > 0 {
				org = ids[0]
			}
			ctx := context.Background()
			for _, cl := range clientCalls(tc.mode) {
				t.Run(cl.op, func(t *testing.T) {
					require.NoError(t, cl.run(ctx, c, dep, org))
					exs := rec.take()
					require.Len(t, exs, 1)
					assert.Less(t, exs[0].status, 300)
					validate(t, router, exs[0], cl.op)
					if strings.Contains(exs[0].req.URL.Path, "_upgrade") {
						assert.Equal(t, "true", exs[0].req.URL.Query().Get("validate_only"))
					}

					if mutate, ok := documentedErrors[cl.op]; ok && mutate != nil {
						d, o := dep, org
						mutate(sim, &d, &o)
						require.Error(t, cl.run(ctx, c, d, o))
						exs := rec.take()
						require.Len(t, exs, 1)
						assert.GreaterOrEqual(t, exs[0].status, 400)
						validate(t, router, exs[0], cl.op)
					}
				})
			}
			// A whole paged search walk: every page, the empty last one
			// included, is a spec-shaped answer to a spec-shaped request.
			t.Run("search-deployments walk", func(t *testing.T) {
				req := &eceapi.SearchRequest{Size: 3, Sort: eceapi.SortByID}
				seen := 0
				for range 10 {
					page, _, err := c.Deployments.Search(ctx, req)
					require.NoError(t, err)
					exs := rec.take()
					require.Len(t, exs, 1)
					validate(t, router, exs[0], "search-deployments")
					seen += len(page.Deployments)
					if len(page.Deployments) == 0 || page.Cursor == "" {
						break
					}
					req = &eceapi.SearchRequest{Cursor: page.Cursor}
				}
				assert.Equal(t, len(sim.Deployments()), seen)
			})
			// Every answer of the simulator without credentials is a spec-shaped 401.
			bad, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("wrong"),
				eceapi.WithHTTPClient(&http.Client{Transport: rec}), eceapi.WithMaxRetries(0))
			require.NoError(t, err)
			_, _, err = bad.Deployments.List(ctx)
			require.Error(t, err)
			exs := rec.take()
			require.Len(t, exs, 1)
			assert.Equal(t, http.StatusUnauthorized, exs[0].status)
			validate(t, router, exs[0], "list-deployments")

			if tc.mode == ecesim.ModeECE {
				// Username/password: the client's _login, and its _refresh
				// once two thirds of the token's lifetime have passed.
				t.Run("login+refresh-token", func(t *testing.T) {
					clock := time.Date(2026, 11, 18, 13, 0, 0, 0, time.UTC)
					lc, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithLogin("admin", "sim-password"),
						eceapi.WithHTTPClient(&http.Client{Transport: rec}), eceapi.WithMaxRetries(0),
						eceapi.WithClock(func() time.Time { return clock }))
					require.NoError(t, err)
					_, _, err = lc.Deployments.List(ctx)
					require.NoError(t, err)
					exs := rec.take()
					require.Len(t, exs, 2)
					validate(t, router, exs[0], "login")
					validate(t, router, exs[1], "list-deployments")
					clock = clock.Add(11 * time.Minute) // the simulator's tokens live 15 minutes
					_, _, err = lc.Deployments.List(ctx)
					require.NoError(t, err)
					exs = rec.take()
					require.Len(t, exs, 2)
					validate(t, router, exs[0], "refresh-token")
					validate(t, router, exs[1], "list-deployments")
				})
			}
			if tc.mode == ecesim.ModeECE {
				// A user without the platform admin role: every platform
				// operation answers a BasicFailedReply 403.
				t.Run("not-platform-admin", func(t *testing.T) {
					na := httptest.NewServer(ecesim.New(ecesim.Options{Mode: tc.mode, Seed: 77, DeploymentsPerOrg: 1, NotPlatformAdmin: true}))
					defer na.Close()
					nc, err := eceapi.NewClient(eceapi.WithBaseURL(na.URL), eceapi.WithAPIKey("sim-api-key"),
						eceapi.WithHTTPClient(&http.Client{Transport: rec}), eceapi.WithMaxRetries(0))
					require.NoError(t, err)
					naRouter := loadSpec(t, tc.file, na.URL)
					for _, cl := range platformCalls() {
						err := cl.run(ctx, nc, dep, org)
						var apiErr *eceapi.APIError
						require.ErrorAs(t, err, &apiErr, cl.op)
						assert.Equal(t, http.StatusForbidden, apiErr.StatusCode, cl.op)
						assert.Equal(t, "root.unauthorized.rbac", apiErr.Code(), cl.op)
						exs := rec.take()
						require.Len(t, exs, 1)
						validate(t, naRouter, exs[0], cl.op)
					}
				})
			}
			assert.Zero(t, sim.RealUpgrades())
		})
	}
}

func TestContractTestFailsWithoutSpecs(t *testing.T) {
	_, err := os.Stat(filepath.Join(specDir, "apidocs-user.json"))
	require.NoError(t, err, fmt.Sprintf("official specs expected at %s", specDir))
}

// TestContractCatchesViolations proves the contract check can fail: a
// response missing a required field, or with a wrong type, is rejected.
func TestContractCatchesViolations(t *testing.T) {
	sim := ecesim.New(ecesim.Options{Seed: 78, DeploymentsPerOrg: 2})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	router := loadSpec(t, "apidocs-user.json", srv.URL)
	rec := &recorder{next: http.DefaultTransport}
	c, err := eceapi.NewClient(eceapi.WithBaseURL(srv.URL), eceapi.WithAPIKey("sim-api-key"), eceapi.WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	for name, mutate := range map[string]func(v any) any{
		"missing required name": func(v any) any {
			delete(v.(map[string]any)["deployments"].([]any)[0].(map[string]any), "name")
			return v
		},
		"string for an array": func(v any) any {
			v.(map[string]any)["deployments"].([]any)[0].(map[string]any)["resources"] = "none"
			return v
		},
	} {
		sim.SetFault("list-deployments", ecesim.Fault{Mutate: mutate, Times: 1})
		_, _, _ = c.Deployments.List(context.Background())
		exs := rec.take()
		require.Len(t, exs, 1)
		req := exs[0].req.Clone(context.Background())
		route, params, err := router.FindRoute(req)
		require.NoError(t, err)
		ri := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: ri, Status: exs[0].status, Header: exs[0].header,
			Body: io.NopCloser(bytes.NewReader(exs[0].resp)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		assert.Error(t, openapi3filter.ValidateResponse(context.Background(), rv), name)
	}
}
