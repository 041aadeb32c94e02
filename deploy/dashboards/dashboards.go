package main

// The five dashboards: overview, costs, deployment health, ECE platform and
// the exporter itself. Each metric selector carries account=~"$account"
// (deploy/deploy_test.go checks it), the deployment-level ones also
// deployment_id=~"$deployment_id" where the dashboard has that variable.

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

var dashboards = []spec{
	{"ece-exporter-overview.json", overview},
	{"ece-exporter-costs.json", costs},
	{"ece-exporter-health.json", health},
	{"ece-exporter-platform.json", platform},
	{"ece-exporter-self.json", exporter},
}

// withNames joins the deployment names of ece_deployment_info to a
// per-deployment aggregation.
func withNames(expr string) string {
	return expr + ` * on (account, deployment_id) group_left (deployment_name) max by (account, deployment_id, deployment_name) (ece_deployment_info{` + selAcct + `})`
}

// open is a panel link to another dashboard, keeping the time range and
// the account (and the variables named) selection.
func open(uid, what string, vars ...string) []cog.Builder[dashboard.DashboardLink] {
	url := "/d/" + uid + "?${__url_time_range}"
	for _, v := range append([]string{"account"}, vars...) {
		url += "&${" + v + ":queryparam}"
	}
	return openURL(url, what)
}

func openURL(url, what string) []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{dashboard.NewDashboardLinkBuilder("Open " + what).Type(dashboard.DashboardLinkTypeLink).Url(url)}
}

// openPlatform opens the platform dashboard on the account of the repeated row.
var openPlatform = openURL("/d/ece-exporter-platform?${__url_time_range}&var-account=${ece_platform}", "the ECE platform dashboard")

// platformVar lists the accounts with ECE platform series; the overview's
// ECE platform row repeats over it. Grafana cannot repeat a row zero times
// (grafana/grafana#10764): on an ESS-only setup the row is shown once,
// collapsed, and runs no query until opened.
var platformVar = queryVar("ece_platform", "ECE platform", `label_values(ece_platform_allocator_info{account=~"$account"}, account)`).
	Hide(dashboard.VariableHideHideVariable).AllValue("")

// selPlat selects one ECE account of the repeated platform row.
const selPlat = selAcct + `,account=~"$ece_platform"`

