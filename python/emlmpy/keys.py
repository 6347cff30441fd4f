"""Key space and quantization helpers (docs/model-format.md section 1).

Every function here is exact: it computes on the host bit-for-bit what the C core computes.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable)


def quiet(fn: F) -> F:
    """Run fn with numpy floating-point warnings/errors off. IEEE results (underflow to 0,
    overflow to inf) are intended here; some packages (emlearn) set np.seterr(all='raise')."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper  # type: ignore[return-value]

INT16_MIN = -32768
INT16_MAX = 32767
# Thresholds for int16 models are clamped to this range: T < -32768 sends everything right,
# T >= 32767 everything left, so nothing is lost by the clamp.
QTHR_MIN = INT16_MIN - 1
QTHR_MAX = INT16_MAX


@quiet
def float32_keys(x: np.ndarray) -> np.ndarray:
    """key(x) for float32 values: bit pattern b as int32, b ^ ((b >> 31) & 0x7fffffff)."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.int32)
    return b ^ ((b >> 31) & np.int32(0x7FFFFFFF))


@quiet
def key_to_float32(k: np.ndarray) -> np.ndarray:
    """Inverse of float32_keys (the transform is an involution on int32)."""
    k = np.asarray(k, dtype=np.int32)
    b = k ^ ((k >> 31) & np.int32(0x7FFFFFFF))
    return b.view(np.float32)


@quiet
def floor_float32(t: np.ndarray) -> np.ndarray:
    """Largest float32 <= t (float64 input), with -0.0 turned into +0.0."""
    t = np.asarray(t, dtype=np.float64)
    f = t.astype(np.float32)
    above = f.astype(np.float64) > t
    f = np.where(above, np.nextafter(f, np.float32(-np.inf)), f).astype(np.float32)
    f = np.where(f == 0, np.float32(0.0), f).astype(np.float32)  # -0.0 -> +0.0
    return f


@quiet
def sklearn_threshold_keys(t: np.ndarray) -> np.ndarray:
    """Keys such that key(x) <= K  <=>  (double)x <= t for every float32 x (sklearn's rule)."""
    return float32_keys(floor_float32(t))


@quiet
def emlearn_threshold_keys(t32: np.ndarray) -> np.ndarray:
    """Keys such that key(x) <= K  <=>  x < t32 for every non-NaN float32 x (emlearn's rule)."""
    t32 = np.asarray(t32, dtype=np.float32)
    k = float32_keys(t32).astype(np.int64) - 1
    # x < +-0.0 means x <= smallest negative subnormal, whose key is -2 (key(-0.0) is -1).
    k = np.where(t32 == 0, -2, k)
    return np.clip(k, -(2 ** 31), 2 ** 31 - 1).astype(np.int32)


@quiet
def quantize(x: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """int16 quantization, float32 arithmetic, as the device does:

    u = (x - offset) * scale; q = floor(u + 0.5f); clamp to int16; NaN -> 0.
    """
    x = np.asarray(x, dtype=np.float32)
    s = np.asarray(scale, dtype=np.float32)
    o = np.asarray(offset, dtype=np.float32)
    u = (x - o) * s
    v = np.floor(u + np.float32(0.5))
    v = np.where(np.isnan(v), np.float32(0.0), v)
    v = np.clip(v, INT16_MIN, INT16_MAX)
    return v.astype(np.int16)


@quiet
def quantized_threshold(t: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """T = floor((t - offset) * scale) in float64 with the float32-stored scale/offset, clamped."""
    s = np.asarray(scale, dtype=np.float32).astype(np.float64)
    o = np.asarray(offset, dtype=np.float32).astype(np.float64)
    v = np.floor((np.asarray(t, dtype=np.float64) - o) * s)
    return np.clip(v, QTHR_MIN, QTHR_MAX).astype(np.int32)


@quiet
def _decimal_grid(v: np.ndarray):
    """10**d when every value is (up to float noise) a multiple of 0.5 * 10**-d and v * 10**d
    fits int16, for the smallest d in 1..4; else None.

    Tree thresholds are midpoints of training values; when those are decimals with d digits
    (iris: 1.6, 1.8), scale 10**d puts every threshold on a quantization boundary (1.7 -> 17
    with T = 16 when sklearn's threshold is just below 1.7), so inputs on the same decimal grid
    branch exactly as in float.
    """
    for d in range(1, 5):
        m = 2.0 * v * 10.0 ** d
        if np.max(np.abs(v)) * 10.0 ** d > INT16_MAX - 1:
            return None
        if np.all(np.abs(m - np.round(m)) <= 1e-6 * np.maximum(1.0, np.abs(m))):
            return 10.0 ** d
    return None


@quiet
def choose_quantization(values_per_feature: list, n_features: int, common_scale: bool = False):
    """Pick float32 (scale, offset) per feature from the values that matter for that feature.

    Trees pass each feature's thresholds; k-NN passes the training column. A feature whose values
    are all multiples of 0.5 within int16 range gets scale 1, offset 0 (exact for integer inputs);
    (trees only) one whose values sit on a decimal grid gets scale 10**d, offset 0 (_decimal_grid).
    Otherwise the value range is mapped onto about +-30000. With common_scale (k-NN, where the
    distance metric must stay isotropic) every feature shares the smallest scale.
    """
    scale = np.ones(n_features, dtype=np.float64)
    offset = np.zeros(n_features, dtype=np.float64)
    integer_like = np.ones(n_features, dtype=bool)
    for f in range(n_features):
        v = np.asarray(values_per_feature[f], dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        lo, hi = float(v.min()), float(v.max())
        if np.all(v * 2 == np.round(v * 2)) and lo >= INT16_MIN and hi <= INT16_MAX:
            continue
        integer_like[f] = False
        grid = None if common_scale else _decimal_grid(v)
        if grid is not None:
            scale[f] = grid
            continue
        if hi > lo:
            offset[f] = (lo + hi) / 2.0
            scale[f] = 60000.0 / (hi - lo)
        else:
            offset[f] = lo
            scale[f] = 2.0 ** 14 / max(abs(lo), 1e-30) if lo != 0 else 2.0 ** 14
    if common_scale and not integer_like.all():
        ranges = []
        for f in range(n_features):
            v = np.asarray(values_per_feature[f], dtype=np.float64)
            v = v[np.isfinite(v)]
            if v.size:
                lo, hi = float(v.min()), float(v.max())
                offset[f] = (lo + hi) / 2.0
                if hi > lo:
                    ranges.append(hi - lo)
        scale[:] = 60000.0 / max(ranges) if ranges else 1.0
    return scale.astype(np.float32), offset.astype(np.float32)
