"""emlmpy's Q15 helpers: iir_coefficients_q15 (format, shift choice, gain spreading, refusals with
clear messages) and the host models' argument checks. Bit-exactness with the device and accuracy
against scipy/numpy: test_cores_iir_q15.py, test_cores_fft_q15.py, test_modules_q15.py."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

import emlmpy
from emlmpy import ConversionError
from emlmpy.iir_q15 import MAX_BSUM


@pytest.mark.parametrize("sos", [signal.butter(8, 0.2, output="sos"), signal.cheby2(6, 40, 0.35, "high", output="sos"),
                                 signal.ellip(5, 0.5, 40, [0.2, 0.5], "bandstop", output="sos")])
@pytest.mark.parametrize("spread", [True, False])
def test_format(sos: np.ndarray, spread: bool) -> None:
    """Every row: T in 0..31 the largest shift within the limits, A = round(a * 2^14); the quantized
    filter's response equals the design's (within coefficient rounding)."""
    c = emlmpy.iir_coefficients_q15(sos, spread_gain=spread)
    assert c.dtype == np.int16 and c.size == 6 * len(sos)
    rows = c.reshape(-1, 6).astype(np.int64)
    assert np.array_equal(rows[:, 4:6], np.rint(sos[:, 4:6] * 16384))
    for r in rows:
        t = r[3]
        assert 0 <= t <= 31 and np.abs(r[:3]).sum() <= MAX_BSUM
        if t < 31:  # one more bit would break a limit
            assert np.abs(r[:3]).max() * 2 > 32767 or np.abs(r[:3]).sum() * 2 > MAX_BSUM - 3
    q = np.column_stack([rows[:, :3] / 2.0 ** (11 + rows[:, 3:4]), np.ones(len(rows)), rows[:, 4:6] / 16384])
    _, h = signal.sosfreqz(sos, 512)
    _, hq = signal.sosfreqz(q, 512)
    assert np.abs(hq - h).max() <= 0.05 * np.abs(h).max()
    if spread:  # every partial cascade but the whole peaks at 1
        for k in range(1, len(q)):
            assert abs(np.abs(signal.sosfreqz(q[:k], 4096)[1]).max() - 1) < 2e-3


def test_refusals() -> None:
    with pytest.raises(ConversionError, match="section 0: a1 = .* do not fit Q14"):
        emlmpy.iir_coefficients_q15([[1, 0, 0, 1, -2.0, 1.0]])
    with pytest.raises(ConversionError, match="section 1: b = .* too large for Q15"):
        emlmpy.iir_coefficients_q15([[1, 0, 0, 1, 0, 0], [10, 10, 10, 1, 0, 0]], spread_gain=False)
    with pytest.raises(ValueError, match="a0 must be 1"):
        emlmpy.iir_coefficients_q15([[1, 0, 0, 2, 0, 0]])
    with pytest.raises(ValueError, match="shape"):
        emlmpy.iir_coefficients_q15([1, 0, 0, 1, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        emlmpy.iir_coefficients_q15([[np.nan, 0, 0, 1, 0, 0]])
    ok = emlmpy.iir_coefficients_q15([[9, 9, 9.5, 1, 0, 0]], spread_gain=False)  # sum 27.5 < 28 fits at T = 0
    assert ok.tolist() == [18432, 18432, 19456, 0, 0, 0]


def test_host_model_arguments() -> None:
    c = emlmpy.iir_coefficients_q15(signal.butter(2, 0.2, output="sos"))
    with pytest.raises(TypeError):
        emlmpy.IirQ15(c.astype(np.float32))
    with pytest.raises(ValueError, match="6 values"):
        emlmpy.IirQ15(c[:5])
    bad = c.copy()
    bad[3] = 40
    with pytest.raises(ValueError, match="limits"):
        emlmpy.IirQ15(bad)
    f = emlmpy.IirQ15(c)
    with pytest.raises(TypeError):
        f.run(np.zeros(4))
    assert f.run(np.zeros(0, np.int16)).size == 0
    with pytest.raises(ValueError, match="power of two"):
        emlmpy.fft_q15(np.zeros(12, np.int16), np.zeros(12, np.int16))
    with pytest.raises(ValueError, match="same length"):
        emlmpy.fft_q15(np.zeros(8, np.int16), np.zeros(4, np.int16))
    with pytest.raises(TypeError):
        emlmpy.rfft_q15(np.zeros(8))
    with pytest.raises(ValueError, match="power of two"):
        emlmpy.rfft_q15(np.zeros(1, np.int16))
