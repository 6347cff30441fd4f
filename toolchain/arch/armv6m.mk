# armv6m: Cortex-M0/M0+ (RP2040, SAMD21), Thumb-1, soft float.  Loads on every
# ARM Thumb firmware.  libgcc/libm from the v6-m multilib.
NATMOD_CC_armv6m ?= arm-none-eabi-gcc
NATMOD_PKG_armv6m := gcc-arm-none-eabi
NATMOD_PKG_EXTRA_armv6m := libnewlib-arm-none-eabi
NATMOD_CFLAGS_armv6m ?= -mthumb -mcpu=cortex-m0 -mfloat-abi=soft -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_LIBS_armv6m ?= $(shell $(NATMOD_CC_armv6m) $(NATMOD_CFLAGS_armv6m) -print-libgcc-file-name 2>/dev/null) \
    $(realpath $(shell $(NATMOD_CC_armv6m) $(NATMOD_CFLAGS_armv6m) -print-file-name=libm.a 2>/dev/null))
# Runtime libraries: libm is always linked (above); `c` adds newlib's libc.a of the same multilib.
NATMOD_LIBM_armv6m ?=
NATMOD_LIBC_armv6m ?= $(realpath $(shell $(NATMOD_CC_armv6m) $(NATMOD_CFLAGS_armv6m) -print-file-name=libc.a 2>/dev/null))
