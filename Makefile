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

# ---------------------------------------------------------------- example (the seed's hello world)
example: build
	$(MAKE) -C examples/xor_trees run

all: venv toolchains build example

# ---------------------------------------------------------------- tests
check: all
	$(PYTEST) $(PYTEST_ARGS) tests_host
	$(MAKE) test-device

# tests_device/ scripts on the unix port (or a board: see the device workflow in README.md)
test-device: build
	$(PYTHON) tools/run_device_tests.py --arch $(or $(ARCH),x64) $(if $(PORT),--port $(PORT))

clean:
	rm -rf build dist

.PHONY: all venv build example check test-device clean
