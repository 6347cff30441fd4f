"""Older tree files, read on the host and converted to format version 2: emlmpy's version 1 (CSV
and binary: 10-byte nodes in any parent-before-child order, one leaf record per leaf) and
emlearn's CSV (docs/model-format.md §3, end). The readers keep version 1's rules (what emlmpy 0.1
accepted); `to_v2` then lays the trees out in pre-order with version 2 leaves where that is exact:
CLASS and VALUE always, PROBA8 and emlearn's 1..8-bit leaves as counts over w = 255, float PROBA
when every proportion is fl32(count/w) for a w <= 65535 found from the floats.

Imports: struct, fractions, math, numpy, errors, keys, layout, encode, csvtext, csvformat.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from . import keys as K
from .csvformat import MAX_FIELD_V1, v1_dtype, v1_headers, v1_quant
from .csvtext import Fields, Rec, physical_lines, record
from .encode import Leaf, SourceForest, encode
from .errors import Locator, ModelFormatError, ModelProblem, in_file
from .layout import (DTYPES, HEADER_SIZE, LEAF_CLASS, LEAF_PROBA, LEAF_VALUE, LEGACY_VERSION,
                     MAX_FEATURES, MAX_OUTPUTS, TREES_MAGIC, Section, TreeArrays, pack_payload, pad4)

V1_CLASS, V1_PROBA, V1_VALUE, V1_PROBA8 = 0, 1, 2, 3
V1_KINDS = (V1_CLASS, V1_PROBA, V1_VALUE, V1_PROBA8)
V1_MAX_NODES = 32767
V1_MAX_LEAVES = 32768
PROBA8_W = 255
MAX_W = 65535


def v1_leaf_width(leaf_kind: int, n_outputs: int) -> int:
    return n_outputs if leaf_kind in (V1_PROBA, V1_PROBA8) else 1


@dataclass
class V1Trees:
    """A version 1 (or emlearn) tree model: struct of arrays, children are node indices (> parent)
    or -1 - leaf; leaves (n_leaves, width): CLASS/PROBA8 uint8, PROBA/VALUE float32."""

    dtype: str
    leaf_kind: int
    n_features: int
    n_classes: int  # 0 for regression
    thresholds: np.ndarray
    features: np.ndarray
    children: np.ndarray
    roots: np.ndarray
    leaves: np.ndarray
    scale: Optional[np.ndarray] = None
    offset: Optional[np.ndarray] = None

    @property
    def n_nodes(self) -> int:
        return int(self.thresholds.shape[0])

    @property
    def n_leaves(self) -> int:
        return int(self.leaves.shape[0])

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.n_classes > 0 else 1

    def check(self) -> None:
        """Version 1's validator: nodes (feature, left, right), then roots, then leaves."""
        if self.n_features < 1 or self.n_features > 65535:
            raise ModelProblem("model", 0, f"n_features {self.n_features} outside 1..65535")
        if self.leaf_kind != V1_VALUE and not 1 <= self.n_classes <= MAX_OUTPUTS:
            raise ModelProblem("model", 0, f"n_classes {self.n_classes} outside 1..{MAX_OUTPUTS}")
        n_nodes, n_leaves = self.n_nodes, self.n_leaves
        if n_nodes > V1_MAX_NODES or n_leaves > V1_MAX_LEAVES or not 1 <= self.roots.shape[0] <= 65535:
            raise ModelProblem("model", 0, "counts out of range")
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
        if self.leaf_kind == V1_CLASS:
            bad = np.nonzero(self.leaves[:, 0].astype(np.int64) >= self.n_classes)[0]
            if bad.size:
                raise ModelProblem("leaves", int(bad[0]), f"class {int(self.leaves[bad[0], 0])} >= n_classes")
        elif self.leaf_kind in (V1_PROBA, V1_VALUE):
            bad = np.nonzero(~np.isfinite(self.leaves).all(axis=1))[0]
            if bad.size:
                raise ModelProblem("leaves", int(bad[0]), "leaf value is NaN or infinite")
        if self.dtype == "int16":
            assert self.scale is not None and self.offset is not None
            for name, arr in (("scale", self.scale), ("offset", self.offset)):
                bad = np.nonzero(~np.isfinite(arr))[0]
                if bad.size:
                    raise ModelProblem(name, int(bad[0]), f"{name} is not finite")
            bad = np.nonzero(~(self.scale > 0))[0]
            if bad.size:
                raise ModelProblem("scale", int(bad[0]), "scale must be > 0")


