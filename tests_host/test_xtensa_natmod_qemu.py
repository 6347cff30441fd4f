"""A native module built by the real make rules for xtensa / xtensawin, imported and
called on QEMU's Xtensa CPUs by a miniature "firmware".

The firmware (C below, compiled for the same ABI) provides an ``mp_fun_table`` with the
handful of entries the module uses (small ints, store_global, swap_globals, memset,
memmove, the builtin-function type object).  Python plays MicroPython's loader: it
places the firmware and the module at fixed addresses and applies the module's loader
relocations, with the table address for ``mp_fun_table``, the table's slot values for
slot relocations and a qstr table we choose.  The firmware then does what ``import``
does -- calls text offset 0 (``mpy_init``) with a function object whose context holds
the module globals -- and afterwards calls the function objects the module stored with
``mp_store_global``, checking that their type is the firmware's builtin-function type.
Results are compared with Python references.  This exercises on an Xtensa CPU: the
entry trampoline, literal/GOT relocation, calls through ``mp_fun_table`` slots,
function objects in rodata (xtensawin) or text (xtensa), qstr table reads, bss and
static const data, switch tables, float and int64 helpers, and the memset stub.
"""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import test_xtensa_qemu as xq
from mpyld.abi import (KIND_BSS, KIND_FUN_TABLE, KIND_QSTR_TABLE, KIND_RODATA, KIND_SLOT0, KIND_TEXT,
                       N_FUN_TABLE_SLOTS)
from mpyld.arches import get_arch
from mpyld.link import Linker
from mpyld.mpyfile import read_mpy

ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN = ROOT / "toolchain"


# Memory map of the test process (all inside one RWX segment, see elf()).
SEG = 0x10000000
MOD_TEXT, MOD_RODATA, MOD_BSS = 0x10010000, 0x10080000, 0x100A0000
FW_TEXT, FW_RODATA, FW_BSS = 0x10100000, 0x10180000, 0x101A0000
QSTR_TABLE = 0x101F0000
SEG_END = 0x10200000
QSTR_BASE = 1000  # run-time qstr number of module qstr i is QSTR_BASE + i

NATMOD_C = r"""
#include "py/dynruntime.h"
static const int16_t stab[8] = {5, -7, 11, 13, 99, 1234, -3, 8};
static const char *const names[4] = {"alpha", "beta", "gamma", "delta"};
int nat_counter;
static int nat_hidden;
static int pick(int i) {
    switch (i) {
    case 0: return 10; case 1: return 21; case 2: return 32; case 3: return 43;
    case 4: return 54; case 5: return 65; case 6: return 76; case 7: return 87;
    default: return -1;
    }
}
static mp_obj_t counter(mp_obj_t a_in, mp_obj_t b_in) {
    nat_counter += mp_obj_get_int(a_in);
    nat_hidden += mp_obj_get_int(b_in);
    return mp_obj_new_int(nat_counter * 1000 + nat_hidden);
}
static MP_DEFINE_CONST_FUN_OBJ_2(counter_obj, counter);
static mp_obj_t fdivq(mp_obj_t a_in, mp_obj_t b_in) {
    float a = (float)mp_obj_get_int(a_in), b = (float)mp_obj_get_int(b_in);
    return mp_obj_new_int((mp_int_t)(a / b * 1000.0f));
}
static MP_DEFINE_CONST_FUN_OBJ_2(fdivq_obj, fdivq);
static mp_obj_t ldivq(mp_obj_t a_in, mp_obj_t b_in) {
    int64_t a = mp_obj_get_int(a_in), b = mp_obj_get_int(b_in);
    return mp_obj_new_int((mp_int_t)((a * 1000003) / b % 100000));
}
static MP_DEFINE_CONST_FUN_OBJ_2(ldivq_obj, ldivq);
static mp_obj_t lookup(mp_obj_t a_in, mp_obj_t b_in) {
    mp_int_t a = mp_obj_get_int(a_in), b = mp_obj_get_int(b_in);
    return mp_obj_new_int(pick((int)a) + names[b & 3][1] + stab[a & 7]);
}
static MP_DEFINE_CONST_FUN_OBJ_2(lookup_obj, lookup);
static mp_obj_t fill(mp_obj_t n_in, mp_obj_t c_in) {
    uint8_t buf[64];
    size_t n = (size_t)mp_obj_get_int(n_in) & 63u, i;
    mp_int_t sum = 0;
    for (i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)i;
    }
    memset(buf, (int)mp_obj_get_int(c_in), n);
    for (i = 0; i < sizeof buf; i++) {
        sum = sum * 3 + buf[i];
    }
    return mp_obj_new_int(sum & 0xfffffff);
}
static MP_DEFINE_CONST_FUN_OBJ_2(fill_obj, fill);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_counter, MP_OBJ_FROM_PTR(&counter_obj));
    mp_store_global(MP_QSTR_fdivq, MP_OBJ_FROM_PTR(&fdivq_obj));
    mp_store_global(MP_QSTR_ldivq, MP_OBJ_FROM_PTR(&ldivq_obj));
    mp_store_global(MP_QSTR_lookup, MP_OBJ_FROM_PTR(&lookup_obj));
    mp_store_global(MP_QSTR_fill, MP_OBJ_FROM_PTR(&fill_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""

FIRMWARE_C = r"""
#include "py/dynruntime.h"

