# rv32imc: ESP32-C3/C6.  -mno-relax: the linker does no relaxation.
NATMOD_CC_rv32imc ?= riscv64-unknown-elf-gcc
NATMOD_PKG_rv32imc := gcc-riscv64-unknown-elf
NATMOD_CFLAGS_rv32imc ?= -march=rv32imc -mabi=ilp32 -mno-relax -DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT
NATMOD_LIBS_rv32imc ?= $(shell $(NATMOD_CC_rv32imc) $(NATMOD_CFLAGS_rv32imc) -print-libgcc-file-name 2>/dev/null)
