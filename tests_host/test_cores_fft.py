"""cores/emlc_fft: complex FFT, inverse and real FFT against numpy.fft, plus argument errors.

The reference is numpy's float64 FFT of the same float32 input. Two error checks per transform:
1. Rigorous (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., Thm 24.2): a radix-2
   FFT computed in precision u = 2^-24 satisfies ||fl(X) - X||_2 <= L * eta / (1 - L * eta) * ||X||_2,
   L = log2(n), eta = mu + gamma_4 * (sqrt(2) + mu), gamma_4 ~= 4u, mu = twiddle error (<= 2u, checked
   in test_twiddle_table_accuracy), so eta <= 8u: we assert ||err||_2 <= 8u * L * ||X||_2.
   rfft adds a pack/split step (two more butterfly-like stages): L = log2(n) + 2.
   The inverse runs the same transform on swapped re/im and scales by an exact power of two, so the
   same bound holds relative to ||ifft(X)||_2.
2. Typical (random inputs): each output is a sum of rounding errors of size <= u * |partial sums|
   over L stages, which grows at most like L * u * max|X| (in practice like sqrt(L) * u * rms|X|):
   we assert max|err| <= 4u * L * max|X|. Measured margins are about 10x (2e-7 * max|X| at n = 65536).
   This catches a single wrong butterfly that the 2-norm bound might dilute for large n.
"""
from __future__ import annotations

import ctypes as C

import numpy as np
import pytest

import ccore
import cdsp
from cdsp import ERR_CAPACITY, ERR_NULL, ERR_SIZE, OK, FftT, fptr

U = 2.0 ** -24


