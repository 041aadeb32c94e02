// Package secret holds the one Secret type of ece_exporter: a credential
// that never prints. config resolves credentials into it; eceapi's options
// take the revealed string and keep it sealed behind a pointer.
package secret

import "fmt"

// Redacted is what every printed or marshalled Secret shows.
const Redacted = "<secret>"

// Secret is a credential (API key, password). Every way of printing or
// marshalling it yields "<secret>": fmt with any verb, JSON, YAML and text
// encodings. Reveal is the only way to read the value, and is meant to be
// called only where the value is handed to the API client.
//
// fmt only calls these methods on exported fields, so a Secret must never be
// stored in an unexported struct field.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer, used by %#v.
func (s Secret) GoString() string { return Redacted }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q,
// %x, %X, %d...) prints the redacted form; %q quotes it.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", Redacted)
		return
	}
	_, _ = fmt.Fprint(f, Redacted)
}

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return Redacted, nil }

// IsZero reports whether the secret is empty, so that `omitempty` hides an
// unset secret rather than printing "<secret>" for it.
func (s Secret) IsZero() bool { return s == "" }
