"""The model layout of docs/model-format.md: constants, the tree arrays of §1 (format version 2)
with their validator, the k-NN arrays of §4, node and payload coding, and the file sections.

Everything the file readers, the writers, the host predictor and the converter share about the
layout lives here, once. Imports: numpy and `errors` only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import ModelProblem

# ---- constants (§1, §2) -----------------------------------------------------------------------
FORMAT_VERSION = 2
LEGACY_VERSION = 1        # tree and k-NN files emlmpy still reads (k-NN: §4's version 1 layout)
TREES_MAGIC = b"EMLT"
KNN_MAGIC = b"EMLK"
HEADER_SIZE = 32

DTYPES = ("float", "int16")
DTYPE_CODES = {"float": 0, "int16": 1}

LEAF_CLASS = 0
LEAF_PROBA = 1
LEAF_VALUE = 2
LEAF_KIND_NAMES = {LEAF_CLASS: "class", LEAF_PROBA: "proba", LEAF_VALUE: "value"}

MAX_FEATURES = 8191       # 13 bits of `fk`
MAX_OUTPUTS = 256
MAX_TREES = 32767
MAX_NODES = 32767
MAX_REFS = 32768          # leaf references 0..32767 (roots are int16_t: -1 - ref >= -32768)
MAX_PAYLOAD_BYTES = 65535  # offsets are uint16_t

# node field `fk`: bits 0..1 shape (bit 0 left child is a leaf, bit 1 right child is a leaf),
# bit 2 missing_left, bits 3..15 feature
SHAPE_MASK = 3
MISSING_LEFT = 4
FEATURE_SHIFT = 3
SHAPE_NODES = 0       # left node i+1, right node i+c
SHAPE_LEAF_NODE = 1   # left leaf c, right node i+1
SHAPE_NODE_LEAF = 2   # left node i+1, right leaf c
SHAPE_LEAVES = 3      # left leaf c & 0xff, right leaf c >> 8
SHAPE3_MAX_REF = 255
PASS_KEY = 2 ** 31 - 1  # key of a pass-through node: every input goes left
KEY_NEG_INF, KEY_POS_INF = -0x7F800001, 0x7F800000  # key(-inf), key(+inf) of a float32 model
KEY_RANGE_RULE = ("a float model's key must lie in key(-inf)..key(+inf) (the pass-through key "
                  "2147483647 needs missing_left)")


def key_out_of_range(dtype: str, nodes: np.ndarray) -> np.ndarray:
    """Per node: a float model's threshold key outside key(-inf)..key(+inf), where a NaN would
    not follow missing_left (§1); the pass-through key with missing_left set is allowed."""
    if dtype != "float":
        return np.zeros(len(nodes), dtype=bool)
    key = nodes["key"].astype(np.int64)
    passthrough = (key == PASS_KEY) & node_missing_left(nodes)
    return ((key < KEY_NEG_INF) | (key > KEY_POS_INF)) & ~passthrough

NODE_DTYPE = np.dtype([("key", "<i4"), ("fk", "<u2"), ("c", "<u2")])
assert NODE_DTYPE.itemsize == 8

# PROBA payload: n (u8), w (u16 LE), then n x (class u8, q u16 LE)
PAYLOAD_HEAD = 3
PAYLOAD_TERM = 3
PROBA_ONE = 65536     # S contribution of a pure leaf


# ---- node coding -----------------------------------------------------------------------------
def make_fk(feature: int, shape: int, missing_left: bool) -> int:
    return (feature << FEATURE_SHIFT) | shape | (MISSING_LEFT if missing_left else 0)


def node_array(keys: Sequence[int], fks: Sequence[int], cs: Sequence[int]) -> np.ndarray:
    nodes = np.zeros(len(keys), dtype=NODE_DTYPE)
    nodes["key"] = np.asarray(keys, dtype=np.int64)
    nodes["fk"] = np.asarray(fks, dtype=np.int64)
    nodes["c"] = np.asarray(cs, dtype=np.int64)
    return nodes


def node_features(nodes: np.ndarray) -> np.ndarray:
    return (nodes["fk"] >> FEATURE_SHIFT).astype(np.intp)


def node_shapes(nodes: np.ndarray) -> np.ndarray:
    return (nodes["fk"] & SHAPE_MASK).astype(np.int64)


def node_missing_left(nodes: np.ndarray) -> np.ndarray:
    return (nodes["fk"] & MISSING_LEFT) != 0


def decode_children(nodes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The children of every node as child references (§1 shapes): a node index >= 0, or
    -1 - ref for a leaf reference. int64 arrays; no range checks (check() does those)."""
    i = np.arange(nodes.shape[0], dtype=np.int64)
    shape = node_shapes(nodes)
    c = nodes["c"].astype(np.int64)
    left = np.select([shape == SHAPE_LEAF_NODE, shape == SHAPE_LEAVES], [-1 - c, -1 - (c & 0xFF)], i + 1)
    right = np.select([shape == SHAPE_NODES, shape == SHAPE_LEAF_NODE, shape == SHAPE_NODE_LEAF],
                      [i + c, i + 1, -1 - c], -1 - (c >> 8))
    return left, right


