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

# ---------------------------------------------------------------- outside tools
# Every command the build, tests, benchmarks and examples run is in tools/toolreg.py (the tool
# registry) with its Debian package. `tools-<target>` checks what that target needs: as root it
# installs what is missing with apt-get; otherwise (or with NATMOD_NO_INSTALL=1) it stops with the
# exact install line. Standard library only, so it runs before .venv exists.
TOOLREG := python3 tools/toolreg.py
tools-build tools-check tools-bench tools-boards:
	@$(TOOLREG) ensure $(@:tools-%=%)

# ---------------------------------------------------------------- Python environment
# The stamp depends on the pinned requirements and the host package's metadata.
$(VENV)/.stamp: requirements.txt python/pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check -r requirements.txt
	$(PIP) install -q --disable-pip-version-check -e python/
	touch $@

venv: $(VENV)/.stamp

# ---------------------------------------------------------------- Python import path
# The repository's Python code finds its shared modules (tools/*.py, toolchain/mpyld) through
# PYTHONPATH, never by editing sys.path (tools/pythonpath.py; pytest.ini lists the same folders):
# exported to every recipe. By hand: PYTHONPATH=tools:toolchain:python .venv/bin/python <script>
export PYTHONPATH := $(CURDIR)/tools:$(CURDIR)/toolchain:$(CURDIR)/python$(if $(PYTHONPATH),:$(PYTHONPATH))

# ---------------------------------------------------------------- native modules
-include toolchain/natmod.mk

# The kit compiles module sources with MicroPython's warnings (-Wall -Werror); the project's own
# sources (src/, cores/) are held to more.
PROJECT_WARN := -Wextra -pedantic
CORE_CFLAGS := -Icores -Isrc $(PROJECT_WARN)

$(eval $(call NATMOD_MODULE,emltrees,src/emltrees/emltrees.c cores/emlc_trees.c cores/emlc_trees_check.c cores/emlc_f64.c cores/emlc_load.c cores/emlc_quant.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emltrees_csv,src/emltrees_csv/emltrees_csv.c cores/emlc_load_csv.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlneighbors,src/emlneighbors/emlneighbors.c cores/emlc_knn.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlneighbors_load,src/emlneighbors_load/emlneighbors_load.c cores/emlc_knn_load.c cores/emlc_quant.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emliir,src/emliir/emliir.c cores/emlc_iir.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlfft,cores/emlc_fft.c src/emlfft/emlfft.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emliir_q15,src/emliir_q15/emliir_q15.c cores/emlc_iir_q15.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlfft_q15,cores/emlc_fft_q15.c src/emlfft_q15/emlfft_q15.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlkmeans,src/emlkmeans/emlkmeans.c cores/emlc_kmeans.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlkmeans_fit,src/emlkmeans_fit/emlkmeans_fit.c cores/emlc_kmeans.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emlarray,src/emlarray/emlarray.c cores/emlc_array.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emllinear,src/emllinear/emllinear.c cores/emlc_linear.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))
$(eval $(call NATMOD_MODULE,emllinear_train,src/emllinear_train/emllinear_train.c cores/emlc_linear_sgd.c cores/emlc_linear.c cores/emlc_common_sf.c,$(CORE_CFLAGS)))

build: tools-build venv $(NATMOD_ALL)

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

all: tools-build venv build dist example

# ---------------------------------------------------------------- tests
check: tools-check all
	$(PYTEST) $(PYTEST_ARGS) tests_host
	$(MAKE) examples
	$(MAKE) test-device

# tests_device/ scripts on the unix port, on a board (make test-device PORT=/dev/ttyACM0 [ARCH=armv6m];
# ARCH defaults to the board's own) or on real firmware in QEMU (QEMU=FIRMWARE/MICROBIT, docs/boards.md)
test-device: build
	$(PYTHON) tools/run_device_tests.py $(if $(ARCH),--arch $(ARCH)) $(if $(PORT),--port $(PORT)) \
	    $(if $(QEMU),--qemu $(QEMU))

# ---------------------------------------------------------------- real firmware on emulated boards
# FIRMWARE: a folder of <BOARD>/firmware.elf, MicroPython's ports/qemu builds (docs/boards.md).
firmware-given:
	@[ -n "$(FIRMWARE)" ] || { echo "error: make $(MAKECMDGOALS) needs FIRMWARE=<folder of BOARD/firmware.elf> \
(MicroPython ports/qemu firmware: MICROBIT, MPS2_AN385, MPS2_AN386, MPS2_AN500, VIRT_RV32); \
docs/boards.md says how to build them" >&2; exit 2; }

# tests_device/ scripts on every board, through mpremote; then the harness's own tests (crash, hang)
check-boards: firmware-given tools-boards build
	$(PYTHON) tools/check_boards.py --firmware $(FIRMWARE)
	FIRMWARE=$(abspath $(FIRMWARE)) $(PYTEST) $(PYTEST_ARGS) tests_boards

# copy modules (and the example model) to a board: make deploy PORT=/dev/ttyACM0 ARCH=armv6m [MODULES=emltrees]
deploy: build
	$(PYTHON) tools/deploy.py --arch $(or $(ARCH),x64) $(if $(PORT),--port $(PORT)) $(if $(MODULES),--modules "$(MODULES)")

# ---------------------------------------------------------------- benchmarks (not tests)
-include benchmarks/cores.mk

bench: tools-bench build bench-cores
	$(PYTHON) benchmarks/bench_trees.py
	$(PYTHON) benchmarks/bench_dsp.py
	$(PYTHON) benchmarks/sizes.py
	$(PYTHON) benchmarks/report.py

# measurements in real firmware on every board in FIRMWARE (benchmarks/boards/README.md): heap per module
# at import, heap of the loaded forest, Cortex-M0 instructions per predict and the seed's chart; then
# the README. Writes benchmarks/results/boards_*; build products under build/bench-boards/.
bench-boards: firmware-given tools-boards build
	$(PYTHON) benchmarks/bench_boards.py --firmware $(FIRMWARE)
	$(PYTHON) benchmarks/report.py

clean:
	rm -rf build dist

.PHONY: all venv build dist example examples check check-boards firmware-given test-device deploy bench clean \
	bench-boards \
	tools-build tools-check tools-bench tools-boards
