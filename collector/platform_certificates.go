package collector

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-kit/log/level"

	"github.com/ece-exporter/ece_exporter/config"
	"github.com/ece-exporter/ece_exporter/eceapi"
)

// The platform_certificates collector reports when the TLS certificate
// chains of the ECE platform expire: one call of
// GET /platform/configuration/security/tls/{service_name} per service of
// the spec's enum (adminconsole, proxy, ui, internalca). The chain's PEM
// text is parsed here with crypto/x509, bounded in size; the API's own
// chain_status is the fallback when nothing in the chain parses.

const platformCertificatesName = "platform_certificates"

// Bounds of the chain parsing: a chain is a handful of certificates of a
// few KiB each.
const (
	maxChainCertificates = 16
	maxPEMBytes          = 64 << 10
	// maxChainEntries and maxChainProblems keep a hostile body from
	// making a huge warning line.
	maxChainEntries  = 16
	maxChainProblems = 16
)

func init() {
	registerCollector(Registration{
		Name:           platformCertificatesName,
		DefaultEnabled: true,
		MinInterval:    5 * time.Minute,
		Defaults:       IntervalOptions{Interval: config.NewDuration(time.Hour)},
		Supports:       eceOnly,
		New:            newPlatformCertificatesSource,
	})
}

type platformCertificatesSource struct {
	env                       Env
	chainExpires, certExpires *seriesDesc
}

func newPlatformCertificatesSource(env Env) (Source, error) {
	f := env.descSet(platformCertificatesName)
	return &platformCertificatesSource{
		env: env,
		chainExpires: f.desc("platform_certificate_expiration_timestamp_seconds",
			"When the TLS certificate chain of the platform service expires: the earliest expiry of its certificates; user_supplied is \"false\" for chains ECE generated.",
			"service", "user_supplied"),
		certExpires: f.desc("platform_certificate_not_after_timestamp_seconds",
			"When one certificate of the service's chain expires (position 0 is the server certificate).",
			"service", "position", "subject", "issuer", "serial_number"),
	}, nil
}

func (c *platformCertificatesSource) Poll(ctx context.Context) (*Snapshot, error) {
	s := NewSnapshot(c.env.Account.Name)
	if c.env.Sharder != nil && !c.env.Sharder.OwnsOrganization() {
		return s, nil
	}
	var errs []error
	for _, svc := range eceapi.TLSServiceNames {
		chain, _, err := c.env.Client.Platform.TLSCertificate(ctx, svc)
		if err != nil {
			if isNotFound(err) {
				continue // a service this ECE version does not have
			}
			errs = append(errs, platformErr(err))
			continue
		}
		c.chain(s, svc, chain)
	}
	if len(errs) == len(eceapi.TLSServiceNames) {
		return nil, errs[0]
	}
	s.Partial = errs
	return s, nil
}

func (c *platformCertificatesSource) chain(s *Snapshot, svc string, chain *eceapi.TLSPublicCertChain) {
	certs, problems := parseChain(chain.Chain)
	if len(problems) > 0 {
		level.Warn(c.env.Logger).Log("msg", "certificate chain partly unreadable", "service", svc, "err", errors.Join(problems...))
	}
	var earliest time.Time
	for i, cert := range certs {
		s.gauge(c.certExpires, unixSeconds(cert.NotAfter), svc, strconv.Itoa(i), truncateLabel(cert.Subject.String()), truncateLabel(cert.Issuer.String()), truncateLabel(serialNumber(cert)))
		if earliest.IsZero() || cert.NotAfter.Before(earliest) {
			earliest = cert.NotAfter
		}
	}
	// A certificate that did not parse may expire first: with any problem,
	// the API's own chain_status date counts too, the earlier one wins.
	if len(problems) > 0 || earliest.IsZero() {
		if t, ok := chain.ChainStatus.Expiration(); ok && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	if earliest.IsZero() {
		level.Warn(c.env.Logger).Log("msg", "no expiry known for the certificate chain", "service", svc, "certificates", len(chain.Chain))
		return
	}
	s.gauge(c.chainExpires, unixSeconds(earliest), svc, strconv.FormatBool(chain.UserSupplied))
}

// parseChain decodes the certificates of a PEM chain, in order, within the
// bounds above. Each entry is normally one certificate; several PEM blocks
// in one entry are accepted, other block types (a private key) skipped.
func parseChain(entries []string) (certs []*x509.Certificate, problems []error) {
	more := 0
	add := func(err error) {
		if len(problems) < maxChainProblems {
			problems = append(problems, err)
		} else {
			more++
		}
	}
	defer func() {
		if more > 0 {
			problems = append(problems, fmt.Errorf("%d more problems", more))
		}
	}()
	if len(entries) > maxChainEntries {
		defer func(n int) {
			problems = append(problems, fmt.Errorf("%d entries, more than %d: the rest is ignored", n, maxChainEntries))
		}(len(entries))
		entries = entries[:maxChainEntries]
	}
	for i, e := range entries {
		if len(e) > maxPEMBytes {
			add(fmt.Errorf("entry %d: %d bytes, more than %d", i, len(e), maxPEMBytes))
			continue
		}
		rest := []byte(e)
		found := false
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			found = true
			if len(certs) == maxChainCertificates {
				return certs, append(problems, fmt.Errorf("more than %d certificates: the rest is ignored", maxChainCertificates))
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				add(fmt.Errorf("entry %d: %w", i, err))
				continue
			}
			certs = append(certs, cert)
		}
		if !found {
			add(fmt.Errorf("entry %d: no PEM certificate", i))
		}
	}
	return certs, problems
}

// serialNumber is the serial in decimal, as x509-certificate-exporter
// writes it.
func serialNumber(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return c.SerialNumber.String()
}
