package collector

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log/level"
)

// The API budget plan (issue 19): from each collector's calls per cycle
// (measured by its last poll) and its configured interval, the planned
// calls per hour of an account; when that exceeds the budget
// (http.max_requests_per_hour, lowered under sustained 429s), the
// intervals of the expensive per-deployment collectors are stretched,
// remote_clusters first, then billing, then the others, never below the
// configured interval. The token bucket of the client stays as the
// safety net; the plan keeps polls from running it dry.
const (
	// planHeadroom is the share of the budget the plan fills: the rest is
	// for retries, pagination that grows, and the first cycle of a
	// collector that was just enabled.
	planHeadroom = 0.9
	// maxTierStretch bounds how far one tier is stretched before the next
	// one is: a collector is not starved to save a cheaper one. Only the
	// last resort (every tier at this bound and still over budget)
	// stretches every collector further, all by the same factor.
	maxTierStretch = 60
	// retimeTolerance: an effective interval within this fraction of the
	// current one is not changed (call counts vary a little per cycle).
	retimeTolerance = 0.05
	// sustained429 429 answers within rate429Window lower the budget to
	// the rate used meanwhile; it is restored rate429Quiet after the last
	// 429.
	sustained429  = 3
	rate429Window = 10 * time.Minute
	rate429Quiet  = 30 * time.Minute
)

// planInput is one collector of an account, as the planner sees it.
type planInput struct {
	Collector string
	// Interval is the configured interval; Calls the API calls of one
	// cycle (retries included).
	Interval time.Duration
	Calls    int64
}

// planTier orders the collectors the plan stretches: lower first.
func planTier(collector string) int {
	switch collector {
	case remoteClustersName:
		return 0
	case billingName:
		return 1
	case deploymentsName:
		return 3 // the discovery every per-deployment collector needs: last resort only
	}
	return 2
}

// callsPerHour is what a collector of calls per cycle costs at interval.
func callsPerHour(calls int64, interval time.Duration) float64 {
	if interval <= 0 {
		return 0
	}
	return float64(calls) * float64(time.Hour) / float64(interval)
}

// planBudget returns the effective interval of every input and the calls
// per hour they plan for. budget <= 0 means none: the configured
// intervals. It is a pure function of its inputs.
func planBudget(budget float64, in []planInput) (map[string]time.Duration, float64) {
	eff := make(map[string]time.Duration, len(in))
	factor := make(map[string]float64, len(in))
	var total float64
	for _, c := range in {
		eff[c.Collector] = c.Interval
		factor[c.Collector] = 1
		total += callsPerHour(c.Calls, c.Interval)
	}
	target := budget * planHeadroom
	if budget <= 0 || total <= target {
		return eff, total
	}
	rate := func(c planInput) float64 { return callsPerHour(c.Calls, c.Interval) / factor[c.Collector] }
	for tier := 0; tier <= 2 && total > target; tier++ {
		var r float64
		for _, c := range in {
			if planTier(c.Collector) == tier {
				r += rate(c)
			}
		}
		if r <= 0 {
			continue
		}
		cut := min(total-target, r*(1-1.0/maxTierStretch))
		f := r / (r - cut)
		for _, c := range in {
			if planTier(c.Collector) == tier {
				factor[c.Collector] *= f
			}
		}
		total -= cut
	}
	if total > target*(1+1e-9) {
		// Last resort: every collector slows down by the same factor.
		f := total / target
		for _, c := range in {
			factor[c.Collector] *= f
		}
	}
	total = 0
	for _, c := range in {
		eff[c.Collector] = stretch(c.Interval, factor[c.Collector])
		total += callsPerHour(c.Calls, eff[c.Collector])
	}
	return eff, total
}

// stretch returns interval × factor, longer not shorter: whole seconds,
// and below an hour a whole number of polls per hour, so that every hour
// (not only the average one) holds at most the planned polls.
func stretch(interval time.Duration, factor float64) time.Duration {
	if factor <= 1 {
		return interval
	}
	d := time.Duration(math.Ceil(float64(interval)*factor/float64(time.Second))) * time.Second
	if d < time.Hour {
		d = time.Hour / time.Duration(time.Hour/d)
	}
	return max(d, interval)
}

// budgetState is one account's plan: the configured budget, the budget
// lowered under sustained 429s, and the calls the account made (for the
// rate used when the 429s came).
type budgetState struct {
	mu         sync.Mutex
	configured float64
	now        func() time.Time
	start      time.Time
	// minutes counts the requests of the last hour by minute (a ring:
	// slot i holds minute minuteOf[i]): fixed memory at any rate.
	minutes   [60]int64
	minuteOf  [60]int64
	recent429 []time.Time
	lowered   float64 // 0: not lowered
	last429   time.Time
	// planned is the last plan's calls per hour (0 before the first
	// plan); logged what the last logged plan was.
	planned float64
	hasPlan bool
	logged  string
}

