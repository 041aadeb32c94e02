#!/usr/bin/env bash
# End to end with a real Prometheus: ece_exporter --demo and Debian's
# prometheus on loopback with the shipped rules (for: clauses shortened so
# alerts fire within the test), then assertions through the HTTP API.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v prometheus >/dev/null || { echo "prometheus-e2e: the prometheus binary is missing (apt-get install prometheus)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
exp_port=$(free_port); prom_port=$(free_port)

go build -o "$work/ece_exporter" .
"$work/ece_exporter" --demo --web.listen-address="127.0.0.1:$exp_port" --log.level=warn >"$work/exporter.log" 2>&1 &
pids+=($!)

mkdir -p "$work/rules"
for f in deploy/prometheus/alerts.yml deploy/prometheus/recording.yml; do
  sed -E 's/^( +for: ).*/\10s/; s/^( +interval: ).*/\15s/' "$f" >"$work/rules/$(basename "$f")"
done
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: ["$work/rules/*.yml"]
scrape_configs:
  - job_name: ece-exporter
    static_configs: [{targets: ["127.0.0.1:$exp_port"]}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)

q() { curl -fsS --max-time 5 "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null || true; }
deadline=$((SECONDS + 120))
need=(
  'up{job="ece-exporter"} == 1'
  'count(ece_billing_organization_cost_ecu) > 0'
  'count(ece_billing_chart_cost_ecu) > 0'
  'count(ece_remote_cluster_healthy) > 0'
  'count(ece_api_key_expiration_timestamp_seconds) > 0'
  'count(ece_deployment_info) > 0'
)
for expr in "${need[@]}"; do
  until q "$expr" | grep -q '"result":\[{'; do
    if [ $SECONDS -gt $deadline ]; then echo "prometheus-e2e: timed out waiting for: $expr" >&2; tail -20 "$work/exporter.log" "$work/prometheus.log" >&2; exit 1; fi
    sleep 1
  done
  echo "ok: $expr"
done
for alert in ECEAPIKeyExpiresVerySoon ECERemoteClusterUnhealthy ECERemoteClusterDisconnected; do
  until q "ALERTS{alertname=\"$alert\",alertstate=\"firing\"}" | grep -q '"result":\[{'; do
    if [ $SECONDS -gt $deadline ]; then echo "prometheus-e2e: alert $alert is not firing" >&2; curl -fsS "http://127.0.0.1:$prom_port/api/v1/alerts" >&2; exit 1; fi
    sleep 1
  done
  echo "ok: $alert firing"
done
if q 'ALERTS{alertname="ECEExporterCollectorFailing"}' | grep -q '"result":\[{'; then
  echo "prometheus-e2e: a collector is failing on the demo" >&2; exit 1
fi
echo "prometheus-e2e: passed"
