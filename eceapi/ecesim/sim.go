// Package ecesim is a simulated Elastic Cloud (ESS) / Elastic Cloud
// Enterprise (ECE) API for tests, benchmarks and the exporter's --demo mode.
//
// It serves the operations ece_exporter uses as the official Swagger specs
// shape them (field names, JSON types, status codes, BasicFailedReply error
// bodies with the x-cloud-error-codes header, x-ratelimit-* headers), with
// deterministic data generated from a seed at any scale, and fault
// injection per operation. It builds its JSON independently of the eceapi
// client package, so a wrong field name cannot pass on both sides.
//
// It is a test and demo tool, never a product path. Data is obviously fake:
// names start with "sim-".
package ecesim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode selects which API is simulated.
type Mode string

// Modes.
const (
	ModeESS Mode = "ess"
	ModeECE Mode = "ece"
)

// Options configures a simulator. Zero values get the defaults documented
// on each field.
type Options struct {
	Mode              Mode  // default ModeESS
	Seed              int64 // deterministic data
	Organizations     int   // ESS organizations, default 1 (ECE always has one implicit owner)
	DeploymentsPerOrg int   // default 10
	// RemoteClustersPerES is the number of remotes of each Elasticsearch
	// resource; default 2, negative means none.
	RemoteClustersPerES int
	// APIKeys is the number of listed keys, default 6: a mix expiring in 3
	// days, 20 days, 200 days, never, already expired, 60 days.
	APIKeys            int
	APIKey             string        // accepted "Authorization: ApiKey <key>", default "sim-api-key"
	Username, Password string        // ECE basic auth and _login, default "admin" / "sim-password"
	TokenTTL           time.Duration // ECE bearer token lifetime, default 15m
	Now                func() time.Time
	// RateLimit is the number of requests per RateLimitInterval before 429
	// (0 = unlimited, headers are sent anyway with limit 10000).
	RateLimit         int
	RateLimitInterval time.Duration // default 1m; sent as x-ratelimit-interval in seconds
	// APIKeyExpiration, when set, is sent as x-elastic-api-key-expiration
	// (RFC 3339) on ECE answers authenticated with the API key.
	APIKeyExpiration time.Time
	// ChartTimestampsMillis sends chart timestamps in milliseconds.
	ChartTimestampsMillis bool
	// LeakKeyField adds the `key` field to API key listings (the real API
	// only returns it on creation) so tests can prove it is never exposed.
	LeakKeyField bool
	// NotPlatformAdmin makes GET /users/auth/keys/_all answer 403 (ECE).
	NotPlatformAdmin bool
}

// LeakedKeyValue is the `key` value sent when Options.LeakKeyField is set.
const LeakedKeyValue = "SIM-LEAKED-KEY-VALUE-d41d8cd9"

// Server is the simulated API, an http.Handler serving /api/v1/...
type Server struct {
	opts Options
	w    *world

	mu           sync.Mutex
	counts       map[string]int
	faults       map[string]*faultState
	deleted      map[string]bool
	tokens       map[string]time.Time
	realUpgrades int
	windowStart  time.Time
	windowCount  int
	tokenSeq     int

	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

// New returns a simulator.
func New(o Options) *Server {
	if o.Mode == "" {
		o.Mode = ModeESS
	}
	if o.Organizations <= 0 {
		o.Organizations = 1
	}
	if o.DeploymentsPerOrg == 0 {
		o.DeploymentsPerOrg = 10
	}
	if o.RemoteClustersPerES == 0 {
		o.RemoteClustersPerES = 2
	}
	if o.RemoteClustersPerES < 0 {
		o.RemoteClustersPerES = 0
	}
	if o.APIKeys == 0 {
		o.APIKeys = 6
	}
	if o.APIKey == "" {
		o.APIKey = "sim-api-key"
	}
	if o.Username == "" {
		o.Username = "admin"
	}
	if o.Password == "" {
		o.Password = "sim-password"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RateLimitInterval <= 0 {
		o.RateLimitInterval = time.Minute
	}
	return &Server{
		opts: o, w: newWorld(o, o.Now()),
		counts: map[string]int{}, faults: map[string]*faultState{},
		deleted: map[string]bool{}, tokens: map[string]time.Time{},
	}
}

// DeploymentRef describes a listed deployment, for tests.
type DeploymentRef struct {
	ID, Name, OrganizationID string
	Resources                []ResourceRef
}

// ResourceRef describes a resource of a listed deployment.
type ResourceRef struct{ Kind, RefID, ID string }

// Deployments returns what GET /deployments currently lists.
func (s *Server) Deployments() []DeploymentRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []DeploymentRef
	for _, d := range s.w.deployments {
		if s.deleted[d.id] {
			continue
		}
		ref := DeploymentRef{ID: d.id, Name: d.name, OrganizationID: d.org}
		for _, r := range d.resources {
			ref.Resources = append(ref.Resources, ResourceRef{Kind: r.kind, RefID: r.refID, ID: r.id})
		}
		out = append(out, ref)
	}
	return out
}

// OrganizationIDs returns the simulated organizations.
func (s *Server) OrganizationIDs() []string {
	var out []string
	for _, o := range s.w.orgs {
		out = append(out, o.id)
	}
	return out
}

// DeleteDeployment makes a deployment disappear from every answer.
func (s *Server) DeleteDeployment(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.w.byID[id]; !ok || s.deleted[id] {
		return false
	}
	s.deleted[id] = true
	return true
}

// Requests returns how many requests an operation (spec operationId) got.
func (s *Server) Requests(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[operation]
}

// RequestCounts returns a copy of the per-operation counters.
func (s *Server) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// TotalRequests returns the number of requests of every operation.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.counts {
		n += v
	}
	return n
}

