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
#      loaded and schema-validated by compose-go; deploy/dashboards (separate
#      Go module): the committed grafana/dashboards/*.json are byte for byte
#      what the grafana-foundation-sdk generator writes; deploy/mixin
#      (separate Go module): the monitoring mixin evaluated with go-jsonnet
#      equals the rule files and dashboards, and its _config is applied
#   4. Dockerfile lint (npm dockerfile-utils and dockerfilelint)
#   5. shellcheck of the scripts
#   6. e2e/prometheus-e2e.sh: the demo exporter and a real Prometheus
#   7. docker/build-local.sh: daemonless image build with buildah (SKIPPED
#      with the reason where buildah cannot run)
#   8. the /status page in a real headless Chromium (Debian's chromium):
#      the demo with a failing collector, screenshots at 1280 px and 400 px
#      ($STATUS_SCREENSHOTS, default /tmp/status-desktop.png and
#      /tmp/status-narrow.png), rows and the failure in the DOM, no
#      sideways scrolling at 400 px (TestStatusPageChromium)
#
# A plain run installs nothing: a check whose tool is missing prints
# "SKIPPED <check>: <why>" and the summary at the end lists every skipped
# check. DEPLOY_CHECK_INSTALL=1 (what .ci/run sets) installs what is missing
# and makes every check mandatory: Debian packages (prometheus for promtool
# and the e2e, curl, jq, shellcheck, buildah, npm) with apt-get (sudo when
# not root); helm $HELM_VERSION built with `go install` into
# $(go env GOPATH)/bin (a few minutes, once); the npm Dockerfile linters into
# $DEPLOY_TOOLS (default ~/.cache/ece_exporter-tools). With everything
# installed it takes about three minutes (the FinOps promtool tests span a
# month: about 90 s of them).
#
# DEPLOY_CHECK_SKIP="e2e image" skips steps 6 and 7 (quick local runs);
# "validate" skips step 3; "chromium" skips step 8.
set -euo pipefail
cd "$(dirname "$0")"

HELM_VERSION=v3.19.0
DOCKERFILE_UTILS_VERSION=0.16.3
DOCKERFILELINT_VERSION=1.8.0
TOOLS=${DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/ece_exporter-tools}
SKIP=" ${DEPLOY_CHECK_SKIP:-} "
INSTALL=${DEPLOY_CHECK_INSTALL:-0}
export DEPLOY_CHECK_INSTALL=$INSTALL # deploy/validate: no helm is a failure, not a skip

step() { printf '\n== %s\n' "$*"; }
skipped_list=()
# skipped CHECK WHY: a check that could not run. With DEPLOY_CHECK_INSTALL=1
# that is a failure, unless the user asked for it (DEPLOY_CHECK_SKIP) or the
# check itself says the machine cannot run it (buildah without user
# namespaces).
skipped() {
  echo "SKIPPED $1: $2"
  skipped_list+=("$1")
}
missing() {
  if [ "$INSTALL" = 1 ]; then
    echo "check: $1 cannot run: $2" >&2
    exit 1
  fi
  skipped "$1" "$2 (DEPLOY_CHECK_INSTALL=1 installs it: see README, Development)"
}
have() { command -v "$1" >/dev/null; }

