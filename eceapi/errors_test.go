package eceapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answer builds the *http.Response CheckResponse sees: the request it
// answers carries an API key.
func answer(status int, header http.Header, body string) *http.Response {
	req, _ := http.NewRequest(http.MethodGet, "https://api.elastic-cloud.com/api/v1/billing/costs/o1?from=2026-11-01T00:00:00Z", nil)
	req.Header.Set("Authorization", "ApiKey "+sentinelKey)
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body)), Request: req}
}

func TestCheckResponse(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 201, 202, 204, 299} {
		assert.NoError(t, CheckResponse(answer(status, nil, "not even JSON")), status)
	}
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   APIError
		str    string
	}{
		{
			name: "documented error", status: 404,
			header: http.Header{"X-Cloud-Error-Codes": {"organization.not_found"}},
			body:   fixture(t, "get-costs-overview/error-404-organization-not-found.json"),
			want: APIError{StatusCode: 404, Method: "GET", Path: "/api/v1/billing/costs/o1", Codes: []string{"organization.not_found"},
				Errors: []ErrorElement{{Code: "organization.not_found", Message: "Organization not found.", Fields: []string{"organization_id"}}}},
			str: "GET /api/v1/billing/costs/o1: 404 Not Found [organization.not_found]: Organization not found.",
		},
		{
			name: "401 without codes header (GET /deployments)", status: 401,
			body: fixture(t, "list-deployments/error-401-unauthorized.json"),
			want: APIError{StatusCode: 401, Method: "GET", Path: "/api/v1/billing/costs/o1", Codes: []string{"root.unauthorized"},
				Errors: []ErrorElement{{Code: "root.unauthorized", Message: "You are not authorized to perform this action."}}},
		},
		{
			name: "codes only in the header, several header values", status: 500,
			header: http.Header{"X-Cloud-Error-Codes": {"billing_service.failed_request, a.b", "a.b,,c.d"}},
			want:   APIError{StatusCode: 500, Method: "GET", Path: "/api/v1/billing/costs/o1", Codes: []string{"billing_service.failed_request", "a.b", "c.d"}},
			str:    "GET /api/v1/billing/costs/o1: 500 Internal Server Error [billing_service.failed_request,a.b,c.d]",
		},
		{
			name: "many errors are summarised", status: 400,
			body: `{"errors":[{"code":"a","message":"m1"},{"code":"b","message":"m2"},{"code":"a","message":"m3"},{"code":"c","message":"m4"},{"code":"d","message":"m5"}]}`,
			want: APIError{StatusCode: 400, Method: "GET", Path: "/api/v1/billing/costs/o1", Codes: []string{"a", "b", "c", "d"},
				Errors: []ErrorElement{{"a", "m1", nil}, {"b", "m2", nil}, {"a", "m3", nil}, {"c", "m4", nil}, {"d", "m5", nil}}},
			str: "GET /api/v1/billing/costs/o1: 400 Bad Request [a,b,c,d]: m1: m2: m3 (and 2 more)",
		},
		{
			name: "HTML 502 from a proxy", status: 502,
			header: http.Header{"Content-Type": {"text/html"}},
			body:   "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>",
			want:   APIError{StatusCode: 502, Method: "GET", Path: "/api/v1/billing/costs/o1", BodyHint: `non-JSON error body (text/html): "502 Bad Gateway 502 Bad Gateway"`},
			str:    `GET /api/v1/billing/costs/o1: 502 Bad Gateway: non-JSON error body (text/html): "502 Bad Gateway 502 Bad Gateway"`,
		},
		{
			name: "JSON without errors", status: 503, body: `{"message":"maintenance"}`,
			want: APIError{StatusCode: 503, Method: "GET", Path: "/api/v1/billing/costs/o1", BodyHint: `non-JSON error body (unknown content type): "{\"message\":\"maintenance\"}"`},
		},
		{
			name: "long binary body is cut and cleaned", status: 500, header: http.Header{"Content-Type": {"application/octet-stream"}},
			body: "\xff\xfe\x00" + strings.Repeat("x", 500),
			want: APIError{StatusCode: 500, Method: "GET", Path: "/api/v1/billing/costs/o1", BodyHint: `non-JSON error body (application/octet-stream): "` + "\\x00" + strings.Repeat("x", 119) + `..."`},
		},
		{
			name: "empty body", status: 504,
			want: APIError{StatusCode: 504, Method: "GET", Path: "/api/v1/billing/costs/o1"},
			str:  "GET /api/v1/billing/costs/o1: 504 Gateway Timeout",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckResponse(answer(tc.status, tc.header, tc.body))
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.want, *apiErr)
			if tc.str != "" {
				assert.Equal(t, tc.str, err.Error())
			}
			assert.NotContains(t, err.Error(), "from=", "no query string")
			var rl *RateLimitError
			assert.False(t, errors.As(err, &rl))
		})
	}
}

