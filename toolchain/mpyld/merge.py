"""One .mpy from a native module and the compiled Python parts of the same module (``mpyld merge``).

A module may be C plus Python: MicroPython's own kit compiles each ``.py`` source with mpy-cross and
merges the results with the linked native code into one file.  What such a file is, as
MicroPython's loader reads it (py/persistentcode.c, v1.23 ... v1.29):

* one header: the native module's (``M``, version 6, its arch and sub-version, small-int bits);
* one qstr table and one object table, the tables of the parts one after the other, the native
  part first (its code reaches its qstrs from table index 0, through the loader's relocations);
* a top-level bytecode function whose children are the parts, in order, and whose code makes and
  calls each child once: ``MAKE_FUNCTION i; CALL_FUNCTION 0; POP_TOP`` for every part, then
  ``return None``.  So on import the native part's ``mpy_init`` runs first, then the top-level code
  of each ``.py`` part in the order given, all with the module's globals: the Python code sees the
  names ``mpy_init`` stored and may wrap or replace them;
* the raw code of each part.  The native part is copied as it is.  A Python part's bytecode names
  qstrs and constant objects by their index in its own tables, so every such operand (qstr
  operands, ``LOAD_CONST_OBJ``, the function and argument names of each prelude) gets its part's
  table base added; operands are variable-length, so instructions can grow: jump offsets are
  re-encoded (a jump keeps its width unless it no longer fits) and the line-number table is
  re-encoded against the new offsets (tracebacks keep their line numbers; MicroPython's
  ``mpy-tool.py --merge`` drops that table).

Native code inside a Python part (``@micropython.native``/``viper``) would need its relocations
rebased too; it is refused with a clear error, as MicroPython's tool refuses it.

Bytecode facts used here (MicroPython py/bc0.h, py/bc.h, py/vm.c, py/emitbc.c): an opcode's
operand format is ``(0x000003a4 >> (2 * (op >> 4))) & 3`` (0 none, 1 qstr index, 2 var-uint,
3 jump offset); an extra byte follows when ``op & 0x9e == 0``; a jump offset is 1 byte (bit 7
clear) or 2 (``b0 & 0x7f | b1 << 7``), relative to the end of those bytes, signed (biased by 0x40 or
0x4000) for opcodes 0x40..0x44; the line table is a list of (bytecode skip, line skip) pairs,
``0LLBBBBB`` or ``1LLLBBBB LLLLLLLL``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from .abi import FEATURE_ARCH_FLAGS, MPY_VERSION, split_feature_byte
from .errors import LinkError
from .mpyfile import _Reader, skip_obj, vuint

FMT_BYTE, FMT_QSTR, FMT_VAR_UINT, FMT_OFFSET = 0, 1, 2, 3
BC_LOAD_CONST_OBJ = 0x23
BC_MAKE_FUNCTION, BC_CALL_FUNCTION, BC_POP_TOP = 0x32, 0x34, 0x59
BC_LOAD_CONST_NONE, BC_RETURN_VALUE = 0x51, 0x63
BC_SIGNED_JUMPS = range(0x40, 0x45)  # UNWIND_JUMP ... POP_JUMP_IF_FALSE
RAW_CODE_BYTECODE = 0  # kind field of a raw code header (MP_CODE_BYTECODE - MP_CODE_BYTECODE)


def _fmt(op: int) -> int:
    return (0x000003A4 >> (2 * (op >> 4))) & 3


@dataclass
class _Part:
    name: str
    arch: int
    feat: int
    small_int_bits: int
    arch_flags: Optional[int]
    n_qstr: int
    n_obj: int
    qstr_bytes: bytes
    obj_bytes: bytes
    raw: bytes  # the top-level raw code (to the end of the file)


def _read(name: str, data: bytes) -> _Part:
    r = _Reader(data)
    if r.take(1) != b"M" or r.byte() != MPY_VERSION:
        raise LinkError(f"{name}: not a version {MPY_VERSION} .mpy file")
    feat = r.byte()
    sib = r.byte()
    arch, _ = split_feature_byte(feat)
    arch_flags = r.vuint() if feat & FEATURE_ARCH_FLAGS else None
    n_qstr = r.vuint()
    n_obj = r.vuint()
    start = r.pos
    for _ in range(n_qstr):
        ln = r.vuint()
        if not ln & 1:
            r.take((ln >> 1) + 1)
    qpos = r.pos
    for _ in range(n_obj):
        skip_obj(r)
    return _Part(name, arch, feat, sib, arch_flags, n_qstr, n_obj, data[start:qpos], data[qpos:r.pos],
                 data[r.pos:])


def _vuint_at(b: bytes, pos: int) -> tuple[int, int]:
    """The var-uint at ``pos`` and the offset after it."""
    r = _Reader(b)
    r.pos = pos
    return r.vuint(), r.pos


class _Insn:
    __slots__ = ("old", "op", "kind", "raw", "arg", "target", "width", "extra", "new")

    def __init__(self, old: int, op: int):
        self.old = old  # offset in the input opcodes
        self.op = op
        self.kind = "raw"  # raw (copied), qstr/obj (operand rebased), jump (offset re-encoded)
        self.raw = b""
        self.arg = 0
        self.target = 0  # jump: old offset of the destination
        self.width = 1  # jump: bytes of the offset
        self.extra: Optional[int] = None
        self.new = old


def _decode(code: bytes) -> list[_Insn]:
    out = []
    i = 0
    n = len(code)
    while i < n:
        op = code[i]
        it = _Insn(i, op)
        j = i + 1
        f = _fmt(op)
        if f in (FMT_QSTR, FMT_VAR_UINT):
            arg, k = _vuint_at(code, j)
            if f == FMT_QSTR or op == BC_LOAD_CONST_OBJ:
                it.kind = "qstr" if f == FMT_QSTR else "obj"
                it.arg = arg
            j = k
        elif f == FMT_OFFSET:
            signed = op in BC_SIGNED_JUMPS
            if code[j] & 0x80:
                it.width = 2
                arg = (code[j] & 0x7F) | (code[j + 1] << 7)
                arg -= 0x4000 if signed else 0
            else:
                arg = code[j] - (0x40 if signed else 0)
            j += it.width
            it.kind = "jump"
            it.target = j + arg
        if (op & 0x9E) == 0:
            it.extra = code[j]
            j += 1
        if j > n:
            raise LinkError("truncated bytecode")
        it.raw = code[i:j]
        out.append(it)
        i = j
    return out


def _jump_bytes(it: _Insn, new_of: dict[int, int]) -> Optional[bytes]:
    """The offset bytes of a jump at its current width, or None if the offset does not fit it."""
    signed = it.op in BC_SIGNED_JUMPS
    off = new_of[it.target] - (it.new + 1 + it.width)
    if it.width == 1:
        v = off + 0x40 if signed else off
        return bytes([v]) if 0 <= v <= 0x7F else None
    v = off + 0x4000 if signed else off
    return bytes([0x80 | (v & 0x7F), v >> 7]) if 0 <= v <= 0x7FFF else None


def _encode(insns: list[_Insn], end_old: int, qbase: int, obase: int) -> tuple[bytes, dict[int, int]]:
    """Re-encode with rebased operands; returns the code and old offset -> new offset."""
    body: dict[int, bytes] = {}
    for it in insns:
        if it.kind in ("qstr", "obj"):
            body[it.old] = bytes([it.op]) + vuint(it.arg + (qbase if it.kind == "qstr" else obase)) + (
                bytes([it.extra]) if it.extra is not None else b"")
    for _ in range(100):
        pos = 0
        new_of: dict[int, int] = {}
        for it in insns:
            it.new = pos
            new_of[it.old] = pos
            if it.kind == "jump":
                pos += 1 + it.width + (it.extra is not None)
            else:
                pos += len(body.get(it.old, it.raw))
        new_of[end_old] = pos
        grew = False
        out = bytearray()
        for it in insns:
            if it.kind == "jump":
                if it.target not in new_of:
                    raise LinkError(f"bytecode jump at {it.old} to {it.target}: not an instruction")
                lab = _jump_bytes(it, new_of)
                if lab is None:
                    if it.width == 2:
                        raise LinkError("bytecode jump out of range after merging")
                    it.width = 2
                    grew = True
                    continue
                out += bytes([it.op]) + lab + (bytes([it.extra]) if it.extra is not None else b"")
            else:
                out += body.get(it.old, it.raw)
        if not grew:
            return bytes(out), new_of
    raise LinkError("internal: bytecode jump widths did not settle")


def _lines(info: bytes, new_of: dict[int, int]) -> bytes:
    """The line table re-encoded for the new bytecode offsets (same lines for every instruction)."""
    pairs = []
    i = 0
    while i < len(info):
        c = info[i]
        if c & 0x80:
            pairs.append((c & 0xF, ((c << 4) & 0x700) | info[i + 1]))
            i += 2
        else:
            pairs.append((c & 0x1F, c >> 5))
            i += 1
    out = bytearray()
    old = new = 0
    for b, ln in pairs:
        old += b
        nxt = new_of.get(old)
        if nxt is None:  # not an instruction start: keep the distance into the instruction
            start = max(o for o in new_of if o <= old)
            nxt = new_of[start] + (old - start)
        b, new = nxt - new, nxt
        limit = 0x1F if ln <= 3 else 0xF
        while b > limit:
            step = min(b, 0x1F)
            out.append(step)
            b -= step
        while True:
            if ln <= 3:
                out.append(b | (ln << 5))
                break
            step = min(ln, 0x7FF)
            out += bytes([0x80 | b | ((step >> 4) & 0x70), step & 0xFF])
            ln -= step
            b = 0
            if not ln:
                break
    return bytes(out)


def _rewrite_fun(fun: bytes, qbase: int, obase: int) -> bytes:
    """One bytecode function (prelude and opcodes) with its qstr/object indices rebased."""
    # prelude signature: first byte xSSSSEAA, then xFSSKAED while bit 7 is set
    z = fun[0]
    n_pos = z & 3
    n_kw = 0
    i = 1
    n = 0
    while z & 0x80:
        z = fun[i]
        n_pos |= (z & 0x4) << n
        n_kw |= ((z & 0x08) >> 3) << n
        i += 1
        n += 1
    sig = fun[:i]
    # prelude size: xIIIIIIC bytes
    n_info = n_cell = 0
    n = 0
    while True:
        z = fun[i]
        i += 1
        n_info |= ((z & 0x7E) >> 1) << (6 * n)
        n_cell |= (z & 1) << n
        if not z & 0x80:
            break
        n += 1
    info_start = i
    names = bytearray()
    for _ in range(1 + n_pos + n_kw):
        q, i = _vuint_at(fun, i)
        names += vuint(q + qbase)
    line_info = fun[i:info_start + n_info]
    cells = fun[info_start + n_info:info_start + n_info + n_cell]
    code = fun[info_start + n_info + n_cell:]
    insns = _decode(code)
    new_code, new_of = _encode(insns, len(code), qbase, obase)
    info = bytes(names) + _lines(line_info, new_of)
    size = bytearray()
    i_left, c_left = len(info), len(cells)
    while True:  # prelude size, encoded as MicroPython does: 6 bits of n_info and 1 of n_cell per byte
        z = (i_left & 0x3F) << 1 | (c_left & 1)
        i_left >>= 6
        c_left >>= 1
        if i_left or c_left:
            size.append(z | 0x80)
        else:
            size.append(z)
            break
    return bytes(sig) + bytes(size) + info + cells + new_code


def _rewrite_raw_code(r: _Reader, qbase: int, obase: int, where: str) -> bytes:
    kind_len = r.vuint()
    if kind_len & 3 != RAW_CODE_BYTECODE:
        raise LinkError(f"{where}: holds native code (@micropython.native or @micropython.viper), which a "
                        f".py part merged after the C part cannot have (its relocations would need rebasing); "
                        f"use plain Python there")
    fun = r.take(kind_len >> 3)
    new_fun = fun if qbase == 0 and obase == 0 else _rewrite_fun(fun, qbase, obase)
    out = bytearray(vuint(len(new_fun) << 3 | (kind_len & 4) | RAW_CODE_BYTECODE)) + new_fun
    if kind_len & 4:
        n = r.vuint()
        out += vuint(n)
        for _ in range(n):
            out += _rewrite_raw_code(r, qbase, obase, where)
    return bytes(out)


def merge(native: tuple[str, bytes], parts: Sequence[tuple[str, bytes]]) -> bytes:
    """``native`` (name, .mpy bytes from ``mpyld link``) followed by the ``parts`` (name, mpy-cross
    output): one .mpy that runs the native ``mpy_init`` and then each part's top-level code."""
    nat = _read(*native)
    if nat.arch == 0:
        raise LinkError(f"{native[0]}: not a native module")
    pys = [_read(name, data) for name, data in parts]
    for p in pys:
        if p.arch not in (0, nat.arch):
            raise LinkError(f"{p.name}: compiled for arch {p.arch}, the native part is arch {nat.arch}")
        if p.arch_flags:
            raise LinkError(f"{p.name}: has arch flags (RV32 extensions), which the native part does not")
    if not pys:
        return bytes(native[1])
    out = bytearray(b"M") + bytes([MPY_VERSION, nat.feat, max([nat.small_int_bits] + [p.small_int_bits for p in pys])])
    if nat.arch_flags is not None:
        out += vuint(nat.arch_flags)
    every = [nat, *pys]
    out += vuint(sum(p.n_qstr for p in every)) + vuint(sum(p.n_obj for p in every))
    for p in every:
        out += p.qstr_bytes
    for p in every:
        out += p.obj_bytes
    code = bytearray([0x00, 0x02, 0x00])  # signature (1 state, no args), size (n_info 1), name: qstr 0
    for i in range(len(every)):
        code += bytes([BC_MAKE_FUNCTION]) + vuint(i) + bytes([BC_CALL_FUNCTION, 0, BC_POP_TOP])
    code += bytes([BC_LOAD_CONST_NONE, BC_RETURN_VALUE])
    out += vuint(len(code) << 3 | 4 | RAW_CODE_BYTECODE) + code + vuint(len(every))
    out += nat.raw
    qbase, obase = nat.n_qstr, nat.n_obj
    for p in pys:
        r = _Reader(p.raw)
        out += _rewrite_raw_code(r, qbase, obase, p.name)
        if r.pos != len(p.raw):
            raise LinkError(f"{p.name}: {len(p.raw) - r.pos} bytes after its raw code (not one module?)")
        qbase += p.n_qstr
        obase += p.n_obj
    return bytes(out)
