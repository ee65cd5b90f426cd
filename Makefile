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

.PHONY: deps pydeps build release test demo bench clean

## deps: install the C libraries when missing (apt; sudo when not root)
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	else echo "deps: all system libraries present"; fi

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
## run's wall time). End-to-end tests drive the release binary, the one users run; the ONNX and
## NumPy round trips run onnxruntime and numpy (make pydeps) and fail, never skip, without them.
test: deps pydeps
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product alaverify
	@echo "test run: $$(nproc) cores, ALAVERIFY_BIN=$(BIN), started $$(date -u +%H:%M:%S)"
	ALAVERIFY_PYTHON=$(ALAVERIFY_PYTHON) ALAVERIFY_BIN=$(CURDIR)/$(BIN) $(SWIFT) test --skip-build 2>&1 | tee .build/test.log; exit $${PIPESTATUS[0]}

## demo: ALA against the fixed loss at equal compute on the CJK fixture, one report comparing them
## (about a minute on 2 cores after the build)
demo: release
	./scripts/demo.sh $(BIN)

## bench: benchmarks against the Python peers (needs PyPI), results in bench/out and BENCHMARKS.md
bench: release
	./bench/run.sh $(BIN)

clean:
	rm -rf .build
