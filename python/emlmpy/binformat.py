"""Binary model files (docs/model-format.md sections 2 and 4): a 32-byte header, then arrays
in the exact little-endian layout the C core uses, each padded with zeros to 4 bytes."""
from __future__ import annotations

import struct
from typing import List, Optional, Tuple, Union

import numpy as np

from .errors import ModelFormatError
from .neighbors import KnnModel, KnnProblem
from .trees import (LEAF_KIND_NAMES, LEAF_VALUE, MAX_LEAVES, MAX_NODES, MAX_OUTPUTS, ModelProblem,
                    TreeModel, leaf_numpy_dtype, leaf_width)

TREES_MAGIC = b"EMLT"
KNN_MAGIC = b"EMLK"
VERSION = 1
HEADER = struct.Struct("<4sHBBHHHHIIII")
HEADER_SIZE = HEADER.size  # 32
DTYPE_CODES = {"float": 0, "int16": 1}
DTYPE_NAMES = {v: k for k, v in DTYPE_CODES.items()}


def _pad4(n: int) -> int:
    return (n + 3) & ~3


def _layout(arrays: List[Tuple[str, np.dtype, int]]) -> Tuple[dict, int]:
    """Offsets of each (name, dtype, count) array after the header; returns (offsets, total)."""
    off = HEADER_SIZE
    offsets = {}
    for name, dt, count in arrays:
        offsets[name] = off
        off += _pad4(np.dtype(dt).itemsize * count)
    return offsets, off


def _tree_arrays(dtype: str, leaf_kind: int, n_features: int, n_outputs: int, n_trees: int,
                 n_nodes: int, n_leaves: int) -> List[Tuple[str, np.dtype, int]]:
    arrays = [("thresholds", np.dtype("<i4"), n_nodes), ("features", np.dtype("<u2"), n_nodes),
              ("children", np.dtype("<i2"), 2 * n_nodes), ("roots", np.dtype("<i2"), n_trees),
              ("leaves", np.dtype(leaf_numpy_dtype(leaf_kind)).newbyteorder("<"),
               n_leaves * leaf_width(leaf_kind, n_outputs))]
    if dtype == "int16":
        arrays += [("scale", np.dtype("<f4"), n_features), ("offset", np.dtype("<f4"), n_features)]
    return arrays


def _knn_arrays(dtype: str, n_features: int, n_items: int) -> List[Tuple[str, np.dtype, int]]:
    item_dt = np.dtype("<f4") if dtype == "float" else np.dtype("<i2")
    arrays = [("items", item_dt, n_items * n_features), ("labels", np.dtype("<u2"), n_items)]
    if dtype == "int16":
        arrays += [("scale", np.dtype("<f4"), n_features), ("offset", np.dtype("<f4"), n_features)]
    return arrays


def _pack(header_fields: tuple, arrays: List[Tuple[str, np.dtype, int]], values: dict) -> bytes:
    offsets, total = _layout(arrays)
    out = bytearray(total)
    fields = list(header_fields)
    fields[10] = total
    out[:HEADER_SIZE] = HEADER.pack(*fields)
    for name, dt, count in arrays:
        raw = np.ascontiguousarray(values[name]).astype(dt).reshape(-1)
        assert raw.size == count, (name, raw.size, count)
        b = raw.tobytes()
        out[offsets[name]:offsets[name] + len(b)] = b
    return bytes(out)


def write(model: Union[TreeModel, KnnModel]) -> bytes:
    if isinstance(model, TreeModel):
        arrays = _tree_arrays(model.dtype, model.leaf_kind, model.n_features, model.n_outputs,
                              model.n_trees, model.n_nodes, model.n_leaves)
        header = (TREES_MAGIC, VERSION, DTYPE_CODES[model.dtype], model.leaf_kind, model.n_features,
                  model.n_outputs, model.n_trees, 0, model.n_nodes, model.n_leaves, 0, 0)
        values = {"thresholds": model.thresholds, "features": model.features, "children": model.children,
                  "roots": model.roots, "leaves": model.leaves, "scale": model.scale, "offset": model.offset}
        return _pack(header, arrays, values)
    arrays = _knn_arrays(model.dtype, model.n_features, model.n_items)
    header = (KNN_MAGIC, VERSION, DTYPE_CODES[model.dtype], 0, model.n_features, model.n_classes,
              model.k, 0, model.n_items, 0, 0, 0)
    values = {"items": model.items, "labels": model.labels, "scale": model.scale, "offset": model.offset}
    return _pack(header, arrays, values)


