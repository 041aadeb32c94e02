package eceapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// specOperation is where an operation of a Swagger 2.0 document lives.
type specOperation struct {
	method, path string
	status       int // its success status
}

// specOperations reads the operations of a Swagger 2.0 spec by id.
func specOperations(t *testing.T, file string) map[string]specOperation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(specDir, file))
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	ops := map[string]specOperation{}
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			var op struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue // "parameters" shared by the path's operations
			}
			so := specOperation{method: strings.ToUpper(method), path: path}
			for code := range op.Responses {
				if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 300 && (so.status == 0 || n < so.status) {
					so.status = n
				}
			}
			ops[op.OperationID] = so
		}
	}
	return ops
}

// pathParams are the values the fixtures' requests fill in.
var pathParams = map[string]string{
	"deployment_id": "4f8e2b6c1d3a4e5f9a7b8c0d1e2f3a4b", "organization_id": "1234567890",
	"ref_id": "main-elasticsearch", "stateless_resource_kind": "kibana", "user_id": "admin",
	"service_name": "adminconsole",
}

// TestFixturesMatchSpec validates every success fixture of the client
// tests, testdata/<operation>/<case>.json, against the response schema of
// its operation in the official spec, so that the client is tested against
// answers shaped exactly like the documented ones. The list is the tree:
// a fixture added is checked without being listed. The drift fixtures
// (testdata/<operation>/drift-*.json: fractional integers, nulls for lists
// and objects, unknown enum values, fields left out) are checked to be
// outside the spec: they show that the client tolerates what the live API
// sends beyond it. Error answers (testdata/<operation>/error-<status>-*.json)
// are checked against the documented answer of that status. Float notation
// of an integral timestamp (1.7948736e9) is still a JSON Schema integer. The Cloud Billing API (v2)
// fixtures are checked against billing-v2.yaml by
// TestBillingV2FixturesMatchSpec.
func TestFixturesMatchSpec(t *testing.T) {
	t.Parallel()
	const host = "https://api.elastic-cloud.com"
	// The operations are byte-identical in both files; the ECE one also
	// has the ECE-only API key listings. One load keeps the test quick.
	router := loadSpec(t, "apidocs.json", host)
	ops := specOperations(t, "apidocs.json")
	v2 := billingV2Operations(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	require.NoError(t, err)
	checked := 0
	for _, file := range files {
		opID, name := filepath.Base(filepath.Dir(file)), filepath.Base(file)
		if v2[opID] {
			continue
		}
		op, ok := ops[opID]
		if !assert.True(t, ok, "%s: the directory names no operation of apidocs.json or billing-v2.yaml", file) {
			continue
		}
		checked++
		t.Run(opID+"/"+name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			require.NoError(t, err)
			path := op.path
			for k, v := range pathParams {
				path = strings.ReplaceAll(path, "{"+k+"}", v)
			}
			require.NotContains(t, path, "{", "a path parameter without a value in pathParams")
			req, err := http.NewRequest(op.method, host+"/api/v1"+path, nil)
			require.NoError(t, err)
			route, params, err := router.FindRoute(req)
			require.NoError(t, err)
			require.Equal(t, opID, route.Operation.OperationID)
			ri := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			// An error answer, error-<status>-*.json, is checked against
			// the operation's documented answer of that status.
			status := op.status
			if rest, ok := strings.CutPrefix(name, "error-"); ok {
				code, _, _ := strings.Cut(rest, "-")
				status, err = strconv.Atoi(code)
				require.NoError(t, err, "error fixtures are named error-<status>-<case>.json")
			}
			rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: ri, Status: status,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
			err = openapi3filter.ValidateResponse(context.Background(), rv)
			if strings.HasPrefix(name, "drift-") {
				assert.Error(t, err, "a drift fixture must stay outside the spec")
			} else {
				assert.NoError(t, err)
			}
		})
	}
	assert.Positive(t, checked, "no fixture found under testdata/<operation>/")
}

// billingV2Operations are the operation ids of billing-v2.yaml.
func billingV2Operations(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(specDir, "billing-v2.yaml"))
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(data)
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids[op.OperationID] = true
		}
	}
	return ids
}

// TestServiceDocsNameTheSpecOperation: every service method's doc comment
// ends, as go-github's do, with the operation it calls, "METHOD /path
// (operation-id)", and that is the operation of that id in the spec.
func TestServiceDocsNameTheSpecOperation(t *testing.T) {
	t.Parallel()
	v1 := specOperations(t, "apidocs.json")
	v2 := map[string]specOperation{}
	data, err := os.ReadFile(filepath.Join(specDir, "billing-v2.yaml"))
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(data)
	require.NoError(t, err)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			v2[op.OperationID] = specOperation{method: method, path: path}
		}
	}
	last := regexp.MustCompile(`^(GET|POST|PUT|DELETE|PATCH) (/\S*?)(\?\S+)? \(([A-Za-z0-9-]+)\)$`)
	n := 0
	for _, decl := range eceapi.ServiceMethodDecls(t) {
		n++
		where := decl.File + ": " + decl.Name
		lines := strings.Split(strings.TrimSpace(decl.Doc), "\n")
		m := last.FindStringSubmatch(lines[len(lines)-1])
		if !assert.NotNil(t, m, "%s: the doc comment must end with \"METHOD /path (operation-id)\"", where) {
			continue
		}
		op, ok := v1[m[4]]
		if !ok {
			op, ok = v2[m[4]] // its paths carry /api/v2 already
		}
		if assert.True(t, ok, "%s: %s is no operation of the specs", where, m[4]) {
			assert.Equal(t, op.method+" "+op.path, m[1]+" "+m[2], where)
		}
	}
	assert.Positive(t, n)
}
