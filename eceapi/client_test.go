package eceapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Sentinels: values that must never show up in an error string, a URL or
// the printed client.
const (
	sentinelKey      = "SENTINEL-API-KEY-0b7e"
	sentinelUser     = "exporter"
	sentinelPassword = "SENTINEL-PASSWORD-9c2f"
	sentinelToken    = "SENTINEL-BEARER-TOKEN-51aa"
	// basePath is the non-empty path the API is mounted under (a reverse
	// proxy, say): the client must keep it in every request.
	basePath = "/proxy"
)

// setup is the go-github style test server: the client's base URL and
// billing v2 URL are <server>/proxy, mux serves /proxy/api/v1/... and
// /proxy/api/v2/... (register handlers with p("/deployments") and
// p2("/billing/...")), and any request outside those prefixes fails the test.
// Backoff is shrunk to milliseconds and a 429 asking for more than a second
// is not waited for, so that tests stay fast.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle(basePath+APIBasePath+"/", mux)
	root.Handle(basePath+BillingV2BasePath+"/", mux)
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	all := append([]Option{
		WithBaseURL(srv.URL + basePath),
		WithBillingV2URL(srv.URL + basePath),
		WithAPIKey(sentinelKey),
		WithUserAgent("ece_exporter/1.2.3"),
		WithBackoff(time.Millisecond, 5*time.Millisecond, time.Second),
	}, opts...)
	c, err := NewClient(all...)
	require.NoError(t, err)
	return c, mux, srv.URL
}

// p is the server-side path of an API path.
func p(path string) string { return basePath + APIBasePath + path }

// p2 is the server-side path of a billing v2 API path.
func p2(path string) string { return basePath + BillingV2BasePath + path }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func errorBody(code, message string) string {
	return `{"errors":[{"code":"` + code + `","message":"` + message + `"}]}`
}

// fixture reads testdata/<operation>/<case>.json.
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := readTestdata(name)
	require.NoError(t, err)
	return string(b)
}

// observations collects what the observer hook is given.
type observations struct {
	mu  sync.Mutex
	all []Observation
}

func (o *observations) option() Option {
	return WithObserver(func(ob Observation) { o.mu.Lock(); o.all = append(o.all, ob); o.mu.Unlock() })
}

func (o *observations) get() []Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Observation(nil), o.all...)
}

// counter counts requests reaching a handler.
func counter(n *atomic.Int32, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { n.Add(1); h(w, r) }
}

func TestNewClient_BaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://api.elastic-cloud.com", "https://api.elastic-cloud.com/api/v1/"},
		{"https://api.elastic-cloud.com/", "https://api.elastic-cloud.com/api/v1/"},
		{"https://api.elastic-cloud.com/api/v1", "https://api.elastic-cloud.com/api/v1/"},
		{"https://api.elastic-cloud.com/api/v1/", "https://api.elastic-cloud.com/api/v1/"},
		{"https://api.elastic-cloud.com//", "https://api.elastic-cloud.com/api/v1/"},
		{"  https://ece-coordinator:12443  ", "https://ece-coordinator:12443/api/v1/"},
		{"https://ece-coordinator:12443/api/v1", "https://ece-coordinator:12443/api/v1/"},
		{"http://proxy.internal/elastic", "http://proxy.internal/elastic/api/v1/"},
		{"http://proxy.internal/elastic/api/v1/", "http://proxy.internal/elastic/api/v1/"},
		{"http://proxy.internal/elastic?x=1#frag", "http://proxy.internal/elastic/api/v1/"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(WithBaseURL(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.baseURL.String())
		})
	}
	t.Run("ESS default", func(t *testing.T) {
		t.Parallel()
		c, err := NewClient()
		require.NoError(t, err)
		assert.Equal(t, "https://api.elastic-cloud.com/api/v1/", c.baseURL.String())
		assert.Equal(t, DefaultESSURL+APIBasePath+"/", c.baseURL.String())
	})
	for _, bad := range []string{"ftp://x", "https://", "api.elastic-cloud.com", "::", "https://" + sentinelUser + ":" + sentinelPassword + "@ece:12443"} {
		t.Run("invalid/"+bad, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(WithBaseURL(bad))
			require.Error(t, err)
			assert.NotContains(t, err.Error(), sentinelPassword)
		})
	}
}

