"""cores/emlc_array: the correctly rounded ratio/square root against exact rational arithmetic
(Python's Fraction and math.isqrt), window features against numpy in float64 (int16: the exact
values, correctly rounded; float32: within the stated summation bounds) and bit for bit against
the host model emlmpy.arrays, the linear map against numpy (float32 operations, numpy.rint), argument
errors, ASan/UBSan and the Cortex-M0 build (soft float) bit for bit against the host build."""
from __future__ import annotations

import ctypes as C
from fractions import Fraction

import numpy as np
import pytest

import ccore
from emlmpy import arrays

OK, ERR_NULL, ERR_SIZE, ERR_KIND, ERR_VALUE = 0, -1, -2, -9, -11
I16, F32 = 0, 1
U = 2.0 ** -24  # float32 unit roundoff
_LIB: C.CDLL | None = None


def lib() -> C.CDLL:
    global _LIB
    if _LIB is None:
        dll = ccore.load()
        dll.emlc_array_ratio.argtypes = [C.c_int64, C.c_uint32, C.c_int32, C.c_int]
        dll.emlc_array_ratio.restype = C.c_float
        dll.emlc_array_features.argtypes = [C.c_void_p, C.c_int, C.c_size_t, C.c_size_t, C.c_void_p]
        dll.emlc_array_features.restype = C.c_int
        dll.emlc_array_linear_map.argtypes = [C.c_void_p, C.c_int, C.c_size_t, C.c_void_p, C.c_int, C.c_size_t,
                                              C.c_void_p]
        dll.emlc_array_linear_map.restype = C.c_int
        _LIB = dll
    return _LIB


def bits(x) -> int:
    return int(np.array([x], np.float32).view(np.uint32)[0])


def ratio(p: int, q: int, e: int, root: bool) -> np.float32:
    return np.float32(lib().emlc_array_ratio(p, q, e, int(root)))


def features(x: np.ndarray, start: int = 0, step: int = 1) -> tuple[int, np.ndarray]:
    x = np.ascontiguousarray(x)
    out = np.full(6, -1.0, np.float32)
    n = len(x[start::step])
    err = lib().emlc_array_features(x.ctypes.data + start * x.itemsize, I16 if x.dtype == np.int16 else F32, n, step,
                                    out.ctypes.data)
    return err, out


def linear_map(x: np.ndarray, rng: tuple, dtype: str, start: int = 0, step: int = 1) -> tuple[int, np.ndarray]:
    x = np.ascontiguousarray(x)
    n = len(x[start::step])
    out = np.full(n, 77, np.int16 if dtype == "h" else np.float32)
    r = np.array(rng, np.float64).astype(np.float32)
    err = lib().emlc_array_linear_map(x.ctypes.data + start * x.itemsize, I16 if x.dtype == np.int16 else F32, step,
                                      out.ctypes.data, I16 if dtype == "h" else F32, n, r.ctypes.data)
    return err, out


# ---- the ratio and square root, against exact arithmetic ----------------------------------------
def ratio_cases(rng: np.random.Generator, count: int) -> list[tuple[int, int, int]]:
    cases = []
    for _ in range(count):
        kind = rng.integers(0, 4)
        if kind == 0:  # int16 window sums
            n = int(rng.integers(1, 65536))
            cases.append((int(rng.integers(-(2 ** 31) + 1, 2 ** 31)), n, 0))
        elif kind == 1:  # sums of squares, variances
            cases.append((int(rng.integers(0, 2 ** 62)), int(rng.integers(1, 2 ** 32)), 0))
        elif kind == 2:  # float32 significands over n, any exponent
            cases.append((int(rng.integers(-(2 ** 24) + 1, 2 ** 24)), int(rng.integers(1, 65536)),
                          int(rng.integers(-160, 130))))
        else:  # small values: exact results and ties
            cases.append((int(rng.integers(-64, 65)), int(rng.integers(1, 17)), int(rng.integers(-4, 5))))
    return cases


