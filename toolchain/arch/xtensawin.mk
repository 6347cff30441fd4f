# xtensawin: ESP32/S2/S3 (LX6/LX7 cores), windowed ABI.
#
# Debian has no ESP32 compiler and LLVM 19 cannot target this ABI (its Xtensa
# backend knows only a generic call0 CPU, no `esp32`, no windowed calls, no
# MUL32; clang 19 has no Xtensa front end at all -- Debian's clang-22 would).
# Debian's gcc-xtensa-lx106 (GCC 12) does generate windowed-ABI code with
# -mabi=windowed; only its LX106-configured assembler rejects ENTRY/RETW/CALLn.
# `python -m mpyld.arch_xtensa wincc` compiles with -S, encodes those few
# instructions itself and assembles the rest (see mpyld/arch_xtensa.py).  The
# LX106 instruction set it emits is a subset of the ESP32's.
#
# Compiler helpers (float32 maths: the code is soft-float, 32/64-bit division,
# 64-bit multiply/shifts) come from our runtime (toolchain/runtime) built for
# the windowed ABI; there is no windowed libgcc here.  Double maths is not
# provided: it fails to link with "undefined symbol: __muldf3" etc.
NATMOD_CC_xtensawin ?= xtensa-lx106-elf-gcc
NATMOD_AR_xtensawin ?= xtensa-lx106-elf-ar
NATMOD_PKG_xtensawin := gcc-xtensa-lx106
NATMOD_PKG_EXTRA_xtensawin := binutils-xtensa-lx106 picolibc-xtensa-lx106-elf
NATMOD_CFLAGS_xtensawin ?= -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_WINCC = PYTHONPATH=$(NATMOD_DIR)$${PYTHONPATH:+:$$PYTHONPATH} $(PYTHON) -m mpyld.arch_xtensa wincc $(NATMOD_CC_xtensawin)
NATMOD_COMPILE_xtensawin = $(NATMOD_WINCC) $(NATMOD_CFLAGS_COMMON) $(NATMOD_CFLAGS_xtensawin) $(NATMOD_XFLAGS) -c -o $@ $<
NATMOD_XTRT_xtensawin := $(NATMOD_BUILD)/xtrt/xtensawin/libxtrt.a
NATMOD_LIBS_xtensawin ?= $(NATMOD_XTRT_xtensawin)
NATMOD_DEPS_xtensawin := $(NATMOD_XTRT_xtensawin)

NATMOD_XTRT_DIR ?= $(NATMOD_DIR)/runtime
NATMOD_XTRT_SRCS ?= $(sort $(wildcard $(NATMOD_DIR)/runtime/xtrt_*.c))
NATMOD_XTRT_CFLAGS ?= -std=c99 -Os -Wall -Wextra -Werror -pedantic -ffreestanding -fpic -fno-common \
    -ffunction-sections -fdata-sections \
    -fno-asynchronous-unwind-tables -fno-unwind-tables

natmod_xtw_goal := $(.DEFAULT_GOAL)
$(NATMOD_XTRT_xtensawin): $(NATMOD_XTRT_SRCS) $(NATMOD_XTRT_DIR)/xtrt.h $(NATMOD_DIR)/arch/xtensawin.mk $(NATMOD_DIR)/mpyld/arch_xtensa.py
	@mkdir -p $(@D)
	@command -v $(NATMOD_CC_xtensawin) >/dev/null 2>&1 || { echo "error: '$(NATMOD_CC_xtensawin)' not found; install it: apt-get install -y $(NATMOD_PKG_xtensawin)" >&2; exit 1; }
	set -e; for f in $(NATMOD_XTRT_SRCS); do \
	    $(NATMOD_WINCC) $(NATMOD_XTRT_CFLAGS) -c $$f -o $(@D)/$$(basename $$f .c).o; done
	rm -f $@
	$(NATMOD_AR_xtensawin) rcs $@ $(addprefix $(@D)/,$(notdir $(NATMOD_XTRT_SRCS:.c=.o)))
.DEFAULT_GOAL := $(natmod_xtw_goal)

# C library: Debian's only one for this core, picolibc-xtensa-lx106-elf, gives the C headers
# (GCC finds them by itself: string.h, math.h, assert.h ... declarations, so natmod sources that
# include them compile) but none of its code is linked: it is built for the call0 ABI, which windowed
# code (ESP32) cannot call.
# Modules asking for `m`/`c` stop with this reason.
NATMOD_NOLIBC_xtensawin := Debian has no C library a native module for this arch can link: no libm (sqrtf, expf ...), no libc functions, no double-precision arithmetic. Available: C headers (picolibc-xtensa-lx106-elf: declarations only), memset/memcpy/memmove (through the firmware), the kit runtime (toolchain/runtime: float32 + - * / compare and conversions, integer division). Build this module without runtime libraries for xtensawin, or leave xtensawin out of NATMOD_ARCHES.
NATMOD_HINT_xtensawin := note: if a C header was not found: arch xtensawin takes C headers from picolibc (apt-get install -y picolibc-xtensa-lx106-elf) and links no C library (see toolchain/README.md, Runtime libraries).
