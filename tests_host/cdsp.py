"""Build cores/ k-NN, IIR and FFT files into a shared library and describe them for ctypes.

The library is compiled with the host gcc and the project's strict flags
(-std=c99 -Wall -Wextra -Werror -pedantic), cached under the temp dir by a hash of the sources and
flags. With EMLC_CDSP_SANITIZE=1 in the environment it is built with
-fsanitize=address,undefined (the process must then have libasan preloaded; see
sanitizer_env()). Depends only on the standard library and gcc.
"""
from __future__ import annotations

import ctypes as C
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
import toolreg

ROOT = Path(__file__).resolve().parent.parent
CORES = ROOT / "cores"
SOURCES = ["emlc_common.c", "emlc_knn.c", "emlc_iir.c", "emlc_fft.c"]
CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-fPIC", "-shared"]
SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g"]
SANITIZED = os.environ.get("EMLC_CDSP_SANITIZE") == "1"

# emlc_err_t values (mirror of cores/emlc_common.h)
OK, ERR_NULL, ERR_SIZE, ERR_CAPACITY = 0, -1, -2, -3
ERR_KIND, ERR_VALUE, ERR_STATE = -9, -11, -13

KNN_F32, KNN_I16 = 0, 1


class KnnT(C.Structure):
    _fields_ = [("data", C.c_void_p), ("labels", C.POINTER(C.c_int16)), ("max_items", C.c_uint32),
                ("n_items", C.c_uint32), ("n_features", C.c_uint16), ("dtype", C.c_uint8)]


class KnnResult(C.Structure):
    _fields_ = [("dist", C.c_uint64), ("index", C.c_uint32), ("label", C.c_int16)]


class IirT(C.Structure):
    _fields_ = [("sos", C.POINTER(C.c_float)), ("state", C.POINTER(C.c_float)), ("n_sections", C.c_size_t)]


class FftT(C.Structure):
    _fields_ = [("sin_t", C.POINTER(C.c_float)), ("n", C.c_size_t), ("log2n", C.c_uint)]


_P = C.c_void_p
_Z = C.c_size_t
_SIGNATURES: dict[str, list] = {
    "emlc_knn_init": [C.POINTER(KnnT), C.c_int, _Z, _Z, _P, _Z, _P, _Z],
    "emlc_knn_clear": [C.POINTER(KnnT)],
    "emlc_knn_add_i16": [C.POINTER(KnnT), _P, _Z, C.c_int16],
    "emlc_knn_add_f32": [C.POINTER(KnnT), _P, _Z, C.c_int16],
    "emlc_knn_kneighbors_i16": [C.POINTER(KnnT), _P, _Z, _Z, _P],
    "emlc_knn_kneighbors_f32": [C.POINTER(KnnT), _P, _Z, _Z, _P],
    "emlc_knn_predict_i16": [C.POINTER(KnnT), _P, _Z, _Z, _P, _P],
    "emlc_knn_predict_f32": [C.POINTER(KnnT), _P, _Z, _Z, _P, _P],
    "emlc_knn_vote": [_P, _Z, _P],
    "emlc_iir_init": [C.POINTER(IirT), _P, _Z, _Z, _P, _Z],
    "emlc_iir_reset": [C.POINTER(IirT)],
    "emlc_iir_process": [C.POINTER(IirT), _P, _P, _Z],
    "emlc_fft_init": [C.POINTER(FftT), _P, _Z, _Z],
    "emlc_fft_forward": [C.POINTER(FftT), _P, _P, _Z],
    "emlc_fft_inverse": [C.POINTER(FftT), _P, _P, _Z],
    "emlc_fft_rfft": [C.POINTER(FftT), _P, _Z, _P, _P, _Z],
}


def build(sanitize: bool = SANITIZED) -> Path:
    """Compile the library (if not cached) and return its path. Raises on compiler errors/warnings."""
    flags = CFLAGS + (SAN_FLAGS if sanitize else [])
    h = hashlib.sha256(" ".join(flags).encode())
    for name in SOURCES + ["emlc_common.h", "emlc_knn.h", "emlc_iir.h", "emlc_fft.h"]:
        h.update((CORES / name).read_bytes())
    out = Path(tempfile.gettempdir()) / f"emlc_cdsp_{h.hexdigest()[:16]}.so"
    if not out.exists():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        cmd = [toolreg.which("gcc"), *flags, "-I", str(CORES), *[str(CORES / s) for s in SOURCES], "-o", str(tmp)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        os.replace(tmp, out)  # atomic: parallel workers never see a half-written file
    return out


_LIB: C.CDLL | None = None


def lib() -> C.CDLL:
    """The loaded library with argtypes/restype set (restype int: the emlc_err_t)."""
    global _LIB
    if _LIB is None:
        dll = C.CDLL(str(build()))
        for name, args in _SIGNATURES.items():
            fn = getattr(dll, name)
            fn.argtypes = args
            fn.restype = C.c_int
        dll.emlc_knn_dist_f32.argtypes = [_P]
        dll.emlc_knn_dist_f32.restype = C.c_float
        _LIB = dll
    return _LIB


def sanitizer_env() -> dict[str, str] | None:
    """Environment for a child Python that loads the sanitized library, or None if gcc has no libasan."""
    asan = subprocess.run([toolreg.which("gcc"), "-print-file-name=libasan.so"], capture_output=True, text=True).stdout.strip()
    if not asan or not os.path.isabs(asan) or not os.path.exists(asan):
        return None
    env = dict(os.environ)
    env.update(EMLC_CDSP_SANITIZE="1", LD_PRELOAD=asan, ASAN_OPTIONS="detect_leaks=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    return env


def run_sanitized(test_file: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run test_file's tests (except the sanitizer driver itself) in a child pytest under ASan+UBSan."""
    env = sanitizer_env()
    if env is None:
        raise RuntimeError("gcc has no libasan.so: cannot run the sanitized build")
    build(sanitize=True)  # compile errors surface here, not as a confusing child failure
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist",
           "-k", "not sanitized and not cross_compiles and not armv6m", test_file]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


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


def fptr(a) -> int:
    """Address of a C-contiguous numpy array's data (for c_void_p arguments)."""
    assert a.flags["C_CONTIGUOUS"]
    return a.ctypes.data


class Armv6m:
    """cores/<sources> (+ emlc_common.c, and emlc_common_sf.c: float + - * / and int<->float as the
    armv6m modules do them; anything else from libgcc) built for Cortex-M0 (arm-none-eabi-gcc -Os) and run in unicorn through tools/m0emu.py; lets a test call core functions (alloc, read,
    write, call with 32-bit arguments, AAPCS) and compare results with the host build."""

    def __init__(self, sources: list[str]) -> None:
        import sys
        sys.path.insert(0, str(CORES.parent / "tools"))
        import m0emu

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

