# syntax=docker/dockerfile:1
# Multi-stage build of ece_exporter: a static binary in a distroless, non-root image.

FROM golang:1.26-bookworm AS builder
WORKDIR /src
# Module download first, so that source changes reuse this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=docker \
        -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/ece_exporter .

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="ece_exporter" \
      org.opencontainers.image.description="Prometheus exporter for the Elastic Cloud (ESS) and Elastic Cloud Enterprise (ECE) API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/ece-exporter/ece_exporter" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/ece_exporter /bin/ece_exporter
USER nonroot:nonroot
EXPOSE 9871
ENTRYPOINT ["/bin/ece_exporter"]
CMD ["--config.file=/etc/ece_exporter/config.yml"]
