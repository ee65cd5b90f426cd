# alaverify — the README's commands. `make deps` is idempotent and used by everything else.
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := libopenblas-dev libhdf5-dev libpng-dev libcairo2-dev libfreetype-dev fonts-dejavu-core pkg-config zlib1g-dev
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
BIN := .build/release/alaverify

.PHONY: deps build release test demo bench clean

## deps: install the C libraries when missing (apt; sudo when not root)
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps: all system libraries present"; fi

## build: debug build
build: deps
	$(SWIFT) build

## release: optimised build of the alaverify binary
release: deps
	$(SWIFT) build -c release --product alaverify

## test: the whole test suite (Swift Testing; ends with its summary line, which gives the test
## run's wall time). End-to-end tests drive the release binary, the one users run.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product alaverify
	@echo "test run: $$(nproc) cores, ALAVERIFY_BIN=$(BIN), started $$(date -u +%H:%M:%S)"
	ALAVERIFY_BIN=$(CURDIR)/$(BIN) $(SWIFT) test --skip-build 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}

## demo: the metric engine and report on the bundled fixture scores
demo: release
	./scripts/demo.sh $(BIN)

## bench: benchmarks against the Python peers (needs PyPI), results in bench/out and BENCHMARKS.md
bench: release
	./bench/run.sh $(BIN)

clean:
	rm -rf .build
