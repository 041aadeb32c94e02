package eceapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetries_Statuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		statuses []int
		wantErr  bool
		attempts int
	}{
		{"503 then ok", []int{503, 200}, false, 2},
		{"502 504 503 then ok", []int{502, 504, 503, 200}, false, 4},
		{"429 then ok", []int{429, 200}, false, 2},
		{"bounded: maxRetries+1 attempts", []int{503, 503, 503, 503, 503, 503}, true, 4},
		{"500 is not retried", []int{500, 200}, true, 1},
		{"501 is not retried", []int{501, 200}, true, 1},
		{"400 is not retried", []int{400, 200}, true, 1},
		{"401 is not retried", []int{401, 200}, true, 1},
		{"403 is not retried", []int{403, 200}, true, 1},
		{"404 is not retried", []int{404, 200}, true, 1},
		{"409 is not retried", []int{409, 200}, true, 1},
		{"422 is not retried", []int{422, 200}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var obs observations
			c, mux, _ := setup(t, obs.option())
			var n atomic.Int32
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if tc.statuses[i] == 429 {
					w.Header().Set("Retry-After", "0")
				}
				if tc.statuses[i] != 200 {
					writeJSON(w, tc.statuses[i], errorBody("x", "y"))
					return
				}
				writeJSON(w, 200, `{"id":"a"}`)
			})
			_, resp, err := c.Accounts.Get(context.Background())
			assert.Equal(t, tc.wantErr, err != nil, "%v", err)
			assert.Equal(t, tc.attempts, int(n.Load()))
			got := obs.get()
			require.Len(t, got, tc.attempts, "observer called once per attempt")
			for i, o := range got {
				assert.Equal(t, i+1, o.Attempt)
				assert.Equal(t, tc.statuses[i], o.StatusCode)
			}
			require.NotNil(t, resp)
			assert.Equal(t, tc.attempts, resp.Attempts)
		})
	}
}

func TestRetries_NetworkErrors(t *testing.T) {
	t.Parallel()
	t.Run("connection dropped, then ok", func(t *testing.T) {
		t.Parallel()
		var obs observations
		c, mux, _ := setup(t, obs.option())
		var n atomic.Int32
		mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) <= 2 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				_ = conn.Close()
				return
			}
			writeJSON(w, 200, `{"id":"a"}`)
		})
		a, _, err := c.Accounts.Get(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "a", a.ID)
		got := obs.get()
		require.GreaterOrEqual(t, len(got), 2)
		assert.Zero(t, got[0].StatusCode)
		assert.Error(t, got[0].Err)
		assert.Equal(t, 200, got[len(got)-1].StatusCode)
	})
	t.Run("nothing listening: bounded", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		var obs observations
		c, err := NewClient(WithBaseURL("http://"+addr), WithAPIKey(sentinelKey), WithMaxRetries(2), obs.option(),
			WithBackoff(time.Millisecond, 5*time.Millisecond, time.Second))
		require.NoError(t, err)
		_, _, err = c.Deployments.List(context.Background())
		require.Error(t, err)
		var opErr *net.OpError
		assert.ErrorAs(t, err, &opErr)
		assert.Len(t, obs.get(), 3)
		assert.NotContains(t, err.Error(), sentinelKey)
	})
	t.Run("per-attempt timeout is retried", func(t *testing.T) {
		t.Parallel()
		var obs observations
		c, mux, _ := setup(t, obs.option(), WithTimeout(50*time.Millisecond), WithMaxRetries(1))
		var n atomic.Int32
		mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				<-r.Context().Done()
				return
			}
			writeJSON(w, 200, `{"id":"a"}`)
		})
		_, _, err := c.Accounts.Get(context.Background())
		require.NoError(t, err)
		assert.Len(t, obs.get(), 2)
	})
}

func TestRetries_NotRetried(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]http.HandlerFunc{
		"malformed body": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"id":`) },
		"body too large": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"id":"`+strings.Repeat("x", 2048)+`"}`)
		},
		"429 asking too long": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			writeJSON(w, 429, errorBody("x", "y"))
		},
		"429 default wait": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 429, errorBody("x", "y")) }, // 10s > the 1s allowed
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, WithMaxBodyBytes(1024))
			var n atomic.Int32
			mux.HandleFunc(p("/account"), counter(&n, h))
			_, _, err := c.Accounts.Get(context.Background())
			require.Error(t, err)
			assert.Equal(t, int32(1), n.Load())
		})
	}
}

