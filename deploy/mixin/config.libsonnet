// The mixin's settings. The defaults are what deploy/prometheus/alerts.yml
// ships: with them the mixin's output equals the plain rule files (a test
// in this directory checks it). Override any of them:
//
//   (import 'ece-exporter/mixin/mixin.libsonnet') + {
//     _config+:: { eceExporterSelector: 'job="ece"', licenseExpiryWarningDays: 45 },
//   }
{
  _config+:: {
    // Selects the exporter's scrape job in `up` (ECEExporterDown). The
    // default is the job of the compose tour and of the kustomize base's
    // ServiceMonitor; the Helm chart's PrometheusRule uses its own.
    eceExporterSelector: 'job="ece-exporter"',

    // Days before an Elastic Cloud / ECE API key expires
    // (ECEAPIKeyExpiresSoon, ECEAPIKeyExpiresVerySoon).
    apiKeyExpiryWarningDays: 28,
    apiKeyExpiryCriticalDays: 7,
    // Days before the exporter's own API key expires
    // (ECEExporterCredentialExpiresSoon).
    credentialExpiryWarningDays: 14,
    // Poll intervals without a success before ECEExporterCollectorFailing.
    collectorFailingIntervals: 3,
    // Fraction of the API rate limit left (ECEAPIRateLimitNearlyExhausted).
    rateLimitRemainingRatio: 0.1,
    // Yesterday's cost against the 7-day daily average, and the average (in
    // ECU) below which a deployment is too small to matter
    // (ECEDeploymentCostSpike).
    costSpikeFactor: 3,
    costSpikeMinDailyECU: 1,
    // Fraction of an ECE zone's allocator memory in use
    // (ECEZoneMemoryHigh, ECEZoneMemoryCritical).
    zoneMemoryWarningRatio: 0.85,
    zoneMemoryCriticalRatio: 0.95,
    // Days before the ECE license expires
    // (ECELicenseExpiresSoon, ECELicenseExpiresVerySoon).
    licenseExpiryWarningDays: 30,
    licenseExpiryCriticalDays: 7,
    // Days before an ECE platform TLS certificate chain expires
    // (ECECertificateExpiresSoon, ECECertificateExpiresVerySoon).
    certificateExpiryWarningDays: 30,
    certificateExpiryCriticalDays: 7,
    // Fraction of an instance's JVM heap in use
    // (ECEInstanceMemoryPressureHigh, ECEInstanceMemoryPressureCritical).
    instanceMemoryPressureWarningRatio: 0.75,
    instanceMemoryPressureCriticalRatio: 0.85,
    // Fraction of an instance's disk in use (ECEInstanceDiskAlmostFull);
    // Elasticsearch makes indices read-only at 95 %.
    instanceDiskFullRatio: 0.9,
    // Days of prepaid credits left at the current burn rate
    // (ECECreditsRunOutSoon).
    creditsRunwayWarningDays: 30,
    // Fraction of a monthly budget spent (ECEBudgetNearlySpent).
    budgetSpentWarningRatio: 0.8,
    // Fraction of Elastic's 500 API keys per organization in use
    // (ECEAPIKeyQuotaNearlyReached; the 500 is Elastic's limit, in
    // deploy/prometheus/recording.yml).
    apiKeyQuotaWarningRatio: 0.9,
  },
}
