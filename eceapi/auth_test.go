package eceapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuth_Header(t *testing.T) {
	t.Parallel()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(sentinelUser+":"+sentinelPassword))
	for _, tc := range []struct {
		name string
		opt  Option
		want string
	}{
		{"API key (ESS and ECE)", WithAPIKey(sentinelKey), "ApiKey " + sentinelKey},
		{"basic (ECE)", WithBasicAuth(sentinelUser, sentinelPassword), basic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, tc.opt)
			var got []string
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Values("Authorization")
				assert.NotContains(t, r.URL.String(), sentinelKey)
				assert.NotContains(t, r.URL.String(), sentinelPassword)
				writeJSON(w, http.StatusOK, `{"id":"a"}`)
			})
			_, _, err := c.Accounts.Get(context.Background())
			require.NoError(t, err)
			assert.Equal(t, []string{tc.want}, got, "exactly one Authorization header")
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			assert.Empty(t, r.Header.Values("Authorization"))
			writeJSON(w, http.StatusOK, `{"id":"a"}`)
		}))
		t.Cleanup(srv.Close)
		c, err := NewClient(WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, _, err = c.Accounts.Get(context.Background())
		require.NoError(t, err)
	})
}

// loginServer is an ECE login endpoint: it issues tokens that live for
// lifetime and counts logins, refreshes and uses of each token.
type loginServer struct {
	mux      *http.ServeMux
	url      string
	mu       sync.Mutex
	now      time.Time
	lifetime time.Duration
	logins   int
	refresh  int
	// failRefresh makes _refresh answer 401; revoked tokens get a 401 on
	// /account.
	failRefresh bool
	revoked     map[string]bool
	seen        []string
	// claims, when set, makes the server answer as ECE 2.x does: a JWT
	// whose payload is claims(now), and no session_expiration_time. The
	// opaque token becomes the JWT's signature part.
	claims func(now time.Time) string
}

// bearer returns the opaque token of a bearer credential (the signature of
// a JWT).
func bearer(auth string) string {
	tok := strings.TrimPrefix(auth, "Bearer ")
	return tok[strings.LastIndex(tok, ".")+1:]
}

func newLoginServer(t *testing.T) *loginServer {
	s := &loginServer{now: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC), lifetime: 15 * time.Minute, revoked: map[string]bool{}}
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle(basePath+APIBasePath+"/", mux)
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s", r.URL)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	s.mux, s.url = mux, srv.URL+basePath
	mux.HandleFunc(p("/users/auth/_login"), func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.Header.Get("Authorization"), "login carries the password in the body only")
		var body map[string]any
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		s.mu.Lock()
		defer s.mu.Unlock()
		if body["username"] != sentinelUser || body["password"] != sentinelPassword {
			w.Header().Set("x-cloud-error-codes", "root.unauthenticated")
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthenticated", "The supplied authentication is invalid"))
			return
		}
		s.logins++
		s.issue(w, fmt.Sprintf("%s-login-%d", sentinelToken, s.logins))
	})
	mux.HandleFunc(p("/users/auth/_refresh"), func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		s.mu.Lock()
		defer s.mu.Unlock()
		tok := bearer(r.Header.Get("Authorization"))
		if s.failRefresh || s.revoked[tok] || !strings.HasPrefix(tok, sentinelToken) {
			w.Header().Set("x-cloud-error-codes", "root.unauthorized")
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthorized", "The authentication token is invalid or expired"))
			return
		}
		s.refresh++
		s.issue(w, fmt.Sprintf("%s-refresh-%d", sentinelToken, s.refresh))
	})
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		tok := bearer(r.Header.Get("Authorization"))
		s.seen = append(s.seen, strings.TrimPrefix(tok, sentinelToken+"-"))
		if s.revoked[tok] {
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthorized", "token revoked"))
			return
		}
		writeJSON(w, http.StatusOK, `{"id":"a"}`)
	})
	return s
}

