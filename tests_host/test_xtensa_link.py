"""Static verification of .mpy files built for xtensa (ESP8266) and xtensawin (ESP32).
(~700 lines: one decoder-driven check per relocation and literal-pool rule of the two ABIs.)

No board and no Xtensa emulator exist here, so the output is checked by decoding it:

* modules are built with the real make rules (toolchain/natmod.mk + arch/xtensa*.mk):
  the toolchain's test module, and a module of our own with switch tables, static
  const/bss data, pointer tables, float/int64 helpers and (in a second build)
  ``-fno-pic -ffunction-sections`` so that calls are direct CALLn across sections and
  every function has its own ``.literal.*`` section;
* the .mpy header, sizes and loader relocation stream are parsed;
* the loader is simulated (every relocation word += the base of its kind, with made-up
  firmware addresses) and then *every relocation of every input object* is re-resolved
  independently from the ELF symbols: each literal/data word must hold the address the
  compiler asked for, each L32R must load exactly the literal it loaded in the object,
  each CALL/J/branch must reach its ELF target;
* every function is decoded instruction by instruction: L32R targets are word aligned,
  behind the instruction, within 256 KiB and inside the literal/GOT area that precedes
  all code; the ABI of every call/return matches the flavour; apart from relocated
  fields the code bytes are the object's bytes;
* binutils' objdump decodes the linked text on its own and must find the same L32R
  targets.
"""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import toolreg
from mpyld.abi import (ARCH_CODES, KIND_BSS, KIND_FUN_TABLE, KIND_OBJ_TABLE, KIND_QSTR_TABLE, KIND_RODATA, KIND_SLOT0,
                       KIND_TEXT, MPY_VERSION, N_FUN_TABLE_SLOTS, SLOT_SYMBOLS, SMALL_INT_BITS, STUB_SYMBOLS,
                       TABLE_SYMBOLS, feature_byte)
from mpyld.arch_xtensa import (RETW, RETW_N, R_XTENSA_32, R_XTENSA_PLT, R_XTENSA_SLOT0_OP, call_target,
                               encode_callx, encode_entry, encode_l32r_imm, encode_movsp, insn_length, j_target,
                               l32r_target, rewrite_windowed_asm)
from mpyld.arches import get_arch
from mpyld.errors import LinkError
from mpyld.link import Linker
from mpyld.mpyfile import read_mpy, write_mpy

ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN = ROOT / "toolchain"

# Looked up in the tool registry: a missing tool fails collection with its install line.
GCC = toolreg.which("xtensa-lx106-elf-gcc")
OBJDUMP = toolreg.which("xtensa-lx106-elf-objdump")
MAKE = toolreg.which("make")


# Our own module: the constructs that stress Xtensa linking.
XTMOD_C = r"""
#include "py/dynruntime.h"
static const int16_t stab[8] = {5, -7, 11, 13, 99, 1234, -3, 8};
static const char *const names[3] = {"alpha", "beta", "gamma"};
int xt_counter;
static int xt_hidden;
static int pick(int i) {
    switch (i) {
    case 0: return 5; case 1: return 7; case 2: return 11; case 3: return 13;
    case 4: return 99; case 5: return 1234; case 6: return 77; case 7: return 78;
    case 8: return 1000; case 9: return -5; default: return 0;
    }
}
static int (*const ops[2])(int) = {pick, pick};
static mp_obj_t mix(mp_obj_t a_in, mp_obj_t b_in) {
    int a = mp_obj_get_int(a_in), b = mp_obj_get_int(b_in);
    float fa = (float)a, fb = (float)(b | 1);
    int64_t l = (int64_t)a * b + ((int64_t)a << 20) / (b | 1);
    xt_counter++;
    xt_hidden += 2;
    int r = stab[a & 7] + ops[b & 1](b) + (int)(fa / fb * 100.0f) + (int)(l % 1000) + a / (b | 1)
        + names[(unsigned)a % 3u][1] + (fa < fb);
    return mp_obj_new_int(r + xt_hidden + xt_counter);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mix_obj, mix);
static mp_obj_t fill(mp_obj_t n_in) {
    uint8_t buf[64];
    int n = mp_obj_get_int(n_in) & 63;
    memset(buf, n, sizeof buf);
    return mp_obj_new_int(buf[n] + buf[0]);
}
static MP_DEFINE_CONST_FUN_OBJ_1(fill_obj, fill);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_mix, MP_OBJ_FROM_PTR(&mix_obj));
    mp_store_global(MP_QSTR_fill, MP_OBJ_FROM_PTR(&fill_obj));
    /* Two strings in one section: literals at different offsets of the same target section. */
    mp_store_global(MP_QSTR_s1, mp_obj_new_str("first string", 12));
    mp_store_global(MP_QSTR_s2, mp_obj_new_str("second one", 10));
    MP_DYNRUNTIME_INIT_EXIT
}
"""

