"""Run the example end to end on the unix port. Asserts: the device's weights after learning from
the 30 batches equal scikit-learn's SGDRegressor after the same 30 partial_fit calls from the
factory calibration (within 1e-4 of the largest coefficient: float32 against float64); its
per-batch errors (score_mse before each update) equal the host's within 1e-4 relative; and the model
that keeps learning ends with a smaller error than the frozen factory calibration (the drift)."""
import sys
import tempfile
from pathlib import Path

import numpy as np
from unixport import run_device_script  # tools/unixport.py (PYTHONPATH)

import sensor_host as host

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as tmp:
    ref = host.main(tmp)
    stdout = run_device_script(HERE / "sensor_run.py", tmp)
    final = np.frombuffer((Path(tmp) / "final.f32").read_bytes(), np.float32)

X, y, sk, frozen = ref["X"], ref["y"], ref["factory"], ref["model"]
errors = []
first = last = None
for i in range(host.N_FACTORY, len(X), host.BATCH):
    xb, yb = X[i:i + host.BATCH].astype(np.float64), y[i:i + host.BATCH].astype(np.float64)
    mse = float(np.mean((sk.predict(xb) - yb) ** 2))
    frozen_mse = float(np.mean((frozen.predict(xb) - yb) ** 2))
    first = first or (mse, frozen_mse)
    last = (mse, frozen_mse)
    sk.partial_fit(xb, yb)
lines = {ln.split(":")[0]: ln for ln in stdout.splitlines()}
dev_first = [float(v.strip(",")) for v in lines["first batch mse"].split()[4::2]]
dev_last = [float(v.strip(",")) for v in lines["last batch mse"].split()[4::2]]
for dev, want in ((dev_first, first), (dev_last, last)):
    if not np.allclose(dev, want, rtol=1e-4, atol=1e-6):
        errors.append(f"device batch errors {dev} differ from the host's {want}")
scale = np.abs(sk.coef_).max()
want = np.append(sk.coef_, sk.intercept_)
if np.abs(final - want).max() > 1e-4 * scale:
    errors.append(f"device weights {final} differ from SGDRegressor.partial_fit's {want}")
if not dev_last[0] < 0.5 * dev_last[1]:
    errors.append(f"learning did not beat the frozen calibration: {dev_last}")
if errors:
    sys.exit("sensor_linear FAILED:\n  " + "\n  ".join(errors))
print(f"sensor_linear: weights after 30 on-device steps equal SGDRegressor.partial_fit's (max diff "
      f"{np.abs(final - want).max():.1e}); last-batch MSE {dev_last[0]:.5f} learning vs {dev_last[1]:.5f} frozen")
