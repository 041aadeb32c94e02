package main

// Panel constructors with the house defaults (last value, table legends on
// the right, multi tooltips), so that the dashboards read as lists of panels.

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/statushistory"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

const ecu = "suffix: ECU"

// statP is a single-value panel (last value, no sparkline unless area).
func statP(title, desc, unit string, w, h uint32, area bool, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	graph := common.BigValueGraphModeNone
	if area {
		graph = common.BigValueGraphModeArea
	}
	p := stat.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).
		ReduceOptions(reduceLast()).ColorMode(common.BigValueColorModeValue).GraphMode(graph).TextMode(common.BigValueTextModeAuto).Orientation(common.VizOrientationAuto)
	for _, x := range qs {
		p = p.WithTarget(x)
	}
	return p
}

// countStat is a stat of how many things are wrong: green at 0, the colour
// given from 1 on.
func countStat(title, desc, color string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return statP(title, desc, "none", w, h, false, qs...).ColorScheme(byThresholds()).Thresholds(steps("green", 1, color))
}

// timeP is a time series with a table legend on the right.
func timeP(title, desc, unit string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementRight).
			Calcs([]string{"lastNotNull"}).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	for _, x := range qs {
		p = p.WithTarget(x)
	}
	return p
}

// barP is a horizontal bar gauge of the last values.
func barP(title, desc, unit string, mode common.BarGaugeDisplayMode, w, h uint32, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).
		Orientation(common.VizOrientationHorizontal).DisplayMode(mode).ShowUnfilled(true).ReduceOptions(reduceLast())
	for _, x := range qs {
		p = p.WithTarget(x)
	}
	return p
}

// pieP is a donut with a table legend of values and percents.
func pieP(title, desc, unit string, w, h uint32, x *prometheus.DataqueryBuilder) *piechart.PanelBuilder {
	return piechart.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).
		PieType(piechart.PieChartTypeDonut).ReduceOptions(reduceLast()).Orientation(common.VizOrientationAuto).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		Legend(piechart.NewPieChartLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementBottom).
			Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesValue, piechart.PieChartLegendValuesPercent}).ShowLegend(true)).
		WithTarget(x)
}

// tableP is a table of instant queries in table format.
func tableP(title, desc string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	p := table.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Span(w).Height(h).ShowHeader(true).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).CountRows(false))
	for _, x := range qs {
		p = p.WithTarget(x)
	}
	return p
}

// matrixP is a table of 0/1 columns (one query each, merged on the labels
// in order), shown as coloured words; the label columns stay plain.
func matrixP(title, desc string, w, h uint32, labels []string, cols []string, zero, one string, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	p := tableP(title, desc, w, h, qs...).
		Mappings(boolMapping(zero, one, true)).
		Align(common.FieldTextAlignmentCenter).
		CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{
			Type: common.TableCellDisplayModeColorBackground, Mode: cog.ToPtr(common.TableCellBackgroundDisplayModeBasic)}}).
		ColorScheme(byThresholds()).Thresholds(steps("red", 1, "green")).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(cols[0]).Desc(false)})
	for _, l := range labels {
		p = p.OverrideByName(l, []dashboard.DynamicConfigValue{
			{Id: "custom.cellOptions", Value: map[string]any{"type": "auto"}},
			{Id: "mappings", Value: []any{}},
		})
	}
	rename := map[string]string{}
	for i, c := range cols {
		rename["Value #"+string(rune('A'+i))] = c
	}
	return p.WithTransformation(merge).WithTransformation(organize(nil, rename, labels))
}

// historyP is a status history: one row per series, each cell coloured by
// its value (the "heat map by instance" of the capacity panels).
func historyP(title, desc, unit string, w, h uint32, th *dashboard.ThresholdsConfigBuilder, x *prometheus.DataqueryBuilder) *statushistory.PanelBuilder {
	return statushistory.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).
		ColorScheme(byThresholds()).Thresholds(th).ShowValue(common.VisibilityModeNever).RowHeight(0.9).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(false).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		WithTarget(x)
}

// timelineP is a state timeline of 0/1 series.
func timelineP(title, desc string, w, h uint32, mapping []dashboard.ValueMapping, th *dashboard.ThresholdsConfigBuilder, x *prometheus.DataqueryBuilder) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Span(w).Height(h).
		Mappings(mapping).ColorScheme(byThresholds()).Thresholds(th).
		ShowValue(common.VisibilityModeNever).MergeValues(true).RowHeight(0.8).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(false).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		WithTarget(x)
}

// fixedColor is an override property giving a series one colour.
func fixedColor(c string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}}
}

func sortDesc(col string) []cog.Builder[common.TableSortByFieldState] {
	return []cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(col).Desc(true)}
}

func sortAsc(col string) []cog.Builder[common.TableSortByFieldState] {
	return []cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(col).Desc(false)}
}