func TestCheckResponse_RateLimit(t *testing.T) {
	t.Parallel()
	err := CheckResponse(answer(429, http.Header{"Retry-After": {"12"}, "X-Cloud-Error-Codes": {"billing_service.rate_limited"},
		"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Interval": {"60"}},
		`{"errors":[{"code":"billing_service.rate_limited","message":"Too many requests."}]}`))
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 12*time.Second, rl.RetryAfter)
	assert.Equal(t, RateLimit{Present: true, Limit: 100, Remaining: 0, Interval: time.Minute}, rl.RateLimit)
	assert.Equal(t, "GET /api/v1/billing/costs/o1: 429 Too Many Requests [billing_service.rate_limited]: Too many requests. (retry after 12s)", err.Error())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "errors.As(err, &*APIError) matches a 429")
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Same(t, rl.APIError, apiErr)

	wrapped := fmt.Errorf("get cost charts: %w", err)
	require.ErrorAs(t, wrapped, &rl)
	require.ErrorAs(t, wrapped, &apiErr)
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{"zero seconds", http.Header{"Retry-After": {"0"}}, 0},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{"padded", http.Header{"Retry-After": {" 7 "}}, 7 * time.Second},
		{"HTTP date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"HTTP date in the past", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"Retry-After wins over x-ratelimit", http.Header{"Retry-After": {"3"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Interval": {"45"}}, 3 * time.Second},
		{"spent window: the interval", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Interval": {"45"}}, 45 * time.Second},
		{"spent window, Go duration", http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Interval": {"2m"}}, 2 * time.Minute},
		{"calls left: default", http.Header{"X-Ratelimit-Remaining": {"5"}, "X-Ratelimit-Interval": {"45"}}, DefaultRetryAfter},
		{"remaining absent is not 0", http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Interval": {"45"}}, DefaultRetryAfter},
		{"remaining garbage is not 0", http.Header{"X-Ratelimit-Remaining": {"none"}, "X-Ratelimit-Interval": {"45"}}, DefaultRetryAfter},
		{"spent window without interval", http.Header{"X-Ratelimit-Remaining": {"0"}}, DefaultRetryAfter},
		{"nothing", http.Header{}, DefaultRetryAfter},
		{"garbage", http.Header{"Retry-After": {"soon"}}, DefaultRetryAfter},
		{"negative", http.Header{"Retry-After": {"-5"}}, DefaultRetryAfter},
		{"absurd", http.Header{"Retry-After": {"1e12"}}, DefaultRetryAfter},
		{"NaN", http.Header{"Retry-After": {"NaN"}}, DefaultRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, retryAfter(tc.h, parseRateLimit(tc.h), now))
		})
	}
	t.Run("through CheckResponse", func(t *testing.T) {
		t.Parallel()
		err := CheckResponse(answer(429, http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, ""))
		var rl *RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.InDelta(t, time.Hour.Seconds(), rl.RetryAfter.Seconds(), 2)
	})
}

func TestCheckResponse_ReadsAtMostOneMiB(t *testing.T) {
	t.Parallel()
	body := &countingReader{r: io.MultiReader(strings.NewReader(`{"errors":[{"code":"a","message":"`), strings.NewReader(strings.Repeat("x", 4<<20)))}
	resp := answer(500, nil, "")
	resp.Body = io.NopCloser(body)
	err := CheckResponse(resp)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, int64(maxErrorBody), body.n)
	assert.Less(t, len(err.Error()), 300, "the cut body is summarised, not copied")
}

func TestCheckResponse_Degenerate(t *testing.T) {
	t.Parallel()
	for name, resp := range map[string]*http.Response{
		"nil body":        {StatusCode: 500, Header: http.Header{}},
		"nil header":      {StatusCode: 429, Body: io.NopCloser(strings.NewReader("x"))},
		"nil request":     {StatusCode: 404, Body: http.NoBody},
		"nil request URL": {StatusCode: 404, Body: http.NoBody, Request: &http.Request{Method: "GET"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var err error
			require.NotPanics(t, func() { err = CheckResponse(resp) })
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, resp.StatusCode, apiErr.StatusCode)
		})
	}
}

