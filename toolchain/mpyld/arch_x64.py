"""x86-64 (System V, RELA, 8-byte words): arch 'x64'."""
from __future__ import annotations

import struct

from .arch import Arch, LinkContext
from .errors import LinkError
from .linktypes import Reloc

R_X86_64_64 = 1
R_X86_64_PC32 = 2
R_X86_64_PLT32 = 4
R_X86_64_GOTPCREL = 9
R_X86_64_32 = 10
R_X86_64_32S = 11
R_X86_64_PC64 = 24
R_X86_64_GOTPCRELX = 41
R_X86_64_REX_GOTPCRELX = 42


class ArchX64(Arch):
    name = "x64"
    e_machine = "EM_X86_64"
    elfclass = 64
    word_size = 8
    apt_package = "gcc"
    reloc_types = {
        R_X86_64_64: "R_X86_64_64",
        R_X86_64_PC32: "R_X86_64_PC32",
        R_X86_64_PLT32: "R_X86_64_PLT32",
        R_X86_64_GOTPCREL: "R_X86_64_GOTPCREL",
        R_X86_64_GOTPCRELX: "R_X86_64_GOTPCRELX",
        R_X86_64_REX_GOTPCRELX: "R_X86_64_REX_GOTPCRELX",
        R_X86_64_PC64: "R_X86_64_PC64",
    }
    reloc_names = {**reloc_types, 3: "R_X86_64_GOT32", 10: "R_X86_64_32", 11: "R_X86_64_32S",
                   19: "R_X86_64_TLSGD", 20: "R_X86_64_TLSLD", 21: "R_X86_64_DTPOFF32",
                   22: "R_X86_64_GOTTPOFF", 23: "R_X86_64_TPOFF32", 26: "R_X86_64_GOTPC32"}
    got_types = frozenset({R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX})
    trampoline_size = 5  # jmp rel32
    stub_align = 8
    writable_text = True  # unix port: mmap'd RWX pages

    def trampoline(self, entry: int) -> bytes:
        return b"\xe9" + struct.pack("<i", entry - 5)

    def stub(self, slot: int) -> tuple[bytes, int]:
        # nop; nop; jmp *[rip+0]; .quad <value of slot>
        return b"\x90\x90\xff\x25\x00\x00\x00\x00" + bytes(8), 8

    def apply(self, link: LinkContext, rel: Reloc) -> None:
        blob, P = link.P(rel)
        A = rel.addend or 0
        t = rel.type
        if t == R_X86_64_64:
            link.abs_word(rel, A)
            return
        if t in self.got_types:
            value = link.got_offset(rel.symbol) + A - P
            if blob != "text":
                link.unsupported(rel, "GOT reference outside text")
        elif t in (R_X86_64_PC32, R_X86_64_PLT32, R_X86_64_PC64):
            tgt = link.target(rel.symbol)
            link.require_local(rel, tgt)
            value = tgt.offset + A - P
        else:
            link.unsupported(rel)
            return
        if t == R_X86_64_PC64:
            link.write(blob, P, struct.pack("<q", value))
            return
        if not -(1 << 31) <= value < (1 << 31):
            raise LinkError(f"{rel.obj}: relocation {self.reloc_name(t)} out of range at {rel.section.name}+{rel.offset:#x}")
        link.write(blob, P, struct.pack("<i", value))
