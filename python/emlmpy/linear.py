"""LinearModel: a linear model's float32 weights for the emllinear device module, and the host
predictor that computes exactly what the device computes (cores/emlc_linear.h, docs/emllinear.md,
docs/model-format.md "Linear models"). Imports: os, struct, numpy, errors, files, keys."""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

from . import files
from .errors import ModelFormatError
from .keys import quiet
from .samples import as_samples

KINDS = ("regressor", "classifier", "logistic", "ovr")  # the file's kind byte is the index
MAGIC = b"EMLL"
VERSION = 1
HEADER = struct.Struct("<4sBBHHH")  # magic, version, kind, n_features, n_outputs, reserved (0)
MAX_DIM = 65535
MAX_WEIGHTS = 1 << 26  # n_features * n_outputs, the device's limit

F32 = np.float32


def _pow2(e: np.ndarray) -> np.ndarray:
    """2.0**e as float32 from its bits, -126 <= e <= 127."""
    return ((e.astype(np.int64) + 127) << 23).astype(np.uint32).view(np.float32)


@quiet
def exp32(x: np.ndarray) -> np.ndarray:
    """The device's float32 exp (emlc_linear_exp), bit for bit: clamp to [-104, 89], k = x*log2(e)
    rounded half away from zero, two-part ln 2 reduction, degree-6 Taylor polynomial by Horner,
    scaled by 2^(k/2) * 2^(k - k/2)."""
    x = np.clip(np.asarray(x, dtype=F32), F32(-104.0), F32(89.0))
    r = x * F32(1.44269502)
    k = np.trunc(r + np.where(r < 0, F32(-0.5), F32(0.5))).astype(np.int32)
    kf = k.astype(F32)
    r = (x - kf * F32(0.693145752)) - kf * F32(1.42860677e-06)
    p = F32(1) / F32(720)
    for c in (F32(1) / F32(120), F32(1) / F32(24), F32(1) / F32(6), F32(0.5), F32(1), F32(1)):
        p = p * r + c
    half = np.sign(k) * (np.abs(k) // 2)  # C's k / 2: truncated toward zero
    return (p * _pow2(half)) * _pow2(k - half)


@quiet
def _sigmoid(s: np.ndarray) -> np.ndarray:
    return F32(1) / (F32(1) + exp32(-s))


def _row_sums(p: np.ndarray) -> np.ndarray:
    """float32 sums of the rows in index order, as the device adds them."""
    total = np.zeros(p.shape[0], dtype=F32)
    for k in range(p.shape[1]):
        total += p[:, k]
    return total


@dataclass
class LinearModel:
    """Float32 coef_ (n_outputs, n_features) and intercept_ (n_outputs,), as emllinear.LinearModel
    holds them; kind is one of KINDS. Classifiers (every kind but 'regressor') also have classes_
    (scikit-learn's labels, returned by the host predict) and class_labels (int32, what the device
    returns: the integer labels themselves, or the class index when the labels are not integers
    that fit int32). n_outputs 1 is a binary classifier (2 classes), else one class per output."""

    coef_: np.ndarray
    intercept_: np.ndarray
    kind: str = "regressor"
    classes_: Optional[np.ndarray] = None
    class_labels: Optional[np.ndarray] = field(default=None)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        c = np.asarray(self.coef_, dtype=np.float64)
        if c.ndim == 1:
            c = c.reshape(1, -1)
        b = np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64)).ravel()
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise ValueError(f"coef must have shape (n_outputs, n_features), got {c.shape}")
        if b.shape != (c.shape[0],):
            b = np.broadcast_to(b, (c.shape[0],)) if b.size == 1 else b
            if b.shape != (c.shape[0],):
                raise ValueError(f"intercept must have n_outputs={c.shape[0]} values, got {b.shape}")
        if c.shape[0] > MAX_DIM or c.shape[1] > MAX_DIM or c.size > MAX_WEIGHTS:
            raise ValueError(f"{c.shape[0]} outputs x {c.shape[1]} features: the device takes at most "
                             f"{MAX_DIM} of each and {MAX_WEIGHTS} weights")
        self.coef_ = np.ascontiguousarray(c, dtype=F32)
        self.intercept_ = np.ascontiguousarray(b, dtype=F32)
        if not (np.all(np.isfinite(self.coef_)) and np.all(np.isfinite(self.intercept_))):
            raise ValueError("weights must be finite as float32")
        if self.kind == "regressor":
            self.classes_ = self.class_labels = None
            return
        if self.n_outputs == 2:
            raise ValueError("a classifier has 1 output (binary) or >= 3 (one per class), not 2")
        if self.classes_ is None:
            self.classes_ = np.arange(self.n_classes)
        self.classes_ = np.asarray(self.classes_)
        if self.classes_.shape != (self.n_classes,):
            raise ValueError(f"classes must have n_classes={self.n_classes} labels, got {self.classes_.shape}")
        if self.class_labels is None:
            ok = (np.issubdtype(self.classes_.dtype, np.integer) and self.classes_.min() >= -2 ** 31
                  and self.classes_.max() < 2 ** 31)
            self.class_labels = self.classes_.astype(np.int32) if ok else np.arange(self.n_classes, dtype=np.int32)
        self.class_labels = np.asarray(self.class_labels, dtype=np.int32)

    @property
    def n_features(self) -> int:
        return int(self.coef_.shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self.coef_.shape[0])

    @property
    def n_classes(self) -> int:
        return 0 if self.kind == "regressor" else 2 if self.n_outputs == 1 else self.n_outputs

    @property
    def device_bytes(self) -> int:
        """The weights' GC block on the device (the LinearModel object adds ~32 bytes)."""
        return 4 * (self.coef_.size + self.n_outputs + self.n_classes)

    def info(self) -> dict:
        return {"kind": "linear-" + self.kind, "n_features": self.n_features, "n_outputs": self.n_outputs,
                "n_classes": self.n_classes, "device_bytes": self.device_bytes,
                "device": "emllinear.load(open(file, 'rb'))"}

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        X32 = as_samples(X, self.n_features).astype(F32)
        if not np.all(np.isfinite(X32)):
            raise ValueError("X must be finite as float32")
        return X32

    @quiet
    def scores(self, X: np.ndarray) -> np.ndarray:
        """Scores (n_samples, n_outputs), float32, bit-identical to the device's: per output the
        float32 sum in feature order of coef * x, then + intercept. ValueError when one is not
        finite (the device's 'score overflow')."""
        Xf = self._inputs(X)
        acc = np.zeros((Xf.shape[0], self.n_outputs), dtype=F32)
        for f in range(self.n_features):
            acc += Xf[:, f, None] * self.coef_[None, :, f]
        acc += self.intercept_[None, :]
        if not np.all(np.isfinite(acc)):
            raise ValueError("score overflow: a score is not finite in float32")
        return acc

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's shape: (n_samples,) for one output, else (n_samples, n_outputs)."""
        s = self.scores(X)
        return s[:, 0] if self.n_outputs == 1 else s

    def class_index(self, X: np.ndarray) -> np.ndarray:
        """The device's class index: binary score > 0; else argmax, first of equal maxima."""
        s = self.scores(X)
        return (s[:, 0] > 0).astype(np.intp) if self.n_outputs == 1 else np.argmax(s, axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Regressor: the scores (scikit-learn's shape); classifier: classes_ of the class index
        (the device returns class_labels of it)."""
        if self.kind == "regressor":
            return self.decision_function(X)
        assert self.classes_ is not None
        return self.classes_[self.class_index(X)]

    def predict_device(self, X: np.ndarray) -> np.ndarray:
        """What the device's predict returns for each sample (class_labels for classifiers)."""
        if self.kind == "regressor":
            return self.decision_function(X)
        assert self.class_labels is not None
        return self.class_labels[self.class_index(X)]

    @quiet
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n_samples, n_classes) float32 as the device computes them (cores/emlc_linear.h)."""
        if self.kind not in ("logistic", "ovr"):
            raise ValueError(f"no predict_proba for kind {self.kind!r}")
        s = self.scores(X)
        if self.n_outputs == 1:
            p = _sigmoid(s[:, 0])
            return np.stack([F32(1) - p, p], axis=1)
        soft = exp32(s - s.max(axis=1, keepdims=True))
        p = soft if self.kind == "logistic" else _sigmoid(s)
        total = _row_sums(p)
        # ovr rows whose sigmoid sum is below FLT_MIN (0 or subnormal): the softmax, their limit
        low = total < np.finfo(F32).tiny
        p[low] = soft[low]
        total[low] = _row_sums(soft[low])
        return p / total[:, None]

    def tobytes(self) -> bytes:
        """The file (docs/model-format.md, linear models): 12-byte header, coef, intercept
        (float32 LE) and the class labels (int32 LE) of a classifier."""
        out = HEADER.pack(MAGIC, VERSION, KINDS.index(self.kind), self.n_features, self.n_outputs, 0)
        out += self.coef_.astype("<f4").tobytes() + self.intercept_.astype("<f4").tobytes()
        if self.class_labels is not None:
            out += self.class_labels.astype("<i4").tobytes()
        return out

    def save(self, file: Optional[Union[str, "os.PathLike[str]"]] = None) -> bytes:
        """Return the file content (tobytes()) and write it to `file` when given (never a
        half-written file). The device reads it with emllinear.load(open(file, 'rb'))."""
        content = self.tobytes()
        if file is not None:
            files.write_atomic(file, content)
        return content

    @classmethod
    def from_bytes(cls, data: bytes, path: Optional[str] = None) -> "LinearModel":
        """A model from a file's content, validated as the device's emllinear.load does: a
        ModelFormatError (a ValueError) with the device's reason and byte offset."""
        data = bytes(data)

        def bad(offset: int, reason: str) -> ModelFormatError:
            return ModelFormatError(reason, offset=offset, path=path)
        if len(data) < HEADER.size:
            raise bad(len(data), "file too short")
        magic, version, kind, nf, no, reserved = HEADER.unpack_from(data)
        if magic != MAGIC:
            raise bad(0, f"bad magic {magic!r} (not {MAGIC!r})")
        if version != VERSION:
            raise bad(4, f"bad version {version} (expected {VERSION})")
        if kind >= len(KINDS):
            raise bad(5, f"bad kind {kind}")
        if nf == 0:
            raise bad(6, "bad n_features 0")
        if no == 0 or (kind != 0 and no == 2):
            raise bad(8, f"bad n_outputs {no}")
        if nf * no > MAX_WEIGHTS:
            raise bad(6, "model too large")
        if reserved:
            raise bad(10, "reserved not 0")
        nc = 0 if kind == 0 else 2 if no == 1 else no
        want = HEADER.size + 4 * (nf * no + no + nc)
        if len(data) < want:
            raise bad(len(data), f"file too short ({want} bytes expected)")
        w = np.frombuffer(data, dtype="<f4", count=nf * no + no, offset=HEADER.size)
        finite = np.isfinite(w)
        if not finite.all():
            raise bad(HEADER.size + 4 * int(np.argmin(finite)), "not finite")
        if len(data) > want:
            raise bad(want, "data after the end")
        labels = np.frombuffer(data, dtype="<i4", count=nc, offset=HEADER.size + 4 * (nf * no + no)) if nc else None
        return cls(w[:nf * no].reshape(no, nf), w[nf * no:], KINDS[kind], labels, labels)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "LinearModel":
        with open(path, "rb") as f:
            return cls.from_bytes(f.read(), path=os.fspath(path))
