// Package admin serves the read-only admin endpoint of ece_exporter: upgrade
// dry runs of stateless deployment resources (Kibana, APM, Integrations
// Server, App Search, Enterprise Search).
//
// It never upgrades anything: the only upstream call it can make is
// eceapi's UpgradeDryRun, which always sends validate_only=true. Every
// method but GET and HEAD is refused (405, before the token is looked at),
// every path segment is validated before any upstream call, requests need a
// bearer token compared in constant time, answers are cached per resource
// and requests are rate limited per token. Refused requests are logged at
// most once per RefusedLogInterval, with the number left unlogged.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/safefile"
)

// PathPrefix is where the handler is mounted.
const PathPrefix = "/admin/v1/"

// Resource is a resource of a discovered deployment; the handler reads its
// Kind and RefID.
type Resource = eceapi.DeploymentResource

// Backend gives the handler the API clients and the discovered deployments.
// The collectors' Manager (collector.Manager) is one, so the admin package
// needs no adapter and does not import the collectors.
type Backend interface {
	// Client returns the API client of a configured account.
	Client(account string) (*eceapi.Client, bool)
	// Resources returns the resources of a discovered deployment, and
	// whether the deployment is known.
	Resources(account, deploymentID string) ([]Resource, bool)
}

// Options configures the handler.
type Options struct {
	Logger     log.Logger
	Registerer prometheus.Registerer
	// TokenFile holds the bearer token; it is re-read by ReloadToken.
	TokenFile string
	// CacheTTL is how long a dry-run result is reused; 0 disables the
	// cache (every request calls the API). Negative is an error.
	CacheTTL time.Duration
	// RatePerMinute limits requests per token; 0 disables the limit.
	// Negative is an error. Burst is the bucket size (default 10).
	RatePerMinute float64
	Burst         int
	// Concurrency bounds the dry runs of one /upgrades request (default 4).
	Concurrency int
	// Timeout bounds each upstream dry run (default 30s).
	Timeout time.Duration
	Now     func() time.Time
}

// Handler is the admin endpoint.
type Handler struct {
	opts     Options
	logger   log.Logger
	backend  Backend
	requests *prometheus.CounterVec

	tokenMu   sync.RWMutex
	tokenHash [32]byte
	haveToken bool

	cacheMu sync.Mutex
	cache   map[string]cacheEntry

	limMu    sync.Mutex
	limiters map[[32]byte]*rate.Limiter

	refused throttle
}

// Defaults of the --admin.* flags.
const (
	DefaultCacheTTL      = 60 * time.Second
	DefaultRatePerMinute = 60
)

// RefusedLogInterval is the least time between two log lines about refused
// (unauthorized or wrong-method) requests: a client guessing tokens must not
// be able to fill the log. Every refusal is still counted in
// ece_exporter_admin_requests_total.
const RefusedLogInterval = 10 * time.Second

// throttle lets one event through per interval and counts the others.
type throttle struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether an event at now may be logged and, if so, how many
// were suppressed since the last one that was.
func (t *throttle) allow(now time.Time, every time.Duration) (bool, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && now.Sub(t.last) < every && now.Sub(t.last) >= 0 {
		t.suppressed++
		return false, 0
	}
	n := t.suppressed
	t.last, t.suppressed = now, 0
	return true, n
}

type cacheEntry struct {
	res *eceapi.DeploymentResourceUpgradeResponse
	at  time.Time
}

// Outcomes counted by ece_exporter_admin_requests_total.
const (
	outcomeOK               = "ok"
	outcomeUnauthorized     = "unauthorized"
	outcomeMethodNotAllowed = "method_not_allowed"
	outcomeBadRequest       = "bad_request"
	outcomeNotFound         = "not_found"
	outcomeRateLimited      = "rate_limited"
	outcomeUpstreamAuth     = "upstream_auth"
	outcomeTimeout          = "timeout"
	outcomeUpstreamError    = "upstream_error"
)

