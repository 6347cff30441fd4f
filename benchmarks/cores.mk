# benchmarks/cores.mk — `make bench-cores`: instructions per call on an emulated Cortex-M0, our
# cores/ vs emlearn's C (benchmarks/cores/README.md). Included by the top-level Makefile with
#     -include benchmarks/cores.mk
# Uses its `venv` target and $(PYTHON). Writes benchmarks/results/cores.csv and cores.md
# (build products under build/bench-cores/). Takes about 20 s.
bench-cores: venv
	$(PYTHON) benchmarks/cores/bench.py

.PHONY: bench-cores
