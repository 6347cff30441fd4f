"""cores/emlc_iir_q15: the Q15 biquad cascade against emlmpy's host filter (bit for bit) and against
scipy.signal.sosfilt (float64, on the same int16 input), streaming, reset, saturation, argument errors.

Accuracy: the designs of test_cores_iir.py (Butterworth, Chebyshev I/II, elliptic; low, high, band,
stop; orders 1-8), coefficients from emlmpy.iir_coefficients_q15 (gains spread), input: noise plus a
sine scaled to a peak of 0.25 of full scale (8192). The largest error per order, in int16 LSBs, must
stay within ERR_LSB (the bounds stated in docs/emliir.md; measured values are in the comments).
"""
from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from scipy import signal

import ccore
import cdsp
import emlmpy
from cdsp import ERR_CAPACITY, ERR_NULL, ERR_SIZE, ERR_VALUE, OK, IirQ15T, fptr
from emlmpy.iir_q15 import IirQ15

N_SAMPLES = 4000
PEAK = 8192  # input peak: 0.25 of full scale
# worst |y - sosfilt| in LSBs over the 7 designs of each order (measured: 3.6 8.5 5.5 10.3 9.9 15.7 22.2 29.6)
ERR_LSB = {1: 5, 2: 11, 3: 8, 4: 13, 5: 13, 6: 20, 7: 28, 8: 37}


