"""cores/emlc_common_sf.c, the float32 helpers (add, subtract, multiply, divide, int32 -> float32,
float32 -> int32) that the modules link on armv6m and rv32imc, against numpy's float32 (the host's
IEEE hardware).

Every non-NaN result must be bit-identical (round to nearest even, subnormals, infinities, signed
zeros); a NaN result must be a NaN. Operands: random bit patterns, exponents near each other
(ordinary arithmetic), near-cancellation (x - x(1 +- few ulps)), subnormals, the largest and smallest
exponents (overflow, underflow) and special values; for division also near-equal operands, exact
quotients, quotients at the overflow, underflow and subnormal boundaries and exact ties (a quotient
can only be halfway between two floats when it is subnormal); for the conversions integers of every
magnitude, ties and near-ties of int -> float rounding, floats next to integers and next to +-2^31.
float -> int32 out of range (C leaves it undefined) must saturate by the sign bit, as libgcc does.
Checked three ways: the host build (both multiply paths: one 64-bit product and the Thumb-1 16-bit
halves), and the armv6m build run as Cortex-M0 code in unicorn, called through the very symbols the
compiler calls (__aeabi_fadd/fsub/fmul/fdiv/i2f/f2iz), where float -> int32 is also compared with
libgcc's own helper on every input.
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


def div_operands(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Division-specific pairs (n of each family, concatenated)."""
    u32 = np.uint32

    def bits(e, m, sign=None):
        sign = rng.integers(0, 2, n).astype(u32) << 31 if sign is None else sign
        return sign | (np.asarray(e).astype(u32) << 23) | (np.asarray(m).astype(u32) & u32(0x7FFFFF))

    def mant():
        return rng.integers(0, 1 << 23, n).astype(u32)

    fam = []
    # near-equal: b = a +- a few ulps (quotient 1 +- a few ulps), both signs
    a = bits(rng.integers(1, 255, n), mant())
    fam.append((a, a + rng.integers(-3, 4, n).astype(u32)))
    # exact quotients: a = b * k for small integers and powers of two k (kept where exact in float32)
    b = bits(rng.integers(60, 190, n), mant() & u32(0x7FF000))  # short mantissas: b * k often exact
    k = np.where(rng.integers(0, 2, n) == 1, rng.integers(1, 64, n), 2.0 ** rng.integers(-30, 30, n))
    prod = b.view(np.float32).astype(np.float64) * k
    exact = prod.astype(np.float32).astype(np.float64) == prod
    fam.append((np.where(exact, prod.astype(np.float32).view(u32), b), b))
    # quotients at the overflow, underflow and subnormal boundaries: result exponent t - 127 with
    # t in -26..2 (subnormal, smallest normal, underflow to zero) or 251..256 (largest finite, overflow)
    t = np.where(rng.integers(0, 2, n) == 1, rng.integers(-26, 3, n), rng.integers(251, 257, n))
    eb = rng.integers(1, 255, n)
    ea = t + eb - 127
    ok = (ea >= 1) & (ea <= 254)
    eb = np.where(ok, eb, np.where(t > 128, 1, 254))
    ea = np.clip(np.where(ok, ea, t + eb - 127), 1, 254)
    fam.append((bits(ea, mant()), bits(eb, mant())))
    # a subnormal operand (either side) against normal ones of nearby and distant exponents
    sa = bits(0, rng.integers(1, 1 << 23, n) >> rng.integers(0, 23, n))
    fam.append((sa, bits(rng.integers(1, 140, n), mant())))
    fam.append((bits(rng.integers(1, 140, n), mant()), sa))
    # exact ties: a = M * 2^(ea-150) whose s lowest bits are 100..0, divided by a power of two 2^k
    # that puts exactly those s bits below 2^-149 (round to even, either way); and one ulp around
    s_bits = rng.integers(1, 25, n)
    m24 = (rng.integers(1 << 23, 1 << 24, n) >> s_bits << s_bits) | (1 << (s_bits - 1))
    ea = rng.integers(1, 100, n)
    kexp = ea - 1 + s_bits  # b = 2^k, biased exponent k + 127
    a = bits(ea, m24)
    b = bits(kexp + 127, 0)
    fam.append((a, b))
    fam.append((a + rng.choice(np.array([-1, 1]), n).astype(u32), b))
    a_all = np.concatenate([f[0] for f in fam]).astype(u32)
    b_all = np.concatenate([f[1] for f in fam]).astype(u32)
    return a_all, b_all


