"""Host tests of toolchain/runtime (the Xtensa compiler helpers).

The same C sources that get compiled for ESP8266/ESP32 are compiled for the host
with -DXRT_HOST_PREFIX (symbols renamed xrt___addsf3 ...) and called through
ctypes; every result is compared bit-for-bit with numpy float32 arithmetic (IEEE
round-to-nearest-even, subnormals on) or with Python integer arithmetic.
"""
from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest
import toolreg

RUNTIME = Path(__file__).resolve().parents[1] / "toolchain" / "runtime"
RNG_SEED = 20261125
N = 6000

u32, i32, u64, i64 = ctypes.c_uint32, ctypes.c_int32, ctypes.c_uint64, ctypes.c_int64
SIGS = {
    "__addsf3": (u32, [u32, u32]), "__subsf3": (u32, [u32, u32]), "__mulsf3": (u32, [u32, u32]),
    "__divsf3": (u32, [u32, u32]), "__negsf2": (u32, [u32]),
    "__eqsf2": (i32, [u32, u32]), "__nesf2": (i32, [u32, u32]), "__ltsf2": (i32, [u32, u32]),
    "__lesf2": (i32, [u32, u32]), "__gtsf2": (i32, [u32, u32]), "__gesf2": (i32, [u32, u32]),
    "__unordsf2": (i32, [u32, u32]),
    "__floatsisf": (u32, [i32]), "__floatunsisf": (u32, [u32]), "__floatdisf": (u32, [i64]),
    "__floatundisf": (u32, [u64]), "__fixsfsi": (i32, [u32]), "__fixunssfsi": (u32, [u32]),
    "__fixsfdi": (i64, [u32]), "__fixunssfdi": (u64, [u32]),
    "__udivsi3": (u32, [u32, u32]), "__umodsi3": (u32, [u32, u32]), "__divsi3": (i32, [i32, i32]),
    "__modsi3": (i32, [i32, i32]), "__muldi3": (i64, [i64, i64]), "__udivdi3": (u64, [u64, u64]),
    "__umoddi3": (u64, [u64, u64]), "__divdi3": (i64, [i64, i64]), "__moddi3": (i64, [i64, i64]),
    "__ashldi3": (u64, [u64, i32]), "__lshrdi3": (u64, [u64, i32]), "__ashrdi3": (i64, [i64, i32]),
    "__negdi2": (i64, [i64]), "__cmpdi2": (i32, [i64, i64]), "__ucmpdi2": (i32, [u64, u64]),
}


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    cc = toolreg.which("gcc")
    out = tmp_path_factory.mktemp("xtrt") / "libxtrt.so"
    srcs = sorted(str(p) for p in RUNTIME.glob("xtrt_*.c"))
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-fPIC", "-shared",
                    "-DXRT_HOST_PREFIX", "-o", str(out), *srcs], check=True)
    lib = ctypes.CDLL(str(out))
    for name, (res, args) in SIGS.items():
        fn = getattr(lib, "xrt_" + name)
        fn.restype, fn.argtypes = res, args
    return lib


def call(lib: ctypes.CDLL, name: str, *args: int) -> int:
    return getattr(lib, "xrt_" + name)(*args)


