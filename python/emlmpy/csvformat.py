"""CSV model files (docs/model-format.md sections 3 and 4).

Our files start with a `v,<version>` line. A file without one is read as emlearn's CSV
(`f`, `c`, `lb`, `l`, `r`, `n` lines; relative child encoding; float thresholds compared with `<`)
and converted on load into the same TreeModel, renumbered so that children follow parents.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Union

import numpy as np

from . import keys as K
from .errors import ModelFormatError
from .neighbors import KnnModel, KnnProblem
from .numbers import decimal_to_float32, format_float32
from .trees import (LEAF_CLASS, LEAF_KIND_NAMES, LEAF_PROBA, LEAF_PROBA8, LEAF_VALUE, MAX_LEAVES,
                    MAX_NODES, MAX_OUTPUTS, ModelProblem, TreeModel, leaf_width)

VERSION = 1
WS = " \t"
MAX_FIELD = 64  # as EMLC_LOAD_TOK_MAX: a number never needs more
_KIND = re.compile(r"^[a-z]{1,8}$")
_INT = re.compile(r"^[+-]?\d+$")
_DEC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# ---- writing ---------------------------------------------------------------------------------
def write(model: Union[TreeModel, KnnModel]) -> str:
    lines = [f"v,{VERSION}"]
    if isinstance(model, KnnModel):
        lines.append(f"knn,{model.n_items},{model.n_features},{model.k},{model.n_classes}")
        lines.append(f"d,{model.dtype}")
        lines += _q_lines(model.scale, model.offset)
        for lab, row in zip(model.labels, model.items):
            vals = (format_float32(v) for v in row) if model.dtype == "float" else (str(int(v)) for v in row)
            lines.append(f"i,{int(lab)}," + ",".join(vals))
        return "\n".join(lines) + "\n"
    lines += [f"d,{model.dtype}", f"k,{model.leaf_kind}", f"f,{model.n_features}",
              f"c,{model.n_classes}", f"o,{model.n_outputs}",
              f"s,{model.n_trees},{model.n_nodes},{model.n_leaves}"]
    lines += _q_lines(model.scale, model.offset)
    for row in model.leaves:
        if model.leaf_kind == LEAF_CLASS:
            lines.append(f"l,{int(row[0])}")
        elif model.leaf_kind == LEAF_PROBA8:
            lines.append("lp," + ",".join(str(int(v)) for v in row))
        else:
            lines.append("lp," + ",".join(format_float32(v) for v in row))
    lines += [f"r,{int(r)}" for r in model.roots]
    ch = model.children
    for i in range(model.n_nodes):
        lines.append(f"n,{int(model.features[i])},{int(model.thresholds[i])},{int(ch[2 * i])},{int(ch[2 * i + 1])}")
    return "\n".join(lines) + "\n"


def _q_lines(scale: Optional[np.ndarray], offset: Optional[np.ndarray]) -> List[str]:
    if scale is None:
        return []
    return [f"q,{f},{format_float32(s)},{format_float32(o)}" for f, (s, o) in enumerate(zip(scale, offset))]


# ---- reading ---------------------------------------------------------------------------------
@dataclass
class _Rec:
    line: int
    kind: str
    fields: List[str]


class _Reader:
    def __init__(self, text: str, path: Optional[str]) -> None:
        self.path = path
        self.recs: List[_Rec] = []
        self.last_line = 0
        raw_lines = text.split("\n")
        i = 0

        def take(j: int) -> str:
            line = raw_lines[j]
            if line.endswith("\r"):
                line = line[:-1]
            if "\r" in line:
                raise self.err("carriage return not followed by a line feed", j + 1)
            return line

        while i < len(raw_lines):
            no = i + 1
            s = take(i)
            i += 1
            if not s.strip(WS):
                continue  # blank line
            head = s.split(",", 1)
            if (head[0].strip(WS) == "l" and len(head) == 2 and head[1].lstrip(WS).startswith("[")
                    and "]" not in head[1]):
                # emlearn writes long numpy arrays over several lines
                while i < len(raw_lines) and "]" not in s:
                    s += " " + take(i)
                    i += 1
                if "]" not in s:
                    raise self.err("unterminated '[' in leaf line (file truncated?)", no)
            # spaces and tabs around a field are not part of it (as in cores/emlc_load)
            parts = [p.strip(WS) for p in s.split(",")]
            if not _KIND.match(parts[0]):
                raise self.err(f"bad line kind {parts[0][:20]!r} (expected 1-8 lower-case letters)", no)
            self.recs.append(_Rec(no, parts[0], parts[1:]))
        self.last_line = self.recs[-1].line if self.recs else 1

    def err(self, msg: str, line: Optional[int]) -> ModelFormatError:
        return ModelFormatError(msg, line=line, path=self.path)

    def nfields(self, r: _Rec, n: int) -> None:
        if len(r.fields) != n:
            raise self.err(f"'{r.kind}' line needs {n} field(s), found {len(r.fields)}", r.line)

    def field(self, r: _Rec, i: int) -> str:
        s = r.fields[i]
        if len(s) > MAX_FIELD:
            raise self.err(f"field {i + 1} is longer than {MAX_FIELD} characters", r.line)
        return s

    def int(self, r: _Rec, i: int, lo: int, hi: int, what: str) -> int:
        s = self.field(r, i)
        if not _INT.match(s):
            raise self.err(f"bad integer {s!r} for {what}", r.line)
        v = int(s)
        if not lo <= v <= hi:
            raise self.err(f"{what} {v} outside {lo}..{hi}", r.line)
        return v

    def dec(self, r: _Rec, i: int, what: str) -> str:
        s = self.field(r, i)
        if not _DEC.match(s):
            raise self.err(f"bad number {s!r} for {what}", r.line)
        return s

    def f32(self, r: _Rec, i: int, what: str, finite: bool = True) -> np.float32:
        v = decimal_to_float32(self.dec(r, i, what))
        if finite and not np.isfinite(v):
            raise self.err(f"{what} {r.fields[i]} does not fit a float32", r.line)
        return v


DATA_KINDS = ("l", "lp", "r", "n", "q", "i")
OUR_HEADER_KINDS = ("v", "d", "k", "f", "c", "o", "s", "lb", "knn")
EXTENSION_KINDS = ("d", "k", "o", "q", "lp", "s", "knn", "i")


def read(text: str, path: Optional[str] = None) -> Union[TreeModel, KnnModel]:
    rd = _Reader(text, path)
    if not rd.recs:
        raise rd.err("empty file: no records", 1)
    heads = _headers(rd)
    if "v" in heads:
        v = heads["v"]
        rd.nfields(v, 1)
        version = rd.int(v, 0, 0, 2 ** 31 - 1, "format version")
        if version != VERSION:
            raise rd.err(f"unsupported format version {version} (this reader knows {VERSION})", v.line)
        if "knn" in heads:
            return _read_knn(rd, heads)
        return _read_trees(rd, heads)
    for r in rd.recs:
        if r.kind in EXTENSION_KINDS or r.kind == "v":
            raise rd.err(f"'{r.kind}' line without a preceding 'v' line", r.line)
    if "f" not in heads:
        raise rd.err(f"not a model file: first record kind {rd.recs[0].kind!r}, expected 'v' (emlmpy) "
                     "or 'f' (emlearn)", rd.recs[0].line)
    return _read_emlearn(rd, heads)


def _headers(rd: _Reader) -> Dict[str, _Rec]:
    """Header records by kind: each at most once and before the first data line (l, lp, r, n,
    q, i); our extension kinds only after the `v` line."""
    heads: Dict[str, _Rec] = {}
    first_data: Optional[_Rec] = None
    has_v = any(r.kind == "v" for r in rd.recs)
    for r in rd.recs:
        if r.kind in DATA_KINDS:
            if first_data is None:
                first_data = r
        elif r.kind in OUR_HEADER_KINDS:
            if first_data is not None:
                raise rd.err(f"header line '{r.kind}' after the first data line (line {first_data.line})",
                             r.line)
            if r.kind in heads:
                raise rd.err(f"duplicate '{r.kind}' line (first on line {heads[r.kind].line})", r.line)
            if r.kind in EXTENSION_KINDS and has_v and "v" not in heads:
                raise rd.err(f"'{r.kind}' line before the 'v' line", r.line)
            heads[r.kind] = r
    return heads


def _one_int(rd: _Reader, r: _Rec, lo: int, hi: int, what: str) -> int:
    rd.nfields(r, 1)
    return rd.int(r, 0, lo, hi, what)


def _read_quant(rd: _Reader, n_features: int, dtype: str):
    """q lines come in feature order; features without one get scale 1, offset 0."""
    qs = [r for r in rd.recs if r.kind == "q"]
    if dtype == "float":
        if qs:
            raise rd.err("'q' lines are only allowed in int16 models", qs[0].line)
        return None, None, []
    scale = np.ones(n_features, dtype=np.float32)
    offset = np.zeros(n_features, dtype=np.float32)
    lines = [0] * n_features
    for j, r in enumerate(qs):
        rd.nfields(r, 3)
        f = rd.int(r, 0, 0, n_features - 1, "feature")
        if f != j:
            raise rd.err(f"'q' lines must come in feature order: expected feature {j}, found {f}", r.line)
        scale[f] = rd.f32(r, 1, "scale")
        offset[f] = rd.f32(r, 2, "offset")
        lines[f] = r.line
    return scale, offset, lines


def _dtype(rd: _Reader, r: _Rec) -> str:
    rd.nfields(r, 1)
    if r.fields[0] not in ("float", "int16"):
        raise rd.err(f"unknown dtype {r.fields[0]!r} (float or int16)", r.line)
    return r.fields[0]


def _count_error(rd: _Reader, kind: str, expected: int, found: int, decl: _Rec) -> ModelFormatError:
    return rd.err(f"truncated or wrong counts: line {decl.line} declares {expected} '{kind}' line(s), "
                  f"found {found}", rd.last_line)


def _read_trees(rd: _Reader, heads: Dict[str, _Rec]) -> TreeModel:
    """Our tree format: `f` and `k` required, `o` required unless value leaves, `d` defaults to
    float, `c` and `s` optional (checked when present)."""
    for k in ("f", "k"):
        if k not in heads:
            raise rd.err(f"missing '{k}' line before the data lines", heads["v"].line)
    dtype = _dtype(rd, heads["d"]) if "d" in heads else "float"
    leaf_kind = _one_int(rd, heads["k"], 0, 255, "leaf kind")
    if leaf_kind not in LEAF_KIND_NAMES:
        raise rd.err(f"unknown leaf kind {leaf_kind} (0..3)", heads["k"].line)
    n_features = _one_int(rd, heads["f"], 1, 65535, "n_features")
    if "o" in heads:
        n_outputs = _one_int(rd, heads["o"], 1, 65535, "n_outputs")
    elif leaf_kind == LEAF_VALUE:
        n_outputs = 1
    else:
        raise rd.err("missing 'o' line (n_outputs) before the data lines", heads["k"].line)
    if leaf_kind == LEAF_VALUE and n_outputs != 1:
        raise rd.err("value (regression) leaves need n_outputs 1", heads["o"].line)
    n_classes = 0 if leaf_kind == LEAF_VALUE else n_outputs
    if "c" in heads and _one_int(rd, heads["c"], 0, 65535, "n_classes") != n_classes:
        raise rd.err(f"n_classes must be {n_classes} for leaf kind {leaf_kind} with n_outputs {n_outputs}",
                     heads["c"].line)
    counted = {k: sum(1 for r in rd.recs if r.kind in k) for k in (("r",), ("n",), ("l", "lp"))}
    s = heads.get("s")
    if s is not None:
        rd.nfields(s, 3)
        n_trees = rd.int(s, 0, 1, 65535, "n_trees")
        n_nodes = rd.int(s, 1, 0, MAX_NODES, "n_nodes")
        n_leaves = rd.int(s, 2, 1, MAX_LEAVES, "n_leaves")
    else:
        n_trees, n_nodes, n_leaves = counted[("r",)], counted[("n",)], counted[("l", "lp")]
        s = heads["v"]
        for what, n, lo, hi in (("'r' (root)", n_trees, 1, 65535), ("'n' (node)", n_nodes, 0, MAX_NODES),
                                ("'l'/'lp' (leaf)", n_leaves, 1, MAX_LEAVES)):
            if not lo <= n <= hi:
                raise rd.err(f"{n} {what} lines, expected {lo}..{hi}", rd.last_line)
    scale, offset, q_lines = _read_quant(rd, n_features, dtype)
    width = leaf_width(leaf_kind, n_outputs)

    thresholds = np.zeros(n_nodes, dtype=np.int32)
    features = np.zeros(n_nodes, dtype=np.uint16)
    children = np.zeros(2 * n_nodes, dtype=np.int16)
    roots = np.zeros(n_trees, dtype=np.int16)
    leaves = np.zeros((n_leaves, width), dtype=np.uint8 if leaf_kind in (LEAF_CLASS, LEAF_PROBA8) else np.float32)
    lines: Dict[str, List[int]] = {"n": [], "r": [], "l": []}
    for r in rd.recs:
        if r.kind == "n":
            i = len(lines["n"])
            if i >= n_nodes:
                raise rd.err(f"more 'n' lines than the {n_nodes} declared on line {s.line}", r.line)
            rd.nfields(r, 4)
            features[i] = rd.int(r, 0, 0, 65535, "feature")
            thresholds[i] = rd.int(r, 1, -2 ** 31, 2 ** 31 - 1, "threshold")
            children[2 * i] = rd.int(r, 2, -32768, 32767, "left child")
            children[2 * i + 1] = rd.int(r, 3, -32768, 32767, "right child")
            lines["n"].append(r.line)
        elif r.kind == "r":
            i = len(lines["r"])
            if i >= n_trees:
                raise rd.err(f"more 'r' lines than the {n_trees} declared on line {s.line}", r.line)
            rd.nfields(r, 1)
            roots[i] = rd.int(r, 0, -32768, 32767, "root")
            lines["r"].append(r.line)
        elif r.kind in ("l", "lp"):
            i = len(lines["l"])
            if i >= n_leaves:
                raise rd.err(f"more leaf lines than the {n_leaves} declared on line {s.line}", r.line)
            if leaf_kind in (LEAF_PROBA, LEAF_PROBA8) and r.kind != "lp":
                raise rd.err(f"leaf kind {leaf_kind} uses 'lp' lines, found '{r.kind}'", r.line)
            if leaf_kind == LEAF_CLASS and r.kind != "l":
                raise rd.err(f"class leaves use 'l' lines, found '{r.kind}'", r.line)
            rd.nfields(r, width)
            if leaf_kind in (LEAF_CLASS, LEAF_PROBA8):
                for j in range(width):
                    leaves[i, j] = rd.int(r, j, 0, 255, "leaf value")
            else:
                for j in range(width):
                    leaves[i, j] = rd.f32(r, j, "leaf value")
            lines["l"].append(r.line)
    for kind, n in (("l", n_leaves), ("r", n_trees), ("n", n_nodes)):
        if len(lines[kind]) != n:
            raise _count_error(rd, "l/lp" if kind == "l" else kind, n, len(lines[kind]), s)
    model = TreeModel(dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
                      thresholds=thresholds, features=features, children=children, roots=roots,
                      leaves=leaves, scale=scale, offset=offset,
                      classes=np.arange(n_classes) if n_classes else None)
    _check_trees(rd, model, lines["n"], lines["r"], lines["l"], q_lines, s.line)
    return model


def _check_trees(rd: _Reader, model: TreeModel, n_lines: List[int], r_lines: List[int],
                 l_lines: List[int], q_lines: List[int], header_line: int) -> None:
    try:
        model.check()
    except ModelProblem as p:
        table = {"thresholds": n_lines, "features": n_lines, "children": n_lines, "roots": r_lines,
                 "leaves": l_lines, "scale": q_lines, "offset": q_lines}
        lst = table.get(p.where)
        line = lst[p.index] if lst and p.index < len(lst) else header_line
        raise rd.err(p.message, line) from None


def _read_knn(rd: _Reader, heads: Dict[str, _Rec]) -> KnnModel:
    h = heads["knn"]
    rd.nfields(h, 4)
    n_items = rd.int(h, 0, 1, 2 ** 31 - 1, "n_items")
    n_features = rd.int(h, 1, 1, 65535, "n_features")
    k = rd.int(h, 2, 1, 65535, "k")
    n_classes = rd.int(h, 3, 1, 65535, "n_classes")
    dtype = _dtype(rd, heads["d"]) if "d" in heads else "float"
    scale, offset, q_lines = _read_quant(rd, n_features, dtype)
    recs = [r for r in rd.recs if r.kind == "i"]
    if len(recs) > n_items:
        raise rd.err(f"more 'i' lines than the {n_items} declared on line {h.line}", recs[n_items].line)
    if len(recs) < n_items:
        raise _count_error(rd, "i", n_items, len(recs), h)
    items = np.zeros((n_items, n_features), dtype=np.float32 if dtype == "float" else np.int16)
    labels = np.zeros(n_items, dtype=np.uint16)
    for j, r in enumerate(recs):
        rd.nfields(r, n_features + 1)
        labels[j] = rd.int(r, 0, 0, n_classes - 1, "label")
        for f in range(n_features):
            if dtype == "float":
                items[j, f] = rd.f32(r, f + 1, "item value")
            else:
                items[j, f] = rd.int(r, f + 1, -32768, 32767, "item value")
    model = KnnModel(dtype=dtype, k=k, n_features=n_features, n_classes=n_classes, items=items,
                     labels=labels, scale=scale, offset=offset, classes=np.arange(n_classes))
    try:
        model.check()
    except KnnProblem as p:
        lst = {"items": [r.line for r in recs], "labels": [r.line for r in recs],
               "scale": q_lines, "offset": q_lines}.get(p.where)
        raise rd.err(p.message, lst[p.index] if lst else h.line) from None
    return model


# ---- emlearn's CSV ---------------------------------------------------------------------------
def _read_emlearn(rd: _Reader, heads: Dict[str, _Rec]) -> TreeModel:
    """emlearn's CSV: `f` and `c` required, `lb` defaults to 0."""
    if "c" not in heads:
        raise rd.err("emlearn file lacks its 'c' line", heads["f"].line)
    n_features = _one_int(rd, heads["f"], 1, 65535, "n_features")
    n_classes = _one_int(rd, heads["c"], 0, 65535, "n_classes")
    leaf_bits = _one_int(rd, heads["lb"], 0, 32, "leaf_bits") if "lb" in heads else 0
    if n_classes == 0:
        leaf_kind = LEAF_VALUE
    elif leaf_bits in (0, 32):
        leaf_kind = LEAF_CLASS
    elif 1 <= leaf_bits <= 8:
        leaf_kind = LEAF_PROBA8
    else:
        raise rd.err(f"unsupported leaf_bits {leaf_bits} for a classifier (0, 1..8 or 32)", heads["lb"].line)
    if n_classes > MAX_OUTPUTS:
        raise rd.err(f"{n_classes} classes: at most {MAX_OUTPUTS}", heads["c"].line)
    n_outputs = max(n_classes, 1)
    width = leaf_width(leaf_kind, n_outputs)

    leaf_rows: List[np.ndarray] = []
    l_lines: List[int] = []
    roots: List[int] = []
    r_lines: List[int] = []
    feats: List[int] = []
    thr: List[np.float32] = []
    kids: List[int] = []
    n_lines: List[int] = []
    for r in rd.recs:
        if r.kind == "l":
            if len(leaf_rows) >= MAX_LEAVES:
                raise rd.err(f"more than {MAX_LEAVES} leaves", r.line)
            if leaf_kind == LEAF_CLASS:
                rd.nfields(r, 1)
                leaf_rows.append(np.array([rd.int(r, 0, 0, n_classes - 1, "leaf class")], dtype=np.uint8))
            elif leaf_kind == LEAF_VALUE:
                rd.nfields(r, 1)
                leaf_rows.append(np.array([rd.f32(r, 0, "leaf value")], dtype=np.float32))
            else:
                leaf_rows.append(_emlearn_proba_leaf(rd, r, width))
            l_lines.append(r.line)
        elif r.kind == "r":
            rd.nfields(r, 1)
            roots.append(rd.int(r, 0, 0, MAX_NODES - 1, "root node"))
            r_lines.append(r.line)
        elif r.kind == "n":
            if len(feats) >= MAX_NODES:
                raise rd.err(f"more than {MAX_NODES} decision nodes", r.line)
            rd.nfields(r, 4)
            i = len(feats)
            feats.append(rd.int(r, 0, 0, n_features - 1, "feature"))
            thr.append(rd.f32(r, 1, "threshold"))
            for j, side in ((2, "left child"), (3, "right child")):
                c = rd.int(r, j, -32768, 32767, side)
                if c == 0:
                    raise rd.err(f"{side} 0 points at the node itself", r.line)
                kids.append(i + c if c > 0 else c)  # relative jump -> absolute node index
            n_lines.append(r.line)
    if not leaf_rows:
        raise rd.err("emlearn file has no 'l' lines", rd.last_line)
    if not roots:
        raise rd.err("emlearn file has no 'r' lines", rd.last_line)
    if not feats:
        raise rd.err("emlearn file has no 'n' lines", rd.last_line)
    if len(roots) > 65535:
        raise rd.err("more than 65535 trees", r_lines[65535])
    n_nodes = len(feats)
    for i in range(n_nodes):
        for c in (kids[2 * i], kids[2 * i + 1]):
            if c >= n_nodes:
                raise rd.err(f"child node {c} >= number of 'n' lines {n_nodes} (truncated file?)", n_lines[i])
            if c < 0 and -1 - c >= len(leaf_rows):
                raise rd.err(f"child leaf {-1 - c} >= number of 'l' lines {len(leaf_rows)}", n_lines[i])
    for t, root in enumerate(roots):
        if root >= n_nodes:
            raise rd.err(f"root {root} >= number of 'n' lines {n_nodes} (truncated file?)", r_lines[t])

    # emlearn's jumps are relative and positive, so every child index is already greater than
    # its parent's: the nodes keep the file's order (as cores/emlc_load does).
    children = np.array(kids, dtype=np.int16)
    model = TreeModel(dtype="float", leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
                      thresholds=K.emlearn_threshold_keys(np.array(thr, dtype=np.float32)),
                      features=np.array(feats, dtype=np.uint16), children=children,
                      roots=np.array(roots, dtype=np.int16),
                      leaves=np.stack(leaf_rows).reshape(len(leaf_rows), width),
                      classes=np.arange(n_classes) if n_classes else None)
    _check_trees(rd, model, n_lines, r_lines, l_lines, [], heads["f"].line)
    return model


def _emlearn_proba_leaf(rd: _Reader, r: _Rec, width: int) -> np.ndarray:
    """emlearn writes a uint8 numpy array as `l,[  0 255   0]` (values separated by spaces,
    possibly over several lines); `l,0,255,0` is accepted too."""
    if r.fields and r.fields[0].startswith("["):
        if len(r.fields) != 1 or not r.fields[0].endswith("]"):
            raise rd.err("leaf array must be '[' values separated by spaces ']'", r.line)
        tokens = [t for t in r.fields[0][1:-1].split(" ") if t]
        if len(tokens) != width:
            raise rd.err(f"leaf array has {len(tokens)} values, expected {width}", r.line)
        r = _Rec(r.line, r.kind, tokens)
    rd.nfields(r, width)
    return np.array([rd.int(r, j, 0, 255, "leaf proportion") for j in range(width)], dtype=np.uint8)
