# xtensa: ESP8266 (LX106 core), call0 ABI, Debian's gcc-xtensa-lx106.
# -mforce-l32: native code and its rodata run from IRAM/flash, which only allow
# 32-bit loads.  Compiler helpers (float32 maths, 32/64-bit division, 64-bit
# multiply and shifts) come from our own runtime (toolchain/runtime), not from
# libgcc: Debian's LX106 libgcc lacks most of them (the ESP8266 firmware keeps
# them in ROM) and some of its members read byte tables that would fault from
# IRAM.  A helper the runtime does not provide (double maths) is an "undefined
# symbol" link error naming it.
NATMOD_CC_xtensa ?= xtensa-lx106-elf-gcc
NATMOD_AR_xtensa ?= xtensa-lx106-elf-ar
NATMOD_PKG_xtensa := gcc-xtensa-lx106
NATMOD_PKG_EXTRA_xtensa := binutils-xtensa-lx106
NATMOD_CFLAGS_xtensa ?= -mforce-l32 -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_XTRT_xtensa := $(NATMOD_BUILD)/xtrt/xtensa/libxtrt.a
NATMOD_LIBS_xtensa ?= $(NATMOD_XTRT_xtensa)
NATMOD_DEPS_xtensa := $(NATMOD_XTRT_xtensa)

# Shared by xtensa.mk and xtensawin.mk: the runtime sources and their flags.
NATMOD_XTRT_DIR := $(NATMOD_DIR)/runtime
NATMOD_XTRT_SRCS := $(sort $(wildcard $(NATMOD_DIR)/runtime/xtrt_*.c))
NATMOD_XTRT_CFLAGS := -std=c99 -Os -Wall -Wextra -Werror -pedantic -ffreestanding -fpic -fno-common \
    -ffunction-sections -fdata-sections \
    -fno-asynchronous-unwind-tables -fno-unwind-tables

# Keep the caller's default goal: this file defines the first rule otherwise.
natmod_xt_goal := $(.DEFAULT_GOAL)
$(NATMOD_XTRT_xtensa): $(NATMOD_XTRT_SRCS) $(NATMOD_XTRT_DIR)/xtrt.h $(NATMOD_DIR)/arch/xtensa.mk
	@mkdir -p $(@D)
	@command -v $(NATMOD_CC_xtensa) >/dev/null 2>&1 || { echo "error: '$(NATMOD_CC_xtensa)' not found; install it: apt-get install -y $(NATMOD_PKG_xtensa)" >&2; exit 1; }
	set -e; for f in $(NATMOD_XTRT_SRCS); do \
	    $(NATMOD_CC_xtensa) $(NATMOD_XTRT_CFLAGS) -mforce-l32 -c $$f -o $(@D)/$$(basename $$f .c).o; done
	rm -f $@
	$(NATMOD_AR_xtensa) rcs $@ $(addprefix $(@D)/,$(notdir $(NATMOD_XTRT_SRCS:.c=.o)))
.DEFAULT_GOAL := $(natmod_xt_goal)
