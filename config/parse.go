package config

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/safefile"
)

// maxFileSize bounds every file Parse reads (secrets, TLS files):
// safefile's cap, checked again here for the files a WithReadFile function
// returns.
const maxFileSize = safefile.MaxSize

// MaxConfigFileSize bounds the configuration file Load reads: 1 MiB, some
// thousands of accounts. Decoding YAML takes about 100 times the size of
// the document in memory, so this keeps a hostile or mistaken file well
// under the 256 MiB the shipped manifests allow.
const MaxConfigFileSize = 1 << 20

// maxErrors is how many errors one Parse reports; a file of thousands of
// bad lines gives the first ones and a count of the rest.
const maxErrors = 25

// ParseOption changes where Parse reads files and environment variables.
type ParseOption func(*parser)

type parser struct {
	baseDir   string
	lookupEnv func(string) (string, bool)
	readFile  func(string) ([]byte, error)
}

// WithBaseDir resolves relative file paths (secret and TLS files) against
// dir. Load passes the directory of the configuration file.
func WithBaseDir(dir string) ParseOption { return func(p *parser) { p.baseDir = dir } }

// WithLookupEnv replaces os.LookupEnv for api_key_env. Nil keeps the default.
func WithLookupEnv(f func(string) (string, bool)) ParseOption {
	return func(p *parser) {
		if f != nil {
			p.lookupEnv = f
		}
	}
}

// WithReadFile replaces the reading of secret and TLS files; it receives
// the resolved path. Nil keeps the default.
func WithReadFile(f func(string) ([]byte, error)) ParseOption {
	return func(p *parser) {
		if f != nil {
			p.readFile = f
		}
	}
}

// Load reads and parses a configuration file. Relative paths in it are
// resolved against its directory; environment variables come from the
// process. The file must be a regular file of at most MaxConfigFileSize,
// every file it names one of at most 4 MiB (safefile.MaxSize); a named
// pipe or a device fails at once instead of blocking or exhausting memory.
func Load(filename string) (*Config, error) {
	b, err := safefile.ReadFileLimit(filename, MaxConfigFileSize, safefile.Timeout)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return Parse(b, WithBaseDir(filepath.Dir(filename)))
}

// Parse decodes a YAML configuration strictly, fills the defaults,
// validates it, and resolves the credentials of every account (reading
// secret files and environment variables) and checks its TLS files. The
// error names the field path and the bad value, or is yaml's own error
// (beginning "yaml: ") for a document that does not decode. It reports
// every error found, one per line: the document's, then those of reading
// the files and variables of the accounts that passed the document check.
// It never contains a secret.
func Parse(data []byte, opts ...ParseOption) (*Config, error) {
	p := parser{lookupEnv: os.LookupEnv, readFile: safefile.ReadFile}
	for _, o := range opts {
		o(&p)
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg *Config
	var msgs []string
	resolve := true
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, yamlError(err, data)
		}
		msgs = typeErrorMessages(te, data)
		resolve = !structural(te) // the accounts were not checked
	} else if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err, data)
		}
		return nil, errors.New("yaml: the configuration must be a single YAML document")
	}
	if cfg == nil {
		// An empty or null document: UnmarshalYAML never ran.
		return nil, errors.New("accounts: at least one account is required")
	}

	for i := range cfg.Accounts {
		if !resolve || cfg.Accounts[i].invalid {
			continue
		}
		for _, err := range p.resolve(&cfg.Accounts[i], fmt.Sprintf("accounts[%d]", i)) {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return nil, joinErrors(msgs)
	}
	return cfg, nil
}

// yamlError returns a decoding error that names the field path where it
// can tell it for sure, with the internal shadow type names replaced by
// the exported ones, and without any value quoted from the document (a
// value may be a secret).
func yamlError(err error, data []byte) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		if msg := err.Error(); strings.HasPrefix(msg, "yaml: ") {
			return errors.New(unquoteValues(msg)) // yaml's own: may quote a value
		}
		return err // ours, from the UnmarshalYAML checks: names the field
	}
	return joinErrors(typeErrorMessages(te, data))
}

