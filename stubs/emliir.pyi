"""IIR filtering with a cascade of second-order sections (scipy's ``sos`` layout)."""
from array import array


class IIR:
    def __init__(self, coefficients: array) -> None:
        """Same as :func:`new`."""

    def run(self, values: array) -> None:
        """Filter ``values`` (typecode 'f', any length, also 0) in place, as
        ``scipy.signal.sosfilt`` in float32; the filter state carries over to the next call."""

    def reset(self) -> None:
        """Clear the filter state."""


def new(coefficients: array) -> IIR:
    """``coefficients``: typecode 'f', 6 values per section: b0 b1 b2 a0 a1 a2 (a0 must be 1), as
    ``emlmpy.iir_coefficients(sos)`` returns. Raises TypeError/ValueError for other arrays,
    MemoryError when the state does not fit in the heap."""
