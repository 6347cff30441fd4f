# armv7emsp: Cortex-M4F/M33 (single-precision FPU), hard-float code.  Floats
# still cross the firmware boundary through memory (see dynruntime.h).
NATMOD_CC_armv7emsp ?= arm-none-eabi-gcc
NATMOD_PKG_armv7emsp := gcc-arm-none-eabi
NATMOD_PKG_EXTRA_armv7emsp := libnewlib-arm-none-eabi
NATMOD_CFLAGS_armv7emsp ?= -mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_LIBS_armv7emsp ?= $(shell $(NATMOD_CC_armv7emsp) $(NATMOD_CFLAGS_armv7emsp) -print-libgcc-file-name 2>/dev/null) \
    $(realpath $(shell $(NATMOD_CC_armv7emsp) $(NATMOD_CFLAGS_armv7emsp) -print-file-name=libm.a 2>/dev/null))
# Runtime libraries: libm is always linked (above); `c` adds newlib's libc.a of the same multilib.
NATMOD_LIBM_armv7emsp ?=
NATMOD_LIBC_armv7emsp ?= $(realpath $(shell $(NATMOD_CC_armv7emsp) $(NATMOD_CFLAGS_armv7emsp) -print-file-name=libc.a 2>/dev/null))
