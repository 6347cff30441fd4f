"""Decision-tree ensembles (decision tree, random forest, extra trees) on the device.

Models are made on the host with ``emlmpy.convert(estimator).save(...)`` (CSV or binary) and
loaded with :func:`load_model`. Memory is fixed by :func:`new`'s capacities.
"""
from array import array
from typing import Protocol, Union


class _Stream(Protocol):
    def readinto(self, buf: bytearray) -> int: ...


class Model:
    def predict(self, x: array, out: array | None = None) -> Union[int, float]:
        """Predict one sample. ``x``: array of n_features values, typecode 'f' for float models,
        'h' for int16 models. Returns the class index (classifiers) or the value (regressors).
        If ``out`` (typecode 'f', length >= outputs()) is given it receives the class probabilities.
        Raises ValueError before a model is loaded or for a wrong length, TypeError for a wrong typecode."""

    def predict_many(self, X: array, out: array) -> None:
        """Predict n samples given as one flat array of n * n_features values (same typecodes as
        predict). ``out`` (length n, typecode 'f', 'i' or 'h') receives classes or values."""

    def outputs(self) -> int:
        """Number of classes (classifiers) or 1 (regressors)."""

    def n_features(self) -> int:
        """Number of input features the loaded model expects."""

    def memory(self) -> int:
        """Bytes of GC heap this model holds (capacity, not just what the loaded model uses)."""


def new(max_trees: int, max_nodes: int, max_leaves: int | None = None) -> Model:
    """A model with room for ``max_trees`` trees, ``max_nodes`` decision nodes and ``max_leaves``
    leaves (default: max_nodes + max_trees, the most a binary forest of that size can have).
    Raises MemoryError if it does not fit in the heap."""


def load_model(model: Model, stream: _Stream) -> None:
    """Load a CSV (ours or emlearn's) or binary model from any object with ``readinto`` or ``read``
    (an open file, io.BytesIO). Reads in small chunks, never the whole file. The model is validated
    before use; on any error it is left empty and ValueError names the line (CSV) or byte offset
    (binary) and the reason (e.g. capacity exceeded)."""
