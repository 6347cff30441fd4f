"""Reading model files: which reader a file needs (binary by its magic and version, CSV by its `v`
line), and the models they become. Tree files of format version 1 and emlearn's CSV are converted
to version 2 on reading; linear models (EMLL) are read too. K-means centers files have no header
(raw float32): they are read with KMeansModel.load(path, n_features), and the errors here say so.
Imports: os, re, errors, layout, csvtext, csvformat, binformat, legacy, files, trees, neighbors,
linear."""
from __future__ import annotations

import os
import re
from typing import Optional, Union

from . import binformat, csvformat, legacy
from .csvtext import Fields, records
from .errors import ModelFormatError
from .files import PathLike, dumps, save
from .layout import FORMAT_VERSION, KNN_MAGIC, LEGACY_VERSION, TREES_MAGIC, HEADER_SIZE
from .linear import MAGIC as LINEAR_MAGIC
from .linear import LinearModel
from .neighbors import KnnModel
from .trees import TreeModel

Model = Union[TreeModel, KnnModel, LinearModel]

KMEANS_HINT = ("a k-means centers file has no header (raw float32): read it with "
               "emlmpy.KMeansModel.load(path, n_features)")
NOT_A_MODEL = ("not a model file (an emlmpy/emlearn CSV starts with a line like 'v,2' or 'f,4'; a "
               "binary model with 'EMLT', 'EMLK' or 'EMLL'); " + KMEANS_HINT)
PICKLE = ("not a model file: this is a Python pickle (joblib.dump / pickle.dump of an estimator?); "
          "convert it with: python -m emlmpy convert FILE -o model.bin")
BOM = b"\xef\xbb\xbf"
FIRST_LINE = re.compile(r"^[ \t]*[a-z]{1,8}[ \t]*(,|\r?$)")
_V1_DATA = ("l", "lp", "r", "n", "q", "i", "p", "lv")


def strip_bom(data: Union[bytes, str]) -> Union[bytes, str]:
    """`data` without a leading UTF-8 byte-order mark before a CSV record, as the device's CSV
    reader skips it (a mark before a binary file's 'E' is kept: the device refuses that)."""
    if isinstance(data, str):
        return data[1:] if data[:1] == "\ufeff" and data[1:2] != "E" else data
    data = bytes(data)
    return data[3:] if data[:3] == BOM and data[3:4] != b"E" else data


def loads(data: Union[bytes, str], path: Optional[str] = None) -> Model:
    """Parse file content: binary (first byte 'E': trees, k-NN or linear) or CSV (ours, version 2
    or 1, or emlearn's). A UTF-8 byte-order mark before a CSV is skipped (line numbers are unchanged)."""
    data = strip_bom(data)
    fmt = file_format(data, path)
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if fmt == "linear-bin":
            return LinearModel.from_bytes(data, path)
        if fmt == "knn-bin":
            return KnnModel.from_arrays(binformat.read_knn(data, path))
        if fmt == "trees-1-bin":
            return TreeModel.from_arrays(legacy.as_v2(legacy.read_v1_bin(data, path), path))
        if fmt == "trees-2-bin":
            return TreeModel.from_arrays(binformat.read_trees(data, path))
        # latin-1 maps every byte to one character: lines of unknown kinds may hold any bytes
        # (they are skipped); any other non-ASCII byte fails the syntax of its field.
        data = data.decode("latin-1")
    if fmt == "trees-2-csv":
        return TreeModel.from_arrays(csvformat.read_trees(data, path))
    if fmt == "knn-csv":
        return KnnModel.from_arrays(csvformat.read_knn(data, path))
    if fmt == "trees-1-csv":
        return TreeModel.from_arrays(legacy.as_v2(legacy.read_v1_csv(data, path), path))
    return TreeModel.from_arrays(legacy.as_v2(legacy.read_emlearn_csv(data, path), path))