func newBudgetState(configured int, now func() time.Time) *budgetState {
	if now == nil {
		now = time.Now
	}
	return &budgetState{configured: float64(configured), now: now, start: now()}
}

// record counts one request attempt; status 429 may lower the budget.
func (b *budgetState) record(status int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	minute := now.Unix() / 60
	if i := minute % 60; b.minuteOf[i] != minute {
		b.minuteOf[i], b.minutes[i] = minute, 0
	}
	b.minutes[minute%60]++
	if status != 429 {
		return
	}
	b.last429 = now
	b.recent429 = append(b.recent429, now)
	i := 0
	for i < len(b.recent429) && now.Sub(b.recent429[i]) > rate429Window {
		i++
	}
	b.recent429 = b.recent429[i:]
	if len(b.recent429) > sustained429 { // only the last few matter
		b.recent429 = append(b.recent429[:0], b.recent429[len(b.recent429)-sustained429:]...)
	}
	if len(b.recent429) >= sustained429 {
		used := b.usedLocked(now)
		if b.lowered == 0 || used < b.lowered {
			b.lowered = used
		}
	}
}

// usedLocked is the calls per hour of the last hour (of the time since
// start if shorter).
func (b *budgetState) usedLocked(now time.Time) float64 {
	span := min(now.Sub(b.start), time.Hour)
	if span < time.Minute {
		span = time.Minute
	}
	minute := now.Unix() / 60
	var n int64
	for i := range b.minutes {
		if minute-b.minuteOf[i] < 60 {
			n += b.minutes[i]
		}
	}
	return float64(n) * float64(time.Hour) / float64(span)
}

// budget returns the budget the plan fills now (0: none) and whether it
// is lowered by 429s.
func (b *budgetState) budget() (float64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lowered > 0 && b.now().Sub(b.last429) > rate429Quiet {
		b.lowered = 0
		b.recent429 = nil
	}
	if b.lowered > 0 && (b.configured <= 0 || b.lowered < b.configured) {
		return b.lowered, true
	}
	return b.configured, false
}

// plan returns the last plan's calls per hour, if there is one.
func (b *budgetState) plan() (float64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.planned, b.hasPlan
}

// replan plans the account's pollers once each has polled: it retimes
// those whose effective interval moves, and logs the plan the first time
// and whenever an interval or the budget changes.
func (m *Manager) replan(account string) {
	m.planMu.Lock()
	defer m.planMu.Unlock()
	m.mu.RLock()
	st := m.accounts[account]
	var ps []*poller
	for k, p := range m.pollers {
		if k.account == account {
			ps = append(ps, p)
		}
	}
	m.mu.RUnlock()
	if st == nil || st.budget == nil || len(ps) == 0 {
		return
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].collector < ps[j].collector })
	in := make([]planInput, 0, len(ps))
	for _, p := range ps {
		calls, ok := p.cycleCalls()
		if !ok {
			return // plan after the first cycle
		}
		in = append(in, planInput{Collector: p.collector, Interval: p.baseInterval(), Calls: calls})
	}
	budget, lowered := st.budget.budget()
	eff, planned := planBudget(budget, in)
	var desc []string
	stretched := 0
	for _, p := range ps {
		want := eff[p.collector]
		cur, _ := p.pollInterval()
		base := p.baseInterval()
		if want != cur && (want == base || math.Abs(float64(want-cur)) > retimeTolerance*float64(cur)) {
			p.setEffective(want)
			cur = want
		}
		if cur != base {
			stretched++
			desc = append(desc, p.collector+"="+cur.String()+" (configured "+base.String()+")")
		} else {
			desc = append(desc, p.collector+"="+cur.String())
		}
	}
	b := st.budget
	b.mu.Lock()
	b.planned, b.hasPlan = planned, true
	summary := strings.Join(desc, " ") + "|" + formatRate(budget) + "|" + boolString(lowered)
	changed := summary != b.logged
	b.logged = summary
	b.mu.Unlock()
	if changed {
		level.Info(m.logger).Log("msg", "API request plan", "account", account,
			"budget_per_hour", formatRate(budget), "lowered_by_429", lowered,
			"planned_per_hour", formatRate(planned), "stretched", stretched, "intervals", strings.Join(desc, ", "))
	}
}

func formatRate(v float64) string {
	if v <= 0 {
		return "none"
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
