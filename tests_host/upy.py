"""Run MicroPython scripts on the unix port with the built x64 modules (dist/x64).

`ensure_modules()` builds dist/x64/*.mpy with the project's Makefile if any is missing or stale,
so the end-to-end tests always exercise the current sources. `run(script, cwd)` runs a script with
dist/x64 on the module path; `run_isolated(script, cwd)` with only what is in `cwd` (a board that
lacks a module); `build_mpy(module, arch)` makes one module for another arch (a foreign .mpy);
`run_without(module, helper, staged_as, script, cwd)` runs a script on a board that has `module`
but not yet its `helper` module; `OUT_FN` is the MicroPython helper `out(f, *a)` the scripts use to print an outcome ("ok <repr>" or
"<Exception>: <message>"); `run_iir_stream` streams samples through emliir or emliir_q15.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
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


def build_mpy(module: str, arch: str) -> Path:
    """dist/<arch>/<module>.mpy, built (or brought up to date) by the project's Makefile."""
    target = f"dist/{arch}/{module}.mpy"
    r = subprocess.run([toolreg.which("make"), "-s", f"NATMOD_ARCHES={arch}", target], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return REPO / target


OUT_FN = r'''def out(f, *a):
    try:
        return "ok %r" % (f(*a),)
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
'''


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


def run_isolated(script: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `script` as `cwd`/s.py with only `cwd` on the module path (not dist/x64): the modules a
    test copied there are all the "board" has."""
    (cwd / "s.py").write_text(script)
    return subprocess.run([str(MICROPYTHON), "s.py"], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, MICROPYPATH=str(cwd)))


IIR_CHUNKS = [1, 2, 17, 64, 500, 1000, 1416]  # uneven chunk lengths, 3000 samples in all

IIR_STREAM_SCRIPT = r'''
import array, json
import {module}
cfg = json.load(open("cfg.json"))
coef = array.array("{tc}", cfg["coef"])
x = array.array("{tc}", bytes({size} * cfg["n"]))
with open("x.bin", "rb") as f:
    f.readinto(x)
filt = {module}.new(coef)
out = []
pos = 0
for c in cfg["chunks"]:
    buf = x[pos:pos + c]
    filt.run(buf)
    out.extend(buf)
    pos += c
'''


def run_iir_stream(module: str, coef: np.ndarray, x: np.ndarray, cwd: Path, tail: str = "print(json.dumps(out))"):
    """Filter `x` (3000 int16 or float32 samples, read from a file with readinto as on a device) with
    `module`.new(coef) in the uneven chunks IIR_CHUNKS on the unix port, then run `tail`, which
    prints JSON (it sees coef, x, filt and out: the filtered chunks joined); returns that JSON."""
    tc = {np.dtype(np.int16): "h", np.dtype(np.float32): "f"}[x.dtype]
    assert len(x) == sum(IIR_CHUNKS)
    x.tofile(cwd / "x.bin")
    (cwd / "cfg.json").write_text(json.dumps({"coef": coef.tolist(), "n": len(x), "chunks": IIR_CHUNKS}))
    r = run(IIR_STREAM_SCRIPT.format(module=module, tc=tc, size=x.itemsize) + tail, cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def run_without(module: str, helper: str, staged_as: str, script: str, cwd: Path) -> subprocess.CompletedProcess:
    """A board with `module`.mpy but not `helper`.mpy: `cwd` gets dist/x64/`module`.mpy, the x64
    `helper`.mpy under the name `staged_as` (the script renames it when it is time to "install" it)
    and the armv6m build of `helper` as other_arch.mpy (the wrong arch for this port); then
    run_isolated(script, cwd)."""
    shutil.copy(DIST / f"{module}.mpy", cwd)
    shutil.copy(DIST / f"{helper}.mpy", cwd / staged_as)
    shutil.copy(build_mpy(helper, "armv6m"), cwd / "other_arch.mpy")
    return run_isolated(script, cwd)