# --- tools (installed only with DEPLOY_CHECK_INSTALL=1) ------------------
if [ "$INSTALL" = 1 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && have sudo; then SUDO=sudo; fi
  need_apt=()
  have promtool || need_apt+=(prometheus)
  have prometheus || need_apt+=(prometheus)
  have curl || need_apt+=(curl)
  have jq || need_apt+=(jq)
  have shellcheck || need_apt+=(shellcheck)
  [[ $SKIP == *" image "* ]] || have buildah || need_apt+=(buildah)
  [[ $SKIP == *" chromium "* ]] || have chromium || need_apt+=(chromium)
  if [ ${#need_apt[@]} -gt 0 ]; then
    mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
    echo "check: apt-get install ${need_apt[*]}"
    if have apt-get; then
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    else
      echo "check: no apt-get here; install ${need_apt[*]} yourself" >&2
      exit 1
    fi
  fi
  # npm fetches the Dockerfile linters from the npm registry. Best effort: a
  # machine whose own Node.js conflicts with Debian's npm skips that lint
  # (and says so below).
  if ! have npm && have apt-get; then
    echo "check: apt-get install npm"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null; } ||
      echo "check: npm could not be installed; the Dockerfile lint will be skipped" >&2
  fi
fi

# helm: the pinned version, built from source through the Go module proxy
# (DEPLOY_CHECK_INSTALL=1); otherwise $HELM, that build if present, or a
# helm on PATH.
gobin=$(go env GOPATH)/bin
pinned_helm() { go version -m "$1" 2>/dev/null | grep -q "mod[[:space:]]*helm.sh/helm/v3[[:space:]]*$HELM_VERSION"; }
if [ -n "${HELM:-}" ]; then
  "$HELM" version >/dev/null 2>&1 || { echo "check: HELM=$HELM does not run" >&2; exit 1; }
elif pinned_helm "$gobin/helm"; then
  HELM=$gobin/helm
elif [ "$INSTALL" = 1 ]; then
  echo "check: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (a few minutes, once)"
  GOBIN=$gobin GOFLAGS=-mod=mod go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  HELM=$gobin/helm
elif have helm; then
  HELM=$(command -v helm)
  echo "check: using $HELM ($("$HELM" version --short 2>/dev/null || echo unknown version); CI pins $HELM_VERSION)"
else
  HELM=""
fi
export HELM

# helm notes every symlinked file under files/ on stderr; drop just those lines.
helm_() { "$HELM" "$@" 2> >(grep -v 'found symbolic link' >&2); }

# --- 1. Prometheus -----------------------------------------------------
step "promtool: check rules, unit tests, compose config"
if have promtool; then
  promtool check rules prometheus/alerts.yml prometheus/recording.yml
  promtool test rules prometheus/rules.test.yml prometheus/rules.finops.test.yml
  promtool check config --syntax-only prometheus/prometheus.yml
  if [ -f ../testdata/metrics.golden ]; then
    step "promtool: check metrics of the golden /metrics"
    promtool check metrics <../testdata/metrics.golden
  else
    missing "promtool check metrics" "../testdata/metrics.golden does not exist (make golden)"
  fi
else
  missing "promtool (rules, rule unit tests, compose config, golden /metrics)" "promtool is not installed (Debian: apt-get install prometheus)"
fi

# --- 2. Helm -----------------------------------------------------------
step "helm lint --strict, helm template"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ -n "$HELM" ]; then
  chart=helm/ece-exporter
  all_features=(--set existingSecret=ece-exporter-api-key --set serviceMonitor.enabled=true --set prometheusRule.enabled=true
    --set dashboard.enabled=true --set sharding.enabled=true --set sharding.totalShards=3)
  helm_ lint "$chart" --strict --quiet --set apiKey=x
  helm_ lint "$chart" --strict --quiet "${all_features[@]}"
  helm_ lint "$chart" --strict --quiet --set demo=true
  helm_ template ece "$chart" --set apiKey=x >"$out/defaults.yaml"
  helm_ template ece "$chart" "${all_features[@]}" >"$out/all-features.yaml"
  echo "helm template: defaults $(grep -c '^kind:' "$out/defaults.yaml") objects, all features $(grep -c '^kind:' "$out/all-features.yaml") objects"
else
  missing "helm lint and template" "helm is not installed (no \$HELM, no $gobin/helm $HELM_VERSION, none on PATH)"
fi

# --- 3. Manifests and compose against the real types --------------------
if [[ $SKIP == *" validate "* ]]; then
  skipped "deploy/validate" "DEPLOY_CHECK_SKIP"
else
  step "deploy/validate: kustomize base and helm output strictly decoded, compose-go"
  (cd validate && go test -count=1 ./...)
  # Without helm, deploy/validate skips its helm cases (go test -v lists them).
  [ -n "$HELM" ] || skipped "deploy/validate: helm template output" "helm is not installed (the kustomize base and compose were checked)"
fi
step "deploy/dashboards: the committed dashboards are the generator's output"
(cd dashboards && go vet ./... && go test -count=1 ./...)
step "deploy/mixin: the jsonnet mixin (go-jsonnet) equals the rule files and dashboards"
(cd mixin && go vet ./... && go test -count=1 ./...)

# --- 4. Dockerfile lint ------------------------------------------------
step "Dockerfile lint"
npmdir=$TOOLS/npm
stamp="dockerfile-utils@$DOCKERFILE_UTILS_VERSION dockerfilelint@$DOCKERFILELINT_VERSION"
if [ "$INSTALL" != 1 ] && [ "$(cat "$npmdir/.installed" 2>/dev/null)" != "$stamp" ]; then
  skipped "Dockerfile lint" "the npm linters ($stamp) are not in $npmdir (DEPLOY_CHECK_INSTALL=1 fetches them with npm)"
elif have npm; then
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
  missing "Dockerfile lint" "npm is not installed (deploy/deploy_test.go still checks the Dockerfile's promises)"
fi

# --- 5. Shell scripts --------------------------------------------------
step "shellcheck"
scripts=(check.sh e2e/prometheus-e2e.sh docker/build-local.sh)
for s in "${scripts[@]}"; do bash -n "$s"; done
if have shellcheck; then
  shellcheck "${scripts[@]}"
  echo "shellcheck: ${scripts[*]} clean"
else
  missing "shellcheck" "shellcheck is not installed (bash -n passed; Debian: apt-get install shellcheck)"
fi

# --- 6. Real Prometheus end to end --------------------------------------
e2e_missing=()
for tool in prometheus curl jq; do have "$tool" || e2e_missing+=("$tool"); done
if [[ $SKIP == *" e2e "* ]]; then
  skipped "prometheus-e2e" "DEPLOY_CHECK_SKIP"
elif [ ${#e2e_missing[@]} -gt 0 ]; then
  missing "prometheus-e2e" "${e2e_missing[*]} not installed (Debian: apt-get install prometheus curl jq)"
else
  step "e2e: ece_exporter --demo and a real Prometheus"
  bash e2e/prometheus-e2e.sh
fi

# --- 7. Daemonless image build -----------------------------------------
if [[ $SKIP == *" image "* ]]; then
  skipped "docker/build-local.sh" "DEPLOY_CHECK_SKIP"
elif ! have buildah; then
  missing "docker/build-local.sh" "buildah is not installed (Debian: apt-get install buildah)"
else
  step "image: daemonless build of Dockerfile.final with buildah"
  rc=0
  bash docker/build-local.sh final || rc=$?
  case $rc in
    0) ;;
    3) skipped_list+=("docker/build-local.sh") ;; # it printed SKIPPED and why (e.g. no user namespaces)
    *) exit "$rc" ;;
  esac
fi

# --- 8. The status page in a real browser --------------------------------
if [[ $SKIP == *" chromium "* ]]; then
  skipped "status page in headless Chromium" "DEPLOY_CHECK_SKIP"
elif ! have chromium; then
  missing "status page in headless Chromium" "chromium is not installed (Debian: apt-get install chromium)"
else
  step "status page: headless Chromium at 1280 px and 400 px"
  (cd .. && STATUS_CHROMIUM=1 go test -count=1 -run '^TestStatusPageChromium$' -v .)
fi

echo
if [ ${#skipped_list[@]} -gt 0 ]; then
  echo "deploy/check.sh: the checks that ran passed; SKIPPED ${#skipped_list[@]}:"
  printf '  - %s\n' "${skipped_list[@]}"
else
  echo "deploy/check.sh: all checks passed"
fi
