package collector

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
	"github.com/ece-exporter/ece_exporter/internal/ecesim"
)

// TestPlatformCertificatesFixture: the adminconsole chain is parsed with
// crypto/x509 (its chain_status, a different date, is not used); the ui
// chain does not parse, so its expiry comes from chain_status, with a
// warning; proxy and internalca answer 404 (a service this ECE does not
// have) and are skipped without failing the poll.
func TestPlatformCertificatesFixture(t *testing.T) {
	t.Parallel()
	env := platformFixtures(t, map[string]string{
		"platform/configuration/security/tls/adminconsole": "get-tls-certificate/adminconsole.json",
		"platform/configuration/security/tls/ui":           "get-tls-certificate/unparsable.json",
	})
	logs := logBuffer(&env)
	snap, err := pollOnce(t, env, newPlatformCertificatesSource)
	require.NoError(t, err)
	assert.Empty(t, snap.Partial)
	compareSnapshot(t, snap, `
# HELP ece_platform_certificate_expiration_timestamp_seconds When the TLS certificate chain of the platform service expires: the earliest expiry of its certificates; user_supplied is "false" for chains ECE generated. Cached; refreshed by collector platform_certificates.
# TYPE ece_platform_certificate_expiration_timestamp_seconds gauge
ece_platform_certificate_expiration_timestamp_seconds{account="test",service="adminconsole",user_supplied="true"} 1.7968176e+09
ece_platform_certificate_expiration_timestamp_seconds{account="test",service="ui",user_supplied="false"} 1.8e+09
# HELP ece_platform_certificate_not_after_timestamp_seconds When one certificate of the service's chain expires (position 0 is the server certificate). Cached; refreshed by collector platform_certificates.
# TYPE ece_platform_certificate_not_after_timestamp_seconds gauge
ece_platform_certificate_not_after_timestamp_seconds{account="test",issuer="CN=ECE fixture CA",position="0",serial_number="1002",service="adminconsole",subject="CN=adminconsole.ece.example"} 1.7968176e+09
ece_platform_certificate_not_after_timestamp_seconds{account="test",issuer="CN=ECE fixture CA",position="1",serial_number="1001",service="adminconsole",subject="CN=ECE fixture CA"} 2.0196864e+09
`, "ece_platform_certificate_expiration_timestamp_seconds", "ece_platform_certificate_not_after_timestamp_seconds")
	assert.Contains(t, logs.String(), `msg="certificate chain partly unreadable" service=ui`)
	assert.Equal(t, 1, strings.Count(logs.String(), "\n"), "one line, for ui")
}

// TestPlatformCertificatesOnTheSimulator: the admin console's chain expires
// 12 days after the simulator's start.
func TestPlatformCertificatesOnTheSimulator(t *testing.T) {
	t.Parallel()
	sim, env := simEnv(t, ecesim.Options{Mode: ecesim.ModeECE, Seed: 3})
	snap, err := pollOnce(t, env, newPlatformCertificatesSource)
	require.NoError(t, err)
	assert.Equal(t, 4, sim.Requests("get-tls-certificate"), "one call per service of the spec's enum")
	assert.Equal(t, unixSeconds(fixedNow.AddDate(0, 0, 12)), valueOf(t, snap, "ece_platform_certificate_expiration_timestamp_seconds", "service", "adminconsole"))
	assert.Equal(t, unixSeconds(fixedNow.AddDate(0, 0, 3650)), valueOf(t, snap, "ece_platform_certificate_expiration_timestamp_seconds", "service", "internalca"))

	// One service failing (not a 404) is a partial failure; all of them, a failure.
	sim.SetFault("get-tls-certificate", ecesim.Fault{Status: 500, Times: 1})
	snap, err = pollOnce(t, env, newPlatformCertificatesSource)
	require.NoError(t, err)
	require.Len(t, snap.Partial, 1)
	assert.Equal(t, ReasonServer, Reason(snap.Partial[0]))
	assert.Equal(t, 3, familyNames(t, snap)["ece_platform_certificate_expiration_timestamp_seconds"])
	sim.SetFault("get-tls-certificate", ecesim.Fault{Status: 500})
	_, err = pollOnce(t, env, newPlatformCertificatesSource)
	require.Error(t, err)
	assert.Equal(t, ReasonServer, Reason(err))
}

