package collector

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

// maxPollTimeout caps the default poll timeout.
const maxPollTimeout = 2 * time.Minute

// poller runs one Source (one account × one collector) in the background.
type poller struct {
	account   string
	collector string
	source    Source
	logger    log.Logger
	errors    func(reason string)
	// pace, when set, returns an extra delay before the next poll (rate
	// limit headers close to exhaustion).
	pace func() time.Duration
	// rateLimited counts consecutive polls that ended in a 429 (poll
	// goroutine only).
	rateLimited int
	// refusedLogged: a 403 was logged since the last successful poll; the
	// same refusal every poll is logged at debug level only (poll
	// goroutine only).
	refusedLogged bool
	// partialRefused: the operations whose refusal (a partial failure of
	// a successful poll) was logged and is still refused (poll goroutine
	// only).
	partialRefused map[string]bool
	// rec is what the status page shows beyond the fields below.
	rec pollRecord

	// retime wakes the poll loop when the interval changes (buffered 1).
	retime chan struct{}
	// wants says what seal encodes (may be nil: nothing until asked).
	wants *exposition.Wants
	// onPolled, when set, runs after every poll (the budget plan).
	onPolled func()

	mu sync.RWMutex
	// base is the configured interval; interval the effective one (the
	// budget plan may stretch it, never below base).
	base        time.Duration
	interval    time.Duration
	calls       int64 // API calls of the last successful poll, else of the last poll
	callsKnown  bool
	timeout     time.Duration
	snap        *Snapshot // last good
	success     bool
	polled      bool
	lastSuccess time.Time
	duration    time.Duration
	partial     int

	firstDone chan struct{}
	once      sync.Once
	cancel    context.CancelFunc
	stopped   chan struct{}
}

func newPoller(account, collector string, src Source, interval time.Duration, logger log.Logger, errs func(string)) *poller {
	return &poller{
		account: account, collector: collector, source: src,
		base: interval, interval: interval, timeout: min(interval, maxPollTimeout),
		logger:    log.With(logger, "account", account, "collector", collector),
		errors:    errs,
		retime:    make(chan struct{}, 1),
		firstDone: make(chan struct{}),
		stopped:   make(chan struct{}),
	}
}

// setInterval changes the configured poll interval of a running poller
// (and its effective one, until the budget plan stretches it again): the
// next poll is due one new interval after the last one started (now, if
// that is past). The snapshot, the state and the poll in progress are
// kept.
func (p *poller) setInterval(d time.Duration) {
	p.mu.Lock()
	p.base = d
	p.mu.Unlock()
	p.setEffective(d)
}

// setEffective retimes the poller without changing its configured
// interval (the budget plan).
func (p *poller) setEffective(d time.Duration) {
	p.mu.Lock()
	p.interval, p.timeout = d, min(d, maxPollTimeout)
	p.mu.Unlock()
	select {
	case p.retime <- struct{}{}:
	default:
	}
}

// baseInterval is the configured interval.
func (p *poller) baseInterval() time.Duration {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.base
}

// cycleCalls returns the API calls of one cycle (the last successful
// poll's; the last poll's while none succeeded) and whether a poll ran.
func (p *poller) cycleCalls() (int64, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.calls, p.callsKnown
}

// pollInterval returns the current interval and poll timeout.
func (p *poller) pollInterval() (interval, timeout time.Duration) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.interval, p.timeout
}

// start runs the poll loop until ctx is cancelled or stop is called. The
// first poll starts after a small random delay so that pollers of many
// accounts do not hit the API in the same instant.
func (p *poller) start(ctx context.Context, maxJitter time.Duration) {
	ctx, p.cancel = context.WithCancel(ctx)
	go p.run(ctx, maxJitter)
}

// stop cancels the loop and waits for it (bounded by ctx).
func (p *poller) stop(ctx context.Context) {
	if p.cancel != nil {
		p.cancel()
	}
	select {
	case <-p.stopped:
	case <-ctx.Done():
	}
}

func (p *poller) run(ctx context.Context, maxJitter time.Duration) {
	defer close(p.stopped)
	var jitter time.Duration
	if maxJitter > 0 {
		jitter = time.Duration(rand.Int64N(int64(maxJitter)))
	}
	p.rec.scheduled(time.Time{}, time.Now().Add(jitter))
	if maxJitter > 0 && !sleep(ctx, jitter) {
		p.markFirst()
		return
	}
	for {
		start := time.Now()
		wait := p.pollOnce(ctx)
		if ctx.Err() != nil {
			p.markFirst()
			return
		}
		if !p.sleepUntilNext(ctx, start, wait) {
			return
		}
	}
}