func TestRetries_HonourRetryAfter(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var n atomic.Int32
	var first time.Time
	var waited time.Duration
	mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "0.2")
			writeJSON(w, 429, errorBody("billing_service.rate_limited", "slow down"))
			return
		}
		waited = time.Since(first)
		writeJSON(w, 200, `{"id":"a"}`)
	})
	_, resp, err := c.Accounts.Get(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.GreaterOrEqual(t, waited, 200*time.Millisecond, "waited at least Retry-After")
	assert.Less(t, waited, 2*time.Second)
}

func TestRetries_CancelStopsWaitingAtOnce(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]http.HandlerFunc{
		"backoff": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 503, errorBody("x", "busy")) },
		"retry-after": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3000")
			writeJSON(w, 429, errorBody("x", "slow"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			answered := make(chan struct{}, 1)
			c, mux, _ := setup(t, WithBackoff(time.Hour, time.Hour, 2*time.Hour), WithObserver(func(Observation) { answered <- struct{}{} }))
			var n atomic.Int32
			mux.HandleFunc(p("/account"), counter(&n, h))
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-answered // the first attempt is over: the client is about to wait
				time.Sleep(20 * time.Millisecond)
				cancel()
			}()
			start := time.Now()
			_, _, err := c.Accounts.Get(ctx)
			require.Error(t, err)
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.Equal(t, int32(1), n.Load())
			var apiErr *APIError
			assert.ErrorAs(t, err, &apiErr, "the last answer is reported")
		})
	}
	t.Run("deadline shorter than the wait: give up without waiting", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t, WithBackoff(time.Minute, time.Minute, time.Hour))
		mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			writeJSON(w, 429, errorBody("x", "slow"))
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, _, err := c.Accounts.Get(ctx)
		var rl *RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
}

// TestBackoffFullJitter checks the wait before each retry: uniformly drawn
// from [0, min(base*2^(attempt-1), cap)).
func TestBackoffFullJitter(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithBackoff(10*time.Millisecond, 80*time.Millisecond, time.Second))
	require.NoError(t, err)
	transient := &APIError{StatusCode: http.StatusServiceUnavailable}
	for attempt, ceil := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 3: 40 * time.Millisecond,
		4: 80 * time.Millisecond, 5: 80 * time.Millisecond, 40: 80 * time.Millisecond, 70: 80 * time.Millisecond, 200: 80 * time.Millisecond} {
		var lo, hi time.Duration = ceil, 0
		for i := 0; i < 2000; i++ {
			d, ok := c.retryWait(transient, attempt)
			require.True(t, ok)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, ceil, "attempt %d", attempt)
			lo, hi = min(lo, d), max(hi, d)
		}
		assert.Less(t, lo, ceil/4, "full jitter reaches low waits (attempt %d)", attempt)
		assert.Greater(t, hi, ceil*3/4, "and high ones (attempt %d)", attempt)
	}
	for name, err := range map[string]error{
		"404":          &APIError{StatusCode: 404},
		"500":          &APIError{StatusCode: 500},
		"decode":       &DecodeError{Err: errors.New("x")},
		"too large":    ErrBodyTooLarge,
		"redirect":     ErrRedirectRefused,
		"plain error":  errors.New("x"),
		"429 too long": &RateLimitError{APIError: &APIError{StatusCode: 429}, RetryAfter: time.Hour},
	} {
		_, ok := c.retryWait(err, 1)
		assert.False(t, ok, name)
	}
	d, ok := c.retryWait(&RateLimitError{APIError: &APIError{StatusCode: 429}, RetryAfter: 500 * time.Millisecond}, 1)
	require.True(t, ok)
	assert.GreaterOrEqual(t, d, 500*time.Millisecond)
	assert.Less(t, d, 551*time.Millisecond)
}

func TestUpgradeDryRun_NeverRetried(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]http.HandlerFunc{
		"502": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 502, errorBody("x", "bad gateway")) },
		"503": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 503, errorBody("x", "busy")) },
		"504": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 504, errorBody("x", "timeout")) },
		"429": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 429, errorBody("x", "slow"))
		},
		"connection dropped": func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var obs observations
			// A plain transport without keep-alives: Go's transport itself
			// never replays a POST, and no idle connection can be reused.
			c, mux, _ := setup(t, obs.option(), WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
			var n atomic.Int32
			mux.HandleFunc(p("/deployments/d/apm/main-apm/_upgrade"), counter(&n, h))
			_, _, err := c.Deployments.UpgradeDryRun(context.Background(), "d", "apm", "main-apm")
			require.Error(t, err)
			assert.Equal(t, int32(1), n.Load())
			assert.Len(t, obs.get(), 1)
		})
	}
}