// issue answers with a TokenResponse. The caller holds s.mu.
func (s *loginServer) issue(w http.ResponseWriter, tok string) {
	if s.claims != nil {
		enc := base64.RawURLEncoding.EncodeToString
		jwt := enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(s.claims(s.now))) + "." + tok
		writeJSON(w, http.StatusOK, fmt.Sprintf(`{"token":%q}`, jwt))
		return
	}
	writeJSON(w, http.StatusOK, fmt.Sprintf(`{"token":%q,"session_expiration_time":%q}`, tok, s.now.Add(s.lifetime).Format(time.RFC3339)))
}

func (s *loginServer) clock() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }

func (s *loginServer) advance(d time.Duration) { s.mu.Lock(); s.now = s.now.Add(d); s.mu.Unlock() }

func (s *loginServer) counts() (logins, refreshes int, seen []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.refresh, append([]string(nil), s.seen...)
}

func (s *loginServer) client(t *testing.T, user, password string, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(append([]Option{WithBaseURL(s.url), WithLogin(user, password), WithClock(s.clock),
		WithBackoff(time.Millisecond, 5*time.Millisecond, time.Second)}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestAuth_Login(t *testing.T) {
	t.Parallel()
	get := func(t *testing.T, c *Client) error { _, _, err := c.Accounts.Get(context.Background()); return err }

	t.Run("bearer token reused, refreshed after two thirds of its lifetime", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		c := s.client(t, sentinelUser, sentinelPassword)
		require.NoError(t, get(t, c))
		s.advance(9*time.Minute + 59*time.Second) // before 2/3 of 15 minutes
		require.NoError(t, get(t, c))
		s.advance(2 * time.Second) // past 10 minutes
		require.NoError(t, get(t, c))
		require.NoError(t, get(t, c))
		logins, refreshes, seen := s.counts()
		assert.Equal(t, []string{"login-1", "login-1", "refresh-1", "refresh-1"}, seen)
		assert.Equal(t, 1, logins)
		assert.Equal(t, 1, refreshes)
	})
	t.Run("expired token: log in again", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		c := s.client(t, sentinelUser, sentinelPassword)
		require.NoError(t, get(t, c))
		s.advance(time.Hour)
		require.NoError(t, get(t, c))
		logins, refreshes, seen := s.counts()
		assert.Equal(t, []string{"login-1", "login-2"}, seen)
		assert.Equal(t, 2, logins)
		assert.Zero(t, refreshes)
	})
	t.Run("refresh fails: log in again", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		c := s.client(t, sentinelUser, sentinelPassword)
		require.NoError(t, get(t, c))
		s.mu.Lock()
		s.failRefresh = true
		s.mu.Unlock()
		s.advance(11 * time.Minute)
		require.NoError(t, get(t, c))
		logins, refreshes, seen := s.counts()
		assert.Equal(t, []string{"login-1", "login-2"}, seen)
		assert.Equal(t, 2, logins)
		assert.Zero(t, refreshes)
	})
	t.Run("401 on a bearer request: one new login, then the request again", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		var obs observations
		c := s.client(t, sentinelUser, sentinelPassword, obs.option())
		require.NoError(t, get(t, c))
		s.mu.Lock()
		s.revoked[sentinelToken+"-login-1"] = true
		s.mu.Unlock()
		require.NoError(t, get(t, c))
		logins, _, seen := s.counts()
		assert.Equal(t, []string{"login-1", "login-1", "login-2"}, seen)
		assert.Equal(t, 2, logins)
		var ops []string
		for _, o := range obs.get() {
			ops = append(ops, fmt.Sprintf("%s %d", o.Operation, o.StatusCode))
		}
		assert.Equal(t, []string{"login 200", "get-current-account 200", "get-current-account 401", "login 200", "get-current-account 200"}, ops)
	})
	t.Run("401 on the dry run: not re-sent, the next request logs in", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		var n atomic.Int32
		s.mux.HandleFunc(p("/deployments/d/kibana/main-kibana/_upgrade"), func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthorized", "token revoked"))
		})
		c := s.client(t, sentinelUser, sentinelPassword)
		_, _, err := c.Deployments.UpgradeDryRun(context.Background(), "d", "kibana", "main-kibana")
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
		assert.Equal(t, int32(1), n.Load(), "sent once")
		require.NoError(t, get(t, c))
		logins, _, _ := s.counts()
		assert.Equal(t, 2, logins, "the dropped token is replaced by a new login")
	})
	t.Run("401 again after the new login: no third try", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		c := s.client(t, sentinelUser, sentinelPassword)
		s.mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthorized", "no"))
		})
		_, _, err := c.Deployments.List(context.Background())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
		logins, _, _ := s.counts()
		assert.Equal(t, 2, logins, "the first login and one re-login")
	})
	t.Run("wrong password: one login attempt per request, a typed error without the password", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		var loginCalls atomic.Int32
		c := s.client(t, sentinelUser, "wrong-"+sentinelPassword, WithObserver(func(o Observation) {
			if o.Operation == "login" {
				loginCalls.Add(1)
			}
		}))
		err := get(t, c)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "login", apiErr.Operation)
		assert.True(t, apiErr.HasCode("root.unauthenticated"))
		assert.Contains(t, err.Error(), `get account: log in as "`+sentinelUser+`"`)
		assert.NotContains(t, err.Error(), sentinelPassword)
		assert.Equal(t, int32(1), loginCalls.Load(), "a 401 of _login itself is final")
		_, _, seen := s.counts()
		assert.Empty(t, seen, "the request was never sent without a token")
	})
	t.Run("answer without a token", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, `{"session_expiration_time":"2030-01-01T00:00:00Z"}`)
		}))
		t.Cleanup(srv.Close)
		c, err := NewClient(WithBaseURL(srv.URL), WithLogin(sentinelUser, sentinelPassword), WithMaxRetries(0))
		require.NoError(t, err)
		assert.ErrorContains(t, get(t, c), "answer holds no token")
	})
	t.Run("concurrent requests share one login", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		c := s.client(t, sentinelUser, sentinelPassword)
		const requests = 8
		var wg sync.WaitGroup
		for i := 0; i < requests; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); assert.NoError(t, get(t, c)) }()
		}
		wg.Wait()
		logins, _, seen := s.counts()
		assert.Equal(t, 1, logins)
		assert.Len(t, seen, requests)
	})
}

