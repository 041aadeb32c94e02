// Package mixin_test evaluates the monitoring mixin with go-jsonnet: with
// the default _config its output is exactly what deploy/ ships (the plain
// rule files and the generated dashboards), every _config setting changes
// the alerts it names, and a rule file that no longer states a threshold
// the way the mixin expects fails evaluation with a message saying where.
package mixin_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-jsonnet"
	"github.com/google/go-jsonnet/formatter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// deployImporter resolves imports like `jsonnet -J .` but refuses files
// outside deploy/: jsonnet-bundler users vendor deploy/ (see README.md), so
// the mixin must not reach beyond it.
type deployImporter struct {
	files *jsonnet.FileImporter
	root  string
}

func (d *deployImporter) Import(importedFrom, importedPath string) (jsonnet.Contents, string, error) {
	c, found, err := d.files.Import(importedFrom, importedPath)
	if err != nil {
		return c, found, err
	}
	abs, err := filepath.Abs(found)
	if err != nil {
		return c, found, err
	}
	if !strings.HasPrefix(abs, d.root+string(filepath.Separator)) {
		return jsonnet.Contents{}, "", fmt.Errorf("%s imports %s, outside deploy/", importedFrom, found)
	}
	return c, found, nil
}

func vm(t *testing.T) *jsonnet.VM {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	m := jsonnet.MakeVM()
	m.Importer(&deployImporter{files: &jsonnet.FileImporter{JPaths: []string{"."}}, root: root})
	return m
}

// mixinOutput is what a mixin consumer reads.
type mixinOutput struct {
	Alerts     any            `json:"prometheusAlerts"`
	Rules      any            `json:"prometheusRules"`
	Dashboards map[string]any `json:"grafanaDashboards"`
	Config     map[string]any `json:"_config"`
}

// evaluate evaluates the mixin with overrides (a jsonnet object literal
// added to _config, "" for none); the dashboards only for the test that
// compares them (they are most of the evaluation's time).
func evaluate(t *testing.T, overrides string) mixinOutput {
	return evaluateWith(t, overrides, false)
}

func evaluateWith(t *testing.T, overrides string, withDashboards bool) mixinOutput {
	t.Helper()
	if overrides == "" {
		overrides = "{}"
	}
	fields := "prometheusAlerts: m.prometheusAlerts, prometheusRules: m.prometheusRules, _config: m._config"
	if withDashboards {
		fields += ", grafanaDashboards: m.grafanaDashboards"
	}
	snippet := fmt.Sprintf("local m = (import 'mixin.libsonnet') + { _config+:: %s };\n{ %s }", overrides, fields)
	out, err := vm(t).EvaluateAnonymousSnippet("test.jsonnet", snippet)
	require.NoError(t, err)
	var o mixinOutput
	require.NoError(t, json.Unmarshal([]byte(out), &o))
	return o
}

// asJSON decodes YAML and normalises it to what encoding/json gives (float
// numbers, map[string]any), so it compares with jsonnet's output.
func asJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(b, &v))
	j, err := json.Marshal(v)
	require.NoError(t, err)
	var n any
	require.NoError(t, json.Unmarshal(j, &n))
	return n
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

func TestDefaultOutputIsWhatDeployShips(t *testing.T) {
	o := evaluateWith(t, "", true)
	alerts, err := os.ReadFile("../prometheus/alerts.yml")
	require.NoError(t, err)
	recording, err := os.ReadFile("../prometheus/recording.yml")
	require.NoError(t, err)
	assert.Equal(t, asJSON(t, alerts), o.Alerts, "prometheusAlerts with the default _config must equal deploy/prometheus/alerts.yml")
	assert.Equal(t, asJSON(t, recording), o.Rules, "prometheusRules with the default _config must equal deploy/prometheus/recording.yml")

	files, err := filepath.Glob("../grafana/dashboards/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
		assert.Equal(t, readJSON(t, f), o.Dashboards[filepath.Base(f)], "grafanaDashboards[%q] must equal %s", filepath.Base(f), f)
	}
	var got []string
	for n := range o.Dashboards {
		got = append(got, n)
	}
	sort.Strings(got)
	assert.Equal(t, names, got, "grafanaDashboards must hold exactly deploy/grafana/dashboards/*.json: add a new dashboard to deploy/mixin/dashboards/dashboards.libsonnet")
}

