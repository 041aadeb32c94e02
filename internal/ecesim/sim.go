// Package ecesim is a simulated Elastic Cloud (ESS) / Elastic Cloud
// Enterprise (ECE) REST API for tests, benchmarks and the exporter's --demo
// mode.
//
// A Server is an http.Handler that serves the paths /api/v1/... of the
// operations ece_exporter uses, shaped as the official Swagger 2.0 specs
// (shared/spec/apidocs-user.json for ESS, apidocs.json for ECE) shape them:
// field names, JSON types, status codes, BasicFailedReply error bodies
// ({"errors":[{"code","message","fields"}]}) with the x-cloud-error-codes
// header, and the x-ratelimit-* headers on every answer. Mount it with
// httptest.NewServer(ecesim.New(opts)). In ESS mode it also serves the
// Cloud Billing API (v2) below /api/v2/..., consistent with the v1 billing
// data (see billingv2.go).
//
// The data (organizations, deployments and their resources, remote
// clusters, API keys, prices) is generated once in New from Options.Seed,
// so the same options give byte-identical answers; it scales to thousands
// of deployments. All costs derive from one linear model (hours of usage
// times an hourly price, integer micro-ECU internally), so the billing
// answers are consistent with each other: a deployment's items sum to its
// total and to its dimensions, deployments sum to the organization
// overview, and chart buckets sum to the overview of the same window.
//
// Where Elastic's recorded answers differ from the specs, the simulator
// answers as the live API does: ref_ids main-<kind> on ESS, <kind> on ECE
// and user-chosen names on every fifth deployment; fractional item hours
// (a resource resized during the month has two items, one per SKU, that
// share the hour of the resize) and DTS quantities; SKUs with provider,
// family, region, size and zone count
// (aws.es.datahot.c6gd_us-east-1_4096_2, aws.data-transfer-in); null for
// the empty lists of the billing answers; date-times with milliseconds and
// Z; expired API keys left out of every listing, and ECE keys never owned
// by the built-in admin and readonly users. Options.BillingForbidden,
// LegacyLogin and EmptyUpgradeAnswers add the text/plain 403 of a key
// without billing, ECE 2.x's JWT-only login and the dry run's empty 202.
//
// Faults (status codes, error codes, HTML bodies, raw bodies, latency,
// hangs, slow, truncated, reset or oversized bodies, mutated JSON) can be
// injected per operation with SetFault; every request is counted per
// operation, including those a fault answers.
//
// The package builds its JSON independently of the eceapi client package
// (it does not import it), so a wrong field name cannot pass on both sides.
// It is a test and demo tool, never a product path: every generated name
// starts with "sim-".
//
// # Operations
//
// Operation names are the specs' operationIds:
//
//	list-deployments                            GET  /deployments
//	search-deployments                          POST /deployments/_search  (health, plans, topology, snapshots, tags; see health.go)
//	get-version-stacks                          GET  /stack/versions
//	get-current-account                         GET  /account
//	list-organizations                          GET  /organizations  (ESS)
//	get-costs-overview                          GET  /billing/costs/{organization_id}  (ESS)
//	get-costs-deployments                       GET  /billing/costs/{organization_id}/deployments  (ESS)
//	get-costs-items                             GET  /billing/costs/{organization_id}/items  (ESS)
//	get-costs-items-by-deployment               GET  /billing/costs/{organization_id}/deployments/{deployment_id}/items  (ESS)
//	get-costs-charts                            GET  /billing/costs/{organization_id}/charts  (ESS)
//	get-costs-charts-by-deployment              GET  /billing/costs/{organization_id}/deployments/{deployment_id}/charts  (ESS)
//	get-deployment-es-resource-remote-clusters  GET  /deployments/{deployment_id}/elasticsearch/{ref_id}/remote-clusters
//	get-api-keys                                GET  /users/auth/keys
//	get-api-key                                 GET  /users/auth/keys/{api_key_id}
//	get-users-api-keys                          GET  /users/auth/keys/_all  (ECE)
//	get-user-api-keys                           GET  /users/{user_id}/auth/keys  (ECE)
//	login                                       POST /users/auth/_login  (ECE)
//	refresh-token                               POST /users/auth/_refresh  (ECE)
//	upgrade-deployment-stateless-resource       POST /deployments/{deployment_id}/{stateless_resource_kind}/{ref_id}/_upgrade
//	get-allocators                              GET  /platform/infrastructure/allocators  (ECE; from, size)
//	get-proxies-health                          GET  /platform/infrastructure/proxies/health  (ECE)
//	get-runners                                 GET  /platform/infrastructure/runners  (ECE)
//	get-license                                 GET  /platform/license  (ECE)
//	get-tls-certificate                         GET  /platform/configuration/security/tls/{service_name}  (ECE)
//
// The platform operations' data is described in platform.go.
//
// Requests that match no operation are counted as "unknown".
//
// # Authentication
//
// ESS accepts only "Authorization: ApiKey <Options.APIKey>". ECE also
// accepts "Basic base64(Username:Password)" and "Bearer <token>" with an
// unexpired token from login or refresh-token (which needs a bearer token).
// Missing or wrong credentials answer 401 root.unauthorized (on
// list-deployments without the x-cloud-error-codes header, which the spec
// does not declare there); a failed login answers 401 root.unauthenticated.
//
// # Choices the specs leave open
//
//   - Operations of the other mode: in ECE mode the billing operations and
//     GET /organizations answer 404 root.resource_not_found ("currently
//     unavailable in self-hosted ECE"), after authentication. In ESS mode
//     login, refresh-token and get-user-api-keys answer 404
//     root.resource_not_found; GET /users/auth/keys/_all is routed as ESS
//     routes it, to get-api-key with the key id "_all": 404
//     api_keys.key_not_found.
//   - Unknown paths answer 404 root.resource_not_found and known paths with
//     another method 405 root.method_not_allowed (with Allow), both before
//     authentication.
//   - Billing windows: from/to accept YYYY-MM-DD or RFC 3339; from defaults
//     to the start of the current month (UTC), to to now. A from before
//     2021-01-01, a to before from, a window longer than 400 days or an
//     unparsable date answer 400 costs.invalid_date_range (fields names the
//     parameter). A date-only to means the end of that day (from=to=day
//     is the whole day). Usage counts the clock hours that start in
//     [from, to), from the deployment's creation, up to the last whole
//     hour before now.
//   - bucketing_strategy is daily (default) or monthly, lower-case as the
//     spec's enum; anything else answers 400 root.invalid_data. A bucket's
//     timestamp is its start (UTC midnight, or the first of the month) in
//     Unix seconds, or milliseconds with Options.ChartTimestampsMillis.
//     The organization chart has one value per deployment (id and name of
//     the deployment); the deployment chart one value per resource kind (id
//     "elasticsearch", "kibana", ...) plus "data_transfer_and_storage".
//   - Unknown deployments on the per-deployment billing operations answer
//     404 billing_service.es_cluster_id_not_found (the spec declares it for
//     the items; for the chart it declares only organization.not_found).
//   - The organization's items list each deployment's lines (named after
//     the deployment), not merged by SKU, so each keeps price = hours ×
//     price_per_hour. Costs list every Dimension.type of the spec's enum.
//   - _upgrade with a kind outside the spec's stateless_resource_kind enum
//     (e.g. elasticsearch) answers 400 root.invalid_data with fields
//     ["stateless_resource_kind"]. validate_only=true (exactly) answers 202
//     with the version it would upgrade to (the current one when already
//     current); anything else upgrades for real (see RealUpgrades).
//     "_main" is accepted as ref_id (also for remote clusters).
//   - ECE's _all and the platform operations without the platform admin
//     role (Options.NotPlatformAdmin) answer 403 root.unauthorized.rbac,
//     the spec's code for "User must have Platform level permissions".
//   - Rate limiting is a fixed window per Server; a 429 carries Retry-After
//     (seconds until the window ends) and billing_service.rate_limited on
//     the chart operations (the only ones whose 429 the spec documents),
//     root.rate_limited elsewhere. The x-ratelimit-interval header is the
//     interval in whole seconds (rounded up), e.g. "60". With RateLimit 0
//     the limit advertised is UnlimitedQuota.
//   - Not simulated: the Accept: text/csv variant of the items, the 302 of
//     login with login_state.path.
package ecesim

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode selects which API is simulated.
type Mode string

