"""Radix-2 FFT on int16 (Q15) arrays, in integer arithmetic only, halving at every stage:
results are numpy.fft.fft(x) / n. See docs/emlfft_q15.md."""
from array import array


class FFT:
    def __init__(self, n: int) -> None:
        """Q15 twiddle table for length ``n`` (a power of two, 2 <= n <= 32768): 3n/4 int16 values."""

    def run(self, real: array, imag: array) -> None:
        """In place: (real, imag) <- numpy.fft.fft(real + 1j*imag) / n, rounded to int16; both
        arrays typecode 'h', length n, not sharing memory."""

    def inverse(self, real: array, imag: array) -> None:
        """In place: (real, imag) <- numpy.fft.ifft(real + 1j*imag) (which includes the 1/n)."""

    def rfft(self, x: array, real_out: array, imag_out: array) -> None:
        """numpy.fft.rfft(x) / n of a real signal ``x`` (length n) into n/2 + 1 bins."""


def new(n: int) -> FFT:
    """Same as FFT(n)."""
