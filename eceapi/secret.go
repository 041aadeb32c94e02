package eceapi

import "github.com/ece-exporter/ece_exporter/internal/secret"

// redacted replaces a secret in error texts, as a secret.Secret prints.
const redacted = secret.Redacted

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
