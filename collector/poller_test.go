package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// scriptedSource answers each poll with the next of its outcomes.
type scriptedSource struct{ outcomes []error }

func (s *scriptedSource) Poll(context.Context) (*Snapshot, error) {
	err := s.outcomes[0]
	s.outcomes = s.outcomes[1:]
	if err != nil {
		return nil, err
	}
	snap := NewSnapshot("prod")
	snap.gauge(newSeriesDesc("ece_test_x", "X.", []string{"account"}), 1)
	return snap, nil
}

// TestStaleOnlyWithOlderData: stale means older data is being shown. A
// collector whose very first poll fails shows nothing: stale 0, and the
// log does not claim to keep data it does not have.
func TestStaleOnlyWithOlderData(t *testing.T) {
	t.Parallel()
	self, err := newSelfMetrics(nil)
	require.NoError(t, err)
	fail := errors.New("boom")
	var logs bytes.Buffer
	p := newPoller("prod", "api_keys", &scriptedSource{outcomes: []error{fail, nil, fail}}, time.Minute, log.NewLogfmtLogger(&logs), func(string) {})
	stale := func(want string) {
		t.Helper()
		c := prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) { self.collectPoller(ch, p, p.state()) })
		require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP ece_exporter_collector_stale 1 when the last poll failed and the exported data is from an earlier successful poll.
# TYPE ece_exporter_collector_stale gauge
ece_exporter_collector_stale{account="prod",collector="api_keys"} `+want+"\n"), "ece_exporter_collector_stale"))
	}

	p.pollOnce(context.Background())
	stale("0")
	assert.Contains(t, logs.String(), `msg="poll failed; no data yet (nothing exported until a poll succeeds)"`)
	assert.NotContains(t, logs.String(), "keeping the last good data")

	p.pollOnce(context.Background())
	stale("0")

	logs.Reset()
	p.pollOnce(context.Background())
	stale("1")
	assert.Contains(t, logs.String(), `msg="poll failed; keeping the last good data (stale)"`)
}

// TestReasons: every bounded reason, from the error that produces it.
func TestReasons(t *testing.T) {
	t.Parallel()
	apiErr := func(status int) error { return fmt.Errorf("op: %w", &eceapi.APIError{StatusCode: status}) }
	timeoutErr := &net.OpError{Op: "dial", Err: &timeoutError{}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"429", &eceapi.RateLimitError{APIError: &eceapi.APIError{StatusCode: 429}}, ReasonRateLimited},
		{"request budget", fmt.Errorf("x: %w", eceapi.ErrRequestBudget), ReasonRateLimited},
		{"401", apiErr(401), ReasonAuth},
		{"403", apiErr(403), ReasonAuth},
		{"404", apiErr(404), ReasonNotFound},
		{"408", apiErr(408), ReasonTimeout},
		{"504", apiErr(504), ReasonTimeout},
		{"500", apiErr(500), ReasonServer},
		{"400", apiErr(400), ReasonConfig},
		{"unsupported", errUnsupported{"billing on ECE"}, ReasonConfig},
		{"no discovery", fmt.Errorf("x: %w", errNoDiscovery), ReasonDependency},
		{"decode", &eceapi.DecodeError{Operation: "x", Err: errors.New("bad")}, ReasonDecode},
		{"too large", fmt.Errorf("x: %w", eceapi.ErrBodyTooLarge), ReasonDecode},
		{"redirect", &url.Error{Op: "Get", URL: "https://h/", Err: fmt.Errorf("%w: to http://other", eceapi.ErrRedirectRefused)}, ReasonRedirect},
		{"deadline", context.DeadlineExceeded, ReasonTimeout},
		{"net timeout", timeoutErr, ReasonTimeout},
		{"refused", &url.Error{Op: "Get", URL: "https://h/", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, ReasonNetwork},
		{"panic", &panicError{value: "nil map"}, ReasonPanic},
		{"panic wrapping an API error", fmt.Errorf("%w", &panicError{value: apiErr(500)}), ReasonPanic},
		{"untyped", errors.New("collector returned no data"), ReasonInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Reason(tc.err)
			assert.Equal(t, tc.want, got)
			assert.Contains(t, allReasons, got, "bounded")
		})
	}
}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

type panickingSource struct{}

func (panickingSource) Poll(context.Context) (*Snapshot, error) {
	var s []int
	_ = s[len(s)] // a bug: index out of range
	return nil, nil
}

// TestPanicIsItsOwnReason: a collector's panic is counted as reason
// panic (it was network), and the daemon goes on.
func TestPanicIsItsOwnReason(t *testing.T) {
	t.Parallel()
	var reasons []string
	var logs bytes.Buffer
	p := newPoller("prod", "billing", panickingSource{}, time.Minute, log.NewLogfmtLogger(&logs), func(r string) { reasons = append(reasons, r) })
	p.pollOnce(context.Background())
	assert.Equal(t, []string{ReasonPanic}, reasons)
	assert.Contains(t, logs.String(), "collector panicked: runtime error: index out of range")
	assert.False(t, p.state().success)
}

// countingSource counts its polls; every poll after the first fails, so
// that a kept snapshot can only be the first one.
type countingSource struct{ polls atomic.Int32 }

func (s *countingSource) Poll(context.Context) (*Snapshot, error) {
	if s.polls.Add(1) > 1 {
		return nil, errors.New("later polls fail")
	}
	snap := NewSnapshot("prod")
	snap.gauge(newSeriesDesc("ece_test_x", "X.", []string{"account"}), 1)
	return snap, nil
}

// TestSetIntervalRetimesTheRunningPoller: a new interval moves the next
// poll of the running loop (here from an hour away to now) without a new
// poller; the snapshot of the first poll is kept.
func TestSetIntervalRetimesTheRunningPoller(t *testing.T) {
	t.Parallel()
	src := &countingSource{}
	p := newPoller("prod", "test", src, time.Hour, log.NewNopLogger(), func(string) {})
	p.start(context.Background(), 0)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.stop(ctx)
	})
	<-p.firstDone
	first := p.state().snap
	require.NotNil(t, first)

	p.setInterval(time.Minute) // the last poll started less than a minute ago: not yet
	p.setInterval(time.Millisecond)
	select {
	case <-time.After(10 * time.Second):
		t.Fatal("no second poll after the interval became 1ms (the loop still waits an hour)")
	case <-waitPolls(src, 2):
	}
	st := p.state()
	assert.Equal(t, time.Millisecond, st.interval)
	assert.Same(t, first, st.snap, "the poller keeps its snapshot")
}

// waitPolls is closed once src has been polled n times.
func waitPolls(src *countingSource, n int32) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for {
			if src.polls.Load() >= n {
				close(done)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return done
}

// TestRetimeKeepsTheBackoff: a retime (a reload, or the API budget plan
// changing during a 429 storm) while the poller waits out rate-limit
// pacing or a 429 backoff must not cut that wait short.
func TestRetimeKeepsTheBackoff(t *testing.T) {
	t.Parallel()
	src := &countingSource{}
	p := newPoller("prod", "test", src, time.Millisecond, log.NewNopLogger(), func(string) {})
	p.pace = func() time.Duration { return time.Hour } // the quota is nearly spent
	p.start(context.Background(), 0)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.stop(ctx)
	})
	<-p.firstDone
	p.setInterval(2 * time.Millisecond)
	time.Sleep(300 * time.Millisecond) // a cut-short wait polls again within 2 ms
	assert.Equal(t, int32(1), src.polls.Load(), "the retime cut the hour of pacing short")
}
