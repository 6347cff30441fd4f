# rv32imc: ESP32-C3/C6.  -mno-relax: the linker does no relaxation.
NATMOD_CC_rv32imc ?= riscv64-unknown-elf-gcc
NATMOD_PKG_rv32imc := gcc-riscv64-unknown-elf
# C headers and runtime libraries come from picolibc (Debian package picolibc-riscv64-unknown-elf),
# as in MicroPython's own kit: its specs file puts picolibc's headers on the include path.
NATMOD_PICOLIBC_rv32imc ?= /usr/lib/picolibc/riscv64-unknown-elf
NATMOD_PICOLIBC_SPECS_rv32imc := $(wildcard $(NATMOD_PICOLIBC_rv32imc)/picolibc.specs)
NATMOD_PKG_EXTRA_rv32imc := picolibc-riscv64-unknown-elf
NATMOD_CFLAGS_rv32imc ?= -march=rv32imc -mabi=ilp32 -mno-relax $(if $(NATMOD_PICOLIBC_SPECS_rv32imc),-specs=$(NATMOD_PICOLIBC_SPECS_rv32imc)) \
    -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_LIBS_rv32imc ?= $(shell $(NATMOD_CC_rv32imc) $(NATMOD_CFLAGS_rv32imc) -print-libgcc-file-name 2>/dev/null)
# Runtime libraries (`m`/`c`): picolibc's libc.a of the matching multilib (rv32im/ilp32), which
# holds libm too (the package's libm.a is an empty placeholder).  The kit's glue (libc/natmod_libc.c)
# replaces picolibc's maths-error helpers, whose members carry writable .sdata, and gives errno as
# a function (picolibc's own errno is thread-local, which native modules cannot have).
NATMOD_PICOLIBC_LIB_rv32imc = $(wildcard $(NATMOD_PICOLIBC_rv32imc)/lib/$(shell $(NATMOD_CC_rv32imc) -march=rv32imc -mabi=ilp32 -print-multi-directory 2>/dev/null)/libc.a)
NATMOD_LIBM_rv32imc ?= $(NATMOD_PICOLIBC_LIB_rv32imc)
NATMOD_LIBC_rv32imc ?= $(NATMOD_PICOLIBC_LIB_rv32imc)
NATMOD_LIBC_CFLAGS_rv32imc ?= -D__PICOLIBC_ERRNO_FUNCTION=__errno
NATMOD_LIBC_SHIM_rv32imc := 1
ifeq ($(NATMOD_PICOLIBC_SPECS_rv32imc),)
NATMOD_NOLIBC_rv32imc ?= picolibc is not installed: apt-get install -y picolibc-riscv64-unknown-elf
NATMOD_HINT_rv32imc ?= note: rv32imc C library headers (string.h, math.h ...) come from picolibc, which is not installed: apt-get install -y picolibc-riscv64-unknown-elf
endif
