"""toolchain/mpyld/abi.py, the one source of the native-module ABI numbers, against two references:
our ABI header (toolchain/include/py/dynruntime.h, the authority for the mp_fun_table order the modules
are compiled against) and MicroPython's own mpy-cross, which writes the .mpy header of every arch.
(The unix port's sys.implementation._mpy is checked against abi.py in test_tools_device.py.)"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import toolreg
from mpyld.abi import (ARCH_CODES, FUN_TABLE_SLOTS, MPY_VERSION, N_FUN_TABLE_SLOTS, NATIVE_TYPES, SLOT,
                       SLOT_SYMBOLS, SMALL_INT_BITS, STUB_SYMBOLS, feature_byte)

HEADER = Path(__file__).resolve().parents[1] / "toolchain" / "include" / "py" / "dynruntime.h"


def _fun_table_members(text: str) -> list[tuple[int, str]]:
    """(slot number in the member's comment, member name) for every member of mp_fun_table_t."""
    body = text.split("typedef struct _mp_fun_table_t {", 1)[1].split("} mp_fun_table_t;", 1)[0]
    out = []
    # a member: its declaration up to ';', then (other comments and) its number comment /* N */
    for m in re.finditer(r"([^;]*?);[^;]*?/\*\s*(\d+)\s*\*/", body):
        decl = m.group(1)
        name = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl) or re.search(r"(\w+)\s*$", decl)
        out.append((int(m.group(2)), name.group(1)))
    return out


def test_header_slot_comments_and_member_order_match_abi() -> None:
    members = _fun_table_members(HEADER.read_text())
    assert [n for n, _ in members] == list(range(len(members))), "slot comments are not 0, 1, 2, ..."
    assert [name for _, name in members] == list(FUN_TABLE_SLOTS)
    assert len(members) == N_FUN_TABLE_SLOTS


def test_header_prose_names_the_same_slots() -> None:
    """The slot numbers the header's comments quote are the ones abi.py has for those members."""
    text = HEADER.read_text()
    assert f"mp_fun_table: {N_FUN_TABLE_SLOTS} pointer-sized entries" in text
    assert f"slots {SLOT['native_from_obj']}/{SLOT['native_to_obj']}" in text  # native value kinds
    assert f"slots {SLOT['binary_get_val_array']}/{SLOT['binary_set_val_array']}" in text  # floats via memory
    assert f"(slot {SLOT['setjmp_']})" in text  # setjmp-based nlr
    lo, hi = min(SLOT_SYMBOLS.values()), max(SLOT_SYMBOLS.values())
    assert f"({lo}..{hi})" in text and hi == N_FUN_TABLE_SLOTS - 1
    assert f"slots {min(STUB_SYMBOLS.values())}/{max(STUB_SYMBOLS.values())}" in text  # memset / memcpy


def test_header_declares_the_firmware_objects_and_native_types_of_abi() -> None:
    text = HEADER.read_text()
    declared = re.findall(r"^extern const mp_obj_(?:type|fun_builtin_var)_t (mp_\w+);", text, re.M)
    assert declared == list(SLOT_SYMBOLS)
    types = {m.group(1).lower(): int(m.group(2), 0)
             for m in re.finditer(r"^#define MP_NATIVE_TYPE_(\w+) \((0x[0-9a-fA-F]+)\)", text, re.M)}
    assert types == NATIVE_TYPES


# mpy-cross's -march names; this build (1.29) refuses rv64imc, and "none" is no native arch.
MPY_CROSS_ARCHES = [a for a in ARCH_CODES if a not in ("none", "rv64imc")]


@pytest.mark.parametrize("arch", MPY_CROSS_ARCHES)
def test_mpy_cross_writes_the_header_abi_gives(arch: str, tmp_path: Path) -> None:
    """MicroPython's compiler emitting native code for `arch` writes M, version, arch << 2 | sub-version,
    small-int bits: the bytes abi.py (and so mpyld) writes for that arch."""
    src = tmp_path / "m.py"
    src.write_text("@micropython.native\ndef f(x):\n    return x\n")
    out = tmp_path / "m.mpy"
    r = subprocess.run([toolreg.which("mpy-cross"), f"-march={arch}", "-o", str(out), str(src)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == bytes([ord("M"), MPY_VERSION, feature_byte(ARCH_CODES[arch]), SMALL_INT_BITS])
