"""Per-module qstr header generation (``python -m mpyld qstrs``).

MicroPython's firmware has a fixed list of "static" qstrs (numbers 1..165,
identical in 1.23..1.29); a native module refers to those by number.  Every
other name ``MP_QSTR_x`` used in the module's sources gets an entry in the
module's qstr table: index 0 is the file name, indices 1..N are the names in
sorted order.  The loader interns them and the code reads the run-time
number from ``mp_native_qstr_table[i]``.  The linker reads the same header
back (``parse_header``) so both agree on the indices.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

# Static qstrs, index i+1 is the qstr number.  Names that are not C
# identifiers use MicroPython's escaped macro names.
STATIC_QSTRS: tuple[str, ...] = (
    "", "__dir__", "\n", " ", "*", "/", "<module>", "_", "__call__", "__class__",
    "__delitem__", "__enter__", "__exit__", "__getattr__", "__getitem__", "__hash__",
    "__init__", "__int__", "__iter__", "__len__", "__main__", "__module__",
    "__name__", "__new__", "__next__", "__qualname__", "__repr__", "__setitem__",
    "__str__", "ArithmeticError", "AssertionError", "AttributeError", "BaseException",
    "EOFError", "Ellipsis", "Exception", "GeneratorExit", "ImportError",
    "IndentationError", "IndexError", "KeyError", "KeyboardInterrupt", "LookupError",
    "MemoryError", "NameError", "NoneType", "NotImplementedError", "OSError",
    "OverflowError", "RuntimeError", "StopIteration", "SyntaxError", "SystemExit",
    "TypeError", "ValueError", "ZeroDivisionError", "abs", "all", "any", "append",
    "args", "bool", "builtins", "bytearray", "bytecode", "bytes", "callable",
    "chr", "classmethod", "clear", "close", "const", "copy", "count", "dict",
    "dir", "divmod", "end", "endswith", "eval", "exec", "extend", "find",
    "format", "from_bytes", "get", "getattr", "globals", "hasattr", "hash",
    "id", "index", "insert", "int", "isalpha", "isdigit", "isinstance",
    "islower", "isspace", "issubclass", "isupper", "items", "iter", "join",
    "key", "keys", "len", "list", "little", "locals", "lower",
    "lstrip", "main", "map", "micropython", "next", "object", "open",
    "ord", "pop", "popitem", "pow", "print", "range", "read",
    "readinto", "readline", "remove", "replace", "repr", "reverse",
    "rfind", "rindex", "round", "rsplit", "rstrip", "self", "send",
    "sep", "set", "setattr", "setdefault", "sort", "sorted", "split",
    "start", "startswith", "staticmethod", "step", "stop", "str", "strip",
    "sum", "super", "throw", "to_bytes", "tuple", "type", "update",
    "upper", "utf-8", "value", "values", "write", "zip",
)
assert len(STATIC_QSTRS) == 165

_ESCAPED = {"\n": "_0x0a_", " ": "_space_", "*": "_star_", "/": "_slash_",
            "<module>": "_lt_module_gt_", "utf-8": "utf_hyphen_8"}


def static_macro_names() -> dict[str, int]:
    """Macro suffix (after MP_QSTR_) -> static qstr number."""
    return {_ESCAPED.get(s, s): i + 1 for i, s in enumerate(STATIC_QSTRS)}


# Names the public header itself uses (always present in the table).
HEADER_QSTRS = ("__mpyld_data__",)

_QSTR_RE = re.compile(r"\bMP_QSTR_([A-Za-z0-9_]+)")
_DEFINE_RE = re.compile(r"^#define MP_QSTR_(\w+) \(mp_native_qstr_table\[(\d+)\]\)")


_INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# string and character literals (kept: the preprocessor keeps them too) or comments (dropped)
_LEX_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|(/\*.*?\*/|//[^\n]*)', re.S)


def code_text(path: Path) -> str:
    """The file's text without its comments, as the compiler sees it: a name mentioned in a comment
    gets no qstr entry and an #include inside one is not followed."""
    text = path.read_text(errors="replace")
    return _LEX_RE.sub(lambda m: " " if m.group(1) else m.group(0), text)


def source_texts(paths: Iterable[Path], include_dirs: Iterable[Path] = ()) -> dict[Path, str]:
    """The sources and every header they include with ``#include "..."``, recursively, as
    MicroPython's kit sees them by preprocessing: a name is looked up next to the including file,
    then in ``include_dirs`` (the module's ``-I`` folders); names found in neither (the kit's own
    and the C library's headers) are not scanned.  Each file once, in first-seen order, with its
    text without comments (``code_text``)."""
    dirs = [Path(d) for d in include_dirs]
    texts: dict[Path, str] = {}
    todo = [Path(p) for p in paths]
    while todo:
        p = todo.pop(0)
        key = p.resolve()
        if key in texts:
            continue
        texts[key] = code_text(p)
        for name in _INCLUDE_RE.findall(texts[key]):
            for d in (p.parent, *dirs):
                if (d / name).is_file():
                    todo.append(d / name)
                    break
    return texts


def qstr_names(texts: Iterable[str]) -> list[str]:
    """Sorted non-static qstr names used in the given texts, plus the ABI header's own."""
    statics = static_macro_names()
    found = set(HEADER_QSTRS)
    for text in texts:
        found.update(m.group(1) for m in _QSTR_RE.finditer(text))
    return sorted(n for n in found if n not in statics)


def render_header(names: list[str]) -> str:
    out = ["/* Generated by `python -m mpyld qstrs`: qstr numbers for one native module. */",
           "#ifndef MPYLD_QSTRS_H", "#define MPYLD_QSTRS_H", "#include <stdint.h>",
           "extern const uint16_t mp_native_qstr_table[];"]
    for macro, num in static_macro_names().items():
        out.append(f"#define MP_QSTR_{macro} ({num})")
    for i, name in enumerate(names, start=1):
        out.append(f"#define MP_QSTR_{name} (mp_native_qstr_table[{i}])")
    out.append("#endif")
    return "\n".join(out) + "\n"


def parse_header(text: str) -> list[str]:
    """Non-static names in table order (index 1..N) from a generated header."""
    entries = sorted((int(m.group(2)), m.group(1)) for m in map(_DEFINE_RE.match, text.splitlines()) if m)
    names = [n for _, n in entries]
    if [i for i, _ in entries] != list(range(1, len(names) + 1)):
        raise ValueError("qstr header indices are not 1..N")
    return names
