package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file holds the UnmarshalYAML methods: defaults, then decoding, then
// the checks that need nothing but the document. The HTTP settings decode
// through a shadow struct whose durations keep the text as written, so
// that errors quote the user's "1m" rather than "1m0s", and which accepts
// Prometheus-style units (d, w, y) besides Go's. Collector options are
// decoded by Collectors (collectors.go).

// plainConfig has Config's fields but not its methods, so decoding into it
// does not recurse.
type plainConfig Config

// UnmarshalYAML fills the defaults, decodes, and checks every account. The
// checks that read files or the environment are left to Parse.
//
// Every semantic error of the document is reported, not only the first:
// they travel as one *yaml.TypeError (which yaml lets decoding go on past),
// the accounts' first, then the other sections' in document order. When
// yaml itself could not decode part of the document (a wrong type, an
// unknown key), the accounts are not checked: their fields may be missing
// only because of that error.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{Collectors: DefaultCollectors(), HTTP: DefaultHTTP}
	err := unmarshal((*plainConfig)(c))
	var te *yaml.TypeError
	if err != nil && !errors.As(err, &te) {
		return err
	}
	var others []string
	if te != nil {
		if structural(te) {
			return err
		}
		others = te.Errors
	}
	msgs := append(c.validateAccounts(), others...)
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

// structural reports whether yaml itself failed to decode part of the
// document: its messages begin "line N:", ours with a field path.
func structural(te *yaml.TypeError) bool {
	for _, m := range te.Errors {
		if strings.HasPrefix(m, "line ") {
			return true
		}
	}
	return false
}

// collect returns the non-nil errors of errs.
func collect(errs ...error) []error {
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// semanticErrors returns the messages of errs as a *yaml.TypeError, so
// that decoding goes on and every error is reported, or nil.
func semanticErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	te := &yaml.TypeError{}
	for _, err := range errs {
		te.Errors = append(te.Errors, err.Error())
	}
	return te
}

// validateAccounts checks every account and returns all the errors found.
// An account with an error is marked invalid, so that Parse does not read
// its files.
func (c *Config) validateAccounts() []string {
	if len(c.Accounts) == 0 {
		return []string{"accounts: at least one account is required"}
	}
	var msgs []string
	seen := make(map[string]int, len(c.Accounts))
	for i := range c.Accounts {
		a := &c.Accounts[i]
		at := fmt.Sprintf("accounts[%d]", i)
		errs := a.validate(at)
		if j, dup := seen[a.Name]; dup && a.Name != "" {
			errs = append(errs, fmt.Errorf("%s.name: %q: duplicate account name (also accounts[%d])", at, a.Name, j))
		} else if !dup {
			seen[a.Name] = i
		}
		a.invalid = len(errs) > 0
		for _, err := range errs {
			msgs = append(msgs, err.Error())
		}
	}
	return msgs
}

// validate checks one account, fills its defaults and compiles its
// filters; at is its path, e.g. "accounts[2]". It returns every error.
func (a *Account) validate(at string) []error {
	var errs []error
	switch {
	case a.Name == "":
		errs = append(errs, fmt.Errorf("%s.name: required", at))
	case !accountNameRE.MatchString(a.Name):
		errs = append(errs, fmt.Errorf("%s.name: %q: must match %s", at, a.Name, accountNameRegex))
	}

	if a.Platform == "" {
		a.Platform = PlatformESS
	}
	platformOK := a.Platform == PlatformESS || a.Platform == PlatformECE
	if !platformOK {
		errs = append(errs, fmt.Errorf("%s.platform: %q: must be ess or ece", at, a.Platform))
	}

	switch {
	case a.URL == "" && a.Platform == PlatformECE:
		errs = append(errs, fmt.Errorf("%s.url: required for ece accounts (https://<coordinator>:12443)", at))
	case a.URL == "" && a.Platform == PlatformESS:
		a.URL = DefaultESSURL
	case a.URL != "":
		if err := checkURL(a.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %w", at, err))
		}
	}

	if platformOK {
		if err := a.checkCredentialSource(at); err != nil {
			errs = append(errs, err)
		}
	}

	if (a.TLS.CertFile == "") != (a.TLS.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%s.tls: cert_file and key_file must be set together", at))
	}

	seenOrg := make(map[string]int, len(a.OrganizationIDs))
	for j, id := range a.OrganizationIDs {
		if id == "" || strings.ContainsAny(id, "/?#% \t\r\n") {
			errs = append(errs, fmt.Errorf("%s.organization_ids[%d]: %q: not a valid organization id", at, j, id))
			continue
		}
		if k, dup := seenOrg[id]; dup {
			errs = append(errs, fmt.Errorf("%s.organization_ids[%d]: %q: duplicate (also organization_ids[%d])", at, j, id, k))
			continue
		}
		seenOrg[id] = j
	}

	for _, err := range a.Deployments.compileAll() {
		errs = append(errs, fmt.Errorf("%s.deployments.%w", at, err))
	}
	errs = append(errs, a.validateBilling(at)...)
	errs = append(errs, a.validateBudgets(at)...)
	return errs
}

