package eceapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Default values of the client.
const (
	// DefaultESSURL is the public Elastic Cloud API endpoint.
	DefaultESSURL = "https://api.elastic-cloud.com"
	// APIBasePath is appended to the base URL once.
	APIBasePath = "/api/v1"
	// DefaultMaxBodyBytes bounds success bodies.
	DefaultMaxBodyBytes int64 = 64 << 20
	// DefaultMaxRetries is the number of retries after the first attempt.
	DefaultMaxRetries = 3
	// DefaultTimeout bounds each HTTP attempt.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxInFlight caps concurrent requests of one client.
	DefaultMaxInFlight = 8
	// DefaultBillingV2URL is the host of the Cloud Billing API (v2), which
	// Elastic serves apart from the Cloud API (see WithBillingV2URL).
	DefaultBillingV2URL = "https://billing.elastic-cloud.com"
	// BillingV2BasePath is appended to the billing v2 base URL once.
	BillingV2BasePath = "/api/v2"
)

// Client talks to one Elastic Cloud or ECE API endpoint with one set of
// credentials. It is safe for concurrent use.
type Client struct {
	httpClient   *http.Client
	baseURL      *url.URL
	billingV2URL *url.URL // ends in /api/v2/
	userAgent    string
	auth         authenticator
	maxRetries   int
	maxBodyBytes int64
	backoffBase  time.Duration
	backoffMax   time.Duration
	maxRetryWait time.Duration
	inFlight     chan struct{}
	largeBodies  chan struct{} // see largeBodyOps
	budget       *rate.Limiter
	observer     func(Observation)
	now          func() time.Time

	// Services, one per API area.
	Deployments   *DeploymentsService
	Billing       *BillingService
	BillingV2     *BillingV2Service // the Cloud Billing API, on its own host
	Organizations *OrganizationsService
	Accounts      *AccountsService
	APIKeys       *APIKeysService
	Platform      *PlatformService
	Stack         *StackService
}

type service struct{ client *Client }

// Option configures a Client.
type Option func(*Client) error

// NewClient returns a client. Without options it talks to the public ESS
// endpoint without credentials.
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{
		userAgent:    "ece_exporter/dev",
		maxRetries:   DefaultMaxRetries,
		maxBodyBytes: DefaultMaxBodyBytes,
		backoffBase:  500 * time.Millisecond,
		backoffMax:   30 * time.Second,
		maxRetryWait: 2 * time.Minute,
		auth:         noAuth{},
		now:          time.Now,
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.MaxIdleConnsPerHost = 16
	c.httpClient = &http.Client{Transport: tr, Timeout: DefaultTimeout}
	if err := WithBaseURL(DefaultESSURL)(c); err != nil {
		return nil, err
	}
	if err := WithBillingV2URL(DefaultBillingV2URL)(c); err != nil {
		return nil, err
	}
	c.inFlight = make(chan struct{}, DefaultMaxInFlight)
	c.largeBodies = make(chan struct{}, 1)
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.httpClient.CheckRedirect = c.checkRedirect
	c.Deployments = &DeploymentsService{c}
	c.Billing = &BillingService{c}
	c.BillingV2 = &BillingV2Service{c}
	c.Organizations = &OrganizationsService{c}
	c.Accounts = &AccountsService{c}
	c.APIKeys = &APIKeysService{c}
	c.Platform = &PlatformService{c}
	c.Stack = &StackService{c}
	return c, nil
}

// WithBaseURL sets the API endpoint, e.g. https://api.elastic-cloud.com or
// https://ece-coordinator:12443. "/api/v1" is appended unless the URL already
// ends with it.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := parseBaseURL("base URL", raw, APIBasePath)
		if err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithBillingV2URL sets the host of the Cloud Billing API (v2), default
// DefaultBillingV2URL; Elastic's newer docs name https://cloud.elastic.co.
// "/api/v2" is appended unless the URL already ends with it. The same
// credentials are sent there as to the base URL.
func WithBillingV2URL(raw string) Option {
	return func(c *Client) error {
		u, err := parseBaseURL("billing v2 URL", raw, BillingV2BasePath)
		if err != nil {
			return err
		}
		c.billingV2URL = u
		return nil
	}
}

// parseBaseURL validates an endpoint URL and returns it ending in
// basePath + "/".
func parseBaseURL(what, raw, basePath string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s %q: scheme must be http or https", what, raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s %q: host is missing", what, raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: credentials in the URL are not allowed", what)
	}
	u.RawQuery, u.Fragment = "", ""
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, basePath) {
		p += basePath
	}
	u.Path, u.RawPath = p+"/", ""
	return u, nil
}

