package ecesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// simNow is the fixed clock of the tests: mid-month, mid-hour.
var simNow = time.Date(2026, 11, 18, 13, 30, 0, 0, time.UTC)

func fixedNow() time.Time { return simNow }

const apiKeyAuth = "ApiKey sim-api-key"

// start serves a simulator on loopback and returns it with the API base URL
// (ending in /api/v1/).
func start(t testing.TB, o Options) (*Server, string) {
	t.Helper()
	if o.Now == nil {
		o.Now = fixedNow
	}
	s := New(o)
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		s.ClearFaults() // release hung handlers before Close waits for them
		srv.Close()
	})
	return s, srv.URL + "/api/v1/"
}

// answer is a decoded response.
type answer struct {
	status int
	header http.Header
	raw    []byte
	body   any // decoded JSON, nil if not JSON
}

func (a answer) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := a.body.(map[string]any)
	require.Truef(t, ok, "body is not a JSON object: %s", a.raw)
	return m
}

// errCode returns errors[0].code of a BasicFailedReply.
func (a answer) errCode(t testing.TB) string {
	t.Helper()
	errs, ok := a.obj(t)["errors"].([]any)
	require.Truef(t, ok && len(errs) > 0, "not a BasicFailedReply: %s", a.raw)
	return errs[0].(map[string]any)["code"].(string)
}

// do sends a request; body may be nil.
func do(t testing.TB, method, url, auth string, body []byte) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: b}
	_ = json.Unmarshal(b, &a.body)
	return a
}

func get(t testing.TB, url string) answer { t.Helper(); return do(t, "GET", url, apiKeyAuth, nil) }

// path walks a decoded JSON value: keys for objects, ints for arrays.
func path(t testing.TB, v any, steps ...any) any {
	t.Helper()
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.Truef(t, ok, "not an object at %v", s)
			v = m[k]
		case int:
			a, ok := v.([]any)
			require.Truef(t, ok && k < len(a), "not an array or too short at %v", s)
			v = a[k]
		}
	}
	return v
}

func num(t testing.TB, v any, steps ...any) float64 {
	t.Helper()
	f, ok := path(t, v, steps...).(float64)
	require.Truef(t, ok, "not a number at %v", steps)
	return f
}

func list(t testing.TB, v any, steps ...any) []any {
	t.Helper()
	a, ok := path(t, v, steps...).([]any)
	require.Truef(t, ok, "not an array at %v", steps)
	return a
}

// ---- the official specs, as the reference for shapes ----

// specDir is ../shared/spec beside the checkout (as CI lays it out).
var specDir = filepath.Join("..", "..", "..", "shared", "spec")

type spec struct {
	Paths       map[string]map[string]json.RawMessage `json:"paths"`
	Definitions map[string]map[string]any             `json:"definitions"`
	ops         map[string]specOp                     // by operationId
}

type specOp struct {
	method, path string
	Responses    map[string]struct {
		Schema  map[string]any `json:"schema"`
		Headers map[string]struct {
			Enum []string `json:"enum"`
		} `json:"headers"`
	} `json:"responses"`
}

var (
	specMu    sync.Mutex
	specCache = map[string]*spec{}
)

// loadSpec reads one of the official Swagger files once.
func loadSpec(t testing.TB, mode Mode) *spec {
	t.Helper()
	file := "apidocs-user.json"
	if mode == ModeECE {
		file = "apidocs.json"
	}
	specMu.Lock()
	defer specMu.Unlock()
	if sp, ok := specCache[file]; ok {
		return sp
	}
	b, err := os.ReadFile(filepath.Join(specDir, file))
	require.NoErrorf(t, err, "the official specs are expected at %s (shared/spec beside the checkout)", specDir)
	sp := &spec{ops: map[string]specOp{}}
	require.NoError(t, json.Unmarshal(b, sp))
	for p, methods := range sp.Paths {
		for m, raw := range methods {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			so := specOp{method: strings.ToUpper(m), path: p}
			require.NoError(t, json.Unmarshal(raw, &so))
			sp.ops[op.OperationID] = so
		}
	}
	specCache[file] = sp
	return sp
}

// checkAnswer asserts that an answer is one the spec documents for the
// operation: a declared status, a body matching its schema (every
// required field with the right JSON type, no undeclared field, enums
// respected) and, for errors, an x-cloud-error-codes value from the
// declared enum.
func checkAnswer(t testing.TB, sp *spec, op string, a answer) {
	t.Helper()
	so, ok := sp.ops[op]
	require.Truef(t, ok, "operation %s is not in the spec", op)
	resp, ok := so.Responses[fmt.Sprint(a.status)]
	require.Truef(t, ok, "%s: status %d is not documented (body %s)", op, a.status, a.raw)
	require.Contains(t, a.header.Get("Content-Type"), "application/json")
	var problems []string
	checkSchema(sp, resp.Schema, a.body, "$", &problems)
	require.Emptyf(t, problems, "%s %d: body does not match the spec: %s", op, a.status, a.raw)
	if h, ok := resp.Headers["x-cloud-error-codes"]; ok {
		require.Containsf(t, h.Enum, a.header.Get("x-cloud-error-codes"), "%s %d: x-cloud-error-codes", op, a.status)
		require.Equal(t, a.header.Get("x-cloud-error-codes"), a.errCode(t))
	}
}

// fractionalIntegers reports whether the field at a JSON path is one the
// spec types as an integer but the live API sends with fractions
// (ItemCosts.hours, DtsQuantity.value: 8.326714027673006).
func fractionalIntegers(at string) bool {
	return strings.HasSuffix(at, ".hours") || strings.HasSuffix(at, ".quantity.value")
}

func checkSchema(sp *spec, schema map[string]any, v any, at string, problems *[]string) {
	bad := func(format string, args ...any) { *problems = append(*problems, at+": "+fmt.Sprintf(format, args...)) }
	if ref, ok := schema["$ref"].(string); ok {
		def, ok := sp.Definitions[strings.TrimPrefix(ref, "#/definitions/")]
		if !ok {
			bad("unresolved %s", ref)
			return
		}
		schema = def
	}
	if enum, ok := schema["enum"].([]any); ok && v != nil {
		found := false
		for _, e := range enum {
			found = found || e == v
		}
		if !found {
			bad("%v not in enum %v", v, enum)
		}
	}
	switch schema["type"] {
	case "object", nil:
		if schema["type"] == nil && schema["properties"] == nil {
			return // EmptyResponse-like: anything
		}
		m, ok := v.(map[string]any)
		if !ok {
			bad("want object, got %T", v)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := m[r.(string)]; !ok {
					bad("missing required %q", r)
				}
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k].(map[string]any)
			if !ok {
				bad("undeclared field %q", k)
				continue
			}
			checkSchema(sp, ps, m[k], at+"."+k, problems)
		}
	case "array":
		if v == nil {
			return // the live API sends null for an empty list ("deployments": null)
		}
		a, ok := v.([]any)
		if !ok {
			bad("want array, got %T", v)
			return
		}
		items, _ := schema["items"].(map[string]any)
		for i, e := range a {
			checkSchema(sp, items, e, fmt.Sprintf("%s[%d]", at, i), problems)
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			bad("want string, got %T", v)
			return
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				bad("not a date-time: %q", s)
			}
		}
	case "integer":
		f, ok := v.(float64)
		if ok && f != math.Trunc(f) && fractionalIntegers(at) {
			return
		}
		if !ok || f != math.Trunc(f) {
			bad("want integer, got %v", v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			bad("want number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want boolean, got %T", v)
		}
	}
}
