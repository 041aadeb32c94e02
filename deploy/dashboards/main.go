// Command dashboards writes the Grafana dashboards of ece_exporter, built
// with grafana-foundation-sdk, to deploy/grafana/dashboards (or -out). The
// committed JSON is its output: `go test` here regenerates and compares.
//
//	cd deploy/dashboards && go run .
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", filepath.Join("..", "grafana", "dashboards"), "directory to write the dashboards to")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "dashboards:", err)
		os.Exit(1)
	}
}

// write renders every dashboard into dir, replacing the files there.
func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range dashboards {
		b, err := render(s.build())
		if err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.file), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
