"""Build every cores/*.c into one host shared library and load it with ctypes.

Two flavours, cached under build/host/ by a hash of the sources and flags:
  plain  gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -ffp-contract=off (model-format.md)
  asan   the same plus -fsanitize=address,undefined -fno-sanitize-recover=all (aborts on error)

An ASan library cannot be dlopen'ed into an ordinary CPython, so sanitizer checks run in a child
process started by `run_sanitized()`, with LD_PRELOAD=<libasan.so>. Inside that child,
`load(flavour())` picks the asan library (the flavour is passed in EMLC_CORE_FLAVOUR).
A compile error (any warning) raises CompileError: a broken core file must fail loudly.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
import toolreg

ROOT = Path(__file__).resolve().parent.parent
# EMLC_CORES_DIR lets a check build a modified copy of cores/ (e.g. to see a test catch a bug)
CORES = Path(os.environ.get("EMLC_CORES_DIR", ROOT / "cores"))
BUILD = ROOT / "build" / "host"
CC = toolreg.which("gcc")
BASE_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-ffp-contract=off",
              "-fPIC", "-shared"]
FLAVOURS: dict[str, list[str]] = {
    "plain": [],
    "asan": ["-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all"],
}
ENV_FLAVOUR = "EMLC_CORE_FLAVOUR"


class CompileError(RuntimeError):
    pass


def sources() -> list[Path]:
    return sorted(CORES.glob("*.c"))


def build(flavour: str = "plain") -> Path:
    """Compile all cores/*.c into build/host/libemlc-<flavour>-<hash>.so (cached); return it."""
    flags = BASE_FLAGS + FLAVOURS[flavour]
    srcs = sources()
    h = hashlib.sha256(" ".join([CC] + flags).encode())
    for src in srcs + sorted(CORES.glob("*.h")):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    h.update(str(CORES).encode())
    out = BUILD / f"libemlc-{flavour}-{h.hexdigest()[:16]}.so"
    if out.exists():
        return out
    BUILD.mkdir(parents=True, exist_ok=True)
    # build to a private name, then rename: concurrent builders never see a partial file
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=BUILD)
    os.close(fd)
    cmd = [CC, *flags, "-I", str(CORES), *map(str, srcs), "-o", tmp]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        os.unlink(tmp)
        raise CompileError(f"{' '.join(cmd)}\n{res.stdout}{res.stderr}")
    os.replace(tmp, out)
    return out


def flavour() -> str:
    """The flavour this process should load: 'asan' inside run_sanitized(), else 'plain'."""
    return os.environ.get(ENV_FLAVOUR, "plain")


_loaded: dict[str, ctypes.CDLL] = {}


def load(flav: str | None = None) -> ctypes.CDLL:
    flav = flav or flavour()
    if flav not in _loaded:
        _loaded[flav] = ctypes.CDLL(str(build(flav)))
    return _loaded[flav]


def libasan() -> str:
    path = subprocess.run([CC, "-print-file-name=libasan.so"], capture_output=True,
                          text=True, check=True).stdout.strip()
    if not os.path.isabs(path):
        raise RuntimeError(f"{CC} does not ship libasan.so")
    return path


def sanitized_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "LD_PRELOAD": libasan(),
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        ENV_FLAVOUR: "asan",
        # the folders pytest.ini puts on the path (this folder, the tool registry's)
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(Path(__file__).parents[1] / "tools"),
                                       env.get("PYTHONPATH", "")]),
    })
    return env


def run_sanitized(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` with the asan core preloaded; builds the asan library first."""
    build("asan")
    return subprocess.run([sys.executable, *args], env=sanitized_env(), capture_output=True,
                          text=True, timeout=timeout)
