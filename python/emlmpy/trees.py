"""Tree-ensemble model in the layout of docs/model-format.md section 1, with an exact host predictor."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np

from . import keys as K
from .keys import quiet

LEAF_CLASS = 0
LEAF_PROBA = 1
LEAF_VALUE = 2
LEAF_PROBA8 = 3
LEAF_KIND_NAMES = {LEAF_CLASS: "class", LEAF_PROBA: "proba", LEAF_VALUE: "value", LEAF_PROBA8: "proba8"}
DTYPES = ("float", "int16")

MAX_NODES = 32767
MAX_LEAVES = 32768
MAX_OUTPUTS = 256  # the C core's per-class accumulator bound (EMLC_TREES_MAX_OUTPUTS)


def leaf_width(leaf_kind: int, n_outputs: int) -> int:
    """Number of values per leaf."""
    return n_outputs if leaf_kind in (LEAF_PROBA, LEAF_PROBA8) else 1


def leaf_item_bytes(leaf_kind: int) -> int:
    """Bytes per leaf value on the device."""
    return 1 if leaf_kind in (LEAF_CLASS, LEAF_PROBA8) else 4


def leaf_numpy_dtype(leaf_kind: int) -> type:
    return np.uint8 if leaf_kind in (LEAF_CLASS, LEAF_PROBA8) else np.float32


class ModelProblem(Exception):
    """Internal: a structural problem at (array name, index); array is one of thresholds, features,
    children, roots, leaves, scale, offset, or model."""

    def __init__(self, where: str, index: int, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.index = index
        self.message = message


@dataclass
class TreeModel:
    """A converted tree ensemble. Arrays follow docs/model-format.md section 1 exactly.

    leaves has shape (n_leaves, leaf_width); scale/offset are set only for dtype 'int16'.
    classes maps class index -> label for the host `predict` (arange for loaded files).
    """

    dtype: str
    leaf_kind: int
    n_features: int
    n_classes: int  # 0 for regression
    thresholds: np.ndarray  # int32 (n_nodes,)
    features: np.ndarray  # uint16 (n_nodes,)
    children: np.ndarray  # int16 (2*n_nodes,)
    roots: np.ndarray  # int16 (n_trees,)
    leaves: np.ndarray  # (n_leaves, width) uint8 or float32
    scale: Optional[np.ndarray] = None  # float32 (n_features,)
    offset: Optional[np.ndarray] = None  # float32 (n_features,)
    classes: Optional[np.ndarray] = field(default=None, compare=False)

    # ---- size facts -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return "trees"

    @property
    def n_nodes(self) -> int:
        return int(self.thresholds.shape[0])

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.shape[0])

    @property
    def n_trees(self) -> int:
        return int(self.roots.shape[0])

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.n_classes > 0 else 1

    @property
    def is_classifier(self) -> bool:
        return self.leaf_kind != LEAF_VALUE

    @property
    def device_bytes(self) -> int:
        """Bytes of model arrays on the device (nodes 10 B each, roots, leaves, quantization)."""
        n = self.n_nodes * (4 + 2 + 4) + self.n_trees * 2
        n += self.n_leaves * leaf_width(self.leaf_kind, self.n_outputs) * leaf_item_bytes(self.leaf_kind)
        if self.dtype == "int16":
            n += self.n_features * 8
        return n

    def info(self) -> dict:
        return {
            "kind": "trees",
            "dtype": self.dtype,
            "leaf_kind": LEAF_KIND_NAMES[self.leaf_kind],
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "n_outputs": self.n_outputs,
            "n_trees": self.n_trees,
            "n_nodes": self.n_nodes,
            "n_leaves": self.n_leaves,
            "device_bytes": self.device_bytes,
        }

    # ---- validation ------------------------------------------------------------------------
    @quiet
    def check(self) -> None:
        """Raise ModelProblem for exactly what the C loader/validator rejects (cores/emlc_trees.h).

        Nodes shared by several parents or reached by no root are accepted, as in C: prediction
        still terminates (child index > parent index) and stays in bounds."""
        if self.dtype not in DTYPES:
            raise ModelProblem("model", 0, f"unknown dtype {self.dtype!r}")
        if self.leaf_kind not in LEAF_KIND_NAMES:
            raise ModelProblem("model", 0, f"unknown leaf kind {self.leaf_kind}")
        if self.n_features < 1 or self.n_features > 65535:
            raise ModelProblem("model", 0, f"n_features {self.n_features} outside 1..65535")
        if self.leaf_kind == LEAF_VALUE and self.n_classes != 0:
            raise ModelProblem("model", 0, "value leaves need n_classes 0 (regression)")
        if self.leaf_kind != LEAF_VALUE and not 1 <= self.n_classes <= MAX_OUTPUTS:
            raise ModelProblem("model", 0, f"n_classes {self.n_classes} outside 1..{MAX_OUTPUTS}")
        n_nodes, n_leaves, n_trees = self.n_nodes, self.n_leaves, self.n_trees
        if n_nodes > MAX_NODES:
            raise ModelProblem("model", 0, f"{n_nodes} nodes > {MAX_NODES}")
        if n_leaves > MAX_LEAVES:
            raise ModelProblem("model", 0, f"{n_leaves} leaves > {MAX_LEAVES}")
        if n_trees < 1 or n_trees > 65535:
            raise ModelProblem("model", 0, f"n_trees {n_trees} outside 1..65535")
        if self.features.shape != (n_nodes,) or self.children.shape != (2 * n_nodes,):
            raise ModelProblem("model", 0, "node arrays have inconsistent lengths")
        if self.leaves.shape != (n_leaves, leaf_width(self.leaf_kind, self.n_outputs)):
            raise ModelProblem("model", 0, f"leaves have shape {self.leaves.shape}")
        if self.dtype == "int16":
            for name, arr in (("scale", self.scale), ("offset", self.offset)):
                if arr is None or arr.shape != (self.n_features,):
                    raise ModelProblem("model", 0, f"int16 model needs {self.n_features} {name} values")
                bad = np.nonzero(~np.isfinite(arr))[0]
                if bad.size:
                    raise ModelProblem(name, int(bad[0]), f"{name} is not finite")
            bad = np.nonzero(~(self.scale > 0))[0]
            if bad.size:
                raise ModelProblem("scale", int(bad[0]), "scale must be > 0")
        # Node checks in node order (feature, left child, right child), then roots, then leaves:
        # the order emlc_trees_validate() uses, so both report the same first problem.
        idx = np.arange(n_nodes, dtype=np.int64)
        bad_feature = self.features.astype(np.int64) >= self.n_features
        ch = self.children.astype(np.int64).reshape(n_nodes, 2)
        bad_child = ((ch >= 0) & ((ch >= n_nodes) | (ch <= idx[:, None]))) | ((ch < 0) & (-1 - ch >= n_leaves))
        bad = np.nonzero(bad_feature | bad_child.any(axis=1))[0]
        if bad.size:
            i = int(bad[0])
            if bad_feature[i]:
                raise ModelProblem("features", i, f"feature {int(self.features[i])} >= n_features {self.n_features}")
            c = int(ch[i, 0] if bad_child[i, 0] else ch[i, 1])
            if c < 0:
                raise ModelProblem("children", i, f"child leaf {-1 - c} >= n_leaves {n_leaves}")
            if c >= n_nodes:
                raise ModelProblem("children", i, f"child node {c} >= n_nodes {n_nodes}")
            raise ModelProblem("children", i, f"child node {c} not greater than its parent {i}")
        for t, r in enumerate(self.roots.astype(np.int64)):
            if r >= n_nodes or -1 - r >= n_leaves:
                raise ModelProblem("roots", t, f"root {r} out of range")
        if self.leaf_kind == LEAF_CLASS:
            bad = np.nonzero(self.leaves[:, 0].astype(np.int64) >= self.n_classes)[0]
            if bad.size:
                raise ModelProblem("leaves", int(bad[0]), f"class {int(self.leaves[bad[0], 0])} >= n_classes")
        elif self.leaf_kind in (LEAF_PROBA, LEAF_VALUE):
            bad = np.nonzero(~np.isfinite(self.leaves).all(axis=1))[0]
            if bad.size:
                raise ModelProblem("leaves", int(bad[0]), "leaf value is NaN or infinite")

    # ---- host predictor (exactly the C core's arithmetic) -------------------------------------
    @quiet
    def input_keys(self, X: np.ndarray) -> np.ndarray:
        """Integer keys of the inputs as the device compares them: (n_samples, n_features) int32."""
        X = np.asarray(X)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected X with {self.n_features} features, got shape {X.shape}")
        if self.dtype == "int16":
            if X.dtype == np.int16:
                return X.astype(np.int32)
            return K.quantize(X, self.scale, self.offset).astype(np.int32)
        return K.float32_keys(X.astype(np.float32))

    def quantize(self, X: np.ndarray) -> np.ndarray:
        """The int16 inputs an int16 model expects on the device (array('h'))."""
        if self.dtype != "int16":
            raise ValueError("quantize() applies to dtype='int16' models only")
        return K.quantize(np.asarray(X), self.scale, self.offset)

    @quiet
    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf index reached in each tree: (n_samples, n_trees)."""
        keys = self.input_keys(X)
        n = keys.shape[0]
        ref = np.tile(self.roots.astype(np.int32), (n, 1))
        th, ft, ch = self.thresholds, self.features.astype(np.intp), self.children.astype(np.int32)
        while True:
            rows, cols = np.nonzero(ref >= 0)
            if rows.size == 0:
                break
            node = ref[rows, cols]
            left = keys[rows, ft[node]] <= th[node]
            ref[rows, cols] = np.where(left, ch[2 * node], ch[2 * node + 1])
        return -1 - ref

    @quiet
    def _sums(self, X: np.ndarray) -> Tuple[np.ndarray, int]:
        """Per-class float32 sums (PROBA/PROBA8/VALUE) or int votes (CLASS)."""
        leaf = self.apply(X)
        n, T = leaf.shape
        if self.leaf_kind == LEAF_CLASS:
            cls = self.leaves[leaf, 0].astype(np.intp)
            votes = np.zeros((n, self.n_outputs), dtype=np.int64)
            for c in range(self.n_outputs):
                votes[:, c] = (cls == c).sum(axis=1)
            return votes, T
        vals = self.leaves[leaf]  # (n, T, width)
        if self.leaf_kind == LEAF_PROBA8:
            vals = vals.astype(np.float32) / np.float32(255.0)
        acc = np.zeros((n, vals.shape[2]), dtype=np.float32)
        for t in range(T):
            acc += vals[:, t, :]
        return acc, T

    @quiet
    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """Class index (classifiers) as the device returns it."""
        if not self.is_classifier:
            raise ValueError("predict_index() applies to classifiers")
        s, _ = self._sums(X)
        return np.argmax(s, axis=1)

    @quiet
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (classifiers) or float32 values (regressors), as the device computes them."""
        s, T = self._sums(X)
        if not self.is_classifier:
            return s[:, 0] / np.float32(T)
        idx = np.argmax(s, axis=1)
        classes = self.classes if self.classes is not None else np.arange(self.n_classes)
        return np.asarray(classes)[idx]

    @quiet
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, float32, as the device computes them."""
        if not self.is_classifier:
            raise ValueError("predict_proba() applies to classifiers, this model is a regressor")
        s, T = self._sums(X)
        return s.astype(np.float32) / np.float32(T)

    # ---- comparison / saving -----------------------------------------------------------------
    def same_as(self, other: object) -> bool:
        """True when every field that goes into a file is identical."""
        if not isinstance(other, TreeModel):
            return False
        if (self.dtype, self.leaf_kind, self.n_features, self.n_classes) != (
                other.dtype, other.leaf_kind, other.n_features, other.n_classes):
            return False
        for a, b in ((self.thresholds, other.thresholds), (self.features, other.features),
                     (self.children, other.children), (self.roots, other.roots),
                     (self.leaves, other.leaves), (self.scale, other.scale), (self.offset, other.offset)):
            if (a is None) != (b is None):
                return False
            if a is not None and (a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes()):
                return False
        return True

    def save(self, file: Optional[str] = None, name: Optional[str] = None, format: str = "csv"):
        """Write the model as CSV (text) or bin; returns the content (str or bytes).

        `name` is accepted for compatibility with the seed example; file defaults to name + ext.
        """
        from .io import save_model
        return save_model(self, file=file, name=name, format=format)