// TestParseChainBounds: oversized entries, too many certificates, other
// PEM blocks and garbage are each skipped with a problem, never a panic.
func TestParseChainBounds(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "get-tls-certificate", "adminconsole.json"))
	require.NoError(t, err)
	s := string(b)
	leaf := s[strings.Index(s, "-----BEGIN") : strings.Index(s, "-----END CERTIFICATE-----")+len("-----END CERTIFICATE-----")]
	leaf = strings.ReplaceAll(leaf, `\n`, "\n") + "\n"

	certs, problems := parseChain([]string{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + leaf})
	assert.Len(t, certs, 1, "a key block before the certificate is skipped")
	assert.Empty(t, problems)

	certs, problems = parseChain([]string{strings.Repeat("x", maxPEMBytes+1), "garbage", leaf})
	assert.Len(t, certs, 1)
	assert.Len(t, problems, 2)

	certs, problems = parseChain([]string{strings.Repeat(leaf, maxChainCertificates+5)})
	assert.Len(t, certs, maxChainCertificates)
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0].Error(), "more than 16 certificates")
}

// TestParseChainCaps: at most 16 entries are read and at most 16 problems
// kept (plus one line for the rest), whatever the body holds.
func TestParseChainCaps(t *testing.T) {
	t.Parallel()
	bad := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	certs, problems := parseChain([]string{strings.Repeat(bad, 100)})
	assert.Empty(t, certs)
	require.Len(t, problems, maxChainProblems+1)
	assert.Equal(t, "84 more problems", problems[maxChainProblems].Error())

	entries := make([]string, 40)
	for i := range entries {
		entries[i] = "garbage"
	}
	_, problems = parseChain(entries)
	require.Len(t, problems, maxChainEntries+1)
	assert.Equal(t, "40 entries, more than 16: the rest is ignored", problems[maxChainEntries].Error())
}

// TestPlatformCertificatesPartlyUnreadableChain: when one certificate does
// not parse, the chain's expiry is the earlier of the parsed NotAfter and
// chain_status; long subjects are cut to 256 bytes.
func TestPlatformCertificatesPartlyUnreadableChain(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "get-tls-certificate", "adminconsole.json"))
	require.NoError(t, err)
	s := string(b)
	leaf := s[strings.Index(s, "-----BEGIN") : strings.Index(s, "-----END CERTIFICATE-----")+len("-----END CERTIFICATE-----")]
	leaf = strings.ReplaceAll(leaf, `\n`, "\n") + "\n"

	env := platformFixtures(t, nil)
	_ = logBuffer(&env)
	src, err := newPlatformCertificatesSource(env)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, status string
		want         float64
	}{
		{"chain_status earlier", "2026-01-01T00:00:00Z", 1767225600},
		{"parsed NotAfter earlier", "2035-01-01T00:00:00Z", 1.7968176e+09},
		{"no chain_status", "", 1.7968176e+09},
	} {
		snap := NewSnapshot("test")
		chain := &eceapi.TLSPublicCertChain{Chain: []string{leaf, "garbage"}}
		if tc.status != "" {
			chain.ChainStatus = &eceapi.ChainStatus{ExpirationDate: tc.status}
		}
		src.(*platformCertificatesSource).chain(snap, "ui", chain)
		compareSnapshot(t, snap, `
# HELP ece_platform_certificate_expiration_timestamp_seconds When the TLS certificate chain of the platform service expires: the earliest expiry of its certificates; user_supplied is "false" for chains ECE generated. Cached; refreshed by collector platform_certificates.
# TYPE ece_platform_certificate_expiration_timestamp_seconds gauge
ece_platform_certificate_expiration_timestamp_seconds{account="test",service="ui",user_supplied="false"} `+strconv.FormatFloat(tc.want, 'g', -1, 64)+`
`, "ece_platform_certificate_expiration_timestamp_seconds")
	}
	assert.Equal(t, 256, len(truncateLabel(strings.Repeat("é", 200))))
	assert.Equal(t, 255, len(truncateLabel("a"+strings.Repeat("é", 200))), "never inside a UTF-8 sequence")
}

// FuzzParseChain: whatever the API sends as a chain, parsing stays within
// its bounds and never panics.
func FuzzParseChain(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "get-tls-certificate", "adminconsole.json"))
	require.NoError(f, err)
	f.Add(string(b), "")
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "garbage")
	f.Add("", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----")
	f.Fuzz(func(t *testing.T, a, b string) {
		certs, _ := parseChain([]string{a, b})
		if len(certs) > maxChainCertificates {
			t.Fatalf("%d certificates, more than the bound", len(certs))
		}
		for _, c := range certs {
			if c == nil {
				t.Fatal("nil certificate")
			}
		}
	})
}
