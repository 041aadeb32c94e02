package main

import (
	"fmt"
	"path/filepath"

	"github.com/prometheus/exporter-toolkit/web"
	"gopkg.in/yaml.v3"

	"github.com/ece-exporter/ece_exporter/internal/safefile"
)

// checkWebConfig checks --web.config.file before serving: the toolkit
// reads it, and the TLS files it names, with os.ReadFile, which blocks on
// a FIFO forever before the server serves (and SIGTERM could not end the
// wait). Each file must be a regular file of bounded size, read within
// safefile's time bound; then web.Validate checks the content.
func checkWebConfig(path string) error {
	if path == "" {
		return nil
	}
	raw, err := safefile.ReadFile(path)
	if err != nil {
		return fmt.Errorf("web config file: %w", err)
	}
	var files struct {
		TLS struct {
			CertFile     string `yaml:"cert_file"`
			KeyFile      string `yaml:"key_file"`
			ClientCAFile string `yaml:"client_ca_file"`
		} `yaml:"tls_server_config"`
	}
	// A file that does not parse is web.Validate's to report.
	if yaml.Unmarshal(raw, &files) == nil {
		for _, f := range []string{files.TLS.CertFile, files.TLS.KeyFile, files.TLS.ClientCAFile} {
			if f == "" {
				continue
			}
			// The toolkit reads them relative to the web config's directory.
			if !filepath.IsAbs(f) {
				f = filepath.Join(filepath.Dir(path), f)
			}
			if _, err := safefile.ReadFile(f); err != nil {
				return fmt.Errorf("web config file %s: %w", path, err)
			}
		}
	}
	if err := web.Validate(path); err != nil {
		return fmt.Errorf("web config file %s: %w", path, err)
	}
	return nil
}
