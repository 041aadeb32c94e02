// Package config loads, validates and prints the ece_exporter configuration.
//
// Parse and Load are the entry points. Decoding is strict (an unknown key is
// an error), every omitted setting takes its exported default, and every
// validation error names the field path and the offending value:
//
//	accounts[1].url: "ftp://x": scheme must be http or https
//	collectors.billing.interval: "1m": must be at least 5m0s
//
// Checks that need nothing but the document run in the UnmarshalYAML methods;
// checks that touch the environment (secret files, environment variables,
// TLS files) run in Parse afterwards. Secrets are read at every load, so a
// reload picks up a rotated key, and they never appear in an error, in
// Redacted output or in fmt output of a Config (see Secret).
//
// SafeConfig holds the running configuration and reloads it safely, with
// the reload metrics beside it.
//
// Every file is read with internal/safefile (regular files only, bounded in
// size and time). Of this module the package imports that one,
// internal/secret (Secret) and eceapi (the client defaults it shares); of
// Prometheus only client_golang, for SafeConfig's gauges.
package config

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// Platforms an account can be on.
const (
	// PlatformESS is the Elastic Cloud service (the default).
	PlatformESS = "ess"
	// PlatformECE is an Elastic Cloud Enterprise installation.
	PlatformECE = "ece"
)

// DefaultESSURL is the API endpoint of ESS accounts that set no url: the
// client's default.
const DefaultESSURL = eceapi.DefaultESSURL

// Config is the whole configuration.
type Config struct {
	Accounts   []Account  `yaml:"accounts"`
	Collectors Collectors `yaml:"collectors"`
	HTTP       HTTP       `yaml:"http"`
}