def int_operands(rng: np.random.Generator, n: int) -> np.ndarray:
    """int32 values for int -> float: every magnitude, rounding ties and near-ties, extremes."""
    r = rng.integers(-2**31, 2**31, n, dtype=np.int64)
    shifted = r >> rng.integers(0, 32, n)
    s = rng.integers(1, 8, n)  # bits dropped by rounding (value in [2^24, 2^31))
    m = rng.integers(1 << 23, 1 << 24, n)
    tie = (m << s) | (1 << (s - 1))
    near = tie + rng.integers(-2, 3, n)
    sign = rng.choice(np.array([-1, 1]), n)
    ext = np.array([0, 1, -1, 2**31 - 1, -2**31, -2**31 + 1, 2**24, 2**24 + 1, 2**24 + 3, -(2**24 + 1),
                    2**25 + 2, 2**25 + 6, 2**31 - 64, 2**31 - 65, 2**31 - 128, 2**31 - 192, 0x7FFFFFC0, 255, 32767,
                    -32768])
    v = np.concatenate([r, shifted, sign * tie, np.clip(sign * near, -2**31, 2**31 - 1), ext])
    return v.astype(np.int32)


def f2i_operands(rng: np.random.Generator, n: int) -> np.ndarray:
    """float bit patterns for float -> int: the mixes of operands(), floats next to integers (a few
    ulps around k), around +-1 and +-0.5, and next to +-2^31 (both sides of the range's ends)."""
    a, _ = operands(rng, n)
    k = rng.integers(-2**24, 2**24, n).astype(np.float32).view(np.uint32)
    around_k = k + rng.integers(-2, 3, n).astype(np.uint32)
    ends = np.array([0x4F000000, 0xCF000000, 0x3F800000, 0xBF800000, 0x3F000000, 0xBF000000], np.uint32)
    near_ends = np.repeat(ends, 9) + np.tile(np.arange(-4, 5), len(ends)).astype(np.uint32)
    return np.concatenate([a, around_k, near_ends, SPECIALS]).astype(np.uint32)


def f2i_reference(a: np.ndarray) -> np.ndarray:
    """C's truncation where the value fits an int32; out of range, infinities and NaN: 0x7fffffff
    for a clear sign bit and 0x80000000 for a set one (what libgcc returns on armv6m and rv32imc)."""
    with np.errstate(invalid="ignore"):
        f = a.view(np.float32).astype(np.float64)
        fits = (f >= -2.0**31) & (f < 2.0**31)  # False for NaN
    sat = np.where(a >> 31, np.int64(-2**31), np.int64(2**31 - 1))
    return np.where(fits, np.trunc(np.where(fits, f, 0.0)).astype(np.int64), sat).astype(np.int32)


