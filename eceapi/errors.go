package eceapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Sentinel errors, compared with errors.Is.
var (
	// ErrInvalidPathSegment is returned before any request is sent when a
	// path parameter is empty or could change the path (/, .., ?, #, %...).
	ErrInvalidPathSegment = errors.New("invalid path segment")
	// ErrInvalidKind is returned when a stateless resource kind is not one of
	// the spec's enum values.
	ErrInvalidKind = errors.New("invalid stateless resource kind")
	// ErrBodyTooLarge is returned when a response body exceeds the limit.
	ErrBodyTooLarge = errors.New("response body too large")
	// ErrRealUpgradeRefused is returned by the transport for any _upgrade
	// request that lacks validate_only=true. It cannot happen through the
	// exported API; it is the last line of defence.
	ErrRealUpgradeRefused = errors.New("refusing to send an _upgrade request without validate_only=true")
	// ErrRequestBudget is returned when the per-client request budget
	// (WithRequestBudget) has no token left before the context ends.
	ErrRequestBudget = errors.New("request budget exhausted")
	// ErrRedirectRefused is returned when the API redirects to another host or
	// from https to http.
	ErrRedirectRefused = errors.New("redirect refused")
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// Bounds of the upstream text an APIError keeps, applied after the
// secrets are redacted: a hostile answer (1 MiB messages, thousands of
// codes) must not make every poll log a megabyte. Error() is at most
// maxErrorText bytes.
const (
	maxErrorMessage  = 512
	maxErrorCode     = 64
	maxErrorCodes    = 10
	maxErrorElements = 10
	maxErrorFields   = 10
	maxErrorPath     = 256
	maxErrorText     = 2000
)

// maxHintSource bounds how much of a non-JSON error body the body hint
// (120 characters of its text) is taken from.
const maxHintSource = 64 << 10

// APIError is any non-2xx answer of the API.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Operation is the spec operationId of the request.
	Operation string
	// Method and Path of the request; Path never contains the query string.
	Method, Path string
	// Codes are the error codes from the body and the x-cloud-error-codes
	// header, without duplicates, body codes first.
	Codes []string
	// Errors are the decoded BasicFailedReply elements, when the body had them.
	Errors []ErrorElement
	// BodyHint describes a body that was not a BasicFailedReply (an HTML page
	// from a proxy, say): its content type and a short, sanitised excerpt.
	BodyHint string

	// dropped counts the elements of Errors left out beyond
	// maxErrorElements.
	dropped int
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Codes) > 0 {
		b.WriteString(" [" + strings.Join(e.Codes, ",") + "]")
	}
	for i, el := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)+e.dropped-3)
			break
		}
		if el.Message != "" {
			b.WriteString(": " + el.Message)
		}
	}
	if len(e.Errors) == 0 && e.BodyHint != "" {
		b.WriteString(": " + e.BodyHint)
	}
	return truncateText(b.String(), maxErrorText)
}

// truncateText cuts s to at most n bytes at a UTF-8 boundary, ending
// with "..." when cut.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// bound cuts the upstream text of e to the maxError* sizes. Call it after
// redact: a secret cut in two would no longer match.
func (e *APIError) bound() {
	e.Path = truncateText(e.Path, maxErrorPath)
	if len(e.Codes) > maxErrorCodes {
		e.Codes = e.Codes[:maxErrorCodes]
	}
	for i, c := range e.Codes {
		e.Codes[i] = truncateText(c, maxErrorCode)
	}
	if len(e.Errors) > maxErrorElements {
		e.dropped += len(e.Errors) - maxErrorElements
		e.Errors = e.Errors[:maxErrorElements:maxErrorElements]
	}
	for i := range e.Errors {
		el := &e.Errors[i]
		el.Code, el.Message = truncateText(el.Code, maxErrorCode), truncateText(el.Message, maxErrorMessage)
		if len(el.Fields) > maxErrorFields {
			el.Fields = el.Fields[:maxErrorFields]
		}
		for j, f := range el.Fields {
			el.Fields[j] = truncateText(f, maxErrorCode)
		}
	}
}

// HasCode reports whether the error carries the given error code.
func (e *APIError) HasCode(code string) bool {
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// Code returns the first error code, or "".
func (e *APIError) Code() string {
	if len(e.Codes) == 0 {
		return ""
	}
	return e.Codes[0]
}

// RateLimitError is a 429 answer. It unwraps to its *APIError, so
// errors.As(err, &apiErr) also matches it.
type RateLimitError struct {
	*APIError
	// RetryAfter is how long to wait before asking again: from Retry-After,
	// else from the x-ratelimit-* headers, else DefaultRetryAfter.
	RetryAfter time.Duration
	// RateLimit is what the x-ratelimit-* headers said, if anything.
	RateLimit RateLimit
}

// DefaultRetryAfter is the wait assumed after a 429 that says nothing.
const DefaultRetryAfter = 10 * time.Second

// Error implements error.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s (retry after %s)", e.APIError.Error(), e.RetryAfter)
}