// Account is one Elastic Cloud or ECE API endpoint with its credentials.
// Each account is polled independently; its Name is the `account` label.
type Account struct {
	Name     string `yaml:"name"`
	Platform string `yaml:"platform"`
	URL      string `yaml:"url"`

	// Exactly one credential source is set: APIKeyFile, APIKeyEnv, APIKey,
	// or (ECE only) Username with PasswordFile. After Parse, relative file
	// paths are resolved against the configuration file's directory.
	APIKeyFile   string `yaml:"api_key_file,omitempty"`
	APIKeyEnv    string `yaml:"api_key_env,omitempty"`
	APIKey       Secret `yaml:"api_key,omitempty"`
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`

	TLS             TLS              `yaml:"tls,omitempty"`
	OrganizationIDs []string         `yaml:"organization_ids,omitempty"`
	Deployments     DeploymentFilter `yaml:"deployments,omitempty"`

	// Billing chooses the billing API the billing collector reads (ESS).
	Billing Billing `yaml:"billing,omitempty"`
	// Budgets are the monthly budgets exported beside the costs.
	Budgets []Budget `yaml:"budgets,omitempty"`

	// Credentials are the effective secret values, resolved by Parse from
	// the credential source above.
	Credentials Credentials `yaml:"-"`

	// invalid marks an account the document check found errors in; Parse
	// does not read its files.
	invalid bool

	// tlsDigest fingerprints the TLS files read at load time so that Equal
	// notices a rotated certificate. A pointer, so fmt prints an address
	// rather than the digest of a private key.
	tlsDigest *[sha256.Size]byte
	// tlsConfig is the client TLS configuration built from TLS and the
	// files' contents at load time (nil without TLS settings). A pointer:
	// fmt prints an address, not the private key it holds.
	tlsConfig *tls.Config
}

// errTLSNotLoaded: an account built by hand names TLS files, which only
// Parse reads.
var errTLSNotLoaded = errors.New("tls: the TLS files were not read (the account did not come from Parse or Load)")

// TLSConfig returns the client TLS configuration of the account, built
// once at load from its tls settings and the contents of its TLS files;
// nil when the account has no tls settings. An account built by hand
// without TLS files gets one built from server_name and
// insecure_skip_verify; one naming TLS files must come from Parse.
func (a Account) TLSConfig() (*tls.Config, error) {
	switch {
	case a.tlsConfig != nil:
		return a.tlsConfig, nil
	case a.TLS == (TLS{}):
		return nil, nil
	case a.TLS.CAFile != "" || a.TLS.CertFile != "" || a.TLS.KeyFile != "":
		return nil, errTLSNotLoaded
	}
	return eceapi.NewTLSConfig(eceapi.TLSSettings{ServerName: a.TLS.ServerName, InsecureSkipVerify: a.TLS.InsecureSkipVerify})
}

// Billing APIs an account's billing collector can read.
const (
	// BillingAPIV1 is the Cloud API's /billing/costs operations (the default).
	BillingAPIV1 = "v1"
	// BillingAPIV2 is the Cloud Billing API (v2) on its own host, for the
	// per-instance costs and items, with v1 still used for the overview.
	BillingAPIV2 = "v2"
)

// DefaultBillingV2URL is the host of the Cloud Billing API (v2) for
// accounts with billing.api v2 that set no billing.url (billing-v2.yaml's
// server; Elastic's newer docs also name https://cloud.elastic.co).
const DefaultBillingV2URL = "https://billing.elastic-cloud.com"

// Billing is an account's billing source.
type Billing struct {
	// API is BillingAPIV1 (default) or BillingAPIV2 (ESS only).
	API string `yaml:"api,omitempty"`
	// URL is the billing v2 host; only with API v2, default
	// DefaultBillingV2URL.
	URL string `yaml:"url,omitempty"`
}

// Budget is a monthly budget in ECU, for an organization or for the
// deployments carrying one tag value. The exporter exports it as a series
// (ece_billing_budget_ecu); comparing it with the spend is left to
// recording rules.
type Budget struct {
	// Name is the `budget` label: [a-z0-9_-]+, unique in the account.
	Name string `yaml:"name"`
	// OrganizationID restricts the budget to one organization; empty means
	// each organization the account bills.
	OrganizationID string `yaml:"organization_id,omitempty"`
	// Tag, when set, is exactly one deployment tag key and value: the
	// budget covers the deployments tagged so.
	Tag map[string]string `yaml:"tag,omitempty"`
	// MonthlyECU is the budget of one calendar month (UTC), > 0.
	MonthlyECU float64 `yaml:"monthly_ecu"`
}

// TagKey and TagValue return the budget's tag, or "" for an organization
// budget.
func (b Budget) TagKey() string {
	for k := range b.Tag {
		return k
	}
	return ""
}

// TagValue returns the value of the budget's tag, or "".
func (b Budget) TagValue() string { return b.Tag[b.TagKey()] }

func (b Budget) equal(o Budget) bool {
	return b.Name == o.Name && b.OrganizationID == o.OrganizationID && b.MonthlyECU == o.MonthlyECU && maps.Equal(b.Tag, o.Tag)
}

// Credentials are the resolved credentials of an account: an API key, or
// an ECE username and password.
type Credentials struct {
	APIKey   Secret
	Username string
	Password Secret
}

// TLS configures the connection to the API. File paths are resolved like
// the secret files; the files must be readable at load time.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// DeploymentFilter selects deployments with Go regular expressions matched
// against the deployment id or name. Expressions are anchored at both ends,
// like Prometheus relabelling: "prod" matches only "prod", "prod-.*" matches
// "prod-eu". An empty Include selects every deployment; Exclude wins over
// Include.
type DeploymentFilter struct {
	Include []string `yaml:"include,omitempty"`
	Exclude []string `yaml:"exclude,omitempty"`

	include, exclude []*regexp.Regexp
}

// Compile compiles Include and Exclude. Parse calls it; a filter built by
// hand that is not compiled is compiled at each Match. The error is the
// first bad expression's.
func (f *DeploymentFilter) Compile() error {
	if errs := f.compileAll(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// compileAll compiles Include and Exclude and returns an error for every
// bad expression.
func (f *DeploymentFilter) compileAll() []error {
	var inc, exc []error
	f.include, inc = compileAnchored("include", f.Include)
	f.exclude, exc = compileAnchored("exclude", f.Exclude)
	return append(inc, exc...)
}

// compileAnchored compiles each expression as ^(?:expr)$. The expression is
// first compiled alone, so that the error describes what the user wrote and
// something like ")(" is not accepted just because wrapping balances it.
// With an error, fewer expressions than exprs come back.
func compileAnchored(key string, exprs []string) ([]*regexp.Regexp, []error) {
	if len(exprs) == 0 {
		return nil, nil
	}
	out := make([]*regexp.Regexp, 0, len(exprs))
	var errs []error
	for i, e := range exprs {
		if _, err := regexp.Compile(e); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %q: %v", key, i, e, err))
			continue
		}
		re, err := regexp.Compile("^(?:" + e + ")$")
		if err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %q: %v", key, i, e, err))
			continue
		}
		out = append(out, re)
	}
	return out, errs
}

// Match reports whether a deployment passes the filter: it matches an
// include expression (or there are none) and no exclude expression. An
// expression matches a deployment when it fully matches its id or its name.
func (f DeploymentFilter) Match(id, name string) bool {
	if len(f.include) != len(f.Include) || len(f.exclude) != len(f.Exclude) {
		// Built by hand and never compiled. An invalid expression then
		// matches nothing.
		f.include, _ = compileAnchored("include", f.Include)
		f.exclude, _ = compileAnchored("exclude", f.Exclude)
		if len(f.include) != len(f.Include) {
			return false
		}
	}
	hit := func(res []*regexp.Regexp) bool {
		for _, re := range res {
			if re.MatchString(id) || re.MatchString(name) {
				return true
			}
		}
		return false
	}
	if len(f.include) > 0 && !hit(f.include) {
		return false
	}
	return !hit(f.exclude)
}

// HTTP configures the API client of every account.
type HTTP struct {
	// Timeout bounds one request attempt.
	Timeout time.Duration `yaml:"timeout"`
	// MaxInFlight bounds the concurrent requests of one account.
	MaxInFlight int `yaml:"max_in_flight"`
	// MaxRetries is how often a failed idempotent request is retried.
	MaxRetries int `yaml:"max_retries"`
	// MaxBodyBytes is the largest response body accepted.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxRequestsPerHour is the per-account request budget; 0 means none.
	MaxRequestsPerHour int `yaml:"max_requests_per_hour"`
}

// Defaults. Parse starts from copies of these, so changing them changes the
// defaults of every later Parse.
var (
	// DefaultHTTP are the HTTP client settings used for every key the
	// configuration leaves out.
	DefaultHTTP = HTTP{Timeout: eceapi.DefaultTimeout, MaxInFlight: eceapi.DefaultMaxInFlight, MaxRetries: eceapi.DefaultMaxRetries, MaxBodyBytes: eceapi.DefaultMaxBodyBytes}
	// DefaultConfig is the configuration with every default and no
	// accounts; a valid configuration has at least one.
	// Its Collectors is nil: every collector has its defaults.
	DefaultConfig = Config{HTTP: DefaultHTTP}
)

// Limits of the numeric settings.
const (
	MinConcurrency   = 1
	MaxConcurrency   = 64
	MaxHTTPTimeout   = 10 * time.Minute
	MinMaxInFlight   = 1
	MaxMaxInFlight   = 256
	MaxMaxRetries    = 10
	MinMaxBodyBytes  = 1 << 10
	accountNameRegex = `^[a-z0-9_-]+$`
)

var accountNameRE = regexp.MustCompile(accountNameRegex)

// Account returns the account named name.
func (c *Config) Account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// Equal reports whether a and b poll the same way: same name, platform,
// URL, TLS settings and TLS file contents, organizations, deployment
// filters, billing source, budgets and resolved credentials. Where a credential comes from does not
// matter, its value does: a rotated key (same file, new content) makes the
// accounts differ, so a reload restarts that account's pollers, while
// moving the same key to another file does not. Collector and HTTP
// settings are global and not part of an account.
func (a Account) Equal(b Account) bool {
	return a.Name == b.Name &&
		a.Platform == b.Platform &&
		a.URL == b.URL &&
		a.TLS == b.TLS &&
		equalDigest(a.tlsDigest, b.tlsDigest) &&
		slices.Equal(a.OrganizationIDs, b.OrganizationIDs) &&
		slices.Equal(a.Deployments.Include, b.Deployments.Include) &&
		slices.Equal(a.Deployments.Exclude, b.Deployments.Exclude) &&
		a.Billing == b.Billing &&
		slices.EqualFunc(a.Budgets, b.Budgets, Budget.equal) &&
		a.Credentials == b.Credentials
}

func equalDigest(a, b *[sha256.Size]byte) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
