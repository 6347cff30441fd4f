"""IIR filtering of int16 (Q15) samples with a cascade of second-order sections, in integer
arithmetic only (for chips without an FPU). See docs/emliir_q15.md."""
from array import array


class IIR:
    def __init__(self, coefficients: array) -> None:
        """Same as :func:`new`."""

    def run(self, values: array) -> None:
        """Filter ``values`` (typecode 'h', any length, also 0) in place, exactly as
        ``emlmpy.IirQ15(coefficients).run`` on the host; the state carries over to the next call, so
        a stream filtered in chunks gives the same output as one call. Outputs saturate at
        -32768/32767."""

    def reset(self) -> None:
        """Clear the filter state."""


def new(coefficients: array) -> IIR:
    """``coefficients``: typecode 'h', 6 values per section: B0 B1 B2 T A1 A2, as
    ``emlmpy.iir_coefficients_q15(sos)`` returns. Raises TypeError for another typecode, ValueError
    for a length that is not a positive multiple of 6 or values outside the Q15 limits (T in 0..31,
    |B0| + |B1| + |B2| <= 57343, A1, A2 > -32768), MemoryError when the filter does not fit in the heap."""
