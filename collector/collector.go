// Package collector turns Elastic Cloud / ECE API data into Prometheus
// metrics.
//
// Every collector is a Source that polls the API for one account in the
// background, on its own interval, and returns an immutable Snapshot of
// ready-made series. The scrape path only reads the latest snapshots under
// a read lock and never calls the API; a failed poll keeps the previous
// snapshot, marked stale by the self-metrics.
//
// Snapshots are served one way: Manager.Gatherer merges the families of
// the registry holding the self-metrics (an ordinary collector, registered
// by NewManager) with the snapshots' families, which seal sorted and built
// once per poll. A registry converts, hashes and sorts every series on
// every scrape, which at 5,000 deployments (a quarter of a million series)
// costs more than the scrape budget by itself; this departs from "const
// metrics built in Collect" on purpose, and
// TestGathererServesWhatTheRegistryServes proves the Gatherer exposes the
// bytes a registry would. Tests read data through the same Gatherer.
//
// HELP is fixed text; the poll interval is the self-metric
// ece_exporter_collector_interval_seconds (the configured one; the one it
// runs at, which the API budget plan may stretch, is
// ece_exporter_collector_effective_interval_seconds), so an interval
// change on reload only retimes the poller.
//
// A collector is one file: its init calls registerCollector with its name,
// whether it is on by default, the platforms it applies to (Supports),
// whether it iterates the deployments discovery, its options type (a
// struct value implementing config.CollectorOptions, with its defaults and
// minimum interval: config decodes collectors.<name> into it) and its
// factory, which reads its options with optionsOf and creates its
// descriptors through env.descSet (so that the registry can list them).
// Registering gives it --collector.<name> / --no-collector.<name>, its
// configuration key and its rows in the README checks. Shared helpers,
// among them the per-item fan-out, are in helpers.go.
package collector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// namespace prefixes every metric.
const namespace = "ece"

// Source polls the API for one account and returns what it found.
type Source interface {
	// Poll fetches fresh data. It must honour ctx and must not keep
	// references to the snapshot after returning it.
	Poll(ctx context.Context) (*Snapshot, error)
}

// Env is what a collector factory gets to build its Source.
type Env struct {
	Account config.Account
	Client  *eceapi.Client
	// Options are the collector's own options, of the type its
	// Registration's Defaults has (read them with optionsOf); nil means
	// the defaults.
	Options   config.CollectorOptions
	Logger    log.Logger
	Discovery *Discovery
	Sharder   Sharder
	Now       func() time.Time
	// orgs is shared by the collectors of one account.
	orgs *orgSource
	// descs, when set, receives the descriptors the factory creates.
	descs *descSet
}

// Factory builds a Source for one account.
type Factory func(Env) (Source, error)

// Registration describes a collector: everything about it is declared in
// its own file, which registers it from init.
type Registration struct {
	Name           string
	DefaultEnabled bool
	// NeedsDiscovery: the collector iterates the deployments snapshot.
	NeedsDiscovery bool
	// Defaults are the collector's options when the configuration sets
	// none: a struct value implementing config.CollectorOptions, whose
	// type is the type of collectors.<Name> in the configuration. A reload
	// that changes them restarts the collector's pollers; one that only
	// changes the interval retimes them.
	Defaults config.CollectorOptions
	// MinInterval is the shortest interval the configuration accepts.
	MinInterval time.Duration
	// Supports reports whether the collector applies to the account; when it
	// returns false, no poller is started for that account (the reason is
	// logged once). Flags do not override it.
	Supports func(acc config.Account) (bool, string)
	New      Factory
}

// registry holds every collector, filled by the collector files' init
// functions and read-only afterwards.
var registry = map[string]*Registration{}

// registerCollector is called from each collector file's init. It also
// registers the collector's options with config, which decodes
// collectors.<name> into them.
func registerCollector(r Registration) {
	if _, dup := registry[r.Name]; dup {
		panic("collector registered twice: " + r.Name)
	}
	registry[r.Name] = &r
	config.RegisterCollector(r.Name, r.MinInterval, func() config.CollectorOptions { return r.Defaults })
}

// optionsOf returns the options of env, or the defaults of collector name
// when env has none (tests build Sources directly). Manager.Apply checks
// that configured options have the registered type.
func optionsOf[O config.CollectorOptions](env Env, name string) O {
	if o, ok := env.Options.(O); ok {
		return o
	}
	return registry[name].Defaults.(O)
}

// IntervalOptions are the options of a collector that has nothing to set
// but its interval (deployments, the platform collectors).
type IntervalOptions struct {
	Interval config.Duration `yaml:"interval"`
}

// PollInterval implements config.CollectorOptions.
func (o IntervalOptions) PollInterval() config.Duration { return o.Interval }

