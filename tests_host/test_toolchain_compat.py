"""The kit builds natmod code written for MicroPython: the thin py/*.h headers and the names
they give (toolchain/tests/compat/compatmod.c), mp_obj_cast_to_native_base with MicroPython's
semantics (also for Python subclasses), and runtime libraries per module (libmod.c, `m c`).
compatmod is built for all seven arches and run on the unix port; libmod runs on the unix port
(x64, musl) and on emulated Cortex-M0/M4F and RV32 CPUs (newlib, picolibc)."""
from __future__ import annotations

import ast
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

import toolreg
import pythonpath
from natmod_util import PYTHON, REPO, NatmodEmu, inspect, run_micropython

ALL_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "xtensa", "xtensawin", "rv32imc")
LIB_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "rv32imc")
ARCH_NUMBERS = {"x64": 2, "armv6m": 4, "armv7m": 5, "armv7emsp": 7, "xtensa": 9, "xtensawin": 10, "rv32imc": 11}


def _make(root: Path, *targets: str, arches=ALL_ARCHES) -> subprocess.CompletedProcess:
    cmd = [toolreg.which("make"), "-s", "-j2", "-f", "toolchain/tests/compat.mk", f"NATMOD_BUILD={root}/build",
           f"NATMOD_DIST={root}/dist", f"NATMOD_ARCHES={' '.join(arches)}", f"PYTHON={PYTHON}", *targets]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=pythonpath.env(), timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("compat")
    r = _make(root, "natmod-compatmod", *(f"{root}/dist/{a}/libmod.mpy" for a in LIB_ARCHES))
    assert r.returncode == 0, r.stdout + r.stderr
    return root


def _run(built: Path, code: str) -> list:
    prelude = "import compatmod as c, libmod\ndef out(*a):\n    print(repr(a if len(a) > 1 else a[0]))\n"
    r = run_micropython(prelude + code, built / "dist" / "x64")
    assert r.returncode == 0, r.stdout + r.stderr
    return [ast.literal_eval(line) for line in r.stdout.splitlines()]


def test_compatmod_builds_for_every_arch(built):
    for arch in ALL_ARCHES:
        info = inspect(built / "dist" / arch / "compatmod.mpy")
        assert (info["arch"], info["arch_number"], info["version"]) == (arch, ARCH_NUMBERS[arch], "6.3")


def test_cast_to_native_base(built):
    """NULL for unrelated objects (True False False False), the native base object for instances
    of Python subclasses (also with several bases) and the object itself for a native subtype."""
    out = _run(built, """
class Sub(c.Base):
    pass
class Mixin:
    pass
class Multi(Mixin, Sub):
    pass
class Plain:
    pass
out(c.is_base(c.Base(1)), c.is_base(3), c.is_base((b"", 1, 1, 0)), c.is_base(Plain()))
out(c.is_base(Sub(5)), c.base_value(Sub(5)), c.base_value(Multi(7)), c.is_base(c.Derived()), c.base_value(c.Derived(9)))
try:
    c.base_value(Plain())
except TypeError as e:
    out(str(e))
""")
    assert out[0] == (True, False, False, False)
    assert out[1] == (True, 5, 7, True, 9)
    assert out[2] == "not a Base"


def test_streams_errno_exceptions(built):
    out = _run(built, """
import errno
s = c.Closer()
s.close()
c.stream_close(s)
out(s.closed())
try:
    c.flush(s)
except OSError as e:
    out(e.errno, errno.EINVAL)
out(c.errnos(), (errno.EINVAL, errno.ENOENT, errno.EAGAIN, errno.ETIMEDOUT))
try:
    c.raise_key("k")
except KeyError as e:
    out(e.args)
e = c.make_value_error(3)
out(type(e).__name__, e.args)
""")
    assert out[0] == 2
    assert out[1] == (22, 22)
    assert out[2][0] == out[2][1]
    assert out[3] == ("k",)
    assert out[4] == ("ValueError", (3,))


