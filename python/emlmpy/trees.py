"""TreeModel: the version 2 tree arrays (layout.TreeArrays) with the exact host predictor of
docs/model-format.md §1 ("Decision rule", "Aggregation"), info() and save().
Imports: numpy, keys, layout, files."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union

import numpy as np

from . import files
from . import keys as K
from .keys import quiet
from .layout import (LEAF_CLASS, LEAF_KIND_NAMES, LEAF_VALUE, PROBA_ONE, TreeArrays, count_of,
                     decode_children, node_features, node_missing_left, unpack_payload)
from .samples import as_samples


@dataclass
class TreeModel(TreeArrays):
    """A converted tree ensemble (format version 2). `classes` maps class index -> label for the
    host `predict` (arange for loaded files)."""

    classes: Optional[np.ndarray] = field(default=None, compare=False)

    @classmethod
    def from_arrays(cls, a: TreeArrays, classes: Optional[np.ndarray] = None) -> "TreeModel":
        """The model for arrays (a reader's or the encoder's); `classes` defaults to 0..n-1."""
        fields = {f.name: getattr(a, f.name) for f in dataclasses.fields(TreeArrays)}
        if classes is None and a.leaf_kind != LEAF_VALUE:
            classes = a.labels if a.labels is not None else np.arange(a.n_outputs)
        return cls(**fields, classes=classes)

    @property
    def kind(self) -> str:
        return "trees"

    @property
    def is_classifier(self) -> bool:
        return self.leaf_kind != LEAF_VALUE

    @property
    def device_call(self) -> str:
        """How to make room for this model on the device: emltrees.load sizes everything from the
        file; emltrees.new(max_trees, max_nodes, max_leaves) takes limits (max_leaves: distinct
        leaf payloads / values; unused for class leaves)."""
        return f"emltrees.load(f)  or  emltrees.new({self.n_trees}, {self.n_nodes}, {self.n_payloads})"

    def info(self) -> dict:
        """Kind, input type, leaf kind, counts, pass-through nodes, sizes. device_bytes: the model
        arrays the device allocates (§2 order, each padded to 4 bytes; the binary file minus its
        32-byte header); the emltrees object adds its own header."""
        return {
            "kind": "trees",
            "dtype": self.dtype,
            "leaf_kind": LEAF_KIND_NAMES[self.leaf_kind],
            "n_features": self.n_features,
            "n_outputs": self.n_outputs,
            "n_trees": self.n_trees,
            "n_nodes": self.n_nodes,
            "n_pass_through": self.n_pass_through,
            "n_payloads": self.n_payloads,
            "payload_bytes": self.payload_bytes,
            "file_bytes": self.file_bytes,
            "device_bytes": self.device_bytes,
            "device": self.device_call,
        }

    # ---- inputs ------------------------------------------------------------------------------
    @quiet
    def _inputs(self, X: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """(keys int32 (n, n_features), NaN mask or None) as the device compares them."""
        X = as_samples(X, self.n_features)
        if self.dtype == "int16":
            q = X if X.dtype == np.int16 else K.quantize(X, *self.quantization())
            return q.astype(np.int32), None
        x32 = X.astype(np.float32)
        return K.float32_keys(x32), np.isnan(x32)

    def input_keys(self, X: np.ndarray) -> np.ndarray:
        """Integer keys of the inputs as the device compares them: (n_samples, n_features) int32."""
        return self._inputs(X)[0]

    def quantize(self, X: np.ndarray) -> np.ndarray:
        """The int16 inputs an int16 model expects on the device (array('h'))."""
        if self.dtype != "int16":
            raise ValueError("quantize() applies to dtype='int16' models only")
        return K.quantize(np.asarray(X), *self.quantization())

    # ---- walk --------------------------------------------------------------------------------
    @quiet
    def apply(self, X: np.ndarray) -> np.ndarray:
        """Leaf reference reached in each tree, (n_samples, n_trees): walks the encoded nodes
        (shapes, pass-through nodes; NaN inputs of float models follow missing_left)."""
        keys, nan = self._inputs(X)
        left, right = decode_children(self.nodes)
        node_key = self.nodes["key"]
        feature = node_features(self.nodes)
        missing_left = node_missing_left(self.nodes)
        ref = np.tile(self.roots.astype(np.int64), (keys.shape[0], 1))
        while True:
            rows, cols = np.nonzero(ref >= 0)
            if rows.size == 0:
                break
            node = ref[rows, cols]
            f = feature[node]
            go_left = keys[rows, f] <= node_key[node]
            if nan is not None:
                go_left = np.where(nan[rows, f], missing_left[node], go_left)
            ref[rows, cols] = np.where(go_left, left[node], right[node])
        return -1 - ref

    # ---- aggregation -------------------------------------------------------------------------
    def _leaf_tables(self) -> Tuple[np.ndarray, np.ndarray]:
        """Per leaf reference (PROBA): S contributions (int64: 65536 for a pure leaf's class, the
        stored q of each payload term) and the float32 proportions fl32(count) / fl32(w)."""
        n_out = self.n_outputs
        s_rows = np.zeros((self.n_refs, n_out), dtype=np.int64)
        f_rows = np.zeros((self.n_refs, n_out), dtype=np.float32)
        s_rows[np.arange(n_out), np.arange(n_out)] = PROBA_ONE
        f_rows[np.arange(n_out), np.arange(n_out)] = np.float32(1.0)
        for p in range(self.n_payloads):
            w, terms = unpack_payload(self.payload, int(self.offsets[p]))
            for cls, q in terms:
                s_rows[n_out + p, cls] = q
                f_rows[n_out + p, cls] = np.float32(count_of(q, w)) / np.float32(w)
        return s_rows, f_rows

    def _leaf_tables_f64(self) -> np.ndarray:
        """Per leaf reference: the float64 proportions count/w (scikit-learn's tree_.value)."""
        n_out = self.n_outputs
        d_rows = np.zeros((self.n_refs, n_out), dtype=np.float64)
        d_rows[np.arange(n_out), np.arange(n_out)] = 1.0
        for p in range(self.n_payloads):
            w, terms = unpack_payload(self.payload, int(self.offsets[p]))
            for cls, q in terms:
                d_rows[n_out + p, cls] = count_of(q, w) / w
        return d_rows

    @quiet
    def _classify(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(class index, float32 probabilities) per sample, as the device computes them."""
        if not self.is_classifier:
            raise ValueError("this model is a regressor: use predict()")
        refs = self.apply(X)
        n, n_trees = refs.shape
        rows = np.arange(n)
        if self.leaf_kind == LEAF_CLASS:
            votes = np.zeros((n, self.n_outputs), dtype=np.int64)
            for t in range(n_trees):
                votes[rows, refs[:, t]] += 1
            return np.argmax(votes, axis=1), votes.astype(np.float32) / np.float32(n_trees)
        s_rows, f_rows = self._leaf_tables()
        S = np.zeros((n, self.n_outputs), dtype=np.int64)
        F = np.zeros((n, self.n_outputs), dtype=np.float32)
        U = np.zeros(n, dtype=np.int64)
        for t in range(n_trees):
            r = refs[:, t]
            S += s_rows[r]
            F += f_rows[r]  # a zero proportion adds +0.0: no change, the same as skipping it
            U += r >= self.n_outputs
        b = np.argmax(S, axis=1)
        margin = S[rows, b][:, None] - S
        margin[rows, b] = np.iinfo(np.int64).max
        decided = np.all(margin > U[:, None], axis=1)
        index = b.copy()
        ties = np.flatnonzero(~decided)
        if ties.size:  # exact or near ties: scikit-learn's float64 sums, in tree order, / n_trees
            d_rows = self._leaf_tables_f64()
            D = np.zeros((ties.size, self.n_outputs), dtype=np.float64)
            for t in range(n_trees):
                D += d_rows[refs[ties, t]]
            index[ties] = np.argmax(D / n_trees, axis=1)
        return index, F / np.float32(n_trees)

    def predict_index(self, X: np.ndarray) -> np.ndarray:
        """Class index (classifiers) as the device returns it."""
        return self._classify(X)[0]

    @quiet
    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (classifiers) or float32 values (regressors), as the device computes them."""
        if self.is_classifier:
            classes = self.classes if self.classes is not None else np.arange(self.n_outputs)
            return np.asarray(classes)[self._classify(X)[0]]
        refs = self.apply(X)
        acc = np.zeros(refs.shape[0], dtype=np.float32)
        for t in range(refs.shape[1]):
            acc += self.values[refs[:, t]]
        return acc / np.float32(refs.shape[1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, float32, as the device computes them."""
        if not self.is_classifier:
            raise ValueError("predict_proba() applies to classifiers, this model is a regressor")
        return self._classify(X)[1]

    # ---- leaf contents -----------------------------------------------------------------------
    def leaf_proportions(self, refs: np.ndarray) -> np.ndarray:
        """float32 class proportions of leaf references (CLASS leaves: one-hot)."""
        if self.leaf_kind == LEAF_VALUE:
            raise ValueError("value leaves have no class proportions")
        if self.leaf_kind == LEAF_CLASS:
            return np.eye(self.n_outputs, dtype=np.float32)[refs]
        return self._leaf_tables()[1][refs]

    # ---- comparison / saving -----------------------------------------------------------------
    def same_as(self, other: object) -> bool:
        """True when every field that goes into a file is identical."""
        if not isinstance(other, TreeArrays):
            return False
        if (self.dtype, self.leaf_kind, self.n_features, self.n_outputs) != (
                other.dtype, other.leaf_kind, other.n_features, other.n_outputs):
            return False
        for a, b in ((self.nodes, other.nodes), (self.roots, other.roots), (self.offsets, other.offsets),
                     (self.payload, other.payload), (self.values, other.values),
                     (self.scale, other.scale), (self.offset, other.offset), (self.labels, other.labels)):
            if (a is None) != (b is None):
                return False
            if a is not None and b is not None and (a.dtype != b.dtype or a.shape != b.shape
                                                    or a.tobytes() != b.tobytes()):
                return False
        return True

    def save(self, file: Optional[files.PathLike] = None, name: Optional[str] = None,
             format: Optional[str] = None) -> Union[str, bytes]:
        """Return the file content (str for 'csv', bytes for 'bin') and write it to `file` if one
        is given (via a temporary file and os.replace). `format` defaults to the one `file`'s
        extension names (.bin/.csv, any case), else 'csv'. `name` is accepted as in emlearn's
        save(name=..., file=...); it names nothing, and without `file` nothing is written."""
        return files.save(self, file=file, name=name, format=format)
