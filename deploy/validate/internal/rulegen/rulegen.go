// Package rulegen builds the kustomize base's PrometheusRule from the plain
// Prometheus rule files, so that both ship the same rules.
package rulegen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Header is the first line of the generated file.
const Header = "# Generated from deploy/prometheus/{recording,alerts}.yml by\n" +
	"# `cd deploy/validate && go run ./cmd/gen-prometheusrule`; do not edit.\n"

// RuleFiles are the rule files, in the order their groups are emitted.
var RuleFiles = []string{"recording.yml", "alerts.yml"}

// Generate returns the PrometheusRule manifest for the rule files in
// promDir. Comments and block styles of the rule files are kept.
func Generate(promDir string) ([]byte, error) {
	groups := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range RuleFiles {
		b, err := os.ReadFile(filepath.Join(promDir, f))
		if err != nil {
			return nil, err
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		g := mapValue(doc.Content[0], "groups")
		if g == nil || g.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s: no groups", f)
		}
		groups.Content = append(groups.Content, g.Content...)
	}
	root := mapping(
		"apiVersion", scalar("monitoring.coreos.com/v1"),
		"kind", scalar("PrometheusRule"),
		"metadata", mapping(
			"name", scalar("ece-exporter"),
			"labels", mapping("app.kubernetes.io/name", scalar("ece-exporter")),
		),
		"spec", mapping("groups", groups),
	)
	var buf bytes.Buffer
	buf.WriteString(Header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
