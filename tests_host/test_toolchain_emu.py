"""Execute the test module's ARM and RISC-V builds in unicorn (Cortex-M0 model for
armv6m) through a minimal loader/mp_fun_table, checking results against Python/numpy."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from natmod_util import EmuRaise, NatmodEmu, build_natmod, built_testmod, cc_query, compile_c, make_testmod

import unicorn  # noqa: E402,F401  (in requirements.txt: a missing one is an error)
EMU_ARCHES = ("armv6m", "armv7m", "armv7emsp", "rv32imc")


@pytest.fixture(scope="module")
def dist() -> Path:
    return built_testmod() / "dist"


@pytest.fixture(params=EMU_ARCHES)
def emu(request, dist) -> NatmodEmu:
    e = NatmodEmu(dist / request.param / "testmod.mpy")
    e.init()
    return e


def test_module_init_registers_globals(emu):
    assert {"add_ints", "fmadd", "buf_sum", "read_sum", "Accum", "__mpyld_data__"} <= set(emu.globals)
    assert emu.from_obj(emu.globals["pi_ish"]) == 3.25


def test_ints_and_errors(emu):
    assert emu.call_global("add_ints", 123456, -789) == 123456 - 789
    for a, b in ((17, 5), (-17, 5), (1000003, -7)):
        q = int(a / b)
        assert emu.call_global("int_div", a, b) == (q, a - q * b)
    with pytest.raises(EmuRaise) as exc:
        emu.call_global("int_div", 1, 0)
    assert exc.value.args == ("ValueError", "testmod: divide by zero")
    with pytest.raises(EmuRaise) as exc:
        emu.call_global("lookup", 8)
    assert exc.value.args[0] == "IndexError"
    assert [emu.call_global("lookup", i) for i in range(8)] == [i * i for i in range(8)]
    assert (emu.call_global("bump"), emu.call_global("bump")) == (1, 2)
    assert emu.call_global("copy_fill", 5) == 5 * sum(range(24))
    assert emu.call_global("sum_args", 4, 5, 6, 7) == 22
    assert emu.call_viper("twice", 21) == 42
    with pytest.raises(EmuRaise) as exc:
        emu.call_global("fail", 1)
    assert exc.value.args == ("TestError", "testmod failure")


def test_floats_are_float32(emu):
    f = np.float32
    assert emu.call_global("fmadd", 1.1, 2.3, -0.7) == float(f(f(1.1) * f(2.3)) + f(-0.7))
    assert emu.call_global("fdiv", 1, 3) == float(f(1) / f(3))
    x = np.array([1.5, -2.25, 3.0, 1e-3, 7.77], dtype=np.float32)
    arr = emu.to_obj(("array_f", x))
    n = emu.from_obj(emu.call(emu.r32(emu.globals["scale_f32"] + 4), arr, emu.to_obj(0.5)))
    assert n == len(x)
    got = np.frombuffer(emu.buffer_bytes(arr), dtype=np.float32)
    np.testing.assert_array_equal(got, x * np.float32(0.5))


def test_buffers_stream_and_class(emu):
    data = bytes((i * 7 + 3) & 0xFF for i in range(1000))
    assert emu.call_global("buf_sum", data) == sum(data)
    src = io.BytesIO(data)
    assert emu.call_global("read_sum", src, 600) == (600, sum(data[:600]))
    assert emu.call_global("read_sum", src, 600) == (400, sum(data[600:]))
    rng = np.random.default_rng(7)
    acc = emu.make_new("Accum", 50)
    idx, val = rng.integers(0, 50, 300), rng.integers(-500, 500, 300)
    for i, v in zip(idx.tolist(), val.tolist()):
        emu.method(acc, "add", i, v)
    ref = np.zeros(50, dtype=np.int64)
    np.add.at(ref, idx, val)
    assert [emu.method(acc, "get", i) for i in range(50)] == ref.tolist()
    assert emu.method(acc, "total") == int(ref.sum()) and emu.method(acc, "size") == 50
    with pytest.raises(EmuRaise):
        emu.method(acc, "add", 50, 1)


@pytest.mark.parametrize("arch,cc", [
    ("armv6m", ["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0", "-mfloat-abi=soft"]),
    ("rv32imc", ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32", "-mno-relax"]),
])
def test_far_entry_point(tmp_path, arch, cc):
    """mpy_init 100 KiB into text: the entry trampoline must reach it (armv6m B is +-2 KiB).
    mpy_init reads the pad, so gc-sections keeps it."""
    (tmp_path / "pad.s").write_text(".text\n.global pad_fn\npad_fn:\n.space 102400\n")
    (tmp_path / "m.c").write_text(
        '#include "py/dynruntime.h"\n'
        "extern const char pad_fn[];\n"
        "mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {\n"
        "    MP_DYNRUNTIME_INIT_ENTRY\n"
        "    mp_store_global(MP_QSTR_answer, mp_obj_new_int(42 + pad_fn[102399]));\n"
        "    MP_DYNRUNTIME_INIT_EXIT\n}\n")
    compile_c(cc, tmp_path / "pad.s", tmp_path / "pad.o")
    out = build_natmod(cc, arch, tmp_path / "m.c", tmp_path / "far.mpy", objects=[tmp_path / "pad.o"])
    assert NatmodEmu(out).info.text_size > 102400
    e = NatmodEmu(out)
    e.init()
    assert e.from_obj(e.globals["answer"]) == 42


LIBM_SRC = """#include "py/dynruntime.h"
float expf(float);
float sqrtf(float);
float sinf(float);
static mp_obj_t f(mp_obj_t x_in) {
    float x = (float)mp_obj_get_float(x_in);
    return mp_obj_new_float(expf(x) + sqrtf(x) + sinf(x));
}
static MP_DEFINE_CONST_FUN_OBJ_1(f_obj, f);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_f, MP_OBJ_FROM_PTR(&f_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""


@pytest.mark.parametrize("arch,flags", [
    ("armv6m", ["-mthumb", "-mcpu=cortex-m0", "-mfloat-abi=soft"]),
    ("armv7emsp", ["-mthumb", "-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]),
])
def test_newlib_libm_members(tmp_path, arch, flags):
    """expf/sqrtf/sinf pulled from newlib's libm.a (wrappers need __fdlib_version .data and __errno)."""
    cc = ["arm-none-eabi-gcc", *flags]
    libs = [cc_query(cc, q) for q in ("-print-libgcc-file-name", "-print-file-name=libm.a")]
    (tmp_path / "m.c").write_text(LIBM_SRC)
    out = build_natmod(cc, arch, tmp_path / "m.c", tmp_path / "lm.mpy", libs=libs)
    e = NatmodEmu(out)
    e.init()
    f = np.float32
    for x in (0.5, 2.0, 7.25):
        ref = float(f(f(np.exp(f(x))) + f(np.sqrt(f(x)))) + f(np.sin(f(x))))
        assert e.call_global("f", x) == pytest.approx(ref, rel=2e-7)


def test_function_sections_build(tmp_path):
    """-ffunction-sections/-fdata-sections objects (many small sections) link and run."""
    common = ("NATMOD_CFLAGS_COMMON=-std=c99 -Os -Wall -Wextra -Werror -ffreestanding -fpic -fno-common "
              "-fno-asynchronous-unwind-tables -U_FORTIFY_SOURCE -Itoolchain/include "
              "-ffunction-sections -fdata-sections")
    r = make_testmod(tmp_path, ("armv6m", "rv32imc"), common)
    assert r.returncode == 0, r.stderr
    for arch in ("armv6m", "rv32imc"):
        e = NatmodEmu(tmp_path / "dist" / arch / "testmod.mpy")
        e.init()
        assert e.call_global("add_ints", 20, 22) == 42
        assert e.call_global("lookup", 6) == 36
        assert e.call_global("read_sum", io.BytesIO(b"\x01\x02\x03"), 8) == (3, 6)


@pytest.mark.parametrize("arch,target", [("armv6m", ["--target=thumbv6m-none-eabi", "-mcpu=cortex-m0"]),
                                         ("armv7m", ["--target=thumbv7m-none-eabi", "-mcpu=cortex-m3"]),
                                         ("rv32imc", ["--target=riscv32-unknown-elf", "-march=rv32imc", "-mno-relax"])])
def test_clang_build_runs(tmp_path, arch, target):
    """clang-19 objects (R_ARM_GOT_PREL, __aeabi_memcpy4 ...) link and run."""
    src = Path(__file__).resolve().parents[1] / "toolchain/tests/testmod/testmod.c"
    gcc = {"armv6m": ["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0"],
           "armv7m": ["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m3"],
           "rv32imc": ["riscv64-unknown-elf-gcc", "-march=rv32imc", "-mabi=ilp32"]}[arch]
    libgcc = cc_query(gcc, "-print-libgcc-file-name")
    out = build_natmod(["clang-19", *target, "-nostdlibinc"], arch, src, tmp_path / "testmod.mpy", libs=[libgcc])
    e = NatmodEmu(out)
    e.init()
    assert e.call_global("int_div", -17, 5) == (-3, -2)
    assert e.call_global("copy_fill", 3) == 3 * sum(range(24))
    f = np.float32
    assert e.call_global("fmadd", 1.1, 2.3, 0.25) == float(f(f(1.1) * f(2.3)) + f(0.25))
    assert e.call_global("read_sum", io.BytesIO(b"hello"), 10) == (5, sum(b"hello"))
    assert e.call_viper("twice", 4) == 8


AEABI_SRC = """#include "py/dynruntime.h"
void __aeabi_memset(void *d, size_t n, int c);
void __aeabi_memclr4(void *d, size_t n);
void __aeabi_memcpy(void *d, const void *s, size_t n);
void __aeabi_memmove8(void *d, const void *s, size_t n);
static mp_obj_t fill(mp_obj_t buf_in) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(buf_in, &b, MP_BUFFER_RW);
    uint8_t *p = (uint8_t *)b.buf;
    __aeabi_memset(p, b.len, 0x5A);
    __aeabi_memclr4(p + 4, 4);
    __aeabi_memcpy(p + 9, "xyz", 3);
    __aeabi_memmove8(p + 12, p + 9, 3);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(fill_obj, fill);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_fill, MP_OBJ_FROM_PTR(&fill_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""


def test_arm_aeabi_memory_helpers(tmp_path):
    (tmp_path / "a.c").write_text(AEABI_SRC)
    out = build_natmod(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0"], "armv6m", tmp_path / "a.c",
                       tmp_path / "a.mpy")
    e = NatmodEmu(out)
    e.init()
    buf = e.to_obj(bytearray(20))
    e.call(e.r32(e.globals["fill"] + 4), buf)
    ref = bytearray(b"\x5a" * 20)
    ref[4:8] = bytes(4)
    ref[9:12] = b"xyz"
    ref[12:15] = ref[9:12]
    assert e.buffer_bytes(buf) == bytes(ref)


@pytest.mark.parametrize("setjmp", [False, True], ids=["native-nlr", "setjmp-nlr"])
@pytest.mark.parametrize("arch", ["armv6m", "rv32imc"])
def test_nlr_push_both_firmware_flavours(dist, arch, setjmp):
    """nlr_push catches an exception raised by called code, with native nlr (slot 49 NULL) and
    with setjmp-based firmware (slot 32 = nlr_push_tail, slot 49 = setjmp)."""
    e = NatmodEmu(dist / arch / "testmod.mpy", setjmp=setjmp)
    e.init()

    def bad():
        raise EmuRaise("ZeroDivisionError", "divide by zero")

    assert e.call_global("try_call", lambda: 5) == (True, 5)
    ok, exc = e.call_global("try_call", bad)
    assert ok is False and exc.args == ("ZeroDivisionError", "divide by zero")
    assert e.call_global("add_ints", 1, 2) == 3 and e.nlr == []


UNALIGNED_SRC = """#include "py/dynruntime.h"
static mp_obj_t rd(mp_obj_t buf_in, mp_obj_t off_in) {
    mp_buffer_info_t b;
    mp_get_buffer_raise(buf_in, &b, MP_BUFFER_READ);
    const volatile uint32_t *p = (const volatile uint32_t *)((const uint8_t *)b.buf + mp_obj_get_int(off_in));
    return mp_obj_new_int_from_uint(*p & 0xFFFF);
}
static MP_DEFINE_CONST_FUN_OBJ_2(rd_obj, rd);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_rd, MP_OBJ_FROM_PTR(&rd_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""


def test_armv6m_emulation_catches_unaligned_access(tmp_path):
    """The emulator's Cortex-M0 faults on unaligned word loads like an RP2040 (a 'hang' on the board)."""
    from natmod_util import EmuFault, EmuObj
    (tmp_path / "u.c").write_text(UNALIGNED_SRC)
    out = build_natmod(["arm-none-eabi-gcc", "-mthumb", "-mcpu=cortex-m0"], "armv6m", tmp_path / "u.c",
                       tmp_path / "u.mpy")
    e = NatmodEmu(out)
    e.init()
    buf = EmuObj(e.to_obj(bytes(range(16))))
    assert e.call_global("rd", buf, 4) == 0x0504
    with pytest.raises(EmuFault, match="unaligned 4-byte access"):
        e.call_global("rd", buf, 1)
