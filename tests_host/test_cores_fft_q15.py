"""cores/emlc_fft_q15: the Q15 FFT (per-stage halving) against emlmpy's host model (bit for bit) and
against numpy.fft (float64), argument errors, the Cortex-M0 build.

Accuracy bound (docs/emlfft.md), asserted here for n = 2 .. 1024 (and to 32768 on the host model):
the complex error |got - numpy.fft.fft(x)/n| (and ifft, rfft/n) is at most (log2(n) + 1) / 2 int16
LSBs for inputs with |re + i im| <= 32767 (full-scale real input included). Each stage rounds its
outputs (<= 0.5 LSB per component) and the twiddles are within 1.2 LSB of 32768 sin; an error made in
one stage is halved by every later stage, so the measured worst case grows about as 0.35 * log2(n)
(4.2 LSBs at n = 1024 over 20 random complex inputs, bound 5.5).
"""
from __future__ import annotations

import ctypes as C

import numpy as np
import pytest

import ccore
import cdsp
from cdsp import ERR_CAPACITY, ERR_NULL, ERR_SIZE, OK, FftQ15T, fptr
from emlmpy.fft_q15 import fft_q15, ifft_q15, rfft_q15, twiddle_table

SIZES = [1 << l for l in range(1, 11)]


def bound(n: int) -> float:
    return (np.log2(n) + 1) / 2