static const mp_obj_type_t fw_type_fun_2;  /* identity only: never dereferenced */
static mp_obj_dict_t *fw_globals_now;
static struct { qstr q; mp_obj_t o; } fw_globals[16];
static int fw_n_globals;

static mp_uint_t fw_from_obj(mp_obj_t o, mp_uint_t type) {
    (void)type;
    return (mp_uint_t)((mp_int_t)(uintptr_t)o >> 1);
}
static mp_obj_t fw_to_obj(mp_uint_t v, mp_uint_t type) {
    (void)type;
    return (mp_obj_t)(uintptr_t)((v << 1) | 1u);
}
static mp_obj_dict_t *fw_swap_globals(mp_obj_dict_t *g) {
    mp_obj_dict_t *old = fw_globals_now;
    fw_globals_now = g;
    return old;
}
static void fw_store_global(qstr q, mp_obj_t o) {
    if (fw_n_globals < 16) {
        fw_globals[fw_n_globals].q = q;
        fw_globals[fw_n_globals].o = o;
        fw_n_globals++;
    }
}
static struct { mp_obj_base_t base; size_t n; void *items; } fw_bytearray;
static mp_obj_t fw_bytearray_by_ref(size_t n, void *items) {
    fw_bytearray.n = n;
    fw_bytearray.items = items;
    return (mp_obj_t)&fw_bytearray;
}
static void *fw_memset(void *s, int c, size_t n) {
    volatile unsigned char *p = s;
    while (n--) { *p++ = (unsigned char)c; }
    return s;
}
static void *fw_memmove(void *d, const void *s, size_t n) {
    volatile unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) { *p++ = *q++; }
    return d;
}

const mp_fun_table_t fw_table = {
    .const_none = (mp_const_obj_t)(uintptr_t)0x06,
    .native_from_obj = fw_from_obj,
    .native_to_obj = fw_to_obj,
    .swap_globals = fw_swap_globals,
    .store_global = fw_store_global,
    .obj_new_bytearray_by_ref = fw_bytearray_by_ref,
    .memset_ = fw_memset,
    .memmove_ = fw_memmove,
    .type_fun_builtin_2 = &fw_type_fun_2,
};

""" + xq.XSYS_IO_C + r"""
static mp_obj_module_t fw_module;
static mp_module_context_t fw_context;
static mp_obj_fun_bc_t fw_self;
typedef mp_obj_t (*entry_t)(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args);

/* "import": call text offset 0; then serve calls: request = u32 qstr, i32 a, i32 b;
 * reply = i32 status (0 ok, 1 unknown name, 2 wrong type), i32 result. */
