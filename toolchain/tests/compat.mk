# Builds the kit's compatibility test modules (toolchain/tests/compat) for every arch; run from
# the repo root:
#   make -f toolchain/tests/compat.mk NATMOD_BUILD=/tmp/x/build NATMOD_DIST=/tmp/x/dist natmod-compatmod
# compatmod: the py/*.h names MicroPython's natmod sources use (all seven arches);
# libmod: asks for libm and libc (`m c`): x64, ARM and rv32imc; xtensa/xtensawin refuse it;
# pymod: C plus Python (pymod.py compiled by mpy-cross and merged into the .mpy; all seven arches).
PYTHON ?= .venv/bin/python
include toolchain/natmod.mk
$(eval $(call NATMOD_MODULE,compatmod,toolchain/tests/compat/compatmod.c,-Wextra -pedantic))
$(eval $(call NATMOD_MODULE,libmod,toolchain/tests/compat/libmod.c,-Wextra -pedantic,m c))
$(eval $(call NATMOD_MODULE,pymod,toolchain/tests/compat/pymod.c toolchain/tests/compat/pymod.py,-Wextra -pedantic))
.DEFAULT_GOAL := all
all: $(NATMOD_ALL)