// validateBilling checks and fills the billing source.
func (a *Account) validateBilling(at string) []error {
	var errs []error
	b := &a.Billing
	switch b.API {
	case "":
		b.API = BillingAPIV1
	case BillingAPIV1:
	case BillingAPIV2:
		if a.Platform == PlatformECE {
			errs = append(errs, fmt.Errorf("%s.billing.api: %q: the billing API v2 is ESS only", at, b.API))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.billing.api: %q: must be v1 or v2", at, b.API))
	}
	switch {
	case b.URL != "" && b.API != BillingAPIV2:
		errs = append(errs, fmt.Errorf("%s.billing.url: only used with api: v2", at))
	case b.URL != "":
		if err := checkURL(b.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.billing.url: %w", at, err))
		}
	case b.API == BillingAPIV2:
		b.URL = DefaultBillingV2URL
	}
	return errs
}

// budgetNameRE is what a budget's name (its `budget` label) may be.
const budgetNameRegex = `^[a-z0-9_-]+$`

var budgetNameRE = regexp.MustCompile(budgetNameRegex)

// validateBudgets checks every budget of the account.
func (a *Account) validateBudgets(at string) []error {
	var errs []error
	seen := make(map[string]int, len(a.Budgets))
	for i, b := range a.Budgets {
		bat := fmt.Sprintf("%s.budgets[%d]", at, i)
		switch {
		case b.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: required", bat))
		case !budgetNameRE.MatchString(b.Name):
			errs = append(errs, fmt.Errorf("%s.name: %q: must match %s", bat, b.Name, budgetNameRegex))
		default:
			if j, dup := seen[b.Name]; dup {
				errs = append(errs, fmt.Errorf("%s.name: %q: duplicate budget name (also budgets[%d])", bat, b.Name, j))
			} else {
				seen[b.Name] = i
			}
		}
		if id := b.OrganizationID; id != "" {
			switch {
			case strings.ContainsAny(id, "/?#% \t\r\n"):
				errs = append(errs, fmt.Errorf("%s.organization_id: %q: not a valid organization id", bat, id))
			case len(a.OrganizationIDs) > 0 && !slices.Contains(a.OrganizationIDs, id):
				errs = append(errs, fmt.Errorf("%s.organization_id: %q: not one of the account's organization_ids", bat, id))
			}
		}
		if len(b.Tag) > 1 {
			errs = append(errs, fmt.Errorf("%s.tag: must be one key and value, not %d", bat, len(b.Tag)))
		} else if k := b.TagKey(); b.Tag != nil && (k == "" || b.Tag[k] == "") {
			errs = append(errs, fmt.Errorf("%s.tag: key and value must not be empty", bat))
		}
		if !(b.MonthlyECU > 0) || math.IsInf(b.MonthlyECU, 0) {
			errs = append(errs, fmt.Errorf("%s.monthly_ecu: must be > 0", bat))
		}
	}
	return errs
}

// checkURL accepts an absolute http(s) URL with a host and optionally a
// path (a trailing /api/v1 is fine: the client appends it only once). The
// errors quote the URL with any user info, query or fragment masked, since
// those are where credentials hide.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a valid URL: %v", err)
	}
	shown := strconv.Quote(raw)
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		shown = strconv.Quote(maskURL(u))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s: scheme must be http or https", shown)
	case u.Host == "":
		return fmt.Errorf("%s: host is required", shown)
	case u.User != nil:
		return fmt.Errorf("%s: credentials in the URL are not allowed; use api_key_file", shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%s: query and fragment are not allowed", shown)
	case u.Hostname() == "":
		return fmt.Errorf("%s: host is required", shown)
	}
	// url.Parse checks that a port is digits, not that it is a port.
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s: port %s: must be between 1 and 65535", shown, port)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%s: port is empty", shown)
	}
	return nil
}