// WithAPIKey authenticates with "Authorization: ApiKey <key>" (ESS and ECE).
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		if key == "" {
			return errors.New("API key is empty")
		}
		c.auth = apiKeyAuth{key: seal(key)}
		return nil
	}
}

// WithBasicAuth authenticates with HTTP basic auth (ECE only).
func WithBasicAuth(username, password string) Option {
	return func(c *Client) error {
		if username == "" || password == "" {
			return errors.New("basic auth needs a username and a password")
		}
		c.auth = basicAuth{username: username, password: seal(password)}
		return nil
	}
}

// WithLogin authenticates as an ECE user: POST /users/auth/_login gives a
// bearer token, which is refreshed with POST /users/auth/_refresh before it
// expires and obtained again by logging in when refreshing fails.
func WithLogin(username, password string) Option {
	return func(c *Client) error {
		if username == "" || password == "" {
			return errors.New("login needs a username and a password")
		}
		c.auth = &loginAuth{client: c, username: username, password: seal(password)}
		return nil
	}
}

// WithUserAgent sets the User-Agent header of every request to userAgent,
// e.g. "ece_exporter/1.4.0"; the default is "ece_exporter/dev".
func WithUserAgent(userAgent string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(userAgent) == "" {
			return errors.New("user agent is empty")
		}
		c.userAgent = userAgent
		return nil
	}
}

// WithHTTPClient replaces the HTTP client (its CheckRedirect is replaced by
// the client's own policy).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		cp := *hc
		c.httpClient = &cp
		return nil
	}
}

// WithTimeout bounds each HTTP attempt, body included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return errors.New("timeout must be positive")
		}
		c.httpClient.Timeout = d
		return nil
	}
}

// WithMaxRetries sets how many times an idempotent request is retried.
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("max retries must not be negative")
		}
		c.maxRetries = n
		return nil
	}
}

// WithBackoff sets the base and the cap of the exponential backoff between
// retries (full jitter is applied), and the longest wait a 429 may ask for.
func WithBackoff(base, max, maxRetryWait time.Duration) Option {
	return func(c *Client) error {
		if base <= 0 || max < base || maxRetryWait < 0 {
			return errors.New("invalid backoff settings")
		}
		c.backoffBase, c.backoffMax, c.maxRetryWait = base, max, maxRetryWait
		return nil
	}
}

// WithMaxBodyBytes bounds success bodies.
func WithMaxBodyBytes(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return errors.New("max body bytes must be positive")
		}
		c.maxBodyBytes = n
		return nil
	}
}

// WithMaxInFlight caps concurrent requests of this client; callers beyond the
// cap wait (honouring their context).
func WithMaxInFlight(n int) Option {
	return func(c *Client) error {
		if n <= 0 {
			return errors.New("max in flight must be positive")
		}
		c.inFlight = make(chan struct{}, n)
		return nil
	}
}

// WithRequestBudget caps this client at requests per period (a token
// bucket with a burst of the whole budget). A request that would exceed it
// waits for a token, or fails at once with ErrRequestBudget when its
// context ends first.
func WithRequestBudget(requests int, per time.Duration) Option {
	return func(c *Client) error {
		if requests <= 0 || per <= 0 {
			return errors.New("request budget must be positive")
		}
		c.budget = rate.NewLimiter(rate.Limit(float64(requests)/per.Seconds()), requests)
		return nil
	}
}

// WithObserver installs a hook called once per HTTP attempt. It must be
// fast and must not block.
func WithObserver(f func(Observation)) Option {
	return func(c *Client) error {
		c.observer = f
		return nil
	}
}

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option {
	return func(c *Client) error {
		c.now = now
		return nil
	}
}

// RateLimit is what the x-ratelimit-* headers of an answer said.
type RateLimit struct {
	// Present: x-ratelimit-remaining was sent, so Remaining is meaningful.
	// A limit or interval alone says nothing about what is left.
	Present   bool
	Limit     int // 0 when x-ratelimit-limit was not sent
	Remaining int
	Interval  time.Duration // 0 when x-ratelimit-interval was not sent
}

// Observation describes one HTTP attempt, for metrics.
type Observation struct {
	Operation  string
	Method     string
	StatusCode int // 0 when no answer arrived
	Duration   time.Duration
	Attempt    int // 1 for the first attempt
	Err        error
	RateLimit  RateLimit
	// APIKeyExpiration is from x-elastic-api-key-expiration; zero if absent.
	APIKeyExpiration time.Time
}