// Validate implements config.CollectorOptions.
func (IntervalOptions) Validate() error { return nil }

// Names returns every registered collector, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Selection is the collector selection made on the command line. It is
// the value RegisterFlags returns; main passes Enabled to the Manager.
type Selection struct {
	on              map[string]*bool
	given           map[string]bool // set on the command line
	disableDefaults *bool
}

// RegisterFlags adds --collector.<name> (and its --no- form) for every
// collector and --collector.disable-defaults to app, and returns the
// selection they fill when app parses.
func RegisterFlags(app *kingpin.Application) *Selection {
	s := &Selection{on: map[string]*bool{}, given: map[string]bool{}}
	for _, name := range Names() {
		r := registry[name]
		def := "disabled"
		if r.DefaultEnabled {
			def = "enabled"
		}
		s.on[name] = app.Flag("collector."+name, fmt.Sprintf("Enable the %s collector (default: %s).", name, def)).
			Default(fmt.Sprint(r.DefaultEnabled)).Action(func(*kingpin.ParseContext) error {
			s.given[name] = true
			return nil
		}).Bool()
	}
	s.disableDefaults = app.Flag("collector.disable-defaults", "Set all collectors to disabled by default; enable them one by one with --collector.<name>.").Default("false").Bool()
	return s
}

// Enabled returns the collectors the parsed flags enable, sorted. With
// --collector.disable-defaults, only collectors enabled on the command
// line stay enabled.
func (s *Selection) Enabled() []string {
	var out []string
	for _, name := range Names() {
		on := *s.on[name]
		if *s.disableDefaults && !s.given[name] {
			on = false
		}
		if on {
			out = append(out, name)
		}
	}
	return out
}

// DefaultEnabled returns the collectors enabled without flags.
func DefaultEnabled() []string {
	var out []string
	for _, name := range Names() {
		if registry[name].DefaultEnabled {
			out = append(out, name)
		}
	}
	return out
}

// SelectionNotes explains what an enabled list does that its user may not
// expect: a collector that iterates the deployments discovery is not
// polled while the deployments collector is off (--no-collector.deployments
// means deployments are neither polled nor exported). NewManager logs
// these once; --config.check prints them.
func SelectionNotes(enabled []string) []string {
	on := map[string]bool{}
	for _, n := range enabled {
		on[n] = true
	}
	var notes []string
	for _, n := range enabled {
		if r := registry[n]; r != nil && r.NeedsDiscovery && !on[deploymentsName] {
			notes = append(notes, fmt.Sprintf("collector %s needs the deployments discovery, and the deployments collector is off: %s is not polled (enable --collector.deployments to poll it)", n, n))
		}
	}
	return notes
}

// runnable returns the enabled collectors that can run: those needing
// the deployments discovery only when deployments is enabled.
func runnable(enabled map[string]bool) map[string]bool {
	out := make(map[string]bool, len(enabled))
	for n := range enabled {
		if !registry[n].NeedsDiscovery || enabled[deploymentsName] {
			out[n] = true
		}
	}
	return out
}

// descSet creates the descriptors of one collector and remembers them, so
// that the registry can list every metric a collector can expose (README's
// metric table is checked against that list). HELP is fixed text: how often
// a collector polls is ece_exporter_collector_effective_interval_seconds.
type descSet struct {
	collector string
	descs     []*seriesDesc
}

// descSet returns the descriptor set a collector's factory creates its
// descriptors with: the registry's when it is listing them.
func (e Env) descSet(collector string) *descSet {
	if e.descs != nil {
		return e.descs
	}
	return &descSet{collector: collector}
}

func (f *descSet) desc(name, help string, labels ...string) *seriesDesc {
	help = help + " Cached; refreshed by collector " + f.collector + "."
	d := newSeriesDesc(namespace+"_"+name, help, append([]string{"account"}, labels...))
	f.descs = append(f.descs, d)
	return d
}

// Sharder decides which deployments this replica owns (see --shard).
type Sharder interface {
	// OwnsDeployment reports whether this replica handles the deployment.
	OwnsDeployment(id string) bool
	// OwnsOrganization reports whether this replica handles
	// organization-level data (billing overview, API keys): shard 0 only.
	OwnsOrganization() bool
}

// NoSharding owns everything.
type NoSharding struct{}

// OwnsDeployment implements Sharder.
func (NoSharding) OwnsDeployment(string) bool { return true }

// OwnsOrganization implements Sharder.
func (NoSharding) OwnsOrganization() bool { return true }

