"""ABI facts of MicroPython native modules (.mpy version 6.3): the one place that the linker, the
inspector, the test emulators, tools/board.py and the tests take these numbers from.

Where each fact comes from (read in MicroPython v1.28.0; the same in 1.23 ... 1.29):

* py/persistentcode.h -- .mpy version and sub-version, the MP_NATIVE_ARCH_* numbers, the
  header's feature byte (arch number shifted left by 2, sub-version in bits 0..1, bit 6 set when
  arch flags follow);
* py/persistentcode.c -- the header checks (byte 3 may not exceed the firmware's small-int bits)
  and the native relocation loop: what each destination kind of the relocation stream means;
* py/nativeglue.h -- the order of the members of mp_fun_table_t and the MP_NATIVE_TYPE_* codes
  of its native_from_obj/native_to_obj slots;
* py/runtime0.h, py/emitglue.h -- the viper scope flags and the raw-code kind of native code;
* tools/mpy_ld.py -- which firmware objects a module reaches through the value of a table slot
  (the types and stream objects at the end of the table) and the names of the qstr/object tables.

The project's own ABI header, toolchain/include/py/dynruntime.h, is the authority for the slot
order that modules are compiled against; tests_host/test_toolchain_abi.py checks that the slot numbers in
its comments, its MP_NATIVE_TYPE_* values and this file agree.
"""
from __future__ import annotations

# ---------------------------------------------------------------- file header
MPY_VERSION = 6
MPY_SUB_VERSION = 3
# Header byte 3.  The loader refuses a file whose value exceeds the firmware's own small-int width,
# so 31 (the smallest width of any port) loads everywhere.
SMALL_INT_BITS = 31
FEATURE_ARCH_FLAGS = 0x40  # feature-byte bit: an arch-flags number follows (never written by mpyld)

# MP_NATIVE_ARCH_* numbers: the arch field of an .mpy header and of sys.implementation._mpy.
ARCH_CODES: dict[str, int] = {
    "none": 0, "x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6, "armv7emsp": 7,
    "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11, "rv64imc": 12, "debug": 13,
}
ARCH_NAMES: dict[int, str] = {code: name for name, code in ARCH_CODES.items()}
WORD_SIZE_8 = frozenset({"x64", "rv64imc"})  # arches whose machine word (and relocated word) is 8 bytes
# Thumb firmware also loads modules of any lower Thumb arch from armv6m up (MPY_FEATURE_ARCH_TEST).
THUMB_ARCHES = range(ARCH_CODES["armv6m"], ARCH_CODES["armv7emdp"] + 1)


def word_size(arch_code: int) -> int:
    """Bytes per relocated word for an MP_NATIVE_ARCH_* number."""
    return 8 if ARCH_NAMES.get(arch_code) in WORD_SIZE_8 else 4


def feature_byte(arch_code: int) -> int:
    """Header byte 2 of a native .mpy for this arch (no arch flags)."""
    return (arch_code << 2) | MPY_SUB_VERSION


def split_feature_byte(feat: int) -> tuple[int, int]:
    """Header byte 2 (or bits 8..15 of sys.implementation._mpy) -> (arch number, sub-version)."""
    return (feat >> 2) & 0xF, feat & 3


# ---------------------------------------------------------------- the one raw code of a module
RAW_CODE_NATIVE_VIPER = 4  # MP_CODE_NATIVE_VIPER: a native module is one viper raw code
SCOPE_VIPERRELOC = 0x10  # a relocation stream follows the rodata
SCOPE_VIPERRODATA = 0x20  # a rodata size follows the scope flags
SCOPE_VIPERBSS = 0x40  # a bss size follows the scope flags

