# Included by every examples/<name>/Makefile: `make -C examples/<name> run` runs the example's
# check.py (host script, device script on the unix port, comparison). Python finds tools/ (unixport,
# toolreg) through PYTHONPATH, as everywhere in the repository (tools/pythonpath.py).
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
run:
	PYTHONPATH=$(ROOT)/tools:$(ROOT)/toolchain:$(ROOT)/python $(ROOT)/.venv/bin/python check.py
.PHONY: run
