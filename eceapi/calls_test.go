package eceapi

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWithCallCounter: every attempt sent with the context counts, retries
// included; a request without the counter counts nowhere.
func TestWithCallCounter(t *testing.T) {
	c, mux, _ := setup(t, WithMaxRetries(2))
	var hits atomic.Int64
	mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, `{"errors":[{"code":"x","message":"busy"}]}`, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"deployments":[]}`))
	})
	var n atomic.Int64
	_, _, err := c.Deployments.List(WithCallCounter(context.Background(), &n))
	require.NoError(t, err)
	assert.Equal(t, int64(2), n.Load(), "one failed attempt and its retry")
	_, _, err = c.Deployments.List(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(2), n.Load(), "a request without the counter is not counted")
	assert.Equal(t, int64(3), hits.Load())
}

// TestRedactExported is the client's redaction: every form of the secret.
func TestRedactExported(t *testing.T) {
	got := Redact(`key=s3cr3t-KEY x="S3CR3T-KEY" b64=czNjcjN0LUtFWQ== ok`, "s3cr3t-KEY")
	assert.Equal(t, `key=<secret> x="<secret>" b64=<secret> ok`, got)
	assert.Equal(t, "nothing", Redact("nothing"))
}