// Unwrap returns the embedded *APIError.
func (e *RateLimitError) Unwrap() error { return e.APIError }

// DecodeError is a 2xx answer whose body could not be decoded.
type DecodeError struct {
	Operation string
	Err       error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode %s response: %v", e.Operation, e.Err)
}

// Unwrap returns the underlying decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// CheckResponse returns nil for a 2xx answer and a typed error otherwise:
// *RateLimitError for 429, *APIError for everything else. It reads at most
// 1 MiB of the body; the caller still closes it.
func CheckResponse(r *http.Response) error {
	if r.StatusCode >= 200 && r.StatusCode <= 299 {
		return nil
	}
	e := &APIError{StatusCode: r.StatusCode, Operation: operationOf(r.Request)}
	if r.Request != nil {
		e.Method = r.Request.Method
		if r.Request.URL != nil {
			e.Path = r.Request.URL.Path
		}
	}
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	}
	secrets := requestSecrets(r.Request)
	var reply errorReply
	if len(body) > 0 && json.Unmarshal(body, &reply) == nil && len(reply.Errors) > 0 {
		e.Errors = reply.Errors
		for _, el := range reply.Errors {
			e.Codes = appendCode(e.Codes, el.Code)
		}
	} else if el, ok := v2ErrorElement(body); ok {
		// The billing v2 service's own error body.
		e.Errors = []ErrorElement{el}
		e.Codes = appendCode(e.Codes, el.Code)
	} else if len(body) > 0 {
		e.BodyHint = bodyHint(r.Header.Get("Content-Type"), body, secrets)
	}
	for _, h := range r.Header.Values("x-cloud-error-codes") {
		for _, c := range strings.Split(h, ",") {
			e.Codes = appendCode(e.Codes, strings.TrimSpace(c))
		}
	}
	// A server or proxy may echo the credential it was sent.
	e.redact(secrets)
	e.bound()
	if r.StatusCode == http.StatusTooManyRequests {
		rl := parseRateLimit(r.Header)
		return &RateLimitError{APIError: e, RetryAfter: retryAfter(r.Header, rl, time.Now()), RateLimit: rl}
	}
	return e
}

// appendCode adds c to codes unless it is empty, already there, or codes
// holds maxErrorCodes already (a header may list thousands).
func appendCode(codes []string, c string) []string {
	if c == "" || len(codes) >= maxErrorCodes {
		return codes
	}
	for _, have := range codes {
		if have == c {
			return codes
		}
	}
	return append(codes, c)
}

// requestSecrets returns what is secret in a request: its Authorization
// credentials and, for a login, the password of its JSON body (and
// "username:password", which a server may echo base64-encoded).
func requestSecrets(req *http.Request) []string {
	if req == nil {
		return nil
	}
	secrets := credentials(req.Header.Get("Authorization"))
	if req.GetBody == nil || req.Method != http.MethodPost {
		return secrets
	}
	rc, err := req.GetBody()
	if err != nil {
		return secrets
	}
	defer rc.Close() //nolint:errcheck // an in-memory copy of the request body
	var login loginRequest
	if json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&login) == nil && login.Password != "" {
		secrets = append(secrets, login.Password)
		if login.Username != "" {
			secrets = append(secrets, login.Username+":"+login.Password)
		}
	}
	return secrets
}

// credentials returns the secret parts of an Authorization header value:
// what follows the scheme and, for Basic, the decoded password.
func credentials(auth string) []string {
	auth = strings.TrimSpace(auth)
	if auth == "" {
		return nil
	}
	scheme, cred, ok := strings.Cut(auth, " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return []string{auth}
	}
	out := []string{cred}
	if strings.EqualFold(scheme, "basic") {
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
			if _, pw, ok := strings.Cut(string(dec), ":"); ok && pw != "" {
				out = append(out, pw)
			}
		}
	}
	return out
}

// redact replaces every secret in s, in every form a server may echo it
// (see secretForms), ignoring ASCII case, by "<secret>".
func redact(s string, secrets []string) string {
	forms := secretForms(secrets)
	if len(forms) == 0 || s == "" {
		return s
	}
	folded := asciiLower(s)
	// Mark every byte covered by a match, then write the text once with
	// each covered run replaced: overlapping forms become one "<secret>".
	var covered []bool
	for _, f := range forms {
		for i := 0; ; {
			j := strings.Index(folded[i:], f)
			if j < 0 {
				break
			}
			if covered == nil {
				covered = make([]bool, len(s))
			}
			for k := i + j; k < i+j+len(f); k++ {
				covered[k] = true
			}
			i += j + 1
		}
	}
	if covered == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if !covered[i] {
			b.WriteByte(s[i])
			continue
		}
		b.WriteString(redacted)
		for i+1 < len(s) && covered[i+1] {
			i++
		}
	}
	return b.String()
}

