#!/usr/bin/env bash
# deploy/check.sh: every check of deploy/ that is not a unit test of the root
# module. `make test` runs it after `go test ./...` (which covers
# deploy/deploy_test.go: dashboard and rules against the golden /metrics).
#
#   1. promtool: check rules, unit-test rules (a firing and a quiet case per
#      alert), check the compose Prometheus config, lint the golden /metrics
#   2. helm lint --strict and helm template (defaults, every feature, demo)
#   3. deploy/validate (separate Go module): the kustomize base (built
#      in-process) and helm template output strictly decoded into the
#      Kubernetes and prometheus-operator types, cross-checked (probes, ports,
#      selectors, security context, config parsed by the daemon's own parser,
#      Secret mounts, daemon flags); the schema's refusals; docker-compose.yml
#      loaded and schema-validated by compose-go
#   4. Dockerfile lint (npm dockerfile-utils and dockerfilelint)
#   5. shellcheck of the scripts
#   6. e2e/prometheus-e2e.sh: the demo exporter and a real Prometheus
#   7. docker/build-local.sh: daemonless image build with buildah (SKIPPED
#      with the reason where buildah cannot run)
#
# Installs what is missing and is idempotent: Debian packages (prometheus
# for promtool and the e2e, curl, jq, shellcheck, buildah) with apt-get;
# helm with `go install` into $(go env GOPATH)/bin; the npm linters into
# $DEPLOY_TOOLS (default ~/.cache/ece_exporter-tools). With everything
# installed it takes about three minutes (the FinOps promtool tests span a
# month: about 90 s of them).
#
# DEPLOY_CHECK_SKIP="e2e image" skips steps 6 and 7 (quick local runs).
set -euo pipefail
cd "$(dirname "$0")"

HELM_VERSION=v3.19.0
DOCKERFILE_UTILS_VERSION=0.16.3
DOCKERFILELINT_VERSION=1.8.0
TOOLS=${DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/ece_exporter-tools}
SKIP=" ${DEPLOY_CHECK_SKIP:-} "

step() { printf '\n== %s\n' "$*"; }
skipped() { echo "SKIPPED $*"; }