// Response wraps the HTTP answer (its body is already consumed and closed).
type Response struct {
	*http.Response
	RateLimit        RateLimit
	APIKeyExpiration time.Time
	Attempts         int
}

type ctxKey struct{}

// emptyOKKey marks a request whose operation declares up front that a 2xx
// answer may carry no body at all (or only whitespace): the upgrade dry
// run. Such a body decodes as success, leaving v as it was.
type emptyOKKey struct{}

// allowEmptyBody returns ctx marked so that an empty success body is not a
// decode error for the request made with it.
func allowEmptyBody(ctx context.Context) context.Context {
	return context.WithValue(ctx, emptyOKKey{}, true)
}

func emptyBodyAllowed(r *http.Request) bool {
	ok, _ := r.Context().Value(emptyOKKey{}).(bool)
	return ok
}

func operationOf(r *http.Request) string {
	if r == nil {
		return ""
	}
	if op, ok := r.Context().Value(ctxKey{}).(string); ok {
		return op
	}
	return ""
}

// segment validates and escapes one path parameter.
func segment(name, v string) (string, error) {
	if v == "" || v == "." || v == ".." || len(v) > 256 {
		return "", fmt.Errorf("%s %q: %w", name, v, ErrInvalidPathSegment)
	}
	for _, r := range v {
		if r == '/' || r == '\\' || r == '?' || r == '#' || r == '%' || r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%s %q: %w", name, v, ErrInvalidPathSegment)
		}
	}
	return url.PathEscape(v), nil
}

// newRequest builds a request for path (relative to /api/v1, no leading
// slash, segments already escaped).
func (c *Client) newRequest(ctx context.Context, op, method, path string, query url.Values, body any) (*http.Request, error) {
	return c.newRequestAt(ctx, c.baseURL, op, method, path, query, body)
}

// newRequestAt builds a request for path relative to base (the API or the
// billing v2 base URL).
func (c *Client) newRequestAt(ctx context.Context, base *url.URL, op, method, path string, query url.Values, body any) (*http.Request, error) {
	u := *base
	// path holds escaped segments: keep that form as RawPath and its
	// decoded form as Path, so that they are not escaped a second time.
	u.RawPath = base.EscapedPath() + path
	unescaped, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, err
	}
	u.Path = unescaped
	u.RawQuery = query.Encode()
	var rd io.Reader
	var buf []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		buf = b
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, ctxKey{}, op), method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if buf != nil {
		req.Header.Set("Content-Type", "application/json")
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	return req, nil
}

// get is the common shape of every read operation.
func (c *Client) get(ctx context.Context, op, path string, query url.Values, v any) (*Response, error) {
	return c.getAt(ctx, c.baseURL, op, path, query, v)
}

// getAt is get relative to base.
func (c *Client) getAt(ctx context.Context, base *url.URL, op, path string, query url.Values, v any) (*Response, error) {
	req, err := c.newRequestAt(ctx, base, op, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, v, true)
}

// do sends req with authentication, retrying idempotent requests, and
// decodes a 2xx body into v.
func (c *Client) do(req *http.Request, v any, retry bool) (*Response, error) {
	ctx := req.Context()
	if err := guardUpgrade(req); err != nil {
		return nil, err
	}
	select {
	case c.inFlight <- struct{}{}:
		defer func() { <-c.inFlight }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	maxAttempts := 1
	if retry {
		maxAttempts += c.maxRetries
	}
	reauthed := false
	for attempt := 1; ; attempt++ {
		if c.budget != nil {
			if err := c.budget.Wait(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", operationOf(req), ErrRequestBudget)
			}
		}
		resp, err := c.attempt(req, v, attempt)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return resp, err
		}
		var apiErr *APIError
		if !reauthed && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized &&
			apiErr.Operation == operationOf(req) && c.auth.invalidate() && retry {
			// A bearer token may have been revoked: log in again once. A
			// 401 of the login itself (wrong password) is final. A request
			// that is never retried (the upgrade dry run) is not re-sent
			// either: the token is dropped and the next request logs in.
			reauthed = true
			attempt--
			continue
		}
		if attempt >= maxAttempts {
			return resp, err
		}
		wait, ok := c.retryWait(err, attempt)
		if !ok {
			return resp, err
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return resp, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return resp, err
		}
	}
}

