# ece_exporter — see README.md. Tools run through `go run` at pinned versions.
GO            ?= go
BINARY        ?= ece_exporter
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION      ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH        ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VERSION_PKG   := github.com/prometheus/common/version
LDFLAGS       := -s -w -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) -X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=make -X $(VERSION_PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)
GOLANGCI_LINT := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DOCKER_IMAGE  ?= ece-exporter:$(VERSION)

.PHONY: all build test test-short lint vet style bench demo docker help check-deploy golden soak dashboards

all: style vet test build ## Format check, vet, test and build.

build: ## Build the ece_exporter binary.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) .

test: ## Go tests with -race, then the deploy/ checks; installs nothing (a check whose tool is missing says SKIPPED), DEPLOY_CHECK_INSTALL=1 installs them.
	$(GO) test -race -count=1 ./...
	bash deploy/check.sh

test-short: ## Go tests without the slow ones.
	$(GO) test -race -short -count=1 ./...

soak: ## Soak test: 10 minutes of 1 s polls with random faults and concurrent scrapes; prints heap and goroutines over time.
	$(GO) test -race -count=1 -run TestSoak -v ./collector/ -soak=10m -timeout 20m

golden: ## Rewrite the golden /metrics file from the demo data.
	$(GO) test -count=1 -run 'TestEndToEnd' . -update

dashboards: ## Regenerate the Grafana dashboards (deploy/grafana/dashboards) from deploy/dashboards.
	cd deploy/dashboards && $(GO) run .

vet: ## go vet.
	$(GO) vet ./...

style: ## Fail if gofmt would change anything.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

lint: ## golangci-lint and staticcheck.
	$(GO) run $(GOLANGCI_LINT) run ./...
	$(GO) run $(STATICCHECK) ./...

bench: ## Print scale figures (50/500/5,000/20,000 deployments, and 20,000 as each of 4 shards; ours beside the physical limit per format and encoding, targets checked) and run the Go benchmarks of the hot paths.
	$(GO) run ./internal/benchharness -sizes 50,500,5000,20000 -scrapes 50 -scrapes-large 10
	$(GO) run ./internal/benchharness -sizes 20000 -total-shards 4 -scrapes-large 10
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo: build ## Run the exporter on the built-in simulated API (http://localhost:9871/metrics).
	./$(BINARY) --demo

docker: ## Build the Docker image.
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(DOCKER_IMAGE) .

help: ## Show this help.
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'
