"""Fitted scikit-learn tree / forest -> a docs/model-format.md version 2 binary file (test side).

An implementation of the format independent of python/emlmpy, used to test the C core and loader
(and, through them, emlmpy's own converter). Supports DecisionTree{Classifier,Regressor},
RandomForest*, ExtraTrees* (single output). Deliberately simple where emlmpy optimises: leaf
references are numbered in first-seen order (pure classes first for PROBA), so shape-3 nodes with
a reference >= 256 (pass-through nodes) appear whenever a model has more than 256 distinct leaves.

`Leaves` of each tree map scikit-learn's leaf node ids to references (`refs[t][node]`), so the
tests can aggregate with scikit-learn's own apply() instead of our walk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

INPUT_F32, INPUT_I16 = 0, 1
LEAF_CLASS, LEAF_PROBA, LEAF_VALUE = 0, 1, 2
LEFT_LEAF, RIGHT_LEAF, MISSING_LEFT = 1, 2, 4
NODE = np.dtype([("key", "<i4"), ("fk", "<u2"), ("c", "<u2")])
INT32_MAX = 2**31 - 1


@dataclass
class TreeV2:
    n_features: int
    n_outputs: int
    input: int
    leaf_kind: int
    nodes: np.ndarray  # NODE [n_nodes]
    roots: np.ndarray  # int16 [n_trees]
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint16))
    payload: bytes = b""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    scale: np.ndarray | None = None
    offset: np.ndarray | None = None
    labels: np.ndarray | None = None  # int32 [n_outputs]: class labels (header flag bit 0)
    refs: list = field(default_factory=list)  # per tree: {sklearn leaf node id: reference}
    payload_terms: list = field(default_factory=list)  # PROBA: per payload [(class, count)], w
    n_pass_through: int = 0

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_payloads(self) -> int:
        return len(self.offsets) if self.leaf_kind == LEAF_PROBA else len(self.values)

    def sections(self) -> list[bytes]:
        proba, value = self.leaf_kind == LEAF_PROBA, self.leaf_kind == LEAF_VALUE
        quant = self.input == INPUT_I16
        return [self.nodes.tobytes(), self.roots.astype("<i2").tobytes(),
                self.offsets.astype("<u2").tobytes() if proba else b"", self.payload if proba else b"",
                self.values.astype("<f4").tobytes() if value else b"",
                np.asarray(self.scale, "<f4").tobytes() if quant else b"",
                np.asarray(self.offset, "<f4").tobytes() if quant else b"",
                b"" if self.labels is None else np.asarray(self.labels, "<i4").tobytes()]

    def blob(self, **header: int) -> bytes:
        """The binary file; header fields (names as below) may be overridden for tests."""
        body = b"".join(s + bytes(-len(s) % 4) for s in self.sections())
        h = dict(magic=b"EMLT", version=2, input=self.input, leaf_kind=self.leaf_kind,
                 n_features=self.n_features, n_outputs=self.n_outputs, n_trees=self.n_trees,
                 n_nodes=self.n_nodes, n_payloads=self.n_payloads if self.leaf_kind else 0,
                 flags=0 if self.labels is None else 1, payload_bytes=len(self.payload) if self.leaf_kind == LEAF_PROBA else 0,
                 total=32 + len(body), reserved2=0)
        h.update(header)
        return struct.pack("<4sHBBHHHHHHIII", h["magic"], h["version"], h["input"], h["leaf_kind"],
                           h["n_features"], h["n_outputs"], h["n_trees"], h["n_nodes"], h["n_payloads"],
                           h["flags"], h["payload_bytes"], h["total"], h["reserved2"]) + body


def key_f32(x: np.ndarray) -> np.ndarray:
    """float32 -> int32 key: bits, magnitude bits flipped when negative (monotonic)."""
    b = np.asarray(x, dtype=np.float32).view(np.int32)
    return b ^ ((b >> 31) & np.int32(0x7FFFFFFF))


def floor_f32(t: np.ndarray) -> np.ndarray:
    """Largest float32 <= t (float64), with -0.0 turned into +0.0."""
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    with np.errstate(over="ignore"):
        t32 = t.astype(np.float32)
    over = t32.astype(np.float64) > t
    t32[over] = np.nextafter(t32[over], np.float32(-np.inf))
    t32[t32 == 0] = np.float32(0.0)
    return t32


def threshold_key(t: float, feature: int, input: int, scale, offset) -> int:
    """A scikit-learn float64 threshold (x <= t goes left) as the int32 key for the input type."""
    if input == INPUT_F32:
        return int(key_f32(floor_f32(t))[0])
    s = 1.0 if scale is None else float(np.float32(scale[feature]))
    o = 0.0 if offset is None else float(np.float32(offset[feature]))
    return int(np.clip(np.floor((t - o) * s), -32769, 32767))


def counts_of(tree, node: int) -> tuple[list[tuple[int, int]], int]:
    """scikit-learn's leaf proportions as exact (class, count) terms over w (docs §1)."""
    v = tree.value[node, 0, :].astype(np.float64)
    w = tree.weighted_n_node_samples[node]
    counts = np.rint(v * w)
    assert w == int(w) and np.all(counts / w == v), "leaf values are not count/w"
    return [(int(c), int(k)) for c, k in enumerate(counts) if k > 0], int(w)


