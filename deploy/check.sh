#!/usr/bin/env bash
# The non-Go checks of `make test`: Prometheus rules (promtool check and unit
# tests), the golden /metrics through promtool, the Helm chart (lint and
# template), strict decoding of every manifest into the Kubernetes and
# prometheus-operator types, the Dockerfile, and a real Prometheus scraping
# the demo. Installs what is missing (Debian's prometheus, helm via go install).
set -euo pipefail
cd "$(dirname "$0")"

HELM_VERSION=v3.19.0
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null || ! command -v curl >/dev/null; then
  echo "check: installing prometheus and curl (Debian)"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus curl >/dev/null
fi
HELM=${HELM:-$(command -v helm || true)}
if [ -z "$HELM" ]; then
  gobin=$(go env GOPATH)/bin
  if [ ! -x "$gobin/helm" ]; then
    echo "check: installing helm $HELM_VERSION with go install (takes a few minutes once)"
    GOFLAGS= go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  fi
  HELM=$gobin/helm
fi
export HELM

echo "== promtool: rules"
promtool check rules prometheus/alerts.yml prometheus/recording.yml
promtool test rules prometheus/rules.test.yml
echo "== promtool: golden /metrics"
promtool check metrics < ../testdata/metrics.golden

echo "== helm lint"
"$HELM" lint helm/ece-exporter --strict --set apiKey=x 2>&1 | grep -v 'found symbolic link' 
"$HELM" lint helm/ece-exporter --strict --set existingSecret=s --set serviceMonitor.enabled=true --set prometheusRule.enabled=true --set dashboard.enabled=true --set sharding.enabled=true 2>&1 | grep -v 'found symbolic link'

echo "== manifests: strict decoding (kustomize base, helm template)"
(cd validate && go test -count=1 ./...)

echo "== Dockerfile lint"
if command -v npx >/dev/null; then
  npx --yes dockerfilelint@1.8.0 ../Dockerfile
else
  echo "SKIPPED dockerfilelint: no npx on this machine (the Dockerfile structure is still checked by deploy/deploy_test.go)"
fi

echo "== real Prometheus end to end"
bash e2e/prometheus-e2e.sh