# --- tools -------------------------------------------------------------
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
need_apt=()
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v curl >/dev/null || need_apt+=(curl)
command -v jq >/dev/null || need_apt+=(jq)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
[[ $SKIP == *" image "* ]] || command -v buildah >/dev/null || need_apt+=(buildah)
if [ ${#need_apt[@]} -gt 0 ]; then
  mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
  echo "check: apt-get install ${need_apt[*]}"
  if command -v apt-get >/dev/null; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "check: no apt-get here; install ${need_apt[*]} yourself" >&2
  fi
fi
# npm fetches the Dockerfile linters from the npm registry. Best effort: a
# machine whose own Node.js conflicts with Debian's npm skips that lint.
if ! command -v npm >/dev/null && command -v apt-get >/dev/null; then
  echo "check: apt-get install npm"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null; } ||
    echo "check: npm could not be installed; the Dockerfile lint will be skipped" >&2
fi

# helm: the pinned version, built from source through the Go module proxy.
gobin=$(go env GOPATH)/bin
HELM=${HELM:-$gobin/helm}
if ! go version -m "$HELM" 2>/dev/null | grep -q "mod[[:space:]]*helm.sh/helm/v3[[:space:]]*$HELM_VERSION"; then
  if [ "$HELM" = "$gobin/helm" ]; then
    echo "check: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes, once)"
    GOBIN=$gobin GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  elif ! "$HELM" version >/dev/null 2>&1; then
    echo "check: HELM=$HELM does not run" >&2
    exit 1
  fi
fi
export HELM

# helm notes every symlinked file under files/ on stderr; drop just those lines.
helm_() { "$HELM" "$@" 2> >(grep -v 'found symbolic link' >&2); }

# --- 1. Prometheus -----------------------------------------------------
step "promtool: check rules, unit tests, compose config"
promtool check rules prometheus/alerts.yml prometheus/recording.yml
promtool test rules prometheus/rules.test.yml prometheus/rules.finops.test.yml
promtool check config --syntax-only prometheus/prometheus.yml
if [ -f ../testdata/metrics.golden ]; then
  step "promtool: check metrics of the golden /metrics"
  promtool check metrics <../testdata/metrics.golden
else
  skipped "promtool check metrics: ../testdata/metrics.golden does not exist yet (make golden)"
fi

# --- 2. Helm -----------------------------------------------------------
step "helm lint --strict, helm template"
chart=helm/ece-exporter
all_features=(--set existingSecret=ece-exporter-api-key --set serviceMonitor.enabled=true --set prometheusRule.enabled=true
  --set dashboard.enabled=true --set sharding.enabled=true --set sharding.totalShards=3)
helm_ lint "$chart" --strict --quiet --set apiKey=x
helm_ lint "$chart" --strict --quiet "${all_features[@]}"
helm_ lint "$chart" --strict --quiet --set demo=true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
helm_ template ece "$chart" --set apiKey=x >"$out/defaults.yaml"
helm_ template ece "$chart" "${all_features[@]}" >"$out/all-features.yaml"
echo "helm template: defaults $(grep -c '^kind:' "$out/defaults.yaml") objects, all features $(grep -c '^kind:' "$out/all-features.yaml") objects"

# --- 3. Manifests and compose against the real types --------------------
step "deploy/validate: kustomize base and helm output strictly decoded, compose-go"
(cd validate && go test -count=1 ./...)

# --- 4. Dockerfile lint ------------------------------------------------
step "Dockerfile lint"
if command -v npm >/dev/null; then
  npmdir=$TOOLS/npm
  stamp="dockerfile-utils@$DOCKERFILE_UTILS_VERSION dockerfilelint@$DOCKERFILELINT_VERSION"
  if [ "$(cat "$npmdir/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "check: npm install $stamp into $npmdir"
    mkdir -p "$npmdir"
    # shellcheck disable=SC2086 # $stamp is the package list
    npm install --prefix "$npmdir" --no-audit --no-fund --silent --no-save $stamp >/dev/null
    echo "$stamp" >"$npmdir/.installed"
  fi
  for f in ../Dockerfile docker/Dockerfile.final; do
    # dockerfile-utils exits 0 on warnings: any output fails the check.
    msgs=$("$npmdir/node_modules/.bin/dockerfile-utils" lint "$f" 2>&1) || true
    if [ -n "$msgs" ]; then echo "$msgs"; echo "dockerfile-utils: $f has findings" >&2; exit 1; fi
    echo "dockerfile-utils: $f clean"
  done
  # dockerfilelint does not understand FROM ${BASE_IMAGE}: the main Dockerfile only.
  "$npmdir/node_modules/.bin/dockerfilelint" -o json ../Dockerfile >"$out/dockerfilelint.json" || {
    "$npmdir/node_modules/.bin/dockerfilelint" ../Dockerfile
    exit 1
  }
  echo "dockerfilelint: ../Dockerfile clean"
else
  skipped "Dockerfile lint: no npm on this machine (deploy/deploy_test.go still checks the Dockerfile's promises)"
fi

# --- 5. Shell scripts --------------------------------------------------
step "shellcheck"
scripts=(check.sh e2e/prometheus-e2e.sh docker/build-local.sh)
for s in "${scripts[@]}"; do bash -n "$s"; done
if command -v shellcheck >/dev/null; then
  shellcheck "${scripts[@]}"
  echo "shellcheck: ${scripts[*]} clean"
else
  skipped "shellcheck: not installed (bash -n passed)"
fi

# --- 6. Real Prometheus end to end --------------------------------------
if [[ $SKIP == *" e2e "* ]]; then
  skipped "prometheus-e2e (DEPLOY_CHECK_SKIP)"
else
  step "e2e: ece_exporter --demo and a real Prometheus"
  bash e2e/prometheus-e2e.sh
fi

# --- 7. Daemonless image build -----------------------------------------
if [[ $SKIP == *" image "* ]]; then
  skipped "docker/build-local.sh (DEPLOY_CHECK_SKIP)"
else
  step "image: daemonless build of Dockerfile.final with buildah"
  rc=0
  bash docker/build-local.sh final || rc=$?
  case $rc in
    0) ;;
    3) ;; # build-local.sh printed SKIPPED and the reason
    *) exit "$rc" ;;
  esac
fi

echo
echo "deploy/check.sh: all checks passed"
