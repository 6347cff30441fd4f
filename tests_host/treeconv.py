"""Fitted scikit-learn tree / forest -> the arrays of docs/model-format.md §1 (test-side converter).

Supports DecisionTree{Classifier,Regressor}, RandomForest*, ExtraTrees* (single output).
Numbering: each tree's decision nodes keep scikit-learn's order (parents before children), with a
running offset per tree, so every child node index is larger than its parent's, which is what
emlc_trees_validate requires. Leaves are numbered in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INPUT_F32, INPUT_I16 = 0, 1
LEAF_CLASS, LEAF_PROBA, LEAF_VALUE, LEAF_PROBA8 = 0, 1, 2, 3


@dataclass
class TreeArrays:
    n_features: int
    n_outputs: int
    input: int
    leaf_kind: int
    thresholds: np.ndarray  # int32 [n_nodes], key space
    features: np.ndarray  # uint16 [n_nodes]
    children: np.ndarray  # int16 [2 n_nodes]
    roots: np.ndarray  # int16 [n_trees]
    leaves: np.ndarray  # uint8 or float32, [n_leaves] or [n_leaves, n_outputs]

    @property
    def n_nodes(self) -> int:
        return len(self.features)

    @property
    def n_leaves(self) -> int:
        return len(self.leaves)

    @property
    def n_trees(self) -> int:
        return len(self.roots)


def key_f32(x: np.ndarray) -> np.ndarray:
    """float32 -> int32 key: bits, magnitude bits flipped when negative (monotonic)."""
    b = np.asarray(x, dtype=np.float32).view(np.int32)
    return b ^ ((b >> 31) & np.int32(0x7FFFFFFF))


def floor_f32(t: np.ndarray) -> np.ndarray:
    """Largest float32 <= t (float64), with -0.0 turned into +0.0."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(over="ignore"):
        t32 = t.astype(np.float32)
    over = t32.astype(np.float64) > t
    t32[over] = np.nextafter(t32[over], np.float32(-np.inf))
    t32[t32 == 0] = np.float32(0.0)
    return t32


def threshold_keys(t: np.ndarray, feat: np.ndarray, input: int,
                   scale: np.ndarray | None, offset: np.ndarray | None) -> np.ndarray:
    """scikit-learn float64 thresholds (x <= t goes left) -> int32 keys for the chosen input."""
    if input == INPUT_F32:
        return key_f32(floor_f32(t))
    n = int(feat.max(initial=0)) + 1
    s = np.ones(n) if scale is None else np.asarray(scale, np.float32).astype(np.float64)
    o = np.zeros(n) if offset is None else np.asarray(offset, np.float32).astype(np.float64)
    q = np.floor((t - o[feat]) * s[feat])  # float64 maths with the float32 scale / offset
    return np.clip(q, -32769, 32767).astype(np.int32)


def _trees(est) -> list:
    return [e.tree_ for e in est.estimators_] if hasattr(est, "estimators_") else [est.tree_]


def convert(est, leaf_kind: int | None = None, input: int = INPUT_F32,
            scale: np.ndarray | None = None, offset: np.ndarray | None = None) -> TreeArrays:
    """Convert a fitted estimator. leaf_kind defaults to PROBA (classifier) / VALUE (regressor).
    For INPUT_I16 the caller quantizes inputs as round((x - offset) * scale) (default 1, 0)."""
    is_clf = hasattr(est, "classes_")
    if leaf_kind is None:
        leaf_kind = LEAF_PROBA if is_clf else LEAF_VALUE
    if is_clf == (leaf_kind == LEAF_VALUE):
        raise ValueError("leaf kind does not fit the estimator")
    n_out = len(est.classes_) if is_clf else 1
    thr, feat, child, roots, leaves = [], [], [], [], []
    n_nodes = n_leaves = 0
    for t in _trees(est):
        if t.n_outputs != 1:
            raise ValueError("multi-output models are not supported")
        is_leaf = t.children_left < 0
        # global reference of every scikit-learn node: node index, or -1 - leaf number
        ref = np.empty(t.node_count, dtype=np.int64)
        ref[~is_leaf] = n_nodes + np.arange(int((~is_leaf).sum()))
        ref[is_leaf] = -1 - (n_leaves + np.arange(int(is_leaf.sum())))
        inner = np.flatnonzero(~is_leaf)
        left, right = ref[t.children_left[inner]], ref[t.children_right[inner]]
        for c in (left, right):
            assert np.all((c < 0) | (c > ref[inner])), "children must come after parents"
        thr.append(t.threshold[inner])
        feat.append(t.feature[inner])
        child.append(np.stack([left, right], axis=1).ravel())
        roots.append(ref[0])
        v = t.value[is_leaf, 0, :].astype(np.float64)
        if is_clf:
            v = v / np.where(v.sum(axis=1, keepdims=True) == 0, 1, v.sum(axis=1, keepdims=True))
        leaves.append(v)
        n_nodes += len(inner)
        n_leaves += int(is_leaf.sum())
    if n_nodes > 32767 or n_leaves > 32768:
        raise ValueError("model too large for int16 child references")
    features = np.concatenate(feat).astype(np.uint16)
    p = np.concatenate(leaves)
    if leaf_kind == LEAF_CLASS:
        lv = np.argmax(p, axis=1).astype(np.uint8)
    elif leaf_kind == LEAF_PROBA8:
        lv = np.round(p * 255).astype(np.uint8)
    elif leaf_kind == LEAF_PROBA:
        lv = p.astype(np.float32)
    else:
        lv = p[:, 0].astype(np.float32)
    return TreeArrays(
        n_features=int(est.n_features_in_), n_outputs=n_out, input=input, leaf_kind=leaf_kind,
        thresholds=threshold_keys(np.concatenate(thr), features.astype(np.int64), input,
                                  scale, offset),
        features=features, children=np.concatenate(child).astype(np.int16),
        roots=np.array(roots, dtype=np.int16), leaves=lv)


def quantize(x: np.ndarray, scale: np.ndarray | None = None,
             offset: np.ndarray | None = None) -> np.ndarray:
    """Input quantization for INPUT_I16 models as model-format.md §1 defines it (float32 maths):
    q = floor((x - offset) * scale + 0.5f), clamped to int16, NaN -> 0."""
    x = np.asarray(x, dtype=np.float32)
    s = np.float32(1) if scale is None else np.asarray(scale, np.float32)
    o = np.float32(0) if offset is None else np.asarray(offset, np.float32)
    q = np.floor(((x - o) * s) + np.float32(0.5))
    q = np.where(np.isnan(q), 0, np.clip(q, -32768, 32767))
    return q.astype(np.int16)
