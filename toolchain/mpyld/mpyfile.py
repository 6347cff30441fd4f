"""The .mpy container (version 6.3) for one native raw code: writer and reader.

Layout (facts §1): header ``M 6 (arch<<2|3) 31``, qstr table (entry 0 is the
file name), no constant objects, one viper raw code = text, scope flags,
optional rodata/bss sizes, rodata bytes, relocation stream ended by 0xFF.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .arches import MPY_ARCH_NAMES
from .errors import LinkError

MPY_VERSION = 6
MPY_SUB_VERSION = 3
SMALL_INT_BITS = 31
SCOPE_VIPERRELOC = 0x10
SCOPE_VIPERRODATA = 0x20
SCOPE_VIPERBSS = 0x40
KIND_NATIVE_VIPER = 4
N_FUN_TABLE_SLOTS = 87

# mp_fun_table slot names (index = slot), for the inspector.
FUN_TABLE_SLOTS: tuple[str, ...] = (
    "const_none", "const_false", "const_true", "native_from_obj", "native_to_obj", "swap_globals",
    "load_name", "load_global", "load_build_class", "load_attr", "load_method", "load_super_method",
    "store_name", "store_global", "store_attr", "obj_subscr", "obj_is_true", "unary_op", "binary_op",
    "new_tuple", "new_list", "new_dict", "new_set", "set_store", "list_append", "dict_store",
    "make_function_from_proto_fun", "call_function_n_kw", "call_method_n_kw", "call_method_n_kw_var",
    "getiter", "iternext", "nlr_push", "nlr_pop", "raise", "import_name", "import_from", "import_all",
    "new_slice", "unpack_sequence", "unpack_ex", "delete_name", "delete_global", "new_closure",
    "arg_check_num_sig", "setup_code_state_native", "small_int_floor_divide", "small_int_modulo",
    "yield_from", "setjmp_", "memset_", "memmove_", "realloc_", "printf_", "vprintf_", "raise_msg",
    "obj_get_type", "obj_new_str", "obj_new_bytes", "obj_new_bytearray_by_ref", "obj_new_float_from_f",
    "obj_new_float_from_d", "obj_get_float_to_f", "obj_get_float_to_d", "load_method_maybe",
    "get_buffer", "get_stream_raise", "arg_parse_all", "arg_parse_all_kw_array", "binary_get_size",
    "binary_get_val_array", "binary_set_val_array", "plat_print", "type_type", "type_str", "type_list",
    "type_dict", "type_fun_builtin_0", "type_fun_builtin_1", "type_fun_builtin_2", "type_fun_builtin_3",
    "type_fun_builtin_var", "type_Exception", "stream_read_obj", "stream_readinto_obj",
    "stream_unbuffered_readline_obj", "stream_write_obj",
)
assert len(FUN_TABLE_SLOTS) == N_FUN_TABLE_SLOTS


def kind_name(kind: int) -> str:
    if kind >= 9:
        slot = kind - 9
        return f"slot {slot} ({FUN_TABLE_SLOTS[slot]})" if slot < N_FUN_TABLE_SLOTS else f"slot {slot} (unknown)"
    return {0: "text", 1: "rodata", 2: "bss", 6: "qstr_table", 7: "obj_table", 8: "mp_fun_table"}.get(kind, f"kind {kind}")


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
    kind: int  # destination kind (arch.KIND_*)


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
        if r.kind <= 2:
            while (i + n < len(items) and items[i + n].blob == r.blob and items[i + n].kind == r.kind
                   and items[i + n].offset == r.offset + n * word):
                n += 1
        has_loc = prev_end != (r.blob, r.offset)
        if r.kind <= 2:
            k = (r.kind << 1) | (1 if n > 1 else 0)
        else:
            k = r.kind
        op = (k << 1) | (1 if has_loc else 0)
        if op >= 0xFF:
            raise LinkError(f"internal: relocation kind {r.kind} cannot be encoded")
        out.append(op)
        if has_loc:
            out += vuint(((r.offset // word) << 1) | order[r.blob])
        if r.kind <= 2 and n > 1:
            out += vuint(n)
        prev_end = (r.blob, r.offset + n * word)
        i += n
    out.append(0xFF)
    return bytes(out)


def write_mpy(img: MpyImage) -> bytes:
    out = bytearray(b"M")
    out += bytes([MPY_VERSION, (img.arch << 2) | MPY_SUB_VERSION, SMALL_INT_BITS])
    out += vuint(len(img.qstrs)) + vuint(0)
    for q in img.qstrs:
        b = q.encode("utf-8")
        out += vuint(len(b) << 1) + b + b"\0"
    out += vuint((len(img.text) << 3) | (KIND_NATIVE_VIPER - 2))
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
    arch = (feat >> 2) & 0xF
    sub = feat & 3
    arch_flags = r.vuint() if feat & 0x40 else None
    if arch == 0:
        raise LinkError("not a native .mpy (arch is 'none': bytecode only)")
    if sub != MPY_SUB_VERSION:
        raise LinkError(f"native .mpy with sub-version {sub} (expected {MPY_SUB_VERSION})")
    word = 8 if MPY_ARCH_NAMES.get(arch) in ("x64", "rv64imc") else 4
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
    if n_obj:
        raise LinkError(f"unsupported: {n_obj} constant objects (native modules have none)")
    kind_len = r.vuint()
    kind = (kind_len & 3) + 2
    if kind != KIND_NATIVE_VIPER or kind_len & 4:
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
            if op == 0xFF:
                break
            if op & 1:
                a = r.vuint()
                loc = ("rodata" if a & 1 else "text", (a >> 1) * word)
            if loc is None:
                raise LinkError("corrupt relocation stream: entry without a location")
            k = op >> 1
            n = 1
            if k <= 5:
                if k & 1:
                    n = r.vuint()
                dest = k >> 1
                if dest > 2:
                    raise LinkError(f"corrupt relocation stream: destination {dest}")
            else:
                dest = k
                if k in (3, 4, 5) or k - 9 >= N_FUN_TABLE_SLOTS:
                    raise LinkError(f"relocation to unknown destination kind {k}")
            for _ in range(n):
                blob, off = loc
                limit = text_size if blob == "text" else rodata_size
                if off + word > limit:
                    raise LinkError(f"relocation outside {blob} (offset {off:#x}, size {limit:#x})")
                relocs.append(LoaderReloc(blob, off, dest))
                loc = (blob, off + word)
    if r.pos != len(data):
        raise LinkError(f"{len(data) - r.pos} trailing bytes after the native code (merged or corrupt file)")
    return MpyInfo(version, sub, arch, MPY_ARCH_NAMES.get(arch, f"unknown({arch})"), arch_flags, sib,
                   qstrs, statics, n_obj, text_size, scope, rodata_size, bss_size, relocs, word, text, rodata)
