package eceapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Secrets with the characters that encoders change.
const (
	hostileKey      = "SENTINEL-Key+/aB<cD>=="
	hostileUser     = "exporter"
	hostilePassword = `SENTINEL-Pa<ss>&"wörd'/x`
)

// encodings are the ways a server or proxy was seen (or may be expected)
// to echo a credential.
var encodings = map[string]func(string) string{
	"raw":                 func(s string) string { return s },
	"upper-cased":         strings.ToUpper,
	"lower-cased":         strings.ToLower,
	"JSON-escaped":        func(s string) string { b, _ := json.Marshal(s); return strings.Trim(string(b), `"`) },
	"JSON-escaped, upper": func(s string) string { b, _ := json.Marshal(s); return strings.ToUpper(strings.Trim(string(b), `"`)) },
	"JSON, \\/ escaped": func(s string) string {
		b, _ := json.Marshal(s)
		return strings.ReplaceAll(strings.Trim(string(b), `"`), "/", `\/`)
	},
	"JSON, ASCII only": func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r > 127 || strings.ContainsRune(`<>&`, r) {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else if r == '"' {
				b.WriteString(`\"`)
			} else {
				b.WriteRune(r)
			}
		}
		return b.String()
	},
	"query-escaped":              url.QueryEscape,
	"query-escaped, lower-cased": func(s string) string { return strings.ToLower(url.QueryEscape(s)) },
	"path-escaped":               url.PathEscape,
	"percent-encoded, lower hex": func(s string) string { return strings.ToLower(percentEncodeAll(s)) },
	"HTML-escaped":               html.EscapeString,
	"base64":                     func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
	"base64url, unpadded":        func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) },
	"base64 of user:password": func(s string) string {
		return base64.StdEncoding.EncodeToString([]byte(hostileUser + ":" + s))
	},
}

// TestEchoedSecretsInEveryEncoding: an error answer that echoes the
// credential in any encoding (in a text body, an HTML page, a JSON error
// message, an error code header) never carries it into the error.
func TestEchoedSecretsInEveryEncoding(t *testing.T) {
	t.Parallel()
	var forbidden []string
	for _, sec := range []string{hostileKey, hostilePassword} {
		for _, enc := range encodings {
			// As echoed, and as %q quotes it in a body hint.
			forbidden = append(forbidden, enc(sec), strings.Trim(strconv.Quote(enc(sec)), `"`))
		}
	}
	check := func(t *testing.T, s string) {
		t.Helper()
		folded := strings.ToLower(s)
		for _, f := range forbidden {
			assert.NotContains(t, folded, strings.ToLower(f))
		}
	}
	bodies := map[string]func(w http.ResponseWriter, echoed string){
		"text": func(w http.ResponseWriter, e string) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "upstream said: credential %s rejected", e)
		},
		"html": func(w http.ResponseWriter, e string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "<html><body><p>rejected <b>%s</b></p></body></html>", e)
		},
		"json message": func(w http.ResponseWriter, e string) {
			w.Header().Set("x-cloud-error-codes", "root.unauthorized,"+e)
			b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": "root.unauthorized", "message": "bad credential " + e, "fields": []string{e}}}})
			writeJSON(w, http.StatusUnauthorized, string(b))
		},
	}
	for encName, enc := range encodings {
		for bodyName, body := range bodies {
			t.Run("apikey/"+encName+"/"+bodyName, func(t *testing.T) {
				t.Parallel()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
					body(w, enc(cred))
				}))
				t.Cleanup(srv.Close)
				var obs observations
				c, err := NewClient(WithBaseURL(srv.URL), WithAPIKey(hostileKey), WithMaxRetries(0), obs.option())
				require.NoError(t, err)
				_, _, err = c.Deployments.List(context.Background())
				require.Error(t, err)
				check(t, fmt.Sprintf("%v %+v", err, err))
				for _, o := range obs.get() {
					check(t, o.Err.Error())
				}
			})
			t.Run("basic/"+encName+"/"+bodyName, func(t *testing.T) {
				t.Parallel()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, pw, _ := r.BasicAuth()
					body(w, enc(pw))
				}))
				t.Cleanup(srv.Close)
				c, err := NewClient(WithBaseURL(srv.URL), WithBasicAuth(hostileUser, hostilePassword), WithMaxRetries(0))
				require.NoError(t, err)
				_, _, err = c.Deployments.List(context.Background())
				require.Error(t, err)
				check(t, fmt.Sprintf("%v %+v", err, err))
			})
			t.Run("login/"+encName+"/"+bodyName, func(t *testing.T) {
				t.Parallel()
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					var req map[string]string
					_ = json.NewDecoder(r.Body).Decode(&req)
					body(w, enc(req["password"]))
				}))
				t.Cleanup(srv.Close)
				c, err := NewClient(WithBaseURL(srv.URL), WithLogin(hostileUser, hostilePassword), WithMaxRetries(0))
				require.NoError(t, err)
				_, _, err = c.Deployments.List(context.Background())
				require.Error(t, err)
				check(t, fmt.Sprintf("%v %+v", err, err))
			})
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	secrets := []string{"s3cr<t>"}
	for in, want := range map[string]string{
		"no secret here":        "no secret here",
		"a s3cr<t> b":           "a <secret> b",
		"a S3CR<T> b":           "a <secret> b",
		`a s3cr\u003ct\u003e b`: "a <secret> b",
		`a s3cr\u003Ct\u003E b`: "a <secret> b",
		"a s3cr%3Ct%3E b":       "a <secret> b",
		"a s3cr%3ct%3e b":       "a <secret> b",
		"a s3cr&lt;t&gt; b":     "a <secret> b",
		"twice s3cr<t>s3cr<t>":  "twice <secret>",
		"b64 " + base64.StdEncoding.EncodeToString([]byte("s3cr<t>")): "b64 <secret>",
		"": "",
	} {
		assert.Equal(t, want, redact(in, secrets), in)
	}
	assert.Equal(t, "untouched", redact("untouched", nil))
}

