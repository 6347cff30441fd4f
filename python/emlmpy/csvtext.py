"""CSV model text (docs/model-format.md §3): lines, records and fields, shared by every CSV reader
(version 2, version 1, emlearn's, k-NN). Imports: re, numpy, errors, numbers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

import numpy as np

from .errors import ModelFormatError
from .numbers import decimal_to_float32

WS = " \t"
KIND = re.compile(r"^[a-z]{1,8}$")
INT = re.compile(r"^[+-]?[0-9]+$")
DEC = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


@dataclass
class Rec:
    line: int
    kind: str
    fields: List[str]


def physical_lines(text: str, path: Optional[str]) -> Iterator[Tuple[int, str]]:
    """(1-based line number, content) of the non-blank lines. Lines end with \\n or \\r\\n; any
    other \\r is an error except as the file's last character (a file cut after the \\r of its
    last \\r\\n); a last line without a line end is accepted. A generator: errors come in file
    order, as from the device's streaming loader."""
    raw = text.split("\n")
    for j, line in enumerate(raw):
        if line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            raise ModelFormatError("carriage return not followed by a line feed", line=j + 1, path=path)
        if line.strip(WS):
            yield j + 1, line


def record(no: int, line: str, path: Optional[str]) -> Rec:
    """A line split into its kind and fields (spaces and tabs around each one removed)."""
    parts = [p.strip(WS) for p in line.split(",")]
    if not KIND.match(parts[0]):
        raise ModelFormatError(f"bad line kind {parts[0][:20]!r} (expected 1-8 lower-case letters)",
                               line=no, path=path)
    return Rec(no, parts[0], parts[1:])


def records(text: str, path: Optional[str]) -> Iterator[Rec]:
    for no, line in physical_lines(text, path):
        yield record(no, line, path)


class Fields:
    """Field parsing with errors naming the line. `max_len` is the longest field allowed
    (version 2: 16 characters; version 1 and k-NN files: 64)."""

    def __init__(self, path: Optional[str], max_len: int) -> None:
        self.path = path
        self.max_len = max_len

    def err(self, msg: str, line: Optional[int]) -> ModelFormatError:
        return ModelFormatError(msg, line=line, path=self.path)

    def nfields(self, r: Rec, n: int) -> None:
        if len(r.fields) != n:
            raise self.err(f"'{r.kind}' line needs {n} field(s), found {len(r.fields)}", r.line)

    def field(self, r: Rec, i: int) -> str:
        s = r.fields[i]
        if len(s) > self.max_len:
            raise self.err(f"field {i + 1} is longer than {self.max_len} characters", r.line)
        return s

    def integer(self, r: Rec, i: int, lo: int, hi: int, what: str) -> int:
        s = self.field(r, i)
        if not INT.match(s):
            raise self.err(f"bad integer {s!r} for {what}", r.line)
        v = int(s)
        if not lo <= v <= hi:
            raise self.err(f"{what} {v} outside {lo}..{hi}", r.line)
        return v

    def decimal(self, r: Rec, i: int, what: str) -> str:
        s = self.field(r, i)
        if not DEC.match(s):
            raise self.err(f"bad number {s!r} for {what}", r.line)
        return s

    def f32(self, r: Rec, i: int, what: str, finite: bool = True) -> np.float32:
        v = decimal_to_float32(self.decimal(r, i, what))
        if finite and not np.isfinite(v):
            raise self.err(f"{what} {r.fields[i]} does not fit a float32", r.line)
        return v
