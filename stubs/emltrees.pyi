"""Decision-tree ensembles (decision tree, random forest, extra trees) on the device.

Models are made on the host with ``emlmpy.convert(estimator).save(file)`` (binary ``.bin`` or
CSV, docs/model-format.md, version 2) and loaded with :func:`load` or :func:`load_model`. A CSV
file needs the separate module ``emltrees_csv.mpy`` on the board (imported on first use); a
binary file does not.
"""
from array import array
from typing import Protocol, Union


class _Stream(Protocol):
    def readinto(self, buf: bytearray) -> int: ...


class Model:
    def __init__(self, max_trees: int, max_nodes: int, max_leaves: int | None = None) -> None:
        """Same as :func:`new`."""

    def predict(self, x: array, out: array | None = None) -> Union[int, float]:
        """Predict one sample. ``x``: n_features() values, typecode 'f' (float32) or 'h' (int16);
        a float model converts 'h' to float, an int16 model quantizes 'f' with the file's
        scale/offset. Returns the class (scikit-learn's ``classes_`` value when those are
        integers, else the class index) or, for a regressor, the value (float).
        ``out`` (classifiers; typecode 'f', length >= outputs()) receives the class
        probabilities in ``classes_`` order (ignored for a regressor); it must not share memory
        with ``x`` (ValueError). NaN inputs go where scikit-learn sends them
        (``missing_go_to_left``; an int16 model quantizes NaN to 0, docs/model-format.md).
        Raises ValueError before a model is loaded or for a wrong length, TypeError for a
        wrong typecode."""

    def predict_many(self, X: array, out: array) -> None:
        """Predict n samples given as one flat array of n * n_features() values (typecodes as
        predict). ``out`` (length n) receives the classes (typecode 'i', 'h' or 'f') or the
        values of a regressor (typecode 'f' only); it must not share memory with ``X``. Raises
        TypeError for a wrong typecode, ValueError for wrong lengths, ``out`` over ``X`` or a class
        label that does not fit array('h')."""

    def outputs(self) -> int:
        """Number of classes (classifiers) or 1 (regressors)."""

    def n_features(self) -> int:
        """Number of input features the loaded model expects."""

    def memory(self) -> int:
        """Bytes of GC heap this model holds: the object and the loaded model's arrays (the
        object alone for a model with nothing loaded)."""


def new(max_trees: int, max_nodes: int, max_leaves: int | None = None) -> Model:
    """An empty model that accepts files with at most ``max_trees`` trees (1..32767),
    ``max_nodes`` decision nodes (0..32767) and ``max_leaves`` stored leaves (0..32768, default
    no limit: the PROBA payloads or regression values; class and pure leaves are stored in the
    nodes). Positional or keyword arguments. Nothing is reserved: load_model() allocates exactly
    what the file needs. Raises TypeError/ValueError for bad arguments."""


def load(stream: _Stream) -> Model:
    """A new model holding the model read from ``stream`` (see load_model), of exactly its size."""


def load_model(model: Model, stream: _Stream) -> None:
    """Replace ``model``'s content with the model read from ``stream``: any object with
    ``readinto`` or ``read`` (an open file in 'rb' or text mode, io.BytesIO). A binary file
    is read into one heap block of its size through a scratch bytearray of at most 256 bytes
    (the stream never sees the model's memory; one that returns more bytes than the buffer it
    got is ValueError); a CSV file (needs emltrees_csv.mpy) is
    parsed in small chunks. The model is validated before use (every index in range, every walk
    ends). On any error the old model is gone, the model is left empty and ValueError names the
    byte offset (binary) or line (CSV) and the reason (e.g. "model larger than new()'s
    capacity"); MemoryError when the heap cannot hold it."""
