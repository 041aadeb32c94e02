package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const committed = "../grafana/dashboards"

// TestCommittedIsGenerated: the JSON in deploy/grafana/dashboards is exactly
// what the generator writes, and nothing else is there. After a change to
// the Go code: cd deploy/dashboards && go run .
func TestCommittedIsGenerated(t *testing.T) {
	want := map[string]bool{}
	for _, s := range dashboards {
		want[s.file] = true
		got, err := render(s.build())
		require.NoError(t, err, s.file)
		file, err := os.ReadFile(filepath.Join(committed, s.file))
		require.NoError(t, err, "%s is missing: cd deploy/dashboards && go run .", s.file)
		assert.True(t, string(file) == string(got), "%s differs from the generator's output: cd deploy/dashboards && go run .", s.file)
	}
	entries, err := os.ReadDir(committed)
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, want[e.Name()], "%s/%s is not generated: remove it or add it to the generator", committed, e.Name())
	}
}

// TestGenerationIsDeterministic: two renders are byte-equal (map order,
// panel ids), so the committed JSON does not churn.
func TestGenerationIsDeterministic(t *testing.T) {
	for _, s := range dashboards {
		a, err := render(s.build())
		require.NoError(t, err)
		b, err := render(s.build())
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), s.file)
	}
}

type genPanel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Type    string `json:"type"`
	Repeat  string `json:"repeat"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Links []struct {
		Title     string  `json:"title"`
		URL       string  `json:"url"`
		Placement *string `json:"placement"`
	} `json:"links"`
	Panels []genPanel `json:"panels"`
}

type genDashboard struct {
	UID   string   `json:"uid"`
	Title string   `json:"title"`
	Tags  []string `json:"tags"`
	Links []struct {
		Type        string   `json:"type"`
		Tags        []string `json:"tags"`
		IncludeVars bool     `json:"includeVars"`
		KeepTime    bool     `json:"keepTime"`
		Placement   *string  `json:"placement"`
	} `json:"links"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Hide int    `json:"hide"`
		} `json:"list"`
	} `json:"templating"`
	Panels []genPanel `json:"panels"`
}

func generated(t *testing.T) map[string]genDashboard {
	t.Helper()
	out := map[string]genDashboard{}
	for _, s := range dashboards {
		b, err := render(s.build())
		require.NoError(t, err)
		var d genDashboard
		require.NoError(t, json.Unmarshal(b, &d), s.file)
		out[s.file] = d
	}
	return out
}

func flatten(ps []genPanel) []genPanel {
	var all []genPanel
	for _, p := range ps {
		all = append(all, p)
		all = append(all, flatten(p.Panels)...)
	}
	return all
}

// TestDashboardsAreLinked: every dashboard lists the others (a dashboards
// link over the shared tag, keeping the variables and the time range) and
// shows its links above the panels; uids are distinct; panel ids are unique
// within a dashboard and panels fit the 24-column grid.
func TestDashboardsAreLinked(t *testing.T) {
	uids := map[string]string{}
	for file, d := range generated(t) {
		if prev, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share the uid %s", prev, file, d.UID)
		}
		uids[d.UID] = file
		assert.Contains(t, d.Tags, tag, file)
		linked := false
		for _, l := range d.Links {
			assert.Nil(t, l.Placement, "%s: a link placed in the controls menu is hidden", file)
			if l.Type == "dashboards" && len(l.Tags) == 1 && l.Tags[0] == tag && l.IncludeVars && l.KeepTime {
				linked = true
			}
		}
		assert.True(t, linked, "%s has no link to the other dashboards", file)
		ids := map[int]bool{}
		for _, p := range flatten(d.Panels) {
			assert.False(t, ids[p.ID], "%s: panel id %d twice", file, p.ID)
			ids[p.ID] = true
			assert.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "%s: panel %q overflows the grid", file, p.Title)
			assert.Positive(t, p.GridPos.W, "%s: panel %q", file, p.Title)
		}
	}
	// Panel links open another generated dashboard, with the time range and
	// variables this dashboard has.
	all := generated(t)
	links := 0
	for file, d := range all {
		vars := map[string]bool{"__url_time_range": true}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
		}
		for _, p := range flatten(d.Panels) {
			for _, l := range p.Links {
				links++
				assert.Nil(t, l.Placement, "%s: panel %q: link placement", file, p.Title)
				rest, ok := strings.CutPrefix(l.URL, "/d/")
				if !assert.True(t, ok, "%s: panel %q: link %q", file, p.Title, l.URL) {
					continue
				}
				uid, query, _ := strings.Cut(rest, "?")
				assert.NotEmpty(t, uids[uid], "%s: panel %q links to an unknown dashboard %q", file, p.Title, uid)
				assert.Contains(t, query, "${__url_time_range}", "%s: panel %q: the link drops the time range", file, p.Title)
				for _, m := range regexp.MustCompile(`\$\{([a-z_]+)(:[a-z]+)?\}`).FindAllStringSubmatch(query, -1) {
					assert.True(t, vars[m[1]], "%s: panel %q: the link uses ${%s}, which the dashboard does not define", file, p.Title, m[1])
				}
			}
		}
	}
	assert.GreaterOrEqual(t, links, 10, "the overview's panels open the area dashboards")
	assert.Equal(t, map[string]string{
		"ece-exporter": "ece-exporter-overview.json", "ece-exporter-costs": "ece-exporter-costs.json",
		"ece-exporter-health": "ece-exporter-health.json", "ece-exporter-platform": "ece-exporter-platform.json",
		"ece-exporter-self": "ece-exporter-self.json",
	}, uids)
}