class IirC:
    """The C core through ctypes; keeps the coefficient and state arrays alive."""

    def __init__(self, coef: np.ndarray) -> None:
        self.sos = np.ascontiguousarray(coef, dtype=np.int16)
        self.state = np.full(4 * (self.sos.size // 6), 12345, dtype=np.int16)  # init must zero it
        self.f = IirQ15T()
        err = cdsp.lib().emlc_iir_q15_init(C.byref(self.f), fptr(self.sos), self.sos.size, self.sos.size // 6,
                                           fptr(self.state), self.state.size)
        assert err == OK

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.int16)
        y = np.empty_like(x)
        assert cdsp.lib().emlc_iir_q15_process(C.byref(self.f), fptr(x), fptr(y), x.size) == OK
        return y


def designs() -> list[tuple[str, int, np.ndarray]]:
    out = []
    for order in range(1, 9):
        out += [
            (f"butter{order}-low", order, signal.butter(order, 0.2, output="sos")),
            (f"butter{order}-high", order, signal.butter(order, 0.3, btype="highpass", output="sos")),
            (f"cheby1-{order}-low", order, signal.cheby1(order, 1.0, 0.25, output="sos")),
            (f"cheby2-{order}-high", order, signal.cheby2(order, 40.0, 0.35, btype="highpass", output="sos")),
            (f"ellip{order}-low", order, signal.ellip(order, 0.5, 50.0, 0.3, output="sos")),
            (f"butter{order}-band", order, signal.butter(order, [0.1, 0.4], btype="bandpass", output="sos")),
            (f"ellip{order}-stop", order, signal.ellip(order, 0.5, 40.0, [0.2, 0.5], btype="bandstop",
                                                     output="sos")),
        ]
    return out


DESIGNS = designs()
if ccore.SANITIZED:
    DESIGNS = DESIGNS[::5]


def make_signal(seed: int = 0, n: int = N_SAMPLES) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = rng.standard_normal(n) + 3 * np.sin(2 * np.pi * 0.01 * t) + 0.5
    return np.round(x / np.abs(x).max() * PEAK).astype(np.int16)


@pytest.mark.parametrize("name,order,sos", DESIGNS, ids=[d[0] for d in DESIGNS])
def test_vs_host_and_sosfilt(name: str, order: int, sos: np.ndarray) -> None:
    x = make_signal()
    coef = emlmpy.iir_coefficients_q15(sos)
    y = IirC(coef).process(x)
    assert np.array_equal(y, IirQ15(coef).run(x))  # the host filter is the device's, bit for bit
    ref = signal.sosfilt(sos, x.astype(np.float64))
    err = np.abs(y - ref).max()
    assert err <= ERR_LSB[order], (name, err)

    # streaming: random chunk sizes (empty chunks included) give the same output
    rng = np.random.default_rng(len(name))
    filt = IirC(coef)
    cuts = np.sort(rng.integers(0, N_SAMPLES, size=25))
    assert np.array_equal(np.concatenate([filt.process(c) for c in np.split(x, cuts)]), y)
    # reset: same output again, in place (in == out)
    assert cdsp.lib().emlc_iir_q15_reset(C.byref(filt.f)) == OK
    assert not filt.state.any()
    buf = x.copy()
    assert cdsp.lib().emlc_iir_q15_process(C.byref(filt.f), fptr(buf), fptr(buf), buf.size) == OK
    assert np.array_equal(buf, y)


def test_saturates_instead_of_wrapping() -> None:
    """Outputs beyond int16 clamp to +-32767/-32768 (the host filter agrees), also inside a cascade,
    and full-scale inputs of either sign never overflow the int32 sums (bit-exact with Python ints)."""
    gain2 = np.array([[2.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    coef = emlmpy.iir_coefficients_q15(gain2)
    x = np.array([30000, -30000, 100, -32768, 32767], dtype=np.int16)
    assert IirC(coef).process(x).tolist() == [32767, -32768, 200, -32768, 32767]
    # extreme coefficients within the limits, full-scale alternating input: C == Python ints
    rng = np.random.default_rng(4)
    for _ in range(50):
        t = int(rng.integers(0, 32))
        bs = rng.integers(-32767, 32768, 3)
        bs = np.trunc(bs * min(1.0, 57343 / np.abs(bs).sum())).astype(np.int64)  # sum |B| <= 57343
        row = np.array([*bs, t, *rng.integers(-32767, 32768, 2)], dtype=np.int16)
        coef = np.concatenate([row, row])
        x = rng.choice(np.array([-32768, 32767, 0], dtype=np.int16), 300)
        assert np.array_equal(IirC(coef).process(x), IirQ15(coef).run(x))


def test_errors() -> None:
    L = cdsp.lib()
    coef = emlmpy.iir_coefficients_q15(signal.butter(4, 0.2, output="sos"))  # 2 sections
    st = np.zeros(8, dtype=np.int16)
    f = IirQ15T()
    init = L.emlc_iir_q15_init
    assert init(None, fptr(coef), 12, 2, fptr(st), 8) == ERR_NULL
    assert init(C.byref(f), None, 12, 2, fptr(st), 8) == ERR_NULL
    assert init(C.byref(f), fptr(coef), 12, 2, None, 8) == ERR_NULL
    assert init(C.byref(f), fptr(coef), 12, 0, fptr(st), 8) == ERR_SIZE
    assert init(C.byref(f), fptr(coef), 11, 2, fptr(st), 8) == ERR_SIZE
    assert init(C.byref(f), fptr(coef), 12, 1 << 62, fptr(st), 8) == ERR_SIZE
    assert init(C.byref(f), fptr(coef), 12, 2, fptr(st), 7) == ERR_CAPACITY
    for pos, val in [(3, -1), (9, 32), (4, -32768), (11, -32768)]:
        bad = coef.copy()
        bad[pos] = val
        assert init(C.byref(f), fptr(bad), 12, 2, fptr(st), 8) == ERR_VALUE, (pos, val)
    bad = coef.copy()
    bad[0:3] = [20000, -20000, 17344]  # sum 57344: one over the limit
    assert init(C.byref(f), fptr(bad), 12, 2, fptr(st), 8) == ERR_VALUE
    bad[2] = 17343
    assert init(C.byref(f), fptr(bad), 12, 2, fptr(st), 8) == OK
    assert init(C.byref(f), fptr(coef), 12, 2, fptr(st), 8) == OK
    x = np.ones(8, dtype=np.int16)
    y = np.zeros(8, dtype=np.int16)
    proc = L.emlc_iir_q15_process
    assert proc(None, fptr(x), fptr(y), 8) == ERR_NULL
    assert proc(C.byref(f), None, fptr(y), 8) == ERR_NULL
    assert proc(C.byref(f), fptr(x), None, 8) == ERR_NULL
    assert proc(C.byref(IirQ15T()), fptr(x), fptr(y), 8) == ERR_NULL
    assert proc(C.byref(f), fptr(x), fptr(y), 0) == OK
    assert L.emlc_iir_q15_reset(None) == ERR_NULL
    assert L.emlc_iir_q15_reset(C.byref(IirQ15T())) == ERR_NULL


def test_cross_compiles() -> None:
    """Builds warning-free for every natmod cross compiler with no helper at all: no float, no double,
    no division, no 64-bit arithmetic (only integer instructions; memset/memcpy allowed)."""
    ccore.check_portable("emlc_iir_q15.c")
    for arch in ccore.CROSS:
        assert ccore.cross_undefined("emlc_iir_q15.c", arch) <= {"memset", "memcpy"}, arch


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (run in unicorn) gives the host's output bit for bit, also streamed."""
    m = ccore.Armv6m(["emlc_iir_q15.c"])
    coef = emlmpy.iir_coefficients_q15(signal.ellip(8, 0.5, 50.0, 0.3, output="sos"))
    x = make_signal(5, 1000)
    f, msos, st = m.alloc(12), m.alloc(coef.tobytes()), m.alloc(2 * 4 * (coef.size // 6))
    assert m.call("emlc_iir_q15_init", f, msos, coef.size, coef.size // 6, st, 4 * (coef.size // 6)) == OK
    buf = m.alloc(x.tobytes())
    assert m.call("emlc_iir_q15_process", f, buf, buf, 600) == OK
    assert m.call("emlc_iir_q15_process", f, buf + 2 * 600, buf + 2 * 600, 400) == OK
    assert m.read(buf, x.nbytes) == IirQ15(coef).run(x).tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
