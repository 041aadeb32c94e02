package collector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/exposition"
)

// Options configures a Manager.
type Options struct {
	Logger log.Logger
	// Registerer receives the exporter's own metrics (the pollers' and the
	// API requests'); Gatherer serves them with the data.
	Registerer prometheus.Registerer
	// Enabled lists the enabled collectors (Selection.Enabled). Those that
	// need the deployments discovery run only with deployments enabled
	// (see SelectionNotes).
	Enabled []string
	// Version goes into the User-Agent.
	Version string
	// Sharder, when set, restricts deployments and organization data.
	Sharder Sharder
	// StartJitter bounds the random delay before each poller's first poll.
	StartJitter time.Duration
	// Now replaces time.Now for collectors (tests).
	Now func() time.Time
	// ClientOptions are appended to every client's options (tests).
	ClientOptions []eceapi.Option
}

// Manager owns the API clients and pollers of every account, applies
// configuration reloads, and serves the snapshots to Prometheus.
type Manager struct {
	opts    Options
	logger  log.Logger
	enabled map[string]bool
	self    *selfMetrics

	applyMu  sync.Mutex // serialises Apply, and Stop with it
	planMu   sync.Mutex // serialises budget plans (replan)
	stopped  bool       // set by Stop (under mu); Apply then fails
	mu       sync.RWMutex
	accounts map[string]*accountState
	pollers  map[pollerKey]*poller
	ctx      context.Context
	cancel   context.CancelFunc
	ready    atomic.Bool
	cfg      *config.Config
	// wants: which exposition kinds scrapes ask for (what seal encodes).
	wants *exposition.Wants
}

type pollerKey struct{ account, collector string }

type accountState struct {
	cfg       config.Account
	http      config.HTTP
	client    *eceapi.Client
	discovery *Discovery
	orgs      *orgSource
	rate      *rateState
	budget    *budgetState
}

