package collector

import (
	"context"
	"fmt"
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
)

// Options configures a Manager.
type Options struct {
	Logger log.Logger
	// Registerer receives the exporter's own counters and histograms; the
	// Manager itself must also be registered (it is a prometheus.Collector).
	Registerer prometheus.Registerer
	// Enabled lists the enabled collectors (see EnabledFromFlags).
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

	applyMu  sync.Mutex // serialises Apply
	mu       sync.RWMutex
	accounts map[string]*accountState
	pollers  map[pollerKey]*poller
	ctx      context.Context
	cancel   context.CancelFunc
	ready    atomic.Bool
	// dataByGatherer: the data is served by Gatherer, not Collect.
	dataByGatherer atomic.Bool
	cfg            *config.Config
}

type pollerKey struct{ account, collector string }

type accountState struct {
	cfg       config.Account
	http      config.HTTP
	client    *eceapi.Client
	discovery *Discovery
	orgs      *orgSource
	rate      *rateState
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
	}
	for _, name := range opts.Enabled {
		if _, ok := registry[name]; !ok {
			return nil, fmt.Errorf("unknown collector %q", name)
		}
		m.enabled[name] = true
	}
	self, err := newSelfMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	m.self = self
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

	// Build everything that can fail first.
	accounts := make(map[string]*accountState, len(cfg.Accounts))
	for _, acc := range cfg.Accounts {
		old := m.accounts[acc.Name]
		if old != nil && old.cfg.Equal(acc) && old.http == cfg.HTTP {
			accounts[acc.Name] = old
			continue
		}
		st := &accountState{cfg: acc, http: cfg.HTTP, rate: &rateState{}}
		client, err := m.newClient(acc, cfg.HTTP, st.rate)
		if err != nil {
			return fmt.Errorf("account %q: %w", acc.Name, err)
		}
		st.client = client
		st.discovery = NewDiscovery()
		st.orgs = &orgSource{account: acc, client: client, now: m.opts.Now}
		accounts[acc.Name] = st
	}

	needDiscovery := false
	for name := range m.enabled {
		if registry[name].NeedsDiscovery {
			needDiscovery = true
		}
	}

	type plan struct {
		key    pollerKey
		reg    *Registration
		keep   *poller
		hidden bool
	}
	var plans []plan
	for _, acc := range cfg.Accounts {
		st := accounts[acc.Name]
		for _, name := range Names() {
			reg := registry[name]
			on := m.enabled[name]
			hidden := false
			if !on && name == deploymentsName && needDiscovery {
				on, hidden = true, true
			}
			if !on {
				continue
			}
			if reg.Supports != nil {
				if ok, why := reg.Supports(acc, explicitFlag[name]); !ok {
					if m.cfg == nil || m.accounts[acc.Name] == nil {
						level.Info(m.logger).Log("msg", "collector does not apply to this account; not polling", "account", acc.Name, "collector", name, "reason", why)
					}
					continue
				}
			}
			key := pollerKey{acc.Name, name}
			p := plan{key: key, reg: reg, hidden: hidden}
			if old := m.pollers[key]; old != nil && m.accounts[acc.Name] == st &&
				reflect.DeepEqual(reg.Settings(m.cfg.Collectors), reg.Settings(cfg.Collectors)) && old.hidden == hidden {
				p.keep = old
			}
			plans = append(plans, p)
		}
	}

	pollers := make(map[pollerKey]*poller, len(plans))
	var fresh []*poller
	for _, pl := range plans {
		if pl.keep != nil {
			pollers[pl.key] = pl.keep
			continue
		}
		st := accounts[pl.key.account]
		env := Env{
			Account: st.cfg, Client: st.client, Settings: cfg.Collectors,
			Logger:    log.With(m.logger, "account", pl.key.account, "collector", pl.reg.Name),
			Discovery: st.discovery, Sharder: m.opts.Sharder, Now: m.opts.Now,
			orgs: st.orgs,
		}
		src, err := pl.reg.New(env)
		if err != nil {
			return fmt.Errorf("account %q collector %q: %w", pl.key.account, pl.reg.Name, err)
		}
		account, coll := pl.key.account, pl.reg.Name
		p := newPoller(account, coll, src, pl.reg.Interval(cfg.Collectors), m.logger, func(reason string) {
			m.self.errors.WithLabelValues(account, coll, reason).Inc()
		})
		// Initialise the error counters so that rate() works from the start.
		for _, r := range allReasons {
			m.self.errors.WithLabelValues(account, coll, r)
		}
		p.hidden = pl.hidden
		p.pace = st.rate.pace
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
	for _, p := range fresh {
		p.start(m.ctx, m.opts.StartJitter)
	}
	return nil
}

// Stop cancels every poller and waits for them, bounded by ctx.
func (m *Manager) Stop(ctx context.Context) {
	m.cancel()
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

// Describe implements prometheus.Collector. It sends nothing: the set of
// series changes with the configuration, so the Manager is an unchecked
// collector.
func (m *Manager) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector. It only reads snapshots. Once
// Gatherer has been called, it sends the self-metrics only: the data
// reaches the scrape through the Gatherer.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	data := !m.dataByGatherer.Load()
	for _, p := range m.pollerList() {
		st := p.state()
		if data && st.snap != nil && !p.hidden {
			for _, metric := range st.snap.metrics {
				ch <- metric
			}
		}
		m.self.collectPoller(ch, p, st)
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

// Gatherer returns what /metrics should serve: base's families (base must
// hold the Manager, for the self-metrics) merged with the data of every
// snapshot. Snapshots are sorted and grouped into protobuf families when
// their poll succeeds, so a scrape merges a few lists of pointers instead
// of converting, hashing and sorting every series as a registry does; at
// 5,000 deployments that is most of the scrape (see make bench). After
// Gatherer is called, Collect no longer sends the data, so nothing is
// served twice.
func (m *Manager) Gatherer(base prometheus.Gatherer) prometheus.Gatherer {
	m.dataByGatherer.Store(true)
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := base.Gather()
		lists := [][]*dto.MetricFamily{mfs}
		for _, p := range m.pollerList() {
			if st := p.state(); st.snap != nil && !p.hidden {
				lists = append(lists, st.snap.families)
			}
		}
		merged, merr := mergeFamilies(lists...)
		var errs prometheus.MultiError
		errs.Append(err)
		errs.Append(merr)
		return merged, errs.MaybeUnwrap()
	})
}

// newClient builds the API client of one account.
func (m *Manager) newClient(acc config.Account, h config.HTTP, rate *rateState) (*eceapi.Client, error) {
	opts := []eceapi.Option{
		eceapi.WithBaseURL(acc.URL),
		eceapi.WithUserAgent(m.opts.Version),
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
	if acc.TLS != (config.TLS{}) {
		opts = append(opts, eceapi.WithTLS(eceapi.TLSOptions{
			CAFile: acc.TLS.CAFile, CertFile: acc.TLS.CertFile, KeyFile: acc.TLS.KeyFile,
			ServerName: acc.TLS.ServerName, InsecureSkipVerify: acc.TLS.InsecureSkipVerify,
		}))
	}
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
