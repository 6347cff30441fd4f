"""Run the example end to end on the unix port and assert the device agrees with scikit-learn."""
import sys
import tempfile
from pathlib import Path

import numpy as np
from unixport import run_device_script  # tools/unixport.py (PYTHONPATH)

import xor_train

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as tmp:
    est = xor_train.main(str(Path(tmp) / "xor_model.bin"))
    stdout = run_device_script(HERE / "xor_run.py", tmp)
    got = [int(line.rsplit(" ", 1)[1]) for line in stdout.strip().splitlines()]
    X = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=np.float32)
    want = [int(v) for v in est.predict(X)]
    if got != want:
        sys.exit(f"device predicted {got}, scikit-learn {want}")
    print(f"xor_trees: device == scikit-learn for {len(got)} inputs: {got}")
