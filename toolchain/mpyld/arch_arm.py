"""ARM Thumb (EM_ARM, REL: addends live in the patched bytes): armv6m, armv7m, armv7emsp.

Thumb function symbols carry bit 0 in their value; every stored code pointer
keeps it (interworking), branch offsets ignore it.
"""
from __future__ import annotations

import struct

from .abi import SLOT
from .arch import Arch, LinkContext
from .errors import LinkError
from .linktypes import Reloc

R_ARM_NONE = 0
R_ARM_ABS32 = 2
R_ARM_REL32 = 3
R_ARM_THM_CALL = 10
R_ARM_BASE_PREL = 25
R_ARM_GOT_BREL = 26
R_ARM_THM_JUMP24 = 30
R_ARM_TARGET1 = 38
R_ARM_V4BX = 40
R_ARM_GOT_PREL = 96
R_ARM_THM_JUMP11 = 102
R_ARM_THM_JUMP8 = 103

_NAMES = {0: "R_ARM_NONE", 2: "R_ARM_ABS32", 3: "R_ARM_REL32", 10: "R_ARM_THM_CALL", 25: "R_ARM_BASE_PREL",
          26: "R_ARM_GOT_BREL", 30: "R_ARM_THM_JUMP24", 38: "R_ARM_TARGET1", 40: "R_ARM_V4BX",
          96: "R_ARM_GOT_PREL", 102: "R_ARM_THM_JUMP11", 103: "R_ARM_THM_JUMP8"}
_OTHER = {1: "R_ARM_PC24", 5: "R_ARM_ABS16", 8: "R_ARM_ABS8", 11: "R_ARM_THM_PC8", 28: "R_ARM_CALL",
          29: "R_ARM_JUMP24", 42: "R_ARM_PREL31", 43: "R_ARM_MOVW_ABS_NC", 44: "R_ARM_MOVT_ABS",
          47: "R_ARM_THM_MOVW_ABS_NC", 48: "R_ARM_THM_MOVT_ABS", 51: "R_ARM_THM_JUMP19",
          104: "R_ARM_TLS_GD32", 107: "R_ARM_TLS_IE32", 108: "R_ARM_TLS_LE32"}


def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v & (1 << (bits - 1)) else v


def decode_bl(hw1: int, hw2: int) -> int:
    """Byte offset encoded in a Thumb-2 BL / B.W (T4) pair."""
    s = (hw1 >> 10) & 1
    j1 = (hw2 >> 13) & 1
    j2 = (hw2 >> 11) & 1
    i1 = 1 - (j1 ^ s)
    i2 = 1 - (j2 ^ s)
    imm = (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3FF) << 12) | ((hw2 & 0x7FF) << 1)
    return _sext(imm, 25)


def encode_bl(hw1: int, hw2: int, offset: int) -> tuple[int, int]:
    """Re-encode a BL / B.W (T4) pair with a new byte offset (keeps the opcode bits)."""
    if offset & 1 or not -(1 << 24) <= offset < (1 << 24):
        raise ValueError(f"branch offset {offset} out of range")
    v = offset & ((1 << 25) - 1)
    s = (v >> 24) & 1
    i1 = (v >> 23) & 1
    i2 = (v >> 22) & 1
    j1 = (1 - i1) ^ s
    j2 = (1 - i2) ^ s
    hw1 = (hw1 & 0xF800) | (s << 10) | ((v >> 12) & 0x3FF)
    hw2 = (hw2 & 0xD000) | (j1 << 13) | (j2 << 11) | ((v >> 1) & 0x7FF)
    return hw1, hw2