type rule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	Annotations map[string]string `json:"annotations"`
}

func alertRules(t *testing.T, o mixinOutput) map[string]rule {
	t.Helper()
	b, err := json.Marshal(o.Alerts)
	require.NoError(t, err)
	var f struct {
		Groups []struct {
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	m := map[string]rule{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			m[r.Alert] = r
		}
	}
	return m
}

func TestConfigChangesTheAlerts(t *testing.T) {
	cases := []struct {
		name      string
		overrides string
		alert     string
		expr      []string // substrings of the changed expr
		summary   string   // substring of the changed summary
	}{
		{"job selector", `{ eceExporterSelector: 'job="ece", cluster="eu"' }`, "ECEExporterDown",
			[]string{`up{job="ece", cluster="eu"} == 0`, `absent(up{job="ece", cluster="eu"})`}, ""},
		{"api key warning", `{ apiKeyExpiryWarningDays: 45 }`, "ECEAPIKeyExpiresSoon",
			[]string{"< 45 * 86400"}, "less than 45 days"},
		{"license critical", `{ licenseExpiryCriticalDays: 3 }`, "ECELicenseExpiresVerySoon",
			[]string{"< 3 * 86400"}, "less than 3 days"},
		{"certificate warning", `{ certificateExpiryWarningDays: 60 }`, "ECECertificateExpiresSoon",
			[]string{"< 60 * 86400"}, "less than 60 days"},
		{"zone memory", `{ zoneMemoryWarningRatio: 0.8 }`, "ECEZoneMemoryHigh",
			[]string{">= 0.8\n"}, ""},
		{"cost spike", `{ costSpikeFactor: 5, costSpikeMinDailyECU: 10 }`, "ECEDeploymentCostSpike",
			[]string{"> 5 * ece:billing_deployment_daily_cost_ecu:avg7d", ":avg7d > 10\n"}, "more than 5 times"},
		{"collector failing", `{ collectorFailingIntervals: 5 }`, "ECEExporterCollectorFailing",
			[]string{"> 5 * ece_exporter_collector_effective_interval_seconds"}, ""},
		{"memory pressure critical", `{ instanceMemoryPressureCriticalRatio: 0.9 }`, "ECEInstanceMemoryPressureCritical",
			[]string{"ece_instance_memory_pressure_ratio >= 0.9"}, ""},
		{"disk", `{ instanceDiskFullRatio: 0.8 }`, "ECEInstanceDiskAlmostFull",
			[]string{"/ ece_instance_disk_capacity_bytes >= 0.8"}, ""},
		{"credits runway", `{ creditsRunwayWarningDays: 60 }`, "ECECreditsRunOutSoon",
			[]string{"ece:billing_organization_credits_runway_days < 60"}, "less than 60 days"},
		{"budget", `{ budgetSpentWarningRatio: 0.9 }`, "ECEBudgetNearlySpent",
			[]string{"ece:billing_budget_spent_ratio >= 0.9"}, ""},
		{"api key quota", `{ apiKeyQuotaWarningRatio: 0.8 }`, "ECEAPIKeyQuotaNearlyReached",
			[]string{"ece:api_keys:quota_ratio >= 0.8"}, ""},
	}
	def := alertRules(t, evaluate(t, ""))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := alertRules(t, evaluate(t, c.overrides))
			r := got[c.alert]
			for _, s := range c.expr {
				assert.Contains(t, r.Expr, s)
			}
			if c.summary != "" {
				assert.Contains(t, r.Annotations["summary"], c.summary)
			}
			for name, d := range def {
				if name != c.alert {
					assert.Equal(t, d, got[name], "%s: only %s may change", c.overrides, c.alert)
				}
			}
		})
	}
	// The default selector is gone from the rules once replaced.
	b, err := json.Marshal(evaluate(t, `{ eceExporterSelector: 'job="x"' }`).Alerts)
	require.NoError(t, err)
	assert.NotContains(t, string(b), `job=\"ece-exporter\"`)
}