// retryWait decides whether err is worth another attempt and after how long.
func (c *Client) retryWait(err error, attempt int) (time.Duration, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		if rl.RetryAfter > c.maxRetryWait {
			return 0, false
		}
		return rl.RetryAfter + jitter(rl.RetryAfter/10+time.Millisecond), true
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
	} else {
		var de *DecodeError
		// A TLS handshake that failed (an unknown authority, a name
		// mismatch, an expired certificate) fails the same way again.
		if errors.As(err, &de) || errors.Is(err, ErrBodyTooLarge) || errors.Is(err, ErrRedirectRefused) || isTLSError(err) {
			return 0, false
		}
		var ne net.Error
		var ue *url.Error
		if !errors.As(err, &ne) && !errors.As(err, &ue) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, false
		}
	}
	ceil := c.backoffBase << (attempt - 1)
	if ceil > c.backoffMax || ceil <= 0 {
		ceil = c.backoffMax
	}
	return jitter(ceil), true
}

// jitter returns a uniformly random duration in [0, d) ("full jitter").
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)))
}

func (c *Client) attempt(orig *http.Request, v any, attempt int) (*Response, error) {
	req := orig.Clone(orig.Context())
	if orig.GetBody != nil {
		b, err := orig.GetBody()
		if err != nil {
			return nil, err
		}
		req.Body = b
	}
	if err := c.auth.apply(req); err != nil {
		return nil, err
	}
	return c.roundTrip(req, v, attempt)
}

// roundTrip sends an already authenticated request once, observes it and
// decodes its body.
func (c *Client) roundTrip(req *http.Request, v any, attempt int) (*Response, error) {
	orig := req
	countCall(req.Context())
	start := time.Now()
	hr, err := c.httpClient.Do(req)
	obs := Observation{Operation: operationOf(orig), Method: orig.Method, Attempt: attempt}
	if err != nil {
		// A transport error may carry what a redirect pointed to (its URL,
		// an unparsable Location): redact it before anyone sees it.
		err = sanitizeURLError(err, requestSecrets(orig))
		obs.Duration, obs.Err = time.Since(start), err
		c.observe(obs)
		return nil, err
	}
	defer hr.Body.Close() //nolint:errcheck // the body has been read or abandoned; nothing to do on a close error
	resp := &Response{Response: hr, RateLimit: parseRateLimit(hr.Header), APIKeyExpiration: parseExpiration(hr.Header.Get("x-elastic-api-key-expiration")), Attempts: attempt}
	obs.StatusCode, obs.RateLimit, obs.APIKeyExpiration = hr.StatusCode, resp.RateLimit, resp.APIKeyExpiration
	if err := CheckResponse(hr); err != nil {
		// After a redirect, the answer is to another request than orig:
		// redact orig's secrets too.
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.redact(requestSecrets(orig))
		}
		obs.Duration, obs.Err = time.Since(start), err
		c.observe(obs)
		return resp, err
	}
	release, err := c.acquireBody(orig.Context(), obs.Operation)
	if err == nil {
		err = c.decodeBody(hr.Body, hr.ContentLength, v, obs.Operation, emptyBodyAllowed(orig))
		release()
	}
	obs.Duration, obs.Err = time.Since(start), err
	c.observe(obs)
	return resp, err
}

func (c *Client) observe(o Observation) {
	if c.observer != nil {
		c.observer(o)
	}
}

// decode reads a success body of at most the operation's body limit and
// decodes it. The limit is checked while reading: a body announced larger
// fails before a byte is read, and any other fails with ErrBodyTooLarge at
// its first byte past the limit. The body is held in chunks that grow
// with it (never doubling one buffer), so a request holds about as many
// bytes as it read: a hostile answer costs at most its limit.
func (c *Client) decode(body io.Reader, v any, op string) error {
	return c.decodeSized(body, -1, v, op)
}

func (c *Client) decodeSized(body io.Reader, contentLength int64, v any, op string) error {
	return c.decodeBody(body, contentLength, v, op, false)
}

// decodeBody is decodeSized for an operation that may declare (emptyOK)
// that an empty success body is an answer: a body that is empty after
// trimming whitespace then decodes as success, v untouched.
func (c *Client) decodeBody(body io.Reader, contentLength int64, v any, op string, emptyOK bool) error {
	limit := c.bodyLimit(op)
	lr := &limitedReader{r: body, n: limit, limit: limit, op: op}
	if contentLength > limit {
		return lr.tooLarge()
	}
	if v == nil {
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return readError(op, err, lr.err)
		}
		return nil
	}
	data, err := readBody(lr, contentLength)
	if err == nil && lr.err != nil {
		// io.ReadFull reads a dropped connection's io.ErrUnexpectedEOF as
		// the end of the body: it is not.
		err = lr.err
	}
	if err != nil {
		return readError(op, err, lr.err)
	}
	if emptyOK && len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &DecodeError{Operation: op, Err: err}
	}
	if isNullJSON(data) {
		return &DecodeError{Operation: op, Err: errors.New("body is JSON null")}
	}
	return nil
}