func overview() *dashboard.DashboardBuilder {
	return newDashboard("ece-exporter", "Elastic Cloud overview (ece_exporter)",
		"What needs attention across costs, deployment health, the ECE platform and the exporter; the links at the top open each area's dashboard.",
		orgVar, platformVar).
		WithRow(row("At a glance")).
		WithPanel(statP("Month-to-date cost", "ece_billing_organization_cost_ecu: cost of the current month so far, per organization.", ecu, 4, 4, true,
			q("A", `sum by (organization_id) (ece_billing_organization_cost_ecu{`+selOrg+`})`, "{{organization_id}}")).
			Links(open("ece-exporter-costs", "the costs dashboard", "organization_id"))).
		WithPanel(statP("Hourly rate", "ece_billing_organization_hourly_rate_ecu: what the organization costs per hour now.", "suffix: ECU/h", 4, 4, true,
			q("A", `sum by (organization_id) (ece_billing_organization_hourly_rate_ecu{`+selOrg+`})`, "{{organization_id}}")).
			Links(open("ece-exporter-costs", "the costs dashboard", "organization_id"))).
		WithPanel(countStat("Unhealthy deployments", "Deployments the API reports unhealthy (ece_deployment_healthy == 0); see the deployment health dashboard.", "red", 4, 4,
			q("A", `count(ece_deployment_healthy{`+selAcct+`} == 0) or vector(0)`, "unhealthy")).
			Links(open("ece-exporter-health", "the deployment health dashboard"))).
		WithPanel(countStat("Broken remote links", "Cross-cluster links unhealthy now (ece_remote_cluster_healthy == 0).", "red", 4, 4,
			q("A", `count(ece_remote_cluster_healthy{`+selAcct+`} == 0) or vector(0)`, "unhealthy")).
			Links(open("ece-exporter-health", "the deployment health dashboard"))).
		WithPanel(countStat("API keys expiring within 28 days", "Keys whose ece_api_key_expiration_timestamp_seconds is less than 28 days away (the warning alert's threshold).", "orange", 4, 4,
			q("A", `count(ece_api_key_expiration_timestamp_seconds{`+selAcct+`} - time() < 28 * 86400) or vector(0)`, "expiring"))).
		WithPanel(countStat("Failing collectors", "Collectors whose last poll failed (ece_exporter_collector_success == 0); see the exporter dashboard.", "red", 4, 4,
			q("A", `count(ece_exporter_collector_success{`+selAcct+`} == 0) or vector(0)`, "failing")).
			Links(open("ece-exporter-self", "the exporter dashboard"))).
		WithRow(row("API keys (refreshed every 15 minutes)")).
		WithPanel(barP("Days until API keys expire", "ece_api_key_expiration_timestamp_seconds minus now. Keys that never expire have no expiration series and are not listed here (see the table). Alerts: < 28 days warning, < 7 days critical.",
			"d", common.BarGaugeDisplayModeBasic, 12, 10,
			qi("A", `sort((ece_api_key_expiration_timestamp_seconds{`+selAcct+`} - time()) / 86400 * on (account, key_id, user_id) group_left (description) max by (account, key_id, user_id, description) (ece_api_key_info{`+selAcct+`}))`,
				"{{key_id}} {{description}} ({{user_id}}, {{account}})")).
			Decimals(1).Min(0).ColorScheme(byThresholds()).Thresholds(steps("red", 7, "orange", 28, "green"))).
		WithPanel(tableP("API keys", "ece_api_key_info: every key the exporter sees; expires=false for keys that never expire.", 12, 10,
			qt("A", `max by (account, key_id, user_id, organization_id, description, expires) (ece_api_key_info{`+selAcct+`})`)).
			WithTransformation(organize([]string{"Value"}, nil, []string{"account", "key_id", "description", "user_id", "organization_id", "expires"}))).
		WithRow(row("ECE platform: $ece_platform").Repeat("ece_platform").
			WithPanel(countStat("Disconnected allocators", "Allocators not connected to the platform (ece_platform_allocator_connected == 0).", "red", 4, 4,
				q("A", `count(ece_platform_allocator_connected{`+selPlat+`} == 0) or vector(0)`, "disconnected")).
				Links(openPlatform)).
			WithPanel(statP("Fullest zone (memory)", "The highest per-zone share of allocator memory in use (ece_platform_allocator_zone_memory_used_bytes / _capacity_bytes). Alerts: 85 % warning, 95 % critical.", "percentunit", 5, 4, true,
				q("A", `max(ece_platform_allocator_zone_memory_used_bytes{`+selPlat+`} / ece_platform_allocator_zone_memory_capacity_bytes{`+selPlat+`})`, "fullest zone")).
				ColorScheme(byThresholds()).Thresholds(steps("green", 0.85, "orange", 0.95, "red")).
				Links(openPlatform)).
			WithPanel(statP("Proxies", "ece_platform_proxies_status: the proxies' overall health (green, yellow, red).", "none", 5, 4, false,
				qi("A", `max by (status) (ece_platform_proxies_status{`+selPlat+`} == 1)`, "{{status}}")).
				TextMode(common.BigValueTextModeName).
				OverrideByName("green", fixedColor("green")).OverrideByName("yellow", fixedColor("yellow")).OverrideByName("red", fixedColor("red")).
				Links(openPlatform)).
			WithPanel(statP("License expires in", "ece_platform_license_expiration_timestamp_seconds minus now. Alerts: < 30 days warning, < 7 days critical.", "dtdurations", 5, 4, false,
				q("A", `min(ece_platform_license_expiration_timestamp_seconds{`+selPlat+`}) - time()`, "license")).
				ColorScheme(byThresholds()).Thresholds(steps("red", 7*86400, "orange", 30*86400, "green")).
				Links(openPlatform)).
			WithPanel(statP("First certificate to expire", "The soonest ece_platform_certificate_expiration_timestamp_seconds minus now. Alerts: < 30 days warning, < 7 days critical.", "dtdurations", 5, 4, false,
				q("A", `min(ece_platform_certificate_expiration_timestamp_seconds{`+selPlat+`}) - time()`, "certificate")).
				ColorScheme(byThresholds()).Thresholds(steps("red", 7*86400, "orange", 30*86400, "green")).
				Links(openPlatform)))
}