def test_ratio_exact() -> None:
    """Every result is the float32 nearest (ties to even) to the exact p / q * 2^e or its square
    root, including subnormals, overflow to inf, exact ties and perfect squares."""
    rng = np.random.default_rng(1)
    cases = ratio_cases(rng, 3000 if not ccore.SANITIZED else 300)
    # ties: (2^24 + 1) / 2 needs a round to even; 2^25 + 3 -> odd tie up; perfect squares
    cases += [(2 ** 24 + 1, 1, 0), (2 ** 24 + 3, 1, 0), (-(2 ** 24 + 1), 1, 0), (2 ** 25 + 2, 1, 0),
              (1, 1, -149), (1, 1, -150), (3, 1, -151), (1, 3, -148), (1, 1, 127), (1, 1, 128),
              (2 ** 24 - 1, 1, 104), (2 ** 25 - 1, 1, 104), (7, 7, 0), (0, 5, 0), (81, 4, 0), (2, 1, 0),
              (2 ** 62 - 1, 1, 0), (1, 2 ** 32 - 1, 0), (-(2 ** 62), 3, 0)]
    for p, q, e in cases:
        v = Fraction(p, q) * Fraction(2) ** e
        got = ratio(p, q, e, False)
        assert bits(got) == bits(arrays.f32_round(v)), (p, q, e)
        if e >= -50 or p == 0:  # python float check, independent of f32_round
            want = np.float32(float(v)) if abs(v) < 2 ** 127 else None
            if want is not None and np.isfinite(want) and abs(float(v)) > 2 ** -100:
                # float64 then float32: double rounding can differ only on near-ties
                assert abs(float(got) - float(v)) <= abs(float(v)) * U * (1 + 2 ** -28)
        if p >= 0:
            got = ratio(p, q, e, True)
            assert bits(got) == bits(arrays.f32_round(v, root=True)), (p, q, e, "root")


def test_ratio_subnormal_and_overflow() -> None:
    assert ratio(1, 1, -149, False) == np.float32(2.0 ** -149)
    assert ratio(1, 1, -150, False) == 0.0  # a tie to the even 0
    assert ratio(3, 1, -151, False) == np.float32(2.0 ** -149)
    assert ratio(1, 1, 128, False) == np.inf and ratio(-1, 1, 128, False) == -np.inf
    assert ratio((2 ** 24 - 1) * 2 + 1, 1, 103, False) == np.inf  # rounds up past the largest float
    assert ratio(0, 1, 0, True) == 0.0 and ratio(5, 0, 0, False) == 0.0


