package collector

import (
	"context"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// TestRateLimitStormBacksOff: under a sustained 429 storm the poller's
// request rate falls (exponential, jittered backoff across polls) instead
// of hammering the API. The poll loop is driven by hand on a virtual clock
// (each poll, then the delay the poller asks for), so that the figures do
// not depend on how busy the machine is.
func TestRateLimitStormBacksOff(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Seed: 71, APIKeys: 2})
	sim.SetFault("get-api-keys", ecesim.Fault{Status: 429, Headers: map[string]string{"Retry-After": "0"}})
	src, _ := newAPIKeysSource(env)
	p := newPoller("test", apiKeysName, src, 20*time.Millisecond, env.Logger, func(string) {})
	ctx := context.Background()

	const window = 400 * time.Millisecond
	perWindow := make([]int, 3)
	for now := time.Duration(0); now < 3*window; {
		before := sim.Requests("get-api-keys")
		retryAfter := p.pollOnce(ctx)
		perWindow[now/window] += sim.Requests("get-api-keys") - before
		now += p.nextDelay(0, retryAfter)
	}
	first, third := perWindow[0], perWindow[2]
	t.Logf("requests per 400ms window under a 429 storm (20 ms interval): %v", perWindow)
	assert.Less(t, third, first, "the request rate falls")
	assert.LessOrEqual(t, third, 2, "backed off to at most 16 intervals")
	assert.Positive(t, p.rateLimited)
	// Recovery resets the backoff.
	assert.Equal(t, 0, p.nextDelayResetCheck())
}

func (p *poller) nextDelayResetCheck() int {
	p.nextDelay(0, 0)
	return p.rateLimited
}

func TestBackoffIsJitteredAndCapped(t *testing.T) {
	t.Parallel()
	p := newPoller("a", "c", nil, time.Second, nil, nil)
	seen := map[time.Duration]bool{}
	var last time.Duration
	for i := 0; i < 8; i++ {
		last = p.nextDelay(0, time.Millisecond)
		seen[last] = true
	}
	assert.GreaterOrEqual(t, last, 16*time.Second)
	assert.Less(t, last, 20*time.Second, "capped at 16 intervals plus a quarter of jitter")
	assert.Greater(t, len(seen), 4, "jittered")
	assert.GreaterOrEqual(t, p.nextDelay(0, time.Hour), time.Hour, "never sooner than the API asked")
	assert.Equal(t, time.Second, p.nextDelay(0, 0), "a success resets the backoff")
}

// TestPacingNearQuotaExhaustion: when x-ratelimit-remaining is below 5% of
// the limit, pollers wait a quota window before their next poll.
func TestPacingNearQuotaExhaustion(t *testing.T) {
	t.Parallel()
	r := &rateState{}
	assert.Zero(t, r.pace(), "no headers, no pacing")
	r.update(eceapi.RateLimit{Present: true, Limit: 1000, Remaining: 500, Interval: time.Minute})
	assert.Zero(t, r.pace())
	r.update(eceapi.RateLimit{Present: true, Limit: 1000, Remaining: 30, Interval: time.Minute})
	assert.Equal(t, time.Minute, r.pace())
	// A limit and interval without x-ratelimit-remaining say nothing of
	// what is left: no pacing (it used to read as 0 left).
	r2 := &rateState{}
	r2.update(eceapi.RateLimit{Limit: 1000, Interval: time.Minute})
	assert.Zero(t, r2.pace())
	// Remaining alone keeps the limit and interval known from before.
	r.update(eceapi.RateLimit{Present: true, Remaining: 10})
	assert.Equal(t, time.Minute, r.pace())

	// Through the real client and simulator: a quota of 20 nearly used up.
	sim, env := simEnv(t, ecesim.Options{Seed: 72, RateLimit: 20, RateLimitInterval: time.Hour})
	st := &rateState{}
	client, err := eceapi.NewClient(eceapi.WithBaseURL(env.Account.URL), eceapi.WithAPIKey("sim-api-key"),
		eceapi.WithObserver(func(o eceapi.Observation) { st.update(o.RateLimit) }))
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		_, _, err := client.Accounts.Get(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, time.Hour, st.pace(), "quota used up: wait for the window")
	assert.Equal(t, 20, sim.TotalRequests())
}

// TestPollTimeout: a poll may take its interval, at most maxPollTimeout.
func TestPollTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ interval, want time.Duration }{
		{30 * time.Second, 30 * time.Second},
		{time.Minute, time.Minute},
		{2 * time.Minute, 2 * time.Minute},
		{time.Hour, maxPollTimeout},
	} {
		p := newPoller("a", "c", nil, tc.interval, log.NewNopLogger(), func(string) {})
		assert.Equal(t, tc.want, p.timeout, tc.interval)
	}
}