# ---------------------------------------------------------------- loader relocation destinations
# A relocated word gets the run-time address of its destination added.  Kinds 0..2 are the module's
# own blocks (the stream may encode runs of them); 3..5 do not exist; from KIND_SLOT0 on, the
# destination is the *value* of mp_fun_table slot (kind - KIND_SLOT0).
KIND_TEXT = 0
KIND_RODATA = 1
KIND_BSS = 2
KIND_QSTR_TABLE = 6
KIND_OBJ_TABLE = 7
KIND_FUN_TABLE = 8
KIND_SLOT0 = 9
RUN_KINDS_MAX = KIND_BSS  # kinds up to this one may be encoded as runs of consecutive words
BLOB_KINDS: dict[str, int] = {"text": KIND_TEXT, "rodata": KIND_RODATA, "bss": KIND_BSS}
KIND_NAMES: dict[int, str] = {KIND_TEXT: "text", KIND_RODATA: "rodata", KIND_BSS: "bss",
                              KIND_QSTR_TABLE: "qstr_table", KIND_OBJ_TABLE: "obj_table",
                              KIND_FUN_TABLE: "mp_fun_table"}
RELOC_END = 0xFF  # ends the relocation stream

# ---------------------------------------------------------------- mp_fun_table
# Member names of mp_fun_table_t in order: the index is the slot number.
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
N_FUN_TABLE_SLOTS = len(FUN_TABLE_SLOTS)  # 87
SLOT: dict[str, int] = {name: i for i, name in enumerate(FUN_TABLE_SLOTS)}

# Firmware objects (types, stream method objects) whose address is the value of a table slot: the
# linker resolves the symbol mp_<member name> to relocation kind KIND_SLOT0 + slot.
SLOT_SYMBOLS: dict[str, int] = {"mp_" + name: i for i, name in enumerate(FUN_TABLE_SLOTS) if i >= SLOT["type_type"]}
# C library functions the firmware exports through the table (used when a module lacks them).
STUB_SYMBOLS: dict[str, int] = {"memset": SLOT["memset_"], "memcpy": SLOT["memmove_"], "memmove": SLOT["memmove_"]}

# MP_NATIVE_TYPE_* codes: the type argument of native_from_obj / native_to_obj.
NATIVE_TYPES: dict[str, int] = {"obj": 0, "bool": 1, "int": 2, "uint": 3, "ptr": 4, "ptr8": 5, "ptr16": 6,
                                "ptr32": 7, "qstr": 8}

# ---------------------------------------------------------------- the module's tables
# The loader gives each module a qstr table (uint16 run-time qstr numbers; entry 0 is the .mpy's
# source file name, then the qstrs in file order) and an object table (constant objects: native
# modules have none).  Code reaches them, and mp_fun_table itself, through these symbols.
QSTR_TABLE_SYMBOL = "mp_native_qstr_table"
OBJ_TABLE_SYMBOL = "mp_native_obj_table"
FUN_TABLE_SYMBOL = "mp_fun_table"
TABLE_SYMBOLS: dict[str, int] = {FUN_TABLE_SYMBOL: KIND_FUN_TABLE, QSTR_TABLE_SYMBOL: KIND_QSTR_TABLE,
                                 OBJ_TABLE_SYMBOL: KIND_OBJ_TABLE}
QSTR_SOURCE_NAME = 0  # qstr table index of the file name
N_STATIC_QSTRS = 165  # firmware qstrs 1..165 have fixed numbers (mpyld.qstrs.STATIC_QSTRS)


def slot_kind(slot: int) -> int:
    """Relocation kind whose destination is the value of mp_fun_table slot ``slot``."""
    return KIND_SLOT0 + slot


def kind_name(kind: int) -> str:
    """Readable name of a loader relocation kind, e.g. 'bss' or 'slot 78 (type_fun_builtin_1)'."""
    if kind >= KIND_SLOT0:
        slot = kind - KIND_SLOT0
        return f"slot {slot} ({FUN_TABLE_SLOTS[slot]})" if slot < N_FUN_TABLE_SLOTS else f"slot {slot} (unknown)"
    return KIND_NAMES.get(kind, f"kind {kind}")