func costs() *dashboard.DashboardBuilder {
	depCost := `sum by (account, deployment_id) (ece_billing_deployment_cost_ecu{` + selOrg + `,deployment_id=~"$deployment_id"})`
	depRate := `sum by (account, deployment_id) (ece_billing_deployment_hourly_rate_ecu{` + selOrg + `,deployment_id=~"$deployment_id"})`
	org := func(metric string) string {
		return `sum by (organization_id) (` + metric + `{` + selOrg + `})`
	}
	chart := `ece_billing_chart_cost_ecu{` + selOrg + `,deployment_id="",bucket=`
	return newDashboard("ece-exporter-costs", "Elastic Cloud costs (ece_exporter)",
		"Costs in ECU: billing data is refreshed hourly, cost charts every 6 hours.", orgVar, deploymentVar).
		WithRow(row("Costs (ECU; billing data is refreshed hourly, cost charts every 6 hours)")).
		WithPanel(statP("Month-to-date cost", "ece_billing_organization_cost_ecu: cost of the current month so far, per organization.", ecu, 6, 4, true,
			q("A", org("ece_billing_organization_cost_ecu"), "{{organization_id}}"))).
		WithPanel(statP("Hourly rate", "ece_billing_organization_hourly_rate_ecu: what the organization costs per hour now.", "suffix: ECU/h", 6, 4, true,
			q("A", org("ece_billing_organization_hourly_rate_ecu"), "{{organization_id}}"))).
		WithPanel(statP("Balance remaining", "ece_billing_organization_balance_remaining_ecu: prepaid credit left.", ecu, 6, 4, true,
			q("A", org("ece_billing_organization_balance_remaining_ecu"), "{{organization_id}}"))).
		WithPanel(statP("Previous month", "ece_billing_organization_previous_month_cost_ecu: final cost of the previous calendar month.", ecu, 6, 4, true,
			q("A", org("ece_billing_organization_previous_month_cost_ecu"), "{{organization_id}}"))).
		WithPanel(barP("Top 10 deployments by month-to-date cost", "ece_billing_deployment_cost_ecu with the deployment names of ece_deployment_info.", ecu, common.BarGaugeDisplayModeGradient, 12, 9,
			qi("A", `topk(10, `+withNames(depCost)+`)`, "{{deployment_name}} ({{deployment_id}})"))).
		WithPanel(pieP("Cost by dimension", "ece_billing_organization_dimension_cost_ecu: month-to-date cost by dimension (capacity, data transfer, storage, ...).", ecu, 6, 9,
			qi("A", `sum by (dimension) (ece_billing_organization_dimension_cost_ecu{`+selOrg+`})`, "{{dimension}}"))).
		WithPanel(pieP("Cost by resource kind", "ece_billing_item_cost_ecu summed by kind (elasticsearch, kibana, apm, ...).", ecu, 6, 9,
			qi("A", `sum by (kind) (ece_billing_item_cost_ecu{`+selOrg+`,deployment_id=~"$deployment_id"})`, "{{kind}}"))).
		WithPanel(timeP("Daily cost trend (complete days, from the cost charts)", "The previous (complete) daily bucket of the organization cost chart (ece_billing_chart_cost_ecu{bucket=\"previous\"}): the organization total and its five most expensive deployments. The same numbers as the recording rules ece:billing_*_daily_cost_ecu.", ecu, 12, 9,
			q("A", `sum by (organization_id) (`+chart+`"previous"})`, "organization {{organization_id}}"),
			q("B", `topk(5, `+withNames(`sum by (account, deployment_id) (label_replace(`+chart+`"previous"}, "deployment_id", "$1", "series_id", "(.+)"))`)+`)`, "{{deployment_name}}")).
			LineInterpolation(common.LineInterpolationStepAfter).FillOpacity(10)).
		WithPanel(timeP("Month-to-date cost and today so far", "ece_billing_organization_cost_ecu rises through the month and restarts on the 1st; the running (current) bucket of the cost chart shows today so far.", ecu, 12, 9,
			q("A", org("ece_billing_organization_cost_ecu"), "month to date {{organization_id}}"),
			q("B", `sum by (organization_id) (`+chart+`"current"})`, "today so far {{organization_id}}")).
			LineInterpolation(common.LineInterpolationStepAfter).FillOpacity(10)).
		WithPanel(tableP("Deployments: cost and rate", "Month-to-date cost and current hourly rate per deployment (ece_billing_deployment_cost_ecu, ece_billing_deployment_hourly_rate_ecu).", 24, 8,
			qt("A", withNames(depCost)), qt("B", withNames(depRate))).
			OverrideByName("month to date", []dashboard.DynamicConfigValue{{Id: "unit", Value: ecu}, {Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}}}).
			OverrideByName("hourly rate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "suffix: ECU/h"}}).
			SortBy(sortDesc("month to date")).
			WithTransformation(merge).
			WithTransformation(organize(nil, map[string]string{"Value #A": "month to date", "Value #B": "hourly rate"},
				[]string{"account", "deployment_name", "deployment_id", "Value #A", "Value #B"}))).
		WithPanel(tableP("Cost by team", "Month-to-date cost, hourly rate and month-end forecast (at the hourly rate) of the deployments by their team tag, from the recording rules ece:billing_tag_*{tag_key=\"team\"} (deploy/prometheus/recording.yml): the tag must be allow-listed in collectors.deployment_health.tags. Deployments without it are \"untagged\", so the rows add up to the deployments' total. For another tag key, add its ece:billing_deployment_tag_info rule (deploy/README.md).", 24, 8,
			qt("A", byTeam("ece:billing_tag_current_month_cost_ecu")), qt("B", byTeam("ece:billing_tag_hourly_rate_ecu")),
			qt("C", byTeam("ece:billing_tag_month_end_forecast_cost_ecu:hourly_rate"))).
			OverrideByName("month to date", []dashboard.DynamicConfigValue{{Id: "unit", Value: ecu}, {Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}}}).
			OverrideByName("hourly rate", []dashboard.DynamicConfigValue{{Id: "unit", Value: "suffix: ECU/h"}}).
			OverrideByName("month-end forecast", []dashboard.DynamicConfigValue{{Id: "unit", Value: ecu}}).
			SortBy(sortDesc("month to date")).
			WithTransformation(merge).
			WithTransformation(organize(nil, map[string]string{"tag_value": "team", "Value #A": "month to date", "Value #B": "hourly rate", "Value #C": "month-end forecast"},
				[]string{"tag_value", "Value #A", "Value #B", "Value #C"})))
}

