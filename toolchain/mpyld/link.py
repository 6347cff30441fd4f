"""The generic linker: resolve, lay out, relocate, emit a .mpy image.

See arch.py for the division of work with the arch modules.
"""
from __future__ import annotations

import struct
from collections import deque
from pathlib import Path
from typing import NoReturn, Optional, Sequence

from .abi import (BLOB_KINDS, KIND_BSS, KIND_QSTR_TABLE, KIND_TEXT, SLOT_SYMBOLS, STUB_SYMBOLS, TABLE_SYMBOLS,
                  slot_kind)
from .arch import GOT, STUBS, Arch
from .elfobj import Archive, ObjectFile, load_library
from .errors import LinkError
from .linktypes import KIND_ABS, InputSection, Reloc, Symbol, Target
from .mpyfile import LoaderReloc, MpyImage

DATA_START = "mpyld_data_start"
ERRNO_FN = "__errno"  # newlib's errno accessor (libm wrappers): a stub returning a bss word
ENTRY = "mpy_init"
SHF_GNU_RETAIN = 0x200000  # __attribute__((retain)), .section ...,"axR": never garbage-collected


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


class Linker:
    """Links ELF objects (and archive members) into an MpyImage; the one object that holds the state
    of a link, and the :class:`mpyld.arch.LinkContext` its arch module works through.

    ``gc_sections``: keep only the input sections that ``mpy_init`` reaches (see ``resolve``).
    ``mpyld link`` turns it on unless given --no-gc-sections; the Python default keeps every
    section, as the linker always did (tests link "firmware" images whose tables nothing in
    them refers to).  ``merge_literals``: let the arch module merge identical constants
    (``Arch.merge_sections``; Xtensa literal words)."""

    def __init__(self, arch: Arch, objects: Sequence[Path], libs: Sequence[Path] = (),
                 qstr_names: Sequence[str] = (), source_name: str = "module.mpy", gc_sections: bool = False,
                 merge_literals: bool = True):
        self.arch = arch
        self.gc_sections = gc_sections
        self.merge_literals = merge_literals
        self.merged_bytes = 0  # saved by the arch's merge_sections
        self.gc_removed: list[InputSection] = []  # sections of loaded objects that resolve() dropped
        self.word = arch.word_size
        self.qstrs = [source_name, *qstr_names]
        self.objects: list[ObjectFile] = []
        for p in objects:
            try:
                data = Path(p).read_bytes()
            except OSError as exc:
                raise LinkError(f"cannot read object {p}: {exc.strerror}") from exc
            self.objects.append(ObjectFile(str(p), data, arch))
        self.archives: list[Archive] = [a for lib in libs for a in load_library(Path(lib))]
        self.defs: dict[str, Symbol] = {}
        self.stubs: dict[str, int] = {}  # symbol -> text offset of its stub
        self.stub_names: list[str] = []
        self.got: dict[tuple, Symbol] = {}  # key -> representative symbol
        self.got_offsets: dict[tuple, int] = {}
        self.got_base = 0
        self.blobs: dict[str, bytearray] = {"text": bytearray(), "rodata": bytearray()}
        self.bss_size = 0
        self.loader_relocs: list[LoaderReloc] = []
        self._stub_relocs: list[tuple[int, int]] = []  # (text offset of word, kind)
        self.errno_offset = 0  # bss offset of the word the __errno stub returns
        # resolve(): the objects linked (inputs, then archive members as loaded), live sections
        self.all_objects: list[ObjectFile] = list(self.objects)
        self._member_cache: dict = {}
        self._live: set[int] = set()
        self._queue: deque[InputSection] = deque()
        self._arch_caches: dict[str, dict] = {}  # cache(): the arch module's per-link indexes

    # ----------------------------------------------------------- resolution
    def _add_defs(self, obj: ObjectFile, from_archive: bool) -> None:
        for s in obj.defined_globals():
            old = self.defs.get(s.name)
            if old is None or (old.bind == "STB_WEAK" and s.bind == "STB_GLOBAL"):
                self.defs[s.name] = s
            elif s.bind == "STB_GLOBAL" and old.bind == "STB_GLOBAL" and not from_archive:
                raise LinkError(f"multiple definition of '{s.name}' in {old.obj.name} and {obj.name}")

    def _referenced(self, obj: ObjectFile) -> list[Symbol]:
        out = []
        for sec in obj.sections.values():
            if sec.blob is None:
                continue
            for r in sec.relocs:
                if r.symbol.is_global and r.symbol.undefined:
                    out.append(r.symbol)
        return out

    def _is_builtin(self, name: str) -> bool:
        return (name in TABLE_SYMBOLS or name in SLOT_SYMBOLS or name in STUB_SYMBOLS or name == DATA_START
                or name in self.arch.builtin_symbols or name == ERRNO_FN and self.arch.value_stub() is not None)

    def _define(self, sym: Symbol, missing: dict[str, Symbol]) -> Optional[Symbol]:
        """The definition a reference to global ``sym`` resolves to, loading the first archive member
        that defines it if no loaded object does; None for linker-provided names and for symbols that
        stay undefined (recorded in ``missing`` unless weak)."""
        name = sym.name
        if name in self.defs:
            return self.defs[name]
        if name in missing or self._is_builtin(name) or self.arch.extra_stub(name) is not None:
            return None
        member = None
        for ar in self.archives:
            try:
                member = ar.member_defining(name, self.arch, self._member_cache)
            except LinkError as exc:
                raise LinkError(f"{exc} [loaded for '{name}', referenced from {sym.obj.name}]") from exc
            if member is not None:
                break
        if member is None:
            if sym.bind != "STB_WEAK":
                missing[name] = sym
            return None
        if member not in self.all_objects:
            self.all_objects.append(member)
            self._add_defs(member, True)
            self._mark_roots(member)
        if name not in self.defs:
            raise LinkError(f"archive index says {member.name} defines '{name}', but it does not")
        return self.defs[name]

    def _mark_roots(self, obj: ObjectFile) -> None:
        for sec in sorted(obj.sections.values(), key=lambda s: s.index):
            if not self.gc_sections or sec.flags & SHF_GNU_RETAIN or self.arch.gc_keep(sec):
                self._mark(sec)

    def _mark(self, sec: InputSection) -> None:
        if id(sec) not in self._live:
            self._live.add(id(sec))
            self._queue.append(sec)
            for extra in self.arch.gc_companions(sec):
                self._mark(extra)

    def resolve(self) -> None:
        """Decide which input sections are linked and which archive members are loaded.

        Sections are live from the roots, through relocations, transitively; an archive member is
        loaded when a live section refers to a symbol only it defines.  With gc_sections the roots
        are the section of ``mpy_init`` and the sections (of loaded objects) marked SHF_GNU_RETAIN or
        named by the arch module's ``gc_keep``; the other sections are dropped (``gc_removed``), and
        what only they refer to is never resolved (no archive member, no "undefined symbol").
        Without it every section of every loaded object is a root, as before."""
        for obj in self.objects:
            self._add_defs(obj, False)
        missing: dict[str, Symbol] = {}
        for obj in self.objects:
            self._mark_roots(obj)
        entry = self.defs.get(ENTRY)
        if entry is not None and entry.section is not None:
            self._mark(entry.section)
        scanned: list[InputSection] = []
        while self._queue:
            while self._queue:
                sec = self._queue.popleft()
                scanned.append(sec)
                for r in sec.relocs:
                    sym = r.symbol
                    if sym.is_global and sym.name:
                        sym = self._define(sym, missing)
                    if sym is not None and sym.section is not None:
                        self._mark(sym.section)
            # A member loaded later can replace a weak definition that was already followed
            # (its strong one wins): link the section that now defines every referenced name.
            for sec in scanned:
                for r in sec.relocs:
                    d = self.defs.get(r.symbol.name) if r.symbol.is_global else None
                    if d is not None and d.section is not None:
                        self._mark(d.section)
        if missing:
            lines = [f"undefined symbol: {n} (referenced from {s.obj.name})" for n, s in sorted(missing.items())]
            hint = ""
            arch_hint = self.arch.undefined_hint(sorted(missing))
            if arch_hint:
                hint = "\n" + arch_hint
            elif any(n.startswith("__") for n in missing):
                hint = "\n(compiler helper functions come from libgcc: pass it with -l $(CC -print-libgcc-file-name))"
            raise LinkError("\n".join(lines) + hint)
        if ENTRY not in self.defs or self.defs[ENTRY].section is None or self.defs[ENTRY].section.blob != "text":
            raise LinkError(f"undefined symbol: {ENTRY} (the module entry point; define "
                            f"mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args))")
        for o in self.all_objects:
            for sec in sorted(o.sections.values(), key=lambda s: s.index):
                if id(sec) not in self._live:
                    self.gc_removed.append(sec)
                    sec.blob = None
        # Byte-function stubs for calls the (live) code does not define itself.
        for o in self.all_objects:
            for s in self._referenced(o):
                if s.name in STUB_SYMBOLS and s.name not in self.defs and s.name not in self.stub_names:
                    self.stub_names.append(s.name)
                if (s.name == ERRNO_FN and s.name not in self.defs and s.name not in self.stub_names
                        and self.arch.value_stub() is not None):
                    self.stub_names.append(s.name)
                if (s.name not in STUB_SYMBOLS and s.name not in self.defs and s.name not in self.stub_names
                        and self.arch.extra_stub(s.name) is not None):
                    self.stub_names.append(s.name)
        self.stub_names.sort()

    # ----------------------------------------------------------- helpers for arch modules
    def cache(self, name: str) -> dict:
        """A dict private to the caller (by ``name``) that lives as long as this link."""
        return self._arch_caches.setdefault(name, {})

    def unsupported(self, rel: Reloc, why: str = "") -> NoReturn:
        sym = rel.symbol.name or (rel.symbol.section.name if rel.symbol.section else "?")
        raise LinkError(f"{rel.obj}: unsupported relocation {self.arch.reloc_name(rel.type)} (type {rel.type}) "
                        f"against symbol '{sym}' in section {rel.section.name} at offset {rel.offset:#x}"
                        f"{': ' + why if why else ''}")

    def _key(self, sym: Symbol) -> tuple:
        if sym.is_global and sym.name:
            return ("name", sym.name)
        return ("local", id(sym.obj), sym.section.index if sym.section else -1, sym.value, sym.name)

    def need_got(self, sym: Symbol) -> None:
        self.got.setdefault(self._key(sym), sym)

    def got_offset(self, sym: Symbol) -> int:
        return self.got_offsets[self._key(sym)]

    def target(self, sym: Symbol) -> Target:
        """Where a symbol lives (valid after layout)."""
        name = sym.name
        if sym.is_global and name:
            if name in self.defs:
                sym = self.defs[name]
            elif name in TABLE_SYMBOLS:
                return Target(TABLE_SYMBOLS[name], 0, name)
            elif name in SLOT_SYMBOLS:
                return Target(slot_kind(SLOT_SYMBOLS[name]), 0, name)
            elif name in self.stubs:
                return Target(KIND_TEXT, self.stubs[name], name)
            elif name in STUB_SYMBOLS:
                return Target(slot_kind(STUB_SYMBOLS[name]), 0, name)
            elif sym.undefined and self.arch.extra_stub(name) is not None:
                return Target(slot_kind(self.arch.extra_stub(name)[2]), 0, name)
            elif name == DATA_START:
                return Target(KIND_BSS, 0, name)
            elif sym.undefined:
                if name in self.arch.builtin_symbols:
                    return self.arch_builtin_target(name)
                if sym.bind == "STB_WEAK":
                    return Target(KIND_ABS, 0, name)
                raise LinkError(f"undefined symbol: {name} (referenced from {sym.obj.name})")
        if sym.shndx == "SHN_ABS":
            return Target(KIND_ABS, sym.value, name)
        if sym.section is None or sym.section.blob is None:
            raise LinkError(f"{sym.obj.name}: symbol '{name or '(section)'}' is in a section that is not "
                            f"linked (index {sym.shndx})")
        sec = sym.section
        return Target(BLOB_KINDS[sec.blob], sec.out_offset + sym.value, name or sec.name)

    def arch_builtin_target(self, name: str) -> Target:
        if name == "_GLOBAL_OFFSET_TABLE_":
            return Target(KIND_TEXT, self.got_base, name)
        raise LinkError(f"undefined symbol: {name}")

    def P(self, rel: Reloc) -> tuple[str, int]:
        return rel.section.blob, rel.section.out_offset + rel.offset

    def read(self, blob: str, off: int, n: int) -> bytes:
        return bytes(self.blobs[blob][off:off + n])

    def write(self, blob: str, off: int, data: bytes) -> None:
        b = self.blobs[blob]
        if off < 0 or off + len(data) > len(b):
            raise LinkError(f"internal: write outside {blob} at {off:#x}")
        b[off:off + len(data)] = data

    def read_u16(self, blob: str, off: int) -> int:
        return struct.unpack_from("<H", self.blobs[blob], off)[0]

    def write_u16(self, blob: str, off: int, v: int) -> None:
        struct.pack_into("<H", self.blobs[blob], off, v & 0xFFFF)

    def read_u32(self, blob: str, off: int) -> int:
        return struct.unpack_from("<I", self.blobs[blob], off)[0]

    def write_u32(self, blob: str, off: int, v: int) -> None:
        struct.pack_into("<I", self.blobs[blob], off, v & 0xFFFFFFFF)

    def read_word(self, blob: str, off: int) -> int:
        return struct.unpack_from("<Q" if self.word == 8 else "<I", self.blobs[blob], off)[0]

    def write_word(self, blob: str, off: int, v: int) -> None:
        mask = (1 << (8 * self.word)) - 1
        struct.pack_into("<Q" if self.word == 8 else "<I", self.blobs[blob], off, v & mask)

    def add_loader_reloc(self, blob: str, off: int, kind: int, rel: Optional[Reloc] = None) -> None:
        if blob not in ("text", "rodata"):
            raise LinkError(f"internal: loader relocation in {blob}")
        if off % self.word:
            where = f"{rel.obj}: section {rel.section.name} offset {rel.offset:#x}" if rel else f"{blob}+{off:#x}"
            raise LinkError(f"{where}: absolute pointer is not {self.word}-byte aligned; the loader "
                            f"can only relocate aligned words")
        self.loader_relocs.append(LoaderReloc(blob, off, kind))

    def abs_word(self, rel: Reloc, addend: int) -> None:
        """Pointer-sized absolute word at the relocation = target + addend (loader adds the base)."""
        blob, off = self.P(rel)
        t = self.target(rel.symbol)
        if t.kind == KIND_ABS:
            self.write_word(blob, off, t.offset + addend)
            return
        self.write_word(blob, off, t.offset + addend)
        self.add_loader_reloc(blob, off, t.kind, rel)

    def require_local(self, rel: Reloc, t: Target) -> None:
        """PC-relative forms: the target must be in the same blob as the place."""
        blob, _ = self.P(rel)
        if t.blob == blob:
            return
        sym = rel.symbol.name or t.name
        if t.kind == KIND_BSS:
            where = (f"{rel.obj}: static (PC-relative) reference to bss symbol '{sym}' from section "
                     f"{rel.section.name} (relocation {self.arch.reloc_name(rel.type)}): the module's bss is "
                     f"allocated apart from its code, so it cannot be reached PC-relatively")
            if getattr(rel.section.obj, "member", False):
                raise LinkError(f"{where}; this library code (not built with -fpic) cannot be linked into a "
                                f"native module.")
            raise LinkError(f"{where}. Make the variable non-static (globals are reached through the GOT) or "
                            f"allocate it at run time.")
        what = {KIND_ABS: "an absolute symbol"}.get(t.kind, f"'{t.name}' ({t.blob or 'firmware'})")
        hint = ""
        if not t.internal:
            hint = " (firmware objects are reached through the GOT: compile with -fpic, default visibility)"
        raise LinkError(f"{rel.obj}: PC-relative relocation {self.arch.reloc_name(rel.type)} from {blob} "
                        f"to {what} in section {rel.section.name} at offset {rel.offset:#x} cannot be "
                        f"resolved: target is not in {blob}{hint}")

    # ----------------------------------------------------------- layout
    def layout(self) -> None:
        arch = self.arch
        secs = [s for o in self.all_objects for s in sorted(o.sections.values(), key=lambda s: s.index)]
        for s in secs:
            if s.blob:
                for r in s.relocs:
                    arch.scan(self, r)
        if DATA_START in self.defs:
            raise LinkError(f"{self.defs[DATA_START].obj.name}: '{DATA_START}' is reserved for the linker")
        text_secs = [s for s in secs if s.blob == "text"]
        bss_secs = [s for s in secs if s.blob == "bss"]
        ro_secs = [s for s in secs if s.blob == "rodata"]
        # bss first: its size decides whether an anchor GOT word is needed.
        off = 0
        for s in bss_secs:
            off = _align(off, s.align)
            s.out_offset = off
            off += s.size
        self.bss_size = off
        if ERRNO_FN in self.stub_names:
            self.bss_size = _align(self.bss_size, 4)
            self.errno_offset = self.bss_size
            self.bss_size += 4
        uses_data_start = any(r.symbol.name == DATA_START for o in self.all_objects
                              for s in o.sections.values() if s.blob for r in s.relocs)
        if (uses_data_start or ro_secs) and self.bss_size == 0:
            self.bss_size = self.word
        if self.bss_size:
            # A relocated text word equal to the bss base keeps the block alive on
            # firmware that scans text (GC-heap text, all versions).
            self.need_got(Symbol(DATA_START, self.objects[0], None, 0, "STB_GLOBAL", "STT_NOTYPE", "SHN_UNDEF"))
        self.bss_size = _align(self.bss_size, self.word)
        off = 0
        for s in ro_secs:
            off = _align(off, s.align)
            s.out_offset = off
            off += s.size
        rodata = bytearray(off)
        for s in ro_secs:
            rodata[s.out_offset:s.out_offset + s.size] = s.data
        # text
        items = arch.text_layout(self, text_secs)
        off = arch.trampoline_size
        placed: list[tuple[int, bytes]] = []
        for it in items:
            if it == GOT:
                off = _align(off, self.word)
                self.got_base = off
                off += self.word * len(self.got)
            elif it == STUBS:
                for name in self.stub_names:
                    if name == ERRNO_FN:
                        st, kind, value = arch.value_stub(), KIND_BSS, self.errno_offset
                    elif name not in STUB_SYMBOLS:
                        code_, woff_, slot_ = arch.extra_stub(name)
                        st, kind, value = (code_, woff_), slot_kind(slot_), 0
                    else:
                        st, kind, value = arch.stub(STUB_SYMBOLS[name]), slot_kind(STUB_SYMBOLS[name]), 0
                    if st is None:
                        continue
                    code, word_off = st
                    off = _align(off, max(arch.stub_align, self.word))
                    self.stubs[name] = off
                    code = bytearray(code)
                    code[word_off:word_off + self.word] = value.to_bytes(self.word, "little")
                    placed.append((off, bytes(code)))
                    self._stub_relocs.append((off + word_off, kind))
                    off += len(code)
            else:
                align = max(it.align, arch.text_align if it.flags & 4 else 1)
                off = _align(off, align)
                moved = arch.place(self, it, off)
                if moved < off or moved % align:
                    raise LinkError(f"internal: arch placed {it} at {moved:#x} (free: {off:#x}, align {align})")
                off = moved
                it.out_offset = off
                placed.append((off, bytes(it.data)))
                off += it.size
        text = bytearray(_align(off, self.word))
        for o, data in placed:
            text[o:o + len(data)] = data
        self.blobs["text"] = text
        self.blobs["rodata"] = rodata
        for s in secs:
            if s.blob and s.out_offset < 0:
                raise LinkError(f"internal: section {s} not placed by arch text_layout")
        # GOT: externals first, then text, rodata, bss (merges well in the stream).
        keyed = [(k, self.target(sym)) for k, sym in self.got.items()]
        keyed.sort(key=lambda kt: (0 if kt[1].kind >= KIND_QSTR_TABLE else 1, kt[1].kind if kt[1].kind <= KIND_BSS else 0,
                                   kt[1].kind, kt[1].offset, str(kt[0])))
        for i, (k, t) in enumerate(keyed):
            woff = self.got_base + i * self.word
            self.got_offsets[k] = woff
            self.write_word("text", woff, t.offset)
            if t.kind != KIND_ABS:
                self.add_loader_reloc("text", woff, t.kind)
        for woff, kind in self._stub_relocs:
            self.add_loader_reloc("text", woff, kind)
        entry = self.target(self.defs[ENTRY])
        tramp = arch.trampoline(entry.offset & ~1 if arch.e_machine == "EM_ARM" else entry.offset)
        if len(tramp) != arch.trampoline_size:
            raise LinkError("internal: trampoline size mismatch")
        text[0:len(tramp)] = tramp

    def relocate(self) -> None:
        for o in self.all_objects:
            for s in sorted(o.sections.values(), key=lambda s: s.index):
                if s.blob in ("text", "rodata"):
                    for r in s.relocs:
                        if r.type in self.arch.ignored_types:
                            continue
                        self.arch.apply(self, r)
                elif s.blob == "bss" and s.relocs:
                    raise LinkError(f"{o.name}: relocations in bss section {s.name}")

    def link(self) -> MpyImage:
        self.resolve()
        if self.merge_literals:
            linked = [s for o in self.all_objects for s in sorted(o.sections.values(), key=lambda s: s.index)
                      if s.blob]
            self.merged_bytes = self.arch.merge_sections(self, linked)
        self.layout()
        self.relocate()
        return MpyImage(self.arch.mpy_arch, self.word, self.qstrs, bytes(self.blobs["text"]),
                        bytes(self.blobs["rodata"]), self.bss_size, self.loader_relocs)
