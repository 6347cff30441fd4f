"""Host model of the emlarray module: linear_map and window features computed exactly as the
device does (cores/emlc_array.h), bit for bit (a NaN result is a NaN, its sign and payload may
differ by CPU: docs/emlarray.md), so host features can train a model the device then
feeds. Integer maths in Python ints and float32 maths in numpy float32, in the device's order.

Imports: fractions, math, numpy.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Union

import numpy as np

F32 = np.float32
N_FEATURES = 6
MEAN, STD, MIN, MAX, RMS, ZERO_CROSSINGS = range(N_FEATURES)
MAX_N = 65535
Number = Union[int, float, Fraction]


def _f32_from_scaled(m: int, e: int, sign: bool) -> np.float32:
    bits = (0x7F800000 if e > 127 else ((e + 126) << 23) + m) | (0x80000000 if sign else 0)
    return np.array([bits], np.uint32).view(F32)[0]


def f32_round(v: Number, root: bool = False) -> np.float32:
    """The float32 nearest (ties to even) to v, or to sqrt(v) when root (v >= 0), computed exactly
    from the rational value (no float rounding on the way); past float32's range: +-inf."""
    v = Fraction(v)
    if v == 0:
        return F32(0.0)
    sign = v < 0
    if sign and root:
        raise ValueError("sqrt of a negative value")
    v = abs(v)
    # e: the exponent of the result's leading bit (floor(log2(result)))
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if v < Fraction(2) ** e:
        e -= 1
    if root:
        e = e // 2  # floor(log2(sqrt v)) = floor(floor(log2 v) / 2)
    e = max(e, -126)  # subnormal: the last bit stays 2^-149
    if root:
        t = v * Fraction(4) ** (23 - e)  # sqrt(t) = result * 2^(23 - e), 2^23 <= sqrt(t) < 2^24
        m = math.isqrt(math.floor(t))
        c = 4 * t - (2 * m + 1) ** 2  # sign of sqrt(t) - (m + 1/2)
    else:
        t = v * Fraction(2) ** (23 - e)
        m = math.floor(t)
        c = 2 * t - (2 * m + 1)
    if c > 0 or (c == 0 and m & 1):
        m += 1
    return _f32_from_scaled(m, e, sign)


def _key(x: np.ndarray) -> np.ndarray:
    """int64 keys ordering float32 values like the device (cores' key(): -0.0 just below +0.0)."""
    b = np.ascontiguousarray(x, F32).reshape(-1).view(np.uint32).astype(np.int64)
    k = np.where(b >> 31, b ^ 0x7FFFFFFF, b)
    return np.where(k >= 2**31, k - 2**32, k)


def _div_n(s: np.float32, n: int, root: bool) -> np.float32:
    """s / n or sqrt(s / n) correctly rounded; inf and NaN as they are (cores' div_n)."""
    if not np.isfinite(s):
        return F32(s)
    return f32_round(Fraction(float(s)) / n, root)


def zero_crossings(x: np.ndarray) -> int:
    """Neighbouring pairs where exactly one value is < 0 (0, -0.0 and NaN are not negative)."""
    with np.errstate(invalid="ignore"):
        neg = np.asarray(x) < 0
    return int(np.count_nonzero(neg[1:] != neg[:-1]))


def features(src: np.ndarray, start: int = 0, step: int = 1) -> np.ndarray:
    """emlarray.features(src, out, start, step): float32 [mean, std, min, max, rms, zero crossings]
    of src[start::step] (int16 or float32), bit for bit as the device computes them."""
    x = np.asarray(src)[start::step]
    n = len(x)
    if x.dtype not in (np.int16, np.float32):
        raise TypeError("src must be int16 or float32")
    if not 1 <= n <= MAX_N:
        raise ValueError("src[start::step] must have 1..65535 elements")
    out = np.zeros(N_FEATURES, F32)
    if x.dtype == np.int16:
        v = [int(a) for a in x]
        s, ss = sum(v), sum(a * a for a in v)
        out[MEAN] = f32_round(Fraction(s, n))
        out[STD] = f32_round(Fraction(n * ss - s * s, n * n), root=True)
        out[MIN], out[MAX] = min(v), max(v)
        out[RMS] = f32_round(Fraction(ss, n), root=True)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            s = np.add.accumulate(x, dtype=F32)[-1]  # float32, first to last
            mean = _div_n(s, n, False)
            c = x - mean
            d = np.add.accumulate(c * c, dtype=F32)[-1]
            q = np.add.accumulate(x * x, dtype=F32)[-1]
        out[MEAN] = mean
        out[STD] = _div_n(d, n, True)
        out[RMS] = _div_n(q, n, True)
        if np.isnan(x).any():
            out[MIN] = out[MAX] = np.nan
        else:
            keys = _key(x)
            out[MIN], out[MAX] = x[np.argmin(keys)], x[np.argmax(keys)]
    out[ZERO_CROSSINGS] = zero_crossings(x)
    return out


def linear_map(src: np.ndarray, in_min: float, in_max: float, out_min: float, out_max: float,
               dtype: str = "f", start: int = 0, step: int = 1) -> np.ndarray:
    """emlarray.linear_map(src, dst, ...) with dst of typecode dtype ('f' or 'h'): the array the
    device writes. y = (x - in_min) * k + out_min in float32, k = float32 (out_max - out_min) /
    (in_max - in_min), clipped to the output range; int16: clipped to -32768..32767, rounded to
    nearest even."""
    x = np.asarray(src)[start::step]
    if x.dtype not in (np.int16, np.float32) or dtype not in ("f", "h"):
        raise TypeError("src and dst must be int16/'h' or float32/'f'")
    b = np.array([in_min, in_max, out_min, out_max], np.float64).astype(F32)
    with np.errstate(over="ignore", invalid="ignore"):
        span_in, span_out = b[1] - b[0], b[3] - b[2]
        k = span_out / span_in if span_in != 0 else F32(np.inf)
    if not (np.isfinite(b).all() and np.isfinite(span_in) and np.isfinite(span_out) and span_out != 0
            and np.isfinite(k) and abs(k) >= np.finfo(F32).tiny):
        raise ValueError("bounds must be finite, in_min != in_max, out_min != out_max")
    lo, hi = (b[2], b[3]) if _key(b[2])[0] <= _key(b[3])[0] else (b[3], b[2])
    if dtype == "h":
        if x.dtype == np.float32 and np.isnan(x).any():
            raise ValueError("no NaN into array('h')")
        lo, hi = (F32(min(max(v, -32768.0), 32767.0)) for v in (lo, hi))
    with np.errstate(over="ignore", invalid="ignore"):
        y = (x.astype(F32) - b[0]) * k + b[2]
    ky, klo, khi = _key(y), _key(lo)[0], _key(hi)[0]
    y = np.where(np.isnan(y), y, np.where(ky < klo, lo, np.where(ky > khi, hi, y))).astype(F32)
    if dtype == "h":
        return np.rint(y).astype(np.int16)
    return y
