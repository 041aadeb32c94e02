// Package config loads, validates and prints the ece_exporter configuration.
//
// Decoding is strict (unknown keys are errors), defaults are exported, and
// every validation error names the field path and the bad value, e.g.
// `accounts[1].url: "ftp://x": scheme must be http or https`. Secrets are read
// from their files or environment variables at every load, so a reload picks
// up a rotated key, and they never appear in errors or in Redacted output.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// Secret is a credential that prints and marshals as "<secret>".
type Secret = eceapi.Secret

// Platforms.
const (
	PlatformESS = "ess"
	PlatformECE = "ece"
)

// Config is the whole configuration.
type Config struct {
	Accounts   []Account  `yaml:"accounts"`
	Collectors Collectors `yaml:"collectors"`
	HTTP       HTTP       `yaml:"http"`
}

// Account is one Elastic Cloud or ECE API endpoint with its credentials.
type Account struct {
	Name            string           `yaml:"name"`
	Platform        string           `yaml:"platform"`
	URL             string           `yaml:"url"`
	APIKeyFile      string           `yaml:"api_key_file,omitempty"`
	APIKeyEnv       string           `yaml:"api_key_env,omitempty"`
	APIKey          Secret           `yaml:"api_key,omitempty"`
	Username        string           `yaml:"username,omitempty"`
	PasswordFile    string           `yaml:"password_file,omitempty"`
	TLS             TLS              `yaml:"tls,omitempty"`
	OrganizationIDs []string         `yaml:"organization_ids,omitempty"`
	Deployments     DeploymentFilter `yaml:"deployments,omitempty"`

	// Credentials are the effective secrets, resolved at load time.
	Credentials Credentials `yaml:"-"`
}

// Credentials are the resolved secrets of an account.
type Credentials struct {
	APIKey   Secret
	Username string
	Password Secret
}

// TLS configures the connection to the API.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// DeploymentFilter selects deployments by id or name with regular
// expressions, anchored at both ends like Prometheus relabelling.
type DeploymentFilter struct {
	Include []string `yaml:"include,omitempty"`
	Exclude []string `yaml:"exclude,omitempty"`

	include, exclude []*regexp.Regexp
}

