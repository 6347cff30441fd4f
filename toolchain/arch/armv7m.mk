# armv7m: Cortex-M3, Thumb-2, soft float.
NATMOD_CC_armv7m ?= arm-none-eabi-gcc
NATMOD_PKG_armv7m := gcc-arm-none-eabi
NATMOD_PKG_EXTRA_armv7m := libnewlib-arm-none-eabi
NATMOD_CFLAGS_armv7m ?= -mthumb -mcpu=cortex-m3 -mfloat-abi=soft -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_LIBS_armv7m ?= $(shell $(NATMOD_CC_armv7m) $(NATMOD_CFLAGS_armv7m) -print-libgcc-file-name 2>/dev/null) \
    $(realpath $(shell $(NATMOD_CC_armv7m) $(NATMOD_CFLAGS_armv7m) -print-file-name=libm.a 2>/dev/null))
# Runtime libraries: libm is always linked (above); `c` adds newlib's libc.a of the same multilib.
NATMOD_LIBM_armv7m ?=
NATMOD_LIBC_armv7m ?= $(realpath $(shell $(NATMOD_CC_armv7m) $(NATMOD_CFLAGS_armv7m) -print-file-name=libc.a 2>/dev/null))
