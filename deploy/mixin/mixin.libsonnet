// ece_exporter's monitoring mixin: prometheusAlerts, prometheusRules,
// grafanaDashboards and _config (config.libsonnet). The rules are the plain
// rule files of deploy/prometheus with _config applied; the dashboards are
// the generated JSON of deploy/grafana/dashboards. See README.md.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
