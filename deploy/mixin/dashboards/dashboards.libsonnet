// grafanaDashboards: the dashboards deploy/dashboards generates into
// deploy/grafana/dashboards (Go, grafana-foundation-sdk). Their queries
// select by the `account` variable, not by job, so _config does not change
// them.
{
  grafanaDashboards+:: {
    'ece-exporter-overview.json': import '../../grafana/dashboards/ece-exporter-overview.json',
    'ece-exporter-costs.json': import '../../grafana/dashboards/ece-exporter-costs.json',
    'ece-exporter-health.json': import '../../grafana/dashboards/ece-exporter-health.json',
    'ece-exporter-platform.json': import '../../grafana/dashboards/ece-exporter-platform.json',
    'ece-exporter-self.json': import '../../grafana/dashboards/ece-exporter-self.json',
  },
}
