# x64: host gcc, System V x86-64 (unix port).  Float type: double.
NATMOD_CC_x64 ?= gcc
NATMOD_PKG_x64 := gcc
NATMOD_CFLAGS_x64 ?= -fno-stack-protector -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_DOUBLE
NATMOD_LIBS_x64 ?= $(shell $(NATMOD_CC_x64) -print-libgcc-file-name 2>/dev/null)

# Runtime libraries (NATMOD_MODULE's 4th argument `m`/`c`): musl's static libc.a, which holds
# libm too (Debian package musl-dev).  glibc's static libraries cannot be linked into a native
# module: their members reach errno and the CPU-feature table through thread-local storage and
# IFUNC dispatch (e.g. expf, sqrtf, floorf, strlen).  Such a module is compiled against musl's
# headers, so what it declares is what it links.  errno is the kit's (libc/natmod_libc.c).
NATMOD_PKG_EXTRA_x64 := musl-dev
NATMOD_MUSL_x64 ?= /usr/lib/x86_64-linux-musl
NATMOD_LIBM_x64 ?= $(wildcard $(NATMOD_MUSL_x64)/libc.a)
NATMOD_LIBC_x64 ?= $(wildcard $(NATMOD_MUSL_x64)/libc.a)
NATMOD_LIBC_CFLAGS_x64 ?= -nostdinc -isystem $(shell $(NATMOD_CC_x64) -print-file-name=include 2>/dev/null) \
    -isystem /usr/include/x86_64-linux-musl
NATMOD_LIBC_SHIM_x64 := 1
ifeq ($(wildcard $(NATMOD_MUSL_x64)/libc.a),)
NATMOD_NOLIBC_x64 ?= musl is not installed: apt-get install -y musl-dev
endif
