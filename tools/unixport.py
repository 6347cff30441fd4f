"""Run an example's device script on the MicroPython unix port with the built x64 modules
(used by each example's check.py)."""
import os
import subprocess
import sys
from pathlib import Path

import toolreg

ROOT = Path(__file__).resolve().parent.parent


def run_device_script(script: Path, cwd: str) -> str:
    """Run `script` with `cwd` as the device's current folder; print and return its output.
    Exits with the device's error output if the script fails."""
    env = dict(os.environ, MICROPYPATH=str(ROOT / "dist" / "x64"))
    out = subprocess.run([toolreg.which("micropython"), str(script)],
                         cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    print(out.stdout, end="")
    if out.returncode != 0:
        sys.exit(f"device script failed:\n{out.stderr}")
    return out.stdout