// sleepUntilNext waits for the next poll; an interval change (setInterval)
// moves the deadline to one new interval after start, keeping at least
// what a 429 asked for. It reports whether the wait ended normally.
func (p *poller) sleepUntilNext(ctx context.Context, start time.Time, retryAfter time.Duration) bool {
	interval, _ := p.pollInterval()
	elapsed := time.Since(start)
	delay := max(p.nextDelay(elapsed, retryAfter), 0)
	// A delay longer than the interval is a 429 backoff or rate-limit
	// pacing: a retime (a reload, or the API budget plan changing, which
	// it does exactly during a 429 storm) must not cut it short.
	var notBefore time.Time
	if delay > interval-elapsed {
		notBefore = time.Now().Add(delay)
	}
	p.rec.scheduled(start, time.Now().Add(delay))
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case <-p.retime:
			interval, _ := p.pollInterval()
			delay := max(interval-time.Since(start), retryAfter-time.Since(start), time.Until(notBefore), 0)
			p.rec.scheduled(start, time.Now().Add(delay))
			t.Reset(delay)
		}
	}
}

// nextDelay decides when the next poll starts. Normally one interval after
// the last one started. After a 429 it waits at least as long as the API
// asked, and consecutive 429s back off exponentially (up to 16 intervals,
// with jitter) so that a rate-limit storm sees fewer and fewer requests.
// Near quota exhaustion (x-ratelimit-remaining), pace adds a window.
func (p *poller) nextDelay(elapsed, retryAfter time.Duration) time.Duration {
	interval, _ := p.pollInterval()
	next := interval - elapsed
	if retryAfter > 0 {
		p.rateLimited++
		backoff := interval << min(p.rateLimited-1, 4)
		backoff += jitterUpTo(backoff / 4)
		next = max(next, retryAfter, backoff)
	} else {
		p.rateLimited = 0
	}
	if p.pace != nil {
		next += p.pace()
	}
	return next
}

func jitterUpTo(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)))
}

func (p *poller) markFirst() { p.once.Do(func() { close(p.firstDone) }) }

// pollOnce runs one poll and records its outcome. It returns how long the
// API asked us to wait, if it did (429 Retry-After).
func (p *poller) pollOnce(ctx context.Context) (retryAfter time.Duration) {
	defer p.markFirst()
	_, timeout := p.pollInterval()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var calls atomic.Int64
	pctx = eceapi.WithCallCounter(pctx, &calls)
	start := time.Now()
	snap, err := p.safePoll(pctx)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return 0 // shutting down: not a failure
	}
	if err == nil && snap == nil {
		err = errors.New("collector returned no data")
	}
	p.rec.polled(err, calls.Load(), time.Now())

	if p.onPolled != nil {
		defer p.onPolled()
	}
	p.mu.Lock()
	hasData := p.snap != nil
	p.polled = true
	p.duration = elapsed
	if err == nil || p.lastSuccess.IsZero() {
		p.calls, p.callsKnown = calls.Load(), true
	}
	if err != nil {
		p.success = false
	} else {
		p.success, p.snap, p.lastSuccess, p.partial = true, snap, time.Now(), len(snap.Partial)
	}
	p.mu.Unlock()

	if err != nil {
		reason := Reason(err)
		if errors.Is(err, context.DeadlineExceeded) && pctx.Err() != nil {
			reason = ReasonTimeout
		}
		p.errors(reason)
		msg := "poll failed; keeping the last good data (stale)"
		if !hasData {
			msg = "poll failed; no data yet (nothing exported until a poll succeeds)"
		}
		keyvals := []any{"msg", msg, "reason", reason, "duration", elapsed.Round(time.Millisecond), "err", err}
		if op := errorOperation(err); op != "" {
			keyvals = append(keyvals, "operation", op)
		}
		if code := errorCode(err); code != "" {
			keyvals = append(keyvals, "code", code)
		}
		call, needs, refused := refusedCall(err)
		// A refusal (403) or a missing discovery fails every poll the same
		// way: logged once per account and collector until the collector
		// succeeds again, counted every time.
		latched := refused || reason == ReasonDependency
		switch {
		case latched && p.refusedLogged:
			level.Debug(p.logger).Log(keyvals...)
		case refused:
			p.refusedLogged = true
			keyvals = append(keyvals, "refused_call", call, "needs", needs, "hint", refusedHint(p.collector))
			level.Warn(p.logger).Log(keyvals...)
		case reason == ReasonDependency:
			p.refusedLogged = true
			keyvals = append(keyvals, "hint", "this collector iterates the deployments that the deployments discovery lists, and that discovery is failing (see its own log line); logged once until the collector succeeds; turn it off with --no-collector."+p.collector)
			level.Warn(p.logger).Log(keyvals...)
		case reason == ReasonConfig:
			level.Error(p.logger).Log(keyvals...)
		default:
			level.Warn(p.logger).Log(keyvals...)
		}
		var rl *eceapi.RateLimitError
		if errors.As(err, &rl) {
			return max(rl.RetryAfter, time.Millisecond)
		}
		return 0
	}
	p.refusedLogged = false
	p.logPartial(snap.Partial)
	if snap.invalid > 0 {
		level.Warn(p.logger).Log("msg", "series dropped: invalid or duplicate", "dropped", snap.invalid)
	}
	level.Debug(p.logger).Log("msg", "poll succeeded", "series", snap.Len(), "duration", elapsed.Round(time.Millisecond))
	return 0
}