// joinErrors is one error of one message per line, at most maxErrors.
func joinErrors(msgs []string) error {
	if len(msgs) > maxErrors {
		msgs = append(msgs[:maxErrors:maxErrors], fmt.Sprintf("... and %d more errors", len(msgs)-maxErrors))
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// typeErrorMessages rewrites yaml's type errors (they begin "line N:") as
// yamlError says, and keeps ours (the semantic checks, which begin with
// the field path) as they are.
func typeErrorMessages(te *yaml.TypeError, data []byte) []string {
	var idx *nodeIndex
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		switch {
		case i >= maxErrors: // counted, never shown; yaml's may quote a value
			msgs[i] = "(not shown)"
			continue
		case !strings.HasPrefix(m, "line "): // ours
			msgs[i] = m
			continue
		}
		if idx == nil {
			var root yaml.Node
			_ = yaml.Unmarshal(data, &root) // it decoded once already; on failure paths stay unknown
			idx = newNodeIndex(&root)
		}
		msgs[i] = unquoteValues(idx.name(publicTypeNames.Replace(m)))
		if strings.HasPrefix(msgs[i], "line ") {
			msgs[i] = "yaml: " + msgs[i] // no field to name for sure
		}
	}
	return msgs
}

// quotedValueRE matches the values yaml quotes in its errors.
var quotedValueRE = regexp.MustCompile("\\s?`[^`]*`")

func unquoteValues(msg string) string { return quotedValueRE.ReplaceAllString(msg, "") }

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type \S+$`)
	cannotDecodeRE = regexp.MustCompile("^line (\\d+): cannot unmarshal (!!\\w+)(?: `([^`]*)`)? into (.+)$")
)

// nodeIndex finds the field path of a YAML key or value from the line
// yaml's errors give, so that an error can name the field. Where the line
// is ambiguous (flow style with look-alike values, aliases), it names
// nothing rather than a wrong field.
type nodeIndex struct {
	keys     map[lineName][]string // (line, key) → paths of such keys
	values   map[int][]pathNode    // line → every value node on it, with its path
	hasAlias bool
}

type lineName struct {
	line int
	name string
}

type pathNode struct {
	path string
	node *yaml.Node
}

func newNodeIndex(root *yaml.Node) *nodeIndex {
	idx := &nodeIndex{keys: map[lineName][]string{}, values: map[int][]pathNode{}}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind != yaml.DocumentNode {
			idx.values[n.Line] = append(idx.values[n.Line], pathNode{path, n})
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.AliasNode:
			idx.hasAlias = true
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				idx.keys[lineName{k.Line, k.Value}] = append(idx.keys[lineName{k.Line, k.Value}], p)
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(root, "")
	return idx
}

// name rewrites one yaml type error to start with the field path, e.g.
// "accounts[0].colour: unknown field (line 2)", when exactly one place of
// the document fits it; otherwise it returns msg.
func (idx *nodeIndex) name(msg string) string {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if ps := idx.keys[lineName{line, m[2]}]; len(ps) == 1 {
			return fmt.Sprintf("%s: unknown field (line %d)", ps[0], line)
		}
		return msg
	}
	m := cannotDecodeRE.FindStringSubmatch(msg)
	if m == nil || idx.hasAlias {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	tag, quoted, target := m[2], m[3], m[4]
	var found []pathNode
	for _, v := range idx.values[line] { // by line: a file of many errors stays linear
		if v.node.ShortTag() != tag || (v.path == "") != (target == "config.Config") {
			continue
		}
		if quoted != "" && !sameValue(v.node.Value, quoted) {
			continue
		}
		found = append(found, v)
	}
	if len(found) != 1 {
		return msg
	}
	if found[0].path == "" {
		return fmt.Sprintf("yaml: the configuration must be a mapping, not %s (line %d)", kindName(tag), line)
	}
	return fmt.Sprintf("%s: must be %s, not %s (line %d)", found[0].path, targetName(target), kindName(tag), line)
}

// sameValue reports whether yaml's quote of a value (shortened to a
// prefix and "..." when long) is of value.
func sameValue(value, quoted string) bool {
	if prefix, cut := strings.CutSuffix(quoted, "..."); cut {
		return strings.HasPrefix(value, prefix)
	}
	return value == quoted
}

// targetName says in YAML terms what a Go type wants.
func targetName(goType string) string {
	switch {
	case goType == "a duration":
		return "a duration (e.g. 90s, 5m, 1h30m, 1d)"
	case goType == "string", goType == "config.Secret":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "config."):
		return "a mapping"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	}
	return goType
}

func kindName(tag string) string {
	switch tag {
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!bool":
		return "a boolean"
	case "!!float":
		return "a number"
	}
	return tag
}

func (p *parser) path(f string) string {
	if filepath.IsAbs(f) || p.baseDir == "" {
		return f
	}
	return filepath.Join(p.baseDir, f)
}

// read reads a file named in the configuration; at is the field path and
// name the value as written. Errors carry the OS error, never the content.
func (p *parser) read(at, name string) (string, []byte, error) {
	resolved := p.path(name)
	b, err := p.readFile(resolved)
	switch {
	case err != nil:
		return "", nil, fmt.Errorf("%s: %q: %v", at, name, err)
	case len(b) > maxFileSize:
		return "", nil, fmt.Errorf("%s: %q: file is larger than %d bytes", at, name, maxFileSize)
	case len(bytes.TrimSpace(b)) == 0:
		return "", nil, fmt.Errorf("%s: %q: file is empty", at, name)
	}
	return resolved, b, nil
}

// resolve reads the credentials and TLS files of an account whose
// credential source has been checked by UnmarshalYAML, and rewrites its
// file paths to the resolved ones. It returns every error.
func (p *parser) resolve(a *Account, at string) []error {
	a.Credentials = Credentials{}
	errs := collect(p.resolveCredentials(a, at))
	return append(errs, p.resolveTLS(a, at)...)
}

func (p *parser) resolveCredentials(a *Account, at string) error {
	switch {
	case a.APIKeyFile != "":
		path, b, err := p.read(at+".api_key_file", a.APIKeyFile)
		if err != nil {
			return err
		}
		key := strings.TrimSpace(string(b))
		if err := checkAPIKey(key); err != nil {
			return fmt.Errorf("%s.api_key_file: %q: %v", at, a.APIKeyFile, err)
		}
		a.APIKeyFile, a.Credentials.APIKey = path, Secret(key)
	case a.APIKeyEnv != "":
		v, _ := p.lookupEnv(a.APIKeyEnv)
		key := strings.TrimSpace(v)
		if key == "" {
			return fmt.Errorf("%s.api_key_env: %q: environment variable is not set or empty", at, a.APIKeyEnv)
		}
		if err := checkAPIKey(key); err != nil {
			return fmt.Errorf("%s.api_key_env: %q: %v", at, a.APIKeyEnv, err)
		}
		a.Credentials.APIKey = Secret(key)
	case a.APIKey != "":
		key := strings.TrimSpace(a.APIKey.Reveal())
		if key == "" {
			return fmt.Errorf("%s.api_key: is blank", at)
		}
		if err := checkAPIKey(key); err != nil {
			return fmt.Errorf("%s.api_key: %v", at, err)
		}
		a.Credentials.APIKey = Secret(key)
	case a.Username != "":
		path, b, err := p.read(at+".password_file", a.PasswordFile)
		if err != nil {
			return err
		}
		a.PasswordFile = path
		a.Credentials.Username, a.Credentials.Password = a.Username, Secret(strings.TrimSpace(string(b)))
	default:
		// Unreachable after UnmarshalYAML; kept for Configs built by hand.
		return fmt.Errorf("%s: no credentials: set one of api_key_file, api_key_env, api_key, or username with password_file (ece only)", at)
	}
	return nil
}

// checkAPIKey rejects keys that cannot go into an Authorization header, the
// usual sign of a secret file holding more than the key.
func checkAPIKey(key string) error {
	if strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("the API key contains a line break or control character")
	}
	return nil
}