// TestRequestsKeepTheBasePath checks the whole URL a request goes to when
// the API sits under a path prefix.
func TestRequestsKeepTheBasePath(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var got string
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.String()
		writeJSON(w, http.StatusOK, `{"id":"a"}`)
	})
	_, _, err := c.Accounts.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "/proxy/api/v1/account", got)
}

// TestPathSegmentsAreEscapedOnce: a parameter that needs escaping reaches
// the server as exactly that parameter (it used to arrive escaped twice,
// "jane%2520doe").
func TestPathSegmentsAreEscapedOnce(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"jane doe", "jürgen", "a;b", "a,b", "a+b", "user@example.com", "a:b"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			var path string
			mux.HandleFunc(p("/deployments/"), func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				writeJSON(w, http.StatusOK, `{"resources":[]}`)
			})
			_, _, err := c.Deployments.RemoteClusters(context.Background(), "d1", ref)
			require.NoError(t, err)
			assert.Equal(t, p("/deployments/d1/elasticsearch/"+ref+"/remote-clusters"), path)
		})
	}
}

func TestNewClient_Transport(t *testing.T) {
	t.Parallel()
	proxyFromEnv := reflect.ValueOf(http.ProxyFromEnvironment).Pointer()
	c, err := NewClient()
	require.NoError(t, err)
	tr, ok := c.httpClient.Transport.(*http.Transport)
	require.True(t, ok)
	require.NotNil(t, tr.Proxy)
	assert.Equal(t, proxyFromEnv, reflect.ValueOf(tr.Proxy).Pointer(), "proxy comes from HTTPS_PROXY/NO_PROXY")
	assert.Equal(t, DefaultTimeout, c.httpClient.Timeout)
	assert.Equal(t, "ece_exporter/dev", c.userAgent)
	assert.Equal(t, DefaultMaxBodyBytes, c.maxBodyBytes)
	assert.Equal(t, int64(64<<20), DefaultMaxBodyBytes)
	assert.Equal(t, DefaultMaxRetries, c.maxRetries)
	assert.Equal(t, DefaultMaxInFlight, cap(c.inFlight))

	c, err = NewClient(WithTLSConfig(mustTLSConfig(t, TLSSettings{InsecureSkipVerify: true})), WithTimeout(5*time.Second))
	require.NoError(t, err)
	tr = c.httpClient.Transport.(*http.Transport)
	assert.Equal(t, proxyFromEnv, reflect.ValueOf(tr.Proxy).Pointer(), "TLS options keep the proxy")
	assert.Equal(t, 5*time.Second, c.httpClient.Timeout)
}

