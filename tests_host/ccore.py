"""Build the C cores for the host tests: the one place that compiles, caches and sanitizes them.

* Host: every cores/*.c in one shared library, loaded with ctypes (`load()`). Two flavours, cached
  under build/host/ by a hash of the compiler, flags and sources:
    plain  gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -ffp-contract=off (model-format.md)
    asan   the same plus -fsanitize=address,undefined -fno-sanitize-recover=all (aborts on error)
  A compile error (any warning) raises CompileError: a broken core file must fail loudly.
* Sanitizers: an ASan library cannot be dlopen'ed into an ordinary CPython, so sanitizer checks run
  in a child process with LD_PRELOAD=<libasan.so>: `run_sanitized(args)` runs `python <args>`,
  `assert_tests_pass_sanitized(test_file)` runs that file's tests again. Inside the child `load()` picks the
  asan library (the flavour is passed in EMLC_CORE_FLAVOUR) and `SANITIZED` is true.
* Cross compilers: `check_portable(source)` builds one core file with each natmod cross compiler and
  checks what it needs from the runtime; `Armv6m(sources)` builds core files for a Cortex-M0 and runs
  them in unicorn (tools/m0emu.py).

The ctypes declarations of the cores' functions live with their tests (cdsp.py for k-NN, IIR, FFT;
test_cores_trees.py for the trees, test_cores_kmeans.py, test_cores_linear.py); `declare(signatures)`
applies such a table to the loaded library and `ptr(a)` passes a numpy array's data.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import m0emu
import pytest
import pythonpath
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


SANITIZED = flavour() == "asan"  # this process is the child of run_sanitized()
_loaded: dict[str, ctypes.CDLL] = {}


def load(flav: str | None = None) -> ctypes.CDLL:
    flav = flav or flavour()
    if flav not in _loaded:
        _loaded[flav] = ctypes.CDLL(str(build(flav)))
    return _loaded[flav]


def declare(signatures: dict[str, tuple[list, object]]) -> ctypes.CDLL:
    """load()'s library with argtypes and restype set for each function named in `signatures`
    (name -> (argtypes, restype)). Every caller gets the same CDLL object (one per flavour); a
    test module caches the result instead of declaring again per call."""
    dll = load()
    for name, (args, res) in signatures.items():
        fn = getattr(dll, name)
        fn.argtypes, fn.restype = args, res
    return dll


def ptr(a) -> int:
    """Address of a C-contiguous numpy array's data (for c_void_p arguments)."""
    assert a.flags["C_CONTIGUOUS"]
    return a.ctypes.data


def libasan() -> str:
    path = subprocess.run([CC, "-print-file-name=libasan.so"], capture_output=True,
                          text=True, check=True).stdout.strip()
    if not os.path.isabs(path):
        raise RuntimeError(f"{CC} does not ship libasan.so")
    return path


def sanitized_env() -> dict[str, str]:
    env = pythonpath.env(Path(__file__).parent)  # the folders pytest.ini puts on the path
    env.update({
        "LD_PRELOAD": libasan(),
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        ENV_FLAVOUR: "asan",
    })
    return env


def run_sanitized(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python <args>` with the asan core preloaded; builds the asan library first."""
    build("asan")
    return subprocess.run([sys.executable, *args], env=sanitized_env(), capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def assert_tests_pass_sanitized(test_file: str, timeout: float = 120) -> None:
    """The sanitizer test of a core's test file: the file's tests again in a child pytest on the asan
    build (all but this test itself, the cross-compiler checks and the Cortex-M0 runs, which have no
    host code of theirs to sanitize); every one must pass. Skipped inside that child."""
    if SANITIZED:
        pytest.skip("already inside the sanitized run")
    r = run_sanitized(["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
                       "-k", "not sanitized and not cross_compiles and not armv6m", test_file], timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert " passed" in r.stdout


# ---------------------------------------------------------------- cross compilers
# Cross compilers the natmods use (flags as in MicroPython's dynruntime.mk) -> (gcc argv, nm).
CROSS: dict[str, tuple[list[str], str]] = {
    "armv6m": (["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0"], "arm-none-eabi-nm"),
    "armv7emsp": (["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
                  "arm-none-eabi-nm"),
    "rv32imc": (["riscv64-unknown-elf-gcc", "-march=rv32imac", "-mabi=ilp32", "-ffreestanding"], "riscv64-unknown-elf-nm"),
    "xtensa": (["xtensa-lx106-elf-gcc", "-mforce-l32", "-ffreestanding"], "xtensa-lx106-elf-nm"),
}
CROSS_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Os", "-fno-common", "-c"]


def cross_undefined(source: str, arch: str) -> set[str]:
    """Compile cores/<source> for arch with the strict flags (raises with the compiler output on any
    warning) and return the undefined symbols of the object (runtime helpers, memset, ...)."""
    gcc, nm = CROSS[arch]
    with tempfile.TemporaryDirectory() as d:
        obj = Path(d) / "out.o"
        r = subprocess.run([*toolreg.argv(gcc), *CROSS_FLAGS, "-I", str(CORES), str(CORES / source), "-o", str(obj)],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            raise AssertionError(f"{arch} {source}: {r.stderr}")
        out = subprocess.run([toolreg.which(nm), "-u", str(obj)], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def is_double_or_div_helper(sym: str) -> bool:
    """Runtime helpers for double-precision maths or integer/float division (libgcc names)."""
    s = sym.lower()
    return "div" in s or s.startswith("__aeabi_d") or "f2d" in s or "df" in s.rsplit("_", 1)[-1]


def check_portable(source: str, allow_div: bool = False) -> None:
    """Every cross compiler: clean build; only compiler-runtime helpers and mem* are referenced
    (no libm); no double-precision helpers; no division helpers unless allow_div."""
    for arch in CROSS:
        undef = cross_undefined(source, arch)
        bad = {u for u in undef if not (u.startswith("__") or u in ("memset", "memcpy", "memmove"))}
        assert not bad, (arch, source, bad)
        heavy = {u for u in undef if is_double_or_div_helper(u) and not (allow_div and "div" in u.lower())}
        assert not heavy, (arch, source, heavy)


class Armv6m:
    """cores/<sources> (+ emlc_common.c, and emlc_common_sf.c: float + - * / and int<->float as the
    armv6m modules do them; anything else from libgcc) built for Cortex-M0 (arm-none-eabi-gcc -Os) and run in unicorn
    through tools/m0emu.py; lets a test call core functions (alloc, read, write, call with 32-bit
    arguments, AAPCS) and compare results with the host build."""

    def __init__(self, sources: list[str]) -> None:
        with tempfile.TemporaryDirectory() as d:
            elf = m0emu.build([CORES / s for s in ["emlc_common.c", "emlc_common_sf.c", *sources]], Path(d) / "core.elf",
                              includes=[CORES], extra=["-std=c99"])
            self._m = m0emu.M0(elf)
        self.uc = self._m.uc

    def alloc(self, data: bytes | int) -> int:
        return self._m.alloc(data)

    def read(self, addr: int, size: int) -> bytes:
        return self._m.read(addr, size)

    def write(self, addr: int, data: bytes) -> None:
        self._m.write(addr, data)

    def call(self, name: str, *args: int) -> int:
        return self._m.call(name, *args)
