"""Which absolute ``lui rd, %hi(sym)`` feeds each ``%lo(sym)`` use: a register data-flow pass over
one RISC-V code section (rv32imc).

Non-PIC code (picolibc, libgcc) reaches its constants with absolute pairs: ``lui rX, %hi(S)``
(R_RISCV_HI20) and later instructions ``addi``/``lw``/``sw ..., %lo(S)(rX)`` (R_RISCV_LO12_I/_S)
that use register rX.  The linker makes such a pair position-independent by turning the ``lui``
into an ``auipc``; the value of every ``%lo`` then depends on the address of the very ``auipc``
whose result it adds to.  Nothing in the relocations says which ``lui`` that is: the compiler may
keep one ``%hi`` in a callee-saved register for the whole function, load the same ``%hi`` again
into another register further on, or place the ``lui`` after its use in the section (loops,
reordered blocks).  So the pairing follows the registers through the control flow:

* every instruction of the section is decoded (32-bit and compressed encodings);
* the successors of an instruction are its fall-through and its branch or jump target (from the
  instruction's relocation when it has one, else from its immediate); ``jr ra``/``jr t0`` return
  (the ISA's return hint; GCC's millicode returns through t0), ``jr`` right after an ``auipc`` of
  an R_RISCV_CALL pair is a tail call, any other indirect jump may go to every label of its
  function (STT_FUNC symbol with a size; else of the section) whose address the object takes;
* a register's abstract value is the set of HI20 ``lui`` instructions whose result it may hold;
  ``lui`` with an R_RISCV_HI20 relocation sets it, a register copy (``mv``) copies it, any other
  write of the register clears it; calls kill nothing (code never relies on a caller-saved
  register across a call, and keeping a value only adds candidates);
* the sets are propagated to a fixed point; a ``%lo`` use gets the set of its base register.

Every over-approximation here (extra edges, fewer kills) can only add candidates, never remove the
right one: a use with one candidate is paired for certain; a use with several is resolved by the
linker only if they give the same result, else it is an error.  Depends on nothing but the data
types of ``mpyld.linktypes``.
"""
from __future__ import annotations

from typing import Iterable, Optional

from .linktypes import InputSection

# Relocation types (RISC-V psABI numbers) this pass reads.
R_HI20, R_LO12_I, R_LO12_S = 26, 27, 28
R_BRANCH, R_JAL, R_RVC_BRANCH, R_RVC_JUMP = 16, 17, 44, 45
_JUMP_RELOCS = frozenset({R_BRANCH, R_JAL, R_RVC_BRANCH, R_RVC_JUMP})
R_CALL, R_CALL_PLT = 18, 19
LO12_TYPES = frozenset({R_LO12_I, R_LO12_S})
_LINK_REGS = (1, 5)  # ra, t0: jr through them is a return


def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


class _Insn:
    """What the pass needs of one instruction."""

    __slots__ = ("off", "size", "writes", "copy_from", "hi_def", "targets", "falls", "indirect", "call", "base")

    def __init__(self, off: int, size: int):
        self.off = off
        self.size = size
        self.writes: Optional[int] = None  # x register written (never x0)
        self.copy_from: Optional[int] = None  # register copied into ``writes`` (mv)
        self.hi_def = False  # a lui with an R_RISCV_HI20 relocation
        self.targets: list[int] = []  # in-section jump/branch targets (offsets)
        self.falls = True  # execution may continue with the next instruction
        self.indirect = False  # jalr x0 / c.jr through a register other than ra/t0: a computed jump
        self.call = False  # jal/jalr with a link register: the callee returns to the next instruction
        self.base: Optional[int] = None  # base register of a load/store/addi (rs1)


