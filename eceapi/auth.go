package eceapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"
)

// authenticator adds credentials to a request.
type authenticator interface {
	apply(*http.Request) error
	// invalidate drops a cached credential after a 401 and reports whether
	// trying again could help.
	invalidate() bool
}

type noAuth struct{}

func (noAuth) apply(*http.Request) error { return nil }
func (noAuth) invalidate() bool          { return false }

type apiKeyAuth struct{ key *sealed }

func (a apiKeyAuth) apply(r *http.Request) error {
	r.Header.Set("Authorization", "ApiKey "+a.key.reveal())
	return nil
}
func (apiKeyAuth) invalidate() bool { return false }

type basicAuth struct {
	username string
	password *sealed
}

func (a basicAuth) apply(r *http.Request) error {
	r.SetBasicAuth(a.username, a.password.reveal())
	return nil
}
func (basicAuth) invalidate() bool { return false }

// loginAuth holds an ECE bearer token obtained with _login and renewed with
// _refresh once two thirds of its lifetime have passed.
type loginAuth struct {
	client   *Client
	username string
	password *sealed

	mu        sync.Mutex
	token     *sealed
	obtained  time.Time
	expires   time.Time
	refreshAt time.Time
}

func (a *loginAuth) apply(r *http.Request) error {
	tok, err := a.current(r.Context())
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok.reveal())
	return nil
}

func (a *loginAuth) invalidate() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.token = nil
	return true
}

// current returns a valid token, refreshing or logging in as needed.
func (a *loginAuth) current(ctx context.Context) (*sealed, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.client.now()
	if a.token != nil && now.Before(a.refreshAt) {
		return a.token, nil
	}
	if a.token != nil && now.Before(a.expires) {
		if err := a.exchange(ctx, true); err == nil {
			return a.token, nil
		}
		// Refresh failed (revoked session, say): fall back to a new login.
	}
	if err := a.exchange(ctx, false); err != nil {
		a.token = nil
		return nil, err
	}
	return a.token, nil
}

// exchange calls _refresh (with the current token) or _login (with the
// username and password in the body). The caller holds a.mu.
func (a *loginAuth) exchange(ctx context.Context, refresh bool) error {
	c := a.client
	op, path, what := "login", "users/auth/_login", "log in"
	var body any = loginRequest{Username: a.username, Password: a.password.reveal()}
	if refresh {
		op, path, what, body = "refresh-token", "users/auth/_refresh", "refresh token", nil
	}
	req, err := c.newRequest(ctx, op, http.MethodPost, path, nil, body)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if refresh {
		req.Header.Set("Authorization", "Bearer "+a.token.reveal())
	}
	var tr tokenResponse
	if _, err := c.roundTrip(req, &tr, 1); err != nil {
		// The password travels in the body, out of CheckResponse's sight:
		// an answer echoing it must not carry it into the error.
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.redact([]string{a.password.reveal()})
		}
		return fmt.Errorf("%s as %q: %w", what, a.username, err)
	}
	if tr.Token == "" {
		return fmt.Errorf("%s as %q: answer holds no token", what, a.username)
	}
	now := c.now()
	a.token, a.obtained = seal(tr.Token), now
	a.expires = sessionExpiry(tr, now)
	a.refreshAt = now.Add(a.expires.Sub(now) * 2 / 3)
	return nil
}

// defaultSessionTTL is the session lifetime assumed when a token answer
// says nothing usable about its expiry: short, so that the token is
// refreshed soon rather than used until the API refuses it.
const defaultSessionTTL = 3 * time.Minute

// maxSessionTTL bounds the lifetime read from a token, so that a wrong
// claim cannot postpone every refresh for months.
const maxSessionTTL = 24 * time.Hour

// sessionExpiry decides when a new token expires: session_expiration_time
// when the answer has one in the future; otherwise the exp claim of the
// token, which ECE 2.x sends as a JWT with no session_expiration_time;
// otherwise now + defaultSessionTTL.
func sessionExpiry(tr tokenResponse, now time.Time) time.Time {
	exp := tr.SessionExpirationTime
	if !exp.After(now) {
		exp, _ = jwtExpiry(tr.Token)
	}
	if !exp.After(now) {
		return now.Add(defaultSessionTTL)
	}
	return minTime(exp, now.Add(maxSessionTTL))
}

// jwtExpiry returns the exp claim (seconds since the epoch) of a JWT. The
// token is decoded, not verified: the expiry is only a hint of when to
// refresh, and the API remains the judge of the token's validity. Any
// token that is not a JWT with a numeric exp gives false.
func jwtExpiry(tok string) (time.Time, bool) {
	// At most 4 parts: a token of many dots costs no more than one of four.
	parts := strings.SplitN(tok, ".", 4)
	if len(parts) != 3 || len(parts[1]) > 8192 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || math.IsNaN(f) || f <= 0 || f >= millisThreshold {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
