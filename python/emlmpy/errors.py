"""Exceptions raised by emlmpy, and the one internal problem type with its one mapping to
ModelFormatError. Imports nothing from the package."""
from __future__ import annotations

from typing import Callable, Dict, Optional, TypeVar


class ConversionError(ValueError):
    """The estimator or model cannot be converted (unsupported type, unfitted, too large, not
    representable in the file format)."""


class ModelFormatError(ValueError):
    """A model file is malformed. `line` (CSV, 1-based) or `offset` (binary, bytes) locates it."""

    def __init__(self, message: str, line: Optional[int] = None, offset: Optional[int] = None,
                 path: Optional[str] = None) -> None:
        self.reason = message
        self.line = line
        self.offset = offset
        self.path = path
        where = []
        if path:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"offset {offset}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class ModelProblem(Exception):
    """Internal: a model (trees or k-NN) breaks a rule of docs/model-format.md.

    `where` names the array (`model` for counts and header fields; trees: `nodes`, `roots`,
    `offsets`, `payload`, `values`, `scale`, `offset`; k-NN: `items`, `labels`, `scale`,
    `offset`), `index` the element. For `payload` problems `index` is the payload number and
    `byte` the position in the `payload` byte array; for `model` problems `field` names the
    header field (n_features, n_outputs, ...). Readers turn it into a ModelFormatError with
    `in_file` (one place), the converter into a ConversionError."""

    def __init__(self, where: str, index: int, message: str, byte: Optional[int] = None,
                 field: Optional[str] = None) -> None:
        super().__init__(message)
        self.where = where
        self.index = index
        self.message = message
        self.byte = byte
        self.field = field


Locator = Callable[[ModelProblem], Dict[str, Optional[int]]]
T = TypeVar("T")


def in_file(action: Callable[[], T], locate: Locator, path: Optional[str] = None) -> T:
    """Run a reader's action (a model's check(), a conversion of what it read); a ModelProblem
    becomes a ModelFormatError at the line ({'line': n}) or byte offset ({'offset': n}) that
    `locate` gives for it. The only place a ModelProblem turns into a ModelFormatError."""
    try:
        return action()
    except ModelProblem as p:
        raise ModelFormatError(p.message, path=path, **locate(p)) from None