class _ArchThumb(Arch):
    e_machine = "EM_ARM"
    elfclass = 32
    word_size = 4
    apt_package = "gcc-arm-none-eabi"
    reloc_types = {k: _NAMES[k] for k in (R_ARM_ABS32, R_ARM_REL32, R_ARM_THM_CALL, R_ARM_BASE_PREL,
                                           R_ARM_GOT_BREL, R_ARM_THM_JUMP24, R_ARM_TARGET1, R_ARM_GOT_PREL,
                                           R_ARM_THM_JUMP11, R_ARM_THM_JUMP8)}
    reloc_names = {**_NAMES, **_OTHER}
    got_types = frozenset({R_ARM_GOT_BREL, R_ARM_GOT_PREL})
    ignored_types = frozenset({R_ARM_NONE, R_ARM_V4BX})
    builtin_symbols = frozenset({"_GLOBAL_OFFSET_TABLE_"})
    stub_align = 4
    writable_text = True  # text is on the GC heap on every ARM port

    def extra_stub(self, name: str):
        """ARM run-time ABI memory helpers (clang emits them) -> memset/memmove slots."""
        base = name.rstrip("48")
        if base in ("__aeabi_memcpy", "__aeabi_memmove"):
            return struct.pack("<HH", 0x4B00, 0x4718) + bytes(4), 4, SLOT["memmove_"]  # ldr r3,[pc]; bx r3
        if base == "__aeabi_memset":  # (dest, n, c) -> memset(dest, c, n)
            code = struct.pack("<HHHHHH", 0x460B, 0x4611, 0x461A, 0x4B01, 0x4718, 0x46C0)
            return code + bytes(4), 12, SLOT["memset_"]  # mov r3,r1; mov r1,r2; mov r2,r3; ldr r3,[pc,#4]; bx r3; nop
        if base == "__aeabi_memclr":  # (dest, n) -> memset(dest, 0, n)
            return struct.pack("<HHHH", 0x460A, 0x2100, 0x4B00, 0x4718) + bytes(4), 8, SLOT["memset_"]
        return None

    def value_stub(self) -> tuple[bytes, int]:
        # ldr r0, [pc, #0]; bx lr; .word <address>
        return struct.pack("<HH", 0x4800, 0x4770) + bytes(4), 4

    def stub(self, slot: int) -> tuple[bytes, int]:
        # ldr r3, [pc, #0]; bx r3; .word <value of slot> (a Thumb address, bit 0 set)
        return struct.pack("<HH", 0x4B00, 0x4718) + bytes(4), 4

    def apply(self, link: LinkContext, rel: Reloc) -> None:
        blob, P = link.P(rel)
        t = rel.type
        if t in (R_ARM_ABS32, R_ARM_TARGET1):
            link.abs_word(rel, _sext(link.read_u32(blob, P), 32))
        elif t == R_ARM_REL32:
            tgt = link.target(rel.symbol)
            link.require_local(rel, tgt)
            link.write_u32(blob, P, tgt.offset + _sext(link.read_u32(blob, P), 32) - P)
        elif t == R_ARM_BASE_PREL:
            if rel.symbol.name != "_GLOBAL_OFFSET_TABLE_":
                link.unsupported(rel, "only against _GLOBAL_OFFSET_TABLE_")
            link.write_u32(blob, P, link.got_base + _sext(link.read_u32(blob, P), 32) - P)
        elif t == R_ARM_GOT_BREL:
            link.write_u32(blob, P, link.got_offset(rel.symbol) - link.got_base + _sext(link.read_u32(blob, P), 32))
        elif t == R_ARM_GOT_PREL:
            link.write_u32(blob, P, link.got_offset(rel.symbol) + _sext(link.read_u32(blob, P), 32) - P)
        elif t in (R_ARM_THM_CALL, R_ARM_THM_JUMP24):
            tgt = link.target(rel.symbol)
            link.require_local(rel, tgt)
            hw1, hw2 = link.read_u16(blob, P), link.read_u16(blob, P + 2)
            if t == R_ARM_THM_CALL and not (hw2 & 0x1000):
                link.unsupported(rel, "BLX to ARM-state code")
            off = (tgt.offset & ~1) + decode_bl(hw1, hw2) - P
            try:
                hw1, hw2 = encode_bl(hw1, hw2, off)
            except ValueError as exc:
                raise LinkError(f"{rel.obj}: {self.reloc_name(t)} to '{tgt.name}' out of range ({exc})") from exc
            link.write_u16(blob, P, hw1)
            link.write_u16(blob, P + 2, hw2)
        elif t in (R_ARM_THM_JUMP11, R_ARM_THM_JUMP8):
            tgt = link.target(rel.symbol)
            link.require_local(rel, tgt)
            hw = link.read_u16(blob, P)
            bits = 11 if t == R_ARM_THM_JUMP11 else 8
            off = (tgt.offset & ~1) + (_sext(hw, bits) << 1) - P
            if not -(1 << bits) <= off < (1 << bits):
                raise LinkError(f"{rel.obj}: {self.reloc_name(t)} to '{tgt.name}' out of range "
                                f"(offset {off}); compile with -ffunction-sections off or reorder code")
            link.write_u16(blob, P, (hw & ~((1 << bits) - 1)) | ((off >> 1) & ((1 << bits) - 1)))
        else:
            link.unsupported(rel)


class ArchArmv6m(_ArchThumb):
    """Cortex-M0/M0+: Thumb-1 only. Entry: push {r4,lr}; bl mpy_init; pop {r4,pc} (any distance)."""
    name = "armv6m"
    trampoline_size = 8

    def trampoline(self, entry: int) -> bytes:
        hw1, hw2 = encode_bl(0xF000, 0xF800, entry - (2 + 4))
        return struct.pack("<HHHH", 0xB510, hw1, hw2, 0xBD10)


class ArchArmv7m(_ArchThumb):
    """Cortex-M3: Thumb-2. Entry: b.w mpy_init (+-16 MiB)."""
    name = "armv7m"
    trampoline_size = 4

    def trampoline(self, entry: int) -> bytes:
        hw1, hw2 = encode_bl(0xF000, 0x9000, entry - 4)
        return struct.pack("<HH", hw1, hw2)


class ArchArmv7emsp(ArchArmv7m):
    """Cortex-M4F/M33 with single-precision FPU (hard-float code)."""
    name = "armv7emsp"
