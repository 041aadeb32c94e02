#!/usr/bin/env bash
# Daemonless image build with buildah: no Docker engine, no registry.
#
#   deploy/docker/build-local.sh          # "final": Dockerfile.final over a local binary
#   deploy/docker/build-local.sh full     # the real ./Dockerfile, both stages
#
# final: builds ece_exporter with CGO_ENABLED=0 -trimpath and the version
#   ldflags, then deploy/docker/Dockerfile.final over it. The real base
#   (gcr.io/distroless/static-debian12:nonroot) needs a registry, so
#   BASE_IMAGE is a local stand-in: FROM scratch plus an /etc/passwd and
#   /etc/group with root, nobody and nonroot (65532), like distroless.
# full: builds the repository's Dockerfile itself (.dockerignore, module
#   layer, ldflags, multi-stage COPY) with local stand-ins named like the
#   real bases: golang:1.26-bookworm = busybox + this machine's static Go
#   toolchain (modules still come from the Go module proxy), and distroless =
#   scratch + passwd/group + CA certificates.
#
# Then, for either mode: the image config (user 65532, entrypoint, cmd,
# port, OCI labels) is asserted, `ece_exporter --version` runs inside with
# `buildah run` as uid 65532 and must print the injected version, and the
# image serves --demo: /-/healthy and /metrics are fetched from the host.
#
# Everything happens in a private, temporary buildah store (vfs driver,
# chroot isolation), removed at exit: the stand-ins never reach your own
# image store.
#
# Exit status: 0 built and verified; 1 failed; 3 cannot run on this machine
# (no buildah, or buildah cannot build here); the reason is printed on a line
# starting with SKIPPED.
set -euo pipefail
mode=${1:-final}
case $mode in final | full) ;; *) echo "usage: $0 [final|full]" >&2; exit 2 ;; esac
repo=$(cd "$(dirname "$0")/../.." && pwd)

skip() { echo "SKIPPED build-local ($mode): $*"; exit 3; }
command -v buildah >/dev/null || skip "buildah is not installed (apt-get install buildah)"