# ---- features -------------------------------------------------------------------------------------
def numpy_features(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    neg = x64 < 0
    return np.array([x64.mean(), x64.std(), x64.min(), x64.max(), np.sqrt(np.mean(x64 * x64)),
                     np.count_nonzero(neg[1:] != neg[:-1])])


@pytest.mark.parametrize("n", [1, 2, 3, 7, 128, 1000, 65535])
def test_features_int16(n: int) -> None:
    """int16: mean, std, rms correctly rounded from the exact values (compared with exact
    rational arithmetic, and with numpy's float64 within one float32 rounding); min, max and
    zero crossings exact; every stride and start; bit for bit the host model."""
    rng = np.random.default_rng(n)
    for trial in range(3 if n < 65535 else 1):
        x = rng.integers(-32768, 32768, n * 3).astype(np.int16)
        if trial == 1:
            x[:] = np.int16(-32768)  # extremes: sums at their limits, std exactly 0
        if trial == 2:
            x = (rng.normal(0, 3, n * 3)).astype(np.int16)  # many zeros
        for start, step in ((0, 1), (0, 3), (1, 3), (2, 3)):
            whole = x[:n] if step == 1 else x  # n values either way
            v = whole[start::step]
            err, got = features(whole, start, step)
            assert err == OK
            assert np.array_equal(got.view(np.uint32), arrays.features(v).view(np.uint32))
            ref = numpy_features(v)
            s, ss = int(v.astype(np.int64).sum()), int((v.astype(np.int64) ** 2).sum())
            m = len(v)
            assert got[0] == arrays.f32_round(Fraction(s, m))
            assert got[1] == arrays.f32_round(Fraction(m * ss - s * s, m * m), root=True)
            assert got[4] == arrays.f32_round(Fraction(ss, m), root=True)
            assert got[2] == ref[2] and got[3] == ref[3] and got[5] == ref[5]
            for i in (0, 1, 4):  # numpy's float64 value is within float32 rounding of ours
                assert abs(float(got[i]) - ref[i]) <= U * abs(ref[i]) * 1.001 + 1e-12 * np.abs(v.astype(np.float64)).max(), i


@pytest.mark.parametrize("n", [1, 2, 5, 128, 4096])
def test_features_float32(n: int) -> None:
    """float32: bit for bit the host model (float32 sums in view order); against numpy float64:
    mean within (n u sum|x| / n + u |mean|), rms and std within the float32 sum bounds."""
    rng = np.random.default_rng(100 + n)
    for scale, offset in ((1.0, 0.0), (1e3, 5e3), (1e-15, 0.0), (1e15, 1e15)):  # squares stay normal
        x = (rng.normal(offset, scale, n * 3)).astype(np.float32)
        for start, step in ((0, 1), (1, 3)):
            v = x[start::step]
            err, got = features(x, start, step)
            assert err == OK
            assert np.array_equal(got.view(np.uint32), arrays.features(x, start, step).view(np.uint32))
            ref = numpy_features(v)
            m = len(v)
            a = np.abs(v.astype(np.float64))
            gamma = m * U / (1 - m * U)
            assert abs(got[0] - ref[0]) <= gamma * a.sum() / m + U * abs(ref[0]) + 1e-45
            assert got[2] == ref[2] and got[3] == ref[3] and got[5] == ref[5]
            q = (a * a).sum() / m
            assert abs(float(got[4]) ** 2 - q) <= (gamma + 3 * U) * q + 1e-45
            var = ref[1] ** 2
            # d sums (x - mean32)^2: mean32's error and the sum's rounding
            dm = abs(float(got[0]) - ref[0])
            bound = (gamma + 3 * U) * (var + dm * dm) + dm * dm + 1e-45
            assert abs(float(got[1]) ** 2 - var) <= bound * 1.01


def test_features_nonfinite_and_zero_crossings() -> None:
    x = np.array([1.0, np.nan, -2.0, 3.0], np.float32)
    err, got = features(x)
    assert err == OK and np.isnan(got[:5]).all() and got[5] == 2  # NaN is not negative
    assert np.array_equal(got.view(np.uint32), arrays.features(x).view(np.uint32))
    x = np.array([1.0, np.inf, -2.0], np.float32)
    err, got = features(x)
    assert got[0] == np.inf and got[3] == np.inf and got[2] == -2 and np.isnan(got[1]) and got[4] == np.inf
    # zeros and -0.0 are not negative: numpy's sign-change count with zero_pos
    x = np.array([0.0, -0.0, -1.0, 0.0, 2.0, -0.0, -3.0, 5.0], np.float32)
    err, got = features(x)
    assert got[5] == np.count_nonzero(np.diff((x < 0).astype(np.int8))) == 4
    assert features(np.array([-5], np.int16))[1][5] == 0


def test_features_errors() -> None:
    x = np.zeros(4, np.float32)
    out = np.zeros(6, np.float32)
    assert lib().emlc_array_features(x.ctypes.data, F32, 0, 1, out.ctypes.data) == ERR_SIZE
    assert lib().emlc_array_features(x.ctypes.data, F32, 65536, 1, out.ctypes.data) == ERR_SIZE
    assert lib().emlc_array_features(x.ctypes.data, F32, 2, 0, out.ctypes.data) == ERR_SIZE
    assert lib().emlc_array_features(x.ctypes.data, 2, 2, 1, out.ctypes.data) == ERR_KIND
    assert lib().emlc_array_features(None, F32, 2, 1, out.ctypes.data) == ERR_NULL
    assert lib().emlc_array_features(x.ctypes.data, F32, 2, 1, None) == ERR_NULL


# ---- linear map ---------------------------------------------------------------------------------------
RANGES = [(-32768, 32768, -8, 8), (0, 4096, 0, 1), (-1, 1, -32768, 32767), (0, 1, 0, 255), (10, -10, 3, -7),
          (-2.5, 7.25, 100, 1e5), (0, 1e-3, -1e6, 1e6)]


@pytest.mark.parametrize("rng_", RANGES)
def test_linear_map(rng_) -> None:
    """Bit for bit the host model (numpy float32 operations, clip, numpy.rint), and within float32
    rounding of numpy's float64 map of the same bounds."""
    rng = np.random.default_rng(7)
    lo, hi = min(rng_[2], rng_[3]), max(rng_[2], rng_[3])
    xs = {"h": rng.integers(-32768, 32768, 600).astype(np.int16),
          "f": np.concatenate([rng.uniform(min(rng_[:2]) * 1.2 - 1, max(rng_[:2]) * 1.2 + 1, 600),
                               [np.inf, -np.inf, rng_[0], rng_[1]]]).astype(np.float32)}
    b = np.array(rng_, np.float64).astype(np.float32).astype(np.float64)
    for st, x in xs.items():
        for dt in "hf":
            for start, step in ((0, 1), (2, 3)):
                err, got = linear_map(x, rng_, dt, start, step)
                assert err == OK
                want = arrays.linear_map(x, *rng_, dtype=dt, start=start, step=step)
                assert np.array_equal(got.view(np.uint16 if dt == "h" else np.uint32),
                                      want.view(np.uint16 if dt == "h" else np.uint32)), (st, dt)
                v = x[start::step].astype(np.float64)
                with np.errstate(invalid="ignore"):
                    ref = np.clip((v - b[0]) * (b[3] - b[2]) / (b[1] - b[0]) + b[2], min(b[2], b[3]), max(b[2], b[3]))
                if dt == "h":
                    ref = np.clip(ref, -32768, 32767)
                    assert np.abs(got - ref).max() <= 0.5 + 1e-3 * max(abs(lo), abs(hi), 1) * 2 ** -10
                else:
                    tol = 4 * U * (np.abs(v - b[0]) * abs(float(np.float32(b[3] - b[2]) / np.float32(b[1] - b[0])))
                                   + abs(b[2]) + abs(ref))
                    assert (np.abs(got - ref) <= tol + 1e-30).all()


def test_linear_map_rounding_and_saturation() -> None:
    """int16 output: round to nearest, ties to even (numpy.rint), saturated at -32768..32767 (an
    identity map keeps every value exact before the rounding); clipped to the output range first."""
    x = np.array([-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 0.49999997, 0.50000006, 40000, -40000, 32767.5,
                  -32768.5, 32766.5, np.inf, -np.inf], np.float32)
    # identity maps (k = 1, no offset: exact) over the positive and the negative half
    want = np.clip(np.rint(x.astype(np.float64)), -32768, 32767).astype(int)
    err, got = linear_map(x, (0, 40000, 0, 40000), "h")
    assert err == OK and got[x >= 0].tolist() == want[x >= 0].tolist()
    err, got = linear_map(x, (0, -40000, 0, -40000), "h")
    assert err == OK and got[x <= 0].tolist() == want[x <= 0].tolist()
    assert want[:9].tolist() == [-2, -2, 0, 0, 0, 2, 2, 0, 1]
    err, got = linear_map(x, (-1, 1, -1, 1), "h")  # clipped to [-1, 1] first
    assert got.tolist() == arrays.linear_map(x, -1, 1, -1, 1, "h").tolist()  # (x + 1) - 1 in float32
    assert got.min() == -1 and got.max() == 1 and got[-2] == 1 and got[-1] == -1
    err, got = linear_map(x, (0, 1, 100, 50), "f")  # decreasing map: clipped to [50, 100]
    assert err == OK and got.min() >= 50 and got.max() <= 100 and got[-2] == 50 and got[-1] == 100


def test_linear_map_nan_and_errors() -> None:
    x = np.array([1.0, np.nan, 2.0], np.float32)
    err, got = linear_map(x, (0, 1, 0, 1), "f")
    assert err == OK and np.isnan(got[1]) and got[0] == 1 and got[2] == 1
    err, got = linear_map(x, (0, 1, 0, 100), "h")
    assert err == ERR_VALUE and got.tolist() == [77, 77, 77]  # nothing written
    h = np.array([1, 2], np.int16)
    for bad in [(1, 1, 0, 1), (0, 1, 2, 2), (np.inf, 1, 0, 1), (0, np.nan, 0, 1), (0, 1, -np.inf, 1),
                (-3e38, 3e38, 0, 1), (0, 1, -3e38, 3e38), (0, 1e30, 0, 1e-30), (0, 1e-30, 0, 1e30)]:
        err, got = linear_map(h, bad, "f")
        assert err == ERR_VALUE and got.tolist() == [77, 77], bad
        with pytest.raises(ValueError):
            arrays.linear_map(h, *bad)
    out = np.zeros(2, np.float32)
    r = np.array([0, 1, 0, 1], np.float32)
    assert lib().emlc_array_linear_map(h.ctypes.data, I16, 0, out.ctypes.data, F32, 2, r.ctypes.data) == ERR_SIZE
    assert lib().emlc_array_linear_map(h.ctypes.data, 2, 1, out.ctypes.data, F32, 2, r.ctypes.data) == ERR_KIND
    assert lib().emlc_array_linear_map(h.ctypes.data, I16, 1, None, F32, 2, r.ctypes.data) == ERR_NULL
    # in place
    f = np.array([0.0, 0.5, 1.0], np.float32)
    assert lib().emlc_array_linear_map(f.ctypes.data, F32, 1, f.ctypes.data, F32, 3, np.array([0, 1, 10, 20], np.float32).ctypes.data) == OK
    assert f.tolist() == [10, 15, 20]


# ---- builds ---------------------------------------------------------------------------------------
def test_portable() -> None:
    """Every natmod cross compiler builds the core without libc, double or division helpers."""
    ccore.check_portable("emlc_array.c")


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (soft float, run in unicorn) gives the host build's bits: ratio, features
    (both dtypes, strided) and the linear map in all four type pairs."""
    m = ccore.Armv6m(["emlc_array.c"])
    rng = np.random.default_rng(3)
    for p, q, e in ratio_cases(rng, 150):
        for root in (0, 1) if p >= 0 else (0,):
            pu = p & (2 ** 64 - 1)
            r = m.call("emlc_array_ratio", pu & 0xFFFFFFFF, pu >> 32, q, e, root) & 0xFFFFFFFF
            assert r == bits(ratio(p, q, e, bool(root))), (p, q, e, root)
    out = m.alloc(24)
    for x in (rng.integers(-32768, 32768, 300).astype(np.int16), rng.normal(3, 100, 300).astype(np.float32)):
        mx = m.alloc(x.tobytes())
        for start, step in ((0, 1), (1, 3)):
            n = len(x[start::step])
            assert m.call("emlc_array_features", mx + start * x.itemsize, I16 if x.dtype == np.int16 else F32, n,
                          step, out) == OK
            assert m.read(out, 24) == features(x, start, step)[1].tobytes()
            for rng_ in RANGES[:4]:
                r = m.alloc(np.array(rng_, np.float64).astype(np.float32).tobytes())
                for dt in "hf":
                    host = linear_map(x, rng_, dt, start, step)[1]
                    dst = m.alloc(host.nbytes)
                    assert m.call("emlc_array_linear_map", mx + start * x.itemsize, I16 if x.dtype == np.int16 else F32,
                                  step, dst, I16 if dt == "h" else F32, n, r) == OK
                    assert m.read(dst, host.nbytes) == host.tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
