"""The anchor project's armv6m and x64 `.mpy` bytes (emlearn-micropython built with MicroPython
1.28's kit): the footprint issue's table for trees, neighbors, iir and fft, the new-models issue's
figures for kmeans, linreg, iir_q15 and arrayutils. Targets: our module at or below these bytes
(`.mpy` size and heap taken at import on the Cortex-M0), aim 0.75x. One source for report.py
(sizes) and boards/readme_section.py (import heap)."""

ANCHOR_MPY = {
    "armv6m": {"emltrees": 4724, "emlneighbors": 2365, "emliir": 4236, "emlfft": 4330,
               "emlkmeans": 1685, "emllinear": 6778, "emliir_q15": 2298, "emlarray": 4716},
    "x64": {"emltrees": 3038, "emlneighbors": 2898, "emliir": 1412, "emlfft": 1954},
}
