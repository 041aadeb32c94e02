// prometheusRules: the recording rules of deploy/prometheus/recording.yml
// (they aggregate away job and instance: no selector, no thresholds).
local defaults = (import '../config.libsonnet')._config;
local substitute = (import '../lib/substitute.libsonnet').substitute;

{
  prometheusRules+:: {
    groups+: substitute(
      'deploy/prometheus/recording.yml',
      std.parseYaml(importstr '../../prometheus/recording.yml').groups,
      {},
      defaults,
      $._config,
      'eceExporterSelector',
      false,
    ),
  },
}
