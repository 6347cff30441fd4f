"""Run MicroPython scripts on the unix port with the built x64 modules (dist/x64).

`ensure_modules()` builds dist/x64/*.mpy with the project's Makefile if any is missing or stale,
so the end-to-end tests always exercise the current sources.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
import toolreg
from modules import MODULES

REPO = Path(__file__).resolve().parents[1]
MICROPYTHON = toolreg.which("micropython")
DIST = REPO / "dist" / "x64"


def ensure_modules() -> None:
    targets = [f"dist/x64/{m}.mpy" for m in MODULES]
    r = subprocess.run([toolreg.which("make"), "-s", "NATMOD_ARCHES=x64", *targets], cwd=REPO, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def run(script: str, cwd: Path, heapsize: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `script` (source text) in `cwd` with dist/x64 on the module path."""
    path = cwd / "_script.py"
    path.write_text(script)
    cmd = [str(MICROPYTHON)]
    if heapsize:
        cmd += ["-X", f"heapsize={heapsize}"]
    cmd.append(path.name)
    env = dict(os.environ, MICROPYPATH=str(DIST))
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
