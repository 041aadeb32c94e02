package config

import "github.com/ece-exporter/ece_exporter/internal/secret"

// Secret is a credential (API key, password): internal/secret's Secret,
// the one type of the module. Every way of printing or marshalling it
// yields "<secret>"; Reveal is the only way to read the value, and is meant
// to be called only where the value is handed to the API client.
//
// fmt only calls its methods on exported fields, so a Secret must never be
// stored in an unexported struct field.
type Secret = secret.Secret