// NewManager returns a Manager; call Apply to start polling.
func NewManager(opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Sharder == nil {
		opts.Sharder = NoSharding{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	m := &Manager{
		opts: opts, logger: opts.Logger,
		enabled:  map[string]bool{},
		accounts: map[string]*accountState{},
		pollers:  map[pollerKey]*poller{},
		// The wall clock, not opts.Now: how long ago a scraper asked.
		wants: exposition.NewWants(nil),
	}
	for _, name := range opts.Enabled {
		if _, ok := registry[name]; !ok {
			return nil, fmt.Errorf("unknown collector %q", name)
		}
		m.enabled[name] = true
	}
	for _, note := range SelectionNotes(opts.Enabled) {
		level.Warn(m.logger).Log("msg", note)
	}
	m.enabled = runnable(m.enabled)
	self, err := newSelfMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	m.self = self
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(pollerCollector{m}); err != nil {
			return nil, err
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Apply starts polling with cfg, or, on a reload, swaps to it: accounts
// and collectors whose settings are unchanged keep their pollers; changed
// ones are restarted (keeping their last data until the new poller
// succeeds); removed ones stop and their series disappear. On error
// nothing changes.
func (m *Manager) Apply(cfg *config.Config) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()
	m.mu.RLock()
	stopped := m.stopped
	m.mu.RUnlock()
	if stopped {
		return ErrStopped
	}

	// Build everything that can fail first.
	accounts := make(map[string]*accountState, len(cfg.Accounts))
	for _, acc := range cfg.Accounts {
		old := m.accounts[acc.Name]
		if old != nil && old.cfg.Equal(acc) && old.http == cfg.HTTP {
			accounts[acc.Name] = old
			continue
		}
		st := &accountState{cfg: acc, http: cfg.HTTP, rate: &rateState{}, budget: newBudgetState(cfg.HTTP.MaxRequestsPerHour, nil)}
		st.rate.budget = st.budget
		client, err := m.newClient(acc, cfg.HTTP, st.rate)
		if err != nil {
			return fmt.Errorf("account %q: %w", acc.Name, err)
		}
		st.client = client
		st.discovery = NewDiscovery()
		st.orgs = &orgSource{account: acc, client: client, now: m.opts.Now}
		accounts[acc.Name] = st
	}

	type plan struct {
		key  pollerKey
		reg  *Registration
		keep *poller
	}
	var plans []plan
	for _, acc := range cfg.Accounts {
		st := accounts[acc.Name]
		for _, name := range Names() {
			reg := registry[name]
			if !m.enabled[name] {
				continue
			}
			if reg.Supports != nil {
				if ok, why := reg.Supports(acc); !ok {
					if m.cfg == nil || m.accounts[acc.Name] == nil {
						level.Info(m.logger).Log("msg", "collector does not apply to this account; not polling", "account", acc.Name, "collector", name, "reason", why)
					}
					continue
				}
			}
			key := pollerKey{acc.Name, name}
			p := plan{key: key, reg: reg}
			if old := m.pollers[key]; old != nil && m.accounts[acc.Name] == st &&
				sameExceptInterval(m.cfg.Collectors.Options(name), cfg.Collectors.Options(name)) {
				p.keep = old
			}
			plans = append(plans, p)
		}
	}

	pollers := make(map[pollerKey]*poller, len(plans))
	var fresh []*poller
	retimed := map[*poller]time.Duration{}
	for _, pl := range plans {
		if pl.keep != nil {
			pollers[pl.key] = pl.keep
			if iv := cfg.Collectors.Options(pl.reg.Name).PollInterval().Duration(); iv != pl.keep.baseInterval() {
				retimed[pl.keep] = iv
			}
			continue
		}
		st := accounts[pl.key.account]
		if o, want := cfg.Collectors.Options(pl.reg.Name), pl.reg.Defaults; reflect.TypeOf(o) != reflect.TypeOf(want) {
			return fmt.Errorf("collector %q: options of type %T, want %T", pl.reg.Name, o, want)
		}
		env := Env{
			Account: st.cfg, Client: st.client, Options: cfg.Collectors.Options(pl.reg.Name),
			Logger:    log.With(m.logger, "account", pl.key.account, "collector", pl.reg.Name),
			Discovery: st.discovery, Sharder: m.opts.Sharder, Now: m.opts.Now,
			orgs: st.orgs,
		}
		src, err := pl.reg.New(env)
		if err != nil {
			return fmt.Errorf("account %q collector %q: %w", pl.key.account, pl.reg.Name, err)
		}
		account, coll := pl.key.account, pl.reg.Name
		interval := cfg.Collectors.Options(coll).PollInterval().Duration()
		p := newPoller(account, coll, src, interval, m.logger, func(reason string) {
			m.self.errors.WithLabelValues(account, coll, reason).Inc()
		})
		// Initialise the error counters so that rate() works from the start.
		for _, r := range allReasons {
			m.self.errors.WithLabelValues(account, coll, r)
		}
		p.pace = st.rate.pace
		p.wants = m.wants
		p.onPolled = func() { m.replan(account) }
		if old := m.pollers[pl.key]; old != nil {
			p.inherit(old)
		}
		pollers[pl.key] = p
		fresh = append(fresh, p)
	}

	// Swap.
	m.mu.Lock()
	oldPollers := m.pollers
	oldAccounts := m.accounts
	m.pollers, m.accounts, m.cfg = pollers, accounts, cfg
	m.mu.Unlock()

	// Stop what was replaced or removed.
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for key, p := range oldPollers {
		if pollers[key] != p {
			p.stop(stopCtx)
		}
	}
	for name := range oldAccounts {
		if _, ok := accounts[name]; !ok {
			m.self.forgetAccount(name)
		}
	}
	for p, iv := range retimed {
		p.setInterval(iv)
	}
	for name := range accounts {
		m.replan(name)
	}
	for _, p := range fresh {
		p.start(m.ctx, m.opts.StartJitter)
	}
	return nil
}

// sameExceptInterval reports whether two option values of one collector
// differ at most in their Interval field: an interval change only
// retimes the poller (HELP does not carry the interval), any other change
// rebuilds its Source.
func sameExceptInterval(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Kind() == reflect.Pointer {
		va, vb = va.Elem(), vb.Elem()
	}
	if va.Kind() != reflect.Struct || va.Type() != vb.Type() {
		return reflect.DeepEqual(a, b)
	}
	ca, cb := reflect.New(va.Type()).Elem(), reflect.New(vb.Type()).Elem()
	ca.Set(va)
	cb.Set(vb)
	if f := ca.FieldByName("Interval"); f.IsValid() {
		f.SetZero()
		cb.FieldByName("Interval").SetZero()
	}
	return reflect.DeepEqual(ca.Interface(), cb.Interface())
}

// ErrStopped is Apply's error once Stop was called.
var ErrStopped = errors.New("collector manager stopped")

// Stop cancels every poller and waits for them, bounded by ctx. An Apply
// running meanwhile finishes first (its pollers are then stopped too);
// any later Apply fails with ErrStopped.
func (m *Manager) Stop(ctx context.Context) {
	m.mu.Lock()
	m.stopped = true
	m.mu.Unlock()
	m.cancel()
	applied := make(chan struct{})
	go func() {
		// Taking the lock waits for an Apply in progress; a later one sees
		// stopped and returns at once.
		m.applyMu.Lock()
		close(applied)
		m.applyMu.Unlock()
	}()
	select {
	case <-applied:
	case <-ctx.Done():
	}
	m.mu.RLock()
	ps := make([]*poller, 0, len(m.pollers))
	for _, p := range m.pollers {
		ps = append(ps, p)
	}
	m.mu.RUnlock()
	for _, p := range ps {
		p.stop(ctx)
	}
}

// Ready reports whether every poller finished its first poll (success or
// not). Once ready, the Manager stays ready across reloads.
func (m *Manager) Ready() bool {
	if m.ready.Load() {
		return true
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.cfg == nil {
		return false
	}
	for _, p := range m.pollers {
		select {
		case <-p.firstDone:
		default:
			return false
		}
	}
	m.ready.Store(true)
	return true
}

// Client returns the API client of a configured account.
func (m *Manager) Client(account string) (*eceapi.Client, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st, ok := m.accounts[account]
	if !ok {
		return nil, false
	}
	return st.client, true
}

// Discovery returns the deployments snapshot holder of a configured account.
func (m *Manager) Discovery(account string) (*Discovery, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	st, ok := m.accounts[account]
	if !ok {
		return nil, false
	}
	return st.discovery, true
}

// Resources returns the resources (kind, ref_id and id) of a discovered
// deployment of a configured account, and whether the deployment is known.
// It makes the Manager the admin endpoint's Backend.
func (m *Manager) Resources(account, deploymentID string) ([]eceapi.DeploymentResource, bool) {
	d, ok := m.Discovery(account)
	if !ok {
		return nil, false
	}
	dep, ok := d.Find(deploymentID)
	if !ok {
		return nil, false
	}
	out := make([]eceapi.DeploymentResource, 0, len(dep.Resources))
	for _, r := range dep.Resources {
		out = append(out, eceapi.DeploymentResource{Kind: r.Kind, RefID: r.RefID, ID: r.ID})
	}
	return out, true
}

// Accounts returns the configured account names, sorted.
func (m *Manager) Accounts() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.accounts))
	for n := range m.accounts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pollerCollector is the prometheus.Collector of the pollers' own
// metrics (success, duration, interval…): an ordinary, unchecked collector
// registered with Options.Registerer. The data is not in it: Gatherer
// serves the snapshots.
type pollerCollector struct{ m *Manager }

// Describe implements prometheus.Collector. It sends nothing: the set of
// series changes with the configuration.
func (pollerCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector. It only reads poller state.
func (c pollerCollector) Collect(ch chan<- prometheus.Metric) {
	var accounts []string
	cached := map[string]*[exposition.NumKinds][2]int{}
	for _, p := range c.m.pollerList() {
		st := p.state()
		c.m.self.collectPoller(ch, p, st)
		sizes := cached[p.account]
		if sizes == nil {
			sizes = new([exposition.NumKinds][2]int)
			cached[p.account] = sizes
			accounts = append(accounts, p.account)
		}
		if st.snap != nil {
			st.snap.addCachedBytes(sizes)
		}
	}
	for _, a := range accounts {
		c.m.self.collectCached(ch, a, *cached[a])
	}
	c.m.mu.RLock()
	budgets := make(map[string]*budgetState, len(c.m.accounts))
	for name, st := range c.m.accounts {
		budgets[name] = st.budget
	}
	c.m.mu.RUnlock()
	for name, b := range budgets {
		c.m.self.collectBudget(ch, name, b)
	}
}

// pollerList returns the pollers sorted by account and collector.
func (m *Manager) pollerList() []*poller {
	m.mu.RLock()
	ps := make([]*poller, 0, len(m.pollers))
	for _, p := range m.pollers {
		ps = append(ps, p)
	}
	m.mu.RUnlock()
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].account != ps[j].account {
			return ps[i].account < ps[j].account
		}
		return ps[i].collector < ps[j].collector
	})
	return ps
}