def load(path: PathLike) -> Model:
    """Read a model file written by emlmpy (trees or k-NN CSV or bin, version 2 or 1; a linear
    model's EMLL file) or a CSV written by emlearn. K-means centers files have no header: read them
    with KMeansModel.load(path, n_features)."""
    with open(path, "rb") as fh:
        data = fh.read()
    return loads(data, path=os.fspath(path))


def file_format(data: Union[bytes, str], path: Optional[str] = None) -> str:
    """Which reader loads() uses for `data`: 'trees-2-bin', 'trees-2-csv' (format version 2, what
    the device reads), 'trees-1-bin', 'trees-1-csv', 'emlearn-csv' (converted to version 2 on the
    host), 'knn-bin', 'knn-csv', 'linear-bin'. A binary file is one whose first byte is 'E'; a CSV
    file is version 2 or 1 by its `v` line (emlearn's has none). Raises ModelFormatError for content that
    is no model file at all (empty, a pickle, a first line that is no CSV record) or whose `v`
    line is malformed."""
    data = strip_bom(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if not data:
            raise ModelFormatError("empty file", offset=0, path=path)
        if data[:1] == b"E":
            if data[:4] == LINEAR_MAGIC:  # a 12-byte header: LinearModel.from_bytes checks the rest
                return "linear-bin"
            if len(data) < HEADER_SIZE:  # the device reads the whole header first
                raise ModelFormatError(f"truncated header: file has {len(data)} bytes, the header needs "
                                       f"{HEADER_SIZE}", offset=len(data), path=path)
            magic = data[:4]
            if magic == KNN_MAGIC:
                return "knn-bin"
            if magic != TREES_MAGIC:
                raise ModelFormatError(f"bad magic {magic!r}: expected {TREES_MAGIC!r} (trees), "
                                       f"{KNN_MAGIC!r} (k-NN) or {LINEAR_MAGIC!r} (linear); {KMEANS_HINT}",
                                       offset=0, path=path)
            legacy_version = len(data) >= 6 and int.from_bytes(data[4:6], "little") == LEGACY_VERSION
            return "trees-1-bin" if legacy_version else "trees-2-bin"
        if data[:1] == b"\x80":
            raise ModelFormatError(PICKLE, offset=0, path=path)
        data = data.decode("latin-1")
    first = next((line for line in data.split("\n") if line.strip(" \t\r")), "")
    if not first:
        raise ModelFormatError("empty file: no records", line=1, path=path)
    if not FIRST_LINE.match(first):
        raise ModelFormatError(NOT_A_MODEL, line=1 + data.split("\n").index(first), path=path)
    return _csv_format(data, path)


def is_model_content(data: bytes) -> bool:
    """Whether `data` looks like a model file at all (binary magic, or a first CSV line), as
    opposed to some other file (a joblib/pickle dump): used by the command line to tell a model
    file from an estimator."""
    data = strip_bom(data)
    if data[:3] == b"EML":
        return True
    first = data.lstrip(b"\n").split(b"\n", 1)[0]
    return bool(FIRST_LINE.match(first.decode("latin-1")))


def _csv_format(text: str, path: Optional[str]) -> str:
    """By the `v` line among the lines before the first data line (version 2 and k-NN files start
    with it; version 1 allowed other header lines first); a version other than 1 goes to the
    version 2 reader, which rejects it at that line."""
    fl = Fields(path, 64)
    version = None
    knn = False
    for r in records(text, path):
        if r.kind in _V1_DATA:
            break
        if r.kind == "knn":
            knn = True
        if r.kind == "v" and version is None:
            fl.nfields(r, 1)
            version = fl.integer(r, 0, 0, 2 ** 32 - 1, "format version")
    if version is None:
        return "emlearn-csv"
    if version == LEGACY_VERSION:
        return "knn-csv" if knn else "trees-1-csv"
    return "trees-2-csv"


def save_model(model: Model, file: Optional[PathLike] = None, name: Optional[str] = None,
               format: Optional[str] = None) -> Union[str, bytes]:
    """model.save(...) as a function."""
    return save(model, file=file, name=name, format=format)


__all__ = ["dumps", "save_model", "loads", "load", "file_format", "is_model_content", "FORMAT_VERSION"]