// TestAuth_LoginJWTExpiry: ECE 2.x answers _login and _refresh with
// {"token": "<JWT>"} and no session_expiration_time. The client refreshes
// after two thirds of the lifetime in the JWT's exp claim, or of a short
// default when the claim is missing or garbled; the token never appears in
// an error.
func TestAuth_LoginJWTExpiry(t *testing.T) {
	t.Parallel()
	get := func(c *Client) error { _, _, err := c.Accounts.Get(context.Background()); return err }
	exp := func(d time.Duration) func(time.Time) string {
		return func(now time.Time) string { return fmt.Sprintf(`{"sub":"exporter","exp":%d}`, now.Add(d).Unix()) }
	}
	fixed := func(payload string) func(time.Time) string { return func(time.Time) string { return payload } }
	for _, tc := range []struct {
		name   string
		claims func(time.Time) string
		// before is a time by which no refresh may have happened, after
		// one by which it must have.
		before, after time.Duration
	}{
		{"exp in one hour: refresh after 40 minutes", exp(time.Hour), 39 * time.Minute, 41 * time.Minute},
		{"exp in 90 seconds", exp(90 * time.Second), 59 * time.Second, 61 * time.Second},
		{"exp as a float", func(now time.Time) string { return fmt.Sprintf(`{"exp":%d.5}`, now.Add(30*time.Minute).Unix()) }, 19 * time.Minute, 21 * time.Minute},
		{"exp years away: capped at a day", exp(5 * 365 * 24 * time.Hour), 15 * time.Hour, 17 * time.Hour},
		{"no exp claim: short default", fixed(`{"sub":"exporter"}`), 119 * time.Second, 121 * time.Second},
		{"exp in the past: short default", exp(-time.Hour), 119 * time.Second, 121 * time.Second},
		{"exp not a number: short default", fixed(`{"exp":"tomorrow"}`), 119 * time.Second, 121 * time.Second},
		{"payload not JSON: short default", fixed(`not json`), 119 * time.Second, 121 * time.Second},
		{"exp in milliseconds (not a JWT exp): short default", func(now time.Time) string { return fmt.Sprintf(`{"exp":%d}`, now.Add(time.Hour).UnixMilli()) }, 119 * time.Second, 121 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newLoginServer(t)
			s.claims = tc.claims
			c := s.client(t, sentinelUser, sentinelPassword)
			require.NoError(t, get(c))
			s.advance(tc.before)
			require.NoError(t, get(c))
			s.advance(tc.after - tc.before)
			require.NoError(t, get(c))
			logins, refreshes, seen := s.counts()
			assert.Equal(t, []string{"login-1", "login-1", "refresh-1"}, seen)
			assert.Equal(t, 1, logins)
			assert.Equal(t, 1, refreshes)
		})
	}
	t.Run("the token never appears in an error", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		s.claims = exp(time.Hour)
		c := s.client(t, sentinelUser, sentinelPassword, WithMaxRetries(0))
		s.mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
			// An upstream that echoes the credential it was sent.
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("403: token " + r.Header.Get("Authorization") + " may not list deployments"))
		})
		_, _, err := c.Deployments.List(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), sentinelToken)
		assert.NotContains(t, err.Error(), "eyJ", "no part of the JWT")
		assert.NotContains(t, fmt.Sprintf("%+v %#v", c, c), sentinelToken)
	})
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	jwt := func(payload string) string { return enc([]byte(`{"alg":"none"}`)) + "." + payload + ".sig" }
	for _, tc := range []struct {
		name string
		tok  string
		want int64 // 0 = none
	}{
		{"exp", jwt(enc([]byte(`{"exp":1893456000}`))), 1893456000},
		{"padded payload", jwt(enc([]byte(`{"exp":1893456000}`)) + "=="), 1893456000},
		{"opaque token", "sim-bearer-token-1", 0},
		{"two parts", "a.b", 0},
		{"payload not base64url", jwt("***"), 0},
		{"payload an array", jwt(enc([]byte(`[1]`))), 0},
		{"exp null", jwt(enc([]byte(`{"exp":null}`))), 0},
		{"exp zero", jwt(enc([]byte(`{"exp":0}`))), 0},
		{"exp huge", jwt(enc([]byte(`{"exp":1e300}`))), 0},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := jwtExpiry(tc.tok)
			if tc.want == 0 {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tc.want, got.Unix())
		})
	}
}