def _trees(est) -> list:
    return [e.tree_ for e in est.estimators_] if hasattr(est, "estimators_") else [est.tree_]


def convert(est, leaf_kind: int | None = None, input: int = INPUT_F32,
            scale: np.ndarray | None = None, offset: np.ndarray | None = None, labels: bool = False) -> TreeV2:
    """Convert a fitted estimator. leaf_kind defaults to PROBA (classifier) / VALUE (regressor).
    For INPUT_I16 the caller quantizes inputs with quantize() (default scale 1, offset 0).
    labels: store the classifier's classes_ (integers) so predict returns them."""
    is_clf = hasattr(est, "classes_")
    leaf_kind = (LEAF_PROBA if is_clf else LEAF_VALUE) if leaf_kind is None else leaf_kind
    if is_clf == (leaf_kind == LEAF_VALUE):
        raise ValueError("leaf kind does not fit the estimator")
    n_out = len(est.classes_) if is_clf else 1
    ref_of: dict = {}  # leaf content -> reference
    payload = bytearray()
    offsets: list[int] = []
    values: list[float] = []
    terms_list: list = []

    def leaf_ref(tree, node: int) -> int:
        if leaf_kind == LEAF_VALUE:
            key = ("v", np.float32(tree.value[node, 0, 0]).tobytes())
            if key not in ref_of:
                ref_of[key] = len(values)
                values.append(float(np.float32(tree.value[node, 0, 0])))
            return ref_of[key]
        terms, w = counts_of(tree, node)
        if leaf_kind == LEAF_CLASS:
            return int(np.argmax(tree.value[node, 0, :]))
        if len(terms) == 1:
            return terms[0][0]  # pure
        key = ("p", tuple(terms), w)
        if key not in ref_of:
            ref_of[key] = n_out + len(offsets)
            offsets.append(len(payload))
            terms_list.append((terms, w))
            payload.extend(struct.pack("<BH", len(terms), w))
            for c, k in terms:
                payload.extend(struct.pack("<BH", c, (k * 65536 + w // 2) // w))
        return ref_of[key]

    nodes: list[tuple[int, int, int]] = []
    roots: list[int] = []
    refs: list[dict] = []
    n_pass = 0
    missing = lambda t, n: int(getattr(t, "missing_go_to_left", np.zeros(t.node_count))[n])  # noqa: E731
    for tree in _trees(est):
        left, right = tree.children_left, tree.children_right
        trefs = {n: leaf_ref(tree, n) for n in range(tree.node_count) if left[n] < 0}
        refs.append(trefs)
        if left[0] < 0:
            roots.append(-1 - trefs[0])
            continue
        roots.append(len(nodes))
        stack = [0]
        while stack:  # pre-order: a node, its left subtree, its right subtree
            n = stack.pop()
            i = len(nodes)
            f = int(tree.feature[n])
            key = threshold_key(float(tree.threshold[n]), f, input, scale, offset)
            miss = MISSING_LEFT if missing(tree, n) and input == INPUT_F32 else 0
            l_leaf, r_leaf = left[left[n]] < 0, left[right[n]] < 0
            if l_leaf and r_leaf:
                a, b = trefs[left[n]], trefs[right[n]]
                if a < 256 and b < 256:
                    nodes.append((key, f << 3 | LEFT_LEAF | RIGHT_LEAF | miss, a | b << 8))
                else:  # left leaf here, the right leaf on a pass-through node at i + 1
                    nodes.append((key, f << 3 | LEFT_LEAF | miss, a))
                    nodes.append((INT32_MAX, LEFT_LEAF | MISSING_LEFT, b))
                    n_pass += 1
            elif l_leaf:
                nodes.append((key, f << 3 | LEFT_LEAF | miss, trefs[left[n]]))
                stack.append(int(right[n]))
            elif r_leaf:
                nodes.append((key, f << 3 | RIGHT_LEAF | miss, trefs[right[n]]))
                stack.append(int(left[n]))
            else:
                nodes.append((key, f << 3 | miss, 0))  # c: the right child's offset, known later
                stack.append(int(right[n]))
                stack.append(("mark", i))
                stack.append(int(left[n]))
            while stack and isinstance(stack[-1], tuple):
                what, j = stack.pop()
                if what == "mark":  # the left subtree of j is done: its right child comes next
                    k, fk, _ = nodes[j]
                    nodes[j] = (k, fk, len(nodes) - j)
    if nodes and (nodes[-1][1] & (LEFT_LEAF | RIGHT_LEAF)) != (LEFT_LEAF | RIGHT_LEAF):
        nodes.append((0, LEFT_LEAF | RIGHT_LEAF, 0))  # the pass-through's unreachable right child
    arr = np.array(nodes, dtype=NODE) if nodes else np.zeros(0, NODE)
    return TreeV2(n_features=int(est.n_features_in_), n_outputs=n_out, input=input, leaf_kind=leaf_kind,
                  nodes=arr, roots=np.array(roots, dtype=np.int16),
                  offsets=np.array(offsets, dtype=np.uint16), payload=bytes(payload),
                  values=np.array(values, dtype=np.float32),
                  scale=None if input == INPUT_F32 else np.ones(est.n_features_in_, np.float32) if scale is None
                  else np.asarray(scale, np.float32),
                  offset=None if input == INPUT_F32 else np.zeros(est.n_features_in_, np.float32) if offset is None
                  else np.asarray(offset, np.float32),
                  labels=np.asarray(est.classes_, np.int32) if labels else None,
                  refs=refs, payload_terms=terms_list, n_pass_through=n_pass)


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


def leaf_refs(est, m: TreeV2, X: np.ndarray) -> np.ndarray:
    """[n_trees, n_samples] the leaf reference each tree reaches, from scikit-learn's apply()."""
    out = []
    for t, trefs in zip(getattr(est, "estimators_", [est]), m.refs):
        ids = t.apply(np.asarray(X, np.float32))
        out.append(np.array([trefs[i] for i in ids], dtype=np.int64))
    return np.array(out)


def reference(est, m: TreeV2, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """docs/model-format.md "Aggregation" in numpy from scikit-learn's leaves: (class, F/T) where F
    is the float32 sums (probabilities or the value) and class the documented predict."""
    refs = leaf_refs(est, m, X)
    T, n = refs.shape
    F = np.zeros((n, m.n_outputs), np.float32)
    if m.leaf_kind == LEAF_VALUE:
        for r in refs:
            F[:, 0] = (F[:, 0] + m.values[r]).astype(np.float32)
        return np.zeros(n, np.int64), (F / np.float32(T)).astype(np.float32)
    if m.leaf_kind == LEAF_CLASS:
        votes = np.zeros((n, m.n_outputs), np.int64)
        for r in refs:
            votes[np.arange(n), r] += 1
        return np.argmax(votes, axis=1), (votes.astype(np.float32) / np.float32(T)).astype(np.float32)
    S = np.zeros((n, m.n_outputs), np.int64)
    U = np.zeros(n, np.int64)
    for r in refs:
        for s in range(n):
            if r[s] < m.n_outputs:
                S[s, r[s]] += 65536
                F[s, r[s]] = np.float32(F[s, r[s]] + np.float32(1))
            else:
                terms, w = m.payload_terms[r[s] - m.n_outputs]
                for c, k in terms:
                    S[s, c] += (k * 65536 + w // 2) // w
                    F[s, c] = np.float32(F[s, c] + np.float32(np.float32(k) / np.float32(w)))
                U[s] += 1
    cls = np.argmax(S, axis=1)
    for s in range(n):
        others = np.delete(S[s], cls[s])
        if others.size and (S[s, cls[s]] - others.max()) <= U[s]:  # scikit-learn's float64 rule
            D = np.zeros(m.n_outputs, np.float64)
            for r in refs[:, s]:
                if r < m.n_outputs:
                    D[r] += 1.0
                else:
                    terms, w = m.payload_terms[r - m.n_outputs]
                    for c, k in terms:
                        D[c] += k / w
            cls[s] = np.argmax(D / T)
    return cls, (F / np.float32(T)).astype(np.float32)