def test_memory_floats_misc(built):
    out = _run(built, """
import array
out(c.var_squares(6), c.local_reverse(b"abcdef"), c.local_reverse(b""))
out([c.fall(n) for n in range(8)])
out(c.float_parts(-1.5), c.float_parts(2.0), c.float_parts(0.0))
out(c.array_fields(array.array('h', [1, 2, 3])), c.array_fields(bytearray(5)))
""")
    assert out[0] == ([i * i for i in range(6)], b"fedcba", b"")
    assert out[1] == [0, 1, 11, 111] * 2
    # x64: mp_float_t is double; sign, biased exponent, top 31 fraction bits, field widths
    assert out[2] == ((1, 1023, 1 << 30, 11, 52), (0, 1024, 0, 11, 52), (0, 0, 0, 11, 52))
    assert out[3] == ((ord("h"), 3, 0), (1, 5, 0))


def _f32_maths(x: float) -> list[float]:
    f = np.float32
    x32 = f(x)
    return [float(v) for v in (np.sqrt(x32), np.exp(x32), np.sin(x32), np.round(x32), np.arctan2(x32, f(2)),
                                np.fmod(x32, f(0.75)), np.hypot(x32, f(1.5)), np.arctan(x32))]


def test_libmod_x64_musl(built):
    out = _run(built, "for x in (0.25, 2.0, 7.5):\n    out(libmod.maths(x), libmod.maths_d(x))\n"
                      "out(libmod.strings('0x1f', '0x'), libmod.strings('99999999999999999999999', '1'))")
    for x, (m, d) in zip((0.25, 2.0, 7.5), out[:3]):
        np.testing.assert_allclose(m, _f32_maths(x), rtol=3e-7)
        assert d == (np.sqrt(x), np.floor(x * 3.5))
    # strlen, strchr, memcmp sign, strtol, errno; then strtol saturates and sets errno = ERANGE
    assert out[3] == ((4, 1, 0, 31, 0), (23, -1, 1, 2**63 - 1, 34))


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp", "rv32imc"])
def test_libmod_emulated(built, arch):
    """newlib (ARM) and picolibc (rv32imc) maths run in the emulator (the module's float is float32).
    rv32imc: picolibc's expf used to give expf(2) = -0.611 (e^2 - 8), an absolute %lo paired with the
    wrong lui (mpyld.rv32_flow)."""
    e = NatmodEmu(built / "dist" / arch / "libmod.mpy")
    e.init()
    for x in (0.25, 2.0, 7.5):
        np.testing.assert_allclose(e.call_global("maths", x), _f32_maths(x), rtol=3e-7)
        assert e.call_global("maths_d", x) == (float(np.float32(np.sqrt(x))), float(np.floor(x * 3.5)))


MATHS2_ARGS = ((2.0, 3.0), (0.3, -1.5), (7.5, 0.5))


def _maths2(x: float, y: float, double: bool) -> list[float]:
    """libmod.maths2: float32 functions, then double ones (as float32 unless the module's float is double)."""
    f = np.float32
    x32, y32 = f(x), f(y)
    singles = [np.power(x32, y32), np.log(x32), np.log10(x32), np.log2(x32), np.exp2(x32), np.cbrt(x32), np.cosh(x32)]
    doubles = [math.exp(x), math.sin(x), math.cos(x), math.log(x), math.pow(x, y), math.atan2(x, y)]
    return [float(v) for v in singles] + [v if double else float(f(v)) for v in doubles]


def test_libmod_more_maths_x64(built):
    out = _run(built, "".join(f"out(libmod.maths2({x}, {y}))\n" for x, y in MATHS2_ARGS))
    for (x, y), got in zip(MATHS2_ARGS, out):
        np.testing.assert_allclose(got, _maths2(x, y, double=True), rtol=3e-7)


@pytest.mark.parametrize("arch", ["armv6m", "armv7m", "armv7emsp", "rv32imc"])
def test_libmod_more_maths_emulated(built, arch):
    """powf, logf, log10f, log2f, exp2f, cbrtf, coshf, exp, sin, cos, log, pow, atan2 link from newlib
    and picolibc and compute right. rv32imc used to stop the link ("LO12 without a preceding HI20": picolibc's
    %lo uses carry other addends than their %hi, or come before their lui in the section)."""
    e = NatmodEmu(built / "dist" / arch / "libmod.mpy")
    e.init()
    for x, y in MATHS2_ARGS:
        np.testing.assert_allclose(e.call_global("maths2", x, y), _maths2(x, y, double=False), rtol=3e-7)


