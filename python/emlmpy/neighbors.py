"""KnnModel: k-nearest-neighbours items (layout.KnnArrays) with the exact host predictor of
docs/model-format.md §4, info() and save(). Imports: numpy, keys, layout, files."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

import numpy as np

from . import files
from . import keys as K
from .keys import quiet
from .layout import HEADER_SIZE, KnnArrays, knn_sections, section_starts
from .samples import as_samples


@dataclass
class KnnModel(KnnArrays):
    """Training items (float32 or int16) with class-index labels and k (layout.KnnArrays).

    Distances: squared euclidean. float32: per item, `d = 0.0f; for f in order: e = x[f] - v[f];
    d += e * e` (float32, no FMA). int16: exact integer sum of (int32)(x - v)^2 (uint64 on device).
    Neighbours are ordered by (distance, item index); the vote winner is the label with most of the
    k votes, ties to the lowest label (what scikit-learn's mode does).
    """

    classes: Optional[np.ndarray] = field(default=None, compare=False)

    @classmethod
    def from_arrays(cls, a: KnnArrays, classes: Optional[np.ndarray] = None) -> "KnnModel":
        """The model for arrays (a reader's or the converter's); `classes` defaults to the file's
        class labels, else 0..n-1."""
        fields = {f.name: getattr(a, f.name) for f in dataclasses.fields(KnnArrays)}
        if classes is None:
            classes = a.class_labels if a.class_labels is not None else np.arange(a.n_classes)
        return cls(**fields, classes=classes)

    @property
    def kind(self) -> str:
        return "knn"

    @property
    def is_classifier(self) -> bool:
        return True

    @property
    def device_bytes(self) -> int:
        """Bytes of the model's block on the device after emlneighbors.load(): the binary file
        minus its 32-byte header, plus 16 bytes per neighbour (k) for the results. The object
        itself is extra (~60 bytes)."""
        n_labels = self.n_classes if self.class_labels is not None else 0
        body = section_starts(knn_sections(self.dtype, self.n_features, self.n_items, n_labels))[1] - HEADER_SIZE
        return body + 16 * min(self.k, self.n_items)

    @property
    def device_call(self) -> str:
        tc = "'f'" if self.dtype == "float" else "'h'"
        return (f"emlneighbors.load(f)  or  emlneighbors.Model({self.n_items}, {self.n_features}, "
                f"{min(self.k, self.n_items)}, {tc})")

    def info(self) -> dict:
        return {"kind": "knn", "dtype": self.dtype, "k": self.k, "n_features": self.n_features,
                "n_classes": self.n_classes, "n_items": self.n_items, "labels": self.class_labels is not None,
                "device_bytes": self.device_bytes, "device": self.device_call}

    @quiet
    def _inputs(self, X: np.ndarray) -> np.ndarray:
        X = as_samples(X, self.n_features)
        # as scikit-learn's KNeighborsClassifier (and the device's add_item/predict): NaN or inf refused
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise ValueError("Input contains NaN or infinity")
        if self.dtype == "int16":
            return X if X.dtype == np.int16 else K.quantize(X, *self.quantization())
        return X.astype(np.float32)

    def quantize(self, X: np.ndarray) -> np.ndarray:
        if self.dtype != "int16":
            raise ValueError("quantize() applies to dtype='int16' models only")
        return K.quantize(np.asarray(X), *self.quantization())

    @quiet
    def distances(self, X: np.ndarray) -> np.ndarray:
        """Squared distances to every item, (n_samples, n_items): float32 or int64."""
        Xq = self._inputs(X)
        n = Xq.shape[0]
        if self.dtype == "float":
            acc = np.zeros((n, self.n_items), dtype=np.float32)
            for f in range(self.n_features):
                e = Xq[:, f, None] - self.items[None, :, f]
                acc += e * e
            return acc
        acc64 = np.zeros((n, self.n_items), dtype=np.int64)
        for f in range(self.n_features):
            e = Xq[:, f, None].astype(np.int64) - self.items[None, :, f].astype(np.int64)
            acc64 += e * e
        return acc64

    @quiet
    def kneighbors(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(distances, item indices) of the k nearest, ordered by (distance, index)."""
        d = self.distances(X)
        k = min(self.k, self.n_items)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(d, order, axis=1), order

    def _votes(self, X: np.ndarray) -> np.ndarray:
        _, idx = self.kneighbors(X)
        lab = self.labels.astype(np.intp)[idx]
        votes = np.zeros((lab.shape[0], self.n_classes), dtype=np.int64)
        for c in range(self.n_classes):
            votes[:, c] = (lab == c).sum(axis=1)
        return votes

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self._votes(X), axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        idx = self.predict_index(X)
        classes = self.classes if self.classes is not None else np.arange(self.n_classes)
        return np.asarray(classes)[idx]

    @quiet
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        v = self._votes(X)
        return v.astype(np.float32) / np.float32(min(self.k, self.n_items))

    def same_as(self, other: object) -> bool:
        if not isinstance(other, KnnArrays):
            return False
        if (self.dtype, self.k, self.n_features, self.n_classes) != (
                other.dtype, other.k, other.n_features, other.n_classes):
            return False
        for a, b in ((self.items, other.items), (self.labels, other.labels),
                     (self.scale, other.scale), (self.offset, other.offset),
                     (self.class_labels, other.class_labels)):
            if (a is None) != (b is None):
                return False
            if a is not None and b is not None and (a.dtype != b.dtype or a.shape != b.shape
                                                    or a.tobytes() != b.tobytes()):
                return False
        return True

    def save(self, file: Optional[files.PathLike] = None, name: Optional[str] = None,
             format: Optional[str] = None) -> Union[str, bytes]:
        """As TreeModel.save: returns the content, writes `file` if given."""
        return files.save(self, file=file, name=name, format=format)