DOUBLE_C = r"""
#include "py/dynruntime.h"
static mp_obj_t twice(mp_obj_t x_in) {
    volatile double d = (double)mp_obj_get_int(x_in);
    return mp_obj_new_int((int)(d * 2.5));
}
static MP_DEFINE_CONST_FUN_OBJ_1(twice_obj, twice);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_twice, MP_OBJ_FROM_PTR(&twice_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""

MODULES = {  # name -> (sources relative to the build dir or repo, extra cflags)
    "testmod": ([str(TOOLCHAIN / "tests" / "testmod" / "testmod.c")], ""),
    "xtmod": (["src/xtmod.c"], ""),
    "xtcalls": (["src/xtcalls.c"], "-fno-pic -ffunction-sections"),
}
ARCHES = {arch: feature_byte(ARCH_CODES[arch]) for arch in ("xtensa", "xtensawin")}  # header byte 2

# Made-up run-time addresses for the loader simulation (ESP32-like memory map).
BASES = {KIND_TEXT: 0x40090000, KIND_RODATA: 0x3FFB1000, KIND_BSS: 0x3FFC2000,
         KIND_QSTR_TABLE: 0x3FFD3000, KIND_OBJ_TABLE: 0x3FFD4000, KIND_FUN_TABLE: 0x3F405000}


def slot_value(slot: int) -> int:
    return 0x400C0000 + 0x40 * slot


def kind_base(kind: int) -> int:
    return BASES[kind] if kind in BASES else slot_value(kind - KIND_SLOT0)


@dataclass
class Built:
    arch: str
    name: str
    mpy: Path
    objects: list[Path]
    libs: list[Path]
    qstrs: Path


def _make(build: Path, targets: list[str]) -> None:
    mk = build / "Makefile"
    lines = [f"PYTHON := {sys.executable}", f"include {TOOLCHAIN / 'natmod.mk'}"]
    for name, (srcs, flags) in MODULES.items():
        lines.append(f"$(eval $(call NATMOD_MODULE,{name},{' '.join(srcs)},{flags}))")
    mk.write_text("\n".join(lines) + "\n")
    subprocess.run([MAKE, "-s", "-C", str(build), "-f", "Makefile", "NATMOD_BUILD=build", "NATMOD_DIST=dist",
                    "NATMOD_ARCHES=xtensa xtensawin", *targets], check=True, stdout=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("xtbuild")
    (build / "src").mkdir()
    (build / "src" / "xtmod.c").write_text(XTMOD_C)
    (build / "src" / "xtcalls.c").write_text(XTMOD_C)
    # Only the modules are asked for: the runtime archives must come in as NATMOD_DEPS_<arch>.
    _make(build, [f"natmod-{m}" for m in MODULES])
    return build


def built(build: Path, arch: str, name: str) -> Built:
    srcs, _ = MODULES[name]
    objs = [build / "build" / arch / name / (Path(s).stem + ".o") for s in srcs]
    return Built(arch, name, build / "dist" / arch / f"{name}.mpy", objs, [build / "build" / "xtrt" / arch / "libxtrt.a"],
                 build / "build" / "qstrs" / f"{name}.h")


def relink(b: Built, merge_literals: bool = True) -> tuple[Linker, bytes]:
    from mpyld.qstrs import parse_header
    lk = Linker(get_arch(b.arch), b.objects, b.libs, parse_header(b.qstrs.read_text()), b.mpy.name,
                gc_sections=True, merge_literals=merge_literals)  # as `mpyld link` (make) does by default
    img = lk.link()
    return lk, write_mpy(img)


def simulate_loader(text: bytes, rodata: bytes, relocs) -> tuple[bytearray, bytearray]:
    mem = {"text": bytearray(text), "rodata": bytearray(rodata)}
    for r in relocs:
        w = struct.unpack_from("<I", mem[r.blob], r.offset)[0]
        struct.pack_into("<I", mem[r.blob], r.offset, (w + kind_base(r.kind)) & 0xFFFFFFFF)
    return mem["text"], mem["rodata"]


def sym_address(lk: Linker, sym) -> int:
    """Run-time address of an ELF symbol, worked out from the ELF symbol and the section
    placement only (not from the arch module's relocation code)."""
    if sym.is_global and sym.name and sym.name not in lk.defs:
        if sym.name in TABLE_SYMBOLS:
            return BASES[TABLE_SYMBOLS[sym.name]]
        if sym.name in SLOT_SYMBOLS:
            return slot_value(SLOT_SYMBOLS[sym.name])
        if sym.name in lk.stubs:
            return BASES[KIND_TEXT] + lk.stubs[sym.name]
        if sym.name == "mpyld_data_start":
            return BASES[KIND_BSS]
        raise AssertionError(f"unresolved symbol {sym.name}")
    if sym.is_global and sym.name:
        sym = lk.defs[sym.name]
    sec = sym.section
    base = {"text": BASES[KIND_TEXT], "rodata": BASES[KIND_RODATA], "bss": BASES[KIND_BSS]}[sec.blob]
    return base + sec.out_offset + sym.value


def _sext(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def successors(pc: int, code: bytes) -> list[int]:
    """Control-flow successors of one instruction (fall-through and/or branch target)."""
    b0 = code[0]
    op0 = b0 & 0xF
    nxt = pc + len(code)
    if len(code) == 2:
        if code == RETW_N or code == bytes((0x0D, 0xF0)):  # RETW.N / RET.N
            return []
        if op0 == 0xC and b0 & 0x80:  # BEQZ.N / BNEZ.N
            return [nxt, pc + 4 + ((((b0 >> 4) & 3) << 4) | (code[1] >> 4))]
        return [nxt]
    insn = int.from_bytes(code, "little")
    n, m = (b0 >> 4) & 3, (b0 >> 6) & 3
    if op0 == 0 and insn & 0xFFF00F == 0 and m == 2 and n in (0, 1, 2):  # RET, RETW, JX
        return []
    if op0 == 6 and n == 0:  # J
        return [j_target(pc, insn)]
    if op0 == 6 and n == 1:  # BRI12 branches
        return [nxt, pc + 4 + _sext(insn >> 12, 12)]
    if (op0 == 6 and (n == 2 or (n == 3 and m >= 2))) or op0 == 7:  # BRI8 / RRI8 branches
        return [nxt, pc + 4 + _sext(insn >> 16, 8)]
    return [nxt]


def text_targets(lk: Linker) -> set[int]:
    """Text offsets stored in relocated words (switch tables, function pointers)."""
    out = set()
    for obj in lk.all_objects:
        for sec in obj.sections.values():
            if sec.blob not in ("text", "rodata"):
                continue
            for r in sec.relocs:
                if r.type in (R_XTENSA_32, R_XTENSA_PLT):
                    addr = sym_address(lk, r.symbol) + r.addend + struct.unpack_from("<I", sec.data, r.offset)[0]
                    if BASES[KIND_TEXT] <= addr < BASES[KIND_TEXT] + len(lk.blobs["text"]):
                        out.add(addr - BASES[KIND_TEXT])
    return out


def decode_functions(lk: Linker):
    """Yield (object, function symbol, text offset, instruction bytes, is_entry) for every
    reachable instruction of every linked function.  Decoding follows control flow from
    the function start and from every address a relocated word points at (switch
    tables), so the assembler's alignment padding is never decoded as code."""
    text = lk.blobs["text"]
    seeds_all = text_targets(lk)
    for obj in lk.all_objects:
        for s in obj.symbols:
            if s.type != "STT_FUNC" or s.section is None or s.section.blob != "text":
                continue
            start = s.section.out_offset + s.value
            end = start + obj_symbol_size(obj, s)
            todo = [start] + sorted(t for t in seeds_all if start < t < end)
            seen: set[int] = set()
            while todo:
                pc = todo.pop()
                if pc in seen:
                    continue
                assert start <= pc < end, f"{s.name}: control flow leaves the function at {pc:#x}"
                seen.add(pc)
                code = bytes(text[pc:pc + insn_length(text[pc])])
                yield obj, s, pc, code, pc == start
                # `end` is reached only after calls to noreturn functions (GCC then falls
                # through or jumps to the function's end label): nothing executes there.
                todo.extend(t for t in successors(pc, code) if t not in seen and t != end)


_SIZES: dict[str, dict[tuple[int, str], int]] = {}


def obj_bytes(name: str) -> bytes:
    """Bytes of an input object: a file path, or "archive(member)" as mpyld names members."""
    m = re.fullmatch(r"(.*)\((.+)\)", name)
    if m:
        return subprocess.run([toolreg.which("xtensa-lx106-elf-ar"), "p", m.group(1), m.group(2)], check=True,
                              capture_output=True).stdout
    return Path(name).read_bytes()


def obj_symbol_size(obj, sym) -> int:
    from io import BytesIO

    from elftools.elf.elffile import ELFFile
    if obj.name not in _SIZES:
        elf = ELFFile(BytesIO(obj_bytes(obj.name)))
        _SIZES[obj.name] = {(s["st_value"], s.name): s["st_size"]
                            for s in elf.get_section_by_name(".symtab").iter_symbols()}
    return _SIZES[obj.name][(sym.value, sym.name)]


def code_start(lk: Linker) -> int:
    return min(s.out_offset for o in lk.all_objects for s in o.sections.values()
               if s.blob == "text" and s.flags & 4 and not s.name.startswith(".literal"))


def literal_end(lk: Linker) -> int:
    lits = [s.out_offset + s.size for o in lk.all_objects for s in o.sections.values()
            if s.blob == "text" and s.name.startswith(".literal")]
    return max(lits + [lk.got_base + 4 * len(lk.got)])


# ------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("name", MODULES)
def test_header_and_relocation_stream(build_dir: Path, arch: str, name: str) -> None:
    b = built(build_dir, arch, name)
    data = b.mpy.read_bytes()
    assert data[:4] == bytes((0x4D, MPY_VERSION, ARCHES[arch], SMALL_INT_BITS)), data[:4].hex()
    info = read_mpy(data)
    assert info.arch_name == arch and info.arch_flags is None
    lk, again = relink(b)
    assert again == data, "relinking the same objects must give a byte-identical file"
    kinds = {r.kind for r in info.relocs}
    allowed = {KIND_TEXT, KIND_BSS, KIND_QSTR_TABLE, KIND_FUN_TABLE} | {KIND_SLOT0 + n for n in range(N_FUN_TABLE_SLOTS)}
    if arch == "xtensawin":
        allowed.add(KIND_RODATA)
        assert info.rodata_size > 0 and not any(s.name.startswith((".rodata", ".data.rel.ro"))
                                                for o in lk.all_objects for s in o.sections.values()
                                                if s.blob == "text"), "xtensawin rodata must not be in text"
    else:
        assert info.rodata_size == 0
        assert all(r.blob == "text" for r in info.relocs)
    assert kinds <= allowed, kinds - allowed
    assert KIND_OBJ_TABLE not in kinds
    assert len({(r.blob, r.offset) for r in info.relocs}) == len(info.relocs), "a word relocated twice"


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("name", MODULES)
def test_every_relocation_resolves_to_its_elf_target(build_dir: Path, arch: str, name: str) -> None:
    b = built(build_dir, arch, name)
    lk, _ = relink(b)
    info = read_mpy(b.mpy.read_bytes())
    text, rodata = simulate_loader(lk.blobs["text"], lk.blobs["rodata"], info.relocs)
    mem = {"text": text, "rodata": rodata}
    base = {"text": BASES[KIND_TEXT], "rodata": BASES[KIND_RODATA]}
    # Original literal/data words: (section id, offset) -> expected run-time value.
    want_word: dict[tuple[int, int], int] = {}
    n_checked = {"word": 0, "l32r": 0, "call": 0, "jump": 0}
    for obj in lk.all_objects:
        for sec in obj.sections.values():
            if sec.blob not in ("text", "rodata"):
                continue
            for r in sec.relocs:
                if r.type in (R_XTENSA_32, R_XTENSA_PLT):
                    orig = struct.unpack_from("<I", sec.data, r.offset)[0]
                    want = (sym_address(lk, r.symbol) + r.addend + orig) & 0xFFFFFFFF
                    got = struct.unpack_from("<I", mem[sec.blob], sec.out_offset + r.offset)[0]
                    assert got == want, f"{obj.name} {sec.name}+{r.offset:#x} -> {r.symbol.name}: {got:#x} != {want:#x}"
                    want_word[(id(sec), r.offset)] = want
                    n_checked["word"] += 1
    for obj in lk.all_objects:
        for sec in obj.sections.values():
            if sec.blob != "text":
                continue
            for r in sec.relocs:
                if r.type != R_XTENSA_SLOT0_OP:
                    continue
                pc = sec.out_offset + r.offset
                insn = int.from_bytes(text[pc:pc + 3], "little")
                op0 = insn & 0xF
                dest = sym_address(lk, r.symbol) + r.addend - BASES[KIND_TEXT]
                where = f"{obj.name} {sec.name}+{r.offset:#x}"
                if op0 == 1:
                    tgt = l32r_target(pc, insn)
                    # The literal the compiler meant: symbol section + addend in the object.
                    assert tgt == dest, f"{where}: L32R loads text+{tgt:#x}, object meant +{dest:#x}"
                    lit_sec = lk.defs[r.symbol.name].section if r.symbol.is_global and r.symbol.name else r.symbol.section
                    key = (id(lit_sec), r.symbol.value + r.addend)
                    if key in want_word:
                        got = struct.unpack_from("<I", text, tgt)[0]
                        assert got == want_word[key]
                    n_checked["l32r"] += 1
                elif op0 == 5:
                    assert call_target(pc, insn) == dest, where
                    n_checked["call"] += 1
                elif op0 == 6 and (insn >> 4) & 3 == 0:
                    assert j_target(pc, insn) == dest, where
                    n_checked["jump"] += 1
    # Apart from relocated fields, every linked section holds exactly the object's bytes.
    for obj in lk.all_objects:
        for sec in obj.sections.values():
            if sec.blob not in ("text", "rodata"):
                continue
            linked = bytearray(lk.blobs[sec.blob][sec.out_offset:sec.out_offset + sec.size])
            orig = bytearray(sec.data)
            for r in sec.relocs:
                width = 4 if r.type in (R_XTENSA_32, R_XTENSA_PLT) else 3 if r.type == R_XTENSA_SLOT0_OP else 0
                linked[r.offset:r.offset + width] = orig[r.offset:r.offset + width]
            assert linked == orig, f"{obj.name} {sec.name}: bytes changed outside relocated fields"
    assert n_checked["word"] > 10 and n_checked["l32r"] > 10, n_checked
    if name == "xtcalls":
        assert n_checked["call"] > 3, n_checked  # direct calls across -ffunction-sections
    # Entry trampoline: J at offset 0 to mpy_init.
    tramp = int.from_bytes(text[0:3], "little")
    assert tramp & 0x3F == 0x06 and j_target(0, tramp) == sym_address(lk, lk.defs["mpy_init"]) - BASES[KIND_TEXT]
    # Byte-function stubs jump to the firmware's slot value.
    for sname, off in lk.stubs.items():
        pc = j_target(off, int.from_bytes(text[off:off + 3], "little"))
        insn = int.from_bytes(text[pc:pc + 3], "little")
        assert insn & 0xF == 1 and (insn >> 4) & 0xF == 9, "stub must L32R into a9"
        word = struct.unpack_from("<I", text, l32r_target(pc, insn))[0]
        assert word == slot_value(STUB_SYMBOLS[sname])
        assert text[pc + 3:pc + 6] == bytes((0xA0, 0x09, 0x00)), "JX a9"


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("name", MODULES)
def test_decoded_code_is_sane(build_dir: Path, arch: str, name: str) -> None:
    b = built(build_dir, arch, name)
    lk, _ = relink(b)
    text = lk.blobs["text"]
    cstart, lend = code_start(lk), literal_end(lk)
    assert lend <= cstart, "literal pool and GOT must precede all code"
    starts = {sym_address(lk, s) - BASES[KIND_TEXT] for o in lk.all_objects for s in o.symbols
              if s.type == "STT_FUNC" and s.section is not None and s.section.blob == "text"}
    starts |= set(lk.stubs.values())
    windowed = arch == "xtensawin"
    n_l32r = 0
    for obj, fsym, pc, code, first in decode_functions(lk):
        b0 = code[0]
        insn = int.from_bytes(code.ljust(3, b"\0"), "little")
        where = f"{obj.name}:{fsym.name}+{pc - (fsym.section.out_offset + fsym.value):#x}"
        if first:
            assert pc % 4 == 0, f"{where}: function not word aligned"
            if windowed:
                assert b0 == 0x36 and (insn >> 4) & 0xF == 0x3, f"{where}: windowed function must start with ENTRY"
        if len(code) == 3 and b0 & 0xF == 1:  # L32R
            tgt = l32r_target(pc, insn)
            assert tgt % 4 == 0 and tgt < ((pc + 3) & ~3) and ((pc + 3) & ~3) - tgt <= 262144, where
            assert 4 <= tgt < lend, f"{where}: L32R target {tgt:#x} outside the literal/GOT area (< {lend:#x})"
            n_l32r += 1
        if len(code) == 3 and b0 & 0xF == 5:  # CALLn
            n = (b0 >> 4) & 3
            assert (n == 2) if windowed else (n == 0), f"{where}: CALL{4 * n} in {arch} code"
            assert call_target(pc, insn) in starts, f"{where}: call to a non-function"
        if len(code) == 3 and b0 & 0xF == 0 and (insn >> 4) & 0xF in (12, 13, 14, 15) \
                and (insn >> 12) & 0xFFF == 0:  # CALLXn
            n = (insn >> 4) & 3
            assert (n == 2) if windowed else (n == 0), f"{where}: CALLX{4 * n} in {arch} code"
        if windowed:
            assert code not in (bytes((0x80, 0, 0)), bytes((0x0D, 0xF0))), f"{where}: call0-ABI RET in windowed code"
        else:
            assert code not in (RETW, RETW_N) and not (b0 == 0x36), f"{where}: windowed instruction in call0 code"
    assert n_l32r > 20


@pytest.mark.parametrize("arch", ARCHES)
def test_objdump_agrees_on_l32r_targets(build_dir: Path, arch: str, tmp_path: Path) -> None:
    b = built(build_dir, arch, "xtmod")
    lk, _ = relink(b)
    raw = tmp_path / "text.bin"
    raw.write_bytes(bytes(lk.blobs["text"]))
    ours = {pc: l32r_target(pc, int.from_bytes(code, "little"))
            for _, _, pc, code, _ in decode_functions(lk) if len(code) == 3 and code[0] & 0xF == 1}
    theirs: dict[int, int] = {}
    for pc in sorted(ours):
        out = subprocess.run([OBJDUMP, "-D", "-b", "binary", "-m", "xtensa", f"--start-address={pc}",
                              f"--stop-address={pc + 3}", str(raw)], check=True, capture_output=True, text=True).stdout
        for m in re.finditer(r"^\s*([0-9a-f]+):\s+[0-9a-f]+\s+l32r\s+a\d+, (?:0x)?([0-9a-f]+)", out, re.M):
            theirs[int(m.group(1), 16)] = int(m.group(2), 16)
    assert theirs and theirs == ours


def test_static_data_is_reached_without_pc_relative_references(build_dir: Path) -> None:
    """static bss and static const tables go through literals (absolute words), so they
    link on Xtensa; on xtensawin the const table lives in the rodata blob."""
    b = built(build_dir, "xtensawin", "xtmod")
    lk, _ = relink(b)
    info = read_mpy(b.mpy.read_bytes())
    text, rodata = simulate_loader(lk.blobs["text"], lk.blobs["rodata"], info.relocs)
    stab = next(s for o in lk.all_objects for s in o.symbols if s.name == "stab")
    addr = sym_address(lk, stab)
    assert BASES[KIND_RODATA] <= addr < BASES[KIND_RODATA] + len(rodata)
    off = addr - BASES[KIND_RODATA]
    assert struct.unpack_from("<8h", rodata, off) == (5, -7, 11, 13, 99, 1234, -3, 8)
    lits = {struct.unpack_from("<I", text, o)[0] for o in range(4, literal_end(lk), 4)}
    assert addr in lits, "the literal pool must hold the run-time address of the static table"


def test_windowed_encodings() -> None:
    # Reference encodings from Xtensa ISA documentation / ESP32 disassembly.
    assert encode_entry(1, 32) == bytes.fromhex("364100")
    assert encode_entry(1, 48) == bytes.fromhex("366100")
    assert encode_entry(1, 256) == bytes.fromhex("360102")
    assert RETW_N == bytes.fromhex("1df0") and RETW == bytes.fromhex("900000")
    assert encode_callx(2, 8) == bytes.fromhex("e00800")
    assert encode_callx(1, 3) == bytes.fromhex("d00300")
    assert encode_movsp(1, 8) == bytes.fromhex("101800")
    src = "f:\n\tentry\tsp, 48\n\tcall8\tg\n\tcallx8\ta8\n\tmovsp\tsp, a8\n\tretw.n\n\tl32r\ta8, .LC0\n"
    out = rewrite_windowed_asm(src)
    assert "\t.byte\t0x36, 0x61, 0x00" in out
    assert "\t.reloc\t., R_XTENSA_SLOT0_OP, g\n\t.byte\t0x25, 0x00, 0x00" in out
    assert "\t.byte\t0xe0, 0x08, 0x00" in out and "\t.byte\t0x1d, 0xf0" in out and "\tl32r\ta8, .LC0" in out
    multi = rewrite_windowed_asm("\tssa8l\ta3 ; callx8\ta3 ; srl\ta3, a3\n\t.ascii \"retw; entry\"\n")
    assert multi == "\tssa8l\ta3 \n\t.byte\t0xe0, 0x03, 0x00\n srl\ta3, a3\n\t.ascii \"retw; entry\"\n"
    with pytest.raises(LinkError, match="entry"):
        rewrite_windowed_asm("\tentry\tsp, 20\n")


def test_l32r_range_rules() -> None:
    assert encode_l32r_imm(8, 4) == 0xFFFF
    assert l32r_target(8, 0x91 | (0xFFFF << 8)) == 4
    with pytest.raises(ValueError, match="reach"):
        encode_l32r_imm(8, 12)  # forward reference: impossible
    with pytest.raises(ValueError, match="reach"):
        encode_l32r_imm(300000, 4)  # beyond 256 KiB
    with pytest.raises(ValueError, match="aligned"):
        encode_l32r_imm(100, 6)


def test_double_maths_is_rejected_with_the_symbol_name(tmp_path: Path, build_dir: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "dbl.c").write_text(DOUBLE_C)
    mk = tmp_path / "Makefile"
    mk.write_text(f"PYTHON := {sys.executable}\ninclude {TOOLCHAIN / 'natmod.mk'}\n"
                  "$(eval $(call NATMOD_MODULE,dbl,src/dbl.c,))\n")
    for arch in ARCHES:
        proc = subprocess.run([MAKE, "-s", "-C", str(tmp_path), "NATMOD_BUILD=build", "NATMOD_DIST=dist",
                               f"NATMOD_ARCHES={arch}", f"dist/{arch}/dbl.mpy"],
                              capture_output=True, text=True)
        assert proc.returncode != 0
        assert re.search(r"undefined symbol: __(muldf3|floatsidf|fixdfsi|extendsfdf2)", proc.stderr), proc.stderr
        assert f"double-precision maths is not supported on {arch}" in proc.stderr, proc.stderr


def test_unsupported_relocation_is_named(tmp_path: Path) -> None:
    asm = tmp_path / "bad.s"
    asm.write_text("\t.text\n\t.align 4\n\t.global mpy_init\nmpy_init:\n"
                   "\t.reloc ., R_XTENSA_SLOT0_ALT, mpy_init\n\t.byte 0x25, 0, 0\n")
    for arch in ARCHES:
        obj = tmp_path / f"bad_{arch}.o"
        abi = ["-Wa,--abi-windowed"] if arch == "xtensawin" else []
        subprocess.run([GCC, *abi, "-c", "-o", str(obj), str(asm)], check=True)
        with pytest.raises(LinkError, match=r"R_XTENSA_SLOT0_ALT.*mpy_init.*\.text"):
            Linker(get_arch(arch), [obj]).link()


def test_objects_of_the_other_abi_are_rejected(tmp_path: Path) -> None:
    """.xtensa.info records the ABI; linking call0 code as xtensawin (or the reverse) must
    fail with a message that says how to build it (checked through the arch hook)."""
    from io import BytesIO

    from elftools.elf.elffile import ELFFile
    src = tmp_path / "f.c"
    src.write_text("int f(int x) { return x + 1; }\n")
    call0 = tmp_path / "call0.o"
    win = tmp_path / "win.o"
    subprocess.run([GCC, "-c", "-o", str(call0), str(src)], check=True)
    subprocess.run([sys.executable, "-m", "mpyld.arch_xtensa", "wincc", GCC, "-c", "-o", str(win), str(src)],
                   check=True, env={"PYTHONPATH": str(TOOLCHAIN), "PATH": "/usr/bin:/bin"})
    for arch, good, bad, msg in (("xtensawin", win, call0, "uses the call0 ABI.*wincc"),
                                 ("xtensa", call0, win, "uses the windowed ABI.*call0")):
        a = get_arch(arch)
        a.check_object(good.name, ELFFile(BytesIO(good.read_bytes())))
        with pytest.raises(LinkError, match=msg):
            a.check_object(bad.name, ELFFile(BytesIO(bad.read_bytes())))


# Mnemonics the ESP32 (LX6) and ESP32-S2/S3 (LX7) cores implement: the core ISA plus
# the density, windowed, MUL16/MUL32, NSA, MINMAX, SEXT, CLAMPS and loop options.
ESP32_MNEMONICS = set("""
abs add addi addmi addx2 addx4 addx8 and ball bany bbc bbci bbs bbsi beq beqi beqz bge bgei bgeu bgeui bgez
blt blti bltu bltui bltz bnall bne bnei bnez bnone extui extw isync j jx l16si l16ui l32i l32r l8ui memw
mov movi moveqz movgez movltz movnez neg nop or rsync s16i s32i s8i sll slli sra srai src srl srli ssa8b ssa8l
ssai ssl ssr sub subx2 subx4 subx8 xor add.n addi.n beqz.n bnez.n l32i.n mov.n movi.n nop.n s32i.n retw.n
entry retw call4 call8 call12 callx4 callx8 callx12 movsp mul16s mul16u mull muluh mulsh nsa nsau min max
minu maxu sext clamps loop loopgtz loopnez
""".split())


def test_windowed_code_uses_only_esp32_instructions(tmp_path: Path) -> None:
    """The LX106-configured GCC must emit nothing the ESP32 lacks (and, in windowed
    mode, no call0-ABI call or return): checked on the test module, the project's
    cores and the runtime."""
    srcs = [TOOLCHAIN / "tests" / "testmod" / "testmod.c", *sorted((ROOT / "cores").glob("*.c")),
            *sorted((TOOLCHAIN / "runtime").glob("xtrt_*.c"))]
    hdr = tmp_path / "q.h"
    subprocess.run([sys.executable, "-m", "mpyld", "qstrs", "-o", str(hdr), str(srcs[0])], check=True,
                   env={"PYTHONPATH": str(TOOLCHAIN), "PATH": "/usr/bin:/bin"})
    seen: set[str] = set()
    for src in srcs:
        asm = subprocess.run([GCC, "-mabi=windowed", "-std=c99", "-Os", "-ffreestanding", "-fpic", "-fno-common",
                              f"-I{TOOLCHAIN / 'include'}", f"-I{ROOT / 'cores'}", f"-DMP_CONFIGFILE=\"{hdr}\"",
                              "-DMICROPY_FLOAT_IMPL=MICROPY_FLOAT_IMPL_FLOAT", "-S", "-o", "-", str(src)],
                             check=True, capture_output=True, text=True).stdout
        for line in asm.splitlines():
            for stmt in line.split(";"):
                m = re.match(r"^\s+([a-z][a-z0-9.]*)\b", stmt)
                if m and not stmt.strip().startswith("."):
                    seen.add(m.group(1))
    assert {"entry", "retw.n", "callx8", "l32r"} <= seen
    assert not seen - ESP32_MNEMONICS, sorted(seen - ESP32_MNEMONICS)
    assert not seen & {"call0", "callx0", "ret", "ret.n"}


def test_wincc_reports_missing_compiler_and_bad_usage(tmp_path: Path) -> None:
    src = tmp_path / "a.c"
    src.write_text("int f(int x) { return x + 1; }\n")
    env = {"PYTHONPATH": str(TOOLCHAIN), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "mpyld.arch_xtensa", "wincc"]
    proc = subprocess.run([*run, "no-such-xtensa-gcc", "-c", "-o", str(tmp_path / "a.o"), str(src)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 127 and "apt-get install gcc-xtensa-lx106" in proc.stderr
    proc = subprocess.run([*run, GCC, "-c", str(src)], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "need -c and -o" in proc.stderr
    proc = subprocess.run([*run, GCC, "-O1", "-c", "-o", str(tmp_path / "a.o"), str(src)], capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    code = subprocess.run([toolreg.which("xtensa-lx106-elf-objcopy"), "-O", "binary", "-j", ".text", str(tmp_path / "a.o"),
                           str(tmp_path / "a.bin")], check=True)
    assert code.returncode == 0
    text = (tmp_path / "a.bin").read_bytes()
    assert text[:3] == encode_entry(1, 32) and text.endswith(RETW_N), text.hex()


def test_literal_out_of_l32r_range_is_a_clear_error(tmp_path: Path) -> None:
    asm = tmp_path / "far.s"
    asm.write_text('\t.section .literal,"ax"\n\t.align 4\nlit:\t.word 123\n'
                   "\t.text\n\t.align 4\n\t.global mpy_init\nmpy_init:\n\t.space 300000\n"
                   "\tl32r\ta2, lit\n\tret\n")
    obj = tmp_path / "far.o"
    subprocess.run([GCC, "-c", "-o", str(obj), str(asm)], check=True)
    with pytest.raises(LinkError, match=r"L32R at 0x[0-9a-f]+ cannot reach .*far\.o section \.text"):
        Linker(get_arch("xtensa"), [obj]).link()


def test_linker_refuses_a_call0_object_for_xtensawin(tmp_path):
    """Through `mpyld link` (not only the arch hook): an object compiled for the ESP8266's call0 ABI
    must not link as xtensawin, where it would crash the board."""
    src = tmp_path / "m.c"
    src.write_text("int mpy_init(void) { return 0; }\n")
    obj = tmp_path / "m.o"
    r = subprocess.run([GCC, "-Os", "-ffreestanding", "-c", "-o", str(obj), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from natmod_util import mpyld as run_mpyld
    r = run_mpyld("link", "--arch", "xtensawin", "-o", str(tmp_path / "m.mpy"), str(obj))
    assert r.returncode != 0 and "call0" in r.stderr and "windowed" in r.stderr, r.stderr


def symbolic(lk: Linker, value: int) -> tuple:
    """A run-time value as (blob, object, section, offset) when it points into a linked input
    section (other than literals), so that two layouts of the same objects can be compared."""
    for blob, base, size in (("text", BASES[KIND_TEXT], len(lk.blobs["text"])),
                             ("rodata", BASES[KIND_RODATA], len(lk.blobs["rodata"])),
                             ("bss", BASES[KIND_BSS], lk.bss_size)):
        if base <= value < base + size:
            off = value - base
            for o in lk.all_objects:
                for sec in o.sections.values():
                    if (sec.blob == blob and sec.size and not sec.name.startswith(".literal")
                            and sec.out_offset <= off < sec.out_offset + sec.size):
                        return blob, o.name, sec.name, off - sec.out_offset
            names = [n for n, o in lk.stubs.items() if o == off]
            return (blob, "stub", names[0]) if names else (blob, off)
    return ("value", value)


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("name", MODULES)
def test_merged_literals_load_what_the_objects_asked_for(build_dir: Path, arch: str, name: str) -> None:
    """Identical literal words are merged: every L32R of every function must load, at run time,
    the same value as in a link that keeps every literal word where the assembler put it."""
    b = built(build_dir, arch, name)
    links = {}
    for merge in (False, True):
        lk, data = relink(b, merge_literals=merge)
        info = read_mpy(data)
        links[merge] = lk, simulate_loader(lk.blobs["text"], lk.blobs["rodata"], info.relocs)[0]
    (lk_all, text_all), (lk_one, text_one) = links[False], links[True]
    assert lk_one.merged_bytes > 0 and len(lk_one.blobs["text"]) == len(lk_all.blobs["text"]) - lk_one.merged_bytes
    placed = {(o.name, sec.index): sec for o in lk_one.all_objects for sec in o.sections.values() if sec.blob}
    checked = 0
    for o in lk_all.all_objects:
        for sec in o.sections.values():
            if sec.blob != "text" or sec.name.startswith(".literal"):
                continue
            twin = placed[(o.name, sec.index)]
            for r in sec.relocs:
                if r.type != R_XTENSA_SLOT0_OP or sec.data[r.offset] & 0xF != 1:
                    continue
                values = []
                for lk, text, s in ((lk_all, text_all, sec), (lk_one, text_one, twin)):
                    pc = s.out_offset + r.offset
                    lit = l32r_target(pc, int.from_bytes(text[pc:pc + 3], "little"))
                    values.append(symbolic(lk, struct.unpack_from("<I", text, lit)[0]))
                assert values[0] == values[1], f"{o.name} {sec.name}+{r.offset:#x}: {values}"
                checked += 1
    assert checked > 20
