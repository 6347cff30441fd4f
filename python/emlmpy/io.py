"""Model files: writers and readers for CSV (text) and bin (docs/model-format.md sections 2-4)."""
from __future__ import annotations

import os
from typing import Optional, Union


from . import binformat, csvformat
from .errors import ModelFormatError
from .neighbors import KnnModel
from .trees import TreeModel

Model = Union[TreeModel, KnnModel]
PathLike = Union[str, "os.PathLike[str]"]


def dumps(model: Model, format: str = "csv") -> Union[str, bytes]:
    """File content for a model: str for 'csv', bytes for 'bin'."""
    if format == "csv":
        return csvformat.write(model)
    if format == "bin":
        return binformat.write(model)
    raise ValueError(f"unsupported format {format!r}: use 'csv' or 'bin'")


def save_model(model: Model, file: Optional[PathLike] = None, name: Optional[str] = None,
               format: str = "csv") -> Union[str, bytes]:
    """Write `model` to `file` (if given) and return the content."""
    content = dumps(model, format)
    if file is not None:
        if isinstance(content, str):
            with open(file, "w", encoding="ascii", newline="") as fh:
                fh.write(content)
        else:
            with open(file, "wb") as fh:
                fh.write(content)
    return content


def loads(data: Union[bytes, str], path: Optional[str] = None) -> Model:
    """Parse file content (bin detected by its magic, otherwise CSV)."""
    if isinstance(data, str):
        return csvformat.read(data, path=path)
    if len(data) == 0:
        raise ModelFormatError("empty file", offset=0, path=path)
    if data[:1] == b"E":  # CSV line kinds are lower case; binary files start with "EML"
        return binformat.read(data, path=path)
    # latin-1 maps every byte to one character: lines of unknown kinds may hold any bytes (they
    # are skipped), any other non-ASCII byte fails the syntax check of its field.
    text = data.decode("latin-1")
    return csvformat.read(text, path=path)


def load(path: PathLike) -> Model:
    """Read a model file written by emlmpy (CSV or bin) or a CSV written by emlearn."""
    with open(path, "rb") as fh:
        data = fh.read()
    return loads(data, path=os.fspath(path))


__all__ = ["dumps", "save_model", "loads", "load"]
