package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hangGuard is how long a load may take before the test calls it a hang;
// each case below fails in microseconds when the code is right.
const hangGuard = 5 * time.Second

// loadOrHang runs Load and fails the test instead of hanging with it.
func loadOrHang(t *testing.T, file string) (*Config, error) {
	t.Helper()
	type result struct {
		cfg *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := Load(file)
		done <- result{cfg, err}
	}()
	select {
	case r := <-done:
		return r.cfg, r.err
	case <-time.After(hangGuard):
		t.Fatalf("Load(%q) blocked", file)
		return nil, nil
	}
}

// TestFIFOsDoNotBlock: a named pipe given as any file the configuration
// reads fails at once with an error naming the field, instead of waiting
// forever for a writer (issue 14 §1).
func TestFIFOsDoNotBlock(t *testing.T) {
	t.Parallel()
	certDir := t.TempDir()
	writeCert(t, certDir, "cert.pem", "cert.key")
	cert, key := filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "cert.key")
	for _, tc := range []struct {
		name, account, want string
	}{
		{"api_key_file", "{name: p, api_key_file: fifo}",
			`accounts[0].api_key_file: "fifo": read DIR/fifo: not a regular file (a named pipe)`},
		{"password_file", "{name: p, platform: ece, url: 'https://ece:12443', username: u, password_file: fifo}",
			`accounts[0].password_file: "fifo": read DIR/fifo: not a regular file (a named pipe)`},
		{"tls.ca_file", "{name: p, api_key: k, tls: {ca_file: fifo}}",
			`accounts[0].tls.ca_file: "fifo": read DIR/fifo: not a regular file (a named pipe)`},
		{"tls.cert_file", "{name: p, api_key: k, tls: {cert_file: fifo, key_file: " + key + "}}",
			`accounts[0].tls.cert_file: "fifo": read DIR/fifo: not a regular file (a named pipe)`},
		{"tls.key_file", "{name: p, api_key: k, tls: {cert_file: " + cert + ", key_file: fifo}}",
			`accounts[0].tls.key_file: "fifo": read DIR/fifo: not a regular file (a named pipe)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
			file := filepath.Join(dir, "config.yml")
			require.NoError(t, os.WriteFile(file, []byte("accounts:\n  - "+tc.account+"\n"), 0o600))
			cfg, err := loadOrHang(t, file)
			require.Error(t, err)
			assert.Nil(t, cfg)
			assert.Equal(t, strings.ReplaceAll(tc.want, "DIR", dir), err.Error())
		})
	}
}

// TestLoadRejectsNonRegularAndOversizeFiles: the configuration file itself
// must be a regular file of at most 1 MiB (issue 14 §1, §2): /dev/zero used
// to exhaust memory, a FIFO to block forever.
func TestLoadRejectsNonRegularAndOversizeFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config-fifo.yml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.yml")
	// A valid document padded with a comment to one byte over the cap.
	doc := "accounts:\n  - {name: p, api_key: k}\n#"
	require.NoError(t, os.WriteFile(big, []byte(doc+strings.Repeat("x", MaxConfigFileSize+1-len(doc))), 0o600))
	atCap := filepath.Join(dir, "at-cap.yml")
	require.NoError(t, os.WriteFile(atCap, []byte(doc+strings.Repeat("x", MaxConfigFileSize-len(doc))), 0o600))

	for _, tc := range []struct{ file, want string }{
		{"/dev/zero", "read config file: read /dev/zero: not a regular file (a character device)"},
		{fifo, "read config file: read " + fifo + ": not a regular file (a named pipe)"},
		{big, "read config file: read " + big + ": file is too large: larger than 1 MiB"},
		{dir, "read config file: read " + dir + ": is a directory"},
	} {
		cfg, err := loadOrHang(t, tc.file)
		require.Error(t, err, tc.file)
		assert.Nil(t, cfg)
		assert.Equal(t, tc.want, err.Error())
	}
	cfg, err := loadOrHang(t, atCap)
	require.NoError(t, err, "a file of exactly 1 MiB is accepted")
	assert.Equal(t, "p", cfg.Accounts[0].Name)
}

// TestManyErrorsAreCut: a file with thousands of bad entries reports the
// first 25 errors and counts the rest.
func TestManyErrorsAreCut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, first string }{
		{"type errors", "accounts:\n" + strings.Repeat("  - x\n", 1000),
			"accounts[0]: must be a mapping, not a string (line 2)"},
		{"semantic errors", "accounts:\n" + strings.Repeat("  - {name: a, api_key: k}\n", 1001),
			`accounts[1].name: "a": duplicate account name (also accounts[0])`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.doc))
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			// The first maxErrors errors, then the count of the other
			// 1000-maxErrors.
			require.Len(t, lines, maxErrors+1)
			assert.Equal(t, tc.first, lines[0])
			assert.Equal(t, fmt.Sprintf("... and %d more errors", 1000-maxErrors), lines[maxErrors])
		})
	}
}

// BenchmarkParseManyTypeErrors: naming the field of each of many type
// errors stays linear in the number of errors (it was quadratic: 2 s for
// 64 KiB of bad list items, minutes for 1 MiB).
func BenchmarkParseManyTypeErrors(b *testing.B) {
	for _, n := range []int{1000, 4000, 16000} {
		doc := []byte("accounts:\n" + strings.Repeat("  - x\n", n))
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(doc); err == nil {
					b.Fatal("no error")
				}
			}
		})
	}
}