// New returns the handler; the token file must be readable and non-empty.
func New(opts Options, backend Backend) (*Handler, error) {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.CacheTTL < 0 {
		return nil, fmt.Errorf("admin cache TTL %s is negative (0 disables the cache)", opts.CacheTTL)
	}
	if opts.RatePerMinute < 0 || math.IsNaN(opts.RatePerMinute) || math.IsInf(opts.RatePerMinute, 0) {
		return nil, fmt.Errorf("admin rate limit %v per minute is not a number >= 0 (0 disables the limit)", opts.RatePerMinute)
	}
	if opts.Burst <= 0 {
		opts.Burst = 10
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{
		opts: opts, logger: opts.Logger, backend: backend,
		cache:    map[string]cacheEntry{},
		limiters: map[[32]byte]*rate.Limiter{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ece_exporter_admin_requests_total",
			Help: "Requests to the admin endpoint by outcome.",
		}, []string{"outcome"}),
	}
	for _, o := range []string{outcomeOK, outcomeUnauthorized, outcomeMethodNotAllowed, outcomeBadRequest, outcomeNotFound, outcomeRateLimited, outcomeUpstreamAuth, outcomeTimeout, outcomeUpstreamError} {
		h.requests.WithLabelValues(o)
	}
	if err := h.ReloadToken(); err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(h.requests); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ReloadToken re-reads the token file; on error the previous token stays.
// The error never contains the token.
func (h *Handler) ReloadToken() error {
	tok, err := h.ReadToken()
	if err != nil {
		return err
	}
	h.SetToken(tok)
	return nil
}

// Token is an admin token read by ReadToken, held as its hash.
type Token struct{ hash [32]byte }

// ReadToken reads and checks the token file without using it: a reload
// reads it with the configuration and calls SetToken only once the
// configuration is applied. The error never contains the token.
func (h *Handler) ReadToken() (Token, error) {
	if h.opts.TokenFile == "" {
		return Token{}, errors.New("admin token file is not set (--admin.token-file)")
	}
	b, err := safefile.ReadFile(h.opts.TokenFile) // a FIFO or device fails at once
	if err != nil {
		return Token{}, fmt.Errorf("read admin token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return Token{}, fmt.Errorf("admin token file %q is empty", h.opts.TokenFile)
	}
	if len(tok) < 16 {
		return Token{}, fmt.Errorf("admin token in %q is shorter than 16 characters", h.opts.TokenFile)
	}
	return Token{hash: sha256.Sum256([]byte(tok))}, nil
}

// SetToken makes tok the token requests must carry.
func (h *Handler) SetToken(tok Token) {
	h.tokenMu.Lock()
	h.tokenHash, h.haveToken = tok.hash, true
	h.tokenMu.Unlock()
}

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	refIDPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$`)
)

// request is a parsed admin request.
type request struct {
	account, deploymentID, kind, refID string
	all                                bool
}

// errBadSegment is a 400 naming the segment.
type errBadSegment struct{ segment, msg string }

func (e errBadSegment) Error() string { return e.segment + ": " + e.msg }

// parsePath validates every segment; nothing is sent upstream before it
// succeeds.
func (h *Handler) parsePath(p string) (request, error) {
	rest, ok := strings.CutPrefix(p, PathPrefix)
	if !ok {
		return request{}, errBadSegment{"path", "must start with " + PathPrefix}
	}
	// Split the escaped path, then unescape each segment: an encoded "/"
	// stays inside its segment (and fails validation there).
	seg := strings.Split(rest, "/")
	for i, sg := range seg {
		u, err := url.PathUnescape(sg)
		if err != nil {
			return request{}, errBadSegment{"path", "invalid escaping"}
		}
		seg[i] = u
	}
	// accounts/{account}/deployments/{id}/upgrades
	// accounts/{account}/deployments/{id}/{kind}/{ref_id}/upgrade
	if len(seg) != 5 && len(seg) != 7 {
		return request{}, errBadSegment{"path", "expected accounts/{account}/deployments/{deployment_id}/upgrades or accounts/{account}/deployments/{deployment_id}/{kind}/{ref_id}/upgrade"}
	}
	if seg[0] != "accounts" || seg[2] != "deployments" {
		return request{}, errBadSegment{"path", "expected accounts/{account}/deployments/..."}
	}
	r := request{account: seg[1], deploymentID: seg[3]}
	if _, ok := h.backend.Client(r.account); !ok || r.account == "" {
		return request{}, errBadSegment{"account", fmt.Sprintf("%q is not a configured account", clip(r.account))}
	}
	if !idPattern.MatchString(r.deploymentID) {
		return request{}, errBadSegment{"deployment_id", fmt.Sprintf("%q must match %s", clip(r.deploymentID), idPattern)}
	}
	if len(seg) == 5 {
		if seg[4] != "upgrades" {
			return request{}, errBadSegment{"path", "expected .../upgrades"}
		}
		r.all = true
		return r, nil
	}
	r.kind, r.refID = seg[4], seg[5]
	if !eceapi.IsStatelessKind(r.kind) {
		return request{}, errBadSegment{"kind", fmt.Sprintf("%q must be one of %s", clip(r.kind), strings.Join(eceapi.StatelessKinds, ", "))}
	}
	if !refIDPattern.MatchString(r.refID) {
		return request{}, errBadSegment{"ref_id", fmt.Sprintf("%q must match %s", clip(r.refID), refIDPattern)}
	}
	if seg[6] != "upgrade" {
		return request{}, errBadSegment{"path", "expected .../{kind}/{ref_id}/upgrade"}
	}
	return r, nil
}

// clip keeps echoed user input short and printable.
func clip(s string) string { return clipN(s, 80) }

func clipN(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "..."
	}
	return s
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lr := logRecord{}
	outcome, cached := h.serve(w, r, &lr)
	h.requests.WithLabelValues(outcome).Inc()
	// One line per request; an upstream failure makes it a warning with
	// the error.
	keyvals := []any{"msg", "admin request", "method", r.Method, "account", lr.req.account,
		"deployment_id", lr.req.deploymentID, "kind", lr.req.kind, "ref_id", lr.req.refID,
		"outcome", outcome, "cached", cached, "duration", time.Since(start).Round(time.Millisecond)}
	switch {
	case outcome == outcomeUnauthorized || outcome == outcomeMethodNotAllowed:
		// Refused before the token was accepted: throttled, with who
		// asked for what (never the Authorization header).
		if ok, suppressed := h.refused.allow(h.opts.Now(), RefusedLogInterval); ok {
			level.Warn(h.logger).Log("msg", "admin request refused", "outcome", outcome, "method", clip(r.Method),
				"path", clipN(r.URL.EscapedPath(), 256), "remote_addr", r.RemoteAddr, "suppressed", suppressed)
		}
	case lr.err != nil:
		level.Warn(h.logger).Log(append(keyvals, "err", lr.err)...)
	default:
		level.Info(h.logger).Log(keyvals...)
	}
}

type logRecord struct {
	req request
	err error // upstream failure, if any
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, lr *logRecord) (outcome string, cached bool) {
	// The method first: the endpoint is read-only whoever asks, and says so.
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the admin endpoint is read-only: only GET and HEAD are allowed")
		return outcomeMethodNotAllowed, false
	}
	tokenHash, ok := h.authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ece_exporter admin"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "a valid admin token is required: Authorization: Bearer <token>, or "+TokenHeader+": <token> when Authorization carries the web config's basic auth")
		return outcomeUnauthorized, false
	}
	req, err := h.parsePath(r.URL.EscapedPath())
	if err != nil {
		var bs errBadSegment
		errors.As(err, &bs)
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return outcomeBadRequest, false
	}
	lr.req = req
	if !h.limiter(tokenHash).Allow() {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many admin requests; slow down")
		return outcomeRateLimited, false
	}
	client, _ := h.backend.Client(req.account)
	if req.all {
		return h.serveAll(w, r.Context(), client, req, lr)
	}
	res := h.dryRun(r.Context(), client, req.account, req.deploymentID, req.kind, req.refID)
	if res.err != nil {
		lr.err = res.err
		return h.writeUpstreamError(w, req, res.err), false
	}
	writeJSON(w, http.StatusOK, res.answer(req.account, req.deploymentID))
	return outcomeOK, res.cached
}

// TokenHeader carries the admin token when the Authorization header is
// taken by the basic auth of --web.config.file (exporter-toolkit checks the
// first Authorization header; a second one with the bearer token also works).
const TokenHeader = "X-Admin-Token"

// authorize checks the admin token in constant time (comparing hashes, so
// the length does not leak either) and returns its hash. The token comes
// from TokenHeader, else from an "Authorization: Bearer" header (any of
// them, as basic auth may come first; the scheme is case-insensitive, RFC
// 7235 section 2.1).
func (h *Handler) authorize(r *http.Request) ([32]byte, bool) {
	tok := strings.TrimSpace(r.Header.Get(TokenHeader))
	if tok == "" {
		for _, auth := range r.Header.Values("Authorization") {
			if t, ok := bearerToken(auth); ok {
				tok = t
				break
			}
		}
	}
	if tok == "" {
		return [32]byte{}, false
	}
	sum := sha256.Sum256([]byte(tok))
	h.tokenMu.RLock()
	want, have := h.tokenHash, h.haveToken
	h.tokenMu.RUnlock()
	return sum, have && subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}

// bearerToken returns the credentials of an Authorization header value
// whose scheme is Bearer, in any case, followed by one or more spaces.
func bearerToken(auth string) (string, bool) {
	scheme, rest, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok := strings.TrimSpace(rest)
	return tok, tok != ""
}

func (h *Handler) limiter(token [32]byte) *rate.Limiter {
	h.limMu.Lock()
	defer h.limMu.Unlock()
	l := h.limiters[token]
	if l == nil {
		if len(h.limiters) > 64 {
			// Tokens rotate; forget old limiters rather than grow.
			h.limiters = map[[32]byte]*rate.Limiter{}
		}
		limit := rate.Limit(h.opts.RatePerMinute / 60)
		if h.opts.RatePerMinute == 0 {
			limit = rate.Inf
		}
		l = rate.NewLimiter(limit, h.opts.Burst)
		h.limiters[token] = l
	}
	return l
}

// result is one dry run's outcome.
type result struct {
	kind, refID string
	res         *eceapi.DeploymentResourceUpgradeResponse
	at          time.Time
	cached      bool
	err         error
}

// Answer is the JSON answer for one resource.
type Answer struct {
	Account      string `json:"account"`
	DeploymentID string `json:"deployment_id"`
	Kind         string `json:"kind"`
	RefID        string `json:"ref_id"`
	ResourceID   string `json:"resource_id,omitempty"`
	StackVersion string `json:"stack_version,omitempty"`
	// NoVersionReported is true when the dry run succeeded but named no
	// version (a 202 with an empty body or {}): not a failure.
	NoVersionReported bool         `json:"no_version_reported,omitempty"`
	CheckedAt         *time.Time   `json:"checked_at,omitempty"`
	Cached            bool         `json:"cached"`
	Error             *ErrorAnswer `json:"error,omitempty"`
}

// ErrorAnswer is the JSON error body.
type ErrorAnswer struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (r result) answer(account, deploymentID string) Answer {
	a := Answer{Account: account, DeploymentID: deploymentID, Kind: r.kind, RefID: r.refID, Cached: r.cached}
	if r.res != nil {
		at := r.at.UTC()
		a.ResourceID, a.StackVersion, a.CheckedAt = r.res.ResourceID, r.res.StackVersion, &at
		a.NoVersionReported = !r.res.VersionReported()
	}
	return a
}

func (h *Handler) dryRun(ctx context.Context, client *eceapi.Client, account, deploymentID, kind, refID string) result {
	key := strings.Join([]string{account, deploymentID, kind, refID}, "\x00")
	now := h.opts.Now()
	h.cacheMu.Lock()
	if e, ok := h.cache[key]; ok && now.Sub(e.at) < h.opts.CacheTTL {
		h.cacheMu.Unlock()
		return result{kind: kind, refID: refID, res: e.res, at: e.at, cached: true}
	}
	h.cacheMu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	res, _, err := client.Deployments.UpgradeDryRun(ctx, deploymentID, kind, refID)
	if err != nil {
		return result{kind: kind, refID: refID, err: err}
	}
	if h.opts.CacheTTL == 0 {
		return result{kind: kind, refID: refID, res: res, at: now}
	}
	h.cacheMu.Lock()
	for k, e := range h.cache {
		if now.Sub(e.at) >= h.opts.CacheTTL {
			delete(h.cache, k)
		}
	}
	h.cache[key] = cacheEntry{res: res, at: now}
	h.cacheMu.Unlock()
	return result{kind: kind, refID: refID, res: res, at: now}
}

// UpgradesAnswer is the JSON answer of .../upgrades.
type UpgradesAnswer struct {
	Account      string   `json:"account"`
	DeploymentID string   `json:"deployment_id"`
	Resources    []Answer `json:"resources"`
}

func (h *Handler) serveAll(w http.ResponseWriter, ctx context.Context, client *eceapi.Client, req request, lr *logRecord) (string, bool) {
	resources, ok := h.backend.Resources(req.account, req.deploymentID)
	if !ok {
		writeError(w, http.StatusNotFound, "deployment_not_discovered", fmt.Sprintf("deployment %q is not in the discovery snapshot of account %q", req.deploymentID, req.account))
		return outcomeNotFound, false
	}
	var targets []Resource
	for _, r := range resources {
		if eceapi.IsStatelessKind(r.Kind) && refIDPattern.MatchString(r.RefID) {
			targets = append(targets, r)
		}
	}
	results := make([]result, len(targets))
	sem := make(chan struct{}, h.opts.Concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = h.dryRun(ctx, client, req.account, req.deploymentID, t.Kind, t.RefID)
		}()
	}
	wg.Wait()
	out := UpgradesAnswer{Account: req.account, DeploymentID: req.deploymentID, Resources: make([]Answer, 0, len(results))}
	allCached := len(results) > 0
	for _, r := range results {
		a := r.answer(req.account, req.deploymentID)
		if r.err != nil {
			status, code, msg, _ := mapUpstream(r.err, req.account)
			a.Error = &ErrorAnswer{Status: status, Code: code, Message: msg}
			if lr.err == nil {
				lr.err = fmt.Errorf("%s/%s: %w", a.Kind, a.RefID, r.err) // the request's one log line names the first failure
			}
		}
		allCached = allCached && r.cached
		out.Resources = append(out.Resources, a)
	}
	writeJSON(w, http.StatusOK, out)
	return outcomeOK, allCached
}

// mapUpstream maps an upstream error, as the one classifier
// (eceapi.ErrorReason) classifies it, to the admin answer: 404 → 404 with
// the upstream code; 429 → 429 with Retry-After; 401/403 → 502 (our
// credentials lack the permission); timeouts → 504; others → 502 with a
// code that names the failure.
func mapUpstream(err error, account string) (status int, code, msg, outcome string) {
	var rl *eceapi.RateLimitError
	var apiErr *eceapi.APIError
	errors.As(err, &apiErr)
	switch eceapi.ErrorReason(err) {
	case eceapi.ReasonRateLimited:
		if errors.As(err, &rl) {
			return http.StatusTooManyRequests, nonEmpty(rl.Code(), "rate_limited"), "the Elastic Cloud API is rate limiting the exporter; retry later", outcomeRateLimited
		}
		return http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("the exporter's request budget for account %q is spent; retry later", account), outcomeRateLimited
	case eceapi.ReasonNotFound:
		return http.StatusNotFound, nonEmpty(apiErr.Code(), "not_found"), upstreamMessage(apiErr), outcomeNotFound
	case eceapi.ReasonAuth:
		return http.StatusBadGateway, "upstream_permission_denied", fmt.Sprintf("the exporter's credentials for account %q lack the permission for an upgrade dry run (upstream status %d)", account, apiErr.StatusCode), outcomeUpstreamAuth
	case eceapi.ReasonTimeout:
		return http.StatusGatewayTimeout, "upstream_timeout", "the Elastic Cloud API did not answer in time", outcomeTimeout
	case eceapi.ReasonServer, eceapi.ReasonConfig:
		return http.StatusBadGateway, nonEmpty(apiErr.Code(), "upstream_error"), fmt.Sprintf("the Elastic Cloud API answered %d", apiErr.StatusCode), outcomeUpstreamError
	case eceapi.ReasonTLS:
		return http.StatusBadGateway, "upstream_tls", fmt.Sprintf("the TLS certificate of account %q's API endpoint could not be verified", account), outcomeUpstreamError
	case eceapi.ReasonRedirect:
		return http.StatusBadGateway, "upstream_redirect", "the Elastic Cloud API redirected to another host or scheme; the redirect was refused", outcomeUpstreamError
	case eceapi.ReasonDecode:
		return http.StatusBadGateway, "upstream_bad_answer", "the Elastic Cloud API answered with a body that could not be decoded", outcomeUpstreamError
	default:
		return http.StatusBadGateway, "upstream_unreachable", "the Elastic Cloud API could not be reached", outcomeUpstreamError
	}
}

func upstreamMessage(e *eceapi.APIError) string {
	for _, el := range e.Errors {
		if el.Message != "" {
			return el.Message
		}
	}
	return "not found upstream"
}

func (h *Handler) writeUpstreamError(w http.ResponseWriter, req request, err error) string {
	status, code, msg, outcome := mapUpstream(err, req.account)
	var rl *eceapi.RateLimitError
	if errors.As(err, &rl) {
		secs := int(rl.RetryAfter.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	}
	writeError(w, status, code, msg)
	return outcome
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]ErrorAnswer{"error": {Status: status, Code: code, Message: msg}})
}
