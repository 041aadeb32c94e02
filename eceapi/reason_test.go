package eceapi

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLSVerificationFailsAtOnce: a certificate that does not verify is
// permanent: one attempt, no retry, reason tls.
func TestTLSVerificationFailsAtOnce(t *testing.T) {
	t.Parallel()
	calls := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake errors are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var obs observations
	// No CA: the httptest certificate is from an unknown authority.
	c, err := NewClient(WithBaseURL(srv.URL), WithAPIKey("k"), WithMaxRetries(3), WithBackoff(time.Millisecond, time.Millisecond, 0), obs.option())
	require.NoError(t, err)
	_, _, err = c.Deployments.List(context.Background())
	require.Error(t, err)
	assert.True(t, isTLSError(err), "%v", err)
	assert.Equal(t, ReasonTLS, ErrorReason(err))
	assert.Contains(t, err.Error(), "certificate")
	got := obs.get()
	require.Len(t, got, 1, "not retried")
	assert.Zero(t, got[0].StatusCode)
	assert.Equal(t, ReasonTLS, ErrorReason(got[0].Err))
	assert.Zero(t, calls)

	t.Run("plain HTTP server behind an https URL", func(t *testing.T) {
		t.Parallel()
		plain := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(plain.Close)
		var obs observations
		c, err := NewClient(WithBaseURL("https://"+plain.Listener.Addr().String()), WithMaxRetries(3), WithBackoff(time.Millisecond, time.Millisecond, 0), obs.option())
		require.NoError(t, err)
		_, _, err = c.Accounts.Get(context.Background())
		assert.Equal(t, ReasonTLS, ErrorReason(err), "%v", err)
		assert.Len(t, obs.get(), 1, "not retried")
	})
}

// TestErrorReasonOfClientFailures drives the client into each failure and
// checks the reason the one classifier gives it.
func TestErrorReasonOfClientFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"refused redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		}, ReasonRedirect},
		{"account without id", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"id":""}`) }, ReasonDecode},
		{"bad JSON", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"id":`) }, ReasonDecode},
		{"gzip garbage", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("not gzip at all"))
		}, ReasonDecode},
		{"403", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 403, `{}`) }, ReasonAuth},
		{"404", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 404, `{}`) }, ReasonNotFound},
		{"400", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 400, `{}`) }, ReasonConfig},
		{"500", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 500, `{}`) }, ReasonServer},
		{"429", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 429, `{}`) }, ReasonRateLimited},
		{"body cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte(`{"id":"a"`))
		}, ReasonNetwork},
		{"chunked body cut short", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"id":"a"`))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-body
		}, ReasonNetwork},
		{"slow body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte(`{"id":"a"`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, ReasonTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, WithMaxRetries(0), WithTimeout(300*time.Millisecond))
			mux.HandleFunc(p("/account"), tc.handler)
			_, _, err := c.Accounts.Get(context.Background())
			require.Error(t, err)
			assert.Equal(t, tc.want, ErrorReason(err), "%v", err)
		})
	}
	assert.Equal(t, ReasonInternal, ErrorReason(ErrRealUpgradeRefused))
	assert.Empty(t, ErrorReason(nil))
}