# ---- conversion to version 2 -----------------------------------------------------------------
REPROBA = ("re-convert the estimator with emlmpy (python -m emlmpy convert model.joblib -o model.bin) "
           "to write format version 2")


def to_v2(old: V1Trees) -> TreeArrays:
    """The version 2 model predicting as `old` (raises ModelProblem where that is not exact: a
    `leaves` problem names the leaf, a `model` problem the counts)."""
    if old.n_features > MAX_FEATURES:
        raise ModelProblem("model", 0, f"n_features {old.n_features} > {MAX_FEATURES}: version 2 cannot "
                                       "hold this model", field="n_features")
    leaves: List[Leaf] = []
    for i, row in enumerate(old.leaves):
        if old.leaf_kind == V1_CLASS:
            leaves.append(int(row[0]))
        elif old.leaf_kind == V1_VALUE:
            leaves.append(np.float32(row[0]).astype("<f4").tobytes())
        elif old.leaf_kind == V1_PROBA8:
            leaves.append(proba8_leaf(row.astype(np.int64), i))
        else:
            leaves.append(float_proba_leaf(row.astype(np.float32), i))
    kind = {V1_CLASS: LEAF_CLASS, V1_VALUE: LEAF_VALUE}.get(old.leaf_kind, LEAF_PROBA)
    ch = old.children.astype(np.int64).reshape(-1, 2)
    src = SourceForest(feature=old.features.astype(np.int64), key=old.thresholds.astype(np.int64),
                       missing_left=np.zeros(old.n_nodes, dtype=bool), left=ch[:, 0], right=ch[:, 1],
                       roots=[int(r) for r in old.roots], leaves=leaves)
    return encode(src, old.dtype, kind, old.n_features, old.n_outputs, old.scale, old.offset)


def proba8_leaf(counts: np.ndarray, i: int) -> Leaf:
    """Counts over w = 255 (emlmpy's PROBA8, emlearn's 1..8-bit leaves): a count of 255 is a pure
    leaf; zero counts are left out."""
    if counts.max() == PROBA8_W:
        if np.count_nonzero(counts) != 1:
            raise ModelProblem("leaves", i, f"leaf {i} has a proportion 255/255 and other non-zero ones: "
                                            "not representable in format version 2")
        return int(np.argmax(counts))
    if counts.max() == 0:
        raise ModelProblem("leaves", i, f"leaf {i} has all proportions 0: not representable in format "
                                        "version 2")
    return pack_payload(PROBA8_W, [(int(c), int(n)) for c, n in enumerate(counts) if n])


def float_proba_leaf(p: np.ndarray, i: int) -> Leaf:
    """Exact counts over the smallest w found for float32 proportions p, or a ModelProblem."""
    found = float32_ratios(p)
    if found is None:
        raise ModelProblem("leaves", i, f"leaf {i}: the float32 proportions are not count/w ratios "
                                        f"emlmpy can recover (w <= {MAX_W}): {REPROBA}")
    w, counts = found
    if w == 1:
        return int(np.argmax(counts))
    return pack_payload(w, [(c, n) for c, n in enumerate(counts) if n])


def float32_ratios(p: np.ndarray) -> Optional[Tuple[int, List[int]]]:
    """(w, counts) with fl32(counts[c] / w) == p[c] for every class, w the lcm of the denominators
    of the simplest fractions that round to each p[c]; (1, one-hot) for a pure leaf; None when the
    proportions are not such ratios (negative, above 1, all 0, or w > 65535)."""
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1) or not np.any(p > 0):
        return None
    if np.any(p == 1):
        if np.count_nonzero(p) != 1:
            return None
        return 1, [int(v == 1) for v in p]
    w = 1
    for v in p[p > 0]:
        d = simplest_f32_fraction(np.float32(v)).denominator
        w = w * d // math.gcd(w, d)
        if w > MAX_W:
            return None
    counts = [int(round(Fraction(float(v)) * w)) for v in p]
    for v, c in zip(p, counts):
        if v == 0:
            continue
        if not 1 <= c <= w - 1 or np.float32(c) / np.float32(w) != v:
            return None
    return w, counts


