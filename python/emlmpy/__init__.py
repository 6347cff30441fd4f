"""emlmpy: convert scikit-learn and scipy models into files the emlmpy MicroPython modules load,
and predict on the host exactly as the device does. File formats: docs/model-format.md."""
from .convert import SUPPORTED, convert
from .errors import ConversionError, ModelFormatError
from .fft_q15 import fft_q15, ifft_q15, rfft_q15
from .iir import iir_coefficients
from .iir_q15 import IirQ15, iir_coefficients_q15
from .io import dumps, load, loads
from .kmeans import KMeansModel
from .linear import LinearModel
from .neighbors import KnnModel
from .trees import TreeModel

__version__ = "0.2.0"
__all__ = ["convert", "load", "loads", "dumps", "iir_coefficients", "iir_coefficients_q15", "IirQ15", "fft_q15", "ifft_q15", "rfft_q15",
           "TreeModel", "KnnModel", "KMeansModel", "LinearModel",
           "ConversionError", "ModelFormatError", "SUPPORTED", "__version__"]
