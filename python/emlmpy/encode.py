"""Lay out tree ensembles in format version 2 (docs/model-format.md §1): pre-order nodes, the four
child shapes, leaf references, pass-through and padding nodes, deduplicated payloads/values.

Input: a `SourceForest` (decision nodes in any order with children after parents, leaves as
`Leaf` values), from scikit-learn (convert.py) or from an old file (legacy.py). Problems
(too many nodes, references or payload bytes) raise ModelProblem('model', ...).
Imports: numpy, errors, layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ModelProblem
from .layout import (LEAF_CLASS, LEAF_PROBA, LEAF_VALUE, MAX_NODES, MAX_PAYLOAD_BYTES, MAX_REFS,
                     PASS_KEY, SHAPE3_MAX_REF, SHAPE_LEAF_NODE, SHAPE_LEAVES, SHAPE_NODE_LEAF,
                     SHAPE_NODES, TreeArrays, make_fk, node_array)

# A leaf: an int is a direct reference (a class: CLASS leaves and PROBA pure leaves); bytes are
# a table item: a PROBA payload record (layout.pack_payload) or a VALUE float32 (4 bytes LE).
Leaf = Union[int, bytes]


@dataclass
class SourceForest:
    """Decision nodes of all trees (any order in which every child node comes after its parent)
    and their leaves. Child references: a node index >= 0, or -1 - leaf number (into `leaves`)."""

    feature: np.ndarray       # per node
    key: np.ndarray           # int32 key-space threshold per node
    missing_left: np.ndarray  # bool per node
    left: np.ndarray          # child reference per node
    right: np.ndarray
    roots: Sequence[int]      # child reference per tree
    leaves: Sequence[Leaf]


def encode(src: SourceForest, dtype: str, leaf_kind: int, n_features: int, n_outputs: int,
           scale: Optional[np.ndarray] = None, offset: Optional[np.ndarray] = None) -> TreeArrays:
    """Version-2 arrays for the forest (not yet check()ed)."""
    left = np.asarray(src.left, dtype=np.int64)
    right = np.asarray(src.right, dtype=np.int64)
    _check_expansion(left, right, src.roots)
    leaf_seq, leafleaf = _preorder(left, right, src.roots)
    items, item_refs = _assign_refs(src.leaves, leaf_kind, n_outputs, leaf_seq, leafleaf)

    def ref(child: int) -> int:
        leaf = src.leaves[-1 - child]
        return leaf if isinstance(leaf, int) else item_refs[leaf]

    keys: List[int] = []
    fks: List[int] = []
    cs: List[int] = []
    roots: List[int] = []
    feature = np.asarray(src.feature, dtype=np.int64)
    key = np.asarray(src.key, dtype=np.int64)
    ml = np.asarray(src.missing_left, dtype=bool)
    last_is_pass = False
    for root in src.roots:
        if root < 0:
            roots.append(-1 - ref(int(root)))
            continue
        roots.append(len(keys))
        stack: List[Tuple[int, int]] = [(int(root), -1)]  # (node, parent whose offset c to set)
        while stack:
            n, patch = stack.pop()
            i = len(keys)
            if patch >= 0:
                cs[patch] = i - patch
            lc, rc = int(left[n]), int(right[n])
            f, m = int(feature[n]), bool(ml[n])
            keys.append(int(key[n]))
            last_is_pass = False
            if lc >= 0 and rc >= 0:
                fks.append(make_fk(f, SHAPE_NODES, m))
                cs.append(0)
                stack.append((rc, i))
                stack.append((lc, -1))
            elif lc < 0 and rc >= 0:
                fks.append(make_fk(f, SHAPE_LEAF_NODE, m))
                cs.append(ref(lc))
                stack.append((rc, -1))
            elif lc >= 0:
                fks.append(make_fk(f, SHAPE_NODE_LEAF, m))
                cs.append(ref(rc))
                stack.append((lc, -1))
            else:
                rl, rr = ref(lc), ref(rc)
                if rl <= SHAPE3_MAX_REF and rr <= SHAPE3_MAX_REF:
                    fks.append(make_fk(f, SHAPE_LEAVES, m))
                    cs.append(rl | (rr << 8))
                else:  # shape 1 (left leaf) and a pass-through node holding the right leaf
                    fks.append(make_fk(f, SHAPE_LEAF_NODE, m))
                    cs.append(rl)
                    keys.append(PASS_KEY)
                    fks.append(make_fk(0, SHAPE_LEAF_NODE, True))
                    cs.append(rr)
                    last_is_pass = True
            if len(keys) > MAX_NODES:
                raise ModelProblem("model", 0, f"more than {MAX_NODES} nodes (pass-through nodes "
                                               "included): use fewer or smaller trees", field="n_nodes")
    if last_is_pass:  # the pass-through's right child i + 2 must exist: one unreachable node
        keys.append(0)
        fks.append(make_fk(0, SHAPE_LEAVES, False))
        cs.append(0)
        if len(keys) > MAX_NODES:
            raise ModelProblem("model", 0, f"more than {MAX_NODES} nodes", field="n_nodes")

    arrays = TreeArrays(dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_outputs=n_outputs,
                        nodes=node_array(keys, fks, cs), roots=np.array(roots, dtype=np.int16),
                        scale=scale, offset=offset)
    if leaf_kind == LEAF_PROBA:
        sizes = [len(item) for item in items]
        if sum(sizes) > MAX_PAYLOAD_BYTES:
            raise ModelProblem("model", 0, f"{sum(sizes)} payload bytes > {MAX_PAYLOAD_BYTES}: too many "
                                           "distinct leaves (fewer/smaller trees, or leaf_bits=0)",
                               field="payload_bytes")
        arrays.offsets = np.array(np.cumsum([0] + sizes[:-1]) if sizes else [], dtype=np.uint16)
        arrays.payload = np.frombuffer(b"".join(items), dtype=np.uint8).copy()
    elif leaf_kind == LEAF_VALUE:
        arrays.values = np.frombuffer(b"".join(items), dtype="<f4").astype(np.float32)
    return arrays


def _check_expansion(left: np.ndarray, right: np.ndarray, roots: Sequence[int]) -> None:
    """Trees are written in pre-order, so a node reached along several paths (allowed in old
    files) is written once per path. Refuse before doing so when that exceeds MAX_NODES."""
    n = left.shape[0]
    size = np.zeros(n, dtype=np.int64)
    cap = MAX_NODES + 1
    for i in range(n - 1, -1, -1):  # children come after their parents
        s = 1
        for ch in (left[i], right[i]):
            if ch >= 0:
                s += int(size[ch])
        size[i] = min(s, cap)
    total = sum(int(size[r]) for r in roots if r >= 0)
    if total > MAX_NODES:
        raise ModelProblem("model", 0, f"the trees have more than {MAX_NODES} nodes when written in "
                                       "pre-order (nodes shared by several parents are repeated)",
                           field="n_nodes")


def _preorder(left: np.ndarray, right: np.ndarray,
              roots: Sequence[int]) -> Tuple[List[int], List[Tuple[int, int]]]:
    """The leaf numbers in the order the pre-order walk of the trees meets them, and the (left,
    right) child references of the nodes whose two children are leaves, in write order."""
    leaf_seq: List[int] = []
    leafleaf: List[Tuple[int, int]] = []
    for root in roots:
        if root < 0:
            leaf_seq.append(-1 - int(root))
            continue
        stack = [int(root)]
        while stack:
            n = stack.pop()
            lc, rc = int(left[n]), int(right[n])
            leaf_seq += [-1 - c for c in (lc, rc) if c < 0]
            if lc < 0 and rc < 0:
                leafleaf.append((lc, rc))
            if rc >= 0:
                stack.append(rc)
            if lc >= 0:
                stack.append(lc)
    return leaf_seq, leafleaf


def _assign_refs(leaves: Sequence[Leaf], leaf_kind: int, n_outputs: int, leaf_seq: List[int],
                 leafleaf: List[Tuple[int, int]]) -> Tuple[List[bytes], Dict[bytes, int]]:
    """Distinct table items (payloads or values) in reference order, and item -> reference.

    References below 256 are what lets a node with two leaf children use shape 3 (else it needs a
    pass-through node). Items get the smallest numbers by priority: the items the leaf-leaf nodes
    need, ranked two ways (by how many such nodes use them; by the same count with a node that
    needs two items counting 1/2 for each), keeping the ranking that leaves fewer pass-through
    nodes; then every other item in order of first use."""
    if leaf_kind == LEAF_CLASS:
        return [], {}
    base = n_outputs if leaf_kind == LEAF_PROBA else 0
    first: Dict[bytes, int] = {}
    for leaf_no in leaf_seq:
        leaf = leaves[leaf_no]
        if isinstance(leaf, bytes) and leaf not in first:
            first[leaf] = len(first)
    needs: List[Tuple[bytes, ...]] = []
    for lc, rc in leafleaf:
        items_needed = set()
        for c in (lc, rc):
            leaf = leaves[-1 - c]
            if isinstance(leaf, bytes):
                items_needed.add(leaf)
        needs.append(tuple(sorted(items_needed, key=lambda it: first[it])))
    count: Dict[bytes, float] = {}
    weighted: Dict[bytes, float] = {}
    for need in needs:
        for it in need:
            count[it] = count.get(it, 0) + 1
            weighted[it] = weighted.get(it, 0) + 1.0 / len(need)
    slots = SHAPE3_MAX_REF + 1 - base
    best: Optional[List[bytes]] = None
    best_misses = -1
    for score in (count, weighted):
        ranked = sorted(score, key=lambda it: (-score[it], -count[it], first[it]))
        chosen = set(ranked[:max(slots, 0)])
        misses = sum(1 for need in needs if not all(it in chosen for it in need))
        if best is None or misses < best_misses:
            best, best_misses = ranked, misses
    assert best is not None
    ranked_set = set(best)
    items = best + [it for it in sorted(first, key=lambda it: first[it]) if it not in ranked_set]
    if base + len(items) > MAX_REFS:
        raise ModelProblem("model", 0, f"{len(items)} distinct leaf payloads/values: at most "
                                       f"{MAX_REFS - base} fit the leaf references", field="n_payloads")
    return items, {it: base + k for k, it in enumerate(items)}
