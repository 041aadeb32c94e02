// prometheusAlerts: the alerts of deploy/prometheus/alerts.yml with the job
// selector and the thresholds of _config (config.libsonnet) put in.
//
// thresholds: per alert, the fields that state a threshold and the text
// that states it, as a template over _config. The rule file must contain
// each text (formatted with the defaults) exactly once, or evaluation fails
// and says where; an alert added to alerts.yml without an entry here keeps
// its thresholds as shipped.
local defaults = (import '../config.libsonnet')._config;
local substitute = (import '../lib/substitute.libsonnet').substitute;

local days(key) = [
  ['expr', '< %(' + key + ')g * 86400'],
  ['summary', 'less than %(' + key + ')g days'],
];

local thresholds = {
  ECEAPIKeyExpiresSoon: days('apiKeyExpiryWarningDays'),
  ECEAPIKeyExpiresVerySoon: days('apiKeyExpiryCriticalDays'),
  ECEExporterCredentialExpiresSoon: days('credentialExpiryWarningDays'),
  ECEExporterCollectorFailing: [
    ['expr', '> %(collectorFailingIntervals)g * ece_exporter_collector_effective_interval_seconds'],
    ['description', 'more than %(collectorFailingIntervals)g poll intervals'],
  ],
  ECEAPIRateLimitNearlyExhausted: [
    ['expr', 'ece_exporter_api_ratelimit_limit < %(rateLimitRemainingRatio)g'],
  ],
  ECEDeploymentCostSpike: [
    ['expr', '> %(costSpikeFactor)g * ece:billing_deployment_daily_cost_ecu:avg7d'],
    ['expr', 'ece:billing_deployment_daily_cost_ecu:avg7d > %(costSpikeMinDailyECU)g\n'],
    ['summary', 'more than %(costSpikeFactor)g times'],
    ['description', 'more than %(costSpikeFactor)g times'],
  ],
  ECEZoneMemoryHigh: [['expr', '>= %(zoneMemoryWarningRatio)g\n']],
  ECEZoneMemoryCritical: [['expr', '>= %(zoneMemoryCriticalRatio)g\n']],
  ECELicenseExpiresSoon: days('licenseExpiryWarningDays'),
  ECELicenseExpiresVerySoon: days('licenseExpiryCriticalDays'),
  ECECertificateExpiresSoon: days('certificateExpiryWarningDays'),
  ECECertificateExpiresVerySoon: days('certificateExpiryCriticalDays'),
  ECEInstanceMemoryPressureHigh: [['expr', 'ratio >= %(instanceMemoryPressureWarningRatio)g']],
  ECEInstanceMemoryPressureCritical: [['expr', 'ratio >= %(instanceMemoryPressureCriticalRatio)g']],
  ECEInstanceDiskAlmostFull: [['expr', 'capacity_bytes >= %(instanceDiskFullRatio)g']],
  ECECreditsRunOutSoon: [
    ['expr', 'runway_days < %(creditsRunwayWarningDays)g'],
    ['summary', 'less than %(creditsRunwayWarningDays)g days'],
  ],
  ECEBudgetNearlySpent: [['expr', 'spent_ratio >= %(budgetSpentWarningRatio)g']],
  ECEAPIKeyQuotaNearlyReached: [['expr', 'quota_ratio >= %(apiKeyQuotaWarningRatio)g']],
};

{
  prometheusAlerts+:: {
    groups+: substitute(
      'deploy/prometheus/alerts.yml',
      std.parseYaml(importstr '../../prometheus/alerts.yml').groups,
      thresholds,
      defaults,
      $._config,
      'eceExporterSelector',
      true,
    ),
  },
}
