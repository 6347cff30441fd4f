"""Host copy of the device's feature maths (har_run.py), operation for operation.

Per axis (x, y, z): mean and standard deviation in g, then the energy in five frequency bands from
a 128-point real FFT of the window in g. The device does the FFT with emlfft (float32, radix 2)
mean and standard deviation with emlarray.features, the counts -> g scaling with
emlarray.linear_map, and the band sums in MicroPython floats (double precision on the unix port).
This module repeats exactly those operations: emlarray's through its host model emlmpy.arrays
(exact integer sums, each result correctly rounded to float32), the FFT's float32 and the band
sums' float64 operations in numpy, so the features the model is trained on are bit for bit the
ones the unix port computes.
"""
from __future__ import annotations

import numpy as np
from emlmpy import arrays

from har_data import COUNTS_PER_G, WINDOW

# rfft bins [lo, hi) of each band; bin k is k * 50 / 128 Hz (0.39 Hz apart). Bin 0 (DC) is the mean.
BANDS = ((1, 3), (3, 6), (6, 11), (11, 21), (21, 65))
FEATURES_PER_AXIS = 2 + len(BANDS)
N_FEATURES = 3 * FEATURES_PER_AXIS
F32 = np.float32


def feature_names() -> list[str]:
    names = []
    for axis in "xyz":
        names += [f"{axis}_mean", f"{axis}_std"]
        names += [f"{axis}_e{lo * 50 / 128:.1f}-{hi * 50 / 128:.1f}Hz" for lo, hi in BANDS]
    return names


# ---- emlfft's float32 transform (cores/emlc_fft.c), repeated in numpy ----------------------------
def _sin8(u: np.ndarray) -> np.ndarray:
    u2 = u * u
    return u * (F32(7.853981634e-01) + u2 * (F32(-8.074551219e-02) + u2 * (F32(2.490394570e-03) + u2 * (
        F32(-3.657620418e-05) + u2 * F32(3.133616890e-07)))))


def _cos8(u: np.ndarray) -> np.ndarray:
    u2 = u * u
    return F32(1.0) + u2 * (F32(-3.084251375e-01) + u2 * (F32(1.585434424e-02) + u2 * (
        F32(-3.259918869e-04) + u2 * (F32(3.590860449e-06) + u2 * F32(-2.461136950e-08)))))


def sine_table(n_max: int) -> np.ndarray:
    """The device's table sin(2 pi k / n_max), k < 3 n_max / 4, computed in float32 the same way."""
    log2n = n_max.bit_length() - 1
    inv = F32(2.0 ** -log2n)
    table = np.empty(3 * n_max // 4, dtype=F32)
    for k in range(len(table)):
        p = k << 3
        octant, rem = p >> log2n, p & (n_max - 1)
        w = F32(n_max - rem) * inv if octant & 1 else F32(rem) * inv
        v = _cos8(w) if ((octant + 1) >> 1) & 1 else _sin8(w)
        table[k] = F32(0.0) - v if octant >= 4 else v
    return table


def _fft_run(re: np.ndarray, im: np.ndarray, table: np.ndarray, n_max: int) -> None:
    """Forward complex FFT in place on the last axis (length n), float32, device operation order."""
    n = re.shape[-1]
    log2n, log2max = n.bit_length() - 1, n_max.bit_length() - 1
    rev = np.array([int(format(i, f"0{log2n}b")[::-1], 2) for i in range(n)])
    re[...] = re[..., rev]
    im[...] = im[..., rev]
    sin_t, cos_t = table, table[n_max // 4:]
    for s in range(1, log2n + 1):
        half = 1 << (s - 1)
        size = half << 1
        shift = log2max - s
        for jj in range(half):
            a = np.arange(jj, n, size)
            b = a + half
            if jj == 0:
                tr, ti = re[..., b], im[..., b]
            elif jj << 1 == half:
                tr, ti = im[..., b], -re[..., b]
            else:
                c, sn = cos_t[jj << shift], sin_t[jj << shift]
                tr = re[..., b] * c + im[..., b] * sn
                ti = im[..., b] * c - re[..., b] * sn
            re[..., b] = re[..., a] - tr
            im[..., b] = im[..., a] - ti
            re[..., a] = re[..., a] + tr
            im[..., a] = im[..., a] + ti


def rfft(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """emlfft.FFT(n).rfft on the last axis of float32 x: (re, im), n/2 + 1 bins each."""
    n = x.shape[-1]
    half = n // 2
    table = sine_table(n)
    re = np.zeros(x.shape[:-1] + (half + 1,), dtype=F32)
    im = np.zeros_like(re)
    re[..., :half] = x[..., 0::2]
    im[..., :half] = x[..., 1::2]
    _fft_run(re[..., :half], im[..., :half], table, n)
    z0r, z0i = re[..., 0].copy(), im[..., 0].copy()
    re[..., 0] = z0r + z0i
    im[..., 0] = 0.0
    re[..., half] = z0r - z0i
    im[..., half] = 0.0
    sin_t, cos_t = table, table[n // 4:]
    for k in range(1, half // 2 + 1):
        mk = half - k
        ar, ai, br, bi = re[..., k].copy(), im[..., k].copy(), re[..., mk].copy(), im[..., mk].copy()
        er, ei = F32(0.5) * (ar + br), F32(0.5) * (ai - bi)
        or_, oi = F32(0.5) * (ai + bi), F32(0.5) * (br - ar)
        c, sn = cos_t[k], sin_t[k]
        tr, ti = c * or_ + sn * oi, c * oi - sn * or_
        re[..., k] = er + tr
        im[..., k] = ei + ti
        re[..., mk] = er - tr
        im[..., mk] = ti - ei
    return re, im


# ---- the features ------------------------------------------------------------------------------
def features(raw: np.ndarray) -> np.ndarray:
    """raw: int16 counts, shape (n, WINDOW, 3) -> float32 features, shape (n, N_FEATURES)."""
    n = raw.shape[0]
    out = np.empty((n, N_FEATURES), dtype=F32)
    inv_g = 1.0 / COUNTS_PER_G  # a power of two: the products below are exact
    flat = raw.reshape(n, -1)   # each window interleaved x, y, z, as the device reads it
    for axis in range(3):
        col = axis * FEATURES_PER_AXIS
        # emlarray.features(raw, stats, axis, 3): float32 mean and std in counts; the device then
        # multiplies the float32 values by 2**-12 in double precision and stores them as float32
        stats = np.array([arrays.features(w, axis, 3)[:2] for w in flat])
        out[:, col] = stats[:, 0].astype(np.float64) * inv_g
        out[:, col + 1] = stats[:, 1].astype(np.float64) * inv_g
        # emlarray.linear_map(raw, x, -32768, 32768, -8, 8, axis, 3): counts -> g in float32
        x = np.array([arrays.linear_map(w, -32768, 32768, -8, 8, "f", axis, 3) for w in flat])
        re, im = rfft(x)
        re64, im64 = re.astype(np.float64), im.astype(np.float64)
        for j, (lo, hi) in enumerate(BANDS):
            e = np.zeros(n)
            for k in range(lo, hi):             # left to right, like the device loop
                e = e + (re64[:, k] * re64[:, k] + im64[:, k] * im64[:, k])
            out[:, col + 2 + j] = e / 8192.0
    return out