// refusedHint says what a refusal of collector's calls affects.
func refusedHint(collector string) string {
	if collector == deploymentsName {
		// The collectors that iterate the discovery, from the registry.
		var deps, flags []string
		for _, n := range Names() {
			if registry[n].NeedsDiscovery {
				deps = append(deps, n)
				flags = append(flags, "--no-collector."+n)
			}
		}
		return "the API key lacks a permission this collector needs; the " + strings.Join(deps, " and ") +
			" collectors iterate the deployments this call lists and fail with reason=dependency too (turn them off with " +
			strings.Join(append(flags, "--no-collector."+deploymentsName), ", ") + "); logged once until the collector succeeds"
	}
	return "the API key lacks a permission this collector needs; only this collector is affected; logged once until the collector succeeds"
}

// logPartial counts and logs the partial failures of a successful poll.
// A refused call (403) fails the same way every poll: it is logged once
// per operation, naming the call and the role it needs, until a poll no
// longer has that operation refused; other failures are logged every
// poll.
func (p *poller) logPartial(partial []error) {
	refusedNow := map[string]bool{}
	var others []error
	for _, perr := range partial {
		p.errors(Reason(perr))
		call, needs, refused := refusedCall(perr)
		if !refused {
			others = append(others, perr)
			continue
		}
		op := errorOperation(perr)
		if refusedNow[op] {
			continue
		}
		refusedNow[op] = true
		keyvals := []any{"msg", "poll succeeded, but the API refused some calls", "reason", ReasonAuth, "operation", op,
			"refused_call", call, "needs", needs, "err", perr,
			"hint", "the API key lacks a permission some calls of this collector need; the series of those calls are missing; logged once until these calls succeed"}
		if p.partialRefused[op] {
			level.Debug(p.logger).Log(keyvals...)
		} else {
			level.Warn(p.logger).Log(keyvals...)
		}
	}
	p.partialRefused = refusedNow
	if len(others) > 0 {
		level.Warn(p.logger).Log("msg", "poll succeeded with partial failures", "failures", len(others), "err", others[0])
	}
}

// safePoll turns a panic in a collector into an error: a bug in one
// collector must not take the daemon down.
func (p *poller) safePoll(ctx context.Context) (snap *Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, &panicError{value: r}
		}
	}()
	snap, err = p.source.Poll(ctx)
	if err == nil && snap == nil {
		err = errors.New("collector returned no snapshot and no error")
	}
	if err != nil {
		return nil, err
	}
	snap.wants = p.wants
	snap.seal()
	return snap, nil
}

// inherit takes over the last good data of the poller this one replaces,
// so that a reload does not make series vanish until the next poll.
func (p *poller) inherit(old *poller) {
	st := old.state()
	p.mu.Lock()
	p.snap, p.lastSuccess, p.success, p.partial = st.snap, st.lastSuccess, st.success, st.partial
	p.mu.Unlock()
}

// state is a consistent copy of the poller's state for one scrape.
type pollerState struct {
	base        time.Duration // configured
	interval    time.Duration // effective
	snap        *Snapshot
	success     bool
	polled      bool
	lastSuccess time.Time
	duration    time.Duration
	partial     int
}

func (p *poller) state() pollerState {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return pollerState{p.base, p.interval, p.snap, p.success, p.polled, p.lastSuccess, p.duration, p.partial}
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