def simplest_f32_fraction(x: np.float32) -> Fraction:
    """The fraction with the smallest denominator strictly inside the interval of reals that round
    to the float32 x (0 < x < 1)."""
    lo_n = np.nextafter(x, np.float32(0))
    hi_n = np.nextafter(x, np.float32(1))
    fx = Fraction(float(x))
    lo = (fx + Fraction(float(lo_n))) / 2
    hi = (fx + Fraction(float(hi_n))) / 2
    return _simplest_between(lo, hi)


def _simplest_between(lo: Fraction, hi: Fraction) -> Fraction:
    """Smallest-denominator fraction in the open interval (lo, hi), 0 <= lo < hi."""
    fl = lo.numerator // lo.denominator
    if fl + 1 < hi:
        return Fraction(fl + 1)
    if lo == fl:  # (fl, hi) with hi <= fl + 1: fl + 1/n for the smallest n with 1/n < hi - fl
        return fl + Fraction(1, int((1 / (hi - fl)).__floor__()) + 1)
    return fl + 1 / _simplest_between(1 / (hi - fl), 1 / (lo - fl))


# ---- version 1 CSV ---------------------------------------------------------------------------
def _legacy_records(text: str, path: Optional[str]) -> Iterator[Rec]:
    """Records; an emlearn leaf array `l,[ ... ]` may continue on the following lines."""
    lines = physical_lines(text, path)
    for no, s in lines:
        head = s.split(",", 1)
        if (head[0].strip(" \t") == "l" and len(head) == 2 and head[1].lstrip(" \t").startswith("[")
                and "]" not in head[1]):
            for _, more in lines:
                s += " " + more
                if "]" in more:
                    break
            if "]" not in s:
                raise ModelFormatError("unterminated '[' in leaf line (file truncated?)", line=no, path=path)
        yield record(no, s, path)


