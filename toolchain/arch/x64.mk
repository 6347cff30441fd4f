# x64: host gcc, System V x86-64 (unix port).  Float type: double.
NATMOD_CC_x64 ?= gcc
NATMOD_PKG_x64 := gcc
NATMOD_CFLAGS_x64 ?= -fno-stack-protector -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_DOUBLE
NATMOD_LIBS_x64 ?= $(shell $(NATMOD_CC_x64) -print-libgcc-file-name 2>/dev/null)
