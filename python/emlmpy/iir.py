"""IIR filter coefficients for the emliir module."""
from __future__ import annotations

import numpy as np


def check_sos(sos) -> np.ndarray:
    """`sos` as a float64 array, checked: shape (n_sections, 6) with n_sections >= 1, finite values
    and a0 == 1 in every section (scipy's normalised form, which both device filters assume);
    ValueError otherwise. Shared by iir_coefficients and iir_q15.iir_coefficients_q15."""
    a = np.asarray(sos, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 6 or a.shape[0] < 1:
        raise ValueError(f"sos must have shape (n_sections, 6) with n_sections >= 1, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("sos contains NaN or infinite values")
    bad = np.nonzero(np.abs(a[:, 3] - 1.0) > 1e-12)[0]
    if bad.size:
        raise ValueError(f"section {int(bad[0])} has a0 = {float(a[bad[0], 3])!r}; a0 must be 1 "
                         "(normalise: divide b and a of the section by a0)")
    return a


def iir_coefficients(sos) -> np.ndarray:
    """Flat float32 array (6 values per section: b0 b1 b2 a0 a1 a2) from a scipy `sos` array.

    Raises ValueError unless sos has shape (n_sections, 6), n_sections >= 1, finite values and
    a0 == 1 in every section (scipy's normalised form, which the device filter assumes).
    """
    a = check_sos(sos)
    out = a.astype(np.float32).reshape(-1)
    if not np.all(np.isfinite(out)):
        raise ValueError("sos values overflow float32")
    return out
