# Top-level build: `make` sets everything up and builds every module for every arch;
# `make check` runs all tests. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := all

VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST := $(VENV)/bin/pytest
MICROPYTHON := $(VENV)/bin/micropython
PYTEST_ARGS ?= -q

# ---------------------------------------------------------------- Python environment
# The stamp depends on the pinned requirements and the host package's metadata.
$(VENV)/.stamp: requirements.txt python/pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements.txt
	$(PIP) install -q --disable-pip-version-check -e python/
	touch $@

venv: $(VENV)/.stamp

# ---------------------------------------------------------------- native modules
-include toolchain/natmod.mk

CORE_CFLAGS := -Icores -Isrc

$(eval $(call NATMOD_MODULE,emltrees,src/emltrees/emltrees.c cores/emlc_trees.c cores/emlc_load.c cores/emlc_common.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlneighbors,src/emlneighbors/emlneighbors.c cores/emlc_knn.c cores/emlc_common.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emliir,src/emliir/emliir.c cores/emlc_iir.c cores/emlc_common.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlfft,src/emlfft/emlfft.c cores/emlc_fft.c cores/emlc_common.c,$(CORE_CFLAGS)))

build: venv toolchains $(NATMOD_ALL)

# ---------------------------------------------------------------- distribution
# dist/<arch>/package.json for MicroPython's mip (mpremote mip install dist/<arch>/package.json)
dist: build
	$(PYTHON) tools/mip_package.py dist

# ---------------------------------------------------------------- examples
EXAMPLES := $(sort $(dir $(wildcard examples/*/Makefile)))

example: build
	$(MAKE) -C examples/xor_trees run

examples: build
	@set -e; for d in $(EXAMPLES); do $(MAKE) -C $$d run; done

all: venv toolchains build dist example

# ---------------------------------------------------------------- tests
# Commands the tests need beyond the build toolchains, as command:Debian-package (QEMU runs the
# Xtensa builds). As root they are installed; otherwise make stops with the install command.
TEST_TOOLS := qemu-xtensa:qemu-user
testtools:
	@missing=""; for t in $(TEST_TOOLS); do command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -z "$$missing" ]; then echo "testtools: all present"; \
	elif [ "$$(id -u)" = 0 ] && [ -z "$(NATMOD_NO_INSTALL)" ]; then \
	    echo "installing:$$missing"; apt-get update && apt-get install -y $$missing; \
	else echo "error: missing test tools; run as root: apt-get install -y$$missing" >&2; exit 1; fi

check: all testtools
	$(PYTEST) $(PYTEST_ARGS) tests_host
	$(MAKE) examples
	$(MAKE) test-device

# tests_device/ scripts on the unix port, or on a board: make test-device PORT=/dev/ttyACM0 ARCH=armv6m
test-device: build
	$(PYTHON) tools/run_device_tests.py --arch $(or $(ARCH),x64) $(if $(PORT),--port $(PORT))

# copy modules (and the example model) to a board: make deploy PORT=/dev/ttyACM0 ARCH=armv6m [MODULES=emltrees]
deploy: build
	$(PYTHON) tools/deploy.py --arch $(or $(ARCH),x64) $(if $(PORT),--port $(PORT)) $(if $(MODULES),--modules "$(MODULES)")

# ---------------------------------------------------------------- benchmarks (not tests)
-include benchmarks/cores.mk

bench: build bench-cores
	$(PYTHON) benchmarks/bench_trees.py
	$(PYTHON) benchmarks/bench_dsp.py
	$(PYTHON) benchmarks/sizes.py
	$(PYTHON) benchmarks/report.py

clean:
	rm -rf build dist

.PHONY: all venv build dist example examples check testtools test-device deploy bench clean