func TestNewClient_InvalidOptions(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"empty API key":          WithAPIKey(""),
		"basic without password": WithBasicAuth("admin", ""),
		"basic without user":     WithBasicAuth("", sentinelPassword),
		"login without password": WithLogin("admin", ""),
		"zero timeout":           WithTimeout(0),
		"negative retries":       WithMaxRetries(-1),
		"zero backoff":           WithBackoff(0, time.Second, time.Second),
		"cap below base":         WithBackoff(time.Second, time.Millisecond, time.Second),
		"zero body limit":        WithMaxBodyBytes(0),
		"zero in flight":         WithMaxInFlight(0),
		"zero budget":            WithRequestBudget(0, time.Hour),
		"empty user agent":       WithUserAgent(" "),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(opt)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), sentinelPassword)
		})
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts []Option
		want string
	}{
		{nil, "ece_exporter/1.2.3"}, // setup's WithUserAgent("ece_exporter/1.2.3")
		{[]Option{WithUserAgent("ece_exporter/0.9.0-rc.1")}, "ece_exporter/0.9.0-rc.1"},
		// The user agent is sent as given, not made into ece_exporter/<it>.
		{[]Option{WithUserAgent("custom-agent/2.0 (+https://example.com)")}, "custom-agent/2.0 (+https://example.com)"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, tc.opts...)
			var got string
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("User-Agent")
				writeJSON(w, http.StatusOK, `{"id":"a"}`)
			})
			_, _, err := c.Accounts.Get(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// testPKI is a throw-away CA with one client certificate and its key, PEM.
type testPKI struct {
	caPool    *x509.CertPool
	cert, key []byte
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ece_exporter-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	pki := testPKI{caPool: x509.NewCertPool(),
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}
	pki.caPool.AddCert(caCert)
	return pki
}

// mustTLSConfig is NewTLSConfig that must succeed.
func mustTLSConfig(t *testing.T, s TLSSettings) *tls.Config {
	t.Helper()
	cfg, err := NewTLSConfig(s)
	require.NoError(t, err)
	return cfg
}

func TestNewTLSConfig(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	cfg := mustTLSConfig(t, TLSSettings{})
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Nil(t, cfg.RootCAs, "no CA: the system roots")
	assert.Empty(t, cfg.Certificates)
	cfg = mustTLSConfig(t, TLSSettings{Cert: pki.cert, Key: pki.key, ServerName: "ece.example", InsecureSkipVerify: true})
	assert.Len(t, cfg.Certificates, 1)
	assert.Equal(t, "ece.example", cfg.ServerName)
	assert.True(t, cfg.InsecureSkipVerify)

	_, err := NewTLSConfig(TLSSettings{CA: []byte("not a certificate")})
	assert.ErrorIs(t, err, ErrNoPEMCertificate)
	for name, s := range map[string]TLSSettings{
		"certificate without key": {Cert: pki.cert},
		"key without certificate": {Key: pki.key},
		"key of another pair":     {Cert: pki.cert, Key: newTestPKI(t).key},
	} {
		_, err := NewTLSConfig(s)
		assert.ErrorContains(t, err, "client certificate", name)
		assert.NotContains(t, err.Error(), string(pki.key), name)
	}
}

// serverCA is the certificate of an httptest TLS server, PEM.
func serverCA(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"id":"tls"}`)
	}))
	t.Cleanup(srv.Close)
	ca := serverCA(t, srv)

	for _, tc := range []struct {
		name    string
		tls     *TLSSettings
		wantErr bool
	}{
		{"unknown CA fails", nil, true},
		{"CA file", &TLSSettings{CA: ca}, false},
		{"CA file and matching server name", &TLSSettings{CA: ca, ServerName: "example.com"}, false},
		{"CA file and wrong server name", &TLSSettings{CA: ca, ServerName: "wrong.invalid"}, true},
		{"insecure skip verify", &TLSSettings{InsecureSkipVerify: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithBaseURL(srv.URL), WithAPIKey(sentinelKey), WithMaxRetries(0)}
			if tc.tls != nil {
				opts = append(opts, WithTLSConfig(mustTLSConfig(t, *tc.tls)))
			}
			c, err := NewClient(opts...)
			require.NoError(t, err)
			a, _, err := c.Accounts.Get(context.Background())
			if tc.wantErr {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), sentinelKey)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "tls", a.ID)
		})
	}
}

func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	pki := newTestPKI(t)
	var peer atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		writeJSON(w, http.StatusOK, `{"id":"mtls"}`)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.caPool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := serverCA(t, srv)

	get := func(o TLSSettings) error {
		c, err := NewClient(WithBaseURL(srv.URL), WithMaxRetries(0), WithTLSConfig(mustTLSConfig(t, o)))
		require.NoError(t, err)
		_, _, err = c.Accounts.Get(context.Background())
		return err
	}
	assert.Error(t, get(TLSSettings{CA: ca}), "the server requires a client certificate")
	require.NoError(t, get(TLSSettings{CA: ca, Cert: pki.cert, Key: pki.key}))
	assert.Equal(t, "ece_exporter-test", peer.Load())
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var otherHits atomic.Int32
	other := httptest.NewServer(counter(&otherHits, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"id":"evil","organizations":[]}`)
	}))
	t.Cleanup(other.Close)

	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprintf("%d to another host is refused", code), func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/api/v1/account?key="+sentinelKey, code)
			})
			_, _, err := c.Accounts.Get(context.Background())
			require.ErrorIs(t, err, ErrRedirectRefused)
			assert.NotContains(t, err.Error(), sentinelKey)
			assert.Zero(t, otherHits.Load(), "the Authorization header never reached the other host")
		})
	}
	t.Run("same host is followed with the credentials", func(t *testing.T) {
		t.Parallel()
		c, mux, srvURL := setup(t)
		mux.HandleFunc(p("/organizations"), func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, srvURL+p("/organizations/moved"), http.StatusFound)
		})
		var auth string
		mux.HandleFunc(p("/organizations/moved"), func(w http.ResponseWriter, r *http.Request) {
			auth = r.Header.Get("Authorization")
			writeJSON(w, http.StatusOK, `{"organizations":[{"id":"same-host","name":"n"}]}`)
		})
		orgs, _, err := c.Organizations.List(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "same-host", orgs.Organizations[0].ID)
		assert.Equal(t, "ApiKey "+sentinelKey, auth)
	})
	t.Run("policy", func(t *testing.T) {
		t.Parallel()
		c, err := NewClient(WithBaseURL("https://ece:12443"))
		require.NoError(t, err)
		req := func(raw string) *http.Request {
			r, err := http.NewRequest(http.MethodGet, raw, nil)
			require.NoError(t, err)
			return r
		}
		via := []*http.Request{req("https://ece:12443/api/v1/account")}
		assert.NoError(t, c.checkRedirect(req("https://ece:12443/api/v1/x"), via))
		assert.ErrorIs(t, c.checkRedirect(req("http://ece:12443/api/v1/x"), via), ErrRedirectRefused, "https to http")
		assert.ErrorIs(t, c.checkRedirect(req("https://ece:443/api/v1/x"), via), ErrRedirectRefused, "other port")
		assert.ErrorIs(t, c.checkRedirect(req("https://evil.example/api/v1/x"), via), ErrRedirectRefused, "other host")
		assert.ErrorIs(t, c.checkRedirect(req("https://ece:12443/api/v1/x"), make([]*http.Request, 5)), ErrRedirectRefused, "too many")
		assert.ErrorIs(t, c.checkRedirect(req("https://ece:12443/api/v1/deployments/d/kibana/k/_upgrade"), via), ErrRealUpgradeRefused)
	})
}