// byTeam sums a per-tag recording rule by the value of the team tag over
// the selected accounts and organizations.
func byTeam(metric string) string {
	return `sum by (tag_value) (` + metric + `{` + selOrg + `,tag_key="team"})`
}

func health() *dashboard.DashboardBuilder {
	res := []string{"account", "deployment_id", "kind", "ref_id"}
	byRes := func(metric string) string {
		return `max by (account, deployment_id, kind, ref_id) (` + metric + `{` + selDep + `})`
	}
	link := []string{"account", "deployment_id", "ref_id", "alias", "remote_deployment_id", "remote_ref_id"}
	byLink := func(metric string) string {
		return `max by (account, deployment_id, ref_id, alias, remote_deployment_id, remote_ref_id) (` + metric + `{` + selDep + `})`
	}
	inst := func(expr string) string {
		return `max by (account, deployment_id, ref_id, instance_name) (` + expr + `)`
	}
	return newDashboard("ece-exporter-health", "Elastic Cloud deployment health (ece_exporter)",
		"Health of the deployments and their resources (refreshed every 2 minutes), capacity per instance, stack versions and cross-cluster links.", deploymentVar).
		WithRow(row("Health overview (refreshed every 2 minutes)")).
		WithPanel(countStat("Unhealthy deployments", "ece_deployment_healthy == 0: deployments the API reports unhealthy. The alert fires after 10 minutes.", "red", 6, 4,
			q("A", `count(ece_deployment_healthy{`+selDep+`} == 0) or vector(0)`, "unhealthy"))).
		WithPanel(countStat("Red Elasticsearch clusters", "Elasticsearch resources whose shard health is red (ece_elasticsearch_shards_status{status=\"red\"}).", "red", 6, 4,
			q("A", `count(ece_elasticsearch_shards_status{`+selDep+`,status="red"} == 1) or vector(0)`, "red"))).
		WithPanel(countStat("Pending plans", "Resources with a plan change in progress (ece_deployment_resource_plan_pending).", "orange", 6, 4,
			q("A", `count(ece_deployment_resource_plan_pending{`+selDep+`} == 1) or vector(0)`, "pending"))).
		WithPanel(statP("Oldest latest snapshot", "Age of the stalest Elasticsearch resource's latest successful snapshot (now - ece_elasticsearch_snapshot_latest_success_timestamp_seconds).", "dtdurations", 6, 4, false,
			q("A", `time() - min(ece_elasticsearch_snapshot_latest_success_timestamp_seconds{`+selDep+`})`, "oldest")).
			ColorScheme(byThresholds()).Thresholds(steps("green", 86400, "orange", 2*86400, "red"))).
		WithPanel(matrixP("Resource health", "One row per resource: healthy (ece_deployment_resource_healthy), last plan healthy (ece_deployment_resource_plan_healthy), Elasticsearch snapshots healthy (ece_elasticsearch_snapshot_healthy).",
			16, 10, res, []string{"healthy", "plan healthy", "snapshots healthy"}, "NO", "yes",
			qt("A", byRes("ece_deployment_resource_healthy")), qt("B", byRes("ece_deployment_resource_plan_healthy")), qt("C", byRes("ece_elasticsearch_snapshot_healthy")))).
		WithPanel(tableP("Elasticsearch shard health", "ece_elasticsearch_shards_status: the current colour of each Elasticsearch resource.", 8, 10,
			qt("A", `max by (account, deployment_id, ref_id, status) (ece_elasticsearch_shards_status{`+selDep+`} == 1)`)).
			SortBy(sortDesc("status")).
			OverrideByName("status", []dashboard.DynamicConfigValue{{Id: "mappings", Value: []any{map[string]any{"type": "value", "options": map[string]any{
				"green": map[string]any{"color": "green", "index": 0}, "yellow": map[string]any{"color": "yellow", "index": 1}, "red": map[string]any{"color": "red", "index": 2}}}}},
				{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"}}}).
			WithTransformation(organize([]string{"Value"}, nil, []string{"account", "deployment_id", "ref_id", "status"}))).
		WithPanel(barP("Age of the latest successful snapshot", "now - ece_elasticsearch_snapshot_latest_success_timestamp_seconds per Elasticsearch resource, oldest first.", "s", common.BarGaugeDisplayModeBasic, 24, 8,
			qi("A", `sort_desc(time() - max by (account, deployment_id, ref_id) (ece_elasticsearch_snapshot_latest_success_timestamp_seconds{`+selDep+`}))`, "{{deployment_id}} {{ref_id}}")).
			Min(0).ColorScheme(byThresholds()).Thresholds(steps("green", 86400, "orange", 2*86400, "red"))).
		WithRow(row("Capacity by instance")).
		WithPanel(historyP("JVM memory pressure by instance", "ece_instance_memory_pressure_ratio over time, one row per instance: green below 75 %, orange to 85 %, red above.", "percentunit", 12, 10,
			steps("green", 0.75, "orange", 0.85, "red"),
			q("A", inst(`ece_instance_memory_pressure_ratio{`+selDep+`}`), "{{deployment_id}} {{ref_id}} {{instance_name}}"))).
		WithPanel(historyP("Disk use by instance", "ece_instance_disk_used_bytes / ece_instance_disk_capacity_bytes over time, one row per instance: green below 80 %, orange to 90 %, red above.", "percentunit", 12, 10,
			steps("green", 0.8, "orange", 0.9, "red"),
			q("A", inst(`ece_instance_disk_used_bytes{`+selDep+`} / ece_instance_disk_capacity_bytes{`+selDep+`}`), "{{deployment_id}} {{ref_id}} {{instance_name}}"))).
		WithRow(row("Versions")).
		WithPanel(pieP("Resources by stack version", "ece_deployment_resource_version_info: how many resources run each stack version.", "none", 8, 9,
			qi("A", `count by (version) (ece_deployment_resource_version_info{`+selDep+`})`, "{{version}}"))).
		WithPanel(tableP("Resources and their versions", "ece_deployment_resource_version_info: the stack version of each resource's current plan.", 8, 9,
			qt("A", `max by (account, deployment_id, kind, ref_id, version) (ece_deployment_resource_version_info{`+selDep+`})`)).
			WithTransformation(organize([]string{"Value"}, nil, []string{"account", "deployment_id", "kind", "ref_id", "version"}))).
		WithPanel(tableP("Stack versions", "ece_stack_version_info with ece_stack_version_deleted: the versions the platform offers, what each upgrades to, and those marked for deletion.", 8, 9,
			qt("A", `max by (account, version, min_upgradable_from, upgradable_to) (ece_stack_version_info{`+selAcct+`}) * on (account, version) group_left () max by (account, version) (ece_stack_version_deleted{`+selAcct+`})`)).
			OverrideByName("deleted", []dashboard.DynamicConfigValue{{Id: "mappings", Value: []any{map[string]any{"type": "value", "options": map[string]any{
				"0": map[string]any{"text": "no", "index": 0}, "1": map[string]any{"text": "deleted", "color": "orange", "index": 1}}}}}}).
			WithTransformation(organize(nil, map[string]string{"Value": "deleted"}, []string{"account", "version", "min_upgradable_from", "upgradable_to", "Value"}))).
		WithRow(row("Remote clusters (refreshed every minute)")).
		WithPanel(matrixP("Remote-cluster health matrix", "One row per cross-cluster link (ece_remote_cluster_*): deployment/ref → remote alias. NO in healthy, connected, trusted or trusted_back for 5 minutes raises an alert.",
			18, 10, link, []string{"healthy", "connected", "compatible", "trusted", "trusted_back", "skip_unavailable"}, "NO", "yes",
			qt("A", byLink("ece_remote_cluster_healthy")), qt("B", byLink("ece_remote_cluster_connected")), qt("C", byLink("ece_remote_cluster_compatible")),
			qt("D", byLink("ece_remote_cluster_trusted")), qt("E", byLink("ece_remote_cluster_trusted_back")), qt("F", byLink("ece_remote_cluster_skip_unavailable")))).
		WithPanel(countStat("Broken links", "Links unhealthy, disconnected or untrusted in at least one direction now; remotes the API returned without info.", "red", 6, 10,
			q("A", `count(ece_remote_cluster_healthy{`+selDep+`} == 0) or vector(0)`, "unhealthy"),
			q("B", `count(ece_remote_cluster_connected{`+selDep+`} == 0) or vector(0)`, "disconnected"),
			q("C", `count(ece_remote_cluster_trusted{`+selDep+`} == 0 or ece_remote_cluster_trusted_back{`+selDep+`} == 0) or vector(0)`, "untrusted"),
			q("D", `sum(ece_remote_cluster_info_missing{`+selDep+`}) or vector(0)`, "without info")).
			Orientation(common.VizOrientationHorizontal))
}

func platform() *dashboard.DashboardBuilder {
	alloc := []string{"account", "zone", "allocator_id"}
	byAlloc := func(expr string) string { return `max by (account, zone, allocator_id) (` + expr + `)` }
	zone := func(metric string) string {
		return `sum by (account, zone) (` + metric + `{` + selAcct + `})`
	}
	zoneUse := zone("ece_platform_allocator_zone_memory_used_bytes") + ` / ` + zone("ece_platform_allocator_zone_memory_capacity_bytes")
	return newDashboard("ece-exporter-platform", "Elastic Cloud Enterprise platform (ece_exporter)",
		"ECE only (ESS has no platform API): allocators, zones, proxies, runners, the license and the TLS certificates. Needs a platform admin key.").
		WithRow(row("Allocators and zones (refreshed every minute)")).
		WithPanel(countStat("Disconnected allocators", "ece_platform_allocator_connected == 0. The alert fires after 5 minutes.", "red", 6, 4,
			q("A", `count(ece_platform_allocator_connected{`+selAcct+`} == 0) or vector(0)`, "disconnected"))).
		WithPanel(countStat("Unhealthy allocators", "ece_platform_allocator_healthy == 0. The alert fires after 5 minutes.", "red", 6, 4,
			q("A", `count(ece_platform_allocator_healthy{`+selAcct+`} == 0) or vector(0)`, "unhealthy"))).
		WithPanel(countStat("Allocators in maintenance", "ece_platform_allocator_maintenance_mode == 1: no new instances are placed there.", "orange", 6, 4,
			q("A", `count(ece_platform_allocator_maintenance_mode{`+selAcct+`} == 1) or vector(0)`, "maintenance"))).
		WithPanel(countStat("Instances moving", "ece_platform_allocator_instances_moving summed: instances being moved off allocators.", "orange", 6, 4,
			q("A", `sum(ece_platform_allocator_instances_moving{`+selAcct+`}) or vector(0)`, "moving"))).
		WithPanel(barP("Zone memory used", "Per zone: ece_platform_allocator_zone_memory_used_bytes / ece_platform_allocator_zone_memory_capacity_bytes. Alerts: 85 % warning, 95 % critical.", "percentunit", common.BarGaugeDisplayModeGradient, 8, 8,
			qi("A", zoneUse, "{{account}} {{zone}}")).
			Min(0).Max(1).ColorScheme(byThresholds()).Thresholds(steps("green", 0.85, "orange", 0.95, "red"))).
		WithPanel(timeP("Zone memory used over time", "The same ratio per zone over time, with the 85 % and 95 % alert thresholds.", "percentunit", 16, 8,
			q("A", zoneUse, "{{account}} {{zone}}")).
			Min(0).Max(1).ColorScheme(byThresholds()).Thresholds(steps("green", 0.85, "orange", 0.95, "red")).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))).
		WithPanel(matrixP("Allocators", "One row per allocator: connected, healthy, not in maintenance (ece_platform_allocator_connected, _healthy, _maintenance_mode).",
			12, 10, alloc, []string{"connected", "healthy", "accepting instances"}, "NO", "yes",
			qt("A", byAlloc(`ece_platform_allocator_connected{`+selAcct+`}`)),
			qt("B", byAlloc(`ece_platform_allocator_healthy{`+selAcct+`}`)),
			qt("C", byAlloc(`1 - ece_platform_allocator_maintenance_mode{`+selAcct+`}`)))).
		WithPanel(tableP("Allocator load", "Per allocator: memory in use (ece_platform_allocator_memory_used_bytes / _capacity_bytes), instances and unhealthy instances.", 12, 10,
			qt("A", byAlloc(`ece_platform_allocator_memory_used_bytes{`+selAcct+`} / ece_platform_allocator_memory_capacity_bytes{`+selAcct+`}`)),
			qt("B", byAlloc(`ece_platform_allocator_instances{`+selAcct+`}`)),
			qt("C", byAlloc(`ece_platform_allocator_instances_unhealthy{`+selAcct+`}`))).
			OverrideByName("memory used", []dashboard.DynamicConfigValue{{Id: "unit", Value: "percentunit"}, {Id: "min", Value: 0}, {Id: "max", Value: 1},
				{Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}}}).
			SortBy(sortDesc("memory used")).
			WithTransformation(merge).
			WithTransformation(organize(nil, map[string]string{"Value #A": "memory used", "Value #B": "instances", "Value #C": "unhealthy instances"}, alloc))).
		WithPanel(tableP("Allocator hosts", "ece_platform_allocator_info: host, address and ECE version of each allocator.", 24, 8,
			qt("A", `max by (account, zone, allocator_id, public_hostname, host_ip, version) (ece_platform_allocator_info{`+selAcct+`})`)).
			WithTransformation(organize([]string{"Value"}, nil, []string{"account", "zone", "allocator_id", "public_hostname", "host_ip", "version"}))).
		WithRow(row("Proxies and runners")).
		WithPanel(statP("Proxies status", "ece_platform_proxies_status: the proxies' overall health (green, yellow, red). The alert fires after 5 minutes not green.", "none", 6, 6, false,
			qi("A", `max by (account, status) (ece_platform_proxies_status{`+selAcct+`} == 1)`, "{{status}}")).
			TextMode(common.BigValueTextModeName).
			OverrideByName("green", fixedColor("green")).OverrideByName("yellow", fixedColor("yellow")).OverrideByName("red", fixedColor("red"))).
		WithPanel(timeP("Proxies observed and expected", "ece_platform_proxies_observed against ece_platform_proxies_expected: fewer observed raises an alert.", "none", 10, 6,
			q("A", `sum by (account) (ece_platform_proxies_observed{`+selAcct+`})`, "observed {{account}}"),
			q("B", `sum by (account) (ece_platform_proxies_expected{`+selAcct+`})`, "expected {{account}}"))).
		WithPanel(countStat("Disconnected runners", "ece_platform_runner_connected == 0 (out of ece_platform_runners). The alert fires after 5 minutes.", "red", 8, 6,
			q("A", `count(ece_platform_runner_connected{`+selAcct+`} == 0) or vector(0)`, "disconnected"),
			q("B", `sum(ece_platform_runners{`+selAcct+`})`, "runners")).
			Orientation(common.VizOrientationHorizontal)).
		WithPanel(matrixP("Runners", "One row per runner (host): connected and healthy (ece_platform_runner_connected, _healthy).",
			10, 10, []string{"account", "runner_id"}, []string{"connected", "healthy"}, "NO", "yes",
			qt("A", `max by (account, runner_id) (ece_platform_runner_connected{`+selAcct+`})`),
			qt("B", `max by (account, runner_id) (ece_platform_runner_healthy{`+selAcct+`})`))).
		WithPanel(tableP("Runner hosts and roles", "ece_platform_runner_info and ece_platform_runner_role_info: host, zone, version and the roles of each runner.", 14, 10,
			qt("A", `max by (account, runner_id, zone, public_hostname, host_ip, version) (ece_platform_runner_info{`+selAcct+`})`),
			qt("B", `count by (account, runner_id) (ece_platform_runner_role_info{`+selAcct+`})`)).
			WithTransformation(merge).
			WithTransformation(organize([]string{"Value #A"}, map[string]string{"Value #B": "roles"}, []string{"account", "runner_id", "zone", "public_hostname", "host_ip", "version", "Value #B"}))).
		WithRow(row("License and certificates (refreshed every hour)")).
		WithPanel(statP("License expires in", "ece_platform_license_expiration_timestamp_seconds minus now. Alerts: < 30 days warning, < 7 days critical.", "dtdurations", 6, 6, false,
			q("A", `ece_platform_license_expiration_timestamp_seconds{`+selAcct+`} - time()`, "{{account}}")).
			ColorScheme(byThresholds()).Thresholds(steps("red", 7*86400, "orange", 30*86400, "green"))).
		WithPanel(barP("License memory usage", "ece_platform_license_usage_memory_bytes / ece_platform_license_capacity_memory_bytes: above 100 % the platform is over its licensed capacity (alert).", "percentunit", common.BarGaugeDisplayModeGradient, 6, 6,
			qi("A", `ece_platform_license_usage_memory_bytes{`+selAcct+`} / ece_platform_license_capacity_memory_bytes{`+selAcct+`}`, "{{account}}")).
			Min(0).ColorScheme(byThresholds()).Thresholds(steps("green", 0.9, "orange", 1, "red"))).
		WithPanel(tableP("License", "ece_platform_license_info with ece_platform_license_max_resource_units.", 12, 6,
			qt("A", `max by (account, license_type, issued_to, version) (ece_platform_license_info{`+selAcct+`}) * on (account) group_left () max by (account) (ece_platform_license_max_resource_units{`+selAcct+`})`)).
			WithTransformation(organize(nil, map[string]string{"Value": "max resource units"}, []string{"account", "license_type", "issued_to", "version", "Value"}))).
		WithPanel(barP("Days until certificates expire", "ece_platform_certificate_expiration_timestamp_seconds minus now, per service. Alerts: < 30 days warning, < 7 days critical.", "d", common.BarGaugeDisplayModeBasic, 10, 8,
			qi("A", `sort((ece_platform_certificate_expiration_timestamp_seconds{`+selAcct+`} - time()) / 86400)`, "{{service}} ({{account}})")).
			Decimals(1).Min(0).ColorScheme(byThresholds()).Thresholds(steps("red", 7, "orange", 30, "green"))).
		WithPanel(tableP("Certificate chains", "ece_platform_certificate_not_after_timestamp_seconds: every certificate of each service's chain (position 0 is the leaf) and when it expires.", 14, 8,
			qt("A", `max by (account, service, position, subject, issuer, serial_number) (ece_platform_certificate_not_after_timestamp_seconds{`+selAcct+`}) * 1000`)).
			OverrideByName("not after", []dashboard.DynamicConfigValue{{Id: "unit", Value: "dateTimeAsIso"}}).
			SortBy(sortAsc("not after")).
			WithTransformation(organize(nil, map[string]string{"Value": "not after"}, []string{"account", "service", "position", "subject", "issuer", "serial_number", "Value"})))
}