@pytest.mark.parametrize("arch", ["xtensa", "xtensawin"])
def test_xtensa_refuses_runtime_libraries(tmp_path, arch):
    r = _make(tmp_path, f"{tmp_path}/dist/{arch}/libmod.mpy", arches=(arch,))
    assert r.returncode != 0
    assert f"module libmod asks for runtime libraries (m c), which arch {arch} does not have" in r.stderr
    assert "no libm" in r.stderr and "C headers (picolibc-xtensa-lx106-elf: declarations only)" in r.stderr


def test_unknown_runtime_library_is_an_error(tmp_path):
    mk = tmp_path / "Makefile"
    mk.write_text(f"PYTHON := {PYTHON}\ninclude {REPO / 'toolchain' / 'natmod.mk'}\n"
                  f"$(eval $(call NATMOD_MODULE,x,{REPO / 'toolchain/tests/compat/libmod.c'},,m pthread))\n")
    r = subprocess.run([toolreg.which("make"), "-s", "-C", str(tmp_path), "NATMOD_ARCHES=x64"], capture_output=True,
                       text=True, env=pythonpath.env(), timeout=60)
    assert r.returncode != 0 and "unknown runtime library 'pthread'" in r.stderr


@pytest.mark.parametrize("header", sorted(p.name for p in (REPO / "toolchain/include/py").glob("*.h")))
def test_each_py_header_compiles_alone(tmp_path, header):
    """Each thin header (and dynruntime.h) is self-contained and clean under -Wextra -pedantic."""
    src = tmp_path / "h.c"
    src.write_text(f'#include "py/{header}"\nint natmod_header_probe;\n')
    cmd = [toolreg.which("gcc"), "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffreestanding",
           f"-I{REPO / 'toolchain/include'}", "-c", "-o", str(tmp_path / "h.o"), str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("call,message", [
    ("tanhf(x)", "libm_math_sf_tanh.c.o): section .sdata holds initialised writable data (12 bytes), which native "
                 "modules on rv32imc cannot have"),
    ("lgammaf(x)", "static (PC-relative) reference to bss symbol '__signgam' from section .text.lgammaf"),
    ("x + (float)strtol(\"7\", 0, 0)", "thread-local data (.tbss) is not supported: a native module has no thread-local "
                                   "storage (a C library's errno, for one)"),
])
def test_picolibc_members_a_module_cannot_have(tmp_path, call, message):
    """rv32imc: picolibc code that keeps writable data, writes a global through an absolute address or
    uses thread-local errno stops the link, naming the member (and, when loading it fails, the function
    that pulled it in)."""
    (tmp_path / "bad.c").write_text(
        '#include "py/dynruntime.h"\n#include <math.h>\n#include <stdlib.h>\n'
        f"static mp_obj_t f(mp_obj_t x_in) {{ float x = (float)mp_obj_get_float(x_in); "
        f"return mp_obj_new_float({call}); }}\n"
        "static MP_DEFINE_CONST_FUN_OBJ_1(f_obj, f);\n"
        "mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {\n"
        "    MP_DYNRUNTIME_INIT_ENTRY\n    mp_store_global(MP_QSTR_f, MP_OBJ_FROM_PTR(&f_obj));\n"
        "    MP_DYNRUNTIME_INIT_EXIT\n}\n")
    (tmp_path / "Makefile").write_text(f"PYTHON := {PYTHON}\ninclude {REPO / 'toolchain' / 'natmod.mk'}\n"
                                       "$(eval $(call NATMOD_MODULE,bad,bad.c,,m c))\nall: $(NATMOD_ALL)\n")
    r = subprocess.run([toolreg.which("make"), "-s", "-C", str(tmp_path), "NATMOD_ARCHES=rv32imc"], capture_output=True,
                       text=True, env=pythonpath.env(), timeout=120)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "this library code" in r.stderr and "cannot be linked into a native module" in r.stderr
    assert ("[loaded for '" in r.stderr) == ("bss symbol" not in message)