int mpy_init(void) {
    int32_t hdr[4];
    uint32_t req[3];
    fw_context.module = fw_module;
    fw_self.context = &fw_context;
    mp_obj_t r = ((entry_t)MOD_TEXT)(&fw_self, 0, 0, NULL);
    hdr[0] = fw_n_globals;
    hdr[1] = (int32_t)(uintptr_t)r;
    hdr[2] = (int32_t)fw_bytearray.n;
    hdr[3] = (int32_t)(uintptr_t)fw_bytearray.items;
    io(13, hdr, sizeof hdr);
    for (int i = 0; i < fw_n_globals; i++) {
        int32_t q = (int32_t)fw_globals[i].q;
        io(13, &q, 4);
    }
    while (io(12, req, sizeof req) == (long)sizeof req) {
        int32_t rep[2] = {1, 0};
        for (int i = 0; i < fw_n_globals; i++) {
            if (fw_globals[i].q == req[0]) {
                const mp_obj_fun_builtin_fixed_t *f = (const mp_obj_fun_builtin_fixed_t *)fw_globals[i].o;
                rep[0] = 2;
                if (f->base.type == &fw_type_fun_2) {
                    mp_obj_t res = f->fun._2(fw_to_obj(req[1], 2), fw_to_obj(req[2], 2));
                    rep[0] = 0;
                    rep[1] = (int32_t)fw_from_obj(res, 2);
                }
            }
        }
        io(13, rep, sizeof rep);
    }
    return 0;
}
"""


def load(text: bytes, rodata: bytes, relocs, bases: dict[int, int]) -> tuple[bytes, bytes]:
    mem = {"text": bytearray(text), "rodata": bytearray(rodata)}
    for r in relocs:
        assert r.kind in bases, f"no value for loader relocation kind {r.kind}"
        w = struct.unpack_from("<I", mem[r.blob], r.offset)[0]
        struct.pack_into("<I", mem[r.blob], r.offset, (w + bases[r.kind]) & 0xFFFFFFFF)
    return bytes(mem["text"]), bytes(mem["rodata"])


def build(arch: str, work: Path) -> Path:
    # The module: built by the project's make rules, like any natmod.
    (work / "src").mkdir()
    (work / "src" / "xtnat.c").write_text(NATMOD_C)
    (work / "Makefile").write_text(f"PYTHON := {sys.executable}\ninclude {TOOLCHAIN / 'natmod.mk'}\n"
                                   "$(eval $(call NATMOD_MODULE,xtnat,src/xtnat.c,))\n")
    subprocess.run([xq.MAKE, "-s", "-C", str(work), "NATMOD_BUILD=build", "NATMOD_DIST=dist", f"NATMOD_ARCHES={arch}",
                    f"dist/{arch}/xtnat.mpy"], check=True, stdout=subprocess.DEVNULL)
    mod = read_mpy((work / "dist" / arch / "xtnat.mpy").read_bytes())
    mod_text, mod_ro = xq.extract_blobs((work / "dist" / arch / "xtnat.mpy").read_bytes(), mod)
    assert mod.bss_size < FW_TEXT - MOD_BSS and len(mod_text) < MOD_RODATA - MOD_TEXT

    # The firmware: compiled for the same ABI and linked in-process (we need fw_table's offset).
    common = [f for f in xq.make_var(arch, "NATMOD_CFLAGS_COMMON").split() if not f.startswith(("-MMD", "-MP"))]
    flags = [*common, *xq.make_var(arch, f"NATMOD_CFLAGS_{arch}").split(), f"-I{TOOLCHAIN / 'include'}",
             f"-DMOD_TEXT={MOD_TEXT:#x}", "-fno-builtin", "-fno-tree-loop-distribute-patterns"]
    fw_obj = xq.compile_c(arch, work, "firmware", FIRMWARE_C, flags)
    (work / "xsys.s").write_text(xq.rewrite_windowed_asm(xq.XSYS_WINDOWED) if arch == "xtensawin" else xq.XSYS_CALL0)
    abi = ["-Wa,--abi-windowed"] if arch == "xtensawin" else []
    subprocess.run([xq.GCC, *abi, "-c", "-o", str(work / "xsys.o"), str(work / "xsys.s")], check=True)
    lk = Linker(get_arch(arch), [fw_obj, work / "xsys.o"], [work / "build" / "xtrt" / arch / "libxtrt.a"])
    fw = lk.link()
    tab = lk.defs["fw_table"]
    tab_addr = {"text": FW_TEXT, "rodata": FW_RODATA}[tab.section.blob] + tab.section.out_offset + tab.value
    fw_text, fw_ro = load(fw.text, fw.rodata, fw.relocs, {KIND_TEXT: FW_TEXT, KIND_RODATA: FW_RODATA, KIND_BSS: FW_BSS})
    blob = fw_ro if tab.section.blob == "rodata" else fw_text
    base = tab_addr - (FW_RODATA if tab.section.blob == "rodata" else FW_TEXT)
    slots = {KIND_SLOT0 + n: struct.unpack_from("<I", blob, base + 4 * n)[0] for n in range(N_FUN_TABLE_SLOTS)}

    # Load the module against that firmware.
    bases = {KIND_TEXT: MOD_TEXT, KIND_RODATA: MOD_RODATA, KIND_BSS: MOD_BSS, KIND_FUN_TABLE: tab_addr,
             KIND_QSTR_TABLE: QSTR_TABLE, **slots}
    mod_text, mod_ro = load(mod_text, mod_ro, mod.relocs, bases)
    qtab = struct.pack(f"<{len(mod.qstrs)}H", *(QSTR_BASE + i for i in range(len(mod.qstrs))))

    image = bytearray(SEG_END - SEG)
    stub = struct.pack("<I", FW_TEXT) + bytes((0x81, 0xFF, 0xFF))  # word; L32R a8
    if arch == "xtensawin":
        stub += xq.encode_callx(1, 8)  # CALLX4 a8: result in a6
    else:
        stub += bytes((0xC0, 0x08, 0x00, 0x6D, 0x02))  # CALLX0 a8; MOV.N a6, a2
    stub += bytes((0x22, 0xA0, 0x77, 0x00, 0x50, 0x00))  # MOVI a2, 119; SYSCALL (exit_group)
    for addr, data in ((SEG, stub), (MOD_TEXT, mod_text), (MOD_RODATA, mod_ro), (FW_TEXT, fw_text),
                       (FW_RODATA, fw_ro), (QSTR_TABLE, qtab)):
        image[addr - SEG:addr - SEG + len(data)] = data
    ehdr = struct.pack("<4sBBBBB7sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, b"\0" * 7, 2, 94, 1, SEG + 4,
                       52, 0, 0, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0x1000, SEG, SEG, len(image), len(image), 7, 0x1000)
    elf = work / f"xtnat_{arch}.elf"
    elf.write_bytes((ehdr + phdr).ljust(0x1000, b"\0") + bytes(image))
    elf.chmod(0o755)
    (work / "qstrs.txt").write_text("\n".join(mod.qstrs))
    return elf


@pytest.fixture(scope="module", params=list(xq.CPU))
def natmod(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, list[str]]:
    arch = request.param
    work = tmp_path_factory.mktemp(f"xtnat_{arch}")
    elf = build(arch, work)
    return arch, elf, (work / "qstrs.txt").read_text().split("\n")


def call(arch: str, elf: Path, qstrs: list[str], calls: list[tuple[str, int, int]]) -> tuple[list[int], list[int]]:
    stdin = b"".join(struct.pack("<Iii", QSTR_BASE + qstrs.index(n), a, b) for n, a, b in calls)
    out = xq.run_elf(elf, arch, stdin)
    n_globals, ret, ba_len, ba_items = struct.unpack_from("<4i", out, 0)
    stored = list(struct.unpack_from(f"<{n_globals}i", out, 16))
    assert ret == 0x06, "mpy_init must return mp_const_none (the table's const_none)"
    assert (ba_len, ba_items) == (0, MOD_BSS), "the GC anchor must be a bytearray over the bss block"
    reps = list(struct.iter_unpack("<2i", out[16 + 4 * n_globals:]))
    assert len(reps) == len(calls)
    assert all(status == 0 for status, _ in reps), reps
    return stored, [v for _, v in reps]


def c_div(n: int, d: int) -> tuple[int, int]:
    q = abs(n) // abs(d)
    q = -q if (n < 0) != (d < 0) else q
    return q, n - q * d


def test_import_stores_the_module_functions(natmod) -> None:
    arch, elf, qstrs = natmod
    stored, _ = call(arch, elf, qstrs, [])
    names = ("__mpyld_data__", "counter", "fdivq", "ldivq", "lookup", "fill")
    assert stored == [QSTR_BASE + qstrs.index(n) for n in names]


def test_module_functions_compute_like_python(natmod) -> None:
    arch, elf, qstrs = natmod
    rng = np.random.default_rng(5)
    calls, want = [], []
    cnt = hid = 0
    for _ in range(40):
        a, b = int(rng.integers(-1000, 1000)), int(rng.integers(-1000, 1000))
        cnt, hid = cnt + a, hid + b
        calls.append(("counter", a, b))
        want.append(cnt * 1000 + hid)
    for _ in range(60):
        a, b = int(rng.integers(-(2**20), 2**20)), int(rng.integers(1, 2**15)) * int(rng.choice([-1, 1]))
        calls.append(("fdivq", a, b))
        want.append(int(np.trunc(np.float32(a) / np.float32(b) * np.float32(1000.0))))
        calls.append(("ldivq", a, b))
        want.append(c_div(c_div(a * 1000003, b)[0], 100000)[1])
    stab, names = [5, -7, 11, 13, 99, 1234, -3, 8], ["alpha", "beta", "gamma", "delta"]
    for a in range(-2, 10):
        for b in (0, 1, 2, 3, 6):
            calls.append(("lookup", a, b))
            want.append(([10, 21, 32, 43, 54, 65, 76, 87][a] if 0 <= a < 8 else -1) + ord(names[b & 3][1])
                        + stab[a & 7])
    for n in (0, 5, 63, 64 + 9):
        for c in (0, 200):
            buf = [c if i < (n & 63) else i for i in range(64)]
            s = 0
            for v in buf:
                s = s * 3 + v
            calls.append(("fill", n, c))
            want.append(s & 0xFFFFFFF)
    _, got = call(arch, elf, qstrs, calls)
    bad = [(c, g, w) for c, g, w in zip(calls, got, want) if g != w]
    assert not bad, (arch, bad[:5])
