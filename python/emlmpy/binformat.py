"""Binary files: tree models in format version 2 (docs/model-format.md §2) and k-NN files (§4,
version 2; version 1 is still read). A 32-byte header, then the arrays in the device's
little-endian layout, each padded with zeros to 4 bytes. Readers return layout.TreeArrays /
layout.KnnArrays, accept exactly what the device loaders accept, and locate every rejection by
byte offset.

Imports: struct, numpy, errors, layout.
"""
from __future__ import annotations

import struct
from typing import Dict, List, Optional

import numpy as np

from .errors import ConversionError, ModelFormatError, ModelProblem, in_file
from .layout import (DTYPE_CODES, DTYPES, FORMAT_VERSION, HEADER_SIZE, KNN_FLAG_CLASSES, KNN_MAGIC,
                     KNN_MAX_CLASSES, KNN_MAX_ELEMENTS, KNN_VERSION, LEAF_KIND_NAMES, LEGACY_VERSION,
                     TREES_MAGIC, KnnArrays, Section, TreeArrays, count_problem, knn_sections, pad4,
                     section_starts, tree_sections)

# §2: magic, version u16, dtype u8, leaf_kind u8, n_features, n_outputs, n_trees, n_nodes,
# n_payloads, flags (u16 each; bit 0: class labels present), payload_bytes, total size, reserved (u32)
HEADER = struct.Struct("<4sHBBHHHHHHIII")
# §4: magic, version u16, dtype u8, reserved u8 @7, n_features u16 @8, n_classes u16 @10, k u16 @12,
# flags u16 @14 (version 2; reserved 0 in version 1), n_items u32 @16, reserved u32 @20,
# total u32 @24, reserved u32 @28
KNN_HEADER = struct.Struct("<4sHBBHHHHIIII")
assert HEADER.size == KNN_HEADER.size == HEADER_SIZE
FIELD_OFFSETS = {"n_features": 8, "n_outputs": 10, "n_trees": 12, "n_nodes": 14, "n_payloads": 16,
                 "flags": 18, "payload_bytes": 20}
FLAG_LABELS = 1


def _pack(header: bytes, sections: List[Section], values: Dict[str, Optional[np.ndarray]]) -> bytes:
    starts, total = section_starts(sections)
    out = bytearray(total)
    out[:HEADER_SIZE] = header
    for name, dt, count in sections:
        arr = values[name]
        assert arr is not None, name
        raw = np.ascontiguousarray(arr).astype(dt).reshape(-1)
        assert raw.size == count, (name, raw.size, count)
        b = raw.tobytes()
        out[starts[name]:starts[name] + len(b)] = b
    return bytes(out)


def write_trees(m: TreeArrays) -> bytes:
    secs = m.sections()
    total = section_starts(secs)[1]
    header = HEADER.pack(TREES_MAGIC, FORMAT_VERSION, DTYPE_CODES[m.dtype], m.leaf_kind, m.n_features,
                         m.n_outputs, m.n_trees, m.n_nodes, m.n_payloads,
                         0 if m.labels is None else FLAG_LABELS, m.payload_bytes, total, 0)
    values: Dict[str, Optional[np.ndarray]] = {"nodes": m.nodes, "roots": m.roots, "offsets": m.offsets, "payload": m.payload,
              "values": m.values, "scale": m.scale, "offset": m.offset, "labels": m.labels}
    return _pack(header, secs, values)


def write_knn(m: KnnArrays) -> bytes:
    """A version 2 k-NN file. k is written as min(k, n_items), which predicts the same (the host
    predictor votes among min(k, n_items) neighbours; version 2 requires k <= n_items). Raises
    ConversionError for a model version 2 cannot hold (more than 32768 classes, n_items x
    n_features > 2^28: a version 1 or CSV file may)."""
    if m.n_classes > KNN_MAX_CLASSES:
        raise ConversionError(f"{m.n_classes} classes: a k-NN file holds at most {KNN_MAX_CLASSES}")
    if m.n_items * m.n_features > KNN_MAX_ELEMENTS:
        raise ConversionError(f"{m.n_items} items x {m.n_features} features: a k-NN file holds at most "
                              f"2^28 values")
    secs = knn_sections(m.dtype, m.n_features, m.n_items, m.n_classes if m.class_labels is not None else 0)
    total = section_starts(secs)[1]
    flags = KNN_FLAG_CLASSES if m.class_labels is not None else 0
    header = KNN_HEADER.pack(KNN_MAGIC, KNN_VERSION, DTYPE_CODES[m.dtype], 0, m.n_features, m.n_classes,
                             min(m.k, m.n_items), flags, m.n_items, 0, total, 0)
    values: Dict[str, Optional[np.ndarray]] = {"items": m.items, "labels": m.labels, "scale": m.scale,
                                               "offset": m.offset, "classes": m.class_labels}
    return _pack(header, secs, values)