def EMLC_TABLE(n_max: int) -> int:
    """EMLC_FFT_TABLE_LEN(n_max): floats in the twiddle table."""
    return 3 * (n_max // 4)
MAX_LOG2 = 12 if ccore.SANITIZED else 16  # 4096 required; 65536 also supported and tested


def make_fft(n_max: int) -> tuple[FftT, np.ndarray]:
    table = np.zeros(3 * n_max // 4, dtype=np.float32)
    f = FftT()
    assert cdsp.lib().emlc_fft_init(C.byref(f), fptr(table), table.size, n_max) == OK
    return f, table  # keep table alive with f


def check(got: np.ndarray, ref: np.ndarray, stages: int) -> None:
    """Both error bounds of the module docstring, with L = stages (at least 1)."""
    L = max(stages, 1)
    err = got - ref
    assert np.linalg.norm(err) <= 8 * U * L * np.linalg.norm(ref), (ref.size, np.linalg.norm(err))
    assert np.abs(err).max() <= 4 * U * L * np.abs(ref).max(), (ref.size, np.abs(err).max())


def rand_complex(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return (rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32))


@pytest.fixture(scope="module")
def big() -> tuple[FftT, np.ndarray]:
    return make_fft(1 << MAX_LOG2)


def test_twiddle_table_accuracy() -> None:
    for log2n in (2, 3, 5, 12, MAX_LOG2):
        n = 1 << log2n
        _, table = make_fft(n)
        k = np.arange(3 * n // 4)
        exact = np.sin(2 * np.pi * k / n)
        err = np.abs(table.astype(np.float64) - exact)
        assert err.max() <= 2 * U, (n, err.max())  # mu <= 2u used in the bound above
        # values the algorithm relies on being exact: sin 0, sin pi/2 = cos 0, sin pi = cos pi/2
        assert table[0] == 0.0 and table[n // 4] == 1.0 and table[n // 2] == 0.0


@pytest.mark.parametrize("log2n", range(0, MAX_LOG2 + 1))
def test_forward_inverse_vs_numpy(big: tuple[FftT, np.ndarray], log2n: int) -> None:
    f, _ = big
    n = 1 << log2n
    rng = np.random.default_rng(log2n)
    xr, xi = rand_complex(rng, n)
    x = xr.astype(np.float64) + 1j * xi.astype(np.float64)
    ref = np.fft.fft(x)
    re, im = xr.copy(), xi.copy()
    assert cdsp.lib().emlc_fft_forward(C.byref(f), fptr(re), fptr(im), n) == OK
    check(re + 1j * im.astype(np.float64), ref, log2n)

    refi = np.fft.ifft(x)
    re, im = xr.copy(), xi.copy()
    assert cdsp.lib().emlc_fft_inverse(C.byref(f), fptr(re), fptr(im), n) == OK
    check(re + 1j * im.astype(np.float64), refi, log2n)


@pytest.mark.parametrize("log2n", range(1, MAX_LOG2 + 1))
def test_rfft_vs_numpy(big: tuple[FftT, np.ndarray], log2n: int) -> None:
    f, _ = big
    n = 1 << log2n
    rng = np.random.default_rng(100 + log2n)
    x = rng.standard_normal(n).astype(np.float32)
    ref = np.fft.rfft(x.astype(np.float64))
    re = np.full(n // 2 + 1, np.nan, dtype=np.float32)
    im = np.full(n // 2 + 1, np.nan, dtype=np.float32)
    assert cdsp.lib().emlc_fft_rfft(C.byref(f), fptr(x), n, fptr(re), fptr(im), n // 2 + 1) == OK
    check(re + 1j * im.astype(np.float64), ref, log2n + 2)
    assert im[0] == 0.0 and im[n // 2] == 0.0
    # in place: x given as re (re holds n floats)
    buf = x.copy()
    im2 = np.zeros(n // 2 + 1, dtype=np.float32)
    assert cdsp.lib().emlc_fft_rfft(C.byref(f), fptr(buf), n, fptr(buf), fptr(im2), n // 2 + 1) == OK
    assert np.array_equal(buf[: n // 2 + 1], re) and np.array_equal(im2, im)


def test_signals_and_roundtrip(big: tuple[FftT, np.ndarray]) -> None:
    """A pure tone lands in one bin; ifft(fft(x)) returns x; a small table equals a strided big one."""
    f, _ = big
    n = 4096
    t = np.arange(n)
    x = np.cos(2 * np.pi * 37 * t / n).astype(np.float32)
    re, im = x.copy(), np.zeros(n, dtype=np.float32)
    assert cdsp.lib().emlc_fft_forward(C.byref(f), fptr(re), fptr(im), n) == OK
    mag = np.hypot(re, im)
    assert abs(mag[37] - n / 2) < 1e-3 * n and abs(mag[n - 37] - n / 2) < 1e-3 * n
    mag[[37, n - 37]] = 0
    assert mag.max() < 1e-3
    assert cdsp.lib().emlc_fft_inverse(C.byref(f), fptr(re), fptr(im), n) == OK
    assert np.abs(re - x).max() < 1e-5 and np.abs(im).max() < 1e-5

    small, _tab = make_fft(n)
    rng = np.random.default_rng(7)
    xr, xi = rand_complex(rng, n)
    a = (xr.copy(), xi.copy())
    b = (xr.copy(), xi.copy())
    assert cdsp.lib().emlc_fft_forward(C.byref(small), fptr(a[0]), fptr(a[1]), n) == OK
    assert cdsp.lib().emlc_fft_forward(C.byref(f), fptr(b[0]), fptr(b[1]), n) == OK
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_errors() -> None:
    L = cdsp.lib()
    table = np.zeros(3 * 64 // 4, dtype=np.float32)
    f = FftT()
    # init
    assert L.emlc_fft_init(None, fptr(table), table.size, 64) == ERR_NULL
    assert L.emlc_fft_init(C.byref(f), None, table.size, 64) == ERR_NULL
    for bad in (0, 1, 2, 3, 6, 48, 100):
        assert L.emlc_fft_init(C.byref(f), fptr(table), table.size, bad) == ERR_SIZE, bad
    assert L.emlc_fft_init(C.byref(f), fptr(table), 1 << 20, 1 << 25) == ERR_SIZE  # > EMLC_FFT_MAX_N
    assert L.emlc_fft_init(C.byref(f), fptr(table), table.size - 1, 64) == ERR_CAPACITY
    assert L.emlc_fft_init(C.byref(f), fptr(table), table.size, 128) == ERR_CAPACITY
    # an uninitialised (zeroed) struct is rejected, not dereferenced
    re = np.zeros(64, dtype=np.float32)
    im = np.zeros(64, dtype=np.float32)
    for fn in (L.emlc_fft_forward, L.emlc_fft_inverse):
        assert fn(C.byref(FftT()), fptr(re), fptr(im), 64) == ERR_NULL
    assert L.emlc_fft_init(C.byref(f), fptr(table), table.size, 64) == OK
    for fn in (L.emlc_fft_forward, L.emlc_fft_inverse):
        assert fn(None, fptr(re), fptr(im), 64) == ERR_NULL
        assert fn(C.byref(f), None, fptr(im), 64) == ERR_NULL
        assert fn(C.byref(f), fptr(re), None, 64) == ERR_NULL
        for bad in (0, 3, 6, 63, 128):  # zero, not a power of two, longer than the table
            assert fn(C.byref(f), fptr(re), fptr(im), bad) == ERR_SIZE, bad
    out_re = np.zeros(33, dtype=np.float32)
    out_im = np.zeros(33, dtype=np.float32)
    R = L.emlc_fft_rfft
    assert R(None, fptr(re), 64, fptr(out_re), fptr(out_im), 33) == ERR_NULL
    assert R(C.byref(FftT()), fptr(re), 64, fptr(out_re), fptr(out_im), 33) == ERR_NULL
    assert R(C.byref(f), None, 64, fptr(out_re), fptr(out_im), 33) == ERR_NULL
    assert R(C.byref(f), fptr(re), 64, None, fptr(out_im), 33) == ERR_NULL
    assert R(C.byref(f), fptr(re), 64, fptr(out_re), None, 33) == ERR_NULL
    for bad in (0, 1, 3, 12, 128):
        assert R(C.byref(f), fptr(re), bad, fptr(out_re), fptr(out_im), 33) == ERR_SIZE, bad
    assert R(C.byref(f), fptr(re), 64, fptr(out_re), fptr(out_im), 32) == ERR_CAPACITY
    assert R(C.byref(f), fptr(re), 64, fptr(out_re), fptr(out_im), 33) == OK


def test_cross_compiles() -> None:
    """cores/emlc_fft.c builds warning-free for every natmod cross compiler, without libm, double or division
    helpers (ccore.check_portable)."""
    ccore.check_portable("emlc_fft.c")


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (soft float, run in unicorn) gives bit-identical tables and spectra."""
    m = ccore.Armv6m(["emlc_fft.c"])
    n = 1024
    f, tab = m.alloc(12), m.alloc(4 * EMLC_TABLE(n))  # emlc_fft_t is 12 bytes on armv6m
    assert m.call("emlc_fft_init", f, tab, EMLC_TABLE(n), n) == OK
    hf, htab = make_fft(n)
    assert m.read(tab, 4 * EMLC_TABLE(n)) == htab.tobytes()
    rng = np.random.default_rng(11)
    for size in (8, 256, 1024):
        xr, xi = rand_complex(rng, size)
        for name in ("emlc_fft_forward", "emlc_fft_inverse"):
            re, im = m.alloc(xr.tobytes()), m.alloc(xi.tobytes())
            assert m.call(name, f, re, im, size) == OK
            hre, him = xr.copy(), xi.copy()
            assert getattr(cdsp.lib(), name)(C.byref(hf), fptr(hre), fptr(him), size) == OK
            assert m.read(re, 4 * size) == hre.tobytes() and m.read(im, 4 * size) == him.tobytes()
        x = m.alloc(xr.tobytes())
        ore, oim = m.alloc(4 * (size // 2 + 1)), m.alloc(4 * (size // 2 + 1))
        assert m.call("emlc_fft_rfft", f, x, size, ore, oim, size // 2 + 1) == OK
        hre, him = np.zeros(size // 2 + 1, np.float32), np.zeros(size // 2 + 1, np.float32)
        assert cdsp.lib().emlc_fft_rfft(C.byref(hf), fptr(xr), size, fptr(hre), fptr(him), size // 2 + 1) == OK
        assert m.read(ore, hre.nbytes) == hre.tobytes() and m.read(oim, him.nbytes) == him.tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