func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithMaxInFlight(3))
	var cur, peak, total atomic.Int32
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		n := cur.Add(1)
		for {
			m := peak.Load()
			if n <= m || peak.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		writeJSON(w, http.StatusOK, `{"id":"a"}`)
	})
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := c.Accounts.Get(context.Background())
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(12), total.Load())
	assert.Equal(t, int32(3), peak.Load(), "never more than 3 at the server, and the cap is reached")
}

func TestMaxInFlight_WaitHonoursContext(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithMaxInFlight(1))
	release := make(chan struct{})
	started := make(chan struct{})
	var hits atomic.Int32
	mux.HandleFunc(p("/account"), counter(&hits, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		writeJSON(w, http.StatusOK, `{"id":"a"}`)
	}))
	done := make(chan error)
	go func() { _, _, err := c.Accounts.Get(context.Background()); done <- err }()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, _, err := c.Accounts.Get(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	require.NoError(t, <-done)
	assert.Equal(t, int32(1), hits.Load(), "the waiting request never reached the server")
}

func TestRequestBudget(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithRequestBudget(3, time.Hour))
	var n atomic.Int32
	mux.HandleFunc(p("/account"), counter(&n, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, `{"id":"a"}`) }))
	for i := 0; i < 3; i++ {
		_, _, err := c.Accounts.Get(context.Background())
		require.NoError(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err := c.Accounts.Get(ctx)
	assert.ErrorIs(t, err, ErrRequestBudget)
	assert.Equal(t, int32(3), n.Load(), "the fourth request was never sent")
}

func TestObserver(t *testing.T) {
	t.Parallel()
	var obs observations
	c, mux, _ := setup(t, obs.option())
	var n atomic.Int32
	mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ratelimit-limit", "100")
		w.Header().Set("x-ratelimit-remaining", "42")
		w.Header().Set("x-ratelimit-interval", "1m")
		w.Header().Set("x-elastic-api-key-expiration", "2027-02-01T00:00:00Z")
		if n.Add(1) == 1 {
			writeJSON(w, http.StatusServiceUnavailable, errorBody("x", "busy"))
			return
		}
		writeJSON(w, http.StatusOK, `{"deployments":[]}`)
	})
	_, resp, err := c.Deployments.List(context.Background())
	require.NoError(t, err)
	wantRL := RateLimit{Present: true, Limit: 100, Remaining: 42, Interval: time.Minute}
	wantExp := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, wantRL, resp.RateLimit)
	assert.Equal(t, wantExp, resp.APIKeyExpiration)
	assert.Equal(t, 2, resp.Attempts)

	got := obs.get()
	require.Len(t, got, 2, "once per attempt")
	for i, o := range got {
		assert.Equal(t, "list-deployments", o.Operation)
		assert.Equal(t, http.MethodGet, o.Method)
		assert.Equal(t, i+1, o.Attempt)
		assert.Positive(t, o.Duration)
		assert.Equal(t, wantRL, o.RateLimit)
		assert.Equal(t, wantExp, o.APIKeyExpiration)
	}
	assert.Equal(t, http.StatusServiceUnavailable, got[0].StatusCode)
	assert.Error(t, got[0].Err)
	assert.Equal(t, http.StatusOK, got[1].StatusCode)
	assert.NoError(t, got[1].Err)
}

