"""Run the example end to end on the unix port and assert the device agrees with scikit-learn."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import xor_train  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    est = xor_train.main(str(Path(tmp) / "xor_model.csv"))
    env = dict(os.environ, MICROPYPATH=str(ROOT / "dist" / "x64"))
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "micropython"), str(HERE / "xor_run.py")],
                         cwd=tmp, env=env, capture_output=True, text=True, timeout=60)
    print(out.stdout, end="")
    if out.returncode != 0:
        sys.exit(f"device script failed:\n{out.stderr}")
    got = [int(line.rsplit(" ", 1)[1]) for line in out.stdout.strip().splitlines()]
    X = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=np.float32)
    want = [int(v) for v in est.predict(X)]
    if got != want:
        sys.exit(f"device predicted {got}, scikit-learn {want}")
    print(f"xor_trees: device == scikit-learn for {len(got)} inputs: {got}")
