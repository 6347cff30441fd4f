"""The .mpy container (version 6.3) for one native raw code: writer and reader.

Layout: header ``M 6 (arch<<2|3) 31``, qstr table (entry 0 is the file name),
no constant objects, one viper raw code = text, scope flags, optional
rodata/bss sizes, rodata bytes, relocation stream ended by 0xFF.  The numbers
are in ``abi.py``, with where MicroPython defines them.  The reader also takes a
module merged with Python parts (``merge.py``): a top-level bytecode raw code whose
first child is the native one; it describes the native part and counts the others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .abi import (ARCH_NAMES, FEATURE_ARCH_FLAGS, KIND_SLOT0, MPY_SUB_VERSION, MPY_VERSION,
                  N_FUN_TABLE_SLOTS, RAW_CODE_NATIVE_VIPER, RELOC_END, RUN_KINDS_MAX, SCOPE_VIPERBSS, SCOPE_VIPERRELOC,
                  SCOPE_VIPERRODATA, SMALL_INT_BITS, feature_byte, split_feature_byte, word_size)
from .errors import LinkError


def vuint(n: int) -> bytes:
    """MicroPython's variable-length uint: 7 bits per byte, most significant group first."""
    if n < 0:
        raise ValueError("vuint must be >= 0")
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


@dataclass
class LoaderReloc:
    blob: str  # "text" or "rodata": where the word is
    offset: int  # byte offset of the word (multiple of the word size)
    kind: int  # destination kind (abi.KIND_*)


@dataclass
class MpyImage:
    arch: int
    word_size: int
    qstrs: list[str]  # entry 0 = file name
    text: bytes
    rodata: bytes
    bss_size: int
    relocs: list[LoaderReloc] = field(default_factory=list)