// The simulated APIs.
const (
	// ModeESS simulates Elastic Cloud (api.elastic-cloud.com): API keys
	// only, organizations and billing.
	ModeESS Mode = "ess"
	// ModeECE simulates self-hosted Elastic Cloud Enterprise: API keys,
	// basic auth and bearer tokens from _login, no organizations or
	// billing, admin API key listings.
	ModeECE Mode = "ece"
)

// UnlimitedQuota is the x-ratelimit-limit advertised when Options.RateLimit
// is 0: high enough that no client paces itself against it.
const UnlimitedQuota = 1000000

// LeakedKeyValue is the `key` value sent in API key listings when
// Options.LeakKeyField is set.
const LeakedKeyValue = "SIM-LEAKED-KEY-VALUE-d41d8cd9"

// Options configures a simulator. Zero values get the defaults documented
// on each field.
type Options struct {
	// Mode is the simulated API, default ModeESS.
	Mode Mode
	// Seed makes the generated data deterministic: the same options give
	// identical answers.
	Seed int64
	// Organizations is the number of ESS organizations, default 1. ECE has
	// no organizations: its deployments belong to no organization.
	Organizations int
	// DeploymentsPerOrg is the number of deployments of each organization
	// (ECE: in total), default 10; negative means none.
	DeploymentsPerOrg int
	// ResourcesPerDeployment, when positive, gives every deployment that
	// many resources: Elasticsearch first, then kibana,
	// integrations_server, apm, enterprise_search and appsearch (at most
	// 6). Zero keeps the default mix: Elasticsearch plus 1 to 3 others by
	// index.
	ResourcesPerDeployment int
	// IDPrefix starts every generated deployment and resource id (which
	// stay 32 hex digits): "deadbeef" makes demo ids recognisably fake.
	// Lowercase hex digits only, at most 16.
	IDPrefix string
	// RemoteClustersPerES is the number of remote clusters of each
	// Elasticsearch resource, default 2; negative means none. It is capped
	// at the number of other deployments.
	RemoteClustersPerES int
	// APIKeys is the number of API keys, default 6; negative means none.
	// They cycle through expiring in 3 days, in 20 days, in 200 days,
	// never (no expiration_date), expired 2 days ago, in 60 days. Expired
	// keys are left out of every listing, as the API does.
	APIKeys int
	// APIKey is the accepted "Authorization: ApiKey <key>", default
	// "sim-api-key".
	APIKey string
	// Username and Password are the ECE basic-auth and _login credentials,
	// default "admin" / "sim-password". ECE keys are owned by this user,
	// APIKeyUser, sim-user-1 and sim-user-2, but never by the built-in
	// admin and readonly users, for which ECE cannot create keys.
	Username, Password string
	// APIKeyUser is the ECE user who owns APIKey (in ECE a key is owned by
	// the user who created it, never a built-in user): requests made with
	// the API key list that user's keys as their own. Default: Username
	// when it is not built-in, else "sim-user-1". Basic auth and bearer
	// tokens act as Username.
	APIKeyUser string
	// TokenTTL is the lifetime of ECE bearer tokens, default 15m.
	TokenTTL time.Duration
	// Now is the clock, default time.Now. Data is generated relative to
	// its value in New.
	Now func() time.Time
	// RateLimit is the number of requests allowed per RateLimitInterval
	// before 429 (0 = unlimited). The x-ratelimit-* headers are always
	// sent. Every request counts, whatever its answer.
	RateLimit int
	// RateLimitInterval is the fixed rate-limit window, started by the
	// first request, default 1m.
	RateLimitInterval time.Duration
	// APIKeyExpiration, when non-zero, is sent as
	// x-elastic-api-key-expiration (RFC 3339) on ECE answers to requests
	// authenticated with the API key.
	APIKeyExpiration time.Time
	// ChartTimestampsMillis sends chart timestamps in Unix milliseconds
	// instead of seconds.
	ChartTimestampsMillis bool
	// LeakKeyField adds a `key` field (LeakedKeyValue) to API key
	// listings, which the real API returns only on creation, so tests can
	// prove the exporter never exposes it.
	LeakKeyField bool
	// NotPlatformAdmin makes ECE's GET /users/auth/keys/_all and the
	// platform operations answer 403 root.unauthorized.rbac, as for a user
	// without the platform admin role. (A negative flag so that the zero value is the spec's
	// default, a platform admin.)
	NotPlatformAdmin bool
	// BillingForbidden answers every billing operation as ESS does for a
	// key whose role lacks billing: 403 with the text/plain body
	// "403: User does not have 'billing-costs:get:<org>' permissions" and
	// no x-cloud-error-codes.
	BillingForbidden bool
	// LegacyLogin makes ECE's _login and _refresh answer as ECE 2.x does:
	// {"token": "<JWT>"} with the expiry only in the JWT's exp claim, no
	// session_expiration_time.
	LegacyLogin bool
	// EmptyUpgradeAnswers makes the upgrade dry run of a resource already
	// at the latest version answer 202 with an empty body.
	EmptyUpgradeAnswers bool
}

