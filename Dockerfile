# syntax=docker/dockerfile:1
# ece_exporter: a static binary in a distroless, non-root image.
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) -t ece-exporter .
# deploy/docker/Dockerfile.final is the same final stage over a binary built
# outside Docker (used by deploy/docker/build-local.sh); a test keeps the two
# final stages equal.

FROM golang:1.26-bookworm AS builder
WORKDIR /src
# Modules first: this layer is reused until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=docker
ARG BUILD_DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=${BUILD_USER} \
        -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/ece_exporter . \
 && /out/ece_exporter --version

# --- final stage (kept equal to deploy/docker/Dockerfile.final) ---
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="ece_exporter" \
      org.opencontainers.image.description="Prometheus exporter for the Elastic Cloud (ESS) and Elastic Cloud Enterprise (ECE) API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.source="https://github.com/ece-exporter/ece_exporter" \
      org.opencontainers.image.url="https://github.com/ece-exporter/ece_exporter" \
      org.opencontainers.image.documentation="https://github.com/ece-exporter/ece_exporter/blob/main/deploy/README.md" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/ece_exporter /bin/ece_exporter
# Numeric, so that Kubernetes can verify runAsNonRoot (65532 = distroless "nonroot").
USER 65532:65532
EXPOSE 9871
ENTRYPOINT ["/bin/ece_exporter"]
CMD ["--config.file=/etc/ece_exporter/config.yml"]
