package eceapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
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
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)-3)
			break
		}
		if el.Message != "" {
			b.WriteString(": " + el.Message)
		}
	}
	if len(e.Errors) == 0 && e.BodyHint != "" {
		b.WriteString(": " + e.BodyHint)
	}
	return b.String()
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
	var secrets []string
	if r.Request != nil {
		secrets = credentials(r.Request.Header.Get("Authorization"))
	}
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
	if r.StatusCode == http.StatusTooManyRequests {
		rl := parseRateLimit(r.Header)
		return &RateLimitError{APIError: e, RetryAfter: retryAfter(r.Header, rl, time.Now()), RateLimit: rl}
	}
	return e
}

func appendCode(codes []string, c string) []string {
	if c == "" {
		return codes
	}
	for _, have := range codes {
		if have == c {
			return codes
		}
	}
	return append(codes, c)
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

// redact replaces every secret in s by "<secret>".
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, redacted)
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