// TestVariables: datasource and account everywhere; organization where
// costs are shown; deployment where deployments are; the overview's ECE
// platform row repeats over a hidden variable of the accounts that have
// platform series.
func TestVariables(t *testing.T) {
	want := map[string][]string{
		"ece-exporter-overview.json": {"datasource", "account", "organization_id", "ece_platform"},
		"ece-exporter-costs.json":    {"datasource", "account", "organization_id", "deployment_id"},
		"ece-exporter-health.json":   {"datasource", "account", "deployment_id"},
		"ece-exporter-platform.json": {"datasource", "account"},
		"ece-exporter-self.json":     {"datasource", "account"},
	}
	for file, d := range generated(t) {
		var names []string
		for _, v := range d.Templating.List {
			names = append(names, v.Name)
			assert.Equal(t, v.Name == "ece_platform", v.Hide == 2, "%s: only ece_platform is hidden", file)
		}
		assert.Equal(t, want[file], names, file)
	}
	var platformRow *genPanel
	for _, p := range generated(t)["ece-exporter-overview.json"].Panels {
		if p.Repeat == "ece_platform" {
			platformRow = &p
		}
	}
	require.NotNil(t, platformRow, "the overview has no ECE platform row repeating over $ece_platform")
	assert.Equal(t, "row", platformRow.Type)
	require.NotEmpty(t, platformRow.Panels, "the ECE platform row is collapsed with its panels inside")
	for _, p := range platformRow.Panels {
		for _, tg := range p.Targets {
			assert.Contains(t, tg.Expr, `account=~"$ece_platform"`, "panel %q of the repeated row ignores $ece_platform", p.Title)
		}
	}
}

// normalise drops the deployment filter the generated panels add to the
// hand-written queries (a narrowing the hand-written dashboard did not offer).
func normalise(expr string) string {
	return strings.ReplaceAll(expr, `,deployment_id=~"$deployment_id"`, "")
}

// TestCarriesOverHandWritten: every panel of the former hand-written
// dashboard (deploy/grafana/ece-exporter.json, its titles and queries kept
// in testdata) exists in the generated set with the same title, type and
// queries (up to the added deployment filter).
func TestCarriesOverHandWritten(t *testing.T) {
	b, err := os.ReadFile("testdata/handwritten-panels.json")
	require.NoError(t, err)
	var old []struct {
		Title string   `json:"title"`
		Type  string   `json:"type"`
		Exprs []string `json:"exprs"`
	}
	require.NoError(t, json.Unmarshal(b, &old))
	require.Len(t, old, 27)
	type key struct{ title, typ string }
	gen := map[key][][]string{}
	for _, d := range generated(t) {
		for _, p := range flatten(d.Panels) {
			var exprs []string
			for _, tg := range p.Targets {
				exprs = append(exprs, normalise(tg.Expr))
			}
			gen[key{p.Title, p.Type}] = append(gen[key{p.Title, p.Type}], exprs)
		}
	}
	for _, o := range old {
		found, ok := gen[key{o.Title, o.Type}]
		if !assert.True(t, ok, "panel %q (%s) of the hand-written dashboard is not generated", o.Title, o.Type) {
			continue
		}
		if o.Type == "row" {
			continue
		}
		match := false
		for _, exprs := range found {
			a, b := append([]string(nil), exprs...), append([]string(nil), o.Exprs...)
			sort.Strings(a)
			sort.Strings(b)
			match = match || strings.Join(a, "\n") == strings.Join(b, "\n")
		}
		assert.True(t, match, "panel %q: queries differ from the hand-written dashboard's\nwant %q\ngot  %q", o.Title, o.Exprs, found)
	}
}

// TestStrictlyDecodes: each committed dashboard decodes strictly into the
// SDK's dashboard model (generated from Grafana's schema), panel options
// and queries included: no unknown field, no wrong type, nothing required
// missing.
func TestStrictlyDecodes(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, s := range dashboards {
		b, err := os.ReadFile(filepath.Join(committed, s.file))
		require.NoError(t, err)
		var d dashboard.Dashboard
		err = d.UnmarshalJSONStrict(b)
		if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
			err = nil // the SDK returns its empty error list as a non-nil error
		}
		assert.NoError(t, err, s.file)
	}
}