// Gatherer returns the data decoded: base's families (base should gather
// Options.Registerer, which holds the self-metrics) merged with the
// families of every exported snapshot, built at each call. /metrics serves
// the same merge from bytes encoded once per poll (Handler); this is the
// reference it is tested against, and what the formats that are not
// cached are encoded from.
func (m *Manager) Gatherer(base prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := base.Gather()
		lists := [][]*dto.MetricFamily{mfs}
		for _, p := range m.pollerList() {
			if st := p.state(); st.snap != nil {
				lists = append(lists, st.snap.Families())
			}
		}
		merged, merr := exposition.MergeFamilies(lists...)
		var errs prometheus.MultiError
		errs.Append(err)
		errs.Append(merr)
		return merged, errs.MaybeUnwrap()
	})
}

// Snapshots returns the last good snapshot of every poller, in account
// then collector order: what Handler serves.
func (m *Manager) Snapshots() []exposition.Snapshot {
	var out []exposition.Snapshot
	for _, p := range m.pollerList() {
		if st := p.state(); st.snap != nil {
			out = append(out, st.snap)
		}
	}
	return out
}

// Handler returns the /metrics handler of this manager: base's families
// (the self-metrics, gathered at every scrape) and the snapshots' cached
// bytes (see exposition.NewHandler). opts.Live, Snapshots, All and Wants
// are set here.
func (m *Manager) Handler(base prometheus.Gatherer, opts exposition.Options) (http.Handler, error) {
	opts.Live, opts.Snapshots, opts.All, opts.Wants = base, m.Snapshots, m.Gatherer(base), m.wants
	return exposition.NewHandler(opts)
}