func maskURL(u *url.URL) string {
	m := *u
	if m.User != nil {
		m.User = url.User("xxxxx")
	}
	if m.RawQuery != "" {
		m.RawQuery = "xxxxx"
	}
	if m.Fragment != "" {
		m.Fragment, m.RawFragment = "xxxxx", ""
	}
	return m.String()
}

// checkCredentialSource checks that exactly one credential source is set.
// Reading it is Parse's job.
func (a *Account) checkCredentialSource(at string) error {
	if a.Username != "" || a.PasswordFile != "" {
		if a.Platform != PlatformECE {
			key := "username"
			if a.Username == "" {
				key = "password_file"
			}
			return fmt.Errorf("%s.%s: username and password_file are only supported on ece accounts", at, key)
		}
		if a.Username == "" || a.PasswordFile == "" {
			return fmt.Errorf("%s: username and password_file must be set together", at)
		}
	}
	var set []string
	for _, s := range []struct {
		key string
		on  bool
	}{
		{"api_key_file", a.APIKeyFile != ""},
		{"api_key_env", a.APIKeyEnv != ""},
		{"api_key", a.APIKey != ""},
		{"username", a.Username != ""},
	} {
		if s.on {
			set = append(set, s.key)
		}
	}
	switch {
	case len(set) == 0:
		return fmt.Errorf("%s: no credentials: set one of api_key_file, api_key_env, api_key, or username with password_file (ece only)", at)
	case len(set) > 1:
		return fmt.Errorf("%s: %s and %s are mutually exclusive", at, set[0], set[1])
	}
	return nil
}

// Duration is a duration in a configuration: Prometheus units ("90s",
// "5m", "1d", "2w") or Go's ("1.5h"). It keeps the text as written, so
// that errors quote the user's "1m" rather than "1m0s"; a value that does
// not parse is reported with its field path by the decoder of the struct
// holding it (Collectors checks every Duration field of collector options).
type Duration struct {
	d    time.Duration
	text string
	err  error // a parse error, reported with the field path by the caller
}

type duration = Duration

// NewDuration returns d as a configuration Duration.
func NewDuration(d time.Duration) Duration { return Duration{d: d, text: formatDuration(d)} }

func durationOf(d time.Duration) duration { return NewDuration(d) }

// Duration returns the value.
func (v Duration) Duration() time.Duration { return v.d }

// String prints the value the Prometheus way ("5m", "1h30m").
func (v Duration) String() string { return formatDuration(v.d) }

// UnmarshalYAML implements yaml.Unmarshaler.
func (v *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal %s into a duration", n.Line, n.ShortTag())}}
	}
	v.text = n.Value
	v.d, v.err = ParseDuration(n.Value)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (v Duration) MarshalYAML() (any, error) { return formatDuration(v.d), nil }

// check returns the duration if it parsed and lies in [lo, hi]; hi 0 means
// no upper bound.
func (v duration) check(path string, lo, hi time.Duration) (time.Duration, error) {
	switch {
	case v.err != nil:
		return 0, fmt.Errorf("%s: %q: %v", path, v.text, v.err)
	case v.d <= 0:
		return 0, fmt.Errorf("%s: %q: must be greater than 0", path, v.text)
	case v.d < lo:
		return 0, fmt.Errorf("%s: %q: must be at least %s", path, v.text, lo)
	case hi > 0 && v.d > hi:
		return 0, fmt.Errorf("%s: %q: must be at most %s", path, v.text, hi)
	}
	return v.d, nil
}