// TestRedirectsNeverLeakTheKey: a hostile server redirects to a URL that
// holds the credential it was sent (another host, its own host, an
// unparsable Location): the error and the observations never carry it,
// and each is classified.
func TestRedirectsNeverLeakTheKey(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		location   func(key string) string
		wantReason string
	}{
		"another host": {func(k string) string {
			return "http://other.invalid/leak/" + url.PathEscape(k) + "?k=" + url.QueryEscape(k)
		}, ReasonRedirect},
		"same host":               {func(k string) string { return "/api/v1/leak/" + url.PathEscape(k) }, ReasonNotFound},
		"unparsable":              {func(k string) string { return "http://[::1%zz/x?k=" + k }, ReasonRedirect},
		"unparsable, key in path": {func(k string) string { return "http://[::1%zz/" + url.PathEscape(k) }, ReasonRedirect},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.Path, "/leak/") {
					http.NotFound(w, r)
					return
				}
				_, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
				w.Header().Set("Location", tc.location(cred))
				w.WriteHeader(http.StatusFound)
			}))
			t.Cleanup(srv.Close)
			var obs observations
			c, err := NewClient(WithBaseURL(srv.URL), WithAPIKey(hostileKey), WithMaxRetries(0), obs.option())
			require.NoError(t, err)
			_, _, err = c.Deployments.List(context.Background())
			require.Error(t, err)
			assert.Equal(t, tc.wantReason, ErrorReason(err), "%v", err)
			texts := []string{err.Error(), fmt.Sprintf("%+v %#v", err, err)}
			for _, o := range obs.get() {
				if o.Err != nil {
					texts = append(texts, o.Err.Error())
				}
			}
			for _, s := range texts {
				folded := strings.ToLower(s)
				for _, enc := range encodings {
					assert.NotContains(t, folded, strings.ToLower(enc(hostileKey)), "in %s", s)
				}
				assert.NotContains(t, s, "::1%zz", "the Location's text is dropped")
			}
		})
	}
}
