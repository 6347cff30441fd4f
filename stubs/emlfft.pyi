"""Radix-2 FFT on float32 arrays."""
from array import array


class FFT:
    def __init__(self, n: int) -> None:
        """Tables for length ``n`` (a power of two, >= 2). No other set-up call is needed."""

    def run(self, real: array, imag: array) -> None:
        """Forward complex FFT in place; both arrays typecode 'f', length n."""

    def inverse(self, real: array, imag: array) -> None:
        """Inverse complex FFT in place, scaled by 1/n like numpy.fft.ifft."""

    def rfft(self, x: array, real_out: array, imag_out: array) -> None:
        """FFT of a real signal ``x`` (length n) into n/2 + 1 bins, like numpy.fft.rfft."""


def new(n: int) -> FFT:
    """Same as FFT(n)."""