def encode_relocs(relocs: list[LoaderReloc], word: int) -> bytes:
    """Relocation stream: sorted by location, runs of same-kind words merged."""
    out = bytearray()
    order = {"text": 0, "rodata": 1}
    items = sorted(relocs, key=lambda r: (order[r.blob], r.offset))
    prev_end: Optional[tuple[str, int]] = None
    i = 0
    while i < len(items):
        r = items[i]
        if r.offset % word:
            raise LinkError(f"internal: unaligned loader relocation at {r.blob}+{r.offset:#x}")
        n = 1
        if r.kind <= RUN_KINDS_MAX:
            while (i + n < len(items) and items[i + n].blob == r.blob and items[i + n].kind == r.kind
                   and items[i + n].offset == r.offset + n * word):
                n += 1
        has_loc = prev_end != (r.blob, r.offset)
        if r.kind <= RUN_KINDS_MAX:
            k = (r.kind << 1) | (1 if n > 1 else 0)
        else:
            k = r.kind
        op = (k << 1) | (1 if has_loc else 0)
        if op >= RELOC_END:
            raise LinkError(f"internal: relocation kind {r.kind} cannot be encoded")
        out.append(op)
        if has_loc:
            out += vuint(((r.offset // word) << 1) | order[r.blob])
        if r.kind <= RUN_KINDS_MAX and n > 1:
            out += vuint(n)
        prev_end = (r.blob, r.offset + n * word)
        i += n
    out.append(RELOC_END)
    return bytes(out)


def write_mpy(img: MpyImage) -> bytes:
    out = bytearray(b"M")
    out += bytes([MPY_VERSION, feature_byte(img.arch), SMALL_INT_BITS])
    out += vuint(len(img.qstrs)) + vuint(0)
    for q in img.qstrs:
        b = q.encode("utf-8")
        out += vuint(len(b) << 1) + b + b"\0"
    out += vuint((len(img.text) << 3) | (RAW_CODE_NATIVE_VIPER - 2))
    out += img.text
    flags = SCOPE_VIPERRELOC | (SCOPE_VIPERRODATA if img.rodata else 0) | (SCOPE_VIPERBSS if img.bss_size else 0)
    out += vuint(flags)
    if img.rodata:
        out += vuint(len(img.rodata))
    if img.bss_size:
        out += vuint(img.bss_size)
    out += img.rodata
    out += encode_relocs(img.relocs, img.word_size)
    return bytes(out)


# ---------------------------------------------------------------------------
# Reader (inspector)


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise LinkError(f"truncated .mpy file (needed a byte at offset {self.pos})")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def vuint(self) -> int:
        n = 0
        for _ in range(10):
            b = self.byte()
            n = (n << 7) | (b & 0x7F)
            if not b & 0x80:
                return n
        raise LinkError(f"corrupt .mpy file: overlong vuint before offset {self.pos}")

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise LinkError(f"truncated .mpy file (needed {n} bytes at offset {self.pos})")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b


# Constant object types in the object table (py/persistentcode.h MP_PERSISTENT_OBJ_*): 0 the
# function table, 1 None, 2 False, 3 True, 4 Ellipsis (no data); 5 str, 6 bytes (length, data,
# NUL); 7 int, 8 float, 9 complex (length, text); 10 tuple (length, then that many objects).
OBJ_STR, OBJ_BYTES, OBJ_TUPLE = 5, 6, 10


def skip_obj(r: _Reader) -> None:
    """Move ``r`` past one constant object of an object table."""
    t = r.byte()
    if t <= 4:
        return
    n = r.vuint()
    if t == OBJ_TUPLE:
        for _ in range(n):
            skip_obj(r)
        return
    if t > OBJ_TUPLE:
        raise LinkError(f"corrupt .mpy file: unknown constant object type {t}")
    r.take(n)
    if t in (OBJ_STR, OBJ_BYTES):
        r.byte()  # NUL terminator


@dataclass
class MpyInfo:
    version: int
    sub_version: int
    arch: int
    arch_name: str
    arch_flags: Optional[int]
    small_int_bits: int
    qstrs: list[str]
    static_qstrs: list[int]
    n_obj: int
    text_size: int
    scope_flags: int
    rodata_size: int
    bss_size: int
    relocs: list[LoaderReloc]
    word_size: int
    text: bytes = b""
    rodata: bytes = b""
    py_parts: int = 0  # merged file: raw codes after the native one (the .py parts)


def read_mpy(data: bytes) -> MpyInfo:
    """Parse and validate a native .mpy (raises LinkError on anything malformed)."""
    r = _Reader(data)
    if r.take(1) != b"M":
        raise LinkError("not an .mpy file (first byte is not 'M')")
    version = r.byte()
    feat = r.byte()
    sib = r.byte()
    if version != MPY_VERSION:
        raise LinkError(f"unsupported .mpy version {version} (expected {MPY_VERSION})")
    arch, sub = split_feature_byte(feat)
    arch_flags = r.vuint() if feat & FEATURE_ARCH_FLAGS else None
    if arch == 0:
        raise LinkError("not a native .mpy (arch is 'none': bytecode only)")
    if sub != MPY_SUB_VERSION:
        raise LinkError(f"native .mpy with sub-version {sub} (expected {MPY_SUB_VERSION})")
    word = word_size(arch)
    n_qstr = r.vuint()
    n_obj = r.vuint()
    qstrs: list[str] = []
    statics: list[int] = []
    for _ in range(n_qstr):
        ln = r.vuint()
        if ln & 1:
            statics.append(ln >> 1)
            qstrs.append(f"<static {ln >> 1}>")
        else:
            s = r.take(ln >> 1)
            if r.byte() != 0:
                raise LinkError("corrupt .mpy file: qstr not NUL-terminated")
            qstrs.append(s.decode("utf-8", "replace"))
    for _ in range(n_obj):
        skip_obj(r)
    kind_len = r.vuint()
    kind = (kind_len & 3) + 2
    py_parts = 0
    if kind == 2 and kind_len & 4:  # merged: top-level bytecode; children: native, then .py parts
        r.take(kind_len >> 3)
        py_parts = r.vuint() - 1
        kind_len = r.vuint()
        kind = (kind_len & 3) + 2
    elif n_obj:
        raise LinkError(f"unsupported: {n_obj} constant objects (native modules have none)")
    if kind != RAW_CODE_NATIVE_VIPER or kind_len & 4:
        raise LinkError(f"unsupported raw code (kind {kind}, children {bool(kind_len & 4)}): "
                        f"not a single-raw-code native module")
    text_size = kind_len >> 3
    text = r.take(text_size)
    scope = r.vuint()
    rodata_size = r.vuint() if scope & SCOPE_VIPERRODATA else 0
    bss_size = r.vuint() if scope & SCOPE_VIPERBSS else 0
    rodata = r.take(rodata_size)
    relocs: list[LoaderReloc] = []
    if scope & SCOPE_VIPERRELOC:
        loc: Optional[tuple[str, int]] = None
        while True:
            op = r.byte()
            if op == RELOC_END:
                break
            if op & 1:
                a = r.vuint()
                loc = ("rodata" if a & 1 else "text", (a >> 1) * word)
            if loc is None:
                raise LinkError("corrupt relocation stream: entry without a location")
            k = op >> 1
            n = 1
            if k >> 1 <= RUN_KINDS_MAX:  # a block kind; bit 0: a run length follows
                if k & 1:
                    n = r.vuint()
                dest = k >> 1
                if dest > RUN_KINDS_MAX:
                    raise LinkError(f"corrupt relocation stream: destination {dest}")
            else:
                dest = k
                if k - KIND_SLOT0 >= N_FUN_TABLE_SLOTS:
                    raise LinkError(f"relocation to unknown destination kind {k}")
            for _ in range(n):
                blob, off = loc
                limit = text_size if blob == "text" else rodata_size
                if off + word > limit:
                    raise LinkError(f"relocation outside {blob} (offset {off:#x}, size {limit:#x})")
                relocs.append(LoaderReloc(blob, off, dest))
                loc = (blob, off + word)
    if r.pos != len(data) and not py_parts:
        raise LinkError(f"{len(data) - r.pos} trailing bytes after the native code (corrupt file)")
    return MpyInfo(version, sub, arch, ARCH_NAMES.get(arch, f"unknown({arch})"), arch_flags, sib,
                   qstrs, statics, n_obj, text_size, scope, rodata_size, bss_size, relocs, word, text, rodata,
                   py_parts)
