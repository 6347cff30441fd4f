"""cores/emlc_common_sf.c, the float32 add/subtract/multiply helpers that emlneighbors, emliir and
emlfft link on armv6m and rv32imc, against numpy's float32 (the host's IEEE hardware).

Every non-NaN result must be bit-identical (round to nearest even, subnormals, infinities, signed
zeros); a NaN result must be a NaN. Operands: random bit patterns, exponents near each other
(ordinary arithmetic), near-cancellation (x - x(1 +- few ulps)), subnormals, the largest and smallest
exponents (overflow, underflow) and special values. Checked three ways: the host build (both
multiply paths: one 64-bit product and the Thumb-1 16-bit halves), and the armv6m build run as
Cortex-M0 code in unicorn, called through the very symbols the compiler calls (__aeabi_fadd/fsub/fmul).
"""
from __future__ import annotations

import ctypes as C
import subprocess
from pathlib import Path

import numpy as np
import pytest
import toolreg

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "cores" / "emlc_common_sf.c"
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-fPIC", "-shared", "-DEMLC_SF_TEST"]
SPECIALS = np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x7F800001, 0x7F7FFFFF,
                     0xFF7FFFFF, 0x00800000, 0x80800000, 0x00000001, 0x80000001, 0x007FFFFF, 0x3F800000,
                     0xBF800000, 0x3F800001, 0x33800000, 0x4B800000], np.uint32)


def operands(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    def one() -> np.ndarray:
        r = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
        sign_mant = r & np.uint32(0x807FFFFF)
        kinds = [
            r,                                                                          # anything
            sign_mant | (rng.integers(110, 145, n).astype(np.uint32) << 23),            # ordinary
            sign_mant,                                                                  # subnormal
            SPECIALS[rng.integers(0, len(SPECIALS), n)],                                # special
            sign_mant | (rng.integers(230, 255, n).astype(np.uint32) << 23),            # huge
            sign_mant | (rng.integers(0, 30, n).astype(np.uint32) << 23),               # tiny
        ]
        return np.choose(rng.integers(0, len(kinds), n), kinds)

    a, b = one(), one()
    # near-cancellation: b = -a give or take a few ulps
    b[::5] = (a[::5] ^ np.uint32(0x80000000)) + rng.integers(-3, 4, len(a[::5])).astype(np.uint32)
    return a, b


def reference(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    fa, fb = a.view(np.float32), b.view(np.float32)
    with np.errstate(all="ignore"):
        return {"add": (fa + fb).view(np.uint32), "sub": (fa - fb).view(np.uint32), "mul": (fa * fb).view(np.uint32)}


def mismatches(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    gf, wf = got.view(np.float32), want.view(np.float32)
    return ~((got == want) | (np.isnan(gf) & np.isnan(wf)))


@pytest.fixture(scope="module", params=["wide", "halves"])
def host_lib(request, tmp_path_factory) -> C.CDLL:
    out = tmp_path_factory.mktemp("sf") / f"sf_{request.param}.so"
    extra = ["-DEMLC_SF_HALVES"] if request.param == "halves" else []
    subprocess.run([toolreg.which("gcc"), *FLAGS, *extra, "-I", str(ROOT / "cores"), str(SRC), "-o", str(out)],
                   check=True, capture_output=True, text=True)
    lib = C.CDLL(str(out))
    for name in ("add", "sub", "mul"):
        f = getattr(lib, f"emlc_sf_{name}")
        f.argtypes, f.restype = [C.c_uint32, C.c_uint32], C.c_uint32
    return lib


@pytest.mark.parametrize("seed", [1, 2])
def test_host_build_matches_numpy(host_lib: C.CDLL, seed: int) -> None:
    a, b = operands(np.random.default_rng(seed), 60000)
    for name, want in reference(a, b).items():
        f = getattr(host_lib, f"emlc_sf_{name}")
        got = np.fromiter((f(int(x), int(y)) for x, y in zip(a, b)), np.uint32, len(a))
        bad = np.nonzero(mismatches(got, want))[0]
        assert len(bad) == 0, [(name, hex(a[i]), hex(b[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]


def test_specials_exhaustive(host_lib: C.CDLL) -> None:
    """Every pair of special values, and NaN results are NaN with the quiet bit set."""
    a, b = np.repeat(SPECIALS, len(SPECIALS)), np.tile(SPECIALS, len(SPECIALS))
    for name, want in reference(a, b).items():
        f = getattr(host_lib, f"emlc_sf_{name}")
        got = np.array([f(int(x), int(y)) for x, y in zip(a, b)], np.uint32)
        assert not mismatches(got, want).any()
        nan = np.isnan(got.view(np.float32))
        assert np.all(got[nan] & 0x00400000)


CALLER = """
#include <stdint.h>
typedef union { float f; uint32_t u; } fb;
uint32_t t_add(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f + y.f; return r.u; }
uint32_t t_sub(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f - y.f; return r.u; }
uint32_t t_mul(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f * y.f; return r.u; }
"""


def test_armv6m_build_on_cortex_m0(tmp_path: Path) -> None:
    """The helpers as the armv6m modules link them: the compiler's float + - * call them (and not
    libgcc's), and on an emulated Cortex-M0 they give numpy's results."""
    import m0emu

    (tmp_path / "caller.c").write_text(CALLER)
    elf = m0emu.build([tmp_path / "caller.c", SRC], tmp_path / "sf.elf", includes=[ROOT / "cores"],
                      extra=["-std=c99", "-Wall", "-Wextra", "-Werror"])
    nm = subprocess.run([toolreg.which("arm-none-eabi-nm"), "-S", str(elf)], capture_output=True, text=True,
                        check=True).stdout
    sizes = {p[3]: int(p[1], 16) for p in (line.split() for line in nm.splitlines()) if len(p) == 4}
    # the linked helpers are ours, not libgcc's soft-fp (772 bytes for its add alone, which calls __clzsi2)
    assert sizes["__aeabi_fadd"] < 300 and sizes["__aeabi_fmul"] < 300 and "__clzsi2" not in sizes, sizes
    m = m0emu.M0(elf)
    a, b = operands(np.random.default_rng(3), 1500)
    for name, want in reference(a, b).items():
        got = np.array([m.call(f"t_{name}", int(x), int(y)) & 0xFFFFFFFF for x, y in zip(a, b)], np.uint32)
        bad = np.nonzero(mismatches(got, want))[0]
        assert len(bad) == 0, [(name, hex(a[i]), hex(b[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]