// DeploymentRef describes a listed deployment.
type DeploymentRef struct {
	ID, Name string
	// OrganizationID is the owning ESS organization ("" in ECE mode).
	OrganizationID string
	Resources      []ResourceRef
}

// ResourceRef describes a resource of a listed deployment.
type ResourceRef struct{ Kind, RefID, ID string }

// Server is the simulated API, an http.Handler serving /api/v1/...
// It is safe for concurrent use.
type Server struct {
	opts Options
	w    *world
	// platform is the ECE platform data (ECE mode only), see platform.go.
	platform *platform

	mu           sync.Mutex
	counts       map[string]int
	faults       map[string]*faultState
	release      chan struct{}        // closed by ClearFaults: ends Hang
	deleted      map[string]time.Time // deployment id -> when it was deleted
	gen          int                  // bumped when the listed deployments change
	listGen      int                  // gen of listCache
	listCache    []byte               // encoded list-deployments answer
	tokens       map[string]time.Time
	tokenSeq     int
	realUpgrades int
	windowStart  time.Time
	windowCount  int

	inFlight    atomic.Int64
	maxInFlight atomic.Int64
}

// New returns a simulator for opts with its data generated.
func New(opts Options) *Server {
	o := opts
	if o.Mode == "" {
		o.Mode = ModeESS
	}
	if o.Organizations <= 0 {
		o.Organizations = 1
	}
	switch {
	case o.DeploymentsPerOrg == 0:
		o.DeploymentsPerOrg = 10
	case o.DeploymentsPerOrg < 0:
		o.DeploymentsPerOrg = 0
	}
	switch {
	case o.RemoteClustersPerES == 0:
		o.RemoteClustersPerES = 2
	case o.RemoteClustersPerES < 0:
		o.RemoteClustersPerES = 0
	}
	switch {
	case o.APIKeys == 0:
		o.APIKeys = 6
	case o.APIKeys < 0:
		o.APIKeys = 0
	}
	if o.APIKey == "" {
		o.APIKey = "sim-api-key"
	}
	if len(o.IDPrefix) > 16 || strings.Trim(o.IDPrefix, "0123456789abcdef") != "" {
		panic(fmt.Sprintf("ecesim: IDPrefix %q: at most 16 lowercase hex digits", o.IDPrefix))
	}
	if o.Username == "" {
		o.Username = "admin"
	}
	if o.Password == "" {
		o.Password = "sim-password"
	}
	if o.APIKeyUser == "" {
		o.APIKeyUser = o.Username
		if slices.Contains(builtinUsers, o.Username) {
			o.APIKeyUser = "sim-user-1"
		}
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RateLimit < 0 {
		o.RateLimit = 0
	}
	if o.RateLimitInterval <= 0 {
		o.RateLimitInterval = time.Minute
	}
	s := &Server{
		opts:    o,
		w:       newWorld(o, o.Now()),
		counts:  map[string]int{},
		faults:  map[string]*faultState{},
		release: make(chan struct{}),
		deleted: map[string]time.Time{},
		tokens:  map[string]time.Time{},
		listGen: -1,
	}
	if o.Mode == ModeECE {
		s.platform = newPlatform(o, o.Now())
	}
	return s
}

// Deployments returns what GET /deployments currently lists, in order.
func (s *Server) Deployments() []DeploymentRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeploymentRef, 0, len(s.w.deployments))
	for _, d := range s.w.deployments {
		if _, gone := s.deleted[d.id]; gone {
			continue
		}
		ref := DeploymentRef{ID: d.id, Name: d.name, OrganizationID: d.org, Resources: make([]ResourceRef, 0, len(d.resources))}
		for _, r := range d.resources {
			ref.Resources = append(ref.Resources, ResourceRef{Kind: r.kind, RefID: r.refID, ID: r.id})
		}
		out = append(out, ref)
	}
	return out
}