func exporter() *dashboard.DashboardBuilder {
	return newDashboard("ece-exporter-self", "ece_exporter itself",
		"The exporter's own health: collectors, data age, errors and the Elastic API's answers and rate limit.").
		WithRow(row("Exporter health")).
		WithPanel(timelineP("Collector success", "ece_exporter_collector_success per account and collector: whether the last poll succeeded. A failed poll keeps the last good data (stale).", 12, 8,
			boolMapping("failed", "ok", true), steps("red", 1, "green"),
			q("A", `ece_exporter_collector_success{`+selAcct+`}`, "{{account}} {{collector}}"))).
		WithPanel(barP("Data age in poll intervals", "(now - ece_exporter_collector_last_success_timestamp_seconds) / ece_exporter_collector_interval_seconds: about 1 when healthy; ECEExporterCollectorFailing fires above 3 while the last poll failed.", "suffix: ×", common.BarGaugeDisplayModeBasic, 6, 8,
			qi("A", `sort_desc((time() - ece_exporter_collector_last_success_timestamp_seconds{`+selAcct+`}) / ece_exporter_collector_interval_seconds{`+selAcct+`})`, "{{account}} {{collector}}")).
			Decimals(1).Min(0).ColorScheme(byThresholds()).Thresholds(steps("green", 1.5, "orange", 3, "red"))).
		WithPanel(countStat("Stale collectors", "Collectors whose last poll failed and which serve the data of an earlier poll (ece_exporter_collector_stale).", "orange", 3, 8,
			q("A", `count(ece_exporter_collector_stale{`+selAcct+`} == 1) or vector(0)`, "stale"))).
		WithPanel(statP("Exporter's own API key", "ece_exporter_credential_expiration_timestamp_seconds (ECE reports it): time left on the key the exporter uses.", "dtdurations", 3, 8, false,
			q("A", `ece_exporter_credential_expiration_timestamp_seconds{`+selAcct+`} - time()`, "{{account}}")).
			ColorScheme(byThresholds()).Thresholds(steps("red", 604800, "orange", 1209600, "green"))).
		WithPanel(timeP("Collector errors by reason", "rate(ece_exporter_collector_errors_total): failed polls and failed items by bounded reason.", "ops", 8, 8,
			q("A", `sum by (account, collector, reason) (rate(ece_exporter_collector_errors_total{`+selAcct+`}[$__rate_interval]))`, "{{account}} {{collector}} {{reason}}"))).
		WithPanel(timeP("Poll duration", "ece_exporter_collector_duration_seconds: how long the last poll of each collector took.", "s", 8, 8,
			q("A", `ece_exporter_collector_duration_seconds{`+selAcct+`}`, "{{account}} {{collector}}"))).
		WithPanel(timeP("API rate limit left", "ece_exporter_api_ratelimit_remaining / ece_exporter_api_ratelimit_limit (x-ratelimit-* headers); the alert fires below 10%.", "percentunit", 8, 8,
			q("A", `ece_exporter_api_ratelimit_remaining{`+selAcct+`} / ece_exporter_api_ratelimit_limit{`+selAcct+`}`, "{{account}}")).
			Min(0).Max(1).ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic)).
			Thresholds(steps("red", 0.1, "green")).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLineAndArea))).
		WithPanel(timeP("API requests by operation and code", "rate(ece_exporter_api_requests_total) by spec operation and HTTP status code (\"none\": no answer).", "reqps", 12, 8,
			q("A", `sum by (operation, code) (rate(ece_exporter_api_requests_total{`+selAcct+`}[$__rate_interval]))`, "{{operation}} {{code}}"))).
		WithPanel(timeP("API request latency (p90)", "histogram_quantile(0.9) of ece_exporter_api_request_duration_seconds by operation.", "s", 12, 8,
			q("A", `histogram_quantile(0.9, sum by (operation, le) (rate(ece_exporter_api_request_duration_seconds_bucket{`+selAcct+`}[$__rate_interval])))`, "{{operation}}"))).
		WithPanel(timeP("Exposition kept for scrapes", "ece_exporter_exposition_cached_bytes: the data encoded once per poll and kept for scrapes, by format and encoding. Prometheus needs only gzip; an identity line above 0 means something scrapes uncompressed (about 170 bytes per series per format).", "bytes", 12, 8,
			q("A", `sum by (format, encoding) (ece_exporter_exposition_cached_bytes{`+selAcct+`})`, "{{format}} {{encoding}}")))
}
