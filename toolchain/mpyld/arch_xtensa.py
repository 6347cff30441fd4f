"""Xtensa arch modules of mpyld: ``xtensa`` (ESP8266, call0 ABI) and ``xtensawin``
(ESP32/S2/S3, windowed ABI).

Both flavours read ELF objects made by GNU as for Xtensa (RELA, 4-byte words).

Layout (why it differs from the other archs): code loads every constant that is
not a small immediate with ``L32R``, whose PC-relative offset is always
negative (it reaches 4..262144 bytes *backwards*).  So every ``.literal*``
section is placed right after the 4-byte entry trampoline, before any code:

    [J mpy_init + pad][.literal sections ...][GOT][code sections ...][stubs]

Literal words are relocated in place as absolute words.  Identical literal
words are merged (``merge_sections``; ``mpyld link --no-merge-literals``
keeps them all): GCC gives every function its own literal pool under
``-ffunction-sections``, so the same constant or address is repeated across
functions and objects.  Two words are identical when both are the same
constant without relocation, or both are relocated to the same resolved
target (section and offset, or firmware name) with the same value -- never by
symbol name, so the upstream bug of keying literals without their section
(facts 7.7, #19276) cannot happen here.  A literal section is compacted only
if every word holds at most one R_XTENSA_32/PLT and every reference to it is
an L32R naming one of its words; the L32R relocations are retargeted to the
kept copy.  ``L32R`` instructions get their 16-bit offset recomputed for the
final layout and every one is checked to point backwards, word aligned and
in range.

Relocations handled:

* ``R_XTENSA_32`` / ``R_XTENSA_PLT`` on a word (literal, jump table,
  ``.data.rel.ro``): absolute word, value = existing word + addend + target;
  the loader adds the base of the target's blob (text, rodata, bss, or a
  firmware value for ``mp_fun_table`` and friends).
* ``R_XTENSA_SLOT0_OP`` on an instruction: ``L32R`` (literal reference),
  ``CALL0/4/8/12`` and ``J`` (calls/jumps across sections, e.g. with
  ``-ffunction-sections``) and the PC-relative branch forms; the target must be
  code in text.
* ``R_XTENSA_32_PCREL``: PC-relative word inside one blob.
* ignored (relaxation and debug markers): NONE, ASM_EXPAND, ASM_SIMPLIFY,
  DIFF8/16/32, PDIFF8/16/32, NDIFF8/16/32.

A literal holding ``mp_fun_table + off`` is the *address* of that table entry (plain
ELF semantics).  MicroPython's own linker stores the entry's *value* instead on Xtensa
only; our dynruntime.h never relies on that (firmware objects such as
``mp_type_type`` are separate symbols resolved to the slot value on every arch).

Calls to ``memset``/``memcpy``/``memmove`` that the module does not define go to a
16-byte stub per function (``J``; word = the firmware's ``mp_fun_table`` slot value;
``L32R a9``; ``JX a9``), which works from both ABIs.  GCC with ``-fpic`` calls every
function through a literal (``CALLXn``); without ``-fpic`` it emits ``CALLn``, which the
SLOT0_OP relocation resolves across sections too.

xtensawin keeps ``.rodata*``/``.data.rel.ro*`` in the separate rodata blob
(ESP32 runs native code from IRAM, which is not byte-readable); xtensa keeps
them in text (ESP8266 code is compiled with ``-mforce-l32``).

Compiling for xtensawin: Debian has no ESP32 compiler.  LLVM 19 (bookworm)
knows only a generic call0 Xtensa CPU (no ``esp32``, no windowed ABI, not
even ``MUL32``) and clang 19 has no Xtensa front end.  Debian's
gcc-xtensa-lx106 (GCC 12) does implement ``-mabi=windowed``; only its
assembler, configured for the LX106 core, rejects the windowed opcodes.
``python -m mpyld.arch_xtensa wincc`` (see :func:`wincc_main`) therefore
compiles with ``gcc -mabi=windowed -S``, rewrites the handful of windowed
instructions (ENTRY, RETW(.N), CALLn, CALLXn, MOVSP) into their exact
encodings (``.byte``; calls carry an explicit ``R_XTENSA_SLOT0_OP``
relocation), and assembles the result with the same assembler.  Every other
instruction the LX106 compiler emits is part of the ESP32 (LX6) ISA.  Such objects
leave the offset field of every direct CALLn zero for the linker to fill, so they
need a linker that resolves SLOT0_OP on calls (this one; MicroPython's mpy_ld keeps
calls as assembled).  ``check_object`` rejects objects assembled for the other ABI.

Limits: all L32R literals sit before the code, so a module whose literal pool plus
code exceeds 256 KiB fails to link with an "L32R ... cannot reach" error naming the
place; the entry J reaches mpy_init within 128 KiB of the start of text.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from typing import TYPE_CHECKING, Hashable, Optional, Sequence, Union

from .arch import GOT, STUBS, Arch, LinkContext
from .errors import LinkError
from .linktypes import InputSection, Reloc, Symbol

if TYPE_CHECKING:  # pragma: no cover
    from elftools.elf.elffile import ELFFile

# Relocation type numbers (binutils include/elf/xtensa.h).
R_XTENSA_NONE = 0
R_XTENSA_32 = 1
R_XTENSA_PLT = 6
R_XTENSA_ASM_EXPAND = 11
R_XTENSA_ASM_SIMPLIFY = 12
R_XTENSA_32_PCREL = 14
R_XTENSA_DIFF8, R_XTENSA_DIFF16, R_XTENSA_DIFF32 = 17, 18, 19
R_XTENSA_SLOT0_OP = 20
R_XTENSA_PDIFF8, R_XTENSA_PDIFF16, R_XTENSA_PDIFF32 = 57, 58, 59
R_XTENSA_NDIFF8, R_XTENSA_NDIFF16, R_XTENSA_NDIFF32 = 60, 61, 62

XTENSA_RELOC_NAMES: dict[int, str] = {
    0: "R_XTENSA_NONE", 1: "R_XTENSA_32", 2: "R_XTENSA_RTLD", 3: "R_XTENSA_GLOB_DAT",
    4: "R_XTENSA_JMP_SLOT", 5: "R_XTENSA_RELATIVE", 6: "R_XTENSA_PLT", 8: "R_XTENSA_OP0",
    9: "R_XTENSA_OP1", 10: "R_XTENSA_OP2", 11: "R_XTENSA_ASM_EXPAND", 12: "R_XTENSA_ASM_SIMPLIFY",
    14: "R_XTENSA_32_PCREL", 15: "R_XTENSA_GNU_VTINHERIT", 16: "R_XTENSA_GNU_VTENTRY",
    17: "R_XTENSA_DIFF8", 18: "R_XTENSA_DIFF16", 19: "R_XTENSA_DIFF32",
    **{20 + i: f"R_XTENSA_SLOT{i}_OP" for i in range(15)},
    **{35 + i: f"R_XTENSA_SLOT{i}_ALT" for i in range(15)},
    50: "R_XTENSA_TLSDESC_FN", 51: "R_XTENSA_TLSDESC_ARG", 52: "R_XTENSA_TLS_DTPOFF",
    53: "R_XTENSA_TLS_TPOFF", 54: "R_XTENSA_TLS_FUNC", 55: "R_XTENSA_TLS_ARG",
    56: "R_XTENSA_TLS_CALL", 57: "R_XTENSA_PDIFF8", 58: "R_XTENSA_PDIFF16",
    59: "R_XTENSA_PDIFF32", 60: "R_XTENSA_NDIFF8", 61: "R_XTENSA_NDIFF16", 62: "R_XTENSA_NDIFF32",
}

L32R_MIN = -262144  # furthest reach of L32R, in bytes (offset is always negative)


# --------------------------------------------------------------------------------------
# Instruction encodings (little-endian Xtensa).  Shared with the tests, which use them to
# decode linked output independently of the relocation code paths.


def insn_length(b0: int) -> int:
    """Length in bytes of the instruction whose first byte is ``b0`` (density option:
    op0 8..13 are the 16-bit "narrow" formats, everything else is 24-bit)."""
    return 2 if 8 <= (b0 & 0xF) <= 13 else 3


def _sext(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def l32r_target(pc: int, insn: int) -> int:
    """Address loaded by the L32R ``insn`` (24-bit little-endian value) at ``pc``."""
    imm16 = (insn >> 8) & 0xFFFF
    return ((pc + 3) & ~3) + ((imm16 - 0x10000) << 2)


def encode_l32r_imm(pc: int, target: int) -> int:
    """16-bit L32R field for loading the word at ``target`` from ``pc``; raises
    ValueError when unreachable (L32R reaches only backwards, word aligned)."""
    if target & 3:
        raise ValueError(f"L32R target 0x{target:x} is not word aligned")
    delta = target - ((pc + 3) & ~3)
    if not L32R_MIN <= delta <= -4:
        raise ValueError(f"L32R at 0x{pc:x} cannot reach 0x{target:x} (offset {delta}, must be -262144..-4)")
    return (delta >> 2) & 0xFFFF


def call_target(pc: int, insn: int) -> int:
    """Target of CALL0/4/8/12 ``insn`` at ``pc``."""
    return (pc & ~3) + (_sext(insn >> 6, 18) << 2) + 4


def j_target(pc: int, insn: int) -> int:
    """Target of J ``insn`` at ``pc``."""
    return pc + 4 + _sext(insn >> 6, 18)


def encode_j(pc: int, target: int) -> bytes:
    off = target - (pc + 4)
    if not -(1 << 17) <= off < (1 << 17):
        raise ValueError(f"J at 0x{pc:x} cannot reach 0x{target:x} (offset {off}, limit +-128 KiB)")
    return (0x06 | ((off & 0x3FFFF) << 6)).to_bytes(3, "little")


class UnknownInsnForm(ValueError):
    """The relocated instruction is not one of the forms :func:`patch_pcrel` re-encodes."""


def patch_pcrel(code: bytes, pc: int, dest: int) -> bytes:
    """Re-encode the PC-relative operand of the instruction at the start of ``code`` (placed
    at ``pc``) so that it refers to ``dest``.  Handles L32R, CALL0/4/8/12, J, the BRI12,
    BRI8 and RRI8 conditional branches and BEQZ.N/BNEZ.N; returns the patched bytes
    (2 or 3).  Raises ValueError when the form is unknown or the target unreachable."""
    b0 = code[0]
    op0 = b0 & 0xF
    n, m = (b0 >> 4) & 3, (b0 >> 6) & 3
    if insn_length(b0) == 2:
        if op0 == 0xC and b0 & 0x80:  # BEQZ.N / BNEZ.N: 6-bit unsigned offset
            off = dest - (pc + 4)
            if not 0 <= off < 64:
                raise ValueError(f"narrow branch at 0x{pc:x} cannot reach 0x{dest:x}")
            return bytes(((b0 & 0xCF) | (((off >> 4) & 3) << 4), (code[1] & 0x0F) | ((off & 0xF) << 4)))
        raise UnknownInsnForm(f"unsupported instruction (first byte 0x{b0:02x}) for this relocation")
    insn = int.from_bytes(code[:3], "little")
    if op0 == 1:  # L32R
        insn = (insn & 0xFF) | (encode_l32r_imm(pc, dest) << 8)
    elif op0 == 5:  # CALL0/4/8/12
        if dest & 3:
            raise ValueError(f"call target 0x{dest:x} is not word aligned")
        off = (dest - ((pc & ~3) + 4)) >> 2
        if not -(1 << 17) <= off < (1 << 17):
            raise ValueError(f"call at 0x{pc:x} cannot reach 0x{dest:x} (+-512 KiB)")
        insn = (insn & 0x3F) | ((off & 0x3FFFF) << 6)
    elif op0 == 6 and n == 0:  # J
        insn = int.from_bytes(encode_j(pc, dest), "little")
    elif op0 == 6 and n == 1:  # BEQZ/BNEZ/BLTZ/BGEZ (BRI12)
        off = dest - (pc + 4)
        if not -2048 <= off < 2048:
            raise ValueError(f"branch at 0x{pc:x} cannot reach 0x{dest:x}")
        insn = (insn & 0xFFF) | ((off & 0xFFF) << 12)
    elif (op0 == 6 and (n == 2 or (n == 3 and m >= 2))) or op0 == 7:  # BRI8 / RRI8 branches
        off = dest - (pc + 4)
        if not -128 <= off < 128:
            raise ValueError(f"branch at 0x{pc:x} cannot reach 0x{dest:x}")
        insn = (insn & 0xFFFF) | ((off & 0xFF) << 16)
    else:
        raise UnknownInsnForm(f"unsupported instruction (first byte 0x{b0:02x}) for this relocation")
    return insn.to_bytes(3, "little")


# Windowed-ABI instruction encodings used by the assembler shim.
_AREG = {**{f"a{i}": i for i in range(16)}, "sp": 1}


def encode_entry(areg: int, framesize: int) -> bytes:
    if framesize % 8 or not 0 <= framesize < 8 * 4096:
        raise ValueError(f"ENTRY frame size {framesize} must be a multiple of 8 below 32768")
    imm = framesize >> 3
    return bytes((0x36, (areg & 0xF) | ((imm & 0xF) << 4), imm >> 4))


def encode_callx(n: int, areg: int) -> bytes:
    """CALLX4/8/12 (n = 1/2/3); n = 0 would be CALLX0."""
    return bytes((((0b11 << 2) | n) << 4, areg & 0xF, 0))


def encode_movsp(at: int, as_: int) -> bytes:
    return bytes(((at & 0xF) << 4, 0x10 | (as_ & 0xF), 0))


RETW = bytes((0x90, 0x00, 0x00))
RETW_N = bytes((0x1D, 0xF0))


# --------------------------------------------------------------------------------------
# Arch modules


class _XtensaBase(Arch):
    e_machine = "EM_XTENSA"
    elfclass = 32
    word_size = 4
    reloc_names = XTENSA_RELOC_NAMES
    reloc_types = {
        R_XTENSA_32: "R_XTENSA_32",
        R_XTENSA_PLT: "R_XTENSA_PLT",
        R_XTENSA_32_PCREL: "R_XTENSA_32_PCREL",
        R_XTENSA_SLOT0_OP: "R_XTENSA_SLOT0_OP",
    }
    got_types = frozenset()
    ignored_types = frozenset({
        R_XTENSA_NONE, R_XTENSA_ASM_EXPAND, R_XTENSA_ASM_SIMPLIFY,
        R_XTENSA_DIFF8, R_XTENSA_DIFF16, R_XTENSA_DIFF32,
        R_XTENSA_PDIFF8, R_XTENSA_PDIFF16, R_XTENSA_PDIFF32,
        R_XTENSA_NDIFF8, R_XTENSA_NDIFF16, R_XTENSA_NDIFF32,
    })
    trampoline_size = 4  # J (3 bytes) + 1 pad byte: keeps the literal pool word aligned
    stub_align = 4
    text_align = 4  # CALLn targets and literal words must be word aligned
    apt_package = "gcc-xtensa-lx106"

    def blob_for_section(self, name: str, sh_type: str, sh_flags: int) -> Optional[str]:
        if sh_type == "SHT_PROGBITS" and name.startswith(".literal"):
            return "text"
        return super().blob_for_section(name, sh_type, sh_flags)

    def text_layout(self, link: LinkContext, sections: Sequence["InputSection"]) -> list[Union["InputSection", str]]:
        lits = [s for s in sections if s.name.startswith(".literal")]
        rest = [s for s in sections if not s.name.startswith(".literal")]
        return [*lits, GOT, *rest, STUBS]

    def gc_companions(self, section: "InputSection") -> Sequence["InputSection"]:
        """GNU as puts the literals of ``.text<X>`` into ``.literal<X>`` of the same object: keep
        them together (the L32R relocations already make the literals reachable; this also covers
        a literal section that no relocation names)."""
        if not section.name.startswith(".text"):
            return ()
        lit = ".literal" + section.name[len(".text"):]
        return [s for s in section.obj.sections.values() if s.name == lit]

    # -- literal merging -------------------------------------------------------------

    @staticmethod
    def _definition(link: LinkContext, sym: "Symbol") -> "Symbol":
        return link.defs.get(sym.name, sym) if sym.is_global and sym.name else sym

    def _word_key(self, link: LinkContext, rel: Optional[Reloc], word: int) -> Hashable:
        """What a literal word holds at run time, independent of layout."""
        if rel is None:
            return ("const", word)
        d = self._definition(link, rel.symbol)
        value = (word + (rel.addend or 0)) & 0xFFFFFFFF
        if d.section is not None:
            return ("section", id(d.section), (d.value + value) & 0xFFFFFFFF)
        if d.is_global and d.name:
            return ("name", d.name, value)  # firmware symbol, stub, weak undefined
        return ("other", str(d.shndx), d.value, value)

    def merge_sections(self, link: LinkContext, sections: Sequence["InputSection"]) -> int:
        """Keep one copy of identical literal words (see the module docstring)."""
        lits = {id(s): s for s in sections if s.blob == "text" and s.name.startswith(".literal")
                and s.size % 4 == 0 and all(r.type in (R_XTENSA_32, R_XTENSA_PLT) and r.offset % 4 == 0
                                            for r in s.relocs)
                and len({r.offset for r in s.relocs}) == len(s.relocs)}
        refs: list[tuple[InputSection, int, InputSection, int]] = []  # (section, reloc index, literal section, word)
        for sec in sections:
            for i, r in enumerate(sec.relocs):
                lit = self._definition(link, r.symbol).section
                if lit is None or id(lit) not in lits or r.type in self.ignored_types:
                    continue
                off = self._definition(link, r.symbol).value + (r.addend or 0)
                if (r.type == R_XTENSA_SLOT0_OP and sec.blob == "text" and not sec.name.startswith(".literal")
                        and sec.data[r.offset] & 0xF == 1 and off % 4 == 0 and 0 <= off < lit.size):
                    refs.append((sec, i, lit, off))  # an L32R loading word `off` of `lit`
                else:
                    lits.pop(id(lit))  # referred to some other way: leave it alone
        kept: dict[Hashable, tuple[InputSection, int]] = {}
        moved: dict[tuple[int, int], tuple[InputSection, int]] = {}
        saved = 0
        for lit in sections:
            if id(lit) not in lits:
                continue
            at = {r.offset: r for r in lit.relocs}
            data, relocs = bytearray(), []
            for off in range(0, lit.size, 4):
                word = bytes(lit.data[off:off + 4])
                key = self._word_key(link, at.get(off), int.from_bytes(word, "little"))
                if key not in kept:
                    kept[key] = (lit, len(data))
                    if off in at:
                        relocs.append(replace(at[off], offset=len(data)))
                    data += word
                moved[(id(lit), off)] = kept[key]
            saved += lit.size - len(data)
            lit.data, lit.size, lit.relocs = data, len(data), relocs
        for sec, i, lit, off in refs:
            if id(lit) in lits:
                dest, new = moved[(id(lit), off)]
                here = Symbol("", dest.obj, dest, new, "STB_LOCAL", "STT_NOTYPE", dest.index)
                sec.relocs[i] = replace(sec.relocs[i], symbol=here, addend=0)
        return saved

    def trampoline(self, entry: int) -> bytes:
        try:
            return encode_j(0, entry) + b"\x00"
        except ValueError as exc:
            raise LinkError(f"{self.name}: mpy_init is too far from the start of text for the entry jump: {exc}") from exc

    def stub(self, slot: int) -> Optional[tuple[bytes, int]]:
        # Jump to the firmware function whose address the loader stores at byte 4:
        #   0: J 8 ; 3: pad ; 4: .word <slot value> ; 8: L32R a9, 4 ; 11: JX a9 ; 14: pad
        # a9 is free on entry in both ABIs (call0: caller-saved temporary; windowed: it is the
        # callee's a1 before ENTRY runs, which ENTRY overwrites).  JX keeps the caller's
        # CALLINC/return address, so the firmware function returns straight to the caller.
        code = encode_j(0, 8) + b"\x00" + b"\x00\x00\x00\x00"
        code += bytes((0x91,)) + encode_l32r_imm(8, 4).to_bytes(2, "little")
        code += bytes((0xA0, 0x09, 0x00)) + b"\x00\x00"
        return code, 4

    abi = -1  # value of "ABI=" in the assembler's .xtensa.info note (0 windowed, 1 call0)

    def check_object(self, obj_name: str, elf: "ELFFile") -> None:
        """Reject objects assembled for the other ABI (optional hook, see XTENSA_REQUESTS.md).

        GNU as records the ABI in the ``.xtensa.info`` note; call0 code run as windowed
        code (or the reverse) would corrupt registers on the first call."""
        sec = elf.get_section_by_name(".xtensa.info")
        m = re.search(rb"ABI=(\d+)", sec.data()) if sec is not None else None
        if m is None or int(m.group(1)) == self.abi:
            return
        names = {0: "windowed", 1: "call0"}
        got = names.get(int(m.group(1)), f"ABI {m.group(1).decode()}")
        fix = ("compile C with `python -m mpyld.arch_xtensa wincc <gcc> ...` (arch/xtensawin.mk does) and "
               "assemble hand-written code with -Wa,--abi-windowed" if self.name == "xtensawin" else
               "compile with xtensa-lx106-elf-gcc's default (call0) ABI")
        raise LinkError(f"{obj_name}: object uses the {got} ABI (.xtensa.info), but {self.name} needs the "
                        f"{names[self.abi]} ABI: {fix}")

    def undefined_hint(self, names: Sequence[str]) -> Optional[str]:
        """Explain undefined compiler helpers (optional hook, see XTENSA_REQUESTS.md)."""
        dbl = sorted(n for n in names if re.fullmatch(r"__\w+df[23]|__(fix|fixuns)df\w+|__float\w*df", n))
        other = sorted(n for n in names if n.startswith("__") and n not in dbl)
        parts = []
        if dbl:
            parts.append(f"{', '.join(dbl)}: double-precision maths is not supported on {self.name} "
                         "(no libgcc for it here); use float (e.g. 1.0f literals, sqrtf) in code built for Xtensa")
        if other:
            parts.append(f"{', '.join(other)}: compiler helpers come from toolchain/runtime (libxtrt.a, passed "
                         f"with -l by arch/{self.name}.mk); this one is not implemented there")
        return "\n".join(parts) or None

    # -- relocation ------------------------------------------------------------------

    def scan(self, link: LinkContext, rel: Reloc) -> None:
        if rel.type in self.ignored_types:
            return
        if rel.type not in self.reloc_types:
            link.unsupported(rel)

    def apply(self, link: LinkContext, rel: Reloc) -> None:
        if rel.type in self.ignored_types:
            return
        addend = rel.addend or 0
        if rel.type in (R_XTENSA_32, R_XTENSA_PLT):
            blob, off = link.P(rel)
            # The assembler may leave the offset in the word itself (section-relative
            # literals); the ELF semantics are "word += S + A".
            link.abs_word(rel, link.read_u32(blob, off) + addend)
        elif rel.type == R_XTENSA_32_PCREL:
            blob, off = link.P(rel)
            target = link.target(rel.symbol)
            link.require_local(rel, target)
            if target.blob != blob:
                raise LinkError(self._where(rel, "PC-relative word between different blobs"))
            link.write_u32(blob, off, (link.read_u32(blob, off) + target.offset + addend - off) & 0xFFFFFFFF)
        elif rel.type == R_XTENSA_SLOT0_OP:
            self._apply_slot0(link, rel, addend)
        else:  # pragma: no cover - scan() rejected it already
            link.unsupported(rel)

    def _where(self, rel: Reloc, what: str) -> str:
        return (f"{self.name}: {what}: {self.reloc_name(rel.type)} against '{rel.symbol.name}' "
                f"in {rel.obj} section {rel.section.name} at offset 0x{rel.offset:x}")

    def _apply_slot0(self, link: LinkContext, rel: Reloc, addend: int) -> None:
        blob, pc = link.P(rel)
        if blob != "text":
            raise LinkError(self._where(rel, "instruction relocation outside text"))
        target = link.target(rel.symbol)
        link.require_local(rel, target)
        if target.blob != "text":
            raise LinkError(self._where(rel, f"instruction refers to {target.blob}, which is not in text "
                                             "(data must be reached through a literal)"))
        dest = target.offset + addend
        try:
            patched = patch_pcrel(link.read(blob, pc, 3), pc, dest)
        except ValueError as exc:
            sec_lo = rel.section.out_offset
            if isinstance(exc, UnknownInsnForm) and sec_lo <= dest <= sec_lo + rel.section.size:
                # A branch form we do not decode, inside one input section: the assembler
                # already wrote the PC-relative value and the section is moved as a whole.
                return
            raise LinkError(self._where(rel, str(exc))) from exc
        link.write(blob, pc, patched)


class ArchXtensa(_XtensaBase):
    """ESP8266 (LX106), call0 ABI; rodata lives in text."""

    name = "xtensa"
    abi = 1


class ArchXtensawin(_XtensaBase):
    """ESP32/S2/S3 (LX6/LX7), windowed ABI; rodata is a separate blob."""

    name = "xtensawin"
    abi = 0

    def blob_for_section(self, name: str, sh_type: str, sh_flags: int) -> Optional[str]:
        blob = super().blob_for_section(name, sh_type, sh_flags)
        if blob == "text" and name.startswith((".rodata", ".data.rel.ro")):
            return "rodata"
        return blob


# --------------------------------------------------------------------------------------
# Windowed-ABI assembler shim and compiler driver for xtensawin.

_INSN_RE = re.compile(r"^(\s*)(entry|retw\.n|retw|callx12|callx4|callx8|call12|call4|call8|movsp)(?=\s|$)\s*(.*?)\s*$")


def _reg(tok: str) -> int:
    tok = tok.strip()
    if tok not in _AREG:
        raise ValueError(f"expected an address register, got '{tok}'")
    return _AREG[tok]


def _bytes_directive(data: bytes) -> str:
    return "\t.byte\t" + ", ".join(f"0x{b:02x}" for b in data)


def _rewrite_statement(stmt: str) -> list[str]:
    """Encoded replacement lines for one assembler statement (or the statement itself)."""
    m = _INSN_RE.match(stmt)
    if not m:
        return [stmt]
    mnem, ops = m.group(2), [o.strip() for o in m.group(3).split(",")] if m.group(3) else []
    if mnem == "entry":
        return [_bytes_directive(encode_entry(_reg(ops[0]), int(ops[1], 0)))]
    if mnem == "retw":
        return [_bytes_directive(RETW)]
    if mnem == "retw.n":
        return [_bytes_directive(RETW_N)]
    if mnem.startswith("callx"):
        return [_bytes_directive(encode_callx(int(mnem[5:]) // 4, _reg(ops[0])))]
    if mnem.startswith("call"):
        n = int(mnem[4:]) // 4
        # The linker fills the 18-bit offset from the relocation (target = S + A).
        return [f"\t.reloc\t., R_XTENSA_SLOT0_OP, {m.group(3)}", _bytes_directive(bytes((0x05 | (n << 4), 0, 0)))]
    return [_bytes_directive(encode_movsp(_reg(ops[0]), _reg(ops[1])))]  # movsp


def rewrite_windowed_asm(text: str) -> str:
    """Replace the windowed-ABI instructions in GCC ``-mabi=windowed`` assembly by their
    encodings so an assembler configured for a core without the windowed option accepts it.

    Statements separated by ``;`` on one line (GCC's -mforce-l32 sequences) are handled
    one by one; directive lines and lines with string literals are left alone.  A
    mnemonic this function does not know stays as it is and makes the assembler fail
    with its own "unknown opcode" message.
    """
    out: list[str] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.strip()
        if not body or body.startswith((".", "#")) or '"' in line:
            out.append(line)
            continue
        try:
            stmts = line.split(";")
            new = [r for st in stmts for r in _rewrite_statement(st)]
        except (ValueError, IndexError) as exc:
            raise LinkError(f"line {lineno}: cannot encode windowed instruction in '{body}': {exc}") from exc
        out.append(line if new == stmts else "\n".join(new))
    return "\n".join(out) + "\n"


def wincc_main(argv: Sequence[str]) -> int:
    """``python -m mpyld.arch_xtensa wincc <gcc> [gcc args...] -c SRC -o OBJ``

    Compiles one C file to an xtensawin (windowed ABI) object: ``<gcc> -mabi=windowed -S``,
    :func:`rewrite_windowed_asm`, then ``<gcc> -c`` on the rewritten assembly.  Dependency
    options (-MD/-MMD/-MF/-MT/-MP) are honoured by the first step.
    """
    if not argv:
        print("usage: python -m mpyld.arch_xtensa wincc <gcc> [args] -c SRC -o OBJ", file=sys.stderr)
        return 2
    gcc, args = argv[0], list(argv[1:])
    if "-o" not in args or "-c" not in args or args.index("-o") + 1 >= len(args):
        print("wincc: need -c and -o OBJ (as separate arguments)", file=sys.stderr)
        return 2
    obj = args[args.index("-o") + 1]
    cargs = [a for a in args if a != "-c"]
    del cargs[cargs.index("-o"):cargs.index("-o") + 2]
    dep: list[str] = []
    if any(a in ("-MD", "-MMD") for a in cargs) and "-MF" not in cargs:
        dep = ["-MF", os.path.splitext(obj)[0] + ".d"]
    if any(a in ("-MD", "-MMD") for a in cargs) and "-MT" not in cargs:
        dep += ["-MT", obj]
    with tempfile.TemporaryDirectory(prefix="xtwin") as tmp:
        s_in = os.path.join(tmp, "in.s")
        s_out = os.path.join(tmp, "out.s")
        try:
            subprocess.run([gcc, "-mabi=windowed", *cargs, *dep, "-S", "-o", s_in], check=True)
        except FileNotFoundError:
            print(f"wincc: compiler '{gcc}' not found; install it with: apt-get install gcc-xtensa-lx106",
                  file=sys.stderr)
            return 127
        except subprocess.CalledProcessError as exc:
            return exc.returncode or 1
        with open(s_in, encoding="utf-8") as f:
            src = f.read()
        try:
            rewritten = rewrite_windowed_asm(src)
        except LinkError as exc:
            print(f"wincc: {exc}", file=sys.stderr)
            return 1
        with open(s_out, "w", encoding="utf-8") as f:
            f.write(rewritten)
        proc = subprocess.run([gcc, "-c", "-Wa,--abi-windowed", "-o", obj, s_out])
        return proc.returncode


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "wincc":
        sys.exit(wincc_main(sys.argv[2:]))
    print("usage: python -m mpyld.arch_xtensa wincc <gcc> [args] -c SRC -o OBJ", file=sys.stderr)
    sys.exit(2)