def read_v1_csv(text: str, path: Optional[str] = None) -> Tuple[V1Trees, Locator]:
    """emlmpy's version 1 tree CSV (`v,1`): `f`, `k` required, `o` unless value leaves, `d`
    defaults to float, `c` and `s` optional."""
    fl = Fields(path, MAX_FIELD_V1)
    recs = list(_legacy_records(text, path))
    if not recs:
        raise fl.err("empty file: no records", 1)
    last_line = recs[-1].line
    heads = v1_headers(recs, fl)
    for k in ("f", "k"):
        if k not in heads:
            raise fl.err(f"missing '{k}' line before the data lines", heads["v"].line)
    dtype = v1_dtype(fl, heads["d"]) if "d" in heads else "float"
    fl.nfields(heads["k"], 1)
    leaf_kind = fl.integer(heads["k"], 0, 0, 255, "leaf kind")
    if leaf_kind not in V1_KINDS:
        raise fl.err(f"unknown leaf kind {leaf_kind} (0..3)", heads["k"].line)
    fl.nfields(heads["f"], 1)
    n_features = fl.integer(heads["f"], 0, 1, 65535, "n_features")
    if "o" in heads:
        fl.nfields(heads["o"], 1)
        n_outputs = fl.integer(heads["o"], 0, 1, 65535, "n_outputs")
    elif leaf_kind == V1_VALUE:
        n_outputs = 1
    else:
        raise fl.err("missing 'o' line (n_outputs) before the data lines", heads["k"].line)
    if leaf_kind == V1_VALUE and n_outputs != 1:
        raise fl.err("value (regression) leaves need n_outputs 1", heads["o"].line)
    n_classes = 0 if leaf_kind == V1_VALUE else n_outputs
    if "c" in heads:
        fl.nfields(heads["c"], 1)
        if fl.integer(heads["c"], 0, 0, 65535, "n_classes") != n_classes:
            raise fl.err(f"n_classes must be {n_classes} for leaf kind {leaf_kind} with n_outputs {n_outputs}",
                         heads["c"].line)
    s = heads.get("s")
    if s is not None:
        fl.nfields(s, 3)
        n_trees = fl.integer(s, 0, 1, 65535, "n_trees")
        n_nodes = fl.integer(s, 1, 0, V1_MAX_NODES, "n_nodes")
        n_leaves = fl.integer(s, 2, 1, V1_MAX_LEAVES, "n_leaves")
    else:
        n_trees = sum(1 for r in recs if r.kind == "r")
        n_nodes = sum(1 for r in recs if r.kind == "n")
        n_leaves = sum(1 for r in recs if r.kind in ("l", "lp"))
        s = heads["v"]
        for what, n, lo, hi in (("'r' (root)", n_trees, 1, 65535), ("'n' (node)", n_nodes, 0, V1_MAX_NODES),
                                ("'l'/'lp' (leaf)", n_leaves, 1, V1_MAX_LEAVES)):
            if not lo <= n <= hi:
                raise fl.err(f"{n} {what} lines, expected {lo}..{hi}", last_line)
    scale, offset, q_lines = v1_quant(recs, fl, n_features, dtype)
    width = v1_leaf_width(leaf_kind, n_outputs)
    thresholds = np.zeros(n_nodes, dtype=np.int32)
    features = np.zeros(n_nodes, dtype=np.uint16)
    children = np.zeros(2 * n_nodes, dtype=np.int16)
    roots = np.zeros(n_trees, dtype=np.int16)
    leaves = np.zeros((n_leaves, width), dtype=np.uint8 if leaf_kind in (V1_CLASS, V1_PROBA8) else np.float32)
    lines: Dict[str, List[int]] = {"n": [], "r": [], "l": []}
    for r in recs:
        if r.kind == "n":
            i = len(lines["n"])
            if i >= n_nodes:
                raise fl.err(f"more 'n' lines than the {n_nodes} declared on line {s.line}", r.line)
            fl.nfields(r, 4)
            features[i] = fl.integer(r, 0, 0, 65535, "feature")
            thresholds[i] = fl.integer(r, 1, -2 ** 31, 2 ** 31 - 1, "threshold")
            children[2 * i] = fl.integer(r, 2, -32768, 32767, "left child")
            children[2 * i + 1] = fl.integer(r, 3, -32768, 32767, "right child")
            lines["n"].append(r.line)
        elif r.kind == "r":
            i = len(lines["r"])
            if i >= n_trees:
                raise fl.err(f"more 'r' lines than the {n_trees} declared on line {s.line}", r.line)
            fl.nfields(r, 1)
            roots[i] = fl.integer(r, 0, -32768, 32767, "root")
            lines["r"].append(r.line)
        elif r.kind in ("l", "lp"):
            i = len(lines["l"])
            if i >= n_leaves:
                raise fl.err(f"more leaf lines than the {n_leaves} declared on line {s.line}", r.line)
            if leaf_kind in (V1_PROBA, V1_PROBA8) and r.kind != "lp":
                raise fl.err(f"leaf kind {leaf_kind} uses 'lp' lines, found '{r.kind}'", r.line)
            if leaf_kind == V1_CLASS and r.kind != "l":
                raise fl.err(f"class leaves use 'l' lines, found '{r.kind}'", r.line)
            fl.nfields(r, width)
            for j in range(width):
                if leaf_kind in (V1_CLASS, V1_PROBA8):
                    leaves[i, j] = fl.integer(r, j, 0, 255, "leaf value")
                else:
                    leaves[i, j] = fl.f32(r, j, "leaf value")
            lines["l"].append(r.line)
    for kind, n in (("l", n_leaves), ("r", n_trees), ("n", n_nodes)):
        if len(lines[kind]) != n:
            raise fl.err(f"truncated or wrong counts: line {s.line} declares {n} "
                         f"'{'l/lp' if kind == 'l' else kind}' line(s), found {len(lines[kind])}", last_line)
    old = V1Trees(dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
                  thresholds=thresholds, features=features, children=children, roots=roots,
                  leaves=leaves, scale=scale, offset=offset)
    locate = _line_locator(lines["n"], lines["r"], lines["l"], q_lines, s.line)
    in_file(old.check, locate, path)
    return old, locate