func TestCheckResponse_RedactsEchoedCredentials(t *testing.T) {
	t.Parallel()
	resp := answer(403, http.Header{"X-Cloud-Error-Codes": {"x," + sentinelKey}, "Content-Type": {"application/json"}},
		`{"errors":[{"code":"`+sentinelKey+`","message":"key ApiKey `+sentinelKey+` is revoked","fields":["`+sentinelKey+`"]}]}`)
	err := CheckResponse(resp)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, fmt.Sprintf("%s %+v %#v", err, apiErr, *apiErr), sentinelKey)
	assert.Equal(t, "key ApiKey <secret> is revoked", apiErr.Errors[0].Message)
	assert.Equal(t, []string{"<secret>", "x"}, apiErr.Codes)

	// A secret cut by the 120-character excerpt must not leave its prefix.
	html := answer(502, http.Header{"Content-Type": {"text/html"}}, "<p>"+strings.Repeat("y", 110)+" "+sentinelKey+"</p>")
	err = CheckResponse(html)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), sentinelKey[:8])
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	inner := errors.New("unexpected end of JSON input")
	var err error = &DecodeError{Operation: "list-deployments", Err: inner}
	assert.Equal(t, "decode list-deployments response: unexpected end of JSON input", err.Error())
	assert.ErrorIs(t, err, inner)
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr))
}

func TestSentinelsWrapWithContext(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	require.NoError(t, err)
	_, _, err = c.Billing.DeploymentItems(t.Context(), "o", "a/b", nil)
	require.ErrorIs(t, err, ErrInvalidPathSegment)
	assert.Equal(t, `get itemized costs of deployment: deployment_id "a/b": invalid path segment`, err.Error())
	_, _, err = c.Deployments.UpgradeDryRun(t.Context(), "d", "elasticsearch", "main-elasticsearch")
	require.ErrorIs(t, err, ErrInvalidKind)
	assert.Equal(t, `upgrade dry run: "elasticsearch": invalid stateless resource kind`, err.Error())
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestCheckResponse_BoundsHostileErrorText: a 500 with 31 messages of
// 20,000 bytes, thousands of codes in x-cloud-error-codes and a huge code
// in the body (the reviewer's hostile upstream): the error keeps bounded
// text, cut after the secrets are redacted.
func TestCheckResponse_BoundsHostileErrorText(t *testing.T) {
	t.Parallel()
	var codes []string
	for i := range 5000 {
		codes = append(codes, fmt.Sprintf("code.%d", i))
	}
	msg := strings.Repeat("é", 10000) // 20,000 bytes of multi-byte runes (the body stays under 1 MiB)
	var els []string
	els = append(els, `{"code":"`+strings.Repeat("c", 10000)+`","message":"`+sentinelKey+msg+`","fields":["`+strings.Repeat("f", 5000)+`"]}`)
	for i := range 30 {
		els = append(els, fmt.Sprintf(`{"code":"c.%d","message":"%s"}`, i, msg))
	}
	resp := answer(500, http.Header{"X-Cloud-Error-Codes": {strings.Join(codes, ",")}, "Content-Type": {"application/json"}},
		`{"errors":[`+strings.Join(els, ",")+`]}`)
	err := CheckResponse(resp)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	text := err.Error()
	assert.LessOrEqual(t, len(text), 2000)
	assert.True(t, utf8.ValidString(text), "cut at a rune boundary")
	assert.Contains(t, text, "<secret>", "redacted before the cut")
	assert.NotContains(t, text, sentinelKey)
	assert.Contains(t, text, "(and 28 more)", "the elements left out are still counted")
	assert.Len(t, apiErr.Codes, maxErrorCodes)
	for _, c := range apiErr.Codes {
		assert.LessOrEqual(t, len(c), maxErrorCode)
	}
	assert.LessOrEqual(t, len(apiErr.Errors), maxErrorElements)
	for _, el := range apiErr.Errors {
		assert.LessOrEqual(t, len(el.Message), maxErrorMessage)
		assert.LessOrEqual(t, len(el.Code), maxErrorCode)
		for _, f := range el.Fields {
			assert.LessOrEqual(t, len(f), maxErrorCode)
		}
		assert.True(t, utf8.ValidString(el.Message))
	}
	// A 429 adds its wait to the same bounded text.
	resp = answer(429, http.Header{"X-Cloud-Error-Codes": {strings.Join(codes, ",")}}, `{"errors":[`+strings.Join(els, ",")+`]}`)
	assert.Less(t, len(CheckResponse(resp).Error()), 2048)
}