work=$(mktemp -d)
pids=()
B=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot
cleanup() {
  # Each background job leads its own process group (setsid): end the group.
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# Can buildah work here at all (user namespaces, storage)?
if ! probe=$("${B[@]}" from --pull-never scratch 2>&1); then
  skip "buildah cannot create a container here: $(tail -1 <<<"$probe")"
fi
"${B[@]}" rm "$probe" >/dev/null

version="local-proof-$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
image=localhost/ece-exporter:$mode

# passwd/group as in distroless (root, nobody, nonroot).
mkdir -p "$work/etc"
printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$work/etc/passwd"
printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$work/etc/group"

# stand_in NAME: a scratch image with the given rootfs directory, committed as NAME.
stand_in() {
  local name=$1 rootfs=$2
  shift 2
  local c
  c=$("${B[@]}" from --pull-never scratch)
  "${B[@]}" copy "$c" "$rootfs" / >/dev/null
  [ $# -gt 0 ] && "${B[@]}" config "$@" "$c"
  "${B[@]}" commit --quiet "$c" "$name" >/dev/null
  "${B[@]}" rm "$c" >/dev/null
}

if [ "$mode" = final ]; then
  echo "build-local: go build (static, trimpath, version $version)"
  mkdir -p "$work/ctx"
  vpkg=github.com/prometheus/common/version
  (cd "$repo" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $vpkg.Version=$version -X $vpkg.Revision=$revision \
    -X $vpkg.Branch=local -X $vpkg.BuildUser=build-local -X $vpkg.BuildDate=$build_date" -o "$work/ctx/ece_exporter" .)
  mkdir -p "$work/base"
  cp -r "$work/etc" "$work/base/etc"
  stand_in localhost/ece-exporter-base:scratch "$work/base"
  echo "build-local: buildah bud -f deploy/docker/Dockerfile.final (BASE_IMAGE=scratch stand-in)"
  "${B[@]}" bud --quiet --pull-never --isolation chroot -f "$repo/deploy/docker/Dockerfile.final" \
    --build-arg BASE_IMAGE=localhost/ece-exporter-base:scratch --build-arg VERSION="$version" \
    --build-arg REVISION="$revision" --build-arg BUILD_DATE="$build_date" -t "$image" "$work/ctx" >/dev/null
else
  command -v busybox >/dev/null || skip "full mode needs busybox for the stand-in Go image's /bin/sh (apt-get install busybox-static)"
  goroot=$(go env GOROOT)
  echo "build-local: stand-in golang:1.26-bookworm from busybox and $goroot ($(go env GOVERSION))"
  g="$work/golang"
  mkdir -p "$g/bin" "$g/usr/local" "$g/etc/ssl/certs" "$g/tmp" "$g/root" "$g/go"
  cp "$(command -v busybox)" "$g/bin/busybox"
  for t in sh ls cat mkdir rm cp env; do ln -s busybox "$g/bin/$t"; done
  cp -a "$goroot" "$g/usr/local/go"
  cp /etc/ssl/certs/ca-certificates.crt "$g/etc/ssl/certs/"
  cp -r "$work/etc/passwd" "$work/etc/group" "$g/etc/"
  chmod 1777 "$g/tmp"
  stand_in docker.io/library/golang:1.26-bookworm "$g" \
    --env PATH=/go/bin:/usr/local/go/bin:/bin --env GOPATH=/go --env HOME=/root --env GOTOOLCHAIN=local \
    --env GOPROXY="$(go env GOPROXY)" --workingdir /go
  d="$work/distroless"
  mkdir -p "$d/etc/ssl/certs" "$d/tmp"
  cp "$work/etc/passwd" "$work/etc/group" "$d/etc/"
  cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/"
  stand_in gcr.io/distroless/static-debian12:nonroot "$d" --user 65532:65532
  echo "build-local: buildah bud -f Dockerfile (both stages; the builder downloads modules and compiles, a few minutes)"
  "${B[@]}" bud --pull-never --isolation chroot -f "$repo/Dockerfile" --build-arg VERSION="$version" \
    --build-arg REVISION="$revision" --build-arg BRANCH=local --build-arg BUILD_DATE="$build_date" \
    -t "$image" "$repo" >"$work/bud.log" 2>&1 || { tail -30 "$work/bud.log" >&2; exit 1; }
fi

fail() { echo "build-local ($mode): FAILED: $*" >&2; exit 1; }

# The image config.
cfg=$("${B[@]}" inspect --type image --format \
  '{{.OCIv1.Config.User}}|{{.OCIv1.Config.Entrypoint}}|{{.OCIv1.Config.Cmd}}|{{.OCIv1.Config.ExposedPorts}}|{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}|{{index .OCIv1.Config.Labels "org.opencontainers.image.source"}}' "$image")
want="65532:65532|[/bin/ece_exporter]|[--config.file=/etc/ece_exporter/config.yml]|map[9871/tcp:{}]|$version|https://github.com/ece-exporter/ece_exporter"
[ "$cfg" = "$want" ] || fail "image config: got $cfg, want $want"
echo "ok: image config (user 65532:65532, entrypoint, cmd, port 9871, OCI labels)"

ctr=$("${B[@]}" from --pull-never "$image")
out=$("${B[@]}" run --isolation chroot --user 65532:65532 "$ctr" -- /bin/ece_exporter --version 2>&1) || fail "--version: $out"
grep -q "version $version" <<<"$out" || fail "--version does not show $version: $out"
echo "ok: ece_exporter --version inside the image: $(head -1 <<<"$out")"

# Serve --demo from the image and scrape it from the host (chroot isolation
# shares the host's network).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
setsid "${B[@]}" run --isolation chroot --user 65532:65532 "$ctr" -- /bin/ece_exporter --demo \
  --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fsS --max-time 2 "http://127.0.0.1:$port/-/healthy" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS --max-time 5 "http://127.0.0.1:$port/-/healthy" >/dev/null || { cat "$work/serve.log" >&2; fail "/-/healthy not answering on 127.0.0.1:$port"; }
metrics=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics") || fail "/metrics"
grep -q '^ece_exporter_build_info{.*version="'"$version"'"' <<<"$metrics" || fail "/metrics has no ece_exporter_build_info with version $version"
echo "ok: the image serves --demo as uid 65532: /-/healthy, /metrics ($(grep -c '^ece_' <<<"$metrics") ece_ series)"
# The server runs below `buildah run`, in the process group setsid made.
kill -- "-${pids[0]}" 2>/dev/null || true
wait 2>/dev/null || true
pids=()
echo "build-local ($mode): passed"