def _line_locator(n_lines: List[int], r_lines: List[int], l_lines: List[int], q_lines: List[int],
                  header_line: int) -> Locator:
    table = {"thresholds": n_lines, "features": n_lines, "children": n_lines, "roots": r_lines,
             "leaves": l_lines, "scale": q_lines, "offset": q_lines}

    def locate(p: ModelProblem) -> Dict[str, Optional[int]]:
        lst = table.get(p.where)
        return {"line": lst[p.index] if lst and p.index < len(lst) and lst[p.index] else header_line}
    return locate


def as_v2(read: Tuple[V1Trees, Locator], path: Optional[str] = None) -> TreeArrays:
    """The version 2 arrays for what a legacy reader returned; problems at the file's line/offset."""
    old, locate = read
    return in_file(lambda: to_v2(old), locate, path)


# ---- emlearn's CSV ---------------------------------------------------------------------------
def read_emlearn_csv(text: str, path: Optional[str] = None) -> Tuple[V1Trees, Locator]:
    """emlearn's CSV: `f` and `c` required, `lb` defaults to 0; relative child jumps; thresholds
    compared as x < t in float32."""
    fl = Fields(path, MAX_FIELD_V1)
    recs = list(_legacy_records(text, path))
    if not recs:
        raise fl.err("empty file: no records", 1)
    last_line = recs[-1].line
    heads = v1_headers(recs, fl)
    for r in recs:
        if r.kind in ("d", "k", "o", "q", "lp", "s", "knn", "i", "v"):
            raise fl.err(f"'{r.kind}' line without a preceding 'v' line", r.line)
    if "f" not in heads:
        raise fl.err(f"not a model file: first record kind {recs[0].kind!r}, expected 'v' (emlmpy) "
                     "or 'f' (emlearn)", recs[0].line)
    if "c" not in heads:
        raise fl.err("emlearn file lacks its 'c' line", heads["f"].line)
    fl.nfields(heads["f"], 1)
    n_features = fl.integer(heads["f"], 0, 1, 65535, "n_features")
    fl.nfields(heads["c"], 1)
    n_classes = fl.integer(heads["c"], 0, 0, 65535, "n_classes")
    leaf_bits = 0
    if "lb" in heads:
        fl.nfields(heads["lb"], 1)
        leaf_bits = fl.integer(heads["lb"], 0, 0, 32, "leaf_bits")
    if n_classes == 0:
        leaf_kind = V1_VALUE
    elif leaf_bits in (0, 32):
        leaf_kind = V1_CLASS
    elif 1 <= leaf_bits <= 8:
        leaf_kind = V1_PROBA8
    else:
        raise fl.err(f"unsupported leaf_bits {leaf_bits} for a classifier (0, 1..8 or 32)", heads["lb"].line)
    if n_classes > MAX_OUTPUTS:
        raise fl.err(f"{n_classes} classes: at most {MAX_OUTPUTS}", heads["c"].line)
    n_outputs = max(n_classes, 1)
    width = v1_leaf_width(leaf_kind, n_outputs)
    leaf_rows: List[np.ndarray] = []
    l_lines: List[int] = []
    roots: List[int] = []
    r_lines: List[int] = []
    feats: List[int] = []
    thr: List[np.float32] = []
    kids: List[int] = []
    n_lines: List[int] = []
    for r in recs:
        if r.kind == "l":
            if len(leaf_rows) >= V1_MAX_LEAVES:
                raise fl.err(f"more than {V1_MAX_LEAVES} leaves", r.line)
            if leaf_kind == V1_CLASS:
                fl.nfields(r, 1)
                leaf_rows.append(np.array([fl.integer(r, 0, 0, n_classes - 1, "leaf class")], dtype=np.uint8))
            elif leaf_kind == V1_VALUE:
                fl.nfields(r, 1)
                leaf_rows.append(np.array([fl.f32(r, 0, "leaf value")], dtype=np.float32))
            else:
                leaf_rows.append(_emlearn_proba_leaf(fl, r, width))
            l_lines.append(r.line)
        elif r.kind == "r":
            fl.nfields(r, 1)
            roots.append(fl.integer(r, 0, 0, V1_MAX_NODES - 1, "root node"))
            r_lines.append(r.line)
        elif r.kind == "n":
            if len(feats) >= V1_MAX_NODES:
                raise fl.err(f"more than {V1_MAX_NODES} decision nodes", r.line)
            fl.nfields(r, 4)
            i = len(feats)
            feats.append(fl.integer(r, 0, 0, n_features - 1, "feature"))
            thr.append(fl.f32(r, 1, "threshold"))
            for j, side in ((2, "left child"), (3, "right child")):
                c = fl.integer(r, j, -32768, 32767, side)
                if c == 0:
                    raise fl.err(f"{side} 0 points at the node itself", r.line)
                kids.append(i + c if c > 0 else c)  # relative jump -> absolute node index
            n_lines.append(r.line)
    if not leaf_rows:
        raise fl.err("emlearn file has no 'l' lines", last_line)
    if not roots:
        raise fl.err("emlearn file has no 'r' lines", last_line)
    if not feats:
        raise fl.err("emlearn file has no 'n' lines", last_line)
    if len(roots) > 65535:
        raise fl.err("more than 65535 trees", r_lines[65535])
    n_nodes = len(feats)
    for i in range(n_nodes):
        for c in (kids[2 * i], kids[2 * i + 1]):
            if c >= n_nodes:
                raise fl.err(f"child node {c} >= number of 'n' lines {n_nodes} (truncated file?)", n_lines[i])
            if c < 0 and -1 - c >= len(leaf_rows):
                raise fl.err(f"child leaf {-1 - c} >= number of 'l' lines {len(leaf_rows)}", n_lines[i])
    for t, root in enumerate(roots):
        if root >= n_nodes:
            raise fl.err(f"root {root} >= number of 'n' lines {n_nodes} (truncated file?)", r_lines[t])
    old = V1Trees(dtype="float", leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
                  thresholds=K.emlearn_threshold_keys(np.array(thr, dtype=np.float32)),
                  features=np.array(feats, dtype=np.uint16), children=np.array(kids, dtype=np.int16),
                  roots=np.array(roots, dtype=np.int16),
                  leaves=np.stack(leaf_rows).reshape(len(leaf_rows), width))
    locate = _line_locator(n_lines, r_lines, l_lines, [], heads["f"].line)
    in_file(old.check, locate, path)
    return old, locate