// TestSecretsNeverInErrors drives every failing path with each kind of
// credential against a server that echoes whatever credential it receives,
// and checks that no error string, observation or printed client holds one.
func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte(sentinelUser + ":" + sentinelPassword))
	secrets := []string{sentinelKey, sentinelPassword, sentinelToken, basic}

	// echo returns everything secret the request carried.
	echo := func(r *http.Request) string {
		var b strings.Builder
		b.WriteString(r.Header.Get("Authorization"))
		if u, pw, ok := r.BasicAuth(); ok {
			b.WriteString(" user=" + u + " password=" + pw)
		}
		return b.String()
	}
	scenarios := map[string]http.HandlerFunc{
		"api error echoing the credential": func(w http.ResponseWriter, r *http.Request) {
			e := echo(r)
			w.Header().Set("x-cloud-error-codes", "root.unauthorized,"+e)
			body, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": e, "message": "bad credential: " + e, "fields": []string{e}}}})
			writeJSON(w, http.StatusForbidden, string(body))
		},
		"rate limited echoing the credential": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			writeJSON(w, http.StatusTooManyRequests, errorBody("billing_service.rate_limited", strings.ReplaceAll(echo(r), `"`, "")))
		},
		"HTML page echoing the credential": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><body><p>upstream rejected <b>%s</b></p></body></html>", echo(r))
		},
		"text body echoing the credential, JSON-escaped": func(w http.ResponseWriter, r *http.Request) {
			e := echo(r)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "%s\n%q\n", strings.Repeat("padding ", 20), e)
		},
		"malformed success body": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, `{"id":"`+echo(r))
		},
		"body too large": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, `{"id":"`+strings.Repeat(echo(r), 1000)+`"}`)
		},
		"redirect to another host": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/steal?auth="+echo(r), http.StatusFound)
		},
		"timeout": func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		},
	}
	auths := map[string]Option{
		"apikey": WithAPIKey(sentinelKey),
		"basic":  WithBasicAuth(sentinelUser, sentinelPassword),
		"login":  WithLogin(sentinelUser, sentinelPassword),
	}
	check := func(t *testing.T, what string, s string) {
		t.Helper()
		for _, sec := range secrets {
			assert.NotContains(t, s, sec, what)
		}
	}
	for authName, authOpt := range auths {
		for name, h := range scenarios {
			t.Run(authName+"/"+name, func(t *testing.T) {
				t.Parallel()
				s := newLoginServer(t)
				var obs observations
				c, err := NewClient(WithBaseURL(s.url), authOpt, WithClock(s.clock), WithMaxRetries(0), WithMaxBodyBytes(4096), obs.option())
				require.NoError(t, err)
				s.mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
					check(t, "URL", r.URL.String())
					h(w, r)
				})
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				_, _, err = c.Deployments.List(ctx)
				require.Error(t, err)
				check(t, "error", err.Error())
				check(t, "error %+v", fmt.Sprintf("%+v", err))
				for _, o := range obs.get() {
					if o.Err != nil {
						check(t, "observation", o.Err.Error())
					}
				}
				check(t, "client", fmt.Sprintf("%v %+v %#v", c, c, c))
				check(t, "client value", fmt.Sprintf("%v %+v %#v", *c, *c, *c))
				check(t, "authenticator", fmt.Sprintf("%v %+v %#v", c.auth, c.auth, c.auth))
			})
		}
	}
	t.Run("login answer echoing the password", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body map[string]string
			_ = json.NewDecoder(r.Body).Decode(&body)
			w.Header().Set("x-cloud-error-codes", "root.unauthenticated")
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthenticated", "wrong password "+body["password"]))
		}))
		t.Cleanup(srv.Close)
		c, err := NewClient(WithBaseURL(srv.URL), WithLogin(sentinelUser, sentinelPassword))
		require.NoError(t, err)
		_, _, err = c.Accounts.Get(context.Background())
		require.Error(t, err)
		check(t, "error", err.Error())
		assert.Contains(t, err.Error(), "wrong password <secret>")
	})
	t.Run("refresh answer echoing the token", func(t *testing.T) {
		t.Parallel()
		s := newLoginServer(t)
		c := s.client(t, sentinelUser, sentinelPassword, WithMaxRetries(0))
		_, _, err := c.Accounts.Get(context.Background())
		require.NoError(t, err)
		s.mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusUnauthorized, errorBody("root.unauthorized", "token "+r.Header.Get("Authorization")+" revoked"))
		})
		_, _, err = c.Deployments.List(context.Background())
		require.Error(t, err)
		check(t, "error", err.Error())
		check(t, "client", fmt.Sprintf("%+v %#v", c.auth, c.auth))
	})
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte("user:pa:ss"))
	for in, want := range map[string][]string{
		"":                  nil,
		"ApiKey abc":        {"abc"},
		"Bearer  tok ":      {"tok"},
		"Basic " + basic:    {basic, "pa:ss"},
		"basic not-base64!": {"not-base64!"},
		"opaque":            {"opaque"},
		"ApiKey":            {"ApiKey"},
		"Basic " + base64.StdEncoding.EncodeToString([]byte("nopassword")): {base64.StdEncoding.EncodeToString([]byte("nopassword"))},
	} {
		assert.Equal(t, want, credentials(in), in)
	}
}
