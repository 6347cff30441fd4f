"""KMeansModel: k-means cluster centers for the emlkmeans device module, and the host predictor
that computes exactly what the device computes (docs/model-format.md §5, docs/emlkmeans.md).
Imports: numpy, keys, files."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from . import files
from .keys import quiet
from .samples import as_samples

LIMIT = 2.0 ** 40  # the device accepts finite values with |v| < 2**40 (cores/emlc_kmeans.h)
MAX_CLUSTERS = 32767
MAX_FEATURES = 32767


@dataclass
class KMeansModel:
    """Float32 cluster centers, shape (n_clusters, n_features), as `emlkmeans.KMeans` holds them.

    `predict` is the device's rule: squared euclidean distance as the float32 sum, in feature order,
    of float32 squared differences (no FMA), nearest center by that distance, ties to the lowest
    index. uint8 and int16 inputs are converted to float32 exactly, as on the device."""

    cluster_centers_: np.ndarray

    def __post_init__(self) -> None:
        c = np.asarray(self.cluster_centers_)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise ValueError(f"cluster centers must have shape (n_clusters, n_features), got {c.shape}")
        if c.shape[0] > MAX_CLUSTERS or c.shape[1] > MAX_FEATURES:
            raise ValueError(f"{c.shape[0]} clusters x {c.shape[1]} features: the device takes at most "
                             f"{MAX_CLUSTERS} of each")
        c32 = np.ascontiguousarray(c, dtype=np.float32)
        if not _accepted(c32):
            raise ValueError("cluster centers must be finite with |v| < 2**40 as float32 (the device's limit)")
        self.cluster_centers_ = c32

    @property
    def kind(self) -> str:
        return "kmeans"

    @property
    def n_clusters(self) -> int:
        return int(self.cluster_centers_.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.cluster_centers_.shape[1])

    @property
    def device_bytes(self) -> int:
        """The centers' bytes on the device (the file's size; the KMeans object adds ~40 bytes)."""
        return 4 * self.cluster_centers_.size

    def info(self) -> dict:
        return {"kind": "kmeans", "n_clusters": self.n_clusters, "n_features": self.n_features,
                "device_bytes": self.device_bytes,
                "device": f"emlkmeans.KMeans({self.n_clusters}, {self.n_features}, dtype) "
                          "+ set_cluster_centers(array('f') read from the file)"}

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        X = as_samples(X, self.n_features)
        X32 = X.astype(np.float32)
        if not _accepted(X32):
            raise ValueError("X must be finite with |v| < 2**40 as float32 (the device's limit)")
        return X32

    @quiet
    def distances(self, X: np.ndarray) -> np.ndarray:
        """Squared distances (n_samples, n_clusters), float32, bit-identical to the device's."""
        Xf = self._inputs(X)
        acc = np.zeros((Xf.shape[0], self.n_clusters), dtype=np.float32)
        for f in range(self.n_features):
            e = Xf[:, f, None] - self.cluster_centers_[None, :, f]
            acc += e * e
        return acc

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The nearest center's index per sample (np.argmin takes the first of equal minima)."""
        return np.argmin(self.distances(X), axis=1)

    @quiet
    def inertia(self, X: np.ndarray) -> np.float32:
        """Sum of every sample's distance to its nearest center: the float32 sum in sample order,
        as the device's inertia() after a fit on X."""
        d = self.distances(X).min(axis=1)
        return np.cumsum(d, dtype=np.float32)[-1] if d.size else np.float32(0)

    def tobytes(self) -> bytes:
        """The file content: n_clusters * n_features little-endian float32, row-major, no header."""
        return self.cluster_centers_.astype("<f4").tobytes()

    def save(self, file: Optional[Union[str, "os.PathLike[str]"]] = None) -> bytes:
        """Return the file content (tobytes()) and write it to `file` when given (never a
        half-written file). The device reads it with readinto into array('f') and passes that to
        set_cluster_centers."""
        content = self.tobytes()
        if file is not None:
            files.write_atomic(file, content)
        return content

    @classmethod
    def from_bytes(cls, data: bytes, n_features: int) -> "KMeansModel":
        """Centers from a file's content (tobytes()); n_features must be given, as on the device."""
        if n_features < 1 or len(data) % (4 * n_features) or not data:
            raise ValueError(f"{len(data)} bytes is not a whole number of centers of {n_features} float32 values")
        return cls(np.frombuffer(data, dtype="<f4").reshape(-1, n_features))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], n_features: int) -> "KMeansModel":
        with open(path, "rb") as f:
            return cls.from_bytes(f.read(), n_features)


def _accepted(a: np.ndarray) -> bool:
    """All values finite with |v| < 2**40 (float32)."""
    return bool(np.all(np.abs(a.astype(np.float64)) < LIMIT)) if a.size else True