def f2b(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def b2f(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.uint32).view(np.float32)


SPECIALS = np.array([0, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001,
                     0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001, 0x007FFFFF, 0x00800000, 0x80800000,
                     0x00400000, 0x3F800001, 0x3F7FFFFF, 0x4B000000, 0x4B7FFFFF, 0x33800000, 0x34000000,
                     0x7F000000, 0x01000000, 0x4F000000, 0xCF000000, 0x5F000000, 0xDF000000, 0x3F000000],
                    dtype=np.uint32)


def float_operands(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of float bit patterns: all special pairs, random bit patterns (any class),
    random values of similar magnitude (cancellation, ties) and tiny values (subnormal results)."""
    sa, sb = np.meshgrid(SPECIALS, SPECIALS)
    anybits = rng.integers(0, 2**32, size=(2, N), dtype=np.uint64).astype(np.uint32)
    base = rng.integers(0x00800000, 0x7F000000, size=N, dtype=np.uint64).astype(np.uint32)
    near = (base.astype(np.int64) + rng.integers(-(2**24), 2**24, size=N)).clip(0, 0x7F7FFFFF).astype(np.uint32)
    near ^= (rng.integers(0, 2, size=N, dtype=np.uint32) << 31).astype(np.uint32)
    tiny = rng.integers(0, 0x0C000000, size=(2, N), dtype=np.uint64).astype(np.uint32)
    tiny ^= (rng.integers(0, 2, size=(2, N), dtype=np.uint32) << 31).astype(np.uint32)
    a = np.concatenate([sa.ravel(), anybits[0], base, tiny[0], base])
    b = np.concatenate([sb.ravel(), anybits[1], near, tiny[1], f2b(np.float32(1.0) / b2f(base))])
    return a, b


def assert_same_floats(name: str, a: np.ndarray, b: np.ndarray, got: list[int], want: np.ndarray) -> None:
    got_a = np.array(got, dtype=np.uint32)
    want_b = f2b(want)
    nan_ok = np.isnan(b2f(got_a)) & np.isnan(want)
    bad = np.nonzero((got_a != want_b) & ~nan_ok)[0]
    assert bad.size == 0, (f"{name}: {bad.size} mismatches, first: a=0x{int(a[bad[0]]):08x} b=0x{int(b[bad[0]]):08x} "
                           f"got 0x{int(got_a[bad[0]]):08x} want 0x{int(want_b[bad[0]]):08x}")


@pytest.mark.parametrize("name,op", [("__addsf3", np.add), ("__subsf3", np.subtract),
                                     ("__mulsf3", np.multiply), ("__divsf3", np.divide)])
def test_float_arith_matches_numpy(rt: ctypes.CDLL, name: str, op) -> None:
    a, b = float_operands(np.random.default_rng(RNG_SEED))
    fn = getattr(rt, "xrt_" + name)
    got = [fn(int(x), int(y)) for x, y in zip(a, b)]
    with np.errstate(all="ignore"):
        want = op(b2f(a), b2f(b))
    assert_same_floats(name, a, b, got, want)


def test_negsf2(rt: ctypes.CDLL) -> None:
    a, _ = float_operands(np.random.default_rng(RNG_SEED + 1))
    got = [call(rt, "__negsf2", int(x)) for x in a]
    assert_same_floats("__negsf2", a, a, got, -b2f(a))


def test_float_compare_conventions(rt: ctypes.CDLL) -> None:
    a, b = float_operands(np.random.default_rng(RNG_SEED + 2))
    # Add equal pairs and +0/-0 so "equal" is exercised, not only "different".
    a = np.concatenate([a, a[:500], np.array([0, 0x80000000], dtype=np.uint32)])
    b = np.concatenate([b, a[:500], np.array([0x80000000, 0], dtype=np.uint32)])
    fa, fb = b2f(a), b2f(b)
    unord = np.isnan(fa) | np.isnan(fb)
    checks = {
        "__eqsf2": (lambda r: r == 0, fa == fb), "__nesf2": (lambda r: r != 0, fa != fb),
        "__ltsf2": (lambda r: r < 0, fa < fb), "__lesf2": (lambda r: r <= 0, fa <= fb),
        "__gtsf2": (lambda r: r > 0, fa > fb), "__gesf2": (lambda r: r >= 0, fa >= fb),
        "__unordsf2": (lambda r: r != 0, unord),
    }
    for name, (truth, want) in checks.items():
        fn = getattr(rt, "xrt_" + name)
        got = np.array([truth(fn(int(x), int(y))) for x, y in zip(a, b)])
        bad = np.nonzero(got != want)[0]
        assert bad.size == 0, f"{name}: wrong for a=0x{int(a[bad[0]]):08x} b=0x{int(b[bad[0]]):08x}"


def test_int_to_float(rt: ctypes.CDLL) -> None:
    rng = np.random.default_rng(RNG_SEED + 3)
    i32s = np.concatenate([rng.integers(-(2**31), 2**31, size=N), [0, 1, -1, 2**31 - 1, -(2**31), 2**24 + 1,
                                                                    2**24 + 3, -(2**25) - 3, 16777217]]).astype(np.int32)
    u32s = i32s.view(np.uint32)
    shifts = rng.integers(0, 64, size=N, dtype=np.uint64)
    i64s = np.concatenate([(rng.integers(0, 2**63, size=N, dtype=np.uint64) >> shifts).astype(np.int64)
                           * rng.choice(np.array([-1, 1]), size=N),
                           [0, 1, -1, 2**63 - 1, -(2**63), 2**53 + 1, (2**40) + (2**16) + 1]]).astype(np.int64)
    u64s = np.concatenate([rng.integers(0, 2**64 - 1, size=N, dtype=np.uint64), np.array([2**64 - 1, 2**63, 0], dtype=np.uint64)])
    for name, vals, want in [("__floatsisf", i32s, i32s.astype(np.float32)),
                             ("__floatunsisf", u32s, u32s.astype(np.float32)),
                             ("__floatdisf", i64s, i64s.astype(np.float32)),
                             ("__floatundisf", u64s, u64s.astype(np.float32))]:
        got = [call(rt, name, int(v)) for v in vals]
        assert_same_floats(name, vals, vals, got, want)


def test_float_to_int_truncates(rt: ctypes.CDLL) -> None:
    rng = np.random.default_rng(RNG_SEED + 4)
    mags = np.exp2(rng.uniform(-3, 31, size=N)).astype(np.float32)
    vals = np.concatenate([mags * rng.choice(np.array([-1, 1], dtype=np.float32), size=N),
                           np.array([0.0, -0.0, 0.5, -0.5, 0.9999999, -1.5, 2147483520.0, -2147483648.0, 1e-40],
                                    dtype=np.float32)])
    ok = np.abs(vals) < 2.0**31
    for v in vals[ok]:
        assert call(rt, "__fixsfsi", int(f2b(v))) == int(np.trunc(v)), v
    ok = (vals > -1.0) & (vals < 2.0**32)
    for v in vals[ok]:
        assert call(rt, "__fixunssfsi", int(f2b(v))) == int(np.trunc(v)), v
    big = np.exp2(rng.uniform(0, 63, size=N)).astype(np.float32) * rng.choice(np.array([-1, 1], dtype=np.float32), size=N)
    for v in big[np.abs(big) < 2.0**63]:
        assert call(rt, "__fixsfdi", int(f2b(v))) == int(np.trunc(v)), v
    for v in np.abs(big):
        assert call(rt, "__fixunssfdi", int(f2b(v))) == int(v), v
    # Documented saturation for out-of-range values, and NaN -> 0.
    assert call(rt, "__fixsfsi", int(f2b(np.float32(3e9)))) == 2**31 - 1
    assert call(rt, "__fixsfsi", int(f2b(np.float32(-3e9)))) == -(2**31)
    assert call(rt, "__fixsfsi", 0x7FC00000) == 0
    assert call(rt, "__fixunssfsi", int(f2b(np.float32(5e9)))) == 2**32 - 1
    assert call(rt, "__fixunssfsi", int(f2b(np.float32(-7.0)))) == 0


def c_div(n: int, d: int) -> tuple[int, int]:
    """C99 truncating division and remainder."""
    q = abs(n) // abs(d)
    q = -q if (n < 0) != (d < 0) else q
    return q, n - q * d


def wrap(v: int, bits: int, signed: bool) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


def test_int32_division(rt: ctypes.CDLL) -> None:
    rng = np.random.default_rng(RNG_SEED + 5)
    n = [int(x) for x in rng.integers(-(2**31), 2**31, size=N)] + [-(2**31), 2**31 - 1, 7, -7, 0]
    d = [int(x) >> int(s) for x, s in zip(rng.integers(-(2**31), 2**31, size=N), rng.integers(0, 31, size=N))]
    d += [-1, 1, -2, 2**31 - 1, 3]
    for a, b in zip(n, d):
        if b == 0:
            continue
        q, r = c_div(a, b)
        assert call(rt, "__divsi3", a, b) == wrap(q, 32, True), (a, b)
        assert call(rt, "__modsi3", a, b) == wrap(r, 32, True), (a, b)
        ua, ub = a & 0xFFFFFFFF, b & 0xFFFFFFFF
        assert call(rt, "__udivsi3", ua, ub) == ua // ub, (ua, ub)
        assert call(rt, "__umodsi3", ua, ub) == ua % ub, (ua, ub)
    assert call(rt, "__udivsi3", 5, 0) == 0 and call(rt, "__divsi3", -5, 0) == 0


def test_int64_ops(rt: ctypes.CDLL) -> None:
    rng = np.random.default_rng(RNG_SEED + 6)
    raw = rng.integers(0, 2**64 - 1, size=(2, N), dtype=np.uint64)
    sh = rng.integers(0, 64, size=(2, N), dtype=np.uint64)
    a_s = [wrap(int(x) >> int(s), 64, True) for x, s in zip(raw[0], sh[0])] + [-(2**63), 2**63 - 1, -1, 1]
    b_s = [wrap(int(x) >> int(s), 64, True) for x, s in zip(raw[1], sh[1])] + [-1, -1, 3, -(2**63)]
    for a, b in zip(a_s, b_s):
        ua, ub = a & (2**64 - 1), b & (2**64 - 1)
        assert call(rt, "__muldi3", a, b) == wrap(a * b, 64, True), (a, b)
        assert call(rt, "__cmpdi2", a, b) == (0 if a < b else 2 if a > b else 1)
        assert call(rt, "__ucmpdi2", ua, ub) == (0 if ua < ub else 2 if ua > ub else 1)
        assert call(rt, "__negdi2", a) == wrap(-a, 64, True)
        s = int(rng.integers(0, 64))
        assert call(rt, "__ashldi3", ua, s) == (ua << s) & (2**64 - 1)
        assert call(rt, "__lshrdi3", ua, s) == ua >> s
        assert call(rt, "__ashrdi3", a, s) == a >> s
        if b == 0:
            continue
        q, r = c_div(a, b)
        assert call(rt, "__divdi3", a, b) == wrap(q, 64, True), (a, b)
        assert call(rt, "__moddi3", a, b) == wrap(r, 64, True), (a, b)
        assert call(rt, "__udivdi3", ua, ub) == ua // ub, (ua, ub)
        assert call(rt, "__umoddi3", ua, ub) == ua % ub, (ua, ub)
