"""RISC-V rv32imc (EM_RISCV, RELA, 4-byte words), built with -mno-relax.

PC-relative pairs (-fpic code): a *_LO12 relocation names the label of its
auipc, whose PCREL_HI20/GOT_HI20 relocation gives the full value; LO12 takes
``value - (hi20 << 12)`` (the psABI rule).
Absolute lui/addi pairs (HI20 and LO12_I/LO12_S against a symbol, from non-PIC
libgcc and picolibc) are rewritten to auipc-relative form: the lui becomes an
auipc, and each LO12 is paired with the lui whose result its base register
holds, found by following the registers through the section's control flow
(``mpyld.rv32_flow``).  A lui's upper part is chosen so that every LO12 it
feeds fits its 12 bits.  A LO12 fed by several luis at different addresses
cannot be made position-independent: that is a link error.
"""
from __future__ import annotations

import struct

from typing import Sequence, Union

from .arch import Arch, LinkContext
from .errors import LinkError
from .linktypes import KIND_ABS, InputSection, Reloc
from .rv32_flow import hi20_sources

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

    # ------------------------------------------------------------------ absolute lui/LO12 pairs
    def _abs_section(self, link, sec) -> tuple[dict, dict, dict, dict]:
        """(sources, hi relocs by offset, LO12 users by hi offset, chosen (base, upper) by hi offset)."""
        cache = link.cache("rv32_abs")
        if id(sec) not in cache:
            sources = hi20_sources(sec)
            his = {r.offset: r for r in sec.relocs if r.type == R["HI20"]}
            users: dict[int, list[Reloc]] = {}
            for r in sec.relocs:
                if r.type in (R["LO12_I"], R["LO12_S"]):
                    for h in sources.get(r.offset, ()):
                        users.setdefault(h, []).append(r)
            cache[id(sec)] = (sources, his, users, {})
        return cache[id(sec)]

    # A lui and the %lo uses it feeds ("group") must end up with their PC-relative values
    # (use - auipc) inside one window [H - 2048, H + 2047], H a multiple of 4096: the compiler only
    # promised that for absolute addresses (an aligned object: %hi(S) == %hi(S + 4)).  When the
    # use and the lui are in different sections, placing the later one a few bytes further keeps
    # the group inside a window; when they share a section nothing can move (error in _abs_upper).
    def text_layout(self, link: LinkContext, sections: Sequence[InputSection]) -> list[Union[InputSection, str]]:
        groups = link.cache("rv32_groups")
        for sec in sections:
            if not any(r.type in (R["LO12_I"], R["LO12_S"]) for r in sec.relocs):
                continue
            _, his, users, _ = self._abs_section(link, sec)
            for h, uses in users.items():
                places = []
                for u in uses:
                    sym = u.symbol
                    if sym.is_global and sym.name:
                        sym = link.defs.get(sym.name, sym)
                    if sym.section is not None and sym.section.blob == "text":
                        places.append((sym.section, sym.value + (u.addend or 0)))
                involved = {id(sec)} | {id(d) for d, _ in places}
                if len(places) > 1 and len(involved) > 1:
                    for key in involved:
                        groups.setdefault(key, []).append((sec, h, places))
        return super().text_layout(link, sections)

    def place(self, link: LinkContext, section: InputSection, offset: int) -> int:
        groups = link.cache("rv32_groups").get(id(section))
        if not groups:
            return offset
        step = max(section.align, 2)
        for k in range(4096 // step + 1):
            cand = offset + k * step
            if all(self._group_fits(g, section, cand) for g in groups):
                return cand
        raise LinkError(f"{section.obj.name}: no place for section {section.name} keeps the %lo uses of its "
                        f"absolute %hi/%lo pairs within 4 KiB windows")

    @staticmethod
    def _group_fits(group, section: InputSection, cand: int) -> bool:
        hi_sec, h, places = group
        pos = lambda s: cand if s is section else s.out_offset  # noqa: E731
        if pos(hi_sec) < 0 or any(pos(d) < 0 for d, _ in places):
            return True  # checked when the last of its sections is placed
        p = pos(hi_sec) + h
        return len({(pos(d) + o - p + 2048) >> 12 for d, o in places}) == 1

    def _abs_target(self, link, rel: Reloc) -> tuple[bool, int]:
        """(absolute?, value) of the symbol + addend of an absolute HI20/LO12: a text offset, or
        the value of an absolute symbol; anything else cannot be reached from code (clear error)."""
        tgt = link.target(rel.symbol)
        if tgt.kind == KIND_ABS:
            return True, tgt.offset + (rel.addend or 0)
        if tgt.blob != "text":
            link.require_local(rel, tgt)
        return False, tgt.offset + (rel.addend or 0)

    def _abs_upper(self, link, hi_rel: Reloc) -> tuple[int, int, bool]:
        """(base, upper, absolute) of an absolute HI20: at run time its instruction yields
        ``base + upper`` where base is the load address plus the text offset of the auipc it
        becomes (its own offset), or 0 for a lui of an absolute value."""
        _, _, users, chosen = self._abs_section(link, hi_rel.section)
        if hi_rel.offset not in chosen:
            absolute, own = self._abs_target(link, hi_rel)
            base = 0 if absolute else link.P(hi_rel)[1]
            vals = []
            for u in users.get(hi_rel.offset, ()):
                u_abs, v = self._abs_target(link, u)
                if u_abs != absolute:
                    raise LinkError(f"{u.obj}: {self.reloc_name(u.type)} against '{u.symbol.name}' at "
                                    f"{u.section.name}+{u.offset:#x} adds to the %hi of "
                                    f"'{hi_rel.symbol.name}' (at +{hi_rel.offset:#x}); one is an absolute "
                                    f"value, the other an address in the module")
                vals.append(v - base)
            upper = ((own - base + 0x800) >> 12) << 12
            if vals and not all(-2048 <= v - upper <= 2047 for v in vals):
                upper = -((2047 - max(vals)) // 4096) * 4096  # smallest multiple of 4096 >= max - 2047
                if upper > min(vals) + 2048:
                    raise LinkError(f"{hi_rel.obj}: the %lo uses of the lui at {hi_rel.section.name}+"
                                    f"{hi_rel.offset:#x} ('{hi_rel.symbol.name}'), made PC-relative, do not "
                                    f"fit one 12-bit window of an auipc (PC-relative offsets "
                                    f"{min(vals)}..{max(vals)}); with their target in the lui's own section "
                                    f"no placement helps: compile this code with -fpic")
            chosen[hi_rel.offset] = (base, upper, absolute)
        return chosen[hi_rel.offset]

    def _abs_lo(self, link, rel: Reloc) -> int:
        """The 12-bit value of an absolute LO12: its target minus what its base register holds."""
        sources, his, _, _ = self._abs_section(link, rel.section)
        srcs = sorted(sources.get(rel.offset, ()))
        where = f"{rel.obj}: {self.reloc_name(rel.type)} against '{rel.symbol.name}' at {rel.section.name}+{rel.offset:#x}"
        if not srcs:
            raise LinkError(f"{where}: no lui with a %hi (R_RISCV_HI20) reaches its base register")
        _, value = self._abs_target(link, rel)
        los = set()
        for h in srcs:
            base, upper, _ = self._abs_upper(link, his[h])
            los.add(value - base - upper)
        if len(los) > 1:
            raise LinkError(f"{where}: its base register may come from any of the luis at "
                            f"{', '.join(f'+{h:#x}' for h in srcs)}, which as PC-relative auipc give "
                            f"different values: this code cannot be made position-independent "
                            f"(it must be compiled with -fpic)")
        lo = los.pop()
        if not -2048 <= lo <= 2047:
            raise LinkError(f"internal: {where}: %lo out of range ({lo})")
        return lo

    def _value(self, link, rel: Reloc) -> int:
        """Full PC-relative value of a PCREL_HI20/GOT_HI20 relocation."""
        _, P = link.P(rel)
        A = rel.addend or 0
        if rel.type == R["GOT_HI20"]:
            return link.got_offset(rel.symbol) + A - P
        tgt = link.target(rel.symbol)
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
            _, upper, absolute = self._abs_upper(link, rel)
            opcode = 0x37 if absolute else 0x17  # lui of an absolute value; else lui -> auipc
            link.write_u32(blob, P, (ins() & 0xF80) | opcode | (upper & 0xFFFFF000))
        elif t in (R["PCREL_LO12_I"], R["PCREL_LO12_S"], R["LO12_I"], R["LO12_S"]):
            if t in (R["PCREL_LO12_I"], R["PCREL_LO12_S"]):
                label = link.target(rel.symbol).offset
                if rel.symbol.type == "STT_SECTION":
                    label += A  # the assembler named the auipc by its section and offset
                hi_rel = self._index(link, rel.section).get(label - rel.section.out_offset)
                if hi_rel is None or link.P(hi_rel)[0] != blob:
                    raise LinkError(f"{rel.obj}: {self.reloc_name(t)} at {rel.section.name}+{rel.offset:#x} "
                                    f"has no matching PCREL_HI20/GOT_HI20")
                _, lo = _hi_lo(self._value(link, hi_rel))
            else:
                lo = self._abs_lo(link, rel)
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
