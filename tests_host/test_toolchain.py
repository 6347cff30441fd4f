"""The project's native-module toolchain (toolchain/): test module built for every
own arch, run on the real unix port (x64), inspected for the others; error cases."""
from __future__ import annotations

import ast
import struct
from pathlib import Path

import numpy as np
import pytest
from mpyld.abi import (ARCH_CODES, MPY_SUB_VERSION, MPY_VERSION, SLOT, SMALL_INT_BITS, feature_byte, kind_name,
                       slot_kind, word_size)
from mpyld.arch import LinkContext
from mpyld.arches import ARCHES, get_arch
from mpyld.link import Linker

from natmod_util import (OWN_ARCHES, REPO, build_natmod, built_testmod, cc_query, compile_c, inspect, make_testmod, mpyld,
                         run_micropython)

MPY_HEADER_VERSION = f"{MPY_VERSION}.{MPY_SUB_VERSION}"  # as the inspector prints it


def mpy_header(arch: str) -> bytes:
    """The first 4 bytes of a native .mpy for ``arch``."""
    return bytes([ord("M"), MPY_VERSION, feature_byte(ARCH_CODES[arch]), SMALL_INT_BITS])
CROSS = {"armv6m": ["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0"],
         "armv7m": ["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m3"],
         "rv32imc": ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32", "-mno-relax"],
         "x64": ["gcc", "-fno-stack-protector"]}


@pytest.fixture(scope="module")
def built() -> Path:
    return built_testmod()


def _run_x64(built: Path, code: str) -> list:
    prelude = "import testmod, gc\ndef out(*a):\n    print(repr(a if len(a) > 1 else a[0]))\n"
    r = run_micropython(prelude + code, built / "dist" / "x64")
    assert r.returncode == 0, r.stdout + r.stderr
    return [ast.literal_eval(line) for line in r.stdout.splitlines()]