def read(data: bytes, path: Optional[str] = None) -> Union[TreeModel, KnnModel]:
    def fail(msg: str, offset: int) -> ModelFormatError:
        return ModelFormatError(msg, offset=offset, path=path)

    if len(data) < HEADER_SIZE:
        raise fail(f"truncated header: file has {len(data)} bytes, the header needs {HEADER_SIZE}",
                   len(data))
    (magic, version, dtype_code, kind_byte, n_features, n_b, n_c, reserved16, n_d, n_e, total,
     reserved32) = HEADER.unpack_from(data, 0)
    if magic not in (TREES_MAGIC, KNN_MAGIC):
        raise fail(f"bad magic {magic!r}: expected {TREES_MAGIC!r} or {KNN_MAGIC!r}", 0)
    if version != VERSION:
        raise fail(f"unsupported format version {version} (this reader knows {VERSION})", 4)
    if dtype_code not in DTYPE_NAMES:
        raise fail(f"unknown input dtype code {dtype_code} (0 float32, 1 int16)", 6)
    dtype = DTYPE_NAMES[dtype_code]
    if reserved16 != 0:
        raise fail("reserved header field is not 0", 14)
    if reserved32 != 0:
        raise fail("reserved header field is not 0", 28)
    if n_features == 0:
        raise fail("n_features is 0", 8)

    if magic == TREES_MAGIC:
        leaf_kind, n_outputs, n_trees, n_nodes, n_leaves = kind_byte, n_b, n_c, n_d, n_e
        if leaf_kind not in LEAF_KIND_NAMES:
            raise fail(f"unknown leaf kind {leaf_kind} (0..3)", 7)
        if not 1 <= n_outputs <= MAX_OUTPUTS:
            raise fail(f"n_outputs {n_outputs} outside 1..{MAX_OUTPUTS}", 10)
        if leaf_kind == LEAF_VALUE and n_outputs != 1:
            raise fail("regression (value leaves) needs n_outputs 1", 10)
        if n_trees == 0:
            raise fail("n_trees is 0", 12)
        if n_nodes > MAX_NODES:
            raise fail(f"n_nodes {n_nodes} > {MAX_NODES}", 16)
        if n_leaves == 0 or n_leaves > MAX_LEAVES:
            raise fail(f"n_leaves {n_leaves} outside 1..{MAX_LEAVES}", 20)
        arrays = _tree_arrays(dtype, leaf_kind, n_features, n_outputs, n_trees, n_nodes, n_leaves)
    else:
        if kind_byte != 0:
            raise fail("reserved header field is not 0", 7)
        n_classes, k, n_items = n_b, n_c, n_d
        if n_classes == 0:
            raise fail("n_classes is 0", 10)
        if k == 0:
            raise fail("k is 0", 12)
        if n_items == 0:
            raise fail("n_items is 0", 16)
        if n_e != 0:
            raise fail("reserved header field is not 0", 20)
        if n_items * n_features > 1 << 28:
            raise fail(f"n_items {n_items} x n_features {n_features} is implausibly large", 16)
        arrays = _knn_arrays(dtype, n_features, n_items)

    offsets, expected = _layout(arrays)
    if total != expected:
        raise fail(f"header says the file has {total} bytes but its counts need {expected}", 24)
    if len(data) < expected:
        raise fail(f"truncated: file has {len(data)} bytes, header says {expected}", len(data))
    if len(data) > expected:
        raise fail(f"{len(data) - expected} extra bytes after the end the header declares", expected)
    values = {}
    for name, dt, count in arrays:
        start = offsets[name]
        nbytes = dt.itemsize * count
        values[name] = np.frombuffer(data, dtype=dt, count=count, offset=start).astype(dt.newbyteorder("="))
        pad = data[start + nbytes:start + _pad4(nbytes)]
        if any(pad):
            raise fail(f"non-zero padding after {name}", start + nbytes)

    if magic == TREES_MAGIC:
        n_classes = 0 if leaf_kind == LEAF_VALUE else n_outputs
        model = TreeModel(dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
                          thresholds=values["thresholds"], features=values["features"],
                          children=values["children"], roots=values["roots"],
                          leaves=values["leaves"].reshape(n_leaves, leaf_width(leaf_kind, n_outputs)),
                          scale=values.get("scale"), offset=values.get("offset"),
                          classes=np.arange(n_classes) if n_classes else None)
        item_sizes = {"children": 4, "leaves": leaf_width(leaf_kind, n_outputs) * np.dtype(
            leaf_numpy_dtype(leaf_kind)).itemsize}
        try:
            model.check()
        except ModelProblem as p:
            raise fail(p.message, _problem_offset(p.where, p.index, offsets, arrays, item_sizes)) from None
        return model
    model = KnnModel(dtype=dtype, k=k, n_features=n_features, n_classes=n_classes,
                     items=values["items"].reshape(n_items, n_features), labels=values["labels"],
                     scale=values.get("scale"), offset=values.get("offset"),
                     classes=np.arange(n_classes))
    try:
        model.check()
    except KnnProblem as p:
        item_sizes = {"items": n_features * arrays[0][1].itemsize}
        raise fail(p.message, _problem_offset(p.where, p.index, offsets, arrays, item_sizes)) from None
    return model


def _problem_offset(where: str, index: int, offsets: dict, arrays: list, item_sizes: dict) -> int:
    if where not in offsets:
        return 0
    size = item_sizes.get(where)
    if size is None:
        size = next(dt.itemsize for name, dt, _ in arrays if name == where)
    return offsets[where] + index * size