def _emlearn_proba_leaf(fl: Fields, r: Rec, width: int) -> np.ndarray:
    """emlearn writes a uint8 numpy array as `l,[  0 255   0]` (values separated by spaces,
    possibly over several lines); `l,0,255,0` is accepted too."""
    if r.fields and r.fields[0].startswith("["):
        if len(r.fields) != 1 or not r.fields[0].endswith("]"):
            raise fl.err("leaf array must be '[' values separated by spaces ']'", r.line)
        tokens = [t for t in r.fields[0][1:-1].split(" ") if t]
        if len(tokens) != width:
            raise fl.err(f"leaf array has {len(tokens)} values, expected {width}", r.line)
        r = Rec(r.line, r.kind, tokens)
    fl.nfields(r, width)
    return np.array([fl.integer(r, j, 0, 255, "leaf proportion") for j in range(width)], dtype=np.uint8)



# ---- version 1 binary ------------------------------------------------------------------------
V1_HEADER = struct.Struct("<4sHBBHHHHIIII")


def _v1_sections(dtype: str, leaf_kind: int, n_features: int, n_outputs: int, n_trees: int,
                 n_nodes: int, n_leaves: int) -> List[Section]:
    leaf_dt = np.dtype("u1") if leaf_kind in (V1_CLASS, V1_PROBA8) else np.dtype("<f4")
    secs: List[Section] = [("thresholds", np.dtype("<i4"), n_nodes), ("features", np.dtype("<u2"), n_nodes),
            ("children", np.dtype("<i2"), 2 * n_nodes), ("roots", np.dtype("<i2"), n_trees),
            ("leaves", leaf_dt, n_leaves * v1_leaf_width(leaf_kind, n_outputs))]
    if dtype == "int16":
        secs += [("scale", np.dtype("<f4"), n_features), ("offset", np.dtype("<f4"), n_features)]
    return secs