def test_x64_ints_floats_buffers(built):
    data = bytes(range(7, 250, 3))
    f32 = np.array([1.5, -2.25, 3.0, 1e-3], dtype=np.float32)
    out = _run_x64(built, f"""
import array
out(testmod.add_ints(2, 40), testmod.add_ints(-7, 3))
out(testmod.int_div(17, 5), testmod.int_div(-17, 5))
out(testmod.fmadd(1.5, 2.0, 0.25), testmod.fdiv(1, 3), testmod.pi_ish)
out(testmod.buf_sum({data!r}), testmod.buf_sum(bytearray({data!r})))
a = array.array('f', {f32.tolist()!r})
out(testmod.scale_f32(a, 2.5), list(a))
out(testmod.lookup(0), testmod.lookup(7), testmod.bump(), testmod.bump(), testmod.copy_fill(3))
out(testmod.sum_args(1), testmod.sum_args(1, 2, 3, 4))
""")
    assert out[0] == (42, -4)
    # C division truncates toward zero; the module returns (quotient, remainder).
    assert out[1] == ((17 // 5, 17 % 5), (int(-17 / 5), -17 - int(-17 / 5) * 5))
    assert out[2] == (1.5 * 2.0 + 0.25, 1 / 3, 3.25)
    assert out[3] == (sum(data), sum(data))
    assert out[4][0] == len(f32)
    np.testing.assert_array_equal(np.array(out[4][1], dtype=np.float32), f32 * np.float32(2.5))
    assert out[5] == (0, 49, 1, 2, 3 * sum(range(24)))
    assert out[6] == (1, 10)


def test_x64_exceptions(built):
    out = _run_x64(built, """
def catch(f, *a):
    try:
        f(*a)
    except Exception as e:
        return (type(e).__name__, str(e))
    return None
out(catch(testmod.int_div, 1, 0))
out(catch(testmod.lookup, 8))
out(catch(testmod.Accum, 0))
out(catch(testmod.sum_args, 1, 2, 3, 4, 5))
out(catch(testmod.buf_sum, 5))
out(catch(testmod.scale_f32, bytearray(4), 1.0))
try:
    testmod.fail(1)
except ValueError as e:
    out(type(e).__name__, str(e), isinstance(e, testmod.TestError), issubclass(testmod.TestError, ValueError))
out(testmod.consts(), testmod.twice(21))
ok, res = testmod.try_call(lambda: 5)
bad, exc = testmod.try_call(lambda: 1 // 0)
out(ok, res, bad, type(exc).__name__)
""")
    assert out[0] == ("ValueError", "testmod: divide by zero")
    assert out[1] == ("IndexError", "testmod: index out of range")
    assert out[2] == ("ValueError", "Accum: n must be positive")
    assert out[3][0] == "TypeError"
    assert out[4][0] == "TypeError"
    assert out[5] == ("TypeError", "expected array('f')")
    assert out[6] == ("TestError", "testmod failure", True, True)
    assert out[7] == ((b"", (), True), 42)
    assert out[8] == (True, 5, False, "ZeroDivisionError")


def test_x64_class_and_gc(built):
    rng = np.random.default_rng(1)
    n = 500
    idx = rng.integers(0, n, 2000)
    val = rng.integers(-1000, 1000, 2000)
    expected = np.zeros(n, dtype=np.int64)
    np.add.at(expected, idx, val)
    out = _run_x64(built, f"""
idx = {idx.tolist()!r}
val = {val.tolist()!r}
acc = testmod.Accum({n})
for i, v in zip(idx, val):
    acc.add(i, v)
del idx, val
gc.collect()
junk = [bytearray(64) for _ in range(3000)]
junk = None
gc.collect()
out(acc.size(), acc.total(), [acc.get(i) for i in range({n})])
out(type(acc).__name__, type(testmod.Accum).__name__, testmod.add_ints(1, 1), testmod.bump())
""")
    assert out[0][0] == n
    assert out[0][1] == int(expected.sum())
    assert out[0][2] == expected.tolist()
    assert out[1] == ("Accum", "type", 2, 1)


def test_x64_stream_readinto(built):
    payload = bytes((i * 37 + 11) & 0xFF for i in range(300))
    out = _run_x64(built, f"""
import io
class Src:
    def __init__(self, data):
        self.data = data
        self.calls = 0
    def readinto(self, buf):
        self.calls += 1
        n = min(len(buf), len(self.data))
        buf[:n] = self.data[:n]
        self.data = self.data[n:]
        return n
s = Src({payload!r})
out(testmod.read_sum(s, 100), testmod.read_sum(s, 500), testmod.read_sum(s, 10), s.calls)
out(testmod.read_sum(io.BytesIO({payload!r}), 1000))
""")
    assert out[0] == ((100, sum(payload[:100])), (200, sum(payload[100:])), (0, 0), 3)
    assert out[1] == (300, sum(payload))


@pytest.mark.parametrize("arch", OWN_ARCHES)
def test_inspector_every_arch(built, arch):
    path = built / "dist" / arch / "testmod.mpy"
    d = inspect(path)
    assert d["arch"] == arch and d["arch_number"] == ARCH_CODES[arch]
    assert d["version"] == MPY_HEADER_VERSION and d["arch_flags"] is None and d["small_int_bits"] == SMALL_INT_BITS
    raw = path.read_bytes()
    assert raw[:4] == mpy_header(arch)
    assert d["qstrs"][0] == "testmod.mpy" and "Accum" in d["qstrs"] and "readinto" not in d["qstrs"]
    # every loader relocation targets a known destination (the reader validates kinds and bounds)
    assert d["uses_fun_table"] and d["relocations"] > 0 and d["bad_relocations"] == []
    assert d["relocations_by_kind"]["bss"] >= 1 and d["bss_size"] >= 4
    assert kind_name(slot_kind(SLOT["type_fun_builtin_1"])) in d["imported_slots"]
    word = word_size(ARCH_CODES[arch])
    assert d["text_size"] % word == 0


@pytest.mark.parametrize("arch", ["xtensa", "xtensawin"])
def test_inspector_xtensa_builds_of_the_same_module(arch):
    """With the Xtensa arch module, the same test module builds for all seven arches."""
    path = built_testmod(("xtensa", "xtensawin")) / "dist" / arch / "testmod.mpy"
    d = inspect(path)
    assert d["arch"] == arch and d["arch_number"] == ARCH_CODES[arch] and d["version"] == MPY_HEADER_VERSION
    assert path.read_bytes()[:4] == mpy_header(arch)
    assert d["relocations"] > 0 and "Accum" in d["qstrs"]


def test_the_linker_is_the_context_every_arch_module_is_written_against():
    """mpyld.link.Linker offers every service of the plug-in protocol (arch.LinkContext) to each arch."""
    for arch in ARCHES:
        assert isinstance(Linker(get_arch(arch), []), LinkContext), arch


def test_unix_rejects_wrong_arch(built):
    r = run_micropython("import testmod", built / "dist" / "armv6m")
    assert r.returncode != 0
    assert "ValueError: incompatible .mpy arch" in r.stdout + r.stderr


def test_deterministic(built, tmp_path):
    r = make_testmod(tmp_path, ("x64", "armv6m", "rv32imc"))
    assert r.returncode == 0, r.stderr
    for arch in ("x64", "armv6m", "rv32imc"):
        a = (built / "dist" / arch / "testmod.mpy").read_bytes()
        b = (tmp_path / "dist" / arch / "testmod.mpy").read_bytes()
        assert a == b, arch


def test_inspect_flags_garbled_relocated_word(built, tmp_path):
    from mpyld.mpyfile import read_mpy
    raw = bytearray((built / "dist" / "armv6m" / "testmod.mpy").read_bytes())
    info = read_mpy(bytes(raw))
    r = next(r for r in info.relocs if r.kind == 2 and r.blob == "text")
    start = bytes(raw).index(info.text)
    raw[start + r.offset:start + r.offset + 4] = (0x7FFFFFF0).to_bytes(4, "little")
    p = tmp_path / "garbled.mpy"
    p.write_bytes(bytes(raw))
    res = mpyld("inspect", str(p))
    assert res.returncode == 1 and "BAD relocation" in res.stdout and "bss" in res.stdout


def test_inspect_rejects_corrupt(built, tmp_path):
    good = (built / "dist" / "x64" / "testmod.mpy").read_bytes()
    cases = {"trunc": good[: len(good) // 2], "magic": b"X" + good[1:], "tail": good + b"\0",
             "ver": good[:1] + b"\x05" + good[2:]}
    for name, data in cases.items():
        p = tmp_path / f"{name}.mpy"
        p.write_bytes(data)
        r = mpyld("inspect", str(p))
        assert r.returncode != 0 and "error" in r.stderr, name


# ----------------------------------------------------------------- link errors

def _link(arch: str, objs, tmp_path: Path, *extra: str):
    return mpyld("link", "--arch", arch, "-o", str(tmp_path / "out.mpy"), *extra, *map(str, objs))


SRC_UNDEF = """#include "py/dynruntime.h"
int helper_that_does_not_exist(int);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)self; (void)n_args; (void)n_kw; (void)args;
    return mp_obj_new_int(helper_that_does_not_exist(3));
}
"""

SRC_STATIC_BSS = """#include "py/dynruntime.h"
static int hidden_counter;
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)self; (void)n_args; (void)n_kw; (void)args;
    hidden_counter += 1;
    return mp_obj_new_int(hidden_counter);
}
"""

SRC_DATA = """#include "py/dynruntime.h"
int initialised = 5;
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)self; (void)n_args; (void)n_kw; (void)args;
    return mp_obj_new_int(initialised);
}
"""


@pytest.mark.parametrize("arch", ["x64", "armv6m", "rv32imc"])
def test_undefined_symbol(tmp_path, arch):
    (tmp_path / "u.c").write_text(SRC_UNDEF)
    compile_c(CROSS[arch], tmp_path / "u.c", tmp_path / "u.o")
    r = _link(arch, [tmp_path / "u.o"], tmp_path)
    assert r.returncode == 1
    assert "undefined symbol: helper_that_does_not_exist" in r.stderr and "u.o" in r.stderr


@pytest.mark.parametrize("arch", ["x64", "armv6m", "rv32imc"])
def test_static_bss_is_a_clear_error(tmp_path, arch):
    (tmp_path / "s.c").write_text(SRC_STATIC_BSS)
    compile_c(CROSS[arch], tmp_path / "s.c", tmp_path / "s.o")
    r = _link(arch, [tmp_path / "s.o"], tmp_path)
    assert r.returncode == 1
    assert "bss symbol" in r.stderr and "s.o" in r.stderr and "non-static" in r.stderr


def test_initialised_data_is_a_clear_error_where_text_is_not_ram(tmp_path):
    (tmp_path / "d.c").write_text(SRC_DATA)
    compile_c(CROSS["rv32imc"], tmp_path / "d.c", tmp_path / "d.o")
    r = _link("rv32imc", [tmp_path / "d.o"], tmp_path)
    assert r.returncode == 1 and ".data" in r.stderr and "d.o" in r.stderr


def test_initialised_data_works_on_x64(tmp_path):
    """Where native text is writable RAM (unix, ARM), .data lives in text."""
    (tmp_path / "d.c").write_text(SRC_DATA.replace("return mp_obj_new_int(initialised);",
                                                   "initialised += 1;\n    return mp_obj_new_int(initialised);")
                                  .replace("mp_obj_t mpy_init", "static mp_obj_t get(void) {\n"
                                           "    initialised *= 10;\n    return mp_obj_new_int(initialised);\n}\n"
                                           "static MP_DEFINE_CONST_FUN_OBJ_0(get_obj, get);\nmp_obj_t mpy_init")
                                  .replace("    initialised += 1;", "    initialised += 1;\n"
                                           "    mp_store_global(MP_QSTR_get, MP_OBJ_FROM_PTR(&get_obj));"))
    build_natmod(CROSS["x64"], "x64", tmp_path / "d.c", tmp_path / "dmod.mpy")
    r = run_micropython("import dmod\nprint(dmod.get(), dmod.get())", tmp_path)
    assert r.stdout.split() == ["60", "600"], r.stdout + r.stderr


def test_unsupported_relocation(tmp_path):
    # movw/movt absolute addressing (non-PIC) cannot be relocated by the loader.
    (tmp_path / "m.s").write_text(
        ".syntax unified\n.thumb\n.text\n.global mpy_init\n.type mpy_init, %function\n.thumb_func\n"
        "mpy_init:\n movw r0, #:lower16:far_table\n movt r0, #:upper16:far_table\n bx lr\n"
        ".section .rodata\n.global far_table\nfar_table: .word 1\n")
    compile_c(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m3"], tmp_path / "m.s", tmp_path / "m.o")
    r = _link("armv7m", [tmp_path / "m.o"], tmp_path)
    assert r.returncode == 1
    assert "unsupported relocation R_ARM_THM_MOVW_ABS_NC" in r.stderr
    assert "far_table" in r.stderr and "m.o" in r.stderr


def test_corrupt_and_wrong_arch_object(built, tmp_path):
    bad = tmp_path / "bad.o"
    bad.write_bytes(b"\x7fELF" + bytes(60) + b"garbage")
    r = _link("x64", [bad], tmp_path)
    assert r.returncode == 1 and "bad.o" in r.stderr and "corrupt" in r.stderr
    x64_obj = built / "build" / "x64" / "testmod" / "testmod.o"
    r = _link("armv6m", [x64_obj], tmp_path)
    assert r.returncode == 1 and "wrong-arch object" in r.stderr and "EM_X86_64" in r.stderr


def test_missing_toolchain_names_package(tmp_path):
    r = make_testmod(tmp_path, ("armv6m",), "NATMOD_CC_armv6m=arm-none-eabi-gcc-not-installed")
    assert r.returncode != 0
    assert "apt-get install -y gcc-arm-none-eabi" in r.stderr
    r = make_testmod(tmp_path, ("rv32imc",), "toolchains", "NATMOD_NO_INSTALL=1",
                     "NATMOD_CC_rv32imc=riscv-not-installed-gcc")
    assert r.returncode != 0
    assert "apt-get install -y gcc-riscv64-unknown-elf" in r.stderr


def test_qstrs_in_included_headers_are_found(tmp_path):
    """MicroPython's kit takes qstrs from the preprocessed sources, so a name used only in a header
    the module includes with #include "..." (next to the source, or in a -I folder) gets its entry,
    and a name only in a comment does not; headers that are not found (the C library's, the kit's
    own) are not scanned."""
    (tmp_path / "src").mkdir()
    (tmp_path / "inc").mkdir()
    (tmp_path / "src" / "m.c").write_text('#include "local.h"\n#include "shared.h"\n#include <stdio.h>\n'
                                          '#include "missing.h"\nint f(void) { return MP_QSTR_in_source; }\n'
                                          '/* MP_QSTR_in_comment */ // #include "commented.h" MP_QSTR_in_line\n'
                                          'const char *s = "MP_QSTR_in_string // kept";\n')
    (tmp_path / "src" / "commented.h").write_text("#define D MP_QSTR_in_commented_out_header\n")
    (tmp_path / "src" / "local.h").write_text('#include "nested.h"\n#define A MP_QSTR_in_local\n')
    (tmp_path / "src" / "nested.h").write_text('#define B MP_QSTR_in_nested\n#include "local.h"\n')  # a cycle
    (tmp_path / "inc" / "shared.h").write_text("#define C MP_QSTR_in_shared\n")
    hdr, dep = tmp_path / "q.h", tmp_path / "q.d"
    r = mpyld("qstrs", "-o", str(hdr), "--depfile", str(dep), f"-I{tmp_path / 'inc'}", str(tmp_path / "src" / "m.c"))
    assert r.returncode == 0, r.stderr
    text = hdr.read_text()
    for name in ("in_source", "in_local", "in_nested", "in_shared", "in_string"):
        assert f"#define MP_QSTR_{name} (mp_native_qstr_table[" in text, (name, text)
    for name in ("in_comment", "in_line", "in_commented_out_header"):  # the compiler never sees them
        assert f"MP_QSTR_{name} " not in text, (name, text)
    rule = dep.read_text().splitlines()[0]
    assert rule.startswith(f"{hdr}: ") and all(f in rule for f in ("m.c", "local.h", "nested.h", "shared.h"))
    r = mpyld("qstrs", "-o", str(hdr), str(tmp_path / "src" / "m.c"))  # without -I: shared.h is not found
    assert r.returncode == 0 and "in_shared" not in hdr.read_text() and "in_local" in hdr.read_text()


def test_header_is_freestanding_for_clang(tmp_path):
    hdr = tmp_path / "q.h"
    r = mpyld("qstrs", "-o", str(hdr), str(REPO / "toolchain/tests/testmod/testmod.c"))
    assert r.returncode == 0, r.stderr
    for target in ("x86_64-linux-gnu", "thumbv6m-none-eabi", "riscv32-unknown-elf"):
        compile_c(["clang-19", f"--target={target}", "-nostdlibinc", "-Wall", "-Wextra", "-Werror", "-pedantic"],
                  REPO / "toolchain/tests/testmod/testmod.c", tmp_path / f"t-{target}.o",
                  f'-DMP_CONFIGFILE="{hdr}"')


def test_vuint_and_reloc_stream_roundtrip():
    from mpyld.mpyfile import LoaderReloc, MpyImage, read_mpy, vuint, write_mpy
    assert vuint(0) == b"\0" and vuint(127) == b"\x7f" and vuint(128) == b"\x81\x00"
    relocs = [LoaderReloc("text", 8, 2), LoaderReloc("text", 12, 2), LoaderReloc("text", 16, 8),
              LoaderReloc("text", 40, 9 + 78), LoaderReloc("rodata", 4, 0)]
    img = MpyImage(4, 4, ["m.mpy", "abc"], bytes(64), bytes(8), 12, relocs)
    info = read_mpy(write_mpy(img))
    got = sorted((r.blob, r.offset, r.kind) for r in info.relocs)
    assert got == sorted((r.blob, r.offset, r.kind) for r in relocs)
    assert (info.text_size, info.rodata_size, info.bss_size, info.qstrs) == (64, 8, 12, ["m.mpy", "abc"])
    # the two consecutive bss words are one run: op (2<<1|1)<<1|1, loc 2<<1, count 2
    stream = write_mpy(img)[-16:]
    assert bytes([((2 << 1 | 1) << 1) | 1, 4, 2]) in stream
    assert struct.pack("B", 0xFF) == stream[-1:]


SRC_COMMON = """#include "py/dynruntime.h"
int tentative;
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)self; (void)n_args; (void)n_kw; (void)args;
    return mp_obj_new_int(tentative);
}
"""


def test_common_symbol_is_a_clear_error(tmp_path):
    (tmp_path / "c.c").write_text(SRC_COMMON)
    compile_c(CROSS["x64"], tmp_path / "c.c", tmp_path / "c.o", "-fcommon")
    r = _link("x64", [tmp_path / "c.o"], tmp_path)
    assert r.returncode == 1 and "tentative" in r.stderr and "-fno-common" in r.stderr


def test_debug_info_and_ld_script_archive(built, tmp_path):
    """-g objects link (debug sections dropped); a GNU ld script naming libgcc.a is followed."""
    src = REPO / "toolchain/tests/testmod/testmod.c"
    hdr = built / "build" / "qstrs" / "testmod.h"
    cc = CROSS["armv6m"]
    compile_c(cc, src, tmp_path / "t.o", "-g", f'-DMP_CONFIGFILE="{hdr}"')
    libgcc = cc_query(cc, "-print-libgcc-file-name")
    script = tmp_path / "libhelpers.a"
    script.write_text(f"/* GNU ld script */\nGROUP ( {libgcc} AS_NEEDED ( {libgcc} ) )\n")
    out = tmp_path / "testmod.mpy"
    r = mpyld("link", "--arch", "armv6m", "--qstrs", str(hdr), "-o", str(out), str(tmp_path / "t.o"), "-l", str(script))
    assert r.returncode == 0, r.stderr
    # -g does not change the linked bytes
    compile_c(cc, src, tmp_path / "n.o", f'-DMP_CONFIGFILE="{hdr}"')
    ref = tmp_path / "ref" / "testmod.mpy"
    r = mpyld("link", "--arch", "armv6m", "--qstrs", str(hdr), "-o", str(ref), str(tmp_path / "n.o"), "-l", libgcc)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes()
