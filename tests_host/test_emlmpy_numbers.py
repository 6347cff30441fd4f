"""emlmpy's exact decimal <-> float32 conversions against the C library's strtof."""
from __future__ import annotations

import ctypes
import ctypes.util
from decimal import Decimal
from fractions import Fraction

import numpy as np

from emlmpy.numbers import decimal_to_float32, format_float32

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.strtof.restype = ctypes.c_float
libc.strtof.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]


def strtof_bits(s: str) -> int:
    return int(np.float32(libc.strtof(s.encode(), None)).view(np.uint32))


def bits(f) -> int:
    return int(np.asarray(f, dtype=np.float32).view(np.uint32))


@np.errstate(all="ignore")
def test_decimal_to_float32_matches_strtof():
    rng = np.random.default_rng(11)
    texts = ["0", "-0.0", "3.5", "0.1", "1e-45", "7.006e-46", "7.00649232162408535461864791e-46",
             "3.4028235e38", "3.40282356e38", "1.17549435e-38", ".5", "5.", "-2.5e-3"]
    for _ in range(400):
        f = np.float32(rng.normal() * 10.0 ** rng.integers(-40, 38))
        nxt = np.nextafter(f, np.float32(np.inf))
        if not np.isfinite(nxt):
            continue
        mid = (Fraction(float(f)) + Fraction(float(nxt))) / 2  # exact midpoint: ties to even
        texts.append(str(Decimal(float(mid))))  # the exact midpoint (25 bits fit a double)
        for q in (mid + Fraction(1, 10 ** 60), mid - Fraction(1, 10 ** 60)):
            texts.append(f"{float(q):.17e}")
        texts.append(f"{float(f):.6f}")
        texts.append(f"{float(f):.9g}")
    for t in texts:
        assert bits(decimal_to_float32(t)) == strtof_bits(t), t


@np.errstate(all="ignore")
def test_format_float32_round_trips():
    rng = np.random.default_rng(12)
    raw = rng.integers(0, 2 ** 32, size=3000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    for f in raw[np.isfinite(raw)]:
        s = format_float32(f)
        assert len(s) <= 16 and "n" not in s
        assert bits(decimal_to_float32(s)) == bits(f) == strtof_bits(s), s