def read_v1_bin(data: bytes, path: Optional[str] = None) -> Tuple[V1Trees, Locator]:
    """emlmpy's version 1 binary tree file."""
    def fail(msg: str, offset: int) -> ModelFormatError:
        return ModelFormatError(msg, offset=offset, path=path)

    if len(data) < HEADER_SIZE:
        raise fail(f"truncated header: file has {len(data)} bytes, the header needs {HEADER_SIZE}", len(data))
    (magic, version, dtype_code, leaf_kind, n_features, n_outputs, n_trees, reserved16, n_nodes, n_leaves,
     total, reserved32) = V1_HEADER.unpack_from(data, 0)
    if magic != TREES_MAGIC:
        raise fail(f"bad magic {magic!r}: expected {TREES_MAGIC!r}", 0)
    if version != LEGACY_VERSION:
        raise fail(f"not a version 1 file (version {version})", 4)
    if dtype_code >= len(DTYPES):
        raise fail(f"unknown input dtype code {dtype_code} (0 float32, 1 int16)", 6)
    if reserved16 != 0:
        raise fail("reserved header field is not 0", 14)
    if reserved32 != 0:
        raise fail("reserved header field is not 0", 28)
    if n_features == 0:
        raise fail("n_features is 0", 8)
    if leaf_kind not in V1_KINDS:
        raise fail(f"unknown leaf kind {leaf_kind} (0..3)", 7)
    if not 1 <= n_outputs <= MAX_OUTPUTS:
        raise fail(f"n_outputs {n_outputs} outside 1..{MAX_OUTPUTS}", 10)
    if leaf_kind == V1_VALUE and n_outputs != 1:
        raise fail("regression (value leaves) needs n_outputs 1", 10)
    if n_trees == 0:
        raise fail("n_trees is 0", 12)
    if n_nodes > V1_MAX_NODES:
        raise fail(f"n_nodes {n_nodes} > {V1_MAX_NODES}", 16)
    if n_leaves == 0 or n_leaves > V1_MAX_LEAVES:
        raise fail(f"n_leaves {n_leaves} outside 1..{V1_MAX_LEAVES}", 20)
    dtype = DTYPES[dtype_code]
    secs = _v1_sections(dtype, leaf_kind, n_features, n_outputs, n_trees, n_nodes, n_leaves)
    starts: Dict[str, int] = {}
    off = HEADER_SIZE
    for name, dt, count in secs:
        starts[name] = off
        off += pad4(dt.itemsize * count)
    if total != off:
        raise fail(f"header says the file has {total} bytes but its counts need {off}", 24)
    if len(data) < off:
        raise fail(f"truncated: file has {len(data)} bytes, header says {off}", len(data))
    if len(data) > off:
        raise fail(f"{len(data) - off} extra bytes after the end the header declares", off)
    v = {}
    for name, dt, count in secs:
        nbytes = dt.itemsize * count
        v[name] = np.frombuffer(data, dtype=dt, count=count, offset=starts[name]).astype(dt.newbyteorder("="))
        if any(data[starts[name] + nbytes:starts[name] + pad4(nbytes)]):
            raise fail(f"non-zero padding after {name}", starts[name] + nbytes)
    n_classes = 0 if leaf_kind == V1_VALUE else n_outputs
    width = v1_leaf_width(leaf_kind, n_outputs)
    old = V1Trees(dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
                  thresholds=v["thresholds"], features=v["features"], children=v["children"],
                  roots=v["roots"], leaves=v["leaves"].reshape(n_leaves, width),
                  scale=v.get("scale"), offset=v.get("offset"))
    sizes = {"thresholds": 4, "features": 2, "children": 4, "roots": 2, "scale": 4, "offset": 4,
             "leaves": width * secs[4][1].itemsize}

    def locate(p: ModelProblem) -> Dict[str, Optional[int]]:
        return {"offset": starts[p.where] + p.index * sizes[p.where] if p.where in starts else 0}

    in_file(old.check, locate, path)
    return old, locate

