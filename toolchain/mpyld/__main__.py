"""Command line: python -m mpyld {link,qstrs,merge,inspect} ..."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Optional, Sequence

from . import qstrs as qstrmod
from .abi import KIND_BSS, KIND_FUN_TABLE, KIND_QSTR_TABLE, KIND_RODATA, KIND_SLOT0, KIND_TEXT, kind_name
from .arches import ARCHES, get_arch
from .errors import LinkError
from .link import Linker
from .merge import merge
from .mpyfile import read_mpy, write_mpy


def cmd_link(a: argparse.Namespace) -> None:
    arch = get_arch(a.arch)
    names: list[str] = []
    if a.qstrs:
        try:
            names = qstrmod.parse_header(Path(a.qstrs).read_text())
        except (OSError, ValueError) as exc:
            raise LinkError(f"cannot read qstr header {a.qstrs}: {exc}") from exc
    out = Path(a.output)
    linker = Linker(arch, [Path(p) for p in a.objects], [Path(p) for p in a.lib], names,
                    a.source_name or out.name, gc_sections=a.gc_sections,
                    merge_literals=a.merge_literals)
    img = linker.link()
    if a.print_gc_sections:
        print_gc_sections(linker)
    if not a.qstrs and any(r.kind == KIND_QSTR_TABLE for r in img.relocs):
        raise LinkError("the module uses non-static qstrs (mp_native_qstr_table): pass the header made by "
                        "`python -m mpyld qstrs` with --qstrs")
    data = write_mpy(img)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    if a.verbose:
        print(f"{out}: {a.arch}, text {len(img.text)}, rodata {len(img.rodata)}, bss {img.bss_size}, "
              f"{len(img.relocs)} loader relocations, {len(linker.gc_removed)} sections removed, "
              f"{linker.merged_bytes} bytes of identical literals merged")


def print_gc_sections(linker: Linker) -> None:
    """Like GNU ld's --print-gc-sections (on stderr; empty sections only counted), plus totals."""
    total: Counter = Counter()
    for sec in linker.gc_removed:
        if sec.size:
            print(f"mpyld: removing unused section '{sec.name}' in file '{sec.obj.name}' ({sec.size} bytes)",
                  file=sys.stderr)
        total["bss" if sec.sh_type == "SHT_NOBITS" else "data"] += sec.size
    empty = sum(1 for sec in linker.gc_removed if not sec.size)
    print(f"mpyld: removed {len(linker.gc_removed)} unused sections ({empty} empty): {total['data']} bytes of "
          f"code and data, {total['bss']} bytes of bss", file=sys.stderr)