def reference(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    fa, fb = a.view(np.float32), b.view(np.float32)
    with np.errstate(all="ignore"):
        return {"add": (fa + fb).view(np.uint32), "sub": (fa - fb).view(np.uint32), "mul": (fa * fb).view(np.uint32),
                "div": (fa / fb).view(np.uint32)}


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
    for name in ("add", "sub", "mul", "div"):
        f = getattr(lib, f"emlc_sf_{name}")
        f.argtypes, f.restype = [C.c_uint32, C.c_uint32], C.c_uint32
    lib.emlc_sf_i2f.argtypes, lib.emlc_sf_i2f.restype = [C.c_int32], C.c_uint32
    lib.emlc_sf_f2iz.argtypes, lib.emlc_sf_f2iz.restype = [C.c_uint32], C.c_int32
    return lib


@pytest.mark.parametrize("seed", [1, 2])
def test_host_build_matches_numpy(host_lib: C.CDLL, seed: int) -> None:
    a, b = operands(np.random.default_rng(seed), 60000)
    for name, want in reference(a, b).items():
        f = getattr(host_lib, f"emlc_sf_{name}")
        got = np.fromiter((f(int(x), int(y)) for x, y in zip(a, b)), np.uint32, len(a))
        bad = np.nonzero(mismatches(got, want))[0]
        assert len(bad) == 0, [(name, hex(a[i]), hex(b[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]


@pytest.mark.parametrize("seed", [1, 2])
def test_host_build_division(host_lib: C.CDLL, seed: int) -> None:
    a, b = div_operands(np.random.default_rng(seed), 10000)
    want = reference(a, b)["div"]
    got = np.fromiter((host_lib.emlc_sf_div(int(x), int(y)) for x, y in zip(a, b)), np.uint32, len(a))
    bad = np.nonzero(mismatches(got, want))[0]
    assert len(bad) == 0, [(hex(a[i]), hex(b[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]
    # the families reach what they are for: subnormal and zero quotients, infinite ones, exact ties
    wf = np.abs(want.view(np.float32))
    assert (wf < 2.0**-126).sum() > 5000 and np.isinf(wf).sum() > 1000 and (wf == 0).sum() > 500
    with np.errstate(all="ignore"):
        q = np.abs(a.view(np.float32).astype(np.float64) / b.view(np.float32).astype(np.float64)) * 2.0**149
        ties = (q < 2**24) & (q - np.floor(q) == 0.5)  # halfway between two subnormals
    assert ties.sum() > 5000


@pytest.mark.parametrize("seed", [1, 2])
def test_host_build_conversions(host_lib: C.CDLL, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ints = int_operands(rng, 30000)
    got = np.fromiter((host_lib.emlc_sf_i2f(int(v)) for v in ints), np.uint32, len(ints))
    want = ints.astype(np.float32).view(np.uint32)
    bad = np.nonzero(got != want)[0]
    assert len(bad) == 0, [(int(ints[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]
    fl = f2i_operands(rng, 30000)
    got = np.fromiter((host_lib.emlc_sf_f2iz(int(v)) for v in fl), np.int32, len(fl))
    want = f2i_reference(fl)
    bad = np.nonzero(got != want)[0]
    assert len(bad) == 0, [(hex(fl[i]), int(got[i]), int(want[i])) for i in bad[:5]]


def test_specials_exhaustive(host_lib: C.CDLL) -> None:
    """Every pair of special values, and NaN results are NaN with the quiet bit set."""
    a, b = np.repeat(SPECIALS, len(SPECIALS)), np.tile(SPECIALS, len(SPECIALS))
    for name, want in reference(a, b).items():
        f = getattr(host_lib, f"emlc_sf_{name}")
        got = np.array([f(int(x), int(y)) for x, y in zip(a, b)], np.uint32)
        assert not mismatches(got, want).any()
        nan = np.isnan(got.view(np.float32))
        assert np.all(got[nan] & 0x00400000)
    got = np.array([host_lib.emlc_sf_f2iz(int(x)) for x in SPECIALS], np.int32)
    assert (got == f2i_reference(SPECIALS)).all()


CALLER = """
#include <stdint.h>
typedef union { float f; uint32_t u; } fb;
uint32_t t_add(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f + y.f; return r.u; }
uint32_t t_sub(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f - y.f; return r.u; }
uint32_t t_mul(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f * y.f; return r.u; }
uint32_t t_div(uint32_t a, uint32_t b) { fb x, y, r; x.u = a; y.u = b; r.f = x.f / y.f; return r.u; }
uint32_t t_i2f(int32_t a) { fb r; r.f = (float)a; return r.u; }
int32_t t_f2i(uint32_t a) { fb x; x.u = a; return (int32_t)x.f; }
"""


def test_armv6m_build_on_cortex_m0(tmp_path: Path) -> None:
    """The helpers as the armv6m modules link them: the compiler's float + - * / and int <-> float
    conversions call them (and not libgcc's), and on an emulated Cortex-M0 they give numpy's results;
    float -> int gives libgcc's results on every input, out of range and NaN included."""
    import m0emu

    (tmp_path / "caller.c").write_text(CALLER)
    flags = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
    elf = m0emu.build([tmp_path / "caller.c", SRC], tmp_path / "sf.elf", includes=[ROOT / "cores"], extra=flags)
    libgcc_elf = m0emu.build([tmp_path / "caller.c"], tmp_path / "libgcc.elf", extra=flags)
    nm = subprocess.run([toolreg.which("arm-none-eabi-nm"), "-S", str(elf)], capture_output=True, text=True,
                        check=True).stdout
    sizes = {p[3]: int(p[1], 16) for p in (line.split() for line in nm.splitlines()) if len(p) == 4}
    # the linked helpers are ours, not libgcc's soft-fp (772 bytes for its add alone, 576 for its
    # divide; both call __clzsi2), and each is smaller than libgcc's
    assert sizes["__aeabi_fadd"] < 300 and sizes["__aeabi_fmul"] < 300 and "__clzsi2" not in sizes, sizes
    m, gcc = m0emu.M0(elf), m0emu.M0(libgcc_elf)
    for name in ("__aeabi_fadd", "__aeabi_fmul", "__aeabi_fdiv", "__aeabi_i2f", "__aeabi_f2iz"):
        assert sizes[name] < gcc.sizes[name], (name, sizes[name], gcc.sizes[name])
    rng = np.random.default_rng(3)
    a, b = operands(rng, 1500)
    da, db = div_operands(rng, 250)
    want_all = reference(a, b)
    want_all["div"] = np.concatenate([want_all["div"], reference(da, db)["div"]])
    for name, want in want_all.items():
        x_all, y_all = (np.concatenate([a, da]), np.concatenate([b, db])) if name == "div" else (a, b)
        got = np.array([m.call(f"t_{name}", int(x), int(y)) & 0xFFFFFFFF for x, y in zip(x_all, y_all)], np.uint32)
        bad = np.nonzero(mismatches(got, want))[0]
        assert len(bad) == 0, [(name, hex(x_all[i]), hex(y_all[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]
    ints = int_operands(rng, 600)
    got = np.array([m.call("t_i2f", int(v)) & 0xFFFFFFFF for v in ints], np.uint32)
    bad = np.nonzero(got != ints.astype(np.float32).view(np.uint32))[0]
    assert len(bad) == 0, [(int(ints[i]), hex(got[i])) for i in bad[:5]]
    fl = f2i_operands(rng, 600)
    got = np.array([m.call("t_f2i", int(v)) for v in fl], np.int32)
    theirs = np.array([gcc.call("t_f2i", int(v)) for v in fl], np.int32)
    bad = np.nonzero((got != f2i_reference(fl)) | (got != theirs))[0]
    assert len(bad) == 0, [(hex(fl[i]), int(got[i]), int(theirs[i])) for i in bad[:5]]
