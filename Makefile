# Gantry: two commands do all set-up on a fresh Debian machine with the Swift toolchain.
#   make run   installs missing system packages, builds, starts the embedded cluster and the operator,
#              applies the examples and shows them working.
#   make test  the whole suite.
SWIFT ?= swift
SYSTEM_PACKAGES := libcurl4-openssl-dev libyaml-dev libssl-dev
# Real components the tests drive: lua5.4 runs the Argo CD health checks of docs/gitops.md; prometheus scrapes the
# controller and answers the Grafana dashboard's queries (docs/observability.md). Debian starts no service in a
# container, and where it does, the tests' own Prometheus uses a config, storage and port of its own. binutils'
# readelf lists the libraries the binary links (the Dockerfile's runtime stage must install them).
TEST_PACKAGES := lua5.4 prometheus binutils
# The official Python client checks the embedded cluster's HTTP keep-alive (KeepAliveTests).
TEST_PYTHON_PACKAGES := kubernetes
GANTRY := .build/debug/gantry
# The controller's image, as deploy/deployment.yaml names it; the tag is the release `gantry version` prints.
VERSION := $(shell sed -n 's/.*static let current = "\(.*\)"/\1/p' Sources/GantryCLI/VersionCommand.swift)
IMAGE := ghcr.io/gantry-dev/gantry:$(VERSION)

.PHONY: deps test-deps build test run crds bench clean image

# Installs the C libraries the shims link against, only those missing (non-interactive apt-get).
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(SYSTEM_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(SYSTEM_PACKAGES) $(TEST_PACKAGES)"
	@python3 -c "import kubernetes" 2>/dev/null || python3 -m pip install -q $(TEST_PYTHON_PACKAGES)

install-packages:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

test: test-deps
	$(SWIFT) build --build-tests
	# Serial: on 2-core machines the in-process API servers share the Swift concurrency pool with the tests,
	# and parallel suites starve each other into timeouts.
	$(SWIFT) test --skip-build --no-parallel

run: build
	./scripts/run-demo.sh

# Regenerates crds/ from the Swift definitions (GantryAPI); a test fails when the committed files are stale.
crds: build
	$(GANTRY) crds --output crds

bench: deps
	$(SWIFT) build -c release --product gantry
	.build/release/gantry bench $(BENCH_ARGS)

# The multi-stage Dockerfile (static Swift runtime, non-root, read-only root filesystem).
image:
	docker build -t $(IMAGE) .

clean:
	rm -rf .build .gantry
