// Package deploy_test checks the shipped dashboard and Prometheus rules
// against the metrics the exporter really exposes.
package deploy_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// conditional metrics exist but are not in the demo's golden output: they
// need a month boundary, an opt-in collector, the admin endpoint or sharding.
var conditional = map[string]bool{
	"ece_billing_organization_previous_month_cost_ecu": true,
	"ece_billing_deployment_previous_month_cost_ecu":   true,
	"ece_upgrade_target_info":                          true,
	"ece_exporter_admin_requests_total":                true,
	"ece_exporter_shard_ordinal":                       true,
	"ece_exporter_total_shards":                        true,
}

var metricName = regexp.MustCompile(`\b(ece_[a-z0-9_]+|ece:[a-z0-9_:]+|up)\b`)

func goldenFamilies(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../testdata/metrics.golden")
	require.NoError(t, err, "the golden /metrics file is written by the end-to-end test (make golden)")
	out := map[string]bool{"up": true}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = true
		}
	}
	require.Greater(t, len(out), 30)
	return out
}

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Record string            `yaml:"record"`
			Alert  string            `yaml:"alert"`
			Expr   string            `yaml:"expr"`
			For    string            `yaml:"for"`
			Labels map[string]string `yaml:"labels"`
			Annot  map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T, file string) ruleFile {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var rf ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&rf), file)
	return rf
}

func checkNames(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	for _, n := range metricName.FindAllString(expr, -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")
		assert.True(t, known[n] || known[base] || conditional[n], "%s uses %s, which the exporter does not expose", where, n)
	}
}

func TestRulesUseExposedMetrics(t *testing.T) {
	known := goldenFamilies(t)
	rec := loadRules(t, "prometheus/recording.yml")
	for _, g := range rec.Groups {
		for _, r := range g.Rules {
			known[r.Record] = true
		}
	}
	alerts := loadRules(t, "prometheus/alerts.yml")
	n := 0
	for _, f := range []ruleFile{rec, alerts} {
		for _, g := range f.Groups {
			for _, r := range g.Rules {
				checkNames(t, r.Record+r.Alert, r.Expr, known)
				if r.Alert != "" {
					n++
					assert.Contains(t, []string{"info", "warning", "critical"}, r.Labels["severity"], r.Alert)
					assert.NotEmpty(t, r.Annot["summary"], r.Alert)
					assert.Contains(t, r.Annot["runbook_url"], "deploy/README.md#", r.Alert)
				}
			}
		}
	}
	assert.GreaterOrEqual(t, n, 10)
}

func TestDashboardUsesExposedMetrics(t *testing.T) {
	known := goldenFamilies(t)
	for _, g := range loadRules(t, "prometheus/recording.yml").Groups {
		for _, r := range g.Rules {
			known[r.Record] = true
		}
	}
	b, err := os.ReadFile("grafana/ece-exporter.json")
	require.NoError(t, err)
	var dash struct {
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	vars := map[string]bool{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = true
		checkNames(t, "variable "+v.Name, v.Definition, known)
	}
	assert.True(t, vars["datasource"] && vars["account"] && vars["organization_id"])
	exprs := 0
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		assert.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		for _, tg := range p.Targets {
			exprs++
			checkNames(t, p.Title, tg.Expr, known)
			if strings.Contains(tg.Expr, "rate(") {
				assert.Contains(t, tg.Expr, "$__rate_interval", p.Title)
			}
		}
	}
	assert.Greater(t, exprs, 15)
}
