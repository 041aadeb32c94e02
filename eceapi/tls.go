package eceapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
)

// TLSSettings are the TLS client settings of an endpoint, with the PEM
// contents of its files: the caller reads the files (config does, once per
// load, bounded in size and time), so the client reads none.
type TLSSettings struct {
	// CA holds the PEM certificates the server's chain must lead to; empty
	// means the system roots.
	CA []byte
	// Cert and Key are the client certificate and its key, both or none.
	Cert, Key          []byte
	ServerName         string
	InsecureSkipVerify bool
}

// ErrNoPEMCertificate: TLSSettings.CA holds no PEM certificate.
var ErrNoPEMCertificate = errors.New("no PEM certificate found")

// NewTLSConfig builds the client TLS configuration of s: TLS 1.2 at least.
// It fails with ErrNoPEMCertificate when CA holds no certificate, and with
// the key pair's error when Cert and Key do not form one.
func NewTLSConfig(s TLSSettings) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.ServerName, InsecureSkipVerify: s.InsecureSkipVerify} //nolint:gosec // opt-in for ECE self-signed certificates
	if len(s.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(s.CA) {
			return nil, ErrNoPEMCertificate
		}
		cfg.RootCAs = pool
	}
	if len(s.Cert) > 0 || len(s.Key) > 0 {
		cert, err := tls.X509KeyPair(s.Cert, s.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// WithTLSConfig sets the TLS client configuration (see NewTLSConfig); the
// client uses a clone of it. Nil keeps Go's defaults.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Client) error {
		if cfg == nil {
			return nil
		}
		tr, ok := c.httpClient.Transport.(*http.Transport)
		if !ok {
			return errors.New("a TLS configuration needs the default transport")
		}
		tr = tr.Clone()
		tr.TLSClientConfig = cfg.Clone()
		c.httpClient.Transport = tr
		return nil
	}
}
