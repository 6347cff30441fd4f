"""The emlfft_q15 module's transforms on the host, bit for bit (cores/emlc_fft_q15.h is the
contract): the Q15 twiddle table, fft(x)/n, ifft(x) and rfft(x)/n of int16 data with the device's
per-stage halving, rounding and saturation. Vectorised over each stage with numpy (int64)."""
from __future__ import annotations

import numpy as np

MAX_N = 1 << 15
_SIN = (51472, 5292, 163, 2)   # round(2^16 (pi/4)^j / j!), j = 1, 3, 5, 7
_COS = (20213, 1039, 21)       # j = 2, 4, 6


def _mul16(a, b):
    return (a * b + 32768) >> 16


def _sq16(v):
    return np.where(v > 65535, 65536, _mul16(v, v))


def twiddle_table(n_max: int) -> np.ndarray:
    """The device's table: int16 sin(2 pi k / n_max) in Q15 for 0 <= k < 3 n_max / 4."""
    l = _log2(n_max, 4)
    k = np.arange(3 * (n_max >> 2), dtype=np.int64)
    p = k << 3
    octant = p >> l
    v = (p & (n_max - 1)) << (16 - l)
    w = np.where(octant & 1, 65536 - v, v)
    w2 = _sq16(w)
    s = _SIN[2] - _mul16(w2, _SIN[3])
    s = _SIN[1] - _mul16(w2, s)
    s = _mul16(w, _SIN[0] - _mul16(w2, s))
    c = _COS[1] - _mul16(w2, _COS[2])
    c = 65536 - _mul16(w2, _COS[0] - _mul16(w2, c))
    q = np.where(((octant + 1) >> 1) & 1, c, s)
    q = np.minimum((q + 1) >> 1, 32767)
    return np.where(octant >= 4, -q, q).astype(np.int16)


def _log2(n: int, least: int) -> int:
    if not isinstance(n, (int, np.integer)) or n < least or n > MAX_N or n & (n - 1):
        raise ValueError(f"n must be a power of two, {least} <= n <= {MAX_N}; got {n!r}")
    return int(n).bit_length() - 1


def _sat(v: np.ndarray) -> np.ndarray:
    return np.clip(v, -32768, 32767)


def _run(re: np.ndarray, im: np.ndarray, table: np.ndarray, n_max: int) -> tuple[np.ndarray, np.ndarray]:
    n = re.size
    l = n.bit_length() - 1
    rev = np.zeros(n, dtype=np.int64)
    for b in range(l):
        rev |= ((np.arange(n) >> b) & 1) << (l - 1 - b)
    re, im = re[rev].astype(np.int64), im[rev].astype(np.int64)
    sin_t = table.astype(np.int64)
    cos_t = sin_t[n_max >> 2:]
    lmax = n_max.bit_length() - 1
    for s in range(1, l + 1):
        half = 1 << (s - 1)
        size = half << 1
        a = (np.arange(0, n, size)[:, None] + np.arange(half)[None, :]).ravel()
        jj = a & (size - 1)
        b = a + half
        ar, ai, br, bi = re[a], im[a], re[b], im[b]
        c, sn = cos_t[jj << (lmax - s)], sin_t[jj << (lmax - s)]
        tr = (c * br + sn * bi) >> 1
        ti = (c * bi - sn * br) >> 1
        arr, aii = ar * 16384 + 16384, ai * 16384 + 16384
        one = jj == 0
        re[a] = _sat(np.where(one, (ar + br + 1) >> 1, (arr + tr) >> 15))
        im[a] = _sat(np.where(one, (ai + bi + 1) >> 1, (aii + ti) >> 15))
        re[b] = _sat(np.where(one, (ar - br + 1) >> 1, (arr - tr) >> 15))
        im[b] = _sat(np.where(one, (ai - bi + 1) >> 1, (aii - ti) >> 15))
    return re, im


def _int16(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype != np.int16 or a.ndim != 1:
        raise TypeError(f"{name} must be a 1-d int16 array, got {a.dtype} with shape {a.shape}")
    return a


def _pair(re, im) -> tuple[np.ndarray, np.ndarray, int]:
    re, im = _int16(re, "real"), _int16(im, "imag")
    if re.size != im.size:
        raise ValueError("real and imag must have the same length")
    n_max = max(4, re.size)
    _log2(re.size, 1)
    return re, im, n_max


def fft_q15(re, im) -> tuple[np.ndarray, np.ndarray]:
    """The device's FFT.run(re, im): (real, imag) of numpy.fft.fft(re + 1j im) / n, as int16."""
    re, im, n_max = _pair(re, im)
    r, i = _run(re, im, twiddle_table(n_max), n_max)
    return r.astype(np.int16), i.astype(np.int16)


def ifft_q15(re, im) -> tuple[np.ndarray, np.ndarray]:
    """The device's FFT.inverse(re, im): numpy.fft.ifft (which includes the 1/n), as int16."""
    re, im, n_max = _pair(re, im)
    i, r = _run(im, re, twiddle_table(n_max), n_max)
    return r.astype(np.int16), i.astype(np.int16)


def rfft_q15(x) -> tuple[np.ndarray, np.ndarray]:
    """The device's FFT.rfft(x, real, imag): numpy.fft.rfft(x) / n (n/2 + 1 bins), as int16."""
    x = _int16(x, "x")
    n = x.size
    l = _log2(n, 2)
    n_max = max(4, n)
    table = twiddle_table(n_max)
    half = n >> 1
    zr, zi = _run(x[0::2].copy(), x[1::2].copy(), table, n_max)
    re = np.zeros(half + 1, dtype=np.int64)
    im = np.zeros(half + 1, dtype=np.int64)
    re[0] = _sat((zr[0] + zi[0] + 1) >> 1)
    re[half] = _sat((zr[0] - zi[0] + 1) >> 1)
    sin_t = table.astype(np.int64)
    cos_t = sin_t[n_max >> 2:]
    shift = (n_max.bit_length() - 1) - l
    k = np.arange(1, (half >> 1) + 1)
    mk = half - k
    ar, ai, br, bi = zr[k], zi[k], zr[mk], zi[mk]
    er, ei = (ar + br) * 8192 + 16384, (ai - bi) * 8192
    or_, oi = ai + bi, br - ar
    c, sn = cos_t[k << shift], sin_t[k << shift]
    tr = (((c * or_) >> 1) + ((sn * oi) >> 1)) >> 1
    ti = (((c * oi) >> 1) - ((sn * or_) >> 1)) >> 1
    # mk first, then k: where mk == k (the middle bin) the k values are the ones kept
    re[mk], im[mk] = _sat((er - tr) >> 15), _sat((ti - ei + 16384) >> 15)
    re[k], im[k] = _sat((er + tr) >> 15), _sat((ei + ti + 16384) >> 15)
    return re.astype(np.int16), im.astype(np.int16)
