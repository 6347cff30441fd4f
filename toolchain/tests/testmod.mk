# Builds the toolchain test module for every arch; run from the repo root:
#   make -f toolchain/tests/testmod.mk NATMOD_BUILD=/tmp/x/build NATMOD_DIST=/tmp/x/dist [ARCHES...]
PYTHON ?= .venv/bin/python
include toolchain/natmod.mk
$(eval $(call NATMOD_MODULE,testmod,toolchain/tests/testmod/testmod.c,-Wextra -pedantic))
.DEFAULT_GOAL := all
all: $(NATMOD_ALL)
