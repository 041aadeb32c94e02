package admin

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// TestMapUpstreamUsesTheClassifier: every reason of eceapi.ErrorReason
// gets its own answer.
func TestMapUpstreamUsesTheClassifier(t *testing.T) {
	t.Parallel()
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://h/", Err: err} }
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		code    string
		outcome string
	}{
		{"429", &eceapi.RateLimitError{APIError: &eceapi.APIError{StatusCode: 429}}, 429, "rate_limited", outcomeRateLimited},
		{"request budget", fmt.Errorf("x: %w", eceapi.ErrRequestBudget), 429, "rate_limited", outcomeRateLimited},
		{"404", &eceapi.APIError{StatusCode: 404, Codes: []string{"deployments.not_found"}}, 404, "deployments.not_found", outcomeNotFound},
		{"403", &eceapi.APIError{StatusCode: 403}, 502, "upstream_permission_denied", outcomeUpstreamAuth},
		{"504", &eceapi.APIError{StatusCode: 504}, 504, "upstream_timeout", outcomeTimeout},
		{"deadline", context.DeadlineExceeded, 504, "upstream_timeout", outcomeTimeout},
		{"500", &eceapi.APIError{StatusCode: 500}, 502, "upstream_error", outcomeUpstreamError},
		{"tls", urlErr(x509.UnknownAuthorityError{}), 502, "upstream_tls", outcomeUpstreamError},
		{"redirect", urlErr(fmt.Errorf("%w: to http://x", eceapi.ErrRedirectRefused)), 502, "upstream_redirect", outcomeUpstreamError},
		{"decode", &eceapi.DecodeError{Operation: "upgrade-deployment-stateless-resource", Err: errors.New("bad")}, 502, "upstream_bad_answer", outcomeUpstreamError},
		{"refused", urlErr(errors.New("connection refused")), 502, "upstream_unreachable", outcomeUpstreamError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, code, msg, outcome := mapUpstream(tc.err, "prod")
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, tc.outcome, outcome)
			assert.NotEmpty(t, msg)
			assert.NotEqual(t, http.StatusOK, status)
		})
	}
}