// resolveTLS checks that the TLS files are readable and hold what they
// should, so that --config.check catches a wrong path, and fingerprints them
// for Equal.
func (p *parser) resolveTLS(a *Account, at string) []error {
	h := sha256.New()
	var contents [3][]byte
	certName, keyName := a.TLS.CertFile, a.TLS.KeyFile
	read := false
	var errs []error
	for i, f := range []struct {
		key  string
		name *string
	}{
		{"ca_file", &a.TLS.CAFile},
		{"cert_file", &a.TLS.CertFile},
		{"key_file", &a.TLS.KeyFile},
	} {
		if *f.name == "" {
			continue
		}
		path, b, err := p.read(at+".tls."+f.key, *f.name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if i == 0 && !x509.NewCertPool().AppendCertsFromPEM(b) {
			errs = append(errs, fmt.Errorf("%s.tls.ca_file: %q: no PEM certificate found", at, *f.name))
			continue
		}
		*f.name, contents[i], read = path, b, true
	}
	if contents[1] != nil && contents[2] != nil {
		if _, err := tls.X509KeyPair(contents[1], contents[2]); err != nil {
			errs = append(errs, fmt.Errorf("%s.tls: cert_file %q and key_file %q: %v", at, certName, keyName, err))
		}
	}
	if errs != nil {
		return errs
	}
	// The client's TLS configuration is built here, once per load, from
	// the contents just read: the API client reads no file.
	a.tlsConfig = nil
	if a.TLS != (TLS{}) {
		cfg, err := eceapi.NewTLSConfig(eceapi.TLSSettings{CA: contents[0], Cert: contents[1], Key: contents[2],
			ServerName: a.TLS.ServerName, InsecureSkipVerify: a.TLS.InsecureSkipVerify})
		if err != nil {
			return []error{fmt.Errorf("%s.tls: %v", at, err)}
		}
		a.tlsConfig = cfg
	}
	if !read {
		a.tlsDigest = nil
		return nil
	}
	for _, c := range contents {
		_ = binary.Write(h, binary.BigEndian, uint64(len(c)))
		h.Write(c)
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	a.tlsDigest = &sum
	return nil
}

// Redacted returns the effective configuration, defaults filled and paths
// resolved, as YAML for --config.check. Every secret shows as <secret>; the
// resolved credentials are not shown at all.
func (c *Config) Redacted() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	return buf.Bytes(), nil
}