// secretForms returns each secret as a server, a proxy or an error page
// may echo it: as is, upper- and lower-cased, JSON-escaped (with and
// without HTML escapes, \u-escaping every non-ASCII character, escaping
// "/"), HTML-escaped, percent-encoded (query, path, and every byte but the
// unreserved ones), and base64-encoded (standard and URL alphabets, padded
// or not). The forms are ASCII lower-cased, as redact matches them
// ignoring ASCII case (which also covers lower-case percent and \u
// escapes).
func secretForms(secrets []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		f = asciiLower(f)
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, v := range []string{sec, strings.ToLower(sec), strings.ToUpper(sec)} {
			add(v)
			for _, j := range jsonForms(v) {
				add(j)
				add(url.QueryEscape(j))
			}
			add(html.EscapeString(v))
			add(strings.NewReplacer("&#34;", "&quot;", "&#39;", "&apos;").Replace(html.EscapeString(v)))
			add(url.QueryEscape(v))
			add(url.PathEscape(v))
			add(percentEncodeAll(v))
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(sec)))
		}
	}
	// Each form also as quoted in a text already built with %q (a body
	// hint redacted again once the caller knows more secrets).
	for _, f := range out {
		add(strings.Trim(strconv.Quote(f), `"`))
	}
	return out
}

// jsonForms are the contents of a JSON string holding s, as encoders
// write them.
func jsonForms(s string) []string {
	var html, plain bytes.Buffer
	_ = json.NewEncoder(&html).Encode(s)
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	unquote := func(b bytes.Buffer) string {
		return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(b.String()), `"`), `"`)
	}
	h, p := unquote(html), unquote(plain)
	var ascii strings.Builder
	for _, r := range h {
		switch {
		case r < utf8.RuneSelf:
			ascii.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&ascii, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&ascii, `\u%04x`, r)
		}
	}
	return []string{h, p, ascii.String(), strings.ReplaceAll(h, "/", `\/`), strings.ReplaceAll(ascii.String(), "/", `\/`)}
}

// percentEncodeAll percent-encodes every byte but the unreserved ones
// (RFC 3986), as strict encoders do.
func percentEncodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so that byte offsets stay
// the same.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// redact removes secrets from every text of the error that came from the
// server.
func (e *APIError) redact(secrets []string) {
	if len(secrets) == 0 {
		return
	}
	// After a same-host redirect, Path is the redirect's.
	e.Path = redact(e.Path, secrets)
	for i, c := range e.Codes {
		e.Codes[i] = redact(c, secrets)
	}
	for i := range e.Errors {
		el := &e.Errors[i]
		el.Code, el.Message = redact(el.Code, secrets), redact(el.Message, secrets)
		for j, f := range el.Fields {
			el.Fields[j] = redact(f, secrets)
		}
	}
	e.BodyHint = redact(e.BodyHint, secrets)
}

// bodyHint summarises a non-JSON error body: its media type and the first
// characters of its text with markup and control characters removed.
// Secrets are removed before the text is cut or quoted.
func bodyHint(contentType string, body []byte, secrets []string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = "unknown content type"
	}
	// The excerpt is short: redact only the start of a large page.
	if len(body) > maxHintSource {
		body = body[:maxHintSource]
	}
	text := redact(string(body), secrets)
	if strings.Contains(mt, "html") {
		text = stripTags(text)
	}
	text = strings.Join(strings.Fields(strings.ToValidUTF8(text, "")), " ")
	text = redact(text, secrets)
	const max = 120
	if utf8.RuneCountInString(text) > max {
		text = string([]rune(text)[:max]) + "..."
	}
	if text == "" {
		return "non-JSON error body (" + mt + ")"
	}
	return fmt.Sprintf("non-JSON error body (%s): %q", mt, text)
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// retryAfter decides how long to wait after a 429.
func retryAfter(h http.Header, rl RateLimit, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && secs < 86400 {
			return time.Duration(secs * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(now); d > 0 && d < 24*time.Hour {
				return d
			}
			return 0
		}
	}
	// Only a remaining count actually sent as 0 means the window is spent;
	// a missing header must not read as 0.
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("x-ratelimit-remaining"))); err == nil && n <= 0 && rl.Interval > 0 {
		return rl.Interval
	}
	return DefaultRetryAfter
}
