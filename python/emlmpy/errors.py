"""Exceptions raised by emlmpy."""
from __future__ import annotations

from typing import Optional


class ConversionError(ValueError):
    """The estimator cannot be converted (unsupported type, unfitted, too large)."""


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