// ResetCounts zeroes the counters.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
	s.maxInFlight.Store(0)
}

// RealUpgrades returns how many _upgrade requests came WITHOUT
// validate_only=true, i.e. would have upgraded for real.
func (s *Server) RealUpgrades() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.realUpgrades
}

// MaxInFlight returns the highest number of concurrent requests seen.
func (s *Server) MaxInFlight() int { return int(s.maxInFlight.Load()) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if cur <= m || s.maxInFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	rt, params, methodOK := route(s.opts.Mode, r.Method, r.URL.Path)
	op := "unknown"
	if rt != nil {
		op = rt.op
	}
	s.mu.Lock()
	s.counts[op]++
	f := s.takeFault(op)
	s.mu.Unlock()

	s.setRateHeaders(w)
	if f != nil && f.answered(w, r, s) {
		return
	}
	if rt == nil {
		if !methodOK {
			writeError(w, http.StatusMethodNotAllowed, "root.method_not_allowed", "Method not allowed", false)
			return
		}
		writeError(w, http.StatusNotFound, "root.resource_not_found", "The requested resource could not be found", false)
		return
	}
	if limited := s.rateLimited(w, op); limited {
		return
	}
	authKind, ok := s.authenticate(r, rt.op)
	if !ok {
		writeError(w, http.StatusUnauthorized, "root.unauthorized", "The supplied authentication is invalid", rt.op != "list-deployments")
		return
	}
	if authKind == "apikey" && s.opts.Mode == ModeECE && !s.opts.APIKeyExpiration.IsZero() {
		w.Header().Set("x-elastic-api-key-expiration", s.opts.APIKeyExpiration.UTC().Format(time.RFC3339))
	}
	status, body := rt.handle(s, r, params)
	if f != nil {
		f.write(w, r, status, body)
		return
	}
	writeJSON(w, status, body)
}

// authenticate checks the request's credentials.
func (s *Server) authenticate(r *http.Request, op string) (string, bool) {
	h := r.Header.Get("Authorization")
	if op == "login" {
		return "none", true // credentials are in the body
	}
	switch {
	case strings.HasPrefix(h, "ApiKey "):
		return "apikey", strings.TrimPrefix(h, "ApiKey ") == s.opts.APIKey
	case s.opts.Mode == ModeECE && strings.HasPrefix(h, "Basic "):
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		return "basic", err == nil && string(b) == s.opts.Username+":"+s.opts.Password
	case s.opts.Mode == ModeECE && strings.HasPrefix(h, "Bearer "):
		s.mu.Lock()
		exp, ok := s.tokens[strings.TrimPrefix(h, "Bearer ")]
		s.mu.Unlock()
		return "bearer", ok && s.opts.Now().Before(exp)
	}
	return "", false
}

// setRateHeaders sends x-ratelimit-* on every answer.
func (s *Server) setRateHeaders(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= s.opts.RateLimitInterval {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	limit := s.opts.RateLimit
	if limit <= 0 {
		limit = 10000
	}
	remaining := limit - s.windowCount
	if remaining < 0 {
		remaining = 0
	}
	w.Header().Set("x-ratelimit-limit", fmt.Sprint(limit))
	w.Header().Set("x-ratelimit-remaining", fmt.Sprint(remaining))
	w.Header().Set("x-ratelimit-interval", fmt.Sprint(int(s.opts.RateLimitInterval/time.Second)))
}

func (s *Server) rateLimited(w http.ResponseWriter, op string) bool {
	if s.opts.RateLimit <= 0 {
		return false
	}
	s.mu.Lock()
	over := s.windowCount > s.opts.RateLimit
	wait := s.opts.RateLimitInterval - s.opts.Now().Sub(s.windowStart)
	s.mu.Unlock()
	if !over {
		return false
	}
	code := "root.rate_limited"
	if op == "get-costs-charts" || op == "get-costs-charts-by-deployment" {
		code = "billing_service.rate_limited"
	}
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	writeError(w, http.StatusTooManyRequests, code, "Too many requests", true)
	return true
}

// errorReply is BasicFailedReply.
type errorReply struct {
	Errors []errorElement `json:"errors"`
}

type errorElement struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// writeError sends a BasicFailedReply; withHeader adds x-cloud-error-codes
// (the spec declares it on every documented error except the 401 of
// GET /deployments).
func writeError(w http.ResponseWriter, status int, code, msg string, withHeader bool) {
	if withHeader {
		w.Header().Set("x-cloud-error-codes", code)
	}
	writeJSON(w, status, errorReply{Errors: []errorElement{{Code: code, Message: msg}}})
}

// apiError is returned by handlers for error answers.
type apiError struct {
	status    int
	code, msg string
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	if e, ok := body.(apiError); ok {
		writeError(w, e.status, e.code, e.msg, true)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