// Error reasons, the bounded values of the reason label: the client's
// (eceapi.ErrorReason, the one classifier) and two of the collectors' own.
const (
	ReasonTimeout     = eceapi.ReasonTimeout
	ReasonRateLimited = eceapi.ReasonRateLimited
	ReasonAuth        = eceapi.ReasonAuth
	ReasonNotFound    = eceapi.ReasonNotFound
	ReasonServer      = eceapi.ReasonServer
	ReasonDecode      = eceapi.ReasonDecode
	ReasonRedirect    = eceapi.ReasonRedirect
	ReasonTLS         = eceapi.ReasonTLS
	ReasonNetwork     = eceapi.ReasonNetwork
	ReasonConfig      = eceapi.ReasonConfig
	ReasonInternal    = eceapi.ReasonInternal
	// ReasonDependency: the deployments discovery this collector needs has
	// not succeeded yet.
	ReasonDependency = "dependency"
	// ReasonPanic: the collector panicked (a bug; the daemon goes on).
	ReasonPanic = "panic"
)

var allReasons = []string{ReasonTimeout, ReasonRateLimited, ReasonAuth, ReasonNotFound, ReasonServer, ReasonDecode,
	ReasonRedirect, ReasonTLS, ReasonNetwork, ReasonConfig, ReasonDependency, ReasonPanic, ReasonInternal}

// errNoDiscovery: the deployments snapshot needed by a collector is missing.
var errNoDiscovery = errors.New("no deployments snapshot yet: the deployments discovery has not succeeded")

// errUnsupported marks a configuration problem (billing on ECE, say).
type errUnsupported struct{ msg string }

func (e errUnsupported) Error() string { return e.msg }

// Reason classifies an error into one of the bounded reasons: a panic,
// a configuration the collector cannot serve, a missing discovery, and
// otherwise eceapi.ErrorReason.
func Reason(err error) string {
	var pe *panicError
	var un errUnsupported
	switch {
	case errors.As(err, &pe):
		return ReasonPanic
	case errors.Is(err, eceapi.ErrRequestBudget):
		return ReasonRateLimited
	case errors.As(err, &un):
		return ReasonConfig
	case errors.Is(err, errNoDiscovery):
		return ReasonDependency
	default:
		return eceapi.ErrorReason(err)
	}
}

// panicError is a panic of a collector's poll, recovered.
type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("collector panicked: %v", e.value) }

// errorCode returns the API error code of err, for log lines.
func errorCode(err error) string {
	var apiErr *eceapi.APIError
	if errors.As(err, &apiErr) {
		if c := apiErr.Code(); c != "" {
			return c
		}
		return fmt.Sprint(apiErr.StatusCode)
	}
	return ""
}

// errorOperation returns the API operation of err, for log lines.
func errorOperation(err error) string {
	var apiErr *eceapi.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Operation
	}
	var de *eceapi.DecodeError
	if errors.As(err, &de) {
		return de.Operation
	}
	return ""
}

// Roles, as Elastic names them, that allow the calls of each collector.
const (
	roleBilling        = `an organization role with the billing-costs:get permission: on ESS "Billing admin" or "Organization owner"`
	roleDeploymentRead = `read access to the deployments: on ESS "Viewer" (or "Editor", "Admin") on the deployments to watch; on ECE "Deployment viewer", "Platform viewer" or higher`
	roleUpgradeDryRun  = `write access to the deployments (even for a dry run with validate_only=true): on ESS "Editor" or "Admin"; on ECE "Deployment manager" or "Platform admin"`
	roleAllKeys        = `on ECE "Platform admin" (listing every user's keys); or set collectors.api_keys.scope: own`
	roleOwnKeys        = `an API key or user that may list its own API keys`
	roleAccount        = `any organization member (GET /account); or configure accounts[].organization_ids`
)

// requiredRole returns what Elastic calls the role that allows an operation.
func requiredRole(operation string) string {
	switch {
	case strings.HasPrefix(operation, "get-costs-"):
		return roleBilling
	case operation == "list-deployments", strings.HasPrefix(operation, "get-deployment"):
		return roleDeploymentRead
	case strings.HasPrefix(operation, "upgrade-deployment"):
		return roleUpgradeDryRun
	case operation == "get-users-api-keys", operation == "get-user-api-keys":
		return roleAllKeys
	case operation == "get-api-keys":
		return roleOwnKeys
	case operation == "get-current-account", operation == "list-organizations":
		return roleAccount
	default:
		return "a role that allows this call"
	}
}

// refusedCall describes a 403: which call was refused and the role it
// needs. ok is false for any other error.
func refusedCall(err error) (call, needs string, ok bool) {
	var apiErr *eceapi.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 {
		return "", "", false
	}
	return apiErr.Method + " " + apiErr.Path, requiredRole(apiErr.Operation), true
}