def cmd_merge(a: argparse.Namespace) -> None:
    def read(p: str) -> tuple[str, bytes]:
        try:
            return Path(p).name, Path(p).read_bytes()
        except OSError as exc:
            raise LinkError(f"cannot read {p}: {exc.strerror}") from exc
    data = merge(read(a.native), [read(p) for p in a.parts])
    out = Path(a.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


def cmd_qstrs(a: argparse.Namespace) -> None:
    sources, dirs = [Path(p) for p in a.sources], [Path(d) for d in a.include]
    try:
        texts = qstrmod.source_texts(sources, dirs)
    except OSError as exc:
        raise LinkError(f"cannot read source: {exc}") from exc
    text = qstrmod.render_header(qstrmod.qstr_names(texts.values()))
    out = Path(a.output)
    if a.depfile:  # make rule: the header depends on every file scanned
        Path(a.depfile).parent.mkdir(parents=True, exist_ok=True)
        Path(a.depfile).write_text(f"{out}: " + " ".join(map(str, texts)) + "\n"
                                   + "".join(f"{f}:\n" for f in texts))
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text() != text:  # keep mtime stable for make
        out.write_text(text)


def inspect_dict(path: Path) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LinkError(f"cannot read {path}: {exc.strerror}") from exc
    info = read_mpy(data)
    by_kind = Counter(kind_name(r.kind) for r in info.relocs)
    # Every relocated word holds a link-time offset inside its destination (or a small
    # addend for external destinations): anything else means an unresolved/garbled value.
    sizes = {KIND_TEXT: info.text_size + 1, KIND_RODATA: info.rodata_size, KIND_BSS: info.bss_size}
    bad = []
    for r in info.relocs:
        blob = info.text if r.blob == "text" else info.rodata
        value = int.from_bytes(blob[r.offset:r.offset + info.word_size], "little", signed=True)
        limit = sizes.get(r.kind, 0x10000)
        if not 0 <= value <= limit:
            bad.append(f"{r.blob}+{r.offset:#x} -> {kind_name(r.kind)} value {value:#x}")
    slots = sorted({r.kind - KIND_SLOT0 for r in info.relocs if r.kind >= KIND_SLOT0})
    return {
        "file": str(path), "version": f"{info.version}.{info.sub_version}", "arch": info.arch_name,
        "arch_number": info.arch, "arch_flags": info.arch_flags, "small_int_bits": info.small_int_bits,
        "qstrs": info.qstrs, "text_size": info.text_size, "rodata_size": info.rodata_size,
        "bss_size": info.bss_size, "scope_flags": info.scope_flags, "relocations": len(info.relocs),
        "relocations_by_kind": dict(sorted(by_kind.items())),
        "imported_slots": [kind_name(KIND_SLOT0 + s) for s in slots],
        "uses_fun_table": any(r.kind == KIND_FUN_TABLE for r in info.relocs),
        "bad_relocations": bad, "py_parts": info.py_parts,
    }


def cmd_inspect(a: argparse.Namespace) -> None:
    any_bad = False
    for p in a.files:
        d = inspect_dict(Path(p))
        any_bad = any_bad or bool(d["bad_relocations"])
        if a.json:
            print(json.dumps(d, indent=1))
            continue
        print(f"file:            {d['file']}")
        print(f"mpy version:     {d['version']}")
        print(f"arch:            {d['arch']} ({d['arch_number']})"
              f"{'' if d['arch_flags'] is None else ', arch flags ' + hex(d['arch_flags'])}")
        print(f"small int bits:  {d['small_int_bits']}")
        if d["py_parts"]:
            print(f"python parts:    {d['py_parts']} (merged after the native part)")
        print(f"text:            {d['text_size']} bytes")
        print(f"rodata:          {d['rodata_size']} bytes")
        print(f"bss:             {d['bss_size']} bytes")
        print(f"qstrs ({len(d['qstrs'])}):       {', '.join(repr(q) for q in d['qstrs'])}")
        print(f"relocations:     {d['relocations']}")
        for k, n in d["relocations_by_kind"].items():
            print(f"  {k:32s} {n}")
        print(f"imported:        {'mp_fun_table' if d['uses_fun_table'] else '(no mp_fun_table)'}"
              f"{', ' if d['imported_slots'] else ''}{', '.join(d['imported_slots'])}")
        for b in d["bad_relocations"]:
            print(f"BAD relocation:  {b}")
    if any_bad:
        raise LinkError("relocated words outside their destination (see BAD lines)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mpyld", description="Linker for MicroPython native modules")
    sub = ap.add_subparsers(dest="cmd", required=True)
    lk = sub.add_parser("link", help="link ELF objects into a .mpy")
    lk.add_argument("-o", "--output", required=True)
    lk.add_argument("--arch", required=True, choices=sorted(ARCHES))
    lk.add_argument("-l", "--lib", action="append", default=[], help="archive or GNU ld script (repeatable)")
    lk.add_argument("--qstrs", help="qstr header made by `mpyld qstrs`")
    lk.add_argument("--source-name", help="name stored as qstr 0 (default: output file name)")
    lk.add_argument("--no-gc-sections", dest="gc_sections", action="store_false",
                    help="link every section of every object (default: drop sections mpy_init cannot reach)")
    lk.add_argument("--gc-sections", dest="gc_sections", action="store_true", default=True,
                    help="drop sections not reachable from mpy_init through relocations (default)")
    lk.add_argument("--print-gc-sections", action="store_true",
                    help="list the sections dropped by --gc-sections (stderr)")
    lk.add_argument("--no-merge-literals", dest="merge_literals", action="store_false",
                    help="keep identical literal words apart (Xtensa; default: one copy of each)")
    lk.add_argument("-v", "--verbose", action="store_true")
    lk.add_argument("objects", nargs="+")
    lk.set_defaults(func=cmd_link)
    qs = sub.add_parser("qstrs", help="generate the per-module qstr header")
    qs.add_argument("-o", "--output", required=True)
    qs.add_argument("-I", "--include", action="append", default=[],
                    help="folder searched for #include \"...\" headers to scan (as the compiler's -I)")
    qs.add_argument("--depfile", help="write a make rule: the header depends on every file scanned")
    qs.add_argument("sources", nargs="+")
    qs.set_defaults(func=cmd_qstrs)
    mg = sub.add_parser("merge", help="one .mpy from a linked native module and mpy-cross output of .py parts")
    mg.add_argument("-o", "--output", required=True)
    mg.add_argument("native", help="the .mpy made by `mpyld link`")
    mg.add_argument("parts", nargs="*", help=".mpy files made by mpy-cross, run in this order after mpy_init")
    mg.set_defaults(func=cmd_merge)
    ins = sub.add_parser("inspect", help="describe a native .mpy")
    ins.add_argument("--json", action="store_true")
    ins.add_argument("files", nargs="+")
    ins.set_defaults(func=cmd_inspect)
    a = ap.parse_args(argv)
    try:
        a.func(a)
    except LinkError as exc:
        print(f"mpyld {a.cmd}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