// Match reports whether a deployment passes the filter: it matches an
// include expression (or there are none) and no exclude expression. An
// expression matches when it matches the id or the name.
func (f DeploymentFilter) Match(id, name string) bool {
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

// Collectors holds the per-collector settings.
type Collectors struct {
	Deployments    DeploymentsCollector    `yaml:"deployments"`
	Billing        BillingCollector        `yaml:"billing"`
	BillingCharts  BillingChartsCollector  `yaml:"billing_charts"`
	RemoteClusters RemoteClustersCollector `yaml:"remote_clusters"`
	APIKeys        APIKeysCollector        `yaml:"api_keys"`
	Upgrades       UpgradesCollector       `yaml:"upgrades"`
}

// DeploymentsCollector configures the deployments discovery.
type DeploymentsCollector struct {
	Interval time.Duration `yaml:"interval"`
}

// BillingCollector configures the billing collector.
type BillingCollector struct {
	Interval    time.Duration `yaml:"interval"`
	Items       bool          `yaml:"items"`
	Concurrency int           `yaml:"concurrency"`
}

// BillingChartsCollector configures the billing_charts collector.
type BillingChartsCollector struct {
	Interval      time.Duration `yaml:"interval"`
	Bucketing     string        `yaml:"bucketing"`
	PerDeployment bool          `yaml:"per_deployment"`
	Concurrency   int           `yaml:"concurrency"`
}

// RemoteClustersCollector configures the remote_clusters collector.
type RemoteClustersCollector struct {
	Interval    time.Duration `yaml:"interval"`
	Concurrency int           `yaml:"concurrency"`
}

// APIKeysCollector configures the api_keys collector.
type APIKeysCollector struct {
	Interval time.Duration `yaml:"interval"`
	// Scope is "own" (the caller's keys) or "all" (every user's, ECE only;
	// ESS accounts always list their own keys).
	Scope string `yaml:"scope"`
}

// UpgradesCollector configures the opt-in upgrades collector.
type UpgradesCollector struct {
	Interval    time.Duration `yaml:"interval"`
	Concurrency int           `yaml:"concurrency"`
}

// HTTP configures the API client.
type HTTP struct {
	Timeout      time.Duration `yaml:"timeout"`
	MaxInFlight  int           `yaml:"max_in_flight"`
	MaxRetries   int           `yaml:"max_retries"`
	MaxBodyBytes int64         `yaml:"max_body_bytes"`
	// MaxRequestsPerHour is the per-account request budget; 0 = none.
	MaxRequestsPerHour int `yaml:"max_requests_per_hour"`
}

// Defaults.
var (
	DefaultCollectors = Collectors{
		Deployments:    DeploymentsCollector{Interval: 5 * time.Minute},
		Billing:        BillingCollector{Interval: time.Hour, Items: true, Concurrency: 4},
		BillingCharts:  BillingChartsCollector{Interval: 6 * time.Hour, Bucketing: "daily", Concurrency: 4},
		RemoteClusters: RemoteClustersCollector{Interval: time.Minute, Concurrency: 8},
		APIKeys:        APIKeysCollector{Interval: 15 * time.Minute, Scope: "own"},
		Upgrades:       UpgradesCollector{Interval: 24 * time.Hour, Concurrency: 2},
	}
	DefaultHTTP = HTTP{Timeout: 30 * time.Second, MaxInFlight: 8, MaxRetries: 3, MaxBodyBytes: 64 << 20}
	// DefaultConfig has no accounts; at least one is required.
	DefaultConfig = Config{Collectors: DefaultCollectors, HTTP: DefaultHTTP}
	// MinIntervals are the shortest accepted poll intervals.
	MinIntervals = map[string]time.Duration{
		"deployments": 30 * time.Second, "billing": 5 * time.Minute, "billing_charts": 15 * time.Minute,
		"remote_clusters": 15 * time.Second, "api_keys": time.Minute, "upgrades": time.Hour,
	}
)

var accountNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// ParseOption adjusts Parse.
type ParseOption func(*parser)

type parser struct {
	baseDir   string
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
}

// WithBaseDir resolves relative file paths against dir.
func WithBaseDir(dir string) ParseOption { return func(p *parser) { p.baseDir = dir } }

// WithLookupEnv replaces os.LookupEnv.
func WithLookupEnv(f func(string) (string, bool)) ParseOption {
	return func(p *parser) { p.lookupEnv = f }
}

// WithReadFile replaces os.ReadFile for secret files.
func WithReadFile(f func(string) ([]byte, error)) ParseOption {
	return func(p *parser) { p.readFile = f }
}

// Load reads and parses a configuration file; relative paths in it are
// resolved against its directory.
func Load(filename string) (*Config, error) {
	b, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(b, WithBaseDir(filepath.Dir(filename)))
}

// Parse decodes, defaults, validates and resolves the secrets of a
// configuration.
func Parse(data []byte, opts ...ParseOption) (*Config, error) {
	p := &parser{lookupEnv: os.LookupEnv, readFile: os.ReadFile}
	for _, o := range opts {
		o(p)
	}
	cfg := DefaultConfig
	cfg.Collectors = DefaultCollectors
	cfg.HTTP = DefaultHTTP
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("yaml: %w", cleanYAMLError(err))
	}
	if err := p.validate(&cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// cleanYAMLError keeps yaml's message but never the document content.
func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return errors.New(msg)
}

func (p *parser) path(f string) string {
	if f == "" || filepath.IsAbs(f) || p.baseDir == "" {
		return f
	}
	return filepath.Join(p.baseDir, f)
}

func (p *parser) validate(c *Config) error {
	if len(c.Accounts) == 0 {
		return errors.New("accounts: at least one account is required")
	}
	names := map[string]int{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		at := fmt.Sprintf("accounts[%d]", i)
		if !accountNameRE.MatchString(a.Name) {
			return fmt.Errorf("%s.name: %q: must match %s", at, a.Name, accountNameRE)
		}
		if j, dup := names[a.Name]; dup {
			return fmt.Errorf("%s.name: %q: duplicate account name (also accounts[%d])", at, a.Name, j)
		}
		names[a.Name] = i
		if a.Platform == "" {
			a.Platform = PlatformESS
		}
		if a.Platform != PlatformESS && a.Platform != PlatformECE {
			return fmt.Errorf("%s.platform: %q: must be ess or ece", at, a.Platform)
		}
		if a.URL == "" {
			if a.Platform == PlatformECE {
				return fmt.Errorf("%s.url: required for ece accounts (https://<coordinator>:12443)", at)
			}
			a.URL = eceapi.DefaultESSURL
		}
		if err := validateURL(a.URL); err != nil {
			return fmt.Errorf("%s.url: %q: %s", at, a.URL, err)
		}
		if err := p.resolveCredentials(a, at); err != nil {
			return err
		}
		for _, f := range []struct{ key, val string }{{"ca_file", a.TLS.CAFile}, {"cert_file", a.TLS.CertFile}, {"key_file", a.TLS.KeyFile}} {
			if f.val == "" {
				continue
			}
			if _, err := os.Stat(p.path(f.val)); err != nil {
				return fmt.Errorf("%s.tls.%s: %q: %v", at, f.key, f.val, unwrapPathError(err))
			}
		}
		a.TLS.CAFile, a.TLS.CertFile, a.TLS.KeyFile = p.path(a.TLS.CAFile), p.path(a.TLS.CertFile), p.path(a.TLS.KeyFile)
		if (a.TLS.CertFile == "") != (a.TLS.KeyFile == "") {
			return fmt.Errorf("%s.tls: cert_file and key_file must be set together", at)
		}
		for j, id := range a.OrganizationIDs {
			if strings.TrimSpace(id) == "" || strings.ContainsAny(id, "/?#%") {
				return fmt.Errorf("%s.organization_ids[%d]: %q: not a valid organization id", at, j, id)
			}
		}
		var err error
		if a.Deployments.include, err = compileAll(a.Deployments.Include, at+".deployments.include"); err != nil {
			return err
		}
		if a.Deployments.exclude, err = compileAll(a.Deployments.Exclude, at+".deployments.exclude"); err != nil {
			return err
		}
	}
	return c.validateCollectors()
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %s: %w", pe.Op, pe.Path, pe.Err)
	}
	return err
}

func validateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("scheme must be http or https")
	case u.Host == "":
		return errors.New("host is missing")
	case u.User != nil:
		return errors.New("credentials in the URL are not allowed; use api_key_file")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("query and fragment are not allowed")
	}
	return nil
}

func compileAll(exprs []string, at string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for i, e := range exprs {
		re, err := regexp.Compile("^(?:" + e + ")$")
		if err != nil {
			if _, err2 := regexp.Compile(e); err2 != nil {
				err = err2
			}
			return nil, fmt.Errorf("%s[%d]: %q: %v", at, i, e, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// resolveCredentials checks that exactly one credential source is set and
// reads it. Errors never contain the secret.
func (p *parser) resolveCredentials(a *Account, at string) error {
	var set []string
	if a.APIKeyFile != "" {
		set = append(set, "api_key_file")
	}
	if a.APIKeyEnv != "" {
		set = append(set, "api_key_env")
	}
	if a.APIKey != "" {
		set = append(set, "api_key")
	}
	if a.Username != "" || a.PasswordFile != "" {
		if a.Platform != PlatformECE {
			return fmt.Errorf("%s.username: username and password_file are only supported on ece accounts", at)
		}
		if a.Username == "" || a.PasswordFile == "" {
			return fmt.Errorf("%s: username and password_file must be set together", at)
		}
		set = append(set, "username")
	}
	switch {
	case len(set) == 0:
		return fmt.Errorf("%s: no credentials: set one of api_key_file, api_key_env, api_key, or username with password_file (ece only)", at)
	case len(set) > 1:
		return fmt.Errorf("%s: %s and %s are mutually exclusive", at, set[0], set[1])
	}
	a.Credentials = Credentials{}
	switch set[0] {
	case "api_key_file":
		v, err := p.readSecret(a.APIKeyFile)
		if err != nil {
			return fmt.Errorf("%s.api_key_file: %q: %v", at, a.APIKeyFile, err)
		}
		a.Credentials.APIKey = v
	case "api_key_env":
		v, ok := p.lookupEnv(a.APIKeyEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return fmt.Errorf("%s.api_key_env: %q: environment variable is not set or empty", at, a.APIKeyEnv)
		}
		a.Credentials.APIKey = Secret(strings.TrimSpace(v))
	case "api_key":
		a.Credentials.APIKey = Secret(strings.TrimSpace(string(a.APIKey)))
	case "username":
		v, err := p.readSecret(a.PasswordFile)
		if err != nil {
			return fmt.Errorf("%s.password_file: %q: %v", at, a.PasswordFile, err)
		}
		a.Credentials.Username, a.Credentials.Password = a.Username, v
	}
	return nil
}

func (p *parser) readSecret(file string) (Secret, error) {
	b, err := p.readFile(p.path(file))
	if err != nil {
		return "", unwrapPathError(err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", errors.New("file is empty")
	}
	return Secret(v), nil
}

func (c *Config) validateCollectors() error {
	iv := []struct {
		name string
		d    time.Duration
	}{
		{"deployments", c.Collectors.Deployments.Interval},
		{"billing", c.Collectors.Billing.Interval},
		{"billing_charts", c.Collectors.BillingCharts.Interval},
		{"remote_clusters", c.Collectors.RemoteClusters.Interval},
		{"api_keys", c.Collectors.APIKeys.Interval},
		{"upgrades", c.Collectors.Upgrades.Interval},
	}
	for _, x := range iv {
		if min := MinIntervals[x.name]; x.d < min {
			return fmt.Errorf("collectors.%s.interval: %q: must be at least %s", x.name, x.d, min)
		}
	}
	conc := []struct {
		name string
		n    int
	}{
		{"billing", c.Collectors.Billing.Concurrency},
		{"billing_charts", c.Collectors.BillingCharts.Concurrency},
		{"remote_clusters", c.Collectors.RemoteClusters.Concurrency},
		{"upgrades", c.Collectors.Upgrades.Concurrency},
	}
	for _, x := range conc {
		if x.n < 1 || x.n > 64 {
			return fmt.Errorf("collectors.%s.concurrency: %d: must be between 1 and 64", x.name, x.n)
		}
	}
	if b := c.Collectors.BillingCharts.Bucketing; b != "daily" && b != "monthly" {
		return fmt.Errorf("collectors.billing_charts.bucketing: %q: must be daily or monthly", b)
	}
	if s := c.Collectors.APIKeys.Scope; s != "own" && s != "all" {
		return fmt.Errorf("collectors.api_keys.scope: %q: must be own or all", s)
	}
	h := c.HTTP
	switch {
	case h.Timeout <= 0 || h.Timeout > 10*time.Minute:
		return fmt.Errorf("http.timeout: %q: must be between 0s and 10m", h.Timeout)
	case h.MaxInFlight < 1 || h.MaxInFlight > 256:
		return fmt.Errorf("http.max_in_flight: %d: must be between 1 and 256", h.MaxInFlight)
	case h.MaxRetries < 0 || h.MaxRetries > 10:
		return fmt.Errorf("http.max_retries: %d: must be between 0 and 10", h.MaxRetries)
	case h.MaxBodyBytes < 1024:
		return fmt.Errorf("http.max_body_bytes: %d: must be at least 1024", h.MaxBodyBytes)
	case h.MaxRequestsPerHour < 0:
		return fmt.Errorf("http.max_requests_per_hour: %d: must not be negative (0 = no budget)", h.MaxRequestsPerHour)
	}
	return nil
}

// Account returns the account named name.
func (c *Config) Account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// Equal reports whether two accounts poll the same way, resolved secrets
// included (a rotated key counts as a change).
func (a Account) Equal(b Account) bool {
	return a.Name == b.Name && a.Platform == b.Platform && a.URL == b.URL &&
		a.APIKeyFile == b.APIKeyFile && a.APIKeyEnv == b.APIKeyEnv && a.APIKey == b.APIKey &&
		a.Username == b.Username && a.PasswordFile == b.PasswordFile && a.TLS == b.TLS &&
		equalStrings(a.OrganizationIDs, b.OrganizationIDs) &&
		equalStrings(a.Deployments.Include, b.Deployments.Include) &&
		equalStrings(a.Deployments.Exclude, b.Deployments.Exclude) &&
		a.Credentials == b.Credentials
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Redacted returns the effective configuration as YAML with every secret
// shown as <secret>.
func (c *Config) Redacted() ([]byte, error) {
	type redactedDurations struct {
		Accounts   []Account `yaml:"accounts"`
		Collectors any       `yaml:"collectors"`
		HTTP       any       `yaml:"http"`
	}
	out := redactedDurations{Accounts: c.Accounts, Collectors: durationsAsStrings(c.Collectors), HTTP: durationsAsStrings(c.HTTP)}
	return yaml.Marshal(out)
}

// durationsAsStrings marshals v through YAML with durations printed as
// Go duration strings rather than nanosecond integers.
func durationsAsStrings(v any) any {
	b, err := yaml.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil {
		return v
	}
	fix(m)
	return m
}

func fix(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			fix(x)
		case int:
			if k == "interval" || k == "timeout" {
				m[k] = time.Duration(x).String()
			}
		}
	}
}
