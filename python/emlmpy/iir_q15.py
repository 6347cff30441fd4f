"""Q15 (int16) IIR filters for the emliir_q15 module: coefficients from a scipy `sos` array, and a
host filter that gives the device's output bit for bit (cores/emlc_iir_q15.h is the contract).

Coefficient row per section (int16, scipy's b0 b1 b2 a0 a1 a2 positions):
    B0 B1 B2 T A1 A2    Bi = round(bi * 2**(11 + T)),  Ai = round(ai * 2**14)
T, the numerator shift, is the largest of 0..31 with every |Bi| <= 32767 and sum |Bi| <= 57343 (the
bound that keeps the device's int32 sums from overflowing), so a small numerator gain keeps 15
significant bits.
"""
from __future__ import annotations


import numpy as np

from .errors import ConversionError
from .iir import check_sos

MAX_BSUM = 57343
MAX_SHIFT = 31
A_SCALE = 1 << 14
PEAK_GRID = 8192  # frequencies at which partial-cascade gains are evaluated


def _b_shift(b: np.ndarray, section: int) -> tuple[int, np.ndarray]:
    for t in range(MAX_SHIFT, -1, -1):
        q = np.rint(b * 2.0 ** (11 + t))
        if np.abs(q).max() <= 32767 and np.abs(q).sum() <= MAX_BSUM:
            return t, q
    raise ConversionError(f"section {section}: b = {b.tolist()} is too large for Q15 (sum |b| must be "
                          f"below {MAX_BSUM / 2048:.2f} and every |b| below 16): scale this section's b down "
                          "and the gain elsewhere up")


def _spread_gain(a: np.ndarray) -> np.ndarray:
    """The same filter with the numerator gains moved so that every partial cascade (sections 0..k,
    k < last) peaks at gain 1 over frequency; the last section takes what is left. scipy puts the
    whole gain into section 0 (a lowpass of order 8 at 0.2: 2e-5), so its int16 output would keep
    almost no bits; spread, every section's output uses the int16 range like the signal."""
    from scipy.signal import sosfreqz
    out = a.copy()
    moved = 1.0
    for k in range(len(out) - 1):
        _, h = sosfreqz(out[:k + 1], worN=PEAK_GRID)
        peak = float(np.abs(h).max())
        if not np.isfinite(peak) or peak <= 0.0:
            break
        out[k, 0:3] /= peak
        moved *= peak
    out[-1, 0:3] *= moved
    return out


def iir_coefficients_q15(sos, spread_gain: bool = True) -> np.ndarray:
    """Flat int16 array (6 values per section: B0 B1 B2 T A1 A2, see the module docstring) for
    emliir_q15.new(array('h', ...)) from a scipy `sos` array.

    Raises ValueError for a malformed sos (shape, non-finite values, a0 != 1) and ConversionError
    (a ValueError) when a section does not fit: |a1| or |a2| >= 2 (not representable in Q14; a
    stable section has |a1| < 2 and |a2| < 1) or a numerator too large (sum |b| >= 28).

    spread_gain (default True): first move the numerator gains between sections so that every
    partial cascade peaks at gain 1 (the filter, the product of the sections, is unchanged); False
    keeps scipy's b values (all the gain in section 0, which loses precision in int16).
    """
    a = check_sos(sos)
    if spread_gain:
        a = _spread_gain(a)
    rows = []
    for s, row in enumerate(a):
        aq = np.rint(row[4:6] * A_SCALE)
        if np.abs(aq).max() > 32767:
            raise ConversionError(f"section {s}: a1 = {float(row[4])!r}, a2 = {float(row[5])!r} do not fit Q14 "
                                  "(each |a| must be below 2; a stable section has |a1| < 2 and |a2| < 1)")
        t, bq = _b_shift(row[0:3], s)
        rows.append([*bq, t, *aq])
    return np.array(rows, dtype=np.int16).reshape(-1)


def _as_q15(x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype != np.int16:
        raise TypeError(f"samples must be int16 (Q15), got {arr.dtype}")
    return arr


class IirQ15:
    """The device's emliir_q15 filter on the host: run() filters int16 samples exactly as the
    module does (same integer operations, same saturation), state kept across calls."""

    def __init__(self, coefficients) -> None:
        c = np.asarray(coefficients)
        if c.dtype != np.int16:
            raise TypeError(f"coefficients must be int16 (iir_coefficients_q15), got {c.dtype}")
        if c.ndim != 1 or c.size == 0 or c.size % 6:
            raise ValueError("coefficients must hold 6 values (B0 B1 B2 T A1 A2) per section")
        rows = c.reshape(-1, 6).astype(np.int64)
        for s, r in enumerate(rows):
            if not 0 <= r[3] <= MAX_SHIFT or np.abs(r[:3]).sum() > MAX_BSUM or r[4] == -32768 or r[5] == -32768:
                raise ValueError(f"section {s}: coefficients outside the Q15 limits (T in 0..31, "
                                 f"sum |B| <= {MAX_BSUM}, A != -32768)")
        self.sections = [tuple(int(v) for v in r) for r in rows]
        self.reset()

    def reset(self) -> None:
        self.state = [[0, 0, 0, 0] for _ in self.sections]

    def run(self, x) -> np.ndarray:
        """Filtered copy of the int16 samples x (the device filters in place)."""
        cur = [int(v) for v in _as_q15(x).reshape(-1)]
        for (b0, b1, b2, t, a1, a2), st in zip(self.sections, self.state):
            x1, x2, y1, y2 = st
            out = []
            for v in cur:
                acc = ((b0 * v + b1 * x1 + b2 * x2) >> t) - ((a1 * y1 + a2 * y2) >> 3)
                y = min(32767, max(-32768, (acc + 1024) >> 11))
                x2, x1, y2, y1 = x1, v, y1, y
                out.append(y)
            st[:] = [x1, x2, y1, y2]
            cur = out
        return np.array(cur, dtype=np.int16)


def iir_q15_filter(coefficients, x) -> np.ndarray:
    """One call of a fresh IirQ15(coefficients) on x: the device's output for these samples."""
    return IirQ15(coefficients).run(x)