func TestObserver_NoAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close() // nothing listens there any more
	var obs observations
	c, err := NewClient(WithBaseURL(dead), WithAPIKey(sentinelKey), obs.option(), WithMaxRetries(1),
		WithBackoff(time.Millisecond, time.Millisecond, time.Second))
	require.NoError(t, err)
	_, _, err = c.Accounts.Get(context.Background())
	require.Error(t, err)
	got := obs.get()
	require.Len(t, got, 2)
	for _, o := range got {
		assert.Zero(t, o.StatusCode, "no answer arrived")
		assert.Error(t, o.Err)
		assert.False(t, o.RateLimit.Present)
	}
}

func TestParseRateLimitAndExpiration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    http.Header
		want RateLimit
	}{
		{"absent", http.Header{}, RateLimit{}},
		{"seconds interval", http.Header{"X-Ratelimit-Limit": {"10"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Interval": {"45"}}, RateLimit{true, 10, 0, 45 * time.Second}},
		{"duration interval", http.Header{"X-Ratelimit-Remaining": {" 7 "}, "X-Ratelimit-Interval": {"2m"}}, RateLimit{Present: true, Remaining: 7, Interval: 2 * time.Minute}},
		{"garbage", http.Header{"X-Ratelimit-Limit": {"lots"}, "X-Ratelimit-Interval": {"-5"}}, RateLimit{}},
		// Without x-ratelimit-remaining nothing is known of what is left:
		// not a Remaining of 0 that would stall the pollers.
		{"limit and interval only", http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Interval": {"60"}}, RateLimit{Limit: 100, Interval: time.Minute}},
		{"garbage remaining", http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"n/a"}}, RateLimit{Limit: 100}},
	} {
		assert.Equal(t, tc.want, parseRateLimit(tc.h), tc.name)
	}
	want := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{"2027-02-01T00:00:00Z", "2027-02-01T01:00:00+01:00", "Mon, 01 Feb 2027 00:00:00 GMT", "1801440000", "1801440000000"} {
		assert.Equal(t, want, parseExpiration(v), v)
	}
	for _, v := range []string{"", "never", "-1", "0"} {
		assert.True(t, parseExpiration(v).IsZero(), v)
	}
}
