package main

// The building blocks every dashboard shares: the datasource, the template
// variables, the links between the dashboards, query and panel helpers.

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// tag is shared by every generated dashboard: the dashboard links list the
// dashboards carrying it.
const tag = "ece_exporter"

// ds is the datasource of every panel and query: the datasource variable.
var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// Selectors the queries put in every exporter metric's braces.
const (
	selAcct = `account=~"$account"`
	selOrg  = selAcct + `,organization_id=~"$organization_id"`
	selDep  = selAcct + `,deployment_id=~"$deployment_id"`
)

// spec is one generated dashboard: its file name under deploy/grafana/dashboards
// and its builder.
type spec struct {
	file  string
	build func() *dashboard.DashboardBuilder
}

// newDashboard starts a dashboard with the shared settings: tags, time,
// refresh, the links to the other dashboards, the datasource and account
// variables, then the extra variables given (organization, deployment, ...).
func newDashboard(uid, title, description string, vars ...cog.Builder[dashboard.VariableModel]) *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"elastic", "elastic-cloud", "ece", tag}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-7d", "now").
		Refresh("5m").
		Timezone("browser").
		Link(dashboard.NewDashboardLinkBuilder("ece_exporter dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{tag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true)).
		Link(dashboard.NewDashboardLinkBuilder("Alert runbooks").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("doc").
			TargetBlank(true).
			Url("https://github.com/ece-exporter/ece_exporter/blob/main/docs/runbooks.md")).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")).
		WithVariable(queryVar("account", "Account", "label_values(ece_exporter_collector_success, account)"))
	for _, v := range vars {
		b = b.WithVariable(v)
	}
	return b
}

// queryVar is a multi-value label_values variable with an "All" of ".*",
// refreshed when the time range changes.
func queryVar(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds).
		Query(dashboard.StringOrMap{Map: map[string]any{"query": query, "refId": name, "qryType": 1}}).
		Definition(query).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

var (
	orgVar = queryVar("organization_id", "Organization",
		`label_values(ece_billing_organization_cost_ecu{account=~"$account"}, organization_id)`)
	deploymentVar = queryVar("deployment_id", "Deployment",
		`label_values(ece_deployment_info{account=~"$account"}, deployment_id)`)
)

// q is a range query (a time series panel, a stat with a sparkline).
func q(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend).Datasource(ds).Range()
}

// qi is an instant query (bar gauges, pie charts).
func qi(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Expr(expr).LegendFormat(legend).Datasource(ds).Instant()
}

// qt is an instant query in table format (tables).
func qt(ref, expr string) *prometheus.DataqueryBuilder {
	return qi(ref, expr, "__auto").Format(prometheus.PromQueryFormatTable)
}

// row is a row header; the panels that follow it belong to it.
func row(title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Collapsed(false)
}

func reduceLast() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).Fields("")
}

// steps are the thresholds: the base colour, then (value, colour) pairs.
func steps(base string, more ...any) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(more); i += 2 {
		s = append(s, dashboard.Threshold{Value: cog.ToPtr(toFloat(more[i])), Color: more[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic(fmt.Sprintf("threshold value %v", v))
}

func byThresholds() *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)
}

// boolMapping shows 0 and 1 as words in colours (red for the bad value).
func boolMapping(zero, one string, zeroBad bool) []dashboard.ValueMapping {
	bad, good := "red", "green"
	if !zeroBad {
		bad, good = good, bad
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr(zero), Color: cog.ToPtr(bad), Index: cog.ToPtr[int32](0)},
			"1": {Text: cog.ToPtr(one), Color: cog.ToPtr(good), Index: cog.ToPtr[int32](1)},
		},
	}}}
}

// organize hides the time column, renames and orders the columns of a table.
func organize(exclude []string, rename map[string]string, order []string) dashboard.DataTransformerConfig {
	ex := map[string]any{"Time": true}
	for _, e := range exclude {
		ex[e] = true
	}
	idx := map[string]any{}
	for i, o := range order {
		idx[o] = i
	}
	opts := map[string]any{"excludeByName": ex, "indexByName": idx}
	if len(rename) > 0 {
		opts["renameByName"] = rename
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: opts}
}

var merge = dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}

// render builds a dashboard, numbers its panels (rows and nested panels
// included) and returns its indented JSON with a final newline.
func render(b *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	// Without a placement Grafana shows the links above the panels; the
	// SDK's default hides them in the controls menu.
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for _, p := range d.Panels {
		if p.Panel != nil {
			unplace(p.Panel.Links)
		}
		if p.RowPanel != nil {
			for i := range p.RowPanel.Panels {
				unplace(p.RowPanel.Panels[i].Links)
			}
		}
	}
	var id uint32
	var l layout
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			id++
			p.Panel.Id = cog.ToPtr(id)
			l.place(p.Panel)
		case p.RowPanel != nil:
			id++
			p.RowPanel.Id = id
			y := l.row()
			p.RowPanel.GridPos = &dashboard.GridPos{X: 0, Y: y, W: 24, H: 1}
			for i := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[i].Id = cog.ToPtr(id)
				l.place(&p.RowPanel.Panels[i])
			}
			if p.RowPanel.Collapsed {
				// A collapsed row's panels take no room until opened.
				l = layout{y: y + 1}
			}
		}
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// layout flows panels left to right on Grafana's 24-column grid, starting a
// new line when a panel does not fit (the SDK's own placement lets the last
// panel of a line overflow), and puts each row under everything above it.
type layout struct{ x, y, bottom uint32 }

func (l *layout) place(p *dashboard.Panel) {
	w, h := uint32(12), uint32(8)
	if p.GridPos != nil {
		w, h = p.GridPos.W, p.GridPos.H
	}
	if l.x+w > 24 {
		l.x, l.y = 0, l.bottom
	}
	p.GridPos = &dashboard.GridPos{X: l.x, Y: l.y, W: w, H: h}
	l.x += w
	l.bottom = max(l.bottom, l.y+h)
}

// row returns the y of a new row and moves the cursor under it.
func (l *layout) row() uint32 {
	y := max(l.bottom, l.y)
	*l = layout{y: y + 1, bottom: y + 1}
	return y
}

// unplace drops the SDK's default placement of panel links (a dashboard-link
// field that panel links do not have).
func unplace(links []dashboard.DashboardLink) {
	for i := range links {
		links[i].Placement = nil
	}
}
