package deploy_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	runbooks = "../docs/runbooks.md"
	// runbookURL is the base of every alert's runbook_url: the project's
	// repository (README, Chart.yaml home).
	runbookURL = "https://github.com/ece-exporter/ece_exporter/blob/main/docs/runbooks.md#"
)

// runbookParts are the parts every runbook section has, in this order.
var runbookParts = []string{"**Meaning.**", "**Confirm.**", "**Act.**", "**Silence.**"}

type runbookSection struct {
	line int
	body string
}

// runbookSections returns the level-2 sections of docs/runbooks.md by
// heading (one per alert), and the headings seen more than once.
func runbookSections(t *testing.T) (map[string]runbookSection, []string) {
	t.Helper()
	b, err := os.ReadFile(runbooks)
	require.NoError(t, err)
	sections := map[string]runbookSection{}
	var dups []string
	cur := ""
	var body strings.Builder
	start := 0
	flush := func() {
		if cur != "" {
			sections[cur] = runbookSection{line: start, body: body.String()}
		}
		body.Reset()
	}
	fenced := false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if h, ok := strings.CutPrefix(line, "## "); ok && !fenced {
			flush()
			cur, start = strings.TrimSpace(h), i+1
			if _, seen := sections[cur]; seen {
				dups = append(dups, cur)
			}
			continue
		}
		body.WriteString(line + "\n")
	}
	flush()
	return sections, dups
}

// TestRunbooks keeps the alerts and docs/runbooks.md in step: every alert
// has exactly one section, titled with its name, and its runbook_url
// points at it; every section belongs to an alert; each section says what
// the alert means, confirms it with PromQL over metrics the exporter
// exposes, says what to do on ESS and on ECE and when to silence it.
func TestRunbooks(t *testing.T) {
	sections, dups := runbookSections(t)
	assert.Empty(t, dups, "%s: one section per alert; these headings repeat", runbooks)
	fams := known(t)
	alerts := map[string]bool{}
	for _, g := range loadRules(t, "prometheus/alerts.yml").Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			want := runbookURL + githubAnchor(r.Alert)
			sec, ok := sections[r.Alert]
			if !ok {
				t.Errorf("alert %s (group %s of deploy/prometheus/alerts.yml) has no runbook: add a section\n\n"+
					"## %s\n\n"+
					"**Meaning.** what it means (and whether it concerns ESS, ECE or both).\n\n"+
					"**Confirm.** a query, in a ```promql block, that shows it.\n\n"+
					"**Act.** what to do on ESS and on ECE.\n\n"+
					"**Silence.** when a silence is safe.\n\n"+
					"to docs/runbooks.md, and give the alert the annotation\n  runbook_url: %q",
					r.Alert, g.Name, r.Alert, want)
			}
			assert.Equal(t, want, r.Annotations["runbook_url"], "alert %s: runbook_url must point at its section of docs/runbooks.md", r.Alert)
			if !ok {
				continue
			}
			where := fmt.Sprintf("%s:%d (## %s)", runbooks, sec.line, r.Alert)
			last := -1
			for _, part := range runbookParts {
				i := strings.Index(sec.body, part)
				if assert.GreaterOrEqual(t, i, 0, "%s: no %s part (the parts are %v, in that order)", where, part, runbookParts) {
					assert.Greater(t, i, last, "%s: %s out of order (the parts are %v)", where, part, runbookParts)
					last = i
				}
			}
			act := sec.body
			if i := strings.Index(act, "**Act.**"); i >= 0 {
				act = act[i:]
				if j := strings.Index(act, "**Silence.**"); j >= 0 {
					act = act[:j]
				}
			}
			assert.Contains(t, act, "ESS", "%s: **Act.** must say what to do on ESS (or that it does not fire there)", where)
			assert.Contains(t, act, "ECE", "%s: **Act.** must say what to do on ECE (or that it does not fire there)", where)
			queries := regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(sec.body, -1)
			assert.NotEmpty(t, queries, "%s: **Confirm.** needs a ```promql block", where)
			for _, q := range queries {
				checkExpr(t, where, q[1], fams)
			}
		}
	}
	require.GreaterOrEqual(t, len(alerts), 25)
	for h, sec := range sections {
		assert.True(t, alerts[h], "%s:%d: section %q has no alert of that name in deploy/prometheus/alerts.yml: rename it to its alert or remove it", runbooks, sec.line, h)
	}
	// Links within the page resolve.
	b, err := os.ReadFile(runbooks)
	require.NoError(t, err)
	anchors := map[string]bool{}
	for h := range sections {
		anchors[githubAnchor(h)] = true
	}
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(string(b), -1) {
		assert.True(t, anchors[m[1]], "%s: link #%s has no section", runbooks, m[1])
	}
}

// TestRunbookLinksResolve: the links to docs/runbooks.md elsewhere in the
// repository (deploy/README.md's alert table, the dashboards) name
// existing sections.
func TestRunbookLinksResolve(t *testing.T) {
	sections, _ := runbookSections(t)
	anchors := map[string]bool{}
	for h := range sections {
		anchors[githubAnchor(h)] = true
	}
	link := regexp.MustCompile(`runbooks\.md#([a-z0-9_-]+)`)
	for _, f := range []string{"README.md", "../README.md", "grafana/dashboards/ece-exporter-overview.json"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			assert.True(t, anchors[m[1]], "%s links to %s#%s, which has no section", f, runbooks, m[1])
		}
	}
}
