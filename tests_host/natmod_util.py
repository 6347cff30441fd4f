"""Helpers for the toolchain tests: build the test module, run mpyld and micropython."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
MICROPYTHON = REPO / ".venv" / "bin" / "micropython"
TOOLCHAIN = REPO / "toolchain"
if str(TOOLCHAIN) not in sys.path:  # so tests can import mpyld
    sys.path.insert(0, str(TOOLCHAIN))
# The arches whose linker support lives in mpyld's own modules (not Xtensa).
OWN_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "rv32imc")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(TOOLCHAIN) + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def make_testmod(root: Path, arches: Sequence[str] = OWN_ARCHES, *extra: str) -> subprocess.CompletedProcess:
    """Build toolchain/tests/testmod for ``arches`` into root/{build,dist}."""
    cmd = ["make", "-s", "-f", "toolchain/tests/testmod.mk", f"NATMOD_BUILD={root}/build",
           f"NATMOD_DIST={root}/dist", f"NATMOD_ARCHES={' '.join(arches)}", f"PYTHON={PYTHON}", *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_env(), timeout=300)


def mpyld(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "-m", "mpyld", *args], cwd=REPO, capture_output=True, text=True,
                          env=_env(), timeout=120)


def inspect(path: Path) -> dict:
    r = mpyld("inspect", "--json", str(path))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def run_micropython(code: str, path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` on the unix port with ``path`` first on sys.path."""
    prog = f"import sys\nsys.path.insert(0, {str(path)!r})\n" + code
    return subprocess.run([str(MICROPYTHON), "-c", prog], capture_output=True, text=True, timeout=60)


def compile_c(cc: Sequence[str], src: Path, out: Path, *flags: str) -> None:
    cmd = [*cc, "-std=c99", "-Os", "-ffreestanding", "-fpic", "-fno-common", f"-I{TOOLCHAIN / 'include'}",
           *flags, "-c", "-o", str(out), str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
