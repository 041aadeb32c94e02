package collector

import (
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// Collector states on the status page.
const (
	StateOK        = "ok"         // the last poll succeeded
	StateFailing   = "failing"    // the last poll failed and nothing is exported
	StateStale     = "stale"      // the last poll failed; older data is exported
	StatePending   = "pending"    // no poll has finished yet
	StateNotPolled = "not polled" // no poller: see Reason
)

// maxStatusError bounds the length of an error on the status page.
const maxStatusError = 600

// Status is a read-only copy of what the Manager knows about its accounts
// and pollers, for the status page. It holds no secret: errors are
// redacted with the account's credentials (as the client redacts API
// errors) and cut to a bounded length.
type Status struct {
	Accounts []AccountStatus
}

// AccountStatus is one configured account.
type AccountStatus struct {
	Name     string
	Platform string
	// RateLimit is the latest x-ratelimit-* headers (Present false until
	// an answer carried them).
	RateLimit eceapi.RateLimit
	// Collectors holds every registered collector, polled or not, by name.
	Collectors []CollectorStatus
}

// CollectorStatus is one account × collector.
type CollectorStatus struct {
	Name  string
	State string
	// Reason says why a collector is not polled, or what is special about
	// its poller (the deployments discovery polled for other collectors
	// only, not exported).
	Reason string
	// Interval is the configured poll interval; EffectiveInterval is the
	// time from the last poll's start to the next one's (longer after a
	// 429 or near rate-limit exhaustion), zero until a poll finished.
	Interval          time.Duration
	EffectiveInterval time.Duration
	LastSuccess       time.Time
	LastError         string
	LastErrorAt       time.Time
	NextPoll          time.Time
	// Calls are the API requests (retries included) of the last poll.
	Calls    int64
	Duration time.Duration
	// Series are the series of the exported snapshot; Partial the items
	// that failed in the last successful poll.
	Series  int
	Partial int
}

// pollRecord is what a poller remembers for the status page only.
type pollRecord struct {
	mu        sync.Mutex
	lastErr   string
	lastErrAt time.Time
	next      time.Time
	effective time.Duration
	calls     int64
}

// polled records the outcome of one poll.
func (r *pollRecord) polled(err error, calls int64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = calls
	if err != nil {
		r.lastErr, r.lastErrAt = err.Error(), at
	}
}

// scheduled records when the next poll starts; started is when the last
// one started (zero before the first).
func (r *pollRecord) scheduled(started, next time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = next
	if !started.IsZero() {
		r.effective = next.Sub(started)
	}
}

// Status returns a copy of the state of every account and collector.
func (m *Manager) Status() Status {
	m.mu.RLock()
	cfg := m.cfg
	accounts := make(map[string]*accountState, len(m.accounts))
	for k, v := range m.accounts {
		accounts[k] = v
	}
	pollers := make(map[pollerKey]*poller, len(m.pollers))
	for k, v := range m.pollers {
		pollers[k] = v
	}
	m.mu.RUnlock()

	var out Status
	if cfg == nil {
		return out
	}
	names := Names()
	needDiscovery := false
	for name := range runnable(m.enabled) {
		if registry[name].NeedsDiscovery {
			needDiscovery = true
		}
	}
	for _, acc := range cfg.Accounts {
		st := accounts[acc.Name]
		as := AccountStatus{Name: acc.Name, Platform: acc.Platform}
		if st != nil {
			st.rate.mu.Lock()
			as.RateLimit = st.rate.rl
			st.rate.mu.Unlock()
		}
		secrets := []string{acc.Credentials.APIKey.Reveal(), acc.Credentials.Password.Reveal()}
		for _, name := range names {
			reg := registry[name]
			cs := CollectorStatus{Name: name, Interval: cfg.Collectors.Options(name).PollInterval().Duration()}
			p := pollers[pollerKey{acc.Name, name}]
			if p == nil {
				cs.State = StateNotPolled
				switch {
				case !m.enabled[name]:
					cs.Reason = "disabled: turn it on with --collector." + name
				case reg.NeedsDiscovery && !m.enabled[deploymentsName]:
					cs.Reason = "needs the deployments discovery, and the deployments collector is off (--collector.deployments)"
				case reg.Supports != nil:
					if ok, why := reg.Supports(acc); !ok {
						cs.Reason = why
					}
				}
				as.Collectors = append(as.Collectors, cs)
				continue
			}
			ps := p.state()
			p.rec.mu.Lock()
			cs.LastError, cs.LastErrorAt = p.rec.lastErr, p.rec.lastErrAt
			cs.NextPoll, cs.EffectiveInterval, cs.Calls = p.rec.next, p.rec.effective, p.rec.calls
			p.rec.mu.Unlock()
			cs.Interval = p.baseInterval()
			cs.LastSuccess, cs.Duration, cs.Partial = ps.lastSuccess, ps.duration, ps.partial
			if ps.snap != nil {
				cs.Series = ps.snap.Len()
			}
			switch {
			case ps.success:
				cs.State = StateOK
			case !ps.polled && ps.snap == nil:
				cs.State = StatePending
			case ps.snap != nil:
				cs.State = StateStale
			default:
				cs.State = StateFailing
			}
			if name == deploymentsName && needDiscovery {
				cs.Reason = "also the deployments discovery of other collectors"
			}
			cs.LastError = boundError(eceapi.Redact(cs.LastError, secrets...))
			as.Collectors = append(as.Collectors, cs)
		}
		sort.Slice(as.Collectors, func(i, j int) bool { return as.Collectors[i].Name < as.Collectors[j].Name })
		out.Accounts = append(out.Accounts, as)
	}
	return out
}

// boundError cuts s to maxStatusError bytes at a rune boundary.
func boundError(s string) string {
	if len(s) <= maxStatusError {
		return s
	}
	cut := maxStatusError
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …(cut)"
}