def encode_children(i: int, left: int, right: int) -> Tuple[int, int]:
    """(shape, c) of node i whose children are the child references left, right (CSV `n` lines).
    Raises ValueError when the pair has none of the four shapes at this index."""
    if left >= 0 and right >= 0:
        if left != i + 1:
            raise ValueError(f"left child node {left} must be the next node {i + 1}")
        if right <= i:
            raise ValueError(f"right child node {right} is not after node {i}")
        return SHAPE_NODES, right - i
    if left < 0 and right >= 0:
        if right != i + 1:
            raise ValueError(f"right child node {right} must be the next node {i + 1} (left is a leaf)")
        return SHAPE_LEAF_NODE, -1 - left
    if left >= 0:
        if left != i + 1:
            raise ValueError(f"left child node {left} must be the next node {i + 1}")
        return SHAPE_NODE_LEAF, -1 - right
    rl, rr = -1 - left, -1 - right
    if rl > SHAPE3_MAX_REF or rr > SHAPE3_MAX_REF:
        raise ValueError(f"two leaf children need references <= {SHAPE3_MAX_REF}, found {rl} and {rr} "
                         "(a writer uses a pass-through node)")
    return SHAPE_LEAVES, rl | (rr << 8)


# ---- PROBA payloads --------------------------------------------------------------------------
def q_of(count: int, w: int) -> int:
    """q = count/w x 65536 rounded (integer division, within 1/2)."""
    return (count * 65536 + w // 2) // w


def count_of(q: int, w: int) -> int:
    """The count a stored q stands for: (q * w + 32768) >> 16 (inverts q_of)."""
    return (q * w + 32768) >> 16


def pack_payload(w: int, terms: Sequence[Tuple[int, int]]) -> bytes:
    """Payload bytes for (class, count) terms over w (classes increasing, counts 1..w-1)."""
    out = bytearray([len(terms), w & 0xFF, w >> 8])
    for cls, count in terms:
        q = q_of(count, w)
        out += bytes([cls, q & 0xFF, q >> 8])
    return bytes(out)


def unpack_payload(payload: np.ndarray, off: int) -> Tuple[int, List[Tuple[int, int]]]:
    """(w, [(class, q), ...]) of the payload at byte `off` (no checks: check() does those)."""
    b = payload
    n = int(b[off])
    w = int(b[off + 1]) | (int(b[off + 2]) << 8)
    terms = []
    for j in range(n):
        p = off + PAYLOAD_HEAD + PAYLOAD_TERM * j
        terms.append((int(b[p]), int(b[p + 1]) | (int(b[p + 2]) << 8)))
    return w, terms


def payload_size(n_terms: int) -> int:
    return PAYLOAD_HEAD + PAYLOAD_TERM * n_terms


# ---- counts (one definition for the binary header, the CSV `s` line and check()) ------------
def n_refs_of(leaf_kind: int, n_outputs: int, n_payloads: int) -> int:
    """Number of valid leaf references: CLASS classes, PROBA classes (pure) + payloads, VALUE values."""
    if leaf_kind == LEAF_CLASS:
        return n_outputs
    if leaf_kind == LEAF_PROBA:
        return n_outputs + n_payloads
    return n_payloads


def count_problem(leaf_kind: int, n_features: int, n_outputs: int, n_trees: int, n_nodes: int,
                  n_payloads: int, payload_bytes: int) -> Optional[Tuple[str, str]]:
    """(field, message) for the first count out of range or inconsistent with the leaf kind, in
    header order; None when all are fine. leaf_kind must be known."""
    if not 1 <= n_features <= MAX_FEATURES:
        return "n_features", f"n_features {n_features} outside 1..{MAX_FEATURES}"
    if not 1 <= n_outputs <= MAX_OUTPUTS:
        return "n_outputs", f"n_outputs {n_outputs} outside 1..{MAX_OUTPUTS}"
    if leaf_kind == LEAF_VALUE and n_outputs != 1:
        return "n_outputs", f"value leaves (regression) need n_outputs 1, found {n_outputs}"
    if not 1 <= n_trees <= MAX_TREES:
        return "n_trees", f"n_trees {n_trees} outside 1..{MAX_TREES}"
    if not 0 <= n_nodes <= MAX_NODES:
        return "n_nodes", f"n_nodes {n_nodes} outside 0..{MAX_NODES}"
    if leaf_kind == LEAF_CLASS and n_payloads != 0:
        return "n_payloads", f"class leaves have no payloads: n_payloads must be 0, found {n_payloads}"
    if leaf_kind == LEAF_PROBA and not 0 <= n_payloads <= MAX_REFS - n_outputs:
        return "n_payloads", (f"n_payloads {n_payloads} outside 0..{MAX_REFS - n_outputs} "
                              f"(references n_outputs + payload must stay <= {MAX_REFS - 1})")
    if leaf_kind == LEAF_VALUE and not 1 <= n_payloads <= MAX_REFS:
        return "n_payloads", f"n_payloads (values) {n_payloads} outside 1..{MAX_REFS}"
    if leaf_kind == LEAF_PROBA and not 0 <= payload_bytes <= MAX_PAYLOAD_BYTES:
        return "payload_bytes", f"payload_bytes {payload_bytes} outside 0..{MAX_PAYLOAD_BYTES}"
    if leaf_kind != LEAF_PROBA and payload_bytes != 0:
        return "payload_bytes", f"payload_bytes must be 0 for {LEAF_KIND_NAMES[leaf_kind]} leaves"
    return None


# ---- file sections (§2): the arrays in file / device-memory order ----------------------------
Section = Tuple[str, np.dtype, int]


def pad4(n: int) -> int:
    return (n + 3) & ~3


def tree_sections(dtype: str, leaf_kind: int, n_features: int, n_trees: int, n_nodes: int,
                  n_payloads: int, payload_bytes: int, n_labels: int = 0) -> List[Section]:
    """The §2 sections; n_labels: n_outputs when the class labels are stored (header flag bit 0)."""
    secs: List[Section] = [("nodes", NODE_DTYPE, n_nodes), ("roots", np.dtype("<i2"), n_trees)]
    if leaf_kind == LEAF_PROBA:
        secs += [("offsets", np.dtype("<u2"), n_payloads), ("payload", np.dtype("u1"), payload_bytes)]
    elif leaf_kind == LEAF_VALUE:
        secs.append(("values", np.dtype("<f4"), n_payloads))
    if dtype == "int16":
        secs += [("scale", np.dtype("<f4"), n_features), ("offset", np.dtype("<f4"), n_features)]
    if n_labels:
        secs.append(("labels", np.dtype("<i4"), n_labels))
    return secs


def knn_sections(dtype: str, n_features: int, n_items: int, n_class_labels: int = 0) -> List[Section]:
    """The §4 sections: items, labels, for int16 scale and offset, and (version 2, flag bit 0) the
    n_classes class labels."""
    item_dt = np.dtype("<f4") if dtype == "float" else np.dtype("<i2")
    secs: List[Section] = [("items", item_dt, n_items * n_features), ("labels", np.dtype("<u2"), n_items)]
    if dtype == "int16":
        secs += [("scale", np.dtype("<f4"), n_features), ("offset", np.dtype("<f4"), n_features)]
    if n_class_labels:
        secs.append(("classes", np.dtype("<i4"), n_class_labels))
    return secs


def section_starts(sections: List[Section]) -> Tuple[Dict[str, int], int]:
    """Byte offset of each section in the file (after the 32-byte header) and the file size."""
    off = HEADER_SIZE
    starts = {}
    for name, dt, count in sections:
        starts[name] = off
        off += pad4(dt.itemsize * count)
    return starts, off


# ---- tree arrays (§1) ------------------------------------------------------------------------
def _empty(dtype: str) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class TreeArrays:
    """The arrays of docs/model-format.md §1 (version 2) and the header facts of §2.

    nodes: NODE_DTYPE records (key int32, fk uint16, c uint16) in pre-order; roots: int16 child
    references; PROBA: offsets (uint16) + payload (uint8); VALUE: values (float32);
    dtype 'int16': scale, offset (float32, n_features each); classifiers may carry labels (int32,
    n_outputs): the device then returns labels[index] (header flag bit 0)."""

    dtype: str
    leaf_kind: int
    n_features: int
    n_outputs: int
    nodes: np.ndarray
    roots: np.ndarray
    offsets: np.ndarray = field(default_factory=lambda: _empty("uint16"))
    payload: np.ndarray = field(default_factory=lambda: _empty("uint8"))
    values: np.ndarray = field(default_factory=lambda: _empty("float32"))
    scale: Optional[np.ndarray] = None
    offset: Optional[np.ndarray] = None
    labels: Optional[np.ndarray] = None

    def quantization(self) -> Tuple[np.ndarray, np.ndarray]:
        """(scale, offset) of an int16 model."""
        if self.scale is None or self.offset is None:
            raise ValueError("only int16 models have scale/offset")
        return self.scale, self.offset

    # ---- counts
    @property
    def n_nodes(self) -> int:
        return int(self.nodes.shape[0])

    @property
    def n_trees(self) -> int:
        return int(self.roots.shape[0])

    @property
    def n_payloads(self) -> int:
        if self.leaf_kind == LEAF_PROBA:
            return int(self.offsets.shape[0])
        if self.leaf_kind == LEAF_VALUE:
            return int(self.values.shape[0])
        return 0

    @property
    def payload_bytes(self) -> int:
        return int(self.payload.shape[0]) if self.leaf_kind == LEAF_PROBA else 0

    @property
    def n_refs(self) -> int:
        return n_refs_of(self.leaf_kind, self.n_outputs, self.n_payloads)

    @property
    def n_classes(self) -> int:
        """Classes (classifiers), 0 for regression."""
        return 0 if self.leaf_kind == LEAF_VALUE else self.n_outputs

    @property
    def is_pass_through(self) -> np.ndarray:
        """Which nodes are pass-through nodes (shape 1, key INT32_MAX, missing_left set)."""
        n = self.nodes
        return (node_shapes(n) == SHAPE_LEAF_NODE) & (n["key"] == PASS_KEY) & node_missing_left(n)

    @property
    def n_pass_through(self) -> int:
        return int(np.count_nonzero(self.is_pass_through))

    def sections(self) -> List[Section]:
        return tree_sections(self.dtype, self.leaf_kind, self.n_features, self.n_trees, self.n_nodes,
                             self.n_payloads, self.payload_bytes, 0 if self.labels is None else self.n_outputs)

    @property
    def file_bytes(self) -> int:
        """Size of the binary file (§2)."""
        return section_starts(self.sections())[1]

    @property
    def device_bytes(self) -> int:
        """Bytes of the model arrays on the device: §2's sections in order, each padded to 4 bytes
        (the binary file minus its 32-byte header). The emltrees object itself is extra."""
        return self.file_bytes - HEADER_SIZE

    # ---- validation
    def check(self) -> None:
        """Raise ModelProblem for the first rule of §1/§2 this model breaks (what the C loader and
        emlc_trees_validate reject). Order of the checks (the C validator uses the same):
          1. model: dtype, leaf kind, then the counts in header order (count_problem), then the
             array lengths;
          2. nodes in order i = 0, 1, ...: feature < n_features, then the left child, then the
             right child, as the node's shape encodes them: a node child must be < n_nodes (and,
             shape 0, c >= 1), a leaf reference < n_refs;
          3. roots in order (node < n_nodes, leaf reference < n_refs);
          4. PROBA payloads p = 0, 1, ...: header bytes inside `payload` (offsets[p] + 3 <=
             payload_bytes), 1 <= n <= n_outputs, terms inside `payload`, w >= 2, then per term
             class (< n_outputs, increasing), q (count in 1..w-1 and q == q_of(count, w));
             VALUE values in order: finite;
          5. int16: scale[f] finite and > 0 for f in order, then offset[f] finite.
        Nodes reached by no root or by several parents are allowed (walks still end in bounds)."""
        if self.dtype not in DTYPES:
            raise ModelProblem("model", 0, f"unknown dtype {self.dtype!r}", field="dtype")
        if self.leaf_kind not in LEAF_KIND_NAMES:
            raise ModelProblem("model", 0, f"unknown leaf kind {self.leaf_kind} (0 class, 1 proba, 2 value)",
                               field="leaf_kind")
        bad = count_problem(self.leaf_kind, self.n_features, self.n_outputs, self.n_trees, self.n_nodes,
                            self.n_payloads, self.payload_bytes)
        if bad:
            raise ModelProblem("model", 0, bad[1], field=bad[0])
        if self.labels is not None and self.leaf_kind == LEAF_VALUE:
            raise ModelProblem("model", 0, "class labels are for classifiers only", field="flags")
        self._check_arrays()
        self._check_nodes()
        self._check_roots()
        if self.leaf_kind == LEAF_PROBA:
            self._check_payloads()
        elif self.leaf_kind == LEAF_VALUE:
            bad_v = np.flatnonzero(~np.isfinite(self.values))
            if bad_v.size:
                raise ModelProblem("values", int(bad_v[0]), f"value {int(bad_v[0])} is not finite")
        if self.dtype == "int16":
            scale, offset = self.quantization()
            for f in range(self.n_features):
                s = scale[f]
                if not np.isfinite(s) or not s > 0:
                    raise ModelProblem("scale", f, f"scale of feature {f} must be finite and > 0, found {s}")
            bad_o = np.flatnonzero(~np.isfinite(offset))
            if bad_o.size:
                raise ModelProblem("offset", int(bad_o[0]), f"offset of feature {int(bad_o[0])} is not finite")

    def _check_arrays(self) -> None:
        def need(ok: bool, what: str) -> None:
            if not ok:
                raise ModelProblem("model", 0, what)
        need(self.nodes.dtype == NODE_DTYPE and self.nodes.ndim == 1, "nodes must be NODE_DTYPE records")
        need(self.roots.dtype == np.int16 and self.roots.ndim == 1, "roots must be int16")
        need(self.offsets.dtype == np.uint16 and self.payload.dtype == np.uint8, "offsets/payload dtypes")
        need(self.values.dtype == np.float32, "values must be float32")
        if self.leaf_kind != LEAF_PROBA:
            need(self.offsets.size == 0 and self.payload.size == 0, "offsets/payload are for proba leaves only")
        if self.leaf_kind != LEAF_VALUE:
            need(self.values.size == 0, "values are for value leaves only")
        if self.dtype == "int16":
            for arr in (self.scale, self.offset):
                need(arr is not None and arr.dtype == np.float32 and arr.shape == (self.n_features,),
                     f"an int16 model needs float32 scale and offset of {self.n_features} values")
        else:
            need(self.scale is None and self.offset is None, "scale/offset are for int16 models only")
        if self.labels is not None:
            need(self.labels.dtype == np.int32 and self.labels.shape == (self.n_outputs,),
                 f"labels must be int32, one per class ({self.n_outputs})")

    def _check_nodes(self) -> None:
        n = self.n_nodes
        if n == 0:
            return
        feature = node_features(self.nodes)
        shape = node_shapes(self.nodes)
        c = self.nodes["c"].astype(np.int64)
        left, right = decode_children(self.nodes)
        refs = self.n_refs

        def child_bad(ch: np.ndarray) -> np.ndarray:
            return np.where(ch >= 0, ch >= n, -1 - ch >= refs)

        bad_feature = feature >= self.n_features
        bad_key = key_out_of_range(self.dtype, self.nodes)
        bad_left = child_bad(left)
        bad_right = child_bad(right) | ((shape == SHAPE_NODES) & (c == 0))
        bad = np.flatnonzero(bad_feature | bad_key | bad_left | bad_right)
        if not bad.size:
            return
        k = int(bad[0])
        if bad_feature[k]:
            raise ModelProblem("nodes", k, f"node {k}: feature {int(feature[k])} >= n_features {self.n_features}")
        if bad_key[k]:
            raise ModelProblem("nodes", k, f"node {k}: {KEY_RANGE_RULE}, found {int(self.nodes['key'][k])}")
        side, ch = ("left", int(left[k])) if bad_left[k] else ("right", int(right[k]))
        if side == "right" and shape[k] == SHAPE_NODES and c[k] == 0:
            raise ModelProblem("nodes", k, f"node {k}: right child offset 0 (shape 0 needs c >= 1)")
        if ch >= 0:
            raise ModelProblem("nodes", k, f"node {k}: {side} child node {ch} >= n_nodes {n}")
        raise ModelProblem("nodes", k, f"node {k}: {side} leaf reference {-1 - ch} >= {refs} "
                                       f"({self._refs_meaning()})")

    def _refs_meaning(self) -> str:
        if self.leaf_kind == LEAF_CLASS:
            return f"n_outputs {self.n_outputs}"
        if self.leaf_kind == LEAF_PROBA:
            return f"n_outputs {self.n_outputs} + n_payloads {self.n_payloads}"
        return f"n_payloads {self.n_payloads}"

    def _check_roots(self) -> None:
        for t, r in enumerate(self.roots.astype(np.int64)):
            if r >= self.n_nodes:
                raise ModelProblem("roots", t, f"root of tree {t}: node {int(r)} >= n_nodes {self.n_nodes}")
            if r < 0 and -1 - r >= self.n_refs:
                raise ModelProblem("roots", t, f"root of tree {t}: leaf reference {int(-1 - r)} >= "
                                               f"{self.n_refs} ({self._refs_meaning()})")

    def _check_payloads(self) -> None:
        b = self.payload
        size = int(b.shape[0])
        for p, off in enumerate(self.offsets.astype(np.int64)):
            off = int(off)
            if off + PAYLOAD_HEAD > size:
                raise ModelProblem("offsets", p, f"payload {p} at byte {off} overlaps the end of "
                                                 f"payload ({size} bytes)")
            n = int(b[off])
            if not 1 <= n <= self.n_outputs:
                raise ModelProblem("payload", p, f"payload {p}: n {n} outside 1..{self.n_outputs}", byte=off)
            if off + payload_size(n) > size:
                raise ModelProblem("payload", p, f"payload {p}: {n} terms overlap the end of payload "
                                                 f"({size} bytes)", byte=off)
            w = int(b[off + 1]) | (int(b[off + 2]) << 8)
            if w < 2:
                raise ModelProblem("payload", p, f"payload {p}: w {w} < 2", byte=off + 1)
            prev = -1
            for j in range(n):
                at = off + PAYLOAD_HEAD + PAYLOAD_TERM * j
                cls = int(b[at])
                if cls >= self.n_outputs or cls <= prev:
                    raise ModelProblem("payload", p, f"payload {p}: class {cls} out of range or not "
                                                     f"increasing (n_outputs {self.n_outputs})", byte=at)
                prev = cls
                q = int(b[at + 1]) | (int(b[at + 2]) << 8)
                count = count_of(q, w)
                if not 1 <= count <= w - 1 or q != q_of(count, w):
                    raise ModelProblem("payload", p, f"payload {p}: q {q} is no count/w x 65536 with "
                                                     f"count in 1..{w - 1} (w {w})", byte=at + 1)

    # ---- leaf contents (decoded; used by the host predictor and the CSV writer)
    def payload_terms(self, p: int) -> Tuple[int, List[Tuple[int, int]]]:
        """(w, [(class, count), ...]) of PROBA payload p."""
        w, terms = unpack_payload(self.payload, int(self.offsets[p]))
        return w, [(cls, count_of(q, w)) for cls, q in terms]


# ---- k-NN arrays (§4) ------------------------------------------------------------------------
KNN_MAX = 65535               # n_features, k (and n_classes in version 1 files)
KNN_VERSION = 2               # the binary k-NN file emlmpy writes and the device reads
KNN_MAX_CLASSES = 32768       # version 2: class indices fit the device's int16 labels
KNN_MAX_ELEMENTS = 2 ** 28    # n_items * n_features
KNN_FLAG_CLASSES = 1          # header flags bit 0: the class labels (int32) follow


@dataclass
class KnnArrays:
    """Training items (float32 or int16, row-major) with class-index labels, k, for int16 items the
    quantization (one common scale, per-feature offsets), and optionally the class labels
    (`class_labels`, int32, one per class: scikit-learn's integer classes_; the device's predict
    returns class_labels[index] instead of the index)."""

    dtype: str
    k: int
    n_features: int
    n_classes: int
    items: np.ndarray  # (n_items, n_features) float32 or int16
    labels: np.ndarray  # (n_items,) uint16, class indices
    scale: Optional[np.ndarray] = None
    offset: Optional[np.ndarray] = None
    class_labels: Optional[np.ndarray] = None  # (n_classes,) int32

    @property
    def n_items(self) -> int:
        return int(self.items.shape[0])

    def quantization(self) -> Tuple[np.ndarray, np.ndarray]:
        """(scale, offset) of an int16 model."""
        if self.scale is None or self.offset is None:
            raise ModelProblem("model", 0, "an int16 model needs scale and offset")
        return self.scale, self.offset

    def check(self) -> None:
        """Raise ModelProblem for the first broken rule, in file order (the device loader checks the
        same elements in the same order): counts, then the items (float: finite; `index` is the
        element, row-major), the labels (< n_classes), for int16 scale[f] finite and > 0 for f in
        order, then offset[f] finite; class_labels, when present, int32 with one per class. The
        limits of version 2 files (n_classes <= 32768, k <= n_items, n_items * n_features <= 2^28)
        are the binary reader's and writer's (version 1 files and CSV may exceed them)."""
        if self.dtype not in DTYPES:
            raise ModelProblem("model", 0, f"unknown dtype {self.dtype!r}", field="dtype")
        for name, v in (("n_features", self.n_features), ("n_classes", self.n_classes), ("k", self.k)):
            if not 1 <= v <= KNN_MAX:
                raise ModelProblem("model", 0, f"{name} {v} outside 1..{KNN_MAX}", field=name)
        if self.items.shape != (self.n_items, self.n_features) or self.labels.shape != (self.n_items,):
            raise ModelProblem("model", 0, "items/labels have inconsistent shapes")
        if self.n_items < 1:
            raise ModelProblem("model", 0, "no items", field="n_items")
        if self.class_labels is not None and (self.class_labels.dtype != np.int32
                                              or self.class_labels.shape != (self.n_classes,)):
            raise ModelProblem("model", 0, f"class labels must be int32, one per class ({self.n_classes})")
        if self.dtype == "float":
            bad = np.flatnonzero(~np.isfinite(self.items.reshape(-1)))
            if bad.size:
                i = int(bad[0])
                raise ModelProblem("items", i, f"item {i // self.n_features}: value of feature "
                                               f"{i % self.n_features} is NaN or infinite")
        bad = np.flatnonzero(self.labels.astype(np.int64) >= self.n_classes)
        if bad.size:
            raise ModelProblem("labels", int(bad[0]), f"label of item {int(bad[0])}: "
                                                      f"{int(self.labels[bad[0]])} >= n_classes {self.n_classes}")
        if self.dtype == "float":
            if self.scale is not None or self.offset is not None:
                raise ModelProblem("model", 0, "scale/offset are for int16 models only")
            return
        scale, offset = self.quantization()
        for name, arr in (("scale", scale), ("offset", offset)):
            if arr.shape != (self.n_features,):
                raise ModelProblem("model", 0, f"int16 model needs {self.n_features} {name} values")
        for f in range(self.n_features):
            if not np.isfinite(scale[f]) or not scale[f] > 0:
                raise ModelProblem("scale", f, f"scale of feature {f} must be finite and > 0, found {scale[f]}")
        bad = np.flatnonzero(~np.isfinite(offset))
        if bad.size:
            raise ModelProblem("offset", int(bad[0]), f"offset of feature {int(bad[0])} is not finite")