def make(n_max: int) -> tuple[FftQ15T, np.ndarray]:
    table = np.zeros(3 * (max(n_max, 4) // 4), dtype=np.int16)
    f = FftQ15T()
    assert cdsp.lib().emlc_fft_q15_init(C.byref(f), fptr(table), table.size, max(n_max, 4)) == OK
    return f, table


def c_complex(n: int, re: np.ndarray, im: np.ndarray, inverse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    f, _t = make(n)
    r, i = re.copy(), im.copy()
    fn = cdsp.lib().emlc_fft_q15_inverse if inverse else cdsp.lib().emlc_fft_q15_forward
    assert fn(C.byref(f), fptr(r), fptr(i), n) == OK
    return r, i


def c_rfft(n: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f, _t = make(n)
    r, i = np.zeros(n // 2 + 1, np.int16), np.zeros(n // 2 + 1, np.int16)
    assert cdsp.lib().emlc_fft_q15_rfft(C.byref(f), fptr(x), n, fptr(r), fptr(i), n // 2 + 1) == OK
    return r, i


def inputs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-scale real part, and an imaginary part keeping |re + i im| <= 32767 by shrinking both."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-32768, 32768, n).astype(np.int16)
    y = rng.integers(-32768, 32768, n)
    mag = np.hypot(x.astype(float), y)
    s = np.minimum(1.0, 32767 / np.maximum(mag, 1))
    return x, (np.trunc(x * s).astype(np.int16), np.trunc(y * s).astype(np.int16))


@pytest.mark.parametrize("n_max", [4, 8, 64, 1024, 32768])
def test_twiddle_table(n_max: int) -> None:
    f, table = make(n_max)
    assert np.array_equal(table, twiddle_table(n_max))
    k = np.arange(table.size)
    assert np.abs(table - 32768 * np.sin(2 * np.pi * k / n_max)).max() < 1.2
    assert np.abs(table).max() <= 32767


@pytest.mark.parametrize("n", SIZES)
def test_vs_host_and_numpy(n: int) -> None:
    for seed in range(6 if n <= 256 else 2):
        x, (re, im) = inputs(n, 1000 * seed + n)
        zero = np.zeros(n, np.int16)
        for a, b in ((x, zero), (re, im), (x // 8, zero)):
            a = a.astype(np.int16)
            got = c_complex(n, a, b)
            assert all(np.array_equal(g, h) for g, h in zip(got, fft_q15(a, b)))
            z = got[0] + 1j * got[1].astype(float)
            assert np.abs(z - np.fft.fft(a + 1j * b.astype(float)) / n).max() <= bound(n)
            inv = c_complex(n, a, b, inverse=True)
            assert all(np.array_equal(g, h) for g, h in zip(inv, ifft_q15(a, b)))
            z = inv[0] + 1j * inv[1].astype(float)
            assert np.abs(z - np.fft.ifft(a + 1j * b.astype(float))).max() <= bound(n)
        got = c_rfft(n, x)
        assert all(np.array_equal(g, h) for g, h in zip(got, rfft_q15(x)))
        assert np.abs(got[0] + 1j * got[1] - np.fft.rfft(x.astype(float)) / n).max() <= bound(n)
        assert got[1][0] == 0 and got[1][-1] == 0


@pytest.mark.parametrize("log2n", [12, 15])
def test_host_model_large(log2n: int) -> None:
    """The host model (bit-exact with the core, above) keeps the bound up to n = 32768."""
    n = 1 << log2n
    x, (re, im) = inputs(n, 7)
    r, i = fft_q15(re, im)
    assert np.abs(r + 1j * i - np.fft.fft(re + 1j * im.astype(float)) / n).max() <= bound(n)


def test_in_place_rfft_and_saturation() -> None:
    n = 64
    x, _ = inputs(n, 3)
    f, _t = make(n)
    buf = np.zeros(n, np.int16)
    buf[:] = x
    im = np.zeros(n // 2 + 1, np.int16)
    assert cdsp.lib().emlc_fft_q15_rfft(C.byref(f), fptr(buf), n, fptr(buf), fptr(im), n // 2 + 1) == OK
    want = rfft_q15(x)
    assert np.array_equal(buf[:n // 2 + 1], want[0]) and np.array_equal(im, want[1])
    # inputs beyond magnitude 32767 saturate (clamped, never wrapped): DC of re = im = -32768
    re = np.full(n, -32768, np.int16)
    r, i = c_complex(n, re, re.copy())
    assert r[0] == -32768 and i[0] == -32768 and not r[1:].any() and not i[1:].any()
    assert all(np.array_equal(g, h) for g, h in zip((r, i), fft_q15(re, re)))


def test_errors() -> None:
    L = cdsp.lib()
    t = np.zeros(48, np.int16)
    f = FftQ15T()
    assert L.emlc_fft_q15_init(None, fptr(t), 48, 64) == ERR_NULL
    assert L.emlc_fft_q15_init(C.byref(f), None, 48, 64) == ERR_NULL
    for bad in (0, 2, 3, 48, 1 << 16):
        assert L.emlc_fft_q15_init(C.byref(f), fptr(t), 1 << 20, bad) == ERR_SIZE, bad
    assert L.emlc_fft_q15_init(C.byref(f), fptr(t), 47, 64) == ERR_CAPACITY
    assert L.emlc_fft_q15_init(C.byref(f), fptr(t), 48, 64) == OK
    a, b = np.zeros(128, np.int16), np.zeros(128, np.int16)
    for fn in (L.emlc_fft_q15_forward, L.emlc_fft_q15_inverse):
        assert fn(None, fptr(a), fptr(b), 8) == ERR_NULL
        assert fn(C.byref(f), None, fptr(b), 8) == ERR_NULL
        assert fn(C.byref(f), fptr(a), None, 8) == ERR_NULL
        assert fn(C.byref(FftQ15T()), fptr(a), fptr(b), 8) == ERR_NULL
        assert fn(C.byref(f), fptr(a), fptr(b), 128) == ERR_SIZE  # larger than the table's n
        assert fn(C.byref(f), fptr(a), fptr(b), 12) == ERR_SIZE
        assert fn(C.byref(f), fptr(a), fptr(b), 0) == ERR_SIZE
        assert fn(C.byref(f), fptr(a), fptr(b), 1) == OK
    rf = L.emlc_fft_q15_rfft
    assert rf(None, fptr(a), 8, fptr(a), fptr(b), 5) == ERR_NULL
    assert rf(C.byref(f), fptr(a), 1, fptr(a), fptr(b), 5) == ERR_SIZE
    assert rf(C.byref(f), fptr(a), 12, fptr(a), fptr(b), 7) == ERR_SIZE
    assert rf(C.byref(f), fptr(a), 128, fptr(a), fptr(b), 65) == ERR_SIZE
    assert rf(C.byref(f), fptr(a), 8, fptr(a), fptr(b), 4) == ERR_CAPACITY
    assert rf(C.byref(f), fptr(a), 8, fptr(a), fptr(b), 5) == OK


def test_cross_compiles() -> None:
    """Every natmod cross compiler, warning-free, with no helper at all (no float, double, division or
    64-bit helper: integer instructions only)."""
    ccore.check_portable("emlc_fft_q15.c")
    for arch in ccore.CROSS:
        assert ccore.cross_undefined("emlc_fft_q15.c", arch) <= {"memset", "memcpy"}, arch


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (unicorn) gives the host's results bit for bit: table, forward, rfft."""
    m = ccore.Armv6m(["emlc_fft_q15.c"])
    n = 256
    x, (re, im) = inputs(n, 11)
    f, table = m.alloc(12), m.alloc(2 * 3 * n // 4)
    assert m.call("emlc_fft_q15_init", f, table, 3 * n // 4, n) == OK
    assert m.read(table, 2 * 3 * n // 4) == twiddle_table(n).tobytes()
    mre, mim = m.alloc(re.tobytes()), m.alloc(im.tobytes())
    assert m.call("emlc_fft_q15_forward", f, mre, mim, n) == OK
    want = fft_q15(re, im)
    assert m.read(mre, 2 * n) == want[0].tobytes() and m.read(mim, 2 * n) == want[1].tobytes()
    mx, r, i = m.alloc(x.tobytes()), m.alloc(2 * (n // 2 + 1)), m.alloc(2 * (n // 2 + 1))
    assert m.call("emlc_fft_q15_rfft", f, mx, n, r, i, n // 2 + 1) == OK
    want = rfft_q15(x)
    assert m.read(r, n + 2) == want[0].tobytes() and m.read(i, n + 2) == want[1].tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
