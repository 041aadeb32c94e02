// Command gen-prometheusrule writes deploy/kubernetes/prometheusrule.yaml
// from deploy/prometheus/*.yml. Run it from deploy/validate:
//
//	go run ./cmd/gen-prometheusrule
package main

import (
	"fmt"
	"os"

	"github.com/ece-exporter/ece_exporter/deploy/validate/internal/rulegen"
)

func main() {
	out, err := rulegen.Generate("../prometheus")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-prometheusrule:", err)
		os.Exit(1)
	}
	if err := os.WriteFile("../kubernetes/prometheusrule.yaml", out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen-prometheusrule:", err)
		os.Exit(1)
	}
}