// TestEveryConfigSettingIsUsed changes each numeric setting in turn: each
// must change some alert, and state its new value there.
func TestEveryConfigSettingIsUsed(t *testing.T) {
	o := evaluate(t, "")
	def := alertRules(t, o)
	for key, v := range o.Config {
		if key == "eceExporterSelector" {
			continue
		}
		f, ok := v.(float64)
		require.True(t, ok, "_config.%s: numbers only (or extend this test)", key)
		changed := f*2 + 1
		got := alertRules(t, evaluate(t, fmt.Sprintf("{ %s: %v }", key, changed)))
		diff := 0
		for name, r := range got {
			if fmt.Sprint(r) != fmt.Sprint(def[name]) {
				diff++
				assert.Contains(t, r.Expr, fmt.Sprint(changed), "_config.%s changed %s but its expr does not show %v", key, name, changed)
			}
		}
		assert.Positive(t, diff, "_config.%s changes no alert", key)
	}
}

// TestChangedConfigIsValidPrometheus runs promtool on the output of a
// changed _config, where promtool is installed (deploy/check.sh installs it
// in CI).
func TestChangedConfigIsValidPrometheus(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed")
	}
	o := evaluate(t, `{ eceExporterSelector: 'job=~"ece-exporter|ece-.*"', licenseExpiryWarningDays: 45, zoneMemoryWarningRatio: 0.8 }`)
	dir := t.TempDir()
	for name, v := range map[string]any{"alerts.json": o.Alerts, "recording.json": o.Rules} {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, "alerts.json"), filepath.Join(dir, "recording.json")).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// TestDriftIsAnError: a rule file that no longer states a threshold as the
// thresholds table says, or lost an alert the table names, fails
// evaluation with a message naming the alert and the text.
func TestDriftIsAnError(t *testing.T) {
	cases := []struct{ name, groups, thresholds, want string }{
		{"threshold changed in the rule file",
			`[{ name: 'g', rules: [{ alert: 'A', expr: 'up{job="ece-exporter"} < 21 * 86400', annotations: { summary: 's' } }] }]`,
			`{ A: [['expr', '< %(licenseExpiryWarningDays)s * 86400']] }`,
			`f.yml: alert A: its expr must contain "< 30 * 86400" exactly once (found 0 times)`},
		{"alert renamed",
			`[{ name: 'g', rules: [{ alert: 'B', expr: 'up{job="ece-exporter"} == 0' }] }]`,
			`{ A: [] }`,
			`f.yml has no alert A`},
		{"selector gone",
			`[{ name: 'g', rules: [{ alert: 'A', expr: 'up{job=~".*ece.*"} == 0' }] }]`,
			`{}`,
			`f.yml: no rule selects job="ece-exporter"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			snippet := fmt.Sprintf(`local d = (import 'config.libsonnet')._config;
(import 'lib/substitute.libsonnet').substitute('f.yml', %s, %s, d, d, 'eceExporterSelector', true)`, c.groups, c.thresholds)
			_, err := vm(t).EvaluateAnonymousSnippet("test.jsonnet", snippet)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestJsonnetFormatted: the mixin's files are as jsonnetfmt writes them
// (`jsonnetfmt -i` fixes them).
func TestJsonnetFormatted(t *testing.T) {
	var files []string
	for _, pat := range []string{"*.libsonnet", "*/*.libsonnet"} {
		m, err := filepath.Glob(pat)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.GreaterOrEqual(t, len(files), 5)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		want, err := formatter.Format(f, string(b), formatter.DefaultOptions())
		require.NoError(t, err, f)
		assert.Equal(t, want, string(b), "%s is not jsonnetfmt-formatted", f)
	}
}
