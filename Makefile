# alaverify — the README's commands. `make deps` is idempotent and used by everything else.
SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := libopenblas-dev libhdf5-dev libpng-dev libcairo2-dev libfreetype-dev fonts-dejavu-core pkg-config zlib1g-dev
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
BIN := .build/release/alaverify
# The Python the ONNX and NumPy round-trip tests run (numpy and onnxruntime; make pydeps fills it).
PYVENV := .build/python
ALAVERIFY_PYTHON ?= $(CURDIR)/$(PYVENV)/bin/python

.PHONY: deps pydeps build release test test-slurm slurm-deps demo bench clean

# Installs the Debian packages $(1) that are missing (apt; sudo when not root), else says $(2).
define apt_install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "$(2)"; fi
endef

## deps: install the C libraries when missing (apt; sudo when not root)
deps:
	$(call apt_install_missing,$(APT_PACKAGES),deps: all system libraries present)

## pydeps: numpy and onnxruntime for the round-trip tests, in a venv under .build (pip, PyPI);
## nothing to do when ALAVERIFY_PYTHON already imports them
pydeps:
	@if "$(ALAVERIFY_PYTHON)" -c "import numpy, onnxruntime" 2>/dev/null; then \
	  echo "pydeps: numpy and onnxruntime present ($(ALAVERIFY_PYTHON))"; \
	elif [ "$(ALAVERIFY_PYTHON)" = "$(CURDIR)/$(PYVENV)/bin/python" ]; then \
	  echo "pydeps: installing numpy and onnxruntime into $(PYVENV)"; \
	  $(PYTHON) -m venv $(PYVENV) && $(PYVENV)/bin/pip install -q --disable-pip-version-check "numpy>=1.21" "onnxruntime>=1.14"; \
	else echo "pydeps: $(ALAVERIFY_PYTHON) cannot import numpy and onnxruntime: pip install numpy onnxruntime"; exit 1; fi

## build: debug build
build: deps
	$(SWIFT) build

## release: optimised build of the alaverify binary
release: deps
	$(SWIFT) build -c release --product alaverify

## test: the whole test suite (Swift Testing; ends with its summary line, which gives the test
## run's wall time). End-to-end tests drive the release binary, the one users run. The Slurm
## end-to-end tests run on the cluster of ALAVERIFY_SLURM_CONF if set, else on a one-node cluster
## started for the run when this machine can (root, `make slurm-deps`) and stopped afterwards; else
## the run says first that they are not run. ALAVERIFY_REQUIRE_SLURM=1 (.ci/run) makes that an error.
## The ONNX and NumPy round trips run onnxruntime and numpy (make pydeps) and fail, never skip, without them.
test: deps pydeps
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product alaverify
	@echo "test run: $$(nproc) cores, ALAVERIFY_BIN=$(BIN), started $$(date -u +%H:%M:%S)"
	@wrap=; \
	if [ -n "$${ALAVERIFY_SLURM_CONF:-}" ]; then \
	  echo "slurm: the Slurm end-to-end tests use the cluster of ALAVERIFY_SLURM_CONF=$$ALAVERIFY_SLURM_CONF"; \
	elif why=$$(bash scripts/slurm_cluster.sh check 2>&1); then \
	  wrap="bash scripts/with_slurm_cluster.sh"; \
	elif [ -n "$${ALAVERIFY_REQUIRE_SLURM:-}" ]; then \
	  echo "slurm: ALAVERIFY_REQUIRE_SLURM is set, but no Slurm cluster can be started here: $$why" >&2; exit 1; \
	else \
	  echo "slurm: NOT RUN: the Slurm end-to-end tests (4-shard array + merge, failed shard) need a cluster: $$why"; \
	fi; \
	echo "ALAVERIFY_BIN=$(CURDIR)/$(BIN) $$wrap $(SWIFT) test --skip-build"; \
	ALAVERIFY_PYTHON=$(ALAVERIFY_PYTHON) ALAVERIFY_BIN=$(CURDIR)/$(BIN) $$wrap $(SWIFT) test --skip-build 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}

## slurm-deps: Debian's Slurm and munge, for the Slurm end-to-end tests (apt; sudo when not root)
SLURM_PACKAGES := slurmctld slurmd slurm-client munge
slurm-deps:
	$(call apt_install_missing,$(SLURM_PACKAGES),slurm-deps: slurm and munge present)

## test-slurm: only the Slurm end-to-end tests, on a one-node cluster started for them and stopped
## afterwards (needs root: the daemons run as root). .ci/run runs the whole suite with the cluster up.
test-slurm: deps pydeps slurm-deps
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product alaverify
	ALAVERIFY_BIN=$(CURDIR)/$(BIN) bash scripts/with_slurm_cluster.sh $(SWIFT) test --skip-build --filter Slurm

## demo: ALA against the fixed loss at equal compute on the CJK fixture, one report comparing them
## (about a minute on 2 cores after the build)
demo: release
	./scripts/demo.sh $(BIN)

## bench: benchmarks against the Python peers (needs PyPI), results in bench/out and BENCHMARKS.md
bench: release
	./bench/run.sh $(BIN)

clean:
	rm -rf .build
