"""cores/emlc_iir: biquad cascade against scipy.signal.sosfilt, streaming, reset, argument errors.

Reference: scipy.signal.sosfilt in float64 with the designed (float64) sos on the same float32 input.
The core gets the sos rounded to float32 and computes in float32, so the difference is coefficient
rounding plus float32 arithmetic rounding (both amplified by the pole radius); it must stay within
1e-5 * max|reference output| ("relative to the signal's max magnitude"). Worst measured over the
designs below: 5.2e-6 (ellip / cheby orders 7-8).
"""
from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from scipy import signal

import ccore
import cdsp
from cdsp import ERR_CAPACITY, ERR_NULL, ERR_SIZE, ERR_VALUE, OK, IirT, fptr

REL_TOL = 1e-5
N_SAMPLES = 4000


class Iir:
    """Keeps the coefficient and state arrays alive alongside the C struct."""

    def __init__(self, sos: np.ndarray) -> None:
        self.sos = np.ascontiguousarray(sos, dtype=np.float32)
        self.state = np.full(2 * len(self.sos), np.nan, dtype=np.float32)  # init must zero it
        self.f = IirT()
        err = cdsp.lib().emlc_iir_init(C.byref(self.f), fptr(self.sos), self.sos.size, len(self.sos),
                                       fptr(self.state), self.state.size)
        assert err == OK

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        y = np.empty_like(x)
        assert cdsp.lib().emlc_iir_process(C.byref(self.f), fptr(x), fptr(y), x.size) == OK
        return y


def designs() -> list[tuple[str, np.ndarray]]:
    out = []
    for order in range(1, 9):
        out += [
            (f"butter{order}-low", signal.butter(order, 0.2, output="sos")),
            (f"butter{order}-high", signal.butter(order, 0.3, btype="highpass", output="sos")),
            (f"cheby1-{order}-low", signal.cheby1(order, 1.0, 0.25, output="sos")),
            (f"cheby2-{order}-high", signal.cheby2(order, 40.0, 0.35, btype="highpass", output="sos")),
            (f"ellip{order}-low", signal.ellip(order, 0.5, 50.0, 0.3, output="sos")),
            (f"butter{order}-band", signal.butter(order, [0.1, 0.4], btype="bandpass", output="sos")),
            (f"ellip{order}-stop", signal.ellip(order, 0.5, 40.0, [0.2, 0.5], btype="bandstop", output="sos")),
        ]
    return out


DESIGNS = designs()
if ccore.SANITIZED:
    DESIGNS = DESIGNS[::5]


def make_signal(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N_SAMPLES)
    x = rng.standard_normal(N_SAMPLES) + 3 * np.sin(2 * np.pi * 0.01 * t) + 0.5
    return x.astype(np.float32)


@pytest.mark.parametrize("name,sos", DESIGNS, ids=[d[0] for d in DESIGNS])
def test_vs_sosfilt(name: str, sos: np.ndarray) -> None:
    x = make_signal()
    filt = Iir(sos)
    ref = signal.sosfilt(sos, x.astype(np.float64))
    y = filt.process(x)
    err = np.abs(y - ref).max()
    assert err <= REL_TOL * np.abs(ref).max(), (name, err / np.abs(ref).max())

    # streaming: random chunk sizes (including empty chunks) give bit-identical output
    rng = np.random.default_rng(len(name))
    filt2 = Iir(sos)
    cuts = np.sort(rng.integers(0, N_SAMPLES, size=25))
    parts = [filt2.process(c) for c in np.split(x, cuts)]
    assert np.array_equal(np.concatenate(parts), y)

    # reset: same output again; in place (in == out) too
    assert cdsp.lib().emlc_iir_reset(C.byref(filt.f)) == OK
    assert not filt.state.any()
    buf = x.copy()
    assert cdsp.lib().emlc_iir_process(C.byref(filt.f), fptr(buf), fptr(buf), buf.size) == OK
    assert np.array_equal(buf, y)