def _read_sections(data: bytes, sections: List[Section], total: int, path: Optional[str]) -> Dict[str, np.ndarray]:
    """The arrays, after checking (in file order, as a streaming reader) the padding of the bytes
    present, then that the file has exactly `total` bytes."""
    def fail(msg: str, offset: int) -> ModelFormatError:
        return ModelFormatError(msg, offset=offset, path=path)

    starts, _ = section_starts(sections)
    for name, dt, count in sections:
        end = starts[name] + dt.itemsize * count
        pad = data[end:starts[name] + pad4(dt.itemsize * count)]
        if any(pad):
            raise fail(f"non-zero padding after {name}", end + next(i for i, b in enumerate(pad) if b))
    if len(data) < total:
        raise fail(f"truncated: file has {len(data)} bytes, header says {total}", len(data))
    if len(data) > total:
        raise fail(f"{len(data) - total} extra bytes after the end the header declares", total)
    return {name: np.frombuffer(data, dtype=dt, count=count, offset=starts[name]).astype(dt.newbyteorder("="))
            for name, dt, count in sections}


def _locator(sections: List[Section], header_field_offsets: Dict[str, int]):
    starts, _ = section_starts(sections)
    sizes = {name: dt.itemsize for name, dt, _ in sections}

    def locate(p: ModelProblem) -> Dict[str, Optional[int]]:
        if p.where == "payload" and p.byte is not None:
            return {"offset": starts["payload"] + p.byte}
        if p.where in starts:
            return {"offset": starts[p.where] + p.index * sizes[p.where]}
        return {"offset": header_field_offsets.get(p.field or "", 0)}
    return locate


def read_trees(data: bytes, path: Optional[str] = None) -> TreeArrays:
    """A version 2 tree file (§2). Checks, in order: header length, magic (offset 0), version (4),
    dtype (6), leaf kind (7), reserved field (28), counts (their header offsets; flags, 18, between
    n_payloads and payload_bytes: unknown bits, labels on a regressor), total size
    (24); then the padding of the sections present, the file length (truncated: offset = file size;
    too long: offset = declared size); then check() (offset of the offending array element)."""
    def fail(msg: str, offset: int) -> ModelFormatError:
        return ModelFormatError(msg, offset=offset, path=path)

    if len(data) < HEADER_SIZE:
        raise fail(f"truncated header: file has {len(data)} bytes, the header needs {HEADER_SIZE}", len(data))
    (magic, version, dtype_code, leaf_kind, n_features, n_outputs, n_trees, n_nodes, n_payloads,
     flags, payload_bytes, total, reserved32) = HEADER.unpack_from(data, 0)
    if magic != TREES_MAGIC:
        raise fail(f"bad magic {magic!r}: expected {TREES_MAGIC!r}", 0)
    if version != FORMAT_VERSION:
        if version == LEGACY_VERSION:
            raise fail("format version 1: read it with emlmpy and save it again (version 2)", 4)
        raise fail(f"unsupported format version {version} (this reader knows {FORMAT_VERSION})", 4)
    if dtype_code >= len(DTYPES):
        raise fail(f"unknown input dtype code {dtype_code} (0 float32, 1 int16)", 6)
    if leaf_kind not in LEAF_KIND_NAMES:
        raise fail(f"unknown leaf kind {leaf_kind} (0 class, 1 proba, 2 value)", 7)
    if reserved32 != 0:
        raise fail("reserved header field is not 0", 28)
    bad = count_problem(leaf_kind, n_features, n_outputs, n_trees, n_nodes, n_payloads, payload_bytes)
    if bad and FIELD_OFFSETS[bad[0]] < FIELD_OFFSETS["flags"]:
        raise fail(bad[1], FIELD_OFFSETS[bad[0]])
    if flags & ~FLAG_LABELS or (flags and leaf_kind == 2):
        raise fail(f"unknown header flags {flags:#x} (bit 0: class labels, classifiers only)", 18)
    if bad:
        raise fail(bad[1], FIELD_OFFSETS[bad[0]])
    dtype = DTYPES[dtype_code]
    secs = tree_sections(dtype, leaf_kind, n_features, n_trees, n_nodes, n_payloads, payload_bytes,
                         n_outputs if flags & FLAG_LABELS else 0)
    expected = section_starts(secs)[1]
    if total != expected:
        raise fail(f"header says the file has {total} bytes but its counts need {expected}", 24)
    v = _read_sections(data, secs, total, path)
    m = TreeArrays(dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_outputs=n_outputs,
                   nodes=v["nodes"], roots=v["roots"], scale=v.get("scale"), offset=v.get("offset"),
                   labels=v.get("labels"))
    if "offsets" in v:
        m.offsets, m.payload = v["offsets"], v["payload"]
    if "values" in v:
        m.values = v["values"]
    in_file(m.check, _locator(secs, FIELD_OFFSETS), path)
    return m