// OrganizationIDs returns the simulated ESS organizations (nil in ECE
// mode, which has none).
func (s *Server) OrganizationIDs() []string {
	if s.opts.Mode == ModeECE {
		return nil
	}
	out := make([]string, 0, len(s.w.orgs))
	for _, o := range s.w.orgs {
		out = append(out, o.id)
	}
	return out
}

// DeleteDeployment makes a deployment disappear: later listings omit it,
// and detail and upgrade calls answer as for an unknown deployment.
// Billing, as Elastic's, keeps billing it up to the hour of its deletion
// (costs listing, overview, items, charts), so month-to-date costs never
// fall; it drops out of windows that start after its deletion. It reports
// whether the deployment existed and was listed.
func (s *Server) DeleteDeployment(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, gone := s.deleted[id]; gone {
		return false
	}
	if _, ok := s.w.byID[id]; !ok {
		return false
	}
	s.deleted[id] = s.opts.Now().UTC()
	s.gen++
	return true
}

// ChurnDeployments replaces the first n listed deployments by n new ones
// with fresh ids, created in the current hour (so nothing billed yet) and
// without remote clusters of their own: what a platform that deletes and
// recreates deployments looks like between two polls. Remote clusters of
// other deployments keep pointing at the removed ids, as they would.
// Billing keeps the removed ones up to their deletion, as DeleteDeployment.
// It returns the removed and the added ids.
func (s *Server) ChurnDeployments(n int) (removed, added []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := rand.New(rand.NewPCG(uint64(s.opts.Seed), 0xc5a7+uint64(s.gen)))
	hourNow := s.opts.Now().UTC().Truncate(time.Hour)
	var live []*deployment
	for _, d := range s.w.deployments {
		if _, gone := s.deleted[d.id]; !gone {
			live = append(live, d)
		}
	}
	now := s.opts.Now().UTC()
	for _, d := range live[:min(n, len(live))] {
		s.deleted[d.id] = now
		removed = append(removed, d.id)
		s.w.addDeployment(r, s.opts.Mode, len(s.w.deployments), d.org, hourNow)
		nd := s.w.deployments[len(s.w.deployments)-1]
		nd.created = hourNow
		nd.resources[0].resizedAt = time.Time{} // created after any resize of the month
		added = append(added, nd.id)
	}
	s.gen++
	return removed, added
}