// SnapshotStat describes the data a poller serves: its last good
// snapshot's series and how long sealing it took (poll build time).
type SnapshotStat struct {
	Account, Collector string
	Series             int
	Build              time.Duration
}

// SnapshotStats lists the last good snapshot of every poller, ordered by
// account and collector (for the bench harness and tests).
func (m *Manager) SnapshotStats() []SnapshotStat {
	var out []SnapshotStat
	for _, p := range m.pollerList() {
		if st := p.state(); st.snap != nil {
			out = append(out, SnapshotStat{Account: p.account, Collector: p.collector, Series: st.snap.Len(), Build: st.snap.built})
		}
	}
	return out
}

// newClient builds the API client of one account.
func (m *Manager) newClient(acc config.Account, h config.HTTP, rate *rateState) (*eceapi.Client, error) {
	opts := []eceapi.Option{
		eceapi.WithBaseURL(acc.URL),
		eceapi.WithUserAgent("ece_exporter/" + m.opts.Version),
		eceapi.WithTimeout(h.Timeout),
		eceapi.WithMaxRetries(h.MaxRetries),
		eceapi.WithMaxInFlight(h.MaxInFlight),
		eceapi.WithMaxBodyBytes(h.MaxBodyBytes),
		eceapi.WithObserver(m.self.observer(acc.Name, rate)),
	}
	if acc.Billing.API == config.BillingAPIV2 && acc.Billing.URL != "" {
		// The Cloud Billing API's host, with the same key.
		opts = append(opts, eceapi.WithBillingV2URL(acc.Billing.URL))
	}
	if h.MaxRequestsPerHour > 0 {
		opts = append(opts, eceapi.WithRequestBudget(h.MaxRequestsPerHour, time.Hour))
	}
	// Built once at load from the files config read; the client reads none.
	tlsConfig, err := acc.TLSConfig()
	if err != nil {
		return nil, err
	}
	opts = append(opts, eceapi.WithTLSConfig(tlsConfig))
	switch {
	case acc.Credentials.APIKey != "":
		opts = append(opts, eceapi.WithAPIKey(acc.Credentials.APIKey.Reveal()))
	case acc.Credentials.Username != "":
		opts = append(opts, eceapi.WithLogin(acc.Credentials.Username, acc.Credentials.Password.Reveal()))
	}
	opts = append(opts, m.opts.ClientOptions...)
	return eceapi.NewClient(opts...)
}

// rateState remembers the latest x-ratelimit-* headers of an account and
// slows its pollers down when the quota is nearly exhausted.
type rateState struct {
	mu sync.Mutex
	rl eceapi.RateLimit
	// budget counts the account's requests for the budget plan.
	budget *budgetState
}

func (r *rateState) update(rl eceapi.RateLimit) {
	if !rl.Present {
		return
	}
	r.mu.Lock()
	// An answer without a limit or interval header keeps the known ones.
	if rl.Limit == 0 {
		rl.Limit = r.rl.Limit
	}
	if rl.Interval == 0 {
		rl.Interval = r.rl.Interval
	}
	r.rl = rl
	r.mu.Unlock()
}

// pace returns an extra delay before the next poll: when less than 5% of
// the quota is left, wait a quota interval so the window can refill before
// a 429 happens.
func (r *rateState) pace() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	rl := r.rl
	if !rl.Present || rl.Limit <= 0 || rl.Interval <= 0 {
		return 0
	}
	if float64(rl.Remaining) < 0.05*float64(rl.Limit) {
		return rl.Interval
	}
	return 0
}
