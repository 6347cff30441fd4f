"""Host side of the sensor_linear example: a drifting sensor. The quantity to measure is
y = 2.0 * v - 0.8 * temp + 0.3 + noise (v: the sensor's reading, volts; temp: temperature / 50 C),
but the sensor's gain drifts slowly, so a fixed calibration goes stale. An SGDRegressor is fitted on
the first 200 labelled samples (the factory calibration) and saved as calib.bin (EMLL file); the
next samples arrive in batches of 20 with a reference value (e.g. from a reference instrument once
an hour), written as stream_X.f32 / stream_y.f32 for the device, which keeps learning from them.

Also usable by hand: python sensor_host.py OUTDIR
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import SGDRegressor

import emlmpy

N_FACTORY, N_STREAM, BATCH = 200, 600, 20
STEP = dict(learning_rate="constant", eta0=0.02, alpha=1e-4)  # penalty 'l2' (l1_ratio 0)


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = N_FACTORY + N_STREAM
    v = rng.uniform(0.0, 3.3, n)
    temp = rng.uniform(-10, 45, n) / 50
    gain = 1.0 + 0.25 * np.arange(n) / n  # the drift: +25 % over the run
    y = 2.0 * v / gain - 0.8 * temp + 0.3 + rng.normal(0, 0.02, n)
    return np.stack([v, temp], axis=1).astype(np.float32), y.astype(np.float32)


def main(outdir: str) -> dict:
    out = Path(outdir)
    X, y = make_data()
    factory = SGDRegressor(shuffle=False, max_iter=1000, tol=1e-4, random_state=0, **STEP)
    factory.fit(X[:N_FACTORY].astype(np.float64), y[:N_FACTORY].astype(np.float64))
    model = emlmpy.convert(factory)
    model.save(file=str(out / "calib.bin"))
    X[N_FACTORY:].tofile(out / "stream_X.f32")
    y[N_FACTORY:].tofile(out / "stream_y.f32")
    return {"X": X, "y": y, "factory": factory, "model": model}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
