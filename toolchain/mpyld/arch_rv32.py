"""RISC-V rv32imc (EM_RISCV, RELA, 4-byte words), built with -mno-relax.

PC-relative pairs: a *_LO12 relocation names the label of its auipc, whose
HI20 relocation gives the full value; LO12 takes ``value - (hi20 << 12)``.
Absolute lui/addi pairs (HI20/LO12 against a symbol, from non-PIC libgcc)
are rewritten to auipc-relative form: the lui becomes an auipc and each LO12
is paired with the nearest preceding HI20 of the same symbol and addend.
"""
from __future__ import annotations

import struct

from .arch import Arch, LinkContext
from .errors import LinkError
from .linktypes import Reloc

R = {
    "32": 1, "BRANCH": 16, "JAL": 17, "CALL": 18, "CALL_PLT": 19, "GOT_HI20": 20, "PCREL_HI20": 23,
    "PCREL_LO12_I": 24, "PCREL_LO12_S": 25, "HI20": 26, "LO12_I": 27, "LO12_S": 28, "ADD8": 33,
    "ADD16": 34, "ADD32": 35, "ADD64": 36, "SUB8": 37, "SUB16": 38, "SUB32": 39, "SUB64": 40,
    "GOT32_PCREL": 41, "ALIGN": 43, "RVC_BRANCH": 44, "RVC_JUMP": 45, "RELAX": 51, "SUB6": 52,
    "SET6": 53, "SET8": 54, "SET16": 55, "SET32": 56, "32_PCREL": 57, "PLT32": 59,
}
_N = {v: f"R_RISCV_{k}" for k, v in R.items()}
_OTHER = {2: "R_RISCV_64", 21: "R_RISCV_TLS_GOT_HI20", 22: "R_RISCV_TLS_GD_HI20", 29: "R_RISCV_TPREL_HI20",
          30: "R_RISCV_TPREL_LO12_I", 31: "R_RISCV_TPREL_LO12_S", 32: "R_RISCV_TPREL_ADD",
          60: "R_RISCV_SET_ULEB128", 61: "R_RISCV_SUB_ULEB128"}
_HI = (R["PCREL_HI20"], R["GOT_HI20"])


def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v & (1 << (bits - 1)) else v


def _hi_lo(value: int) -> tuple[int, int]:
    hi = ((value + 0x800) >> 12) & 0xFFFFF
    lo = value - (_sext(hi, 20) << 12)
    return hi, lo


