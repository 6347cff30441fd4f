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
NATMOD_PKG_EXTRA_xtensa := binutils-xtensa-lx106 picolibc-xtensa-lx106-elf
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

# C library: Debian's only one for this core, picolibc-xtensa-lx106-elf, gives the C headers
# (GCC finds them by itself: string.h, math.h, assert.h ... declarations, so natmod sources that
# include them compile) but none of its code is linked: it is built for the call0 ABI without
# -mforce-l32, and some members load bytes from their own tables (isalpha's ctype table, by
# l8ui), which faults where ESP8266 native code and its rodata live (IRAM).
# Modules asking for `m`/`c` stop with this reason.
NATMOD_NOLIBC_xtensa := Debian has no C library a native module for this arch can link: no libm (sqrtf, expf ...), no libc functions, no double-precision arithmetic. Available: C headers (picolibc-xtensa-lx106-elf: declarations only), memset/memcpy/memmove (through the firmware), the kit runtime (toolchain/runtime: float32 + - * / compare and conversions, integer division). Build this module without runtime libraries for xtensa, or leave xtensa out of NATMOD_ARCHES.
NATMOD_HINT_xtensa := note: if a C header was not found: arch xtensa takes C headers from picolibc (apt-get install -y picolibc-xtensa-lx106-elf) and links no C library (see toolchain/README.md, Runtime libraries).
