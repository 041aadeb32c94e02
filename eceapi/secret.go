package eceapi

import "fmt"

const redacted = "<secret>"

// Secret holds a credential. Every way of printing or marshalling it yields
// "<secret>"; Reveal is the only way to read the value.
type Secret string

// Reveal returns the secret value. Call it only where the value is sent to
// the API.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter so that every verb (%v, %s, %q, %x, %#v...)
// prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", redacted)
	default:
		_, _ = fmt.Fprint(f, redacted)
	}
}

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML implements yaml.Marshaler (gopkg.in/yaml.v3) without importing it.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// sealed holds a secret behind a pointer: fmt cannot call methods on
// unexported fields, but it prints a nested pointer as an address, so a
// struct holding a *sealed never shows the value, whatever the verb.
type sealed struct{ v string }

func seal(s string) *sealed { return &sealed{v: s} }

func (s *sealed) reveal() string {
	if s == nil {
		return ""
	}
	return s.v
}