def read_knn(data: bytes, path: Optional[str] = None) -> KnnArrays:
    """A k-NN file (§4), version 2 (what the device reads) or 1. Version 2 checks, in the device
    loader's order (cores/emlc_knn_load.c): header length, magic (offset 0), version (4), dtype (6),
    the reserved fields (7, 20, 28), flags (14), n_features (8), n_classes (10), k (12), n_items and
    n_items x n_features (16), k <= n_items (12), total size (24); then the file length (truncated:
    offset = file size; too long: offset = declared size), the padding, and check() (offset of the
    offending element)."""
    def fail(msg: str, offset: int) -> ModelFormatError:
        return ModelFormatError(msg, offset=offset, path=path)

    if len(data) < HEADER_SIZE:
        raise fail(f"truncated header: file has {len(data)} bytes, the header needs {HEADER_SIZE}", len(data))
    (magic, version, dtype_code, reserved7, n_features, n_classes, k, flags, n_items, reserved20,
     total, reserved28) = KNN_HEADER.unpack_from(data, 0)
    if magic != KNN_MAGIC:
        raise fail(f"bad magic {magic!r}: expected {KNN_MAGIC!r}", 0)
    if version == LEGACY_VERSION:
        return _read_knn_v1(data, path)
    if version != KNN_VERSION:
        raise fail(f"unsupported k-NN format version {version} (this reader knows {KNN_VERSION} and "
                   f"{LEGACY_VERSION})", 4)
    if dtype_code >= len(DTYPES):
        raise fail(f"unknown input dtype code {dtype_code} (0 float32, 1 int16)", 6)
    for value, off in ((reserved7, 7), (reserved20, 20), (reserved28, 28)):
        if value != 0:
            raise fail("reserved header field is not 0", off)
    if flags & ~KNN_FLAG_CLASSES:
        raise fail(f"unknown header flags {flags:#x} (bit 0: class labels)", 14)
    if n_features == 0:
        raise fail("n_features is 0", 8)
    if not 1 <= n_classes <= KNN_MAX_CLASSES:
        raise fail(f"n_classes {n_classes} outside 1..{KNN_MAX_CLASSES}", 10)
    if k == 0:
        raise fail("k is 0", 12)
    if n_items == 0 or n_items * n_features > KNN_MAX_ELEMENTS:
        raise fail(f"n_items {n_items}: must be >= 1 with n_items x n_features ({n_features}) <= 2^28", 16)
    if k > n_items:
        raise fail(f"k {k} > n_items {n_items}", 12)
    dtype = DTYPES[dtype_code]
    secs = knn_sections(dtype, n_features, n_items, n_classes if flags & KNN_FLAG_CLASSES else 0)
    expected = section_starts(secs)[1]
    if total != expected:
        raise fail(f"header says the file has {total} bytes but its counts need {expected}", 24)
    # the device reads the whole body (and probes for one byte more) before it looks at it
    if len(data) < total:
        raise fail(f"truncated: file has {len(data)} bytes, header says {total}", len(data))
    if len(data) > total:
        raise fail(f"{len(data) - total} extra bytes after the end the header declares", total)
    v = _read_sections(data, secs, total, path)
    m = KnnArrays(dtype=dtype, k=k, n_features=n_features, n_classes=n_classes,
                  items=v["items"].reshape(n_items, n_features), labels=v["labels"],
                  scale=v.get("scale"), offset=v.get("offset"), class_labels=v.get("classes"))
    in_file(m.check, _knn_locator(secs), path)
    return m


def _knn_locator(secs: List[Section]):
    starts, _ = section_starts(secs)
    sizes = {name: dt.itemsize for name, dt, _ in secs}

    def locate(p: ModelProblem) -> Dict[str, Optional[int]]:
        return {"offset": starts[p.where] + p.index * sizes[p.where] if p.where in starts else 0}
    return locate


def _read_knn_v1(data: bytes, path: Optional[str] = None) -> KnnArrays:
    """A version 1 k-NN file (§4: no flags, no class labels, up to 65535 classes, any k)."""
    def fail(msg: str, offset: int) -> ModelFormatError:
        return ModelFormatError(msg, offset=offset, path=path)

    (magic, version, dtype_code, kind_byte, n_features, n_classes, k, reserved14, n_items, reserved20,
     total, reserved28) = KNN_HEADER.unpack_from(data, 0)
    if dtype_code >= len(DTYPES):
        raise fail(f"unknown input dtype code {dtype_code} (0 float32, 1 int16)", 6)
    for value, off in ((kind_byte, 7), (reserved14, 14), (reserved20, 20), (reserved28, 28)):
        if value != 0:
            raise fail("reserved header field is not 0", off)
    for value, off, name in ((n_features, 8, "n_features"), (n_classes, 10, "n_classes"), (k, 12, "k"),
                             (n_items, 16, "n_items")):
        if value == 0:
            raise fail(f"{name} is 0", off)
    if n_items * n_features > KNN_MAX_ELEMENTS:
        raise fail(f"n_items {n_items} x n_features {n_features} is implausibly large", 16)
    dtype = DTYPES[dtype_code]
    secs = knn_sections(dtype, n_features, n_items)
    expected = section_starts(secs)[1]
    if total != expected:
        raise fail(f"header says the file has {total} bytes but its counts need {expected}", 24)
    v = _read_sections(data, secs, total, path)
    m = KnnArrays(dtype=dtype, k=k, n_features=n_features, n_classes=n_classes,
                  items=v["items"].reshape(n_items, n_features), labels=v["labels"],
                  scale=v.get("scale"), offset=v.get("offset"))
    in_file(m.check, _knn_locator(secs), path)
    return m