def test_state_matches_scipy_zi() -> None:
    """After a chunk, the core's (z0, z1) per section equal scipy's final zf (same TDF-II state)."""
    sos = signal.butter(4, 0.15, output="sos")
    filt = Iir(sos)
    x = make_signal(3)[:500]
    filt.process(x)
    _, zf = signal.sosfilt(filt.sos.astype(np.float64), x.astype(np.float64), zi=np.zeros((len(sos), 2)))
    assert np.abs(filt.state.reshape(-1, 2) - zf).max() <= REL_TOL * np.abs(zf).max()


def test_errors() -> None:
    L = cdsp.lib()
    sos = np.ascontiguousarray(signal.butter(4, 0.2, output="sos"), dtype=np.float32)  # 2 sections
    st = np.zeros(4, dtype=np.float32)
    f = IirT()
    init = L.emlc_iir_init
    assert init(None, fptr(sos), 12, 2, fptr(st), 4) == ERR_NULL
    assert init(C.byref(f), None, 12, 2, fptr(st), 4) == ERR_NULL
    assert init(C.byref(f), fptr(sos), 12, 2, None, 4) == ERR_NULL
    assert init(C.byref(f), fptr(sos), 12, 0, fptr(st), 4) == ERR_SIZE  # no sections
    assert init(C.byref(f), fptr(sos), 11, 2, fptr(st), 4) == ERR_SIZE  # sos length mismatch
    assert init(C.byref(f), fptr(sos), 6, 2, fptr(st), 4) == ERR_SIZE
    assert init(C.byref(f), fptr(sos), 12, 1 << 62, fptr(st), 4) == ERR_SIZE  # 6*n would wrap
    assert init(C.byref(f), fptr(sos), 12, 2, fptr(st), 3) == ERR_CAPACITY  # state too small
    for pos, val in [(3, 2.0), (9, 0.5), (9, 0.0), (0, np.nan), (4, np.inf), (11, -np.inf)]:
        bad = sos.copy()
        bad.flat[pos] = val
        assert init(C.byref(f), fptr(bad), 12, 2, fptr(st), 4) == ERR_VALUE, (pos, val)
    assert init(C.byref(f), fptr(sos), 12, 2, fptr(st), 4) == OK
    x = np.ones(8, dtype=np.float32)
    y = np.zeros(8, dtype=np.float32)
    proc = L.emlc_iir_process
    assert proc(None, fptr(x), fptr(y), 8) == ERR_NULL
    assert proc(C.byref(f), None, fptr(y), 8) == ERR_NULL
    assert proc(C.byref(f), fptr(x), None, 8) == ERR_NULL
    assert proc(C.byref(IirT()), fptr(x), fptr(y), 8) == ERR_NULL  # never initialised
    assert proc(C.byref(f), fptr(x), fptr(y), 0) == OK  # empty chunk is valid
    assert L.emlc_iir_reset(None) == ERR_NULL
    assert L.emlc_iir_reset(C.byref(IirT())) == ERR_NULL


def test_cross_compiles() -> None:
    """cores/emlc_iir.c builds warning-free for every natmod cross compiler, without libm, double or division
    helpers (ccore.check_portable)."""
    ccore.check_portable("emlc_iir.c")


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (soft float, run in unicorn) gives bit-identical output, also when streamed."""
    m = ccore.Armv6m(["emlc_iir.c"])
    sos = np.ascontiguousarray(signal.ellip(8, 0.5, 50.0, 0.3, output="sos"), dtype=np.float32)
    x = make_signal(5)[:1000]
    f, msos, st = m.alloc(12), m.alloc(sos.tobytes()), m.alloc(4 * sos.size // 3)  # emlc_iir_t: 12 bytes
    assert m.call("emlc_iir_init", f, msos, sos.size, len(sos), st, sos.size // 3) == OK
    buf = m.alloc(x.tobytes())
    assert m.call("emlc_iir_process", f, buf, buf, 600) == OK
    assert m.call("emlc_iir_process", f, buf + 4 * 600, buf + 4 * 600, 400) == OK
    assert m.read(buf, x.nbytes) == Iir(sos).process(x).tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
