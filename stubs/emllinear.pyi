"""Linear models on the device: scikit-learn's LinearRegression, Ridge, Lasso, ElasticNet,
SGDRegressor, LogisticRegression, LinearSVC, SGDClassifier, RidgeClassifier and Perceptron as
converted by ``emlmpy.convert(...).save(file=...)`` (docs/emllinear.md). Training on the device is
the optional module emllinear_train (stubs/emllinear_train.pyi).

Samples are array('f') (float32) or array('h') (int16, converted to float32 exactly): one sample
is n_features values, X is a flat array of n_samples * n_features values. Values must be finite
(NaN or inf: ValueError). An ``out`` array must not share memory with ``x`` (ValueError).
Weights are float32: coef (n_outputs * n_features, row-major, scikit-learn's coef_) and intercept
(n_outputs, intercept_). Every bad argument raises TypeError (wrong type or typecode) or ValueError
(wrong length, range or value) before anything changes; a score that overflows float32 is
ValueError('score overflow')."""
from array import array
from typing import IO


class LinearModel:
    def __init__(self, n_features: int, n_outputs: int = 1, kind: str = "regressor") -> None:
        """Same as :func:`new`."""

    def predict(self, x: array, out: array | None = None) -> float | int | None:
        """A regressor's prediction of the sample x: a float (n_outputs 1), or written to ``out``
        (array('f') of n_outputs; then None; required when n_outputs > 1). A classifier's class
        label (an int): binary (n_outputs 1): classes[1] when the score > 0, else classes[0];
        otherwise classes[argmax of the scores] (ties to the lowest index): scikit-learn's rule."""

    def decision_function(self, x: array, out: array | None = None) -> float | None:
        """The scores: per output, the float32 sum in feature order of coef * x, then + intercept
        (scikit-learn's decision_function). A float when n_outputs is 1 and no ``out``; else written
        to ``out`` (array('f') of n_outputs)."""

    def predict_proba(self, x: array, out: array) -> None:
        """Class probabilities into ``out`` (array('f') of n_classes) for kinds 'logistic' (binary:
        sigmoid, else softmax: LogisticRegression) and 'ovr' (normalized sigmoids:
        SGDClassifier(loss='log_loss'); the softmax, their limit, when every sigmoid underflows
        float32, so never NaN); TypeError for the other kinds."""

    def coef(self, out: array) -> None:
        """Copy the coefficients into ``out`` (array('f') of n_outputs * n_features)."""

    def set_coef(self, coef: array) -> None:
        """Set the coefficients (array('f') of n_outputs * n_features, finite; copied)."""

    def intercept(self, out: array) -> None:
        """Copy the intercepts into ``out`` (array('f') of n_outputs)."""

    def set_intercept(self, intercept: array) -> None:
        """Set the intercepts (array('f') of n_outputs, finite; copied)."""


def new(n_features: int, n_outputs: int = 1, kind: str = "regressor") -> LinearModel:
    """A model with zero weights. n_features, n_outputs: 1..65535 (n_features * n_outputs <= 2**26).
    kind: 'regressor' (predict returns the scores), 'classifier' (predict returns a class; no
    probabilities: LinearSVC, hinge SGDClassifier), 'logistic' (LogisticRegression: sigmoid or
    softmax probabilities), 'ovr' (one-vs-rest normalized sigmoids). A classifier has n_outputs 1
    (binary, 2 classes) or >= 3 (one per class); its class labels are 0..n_classes-1. Positional or
    keyword arguments. Allocates 4 * (n_outputs * (n_features + 1) + n_classes) bytes."""


def load(stream: IO[bytes]) -> LinearModel:
    """A model from an EMLL file (docs/model-format.md, "Linear models"), read with readinto (or
    read) through a scratch bytearray of at most 256 bytes (the stream never sees the model's
    memory): exactly the weights' block is allocated. A stream that returns more bytes than the
    buffer it was given is ValueError. A malformed file is ValueError('offset N:
    reason'), a model too large for the heap MemoryError."""