def _decode32(ins: int, it: _Insn) -> Optional[int]:
    """Fill ``it`` from a 32-bit instruction; returns the immediate branch offset if any."""
    op = ins & 0x7F
    rd = (ins >> 7) & 31
    rs1 = (ins >> 15) & 31
    it.base = rs1
    imm = None
    if op in (0x37, 0x17, 0x03, 0x33, 0x73, 0x2F):  # lui auipc load op system amo
        it.writes = rd
    elif op == 0x13:  # op-imm; addi rd, rs1, 0 is mv
        it.writes = rd
        if (ins >> 12) & 7 == 0 and ins >> 20 == 0:
            it.copy_from = rs1
    elif op == 0x53:  # op-fp: fcmp, fclass/fmv.x, fcvt.w write an x register
        if ins >> 27 in (0x14, 0x18, 0x1C):
            it.writes = rd
    elif op == 0x6F:  # jal
        it.writes = rd
        imm = _sext(((ins >> 31) & 1) << 20 | ((ins >> 12) & 0xFF) << 12 | ((ins >> 20) & 1) << 11
                    | ((ins >> 21) & 0x3FF) << 1, 21)
        if rd == 0:
            it.falls = False
        else:
            it.call = True
    elif op == 0x67:  # jalr
        it.writes = rd
        if rd == 0:
            it.falls = False
            it.indirect = rs1 not in _LINK_REGS
        else:
            it.call = True
    elif op == 0x63:  # branch
        imm = _sext(((ins >> 31) & 1) << 12 | ((ins >> 7) & 1) << 11 | ((ins >> 25) & 0x3F) << 5
                    | ((ins >> 8) & 0xF) << 1, 13)
    return imm


def _decode16(h: int, it: _Insn) -> Optional[int]:
    """Fill ``it`` from a compressed instruction; returns the immediate branch offset if any."""
    quad = h & 3
    f3 = h >> 13
    rd = (h >> 7) & 31
    rs2 = (h >> 2) & 31
    rdp = 8 + ((h >> 2) & 7)  # rd' of c.addi4spn / c.lw
    rs1p = 8 + ((h >> 7) & 7)  # rs1'/rd' of the CB/CA/CL formats
    imm = None
    if quad == 0:
        if f3 in (0, 2):  # c.addi4spn, c.lw
            it.writes = rdp
        if f3 in (2, 6):  # c.lw, c.sw: base register
            it.base = rs1p
    elif quad == 1:
        if f3 == 0:  # c.addi (c.nop when rd = 0; imm 0 is a hint that changes nothing)
            if ((h >> 12) & 1) << 5 | (h >> 2) & 31:
                it.writes = rd
        elif f3 == 1:  # c.jal (rv32): a call
            it.writes = 1
            it.call = True
        elif f3 in (2, 3):  # c.li, c.lui / c.addi16sp
            it.writes = rd
        elif f3 == 4:  # c.srli c.srai c.andi c.sub c.xor c.or c.and
            it.writes = rs1p
        elif f3 == 5:  # c.j
            it.falls = False
            imm = _sext(((h >> 12) & 1) << 11 | ((h >> 8) & 1) << 10 | ((h >> 9) & 3) << 8 | ((h >> 6) & 1) << 7
                        | ((h >> 7) & 1) << 6 | ((h >> 2) & 1) << 5 | ((h >> 11) & 1) << 4 | ((h >> 3) & 7) << 1, 12)
        else:  # c.beqz, c.bnez
            imm = _sext(((h >> 12) & 1) << 8 | ((h >> 5) & 3) << 6 | ((h >> 2) & 1) << 5 | ((h >> 10) & 3) << 3
                        | ((h >> 3) & 3) << 1, 9)
    elif quad == 2:
        if f3 in (0, 2):  # c.slli, c.lwsp
            it.writes = rd
        elif f3 == 4:
            bit12 = (h >> 12) & 1
            if not bit12 and rs2 == 0:  # c.jr
                it.falls = False
                it.indirect = rd not in _LINK_REGS
            elif not bit12:  # c.mv
                it.writes = rd
                it.copy_from = rs2
            elif rs2 == 0 and rd != 0:  # c.jalr: a call
                it.writes = 1
                it.call = True
            elif rs2 != 0:  # c.add
                it.writes = rd
    if it.writes == 0:
        it.writes = None
        it.copy_from = None
    return imm


