"""Exact text <-> float32 conversions used by the CSV reader and writer."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from .keys import quiet


@quiet
def format_float32(x: float) -> str:
    """Shortest decimal that reads back (decimal -> nearest float32) as exactly this float32."""
    f = np.float32(x)
    s = str(f)
    if s in ("nan", "inf", "-inf"):
        raise ValueError(f"cannot write non-finite value {s}")
    if decimal_to_float32(s).tobytes() != f.tobytes():  # never seen, but stay exact
        s = repr(float(f))
    return s


@quiet
def decimal_to_float32(s: str) -> np.float32:
    """The float32 nearest to the decimal number s (ties to even), like a C compiler reads `s`f.

    Raises ValueError for text that is not a decimal number.
    """
    text = s.strip()
    x = float(text)
    f = np.float32(x)
    if not np.isfinite(x) or not np.isfinite(f):
        return f
    if abs(x) < 2.0 ** -151:  # below half the smallest subnormal: rounds to a signed zero
        return np.float32(0.0) * np.float32(np.copysign(1.0, x))
    exact = Fraction(text)
    best = f
    best_err = abs(Fraction(float(f)) - exact)
    for c in (np.nextafter(f, np.float32(-np.inf)), np.nextafter(f, np.float32(np.inf))):
        if not np.isfinite(c):
            continue
        err = abs(Fraction(float(c)) - exact)
        even = (int(np.asarray(c).view(np.uint32)) & 1) == 0
        if err < best_err or (err == best_err and even):
            best, best_err = c, err
    return np.float32(best)