// Requests returns how many requests an operation (spec operationId, or
// "unknown") received, including those answered by a fault.
func (s *Server) Requests(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[operation]
}

// RequestCounts returns a copy of the per-operation request counters.
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

// ResetCounts zeroes the request counters and MaxInFlight (not
// RealUpgrades, nor the rate-limit window).
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.counts = map[string]int{}
	s.mu.Unlock()
	s.maxInFlight.Store(s.inFlight.Load())
}

// RealUpgrades returns how many _upgrade requests came WITHOUT
// validate_only=true, i.e. upgraded for real (the stored version changed).
func (s *Server) RealUpgrades() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.realUpgrades
}

// MaxInFlight returns the highest number of concurrent requests seen
// (including requests delayed or hung by faults).
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

	m := route(s.opts.Mode, r.Method, r.URL.Path)
	op := "unknown"
	if m.rt != nil {
		op = m.rt.op
	}
	s.mu.Lock()
	s.counts[op]++
	f := s.takeFault(op)
	release := s.release
	rl := s.rateWindow()
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-ratelimit-limit", strconv.Itoa(rl.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(rl.remaining))
	h.Set("x-ratelimit-interval", strconv.Itoa(ceilSeconds(s.opts.RateLimitInterval)))
	if f != nil && f.NoRateLimitHeaders {
		h.Del("x-ratelimit-limit")
		h.Del("x-ratelimit-remaining")
		h.Del("x-ratelimit-interval")
	}

	if f != nil {
		switch f.wait(r, release) {
		case gone:
			return
		case released:
			f = nil
		}
	}
	if f != nil {
		if status, body, ok := f.answer(h, op); ok {
			f.setHeaders(h)
			f.deliver(w, r, status, body)
			return
		}
	}

	rep := s.handle(w, r, m, rl)
	status, body := s.encode(w, rep, f)
	if f != nil {
		f.setHeaders(h)
		f.deliver(w, r, status, body)
		return
	}
	deliverPlain(w, status, body)
}