def _label_targets(section: InputSection) -> set[int]:
    """Offsets in ``section`` whose address the object takes (jump tables, address constants):
    relocations of any section of the object, other than branches and jumps, against a symbol
    of ``section``."""
    out: set[int] = set()
    for sec in section.obj.sections.values():
        for r in sec.relocs:
            if r.symbol.section is section and r.type not in _JUMP_RELOCS:
                out.add(r.symbol.value + (r.addend or 0))
    return out


def hi20_sources(section: InputSection) -> dict[int, frozenset[int]]:
    """For each absolute R_RISCV_LO12_I/_S relocation of ``section`` (by offset): the offsets of
    the R_RISCV_HI20 ``lui`` instructions whose result its base register may hold there."""
    data = section.data
    size = len(data)
    relocs_at: dict[int, list] = {}
    for r in section.relocs:
        relocs_at.setdefault(r.offset, []).append(r)
    los = {r.offset for r in section.relocs if r.type in LO12_TYPES}
    if not los:
        return {}
    his = {r.offset for r in section.relocs if r.type == R_HI20}
    insns: dict[int, _Insn] = {}
    order: list[int] = []
    off = 0
    while off + 2 <= size:
        half = data[off] | data[off + 1] << 8
        if half & 3 == 3 and off + 4 <= size:
            it = _Insn(off, 4)
            imm = _decode32(int.from_bytes(data[off:off + 4], "little"), it)
        else:
            it = _Insn(off, 2)
            imm = _decode16(half, it)
        it.hi_def = off in his and it.writes is not None
        target = None
        if it.indirect and any(r.type in (R_CALL, R_CALL_PLT) for r in relocs_at.get(off - 4, ())):
            it.indirect = False  # auipc + jr of a tail call: leaves the section
        for r in relocs_at.get(off, ()):
            if r.type in _JUMP_RELOCS:
                sym = r.symbol
                target = sym.value + (r.addend or 0) if sym.section is section else -1
        if target is None and imm is not None:
            target = off + imm
        if target is not None and 0 <= target < size and not it.call:
            it.targets.append(target)
        insns[off] = it
        order.append(off)
        off += it.size
    taken = sorted(t for t in _label_targets(section) if t in insns)
    funcs = sorted((s.value, s.value + s.size) for s in section.obj.symbols
                   if s.section is section and s.type == "STT_FUNC" and s.size)
    tracked = sorted({insns[h].writes for h in his if h in insns and insns[h].writes is not None})
    if not tracked:
        return {lo: frozenset() for lo in los}
    slot = {reg: i for i, reg in enumerate(tracked)}
    empty = tuple(frozenset() for _ in tracked)
    state_in: dict[int, tuple] = {}
    entries = {0} | {s.value for s in _section_symbols(section)}
    work: list[int] = []
    for e in sorted(entries):
        if e in insns:
            state_in[e] = empty
            work.append(e)
    while work:
        off = work.pop()
        it = insns[off]
        st = state_in[off]
        if it.writes is not None and it.writes in slot:
            new = list(st)
            if it.hi_def:
                new[slot[it.writes]] = frozenset({off})
            elif it.copy_from is not None and it.copy_from in slot:
                new[slot[it.writes]] = st[slot[it.copy_from]]
            else:
                new[slot[it.writes]] = frozenset()
            out = tuple(new)
        else:
            out = st
        succ = list(it.targets)
        if it.falls and off + it.size in insns:
            succ.append(off + it.size)
        if it.indirect:
            lo, hi = next(((a, b) for a, b in funcs if a <= off < b), (0, size))
            succ.extend(t for t in taken if lo <= t < hi)
        for s in succ:
            old = state_in.get(s)
            merged = out if old is None else tuple(a | b for a, b in zip(old, out))
            if merged != old:
                state_in[s] = merged
                work.append(s)
    result: dict[int, frozenset[int]] = {}
    for lo in los:
        it = insns.get(lo)
        st = state_in.get(lo)
        if it is None or st is None or it.base not in slot:
            result[lo] = frozenset()
        else:
            result[lo] = st[slot[it.base]]
    return result


def _section_symbols(section: InputSection) -> Iterable:
    """Symbols defined in ``section`` (function entries; extra entries only add candidates)."""
    return [s for s in section.obj.symbols if s.section is section and s.type != "STT_SECTION"]
