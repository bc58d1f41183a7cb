# Gantry: two commands do all set-up on a fresh Debian machine with the Swift toolchain.
#   make run   installs missing system packages, builds, starts the embedded cluster and the operator,
#              applies the examples and shows them working.
#   make test  the whole suite.
#   make fuzz  each libFuzzer target for FUZZ_SECONDS (docs/testing.md#fuzzing); fails on a crash, leak or OOM.
#   make soak  churn under faults for SOAK_MINUTES (docs/benchmarks.md, soak); fails on RSS growth, a queue that does
#              not drain, or a full re-list.
SWIFT ?= swift
SYSTEM_PACKAGES := libcurl4-openssl-dev libyaml-dev libssl-dev
# Real components the tests drive: lua5.4 runs the Argo CD health checks of docs/gitops.md; prometheus scrapes the
# controller and answers the Grafana dashboard's queries (docs/observability.md). Debian starts no service in a
# container, and where it does, the tests' own Prometheus uses a config, storage and port of its own. binutils'
# readelf lists the libraries the binary links (the Dockerfile's runtime stage must install them). chromium loads
# the dashboard's pages headless (DashboardTests) and takes their screenshots (make dashboard-shots).
TEST_PACKAGES := lua5.4 prometheus binutils chromium
# The official Python client checks the embedded cluster's HTTP keep-alive (KeepAliveTests).
TEST_PYTHON_PACKAGES := kubernetes
GANTRY := .build/debug/gantry
# The controller's image, as deploy/deployment.yaml names it; the tag is the release `gantry version` prints.
VERSION := $(shell sed -n 's/.*static let current = "\(.*\)"/\1/p' Sources/GantryCLI/VersionCommand.swift)
IMAGE := ghcr.io/gantry-dev/gantry:$(VERSION)

.PHONY: deps test-deps build test run crds bench soak fuzz clean image dashboard-shots install-plugin

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

# Suites run TEST_WIDTH at a time (swift-testing's maximum parallelization width): most of a suite's time is
# waiting on a cluster (a deadline, a cull, a scale-down window), so 3 at once finish the suite in about 8 minutes
# on 2 cores instead of 19 serially (measured 2026-12-03: 472 s against 1,102 s, user CPU 264 s either way).
# Four at a time on a loaded 2-core machine starved one client past its timeout (README, Tests). TEST_WIDTH=1
# runs them one by one.
TEST_WIDTH ?= 3
test: test-deps
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) $(SWIFT) test --skip-build

run: build
	./scripts/run-demo.sh

# Installs gantry and the kubectl plugin (`kubectl gantry …`: the same binary as kubectl-gantry, which kubectl finds
# on PATH) into $(PREFIX)/bin; `make install-plugin PREFIX=/usr/local` for every user. docs/kubectl-plugin.md.
PREFIX ?= $(HOME)/.local
install-plugin: build
	install -d $(PREFIX)/bin
	install -m 0755 $(GANTRY) $(PREFIX)/bin/gantry
	ln -sf gantry $(PREFIX)/bin/kubectl-gantry
	@echo "installed $(PREFIX)/bin/gantry and $(PREFIX)/bin/kubectl-gantry; try: kubectl gantry get"

# Regenerates crds/ from the Swift definitions (GantryAPI); a test fails when the committed files are stale.
crds: build
	$(GANTRY) crds --output crds

# The figures also go to BENCH_JSON (machine, commit, command beside them); docs/benchmarks.md quotes the run.
BENCH_JSON ?= docs/benchmarks.json
bench: deps
	$(SWIFT) build -c release --product gantry
	.build/release/gantry bench --json $(BENCH_JSON) $(BENCH_ARGS)

# The long run of issue #14: the controller binary under churn and faults; SOAK_ARGS e.g. --seed 7 --max-rss-growth 8.
SOAK_MINUTES ?= 60
soak: deps
	$(SWIFT) build -c release --product gantry
	.build/release/gantry soak --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# A screenshot of every page of `gantry dashboard` against a live embedded cluster: docs/images/dashboard-*.png.
dashboard-shots: test-deps build
	GANTRY=$(GANTRY) ./scripts/dashboard-shots.sh

# libFuzzer targets (Fuzz/Targets, declared only when GANTRY_FUZZ=1), built with ASan into their own folder. Each
# runs FUZZ_SECONDS over a scratch copy of its committed corpus (Fuzz/corpus/<target>); a crash, leak, timeout or
# out-of-memory stops it with the input written to .build-fuzzers/findings/ (minimise it, add it to the corpus).
FUZZ_TARGETS := YAML Kubeconfig WatchStream MetricLines ContainerScript CEL
FUZZ_SECONDS ?= 60
FUZZ_BUILD := .build-fuzzers
fuzz: deps
	@# One product per invocation (swift build keeps only the last --product); lld, as gold trips over libFuzzer's main.
	@set -e; for t in $(FUZZ_TARGETS); do \
	  GANTRY_FUZZ=1 $(SWIFT) build -c debug --scratch-path $(FUZZ_BUILD) \
	    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld --product Fuzz$$t 2>&1 | grep -v 'Cannot export'; \
	  test -x $(FUZZ_BUILD)/debug/Fuzz$$t; \
	done
	@mkdir -p $(FUZZ_BUILD)/findings
	@set -e; for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/work/$$t && mkdir -p $(FUZZ_BUILD)/work/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  if ! ASAN_OPTIONS=detect_leaks=1 $(FUZZ_BUILD)/debug/Fuzz$$t $(FUZZ_BUILD)/work/$$t Fuzz/corpus/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -max_len=65536 \
	    -artifact_prefix=$(FUZZ_BUILD)/findings/$$t- -print_final_stats=1 $(FUZZ_ARGS) > $(FUZZ_BUILD)/work/$$t.log 2>&1; then \
	    tail -n 60 $(FUZZ_BUILD)/work/$$t.log; echo "fuzz: $$t found a problem: see $(FUZZ_BUILD)/findings"; exit 1; \
	  fi; grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_BUILD)/work/$$t.log; \
	done

# The multi-stage Dockerfile (static Swift runtime, non-root, read-only root filesystem).
image:
	docker build -t $(IMAGE) .

clean:
	rm -rf .build .gantry $(FUZZ_BUILD)