var promDurationRE = regexp.MustCompile(`^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$`)

// ParseDuration parses a duration written the Prometheus way ("90s", "5m",
// "1h30m", "1d", "2w"; a year is 365 days) or the Go way ("1.5h",
// "500ms"). Signs are accepted here and rejected by the callers that need
// a positive duration.
func ParseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	m := promDurationRE.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, errors.New("not a valid duration (e.g. 90s, 5m, 1h30m, 1d)")
	}
	units := []time.Duration{365 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second, time.Millisecond}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64((1<<63-1)/u) || d > (1<<63-1)-time.Duration(n)*u {
			return 0, errors.New("duration is out of range")
		}
		d += time.Duration(n) * u
	}
	return d, nil
}

// formatDuration prints d like Prometheus does where it can: "5m" rather
// than "5m0s", "1h30m" rather than "1h30m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func checkRange(path string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s: %d: must be between %d and %d", path, v, lo, hi)
	}
	return nil
}

type httpYAML struct {
	Timeout            duration `yaml:"timeout"`
	MaxInFlight        int      `yaml:"max_in_flight"`
	MaxRetries         int      `yaml:"max_retries"`
	MaxBodyBytes       int64    `yaml:"max_body_bytes"`
	MaxRequestsPerHour int      `yaml:"max_requests_per_hour"`
}

// UnmarshalYAML fills the defaults, decodes and validates.
func (h *HTTP) UnmarshalYAML(unmarshal func(any) error) error {
	def := DefaultHTTP
	raw := httpYAML{Timeout: durationOf(def.Timeout), MaxInFlight: def.MaxInFlight, MaxRetries: def.MaxRetries,
		MaxBodyBytes: def.MaxBodyBytes, MaxRequestsPerHour: def.MaxRequestsPerHour}
	if err := unmarshal(&raw); err != nil {
		return err
	}
	timeout, err := raw.Timeout.check("http.timeout", 0, MaxHTTPTimeout)
	errs := collect(err,
		checkRange("http.max_in_flight", raw.MaxInFlight, MinMaxInFlight, MaxMaxInFlight),
		checkRange("http.max_retries", raw.MaxRetries, 0, MaxMaxRetries))
	if raw.MaxBodyBytes < MinMaxBodyBytes {
		errs = append(errs, fmt.Errorf("http.max_body_bytes: %d: must be at least %d (1 KiB)", raw.MaxBodyBytes, MinMaxBodyBytes))
	}
	if raw.MaxRequestsPerHour < 0 {
		errs = append(errs, fmt.Errorf("http.max_requests_per_hour: %d: must not be negative (0 = no budget)", raw.MaxRequestsPerHour))
	}
	if err := semanticErrors(errs); err != nil {
		return err
	}
	*h = HTTP{Timeout: timeout, MaxInFlight: raw.MaxInFlight, MaxRetries: raw.MaxRetries,
		MaxBodyBytes: raw.MaxBodyBytes, MaxRequestsPerHour: raw.MaxRequestsPerHour}
	return nil
}

// MarshalYAML implements yaml.Marshaler, printing durations as text.
func (h HTTP) MarshalYAML() (any, error) {
	return httpYAML{Timeout: durationOf(h.Timeout), MaxInFlight: h.MaxInFlight, MaxRetries: h.MaxRetries,
		MaxBodyBytes: h.MaxBodyBytes, MaxRequestsPerHour: h.MaxRequestsPerHour}, nil
}

// publicTypeNames maps the shadow types that yaml names in its errors
// ("field foo not found in type config.billingYAML") to the exported types
// users know.
var publicTypeNames = strings.NewReplacer(
	"config.plainConfig", "config.Config",
	"config.httpYAML", "config.HTTP",
)