class ArchRv32imc(Arch):
    name = "rv32imc"
    e_machine = "EM_RISCV"
    elfclass = 32
    word_size = 4
    apt_package = "gcc-riscv64-unknown-elf"
    reloc_types = {v: _N[v] for v in R.values() if v not in (R["ALIGN"], R["RELAX"])}
    reloc_names = {**_N, **_OTHER}
    got_types = frozenset({R["GOT_HI20"], R["GOT32_PCREL"]})
    ignored_types = frozenset({R["ALIGN"], R["RELAX"]})
    trampoline_size = 8
    stub_align = 4

    def trampoline(self, entry: int) -> bytes:
        hi, lo = _hi_lo(entry)
        auipc = 0x17 | (31 << 7) | (hi << 12)  # auipc t6, hi
        jalr = 0x67 | (31 << 15) | ((lo & 0xFFF) << 20)  # jalr x0, lo(t6)
        return struct.pack("<II", auipc, jalr)

    def stub(self, slot: int) -> tuple[bytes, int]:
        auipc = 0x17 | (6 << 7)  # auipc t1, 0
        lw = 0x03 | (6 << 7) | (2 << 12) | (6 << 15) | (12 << 20)  # lw t1, 12(t1)
        jr = 0x67 | (6 << 15)  # jalr x0, 0(t1)
        return struct.pack("<III", auipc, lw, jr) + bytes(4), 12

    # ------------------------------------------------------------------
    def _index(self, link, sec) -> dict:
        cache = link.cache("rv32_hi")
        if id(sec) not in cache:
            cache[id(sec)] = {r.offset: r for r in sec.relocs if r.type in _HI}
        return cache[id(sec)]

    def _abs_hi(self, link, rel: Reloc):
        cache = link.cache("rv32_abs_hi")
        key = id(rel.section)
        if key not in cache:
            cache[key] = sorted((r for r in rel.section.relocs if r.type == R["HI20"]), key=lambda r: r.offset)
        best = None
        for h in cache[key]:
            if h.offset >= rel.offset:
                break
            if link.target(h.symbol) == link.target(rel.symbol) and h.addend == rel.addend:
                best = h
        if best is None:
            raise LinkError(f"{rel.obj}: {self.reloc_name(rel.type)} against '{rel.symbol.name}' at "
                            f"{rel.section.name}+{rel.offset:#x} has no preceding HI20 partner")
        return best

    def _value(self, link, rel: Reloc) -> int:
        """Full PC-relative value of a HI20-type relocation."""
        _, P = link.P(rel)
        A = rel.addend or 0
        if rel.type == R["GOT_HI20"]:
            return link.got_offset(rel.symbol) + A - P
        tgt = link.target(rel.symbol)
        if rel.type != R["HI20"]:
            link.require_local(rel, tgt)
        elif tgt.blob != "text":
            link.require_local(rel, tgt)
        return tgt.offset + A - P

    def apply(self, link: LinkContext, rel: Reloc) -> None:
        blob, P = link.P(rel)
        t = rel.type
        A = rel.addend or 0
        ins = lambda: link.read_u32(blob, P)  # noqa: E731
        if t == R["32"]:
            link.abs_word(rel, A)
        elif t in (R["PCREL_HI20"], R["GOT_HI20"]):
            hi, _ = _hi_lo(self._value(link, rel))
            link.write_u32(blob, P, (ins() & 0xFFF) | (hi << 12))
        elif t == R["HI20"]:
            hi, _ = _hi_lo(self._value(link, rel))
            link.write_u32(blob, P, (ins() & 0xF80) | 0x17 | (hi << 12))  # lui -> auipc
        elif t in (R["PCREL_LO12_I"], R["PCREL_LO12_S"], R["LO12_I"], R["LO12_S"]):
            if t in (R["PCREL_LO12_I"], R["PCREL_LO12_S"]):
                label = link.target(rel.symbol)
                hi_rel = self._index(link, rel.section).get(label.offset - rel.section.out_offset)
                if hi_rel is None or link.P(hi_rel)[0] != blob:
                    raise LinkError(f"{rel.obj}: {self.reloc_name(t)} at {rel.section.name}+{rel.offset:#x} "
                                    f"has no matching PCREL_HI20/GOT_HI20")
            else:
                hi_rel = self._abs_hi(link, rel)
            _, lo = _hi_lo(self._value(link, hi_rel))
            lo &= 0xFFF
            if t in (R["PCREL_LO12_I"], R["LO12_I"]):
                link.write_u32(blob, P, (ins() & 0xFFFFF) | (lo << 20))
            else:
                link.write_u32(blob, P, (ins() & 0x1FFF07F) | ((lo >> 5) << 25) | ((lo & 0x1F) << 7))
        elif t in (R["CALL"], R["CALL_PLT"]):
            off = self._pcrel(link, rel, A, P)
            hi, lo = _hi_lo(off)
            link.write_u32(blob, P, (ins() & 0xFFF) | (hi << 12))
            j = link.read_u32(blob, P + 4)
            link.write_u32(blob, P + 4, (j & 0xFFFFF) | ((lo & 0xFFF) << 20))
        elif t == R["BRANCH"]:
            off = self._pcrel(link, rel, A, P, 13)
            v = off & 0x1FFF
            enc = ((v >> 12) & 1) << 31 | ((v >> 5) & 0x3F) << 25 | ((v >> 1) & 0xF) << 8 | ((v >> 11) & 1) << 7
            link.write_u32(blob, P, (ins() & 0x01FFF07F) | enc)
        elif t == R["JAL"]:
            off = self._pcrel(link, rel, A, P, 21)
            v = off & 0x1FFFFF
            enc = ((v >> 20) & 1) << 31 | ((v >> 1) & 0x3FF) << 21 | ((v >> 11) & 1) << 20 | ((v >> 12) & 0xFF) << 12
            link.write_u32(blob, P, (ins() & 0xFFF) | enc)
        elif t == R["RVC_BRANCH"]:
            off = self._pcrel(link, rel, A, P, 9)
            v = off & 0x1FF
            enc = (((v >> 8) & 1) << 12 | ((v >> 3) & 3) << 10 | ((v >> 6) & 3) << 5 | ((v >> 1) & 3) << 3
                   | ((v >> 5) & 1) << 2)
            h = link.read_u16(blob, P)
            link.write_u16(blob, P, (h & 0xE383) | enc)
        elif t == R["RVC_JUMP"]:
            off = self._pcrel(link, rel, A, P, 12)
            v = off & 0xFFF
            enc = (((v >> 11) & 1) << 12 | ((v >> 4) & 1) << 11 | ((v >> 8) & 3) << 9 | ((v >> 10) & 1) << 8
                   | ((v >> 6) & 1) << 7 | ((v >> 7) & 1) << 6 | ((v >> 1) & 7) << 3 | ((v >> 5) & 1) << 2)
            h = link.read_u16(blob, P)
            link.write_u16(blob, P, (h & 0xE003) | enc)
        elif t in (R["32_PCREL"], R["PLT32"]):
            link.write_u32(blob, P, self._pcrel(link, rel, A, P, 32))
        elif t == R["GOT32_PCREL"]:
            link.write_u32(blob, P, link.got_offset(rel.symbol) + A - P)
        elif t in (R["ADD8"], R["ADD16"], R["ADD32"], R["ADD64"], R["SUB6"], R["SUB8"], R["SUB16"],
                   R["SUB32"], R["SUB64"], R["SET6"], R["SET8"], R["SET16"], R["SET32"]):
            self._label_arith(link, rel, blob, P, A)
        else:
            link.unsupported(rel)

    def _pcrel(self, link, rel: Reloc, A: int, P: int, bits: int = 32) -> int:
        tgt = link.target(rel.symbol)
        link.require_local(rel, tgt)
        off = tgt.offset + A - P
        if bits < 32 and not -(1 << (bits - 1)) <= off < (1 << (bits - 1)):
            raise LinkError(f"{rel.obj}: {self.reloc_name(rel.type)} to '{tgt.name}' out of range ({off})")
        return off & 0xFFFFFFFF if bits == 32 else off

    # relocation type -> (operation, field bits)
    _ARITH = {R["ADD8"]: ("add", 8), R["ADD16"]: ("add", 16), R["ADD32"]: ("add", 32), R["ADD64"]: ("add", 64),
              R["SUB6"]: ("sub", 6), R["SUB8"]: ("sub", 8), R["SUB16"]: ("sub", 16), R["SUB32"]: ("sub", 32),
              R["SUB64"]: ("sub", 64), R["SET6"]: ("set", 6), R["SET8"]: ("set", 8), R["SET16"]: ("set", 16),
              R["SET32"]: ("set", 32)}

    def _label_arith(self, link, rel: Reloc, blob: str, P: int, A: int) -> None:
        """Label differences (switch tables, DWARF-like data): both labels are in text."""
        op, bits = self._ARITH[rel.type]
        tgt = link.target(rel.symbol)
        if tgt.blob != "text":
            link.unsupported(rel, "label arithmetic on a symbol outside text")
        if bits == 64:
            link.unsupported(rel, "64-bit label arithmetic on rv32")
        S = tgt.offset + A
        size = max(1, bits // 8)
        fmt = {1: "<B", 2: "<H", 4: "<I"}[size]
        cur = struct.unpack_from(fmt, link.blobs[blob], P)[0]
        mask = (1 << bits) - 1
        new = {"add": cur + S, "sub": cur - S, "set": S}[op] & mask
        struct.pack_into(fmt, link.blobs[blob], P, (cur & ~mask & ((1 << (8 * size)) - 1)) | new)