// readBody reads r to its end: into one buffer of the announced length, or
// else into chunks of growing size (4 KiB to 1 MiB) joined once at the end.
func readBody(r io.Reader, contentLength int64) ([]byte, error) {
	if contentLength >= 0 {
		buf := make([]byte, contentLength)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		// A body longer than announced still meets the limit.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var chunks [][]byte
	size, total := 4<<10, 0
	for {
		chunk := make([]byte, size)
		n, err := io.ReadFull(r, chunk)
		total += n
		chunks = append(chunks, chunk[:n])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		size = min(size*2, 1<<20)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, ch := range chunks {
		out = append(out, ch...)
	}
	return out, nil
}

// readError types an error met while reading or decoding a success body:
// the limit, a transport failure (timeout, reset, short body: readErr is
// what the body reader itself failed with), or bad JSON.
func readError(op string, err, readErr error) error {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return err
	case readErr != nil:
		return fmt.Errorf("read %s response: %w", op, readErr)
	default:
		return &DecodeError{Operation: op, Err: err}
	}
}

func isNullJSON(b []byte) bool {
	return string(bytes.TrimSpace(b)) == "null"
}

// sanitizeURLError keeps the operation context of a *url.Error but drops the
// query string and user info from its URL and redacts the request's
// secrets from it and from the error it wraps: after a redirect the URL is
// the redirect's, which a hostile server may fill with the credential it
// was sent. An unparsable Location header becomes ErrRedirectRefused
// without its text. Any other error is redacted as a whole.
func sanitizeURLError(err error, secrets []string) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return redactError(err, secrets)
	}
	if u, perr := url.Parse(ue.URL); perr == nil {
		u.RawQuery, u.ForceQuery, u.Fragment, u.User = "", false, "", nil
		ue.URL = u.String()
	} else {
		ue.URL = "(unparsable URL)"
	}
	ue.URL = redact(ue.URL, secrets)
	if ue.Err != nil && strings.HasPrefix(ue.Err.Error(), "failed to parse Location header") {
		// net/http formats the parse error into text (%v): nothing to
		// unwrap, and the text holds the whole Location.
		ue.Err = fmt.Errorf("%w: unparsable Location header", ErrRedirectRefused)
	}
	ue.Err = redactError(ue.Err, secrets)
	return err
}

// redactedError is an error whose text had secrets removed; it unwraps to
// the original, so errors.Is/As still classify it.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError returns err, or a redactedError when its text holds a
// secret.
func redactError(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	msg := err.Error()
	if r := redact(msg, secrets); r != msg {
		return &redactedError{msg: r, err: err}
	}
	return err
}

// checkRedirect refuses redirects to another host or scheme than the
// request's own, which is one of the configured hosts (the API's or the
// billing v2 one); the Authorization header must only ever reach those.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("%w: too many redirects", ErrRedirectRefused)
	}
	if orig := via[0].URL; req.URL.Host != orig.Host || req.URL.Scheme != orig.Scheme {
		return fmt.Errorf("%w: to %s://%s", ErrRedirectRefused, req.URL.Scheme, req.URL.Host)
	}
	// A 307/308 keeps the method: a redirect must not turn a dry run into
	// a real upgrade.
	return guardUpgrade(req)
}

// guardUpgrade refuses any _upgrade request that would really upgrade.
func guardUpgrade(req *http.Request) error {
	if !strings.HasSuffix(req.URL.Path, "/_upgrade") && !strings.Contains(req.URL.Path, "/_upgrade/") {
		return nil
	}
	q := req.URL.Query()
	if vals := q["validate_only"]; len(vals) != 1 || vals[0] != "true" {
		return ErrRealUpgradeRefused
	}
	return nil
}

func parseRateLimit(h http.Header) RateLimit {
	var rl RateLimit
	if v := h.Get("x-ratelimit-limit"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			rl.Limit = n
		}
	}
	if v := h.Get("x-ratelimit-remaining"); v != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			rl.Remaining, rl.Present = n, true
		}
	}
	if v := strings.TrimSpace(h.Get("x-ratelimit-interval")); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			rl.Interval = d
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e7 {
			rl.Interval = time.Duration(f * float64(time.Second))
		}
	}
	return rl
}

// parseExpiration reads x-elastic-api-key-expiration: RFC 3339, an HTTP
// date, or epoch seconds/milliseconds.
func parseExpiration(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.UTC()
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return normalizeTimestamp(n)
	}
	return time.Time{}
}
