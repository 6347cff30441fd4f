"""CSV files: tree models in format version 2 (docs/model-format.md §3) and k-NN files (§4,
version 1 syntax, optional `cl` lines; host only). Readers return layout.TreeArrays / layout.KnnArrays and accept exactly what the
device loader accepts; every rejection is a ModelFormatError naming the 1-based line.

Imports: numpy, errors, numbers, layout, csvtext.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

import numpy as np

from .csvtext import Fields, Rec, records
from .errors import ModelFormatError, ModelProblem, in_file
from .layout import (DTYPE_CODES, DTYPES, FORMAT_VERSION, KNN_MAX, LEAF_CLASS,
                     LEAF_PROBA, LEAF_VALUE, MAX_FEATURES, MAX_OUTPUTS, KnnArrays,
                     TreeArrays, count_problem, decode_children, encode_children, n_refs_of, node_array,
                     node_features, node_missing_left, pack_payload, payload_size, make_fk,
                     HEADER_SIZE, section_starts, tree_sections, KEY_NEG_INF, KEY_POS_INF, KEY_RANGE_RULE,
                     PASS_KEY)
from .numbers import format_float32

MAX_FIELD = 16            # version 2: the longest field (an int32 with sign is 11 characters)
MAX_FIELD_V1 = 64         # version 1 and k-NN files
HEADER_ORDER = ("v", "d", "k", "f", "o", "s")
OPTIONAL_HEADERS = ("d",)
DATA_ORDER = ("q", "r", "n", "p", "lv", "cl")
U32 = 2 ** 32 - 1


def _bits(values: Optional[np.ndarray]) -> List[int]:
    return [] if values is None else [int(b) for b in np.asarray(values, dtype="<f4").view("<u4")]


def _f32(bits: int) -> np.float32:
    return np.array([bits], dtype="<u4").view("<f4")[0]


# ---- writing ---------------------------------------------------------------------------------
def write_trees(m: TreeArrays) -> str:
    """Version 2 CSV, lines in the order of §3, `\\n` line ends."""
    lines = [f"v,{FORMAT_VERSION}", f"d,{DTYPE_CODES[m.dtype]}", f"k,{m.leaf_kind}", f"f,{m.n_features}",
             f"o,{m.n_outputs}", f"s,{m.n_trees},{m.n_nodes},{m.n_payloads},{m.payload_bytes},"
             f"{0 if m.labels is None else 1}"]
    if m.dtype == "int16":
        lines += [f"q,{s},{o}" for s, o in zip(_bits(m.scale), _bits(m.offset))]
    lines += [f"r,{int(r)}" for r in m.roots]
    left, right = decode_children(m.nodes)
    feature, ml = node_features(m.nodes), node_missing_left(m.nodes)
    for i in range(m.n_nodes):
        lines.append(f"n,{int(feature[i])},{int(m.nodes['key'][i])},{int(left[i])},{int(right[i])},"
                     f"{int(ml[i])}")
    if m.leaf_kind == LEAF_PROBA:
        for p in range(m.n_payloads):
            w, terms = m.payload_terms(p)
            lines.append(f"p,{w}," + ",".join(f"{cls},{count}" for cls, count in terms))
    elif m.leaf_kind == LEAF_VALUE:
        lines += [f"lv,{b}" for b in _bits(m.values)]
    if m.labels is not None:
        lines += [f"cl,{int(v)}" for v in m.labels]
    return "\n".join(lines) + "\n"


# ---- reading version 2 -----------------------------------------------------------------------
class _TreeReader:
    """One pass over the records in file order, as the streaming device loader
    (cores/emlc_load_csv.c): each line is checked when it is read, against the counts so far
    (its element's rules of TreeArrays.check() included), so the first bad line is the one
    named; then the counts and check() at the end of the file."""

    def __init__(self, path: Optional[str]) -> None:
        self.fl = Fields(path, MAX_FIELD)
        self.path = path
        self.data_line = 0
        self.next_header = 0
        self.dtype = "float"
        self.leaf_kind = LEAF_CLASS
        self.n_features = self.n_outputs = 0
        self.declared: Dict[str, int] = {}
        self.s_line = 0
        self.last_line = 1
        self.lines: Dict[str, List[int]] = {k: [] for k in DATA_ORDER}
        self.q: List[int] = []
        self.roots: List[int] = []
        self.keys: List[int] = []
        self.fks: List[int] = []
        self.cs: List[int] = []
        self.payloads: List[bytes] = []
        self.payload_used = 0
        self.values: List[int] = []
        self.labels: List[int] = []
        self.flags = 0
        self.block_bytes = 0  # the model's bytes on the device, from the s line

    def err(self, msg: str, line: int) -> ModelFormatError:
        return self.fl.err(msg, line)

    # headers: v, d (optional), k, f, o, s, each once, in this order, before any data line
    def header(self, r: Rec) -> None:
        pos = HEADER_ORDER.index(r.kind)
        if self.data_line:
            raise self.err(f"header line '{r.kind}' after the first data line (line {self.data_line})", r.line)
        if pos < self.next_header:
            raise self.err(f"'{r.kind}' line repeated or out of order (header lines: v, d (optional), "
                           "k, f, o, s, each once, in this order)", r.line)
        missing = [h for h in HEADER_ORDER[self.next_header:pos] if h not in OPTIONAL_HEADERS]
        if missing:
            raise self.err(f"expected a '{missing[0]}' line before this '{r.kind}' line", r.line)
        self.next_header = pos + 1
        fl = self.fl
        if r.kind == "v":
            fl.nfields(r, 1)
            version = fl.integer(r, 0, 0, U32, "format version")
            if version != FORMAT_VERSION:
                hint = " (version 1: read and re-save it with emlmpy)" if version == 1 else ""
                raise self.err(f"unsupported format version {version} (this reader knows "
                               f"{FORMAT_VERSION}){hint}", r.line)
        elif r.kind == "d":
            fl.nfields(r, 1)
            self.dtype = DTYPES[fl.integer(r, 0, 0, 1, "input dtype (0 float32, 1 int16)")]
        elif r.kind == "k":
            fl.nfields(r, 1)
            self.leaf_kind = fl.integer(r, 0, 0, 2, "leaf kind (0 class, 1 proba, 2 value)")
        elif r.kind == "f":
            fl.nfields(r, 1)
            self.n_features = fl.integer(r, 0, 1, MAX_FEATURES, "n_features")
        elif r.kind == "o":
            fl.nfields(r, 1)
            self.n_outputs = fl.integer(r, 0, 1, MAX_OUTPUTS, "n_outputs")
            if self.leaf_kind == LEAF_VALUE and self.n_outputs != 1:
                raise self.err(f"value leaves (regression) need n_outputs 1, found {self.n_outputs}", r.line)
        else:  # s
            fl.nfields(r, 5)
            names = ("n_trees", "n_nodes", "n_payloads", "payload_bytes")
            vals = [fl.integer(r, j, 0, U32, names[j]) for j in range(4)]
            bad = count_problem(self.leaf_kind, self.n_features, self.n_outputs, *vals)
            if bad:
                raise self.err(bad[1], r.line)
            self.flags = fl.integer(r, 4, 0, 1, "flags (1: class labels follow)")
            if self.flags and self.leaf_kind == LEAF_VALUE:
                raise self.err("class labels are for classifiers only", r.line)
            n_trees, n_nodes, n_payloads, payload_bytes = vals
            self.declared = {"q": self.n_features if self.dtype == "int16" else 0, "r": n_trees,
                             "n": n_nodes, "p": n_payloads if self.leaf_kind == LEAF_PROBA else 0,
                             "lv": n_payloads if self.leaf_kind == LEAF_VALUE else 0,
                             "cl": self.n_outputs if self.flags else 0,
                             "payload_bytes": payload_bytes, "n_payloads": n_payloads}
            self.s_line = r.line
            self.block_bytes = section_starts(tree_sections(
                self.dtype, self.leaf_kind, self.n_features, n_trees, n_nodes, n_payloads, payload_bytes,
                self.n_outputs if self.flags else 0))[1] - HEADER_SIZE

    def data(self, r: Rec) -> None:
        if self.next_header < len(HEADER_ORDER):
            missing = [h for h in HEADER_ORDER[self.next_header:] if h not in OPTIONAL_HEADERS][0]
            raise self.err(f"data line '{r.kind}' before the '{missing}' header line", r.line)
        self.data_line = self.data_line or r.line
        k = r.kind
        seen = self.lines[k]
        if len(seen) >= self.declared[k]:
            why = {"q": "q lines are for int16 models only (n_features of them)",
                   "p": "p lines are for proba leaves only", "lv": "lv lines are for value leaves only",
                   "cl": "cl lines need flags 1 on the s line"}
            if self.declared[k] == 0 and k in why:
                raise self.err(why[k], r.line)
            raise self.err(f"more '{k}' lines than the {self.declared[k]} declared on line {self.s_line}",
                           r.line)
        fl = self.fl
        if k == "q":
            fl.nfields(r, 2)
            self.q += [fl.integer(r, 0, 0, U32, "scale (float32 bits)"), fl.integer(r, 1, 0, U32, "offset (float32 bits)")]
            scale, offset = _f32(self.q[-2]), _f32(self.q[-1])
            if not (np.isfinite(scale) and scale > 0):
                raise self.err(f"scale of feature {len(seen)} must be finite and > 0, found {scale}", r.line)
            if not np.isfinite(offset):
                raise self.err(f"offset of feature {len(seen)} is not finite", r.line)
        elif k == "r":
            fl.nfields(r, 1)
            root = fl.integer(r, 0, -32768, 32767, "root")
            self.child(root, f"root of tree {len(seen)}:", r)
            self.roots.append(root)
        elif k == "n":
            self.node(r, len(seen))
        elif k == "p":
            self.payload(r)
        elif k == "cl":
            fl.nfields(r, 1)
            self.labels.append(fl.integer(r, 0, -2 ** 31, 2 ** 31 - 1, "class label"))
        else:
            fl.nfields(r, 1)
            self.values.append(fl.integer(r, 0, 0, U32, "value (float32 bits)"))
            if not np.isfinite(_f32(self.values[-1])):
                raise self.err(f"value {len(seen)} is not finite", r.line)
        seen.append(r.line)

    def child(self, ch: int, who: str, r: Rec) -> None:
        """A node index (>= 0) below n_nodes, or a leaf reference (-1 - ref) below n_refs; `who`
        is "node i: left" / "node i: right" / "root of tree t:" (TreeArrays.check()'s words)."""
        n_nodes = self.declared["n"]
        refs = n_refs_of(self.leaf_kind, self.n_outputs, self.declared["n_payloads"])
        child = "" if who.endswith(":") else " child"
        if ch >= n_nodes:
            raise self.err(f"{who}{child} node {ch} >= n_nodes {n_nodes}", r.line)
        if ch < 0 and -1 - ch >= refs:
            raise self.err(f"{who} leaf reference {-1 - ch} >= {refs}", r.line)

    def node(self, r: Rec, i: int) -> None:
        fl = self.fl
        fl.nfields(r, 5)
        feature = fl.integer(r, 0, 0, MAX_FEATURES, "feature")  # the 13-bit field; check() bounds it by n_features
        key = fl.integer(r, 1, -2 ** 31, 2 ** 31 - 1, "key")
        left = fl.integer(r, 2, -32768, 32767, "left child")
        right = fl.integer(r, 3, -32768, 32767, "right child")
        ml = fl.integer(r, 4, 0, 1, "missing_left")
        try:
            shape, c = encode_children(i, left, right)
        except ValueError as e:
            raise self.err(f"node {i}: {e}", r.line) from None
        if feature >= self.n_features:
            raise self.err(f"node {i}: feature {feature} >= n_features {self.n_features}", r.line)
        if self.dtype == "float" and not KEY_NEG_INF <= key <= KEY_POS_INF and not (key == PASS_KEY and ml):
            raise self.err(f"node {i}: {KEY_RANGE_RULE}, found {key}", r.line)
        self.child(left, f"node {i}: left", r)
        self.child(right, f"node {i}: right", r)
        self.keys.append(key)
        self.fks.append(make_fk(feature, shape, bool(ml)))
        self.cs.append(c)

    def payload(self, r: Rec) -> None:
        fl = self.fl
        nf = len(r.fields)
        if nf < 3 or nf % 2 == 0:
            raise self.err(f"'p' line needs w then class,count pairs, found {nf} field(s)", r.line)
        n_terms = (nf - 1) // 2
        if n_terms > self.n_outputs:
            raise self.err(f"{n_terms} terms > n_outputs {self.n_outputs}", r.line)
        w = fl.integer(r, 0, 2, 65535, "w")
        terms = []
        prev = -1
        for j in range(n_terms):
            cls = fl.integer(r, 1 + 2 * j, 0, self.n_outputs - 1, "class")
            if cls <= prev:
                raise self.err(f"classes must increase: {cls} after {prev}", r.line)
            prev = cls
            terms.append((cls, fl.integer(r, 2 + 2 * j, 1, w - 1, "count")))
        size = payload_size(n_terms)
        if self.payload_used + size > self.declared["payload_bytes"]:
            raise self.err(f"payloads exceed the {self.declared['payload_bytes']} payload bytes declared "
                           f"on line {self.s_line}", r.line)
        self.payload_used += size
        self.payloads.append(pack_payload(w, terms))

    def finish(self) -> TreeArrays:
        if self.next_header < len(HEADER_ORDER):
            missing = [h for h in HEADER_ORDER[self.next_header:] if h not in OPTIONAL_HEADERS][0]
            raise self.err(f"missing '{missing}' header line", self.last_line)
        for k in DATA_ORDER:
            if len(self.lines[k]) != self.declared[k]:
                raise self.err(f"truncated or wrong counts: line {self.s_line} declares {self.declared[k]} "
                               f"'{k}' line(s), found {len(self.lines[k])}", self.last_line)
        if self.payload_used != self.declared["payload_bytes"]:
            raise self.err(f"the payloads have {self.payload_used} bytes, line {self.s_line} declares "
                           f"{self.declared['payload_bytes']}", self.last_line)
        m = TreeArrays(dtype=self.dtype, leaf_kind=self.leaf_kind, n_features=self.n_features,
                       n_outputs=self.n_outputs, nodes=node_array(self.keys, self.fks, self.cs),
                       roots=np.array(self.roots, dtype=np.int16))
        if self.leaf_kind == LEAF_PROBA:
            sizes = [len(p) for p in self.payloads]
            m.offsets = np.array(np.cumsum([0] + sizes[:-1]) if sizes else [], dtype=np.uint16)
            m.payload = np.frombuffer(b"".join(self.payloads), dtype=np.uint8).copy()
        elif self.leaf_kind == LEAF_VALUE:
            m.values = np.array(self.values, dtype="<u4").view("<f4").astype(np.float32)
        if self.dtype == "int16":
            q = np.array(self.q, dtype="<u4").view("<f4").astype(np.float32).reshape(-1, 2)
            m.scale, m.offset = q[:, 0].copy(), q[:, 1].copy()
        if self.labels:
            m.labels = np.array(self.labels, dtype=np.int32)
        in_file(m.check, self.locate, self.path)
        return m

    def locate(self, p: ModelProblem) -> Dict[str, Optional[int]]:
        table = {"nodes": "n", "roots": "r", "offsets": "p", "payload": "p", "values": "lv",
                 "scale": "q", "offset": "q", "labels": "cl"}
        lines = self.lines.get(table.get(p.where, ""), [])
        return {"line": lines[p.index] if p.index < len(lines) else self.s_line}


def max_csv_bytes(block_bytes: int) -> int:
    """The longest CSV file the device reads for a model of block_bytes (0 before the s line):
    EMLC_CSV_MAX_BYTES of cores/emlc_load.h (a stream that never ends stops)."""
    return 1024 + 32 * block_bytes


def read_trees(text: str, path: Optional[str] = None) -> TreeArrays:
    """A version 2 tree CSV (§3), without a byte-order mark (io.loads strips it)."""
    rd = _TreeReader(path)
    empty = True

    def too_long(before_line: int) -> None:
        """The device stops at the first byte beyond the length bound: on a line before this one?"""
        limit = max_csv_bytes(rd.block_bytes)
        if len(text) > limit and text.count("\n", 0, limit) + 1 < before_line:
            raise rd.err("file too long for the model it declares", text.count("\n", 0, limit) + 1)

    for r in records(text, path):
        empty = False
        too_long(r.line + 1)
        rd.last_line = r.line
        if r.kind in HEADER_ORDER:
            rd.header(r)
        elif r.kind in DATA_ORDER:
            rd.data(r)
    too_long(text.count("\n") + 2)
    if empty:
        raise rd.err("empty file: no records", 1)
    return rd.finish()


# ---- k-NN files (version 1 syntax, §4) --------------------------------------------------------
KNN_CSV_VERSION = 1  # k-NN CSV files keep version 1's syntax (§4)
V1_DATA_KINDS = ("l", "lp", "r", "n", "q", "i")
V1_HEADER_KINDS = ("v", "d", "k", "f", "c", "o", "s", "lb", "knn")
V1_EXTENSION_KINDS = ("d", "k", "o", "q", "lp", "s", "knn", "i")


def write_knn(m: KnnArrays) -> str:
    lines = [f"v,{KNN_CSV_VERSION}", f"knn,{m.n_items},{m.n_features},{m.k},{m.n_classes}", f"d,{m.dtype}"]
    lines += v1_q_lines(m.scale, m.offset)
    if m.class_labels is not None:
        lines += [f"cl,{int(v)}" for v in m.class_labels]
    for lab, row in zip(m.labels, m.items):
        vals = (format_float32(v) for v in row) if m.dtype == "float" else (str(int(v)) for v in row)
        lines.append(f"i,{int(lab)}," + ",".join(vals))
    return "\n".join(lines) + "\n"


def v1_q_lines(scale: Optional[np.ndarray], offset: Optional[np.ndarray]) -> List[str]:
    if scale is None or offset is None:
        return []
    return [f"q,{f},{format_float32(s)},{format_float32(o)}" for f, (s, o) in enumerate(zip(scale, offset))]


def v1_headers(recs: List[Rec], fl: Fields) -> Dict[str, Rec]:
    """Version 1 header records by kind: each at most once and before the first data line (l, lp,
    r, n, q, i); the extension kinds only after the `v` line."""
    heads: Dict[str, Rec] = {}
    first_data: Optional[Rec] = None
    has_v = any(r.kind == "v" for r in recs)
    for r in recs:
        if r.kind in V1_DATA_KINDS:
            if first_data is None:
                first_data = r
        elif r.kind in V1_HEADER_KINDS:
            if first_data is not None:
                raise fl.err(f"header line '{r.kind}' after the first data line (line {first_data.line})", r.line)
            if r.kind in heads:
                raise fl.err(f"duplicate '{r.kind}' line (first on line {heads[r.kind].line})", r.line)
            if r.kind in V1_EXTENSION_KINDS and has_v and "v" not in heads:
                raise fl.err(f"'{r.kind}' line before the 'v' line", r.line)
            heads[r.kind] = r
    return heads


def v1_dtype(fl: Fields, r: Rec) -> str:
    fl.nfields(r, 1)
    if r.fields[0] not in DTYPES:
        raise fl.err(f"unknown dtype {r.fields[0]!r} (float or int16)", r.line)
    return r.fields[0]


def v1_quant(recs: Iterable[Rec], fl: Fields, n_features: int, dtype: str):
    """Version 1 `q,<feature>,<scale>,<offset>` lines, in feature order; features without one get
    scale 1, offset 0. Returns (scale, offset, line of each feature's q line or 0)."""
    qs = [r for r in recs if r.kind == "q"]
    if dtype == "float":
        if qs:
            raise fl.err("'q' lines are only allowed in int16 models", qs[0].line)
        return None, None, []
    scale = np.ones(n_features, dtype=np.float32)
    offset = np.zeros(n_features, dtype=np.float32)
    lines = [0] * n_features
    for j, r in enumerate(qs):
        fl.nfields(r, 3)
        f = fl.integer(r, 0, 0, n_features - 1, "feature")
        if f != j:
            raise fl.err(f"'q' lines must come in feature order: expected feature {j}, found {f}", r.line)
        scale[f] = fl.f32(r, 1, "scale")
        offset[f] = fl.f32(r, 2, "offset")
        lines[f] = r.line
    return scale, offset, lines


def read_knn(text: str, path: Optional[str] = None) -> KnnArrays:
    """A k-NN CSV (`v,1` and a `knn` line)."""
    fl = Fields(path, MAX_FIELD_V1)
    recs = list(records(text, path))
    heads = v1_headers(recs, fl)
    if "v" not in heads or "knn" not in heads:
        raise fl.err("not a k-NN file: needs a 'v,1' and a 'knn' line", recs[0].line if recs else 1)
    fl.nfields(heads["v"], 1)
    if fl.integer(heads["v"], 0, 0, U32, "format version") != KNN_CSV_VERSION:
        raise fl.err(f"k-NN files are format version {KNN_CSV_VERSION}", heads["v"].line)
    h = heads["knn"]
    fl.nfields(h, 4)
    n_items = fl.integer(h, 0, 1, 2 ** 31 - 1, "n_items")
    n_features = fl.integer(h, 1, 1, KNN_MAX, "n_features")
    k = fl.integer(h, 2, 1, KNN_MAX, "k")
    n_classes = fl.integer(h, 3, 1, KNN_MAX, "n_classes")
    dtype = v1_dtype(fl, heads["d"]) if "d" in heads else "float"
    scale, offset, q_lines = v1_quant(recs, fl, n_features, dtype)
    items_recs = [r for r in recs if r.kind == "i"]
    if len(items_recs) > n_items:
        raise fl.err(f"more 'i' lines than the {n_items} declared on line {h.line}", items_recs[n_items].line)
    if len(items_recs) < n_items:
        raise fl.err(f"truncated or wrong counts: line {h.line} declares {n_items} 'i' line(s), "
                     f"found {len(items_recs)}", recs[-1].line)
    items = np.zeros((n_items, n_features), dtype=np.float32 if dtype == "float" else np.int16)
    labels = np.zeros(n_items, dtype=np.uint16)
    for j, r in enumerate(items_recs):
        fl.nfields(r, n_features + 1)
        labels[j] = fl.integer(r, 0, 0, n_classes - 1, "label")
        for f in range(n_features):
            if dtype == "float":
                items[j, f] = fl.f32(r, f + 1, "item value")
            else:
                items[j, f] = fl.integer(r, f + 1, -32768, 32767, "item value")
    class_labels = None
    cl_recs = [r for r in recs if r.kind == "cl"]
    if cl_recs:  # optional: the class labels, one per class in class order
        if len(cl_recs) > n_classes:
            raise fl.err(f"more 'cl' lines than the {n_classes} classes declared on line {h.line}",
                         cl_recs[n_classes].line)
        if len(cl_recs) < n_classes:
            raise fl.err(f"{len(cl_recs)} 'cl' line(s) for the {n_classes} classes declared on line {h.line}",
                         cl_recs[-1].line)
        class_labels = np.zeros(n_classes, dtype=np.int32)
        for j, r in enumerate(cl_recs):
            fl.nfields(r, 1)
            class_labels[j] = fl.integer(r, 0, -2 ** 31, 2 ** 31 - 1, "class label")
    m = KnnArrays(dtype=dtype, k=k, n_features=n_features, n_classes=n_classes, items=items,
                  labels=labels, scale=scale, offset=offset, class_labels=class_labels)
    item_lines = [r.line for r in items_recs]
    table = {"labels": item_lines, "scale": q_lines, "offset": q_lines}

    def locate(p: ModelProblem) -> Dict[str, Optional[int]]:
        if p.where == "items":  # the element index, row-major
            return {"line": item_lines[p.index // n_features]}
        lst = table.get(p.where)
        return {"line": lst[p.index] if lst and p.index < len(lst) and lst[p.index] else h.line}

    in_file(m.check, locate, path)
    return m