// handle computes the answer of a request that no fault replaced.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, m matched, rl rateState) reply {
	switch {
	case m.rt == nil && len(m.allow) > 0:
		w.Header().Set("Allow", strings.Join(m.allow, ", "))
		return errReply(http.StatusMethodNotAllowed, "root.method_not_allowed",
			fmt.Sprintf("The method [%s] is not allowed on [%s]; allowed: %s", r.Method, r.URL.Path, strings.Join(m.allow, ", ")))
	case m.rt == nil:
		return errReply(http.StatusNotFound, "root.resource_not_found", fmt.Sprintf("The requested resource [%s] could not be found", r.URL.Path))
	}
	op := m.rt.op
	if rl.limited {
		w.Header().Set("Retry-After", strconv.Itoa(rl.retryAfter))
		code := "root.rate_limited"
		if op == opCharts || op == opChartsByDeployment {
			code = "billing_service.rate_limited"
		}
		return errReply(http.StatusTooManyRequests, code, "Too many requests, retry later")
	}
	if op != opLogin {
		kind, ok := s.authenticate(r)
		if !ok {
			e := errReply(http.StatusUnauthorized, "root.unauthorized", "The supplied authentication is invalid")
			// The spec declares no x-cloud-error-codes on this 401.
			e.noCodeHeader = op == opListDeployments
			return e
		}
		if kind == authAPIKey && s.opts.Mode == ModeECE && !s.opts.APIKeyExpiration.IsZero() {
			w.Header().Set("x-elastic-api-key-expiration", s.opts.APIKeyExpiration.UTC().Format(time.RFC3339))
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, s.userOf(kind)))
	}
	if m.rt.mode != "" && m.rt.mode != s.opts.Mode {
		return s.unavailable(m.rt)
	}
	if s.opts.BillingForbidden && isBilling(op) {
		return reply{status: http.StatusForbidden, text: fmt.Sprintf("403: User does not have 'billing-costs:get:%s' permissions", m.params["organization_id"])}
	}
	return m.rt.handle(s, r, m.params)
}

// unavailable answers an operation that the simulated mode lacks.
func (s *Server) unavailable(rt *routeDef) reply {
	if s.opts.Mode == ModeECE {
		return errReply(http.StatusNotFound, "root.resource_not_found",
			fmt.Sprintf("The operation [%s] is currently unavailable in self-hosted ECE", rt.op))
	}
	return errReply(http.StatusNotFound, "root.resource_not_found",
		fmt.Sprintf("The operation [%s] is only available in Elastic Cloud Enterprise", rt.op))
}

// callerKey holds, in a request's context, the user it authenticated as.
type callerKey struct{}

// userOf is the ECE user a request authenticated with kind acts as: the
// API key's owner, or the configured user for basic auth and tokens.
func (s *Server) userOf(kind string) string {
	if kind == authAPIKey {
		return s.opts.APIKeyUser
	}
	return s.opts.Username
}

// caller is the user a request acts as.
func (s *Server) caller(r *http.Request) string {
	if u, ok := r.Context().Value(callerKey{}).(string); ok {
		return u
	}
	return s.opts.Username
}

const (
	authAPIKey = "apikey"
	authBasic  = "basic"
	authBearer = "bearer"
)

// authenticate checks the request's credentials: ESS accepts only the API
// key, ECE also basic auth and unexpired bearer tokens from _login.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case scheme == "ApiKey":
		return authAPIKey, cred == s.opts.APIKey
	case s.opts.Mode == ModeECE && scheme == "Basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		return authBasic, err == nil && string(b) == s.opts.Username+":"+s.opts.Password
	case s.opts.Mode == ModeECE && scheme == "Bearer":
		s.mu.Lock()
		exp, ok := s.tokens[cred]
		s.mu.Unlock()
		return authBearer, ok && s.opts.Now().Before(exp)
	}
	return "", false
}

// rateState is the rate-limit accounting of one request.
type rateState struct {
	limit, remaining int
	limited          bool
	retryAfter       int // seconds
}

// rateWindow counts a request in the fixed window. Caller holds s.mu.
func (s *Server) rateWindow() rateState {
	now := s.opts.Now()
	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= s.opts.RateLimitInterval || now.Before(s.windowStart) {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	limit := s.opts.RateLimit
	if limit == 0 {
		limit = UnlimitedQuota
	}
	st := rateState{limit: limit, remaining: max(limit-s.windowCount, 0)}
	if s.opts.RateLimit > 0 && s.windowCount > s.opts.RateLimit {
		st.limited = true
		st.retryAfter = max(ceilSeconds(s.windowStart.Add(s.opts.RateLimitInterval).Sub(now)), 1)
	}
	return st
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
