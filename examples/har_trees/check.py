"""Run the example end to end on the unix port and assert the device agrees with the host exactly."""
import sys
import tempfile
from pathlib import Path

import numpy as np
from unixport import run_device_script  # tools/unixport.py (PYTHONPATH)

import har_train

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as tmp:
    host = har_train.main(tmp)
    stdout = run_device_script(HERE / "har_run.py", tmp)
    lines = {ln.split(" ", 1)[0]: ln.split(" ", 1)[1] for ln in stdout.splitlines() if " " in ln}
    got = np.array([int(c) for c in lines["predictions"]])
    dev_acc = float(lines["accuracy"].split()[0])
    dev_feat = np.fromfile(Path(tmp) / "har_device_features.bin", dtype=np.float32)
    dev_feat = dev_feat.reshape(host["X_test"].shape)

X, est = host["X_test"], host["estimator"]
errors = []
same_bits = dev_feat.view(np.int32) == X.view(np.int32)
if not same_bits.all():
    rel = np.abs(dev_feat.astype(np.float64) - X) / np.maximum(np.abs(X), 1e-30)
    errors.append(f"{int((~same_bits).sum())} of {X.size} features differ from the host's "
                  f"(max relative difference {rel.max():.3g})")
if got.shape != host["host_pred"].shape or not np.array_equal(got, host["host_pred"]):
    bad = np.nonzero(got != host["host_pred"])[0] if got.shape == host["host_pred"].shape else "length"
    errors.append(f"device predictions differ from scikit-learn's at windows {bad}")
sk_on_dev = est.predict(dev_feat)
if not np.array_equal(got, sk_on_dev):
    errors.append("device predictions differ from scikit-learn on the device's own features")
host_acc = host["host_accuracy"]
if f"{dev_acc:.4f}" != f"{host_acc:.4f}" or float(np.mean(got == host["y_test"])) != host_acc:
    errors.append(f"device accuracy {dev_acc} != host accuracy {host_acc}")
if errors:
    sys.exit("har_trees FAILED:\n  " + "\n  ".join(errors))
print(f"har_trees: device == host for all {len(got)} held-out windows: features bit for bit "
      f"({X.size} values), predictions, accuracy {host_acc:.4f}")
