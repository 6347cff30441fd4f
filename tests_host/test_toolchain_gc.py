"""Dead-code elimination in mpyld (gc-sections), on every arch.

A module built by the kit's make rules (-ffunction-sections -fdata-sections, `mpyld link` with its
default --gc-sections) must not contain an unused global function, unused const data or the archive
member only that dead code needs, and must still contain a function reached only through a
function-pointer table in rodata (executed on the unix port and in the ARM/RISC-V emulator).
Linked again in-process with gc_sections=False, the dropped bytes are all there.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import toolreg

from mpyld.arches import get_arch
from mpyld.elfobj import ObjectFile
from mpyld.errors import LinkError
from mpyld.link import Linker
from mpyld.mpyfile import write_mpy
from mpyld.qstrs import parse_header

from natmod_util import TOOLCHAIN, NatmodEmu, compile_c, inspect, mpyld, run_micropython

MAKE = toolreg.which("make")
ALL_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "xtensa", "xtensawin", "rv32imc")
EMU_ARCHES = ("armv6m", "armv7m", "armv7emsp", "rv32imc")

USED = b"mpyld-gc: used bytes ##"
UNUSED = b"mpyld-gc: unused bytes!"
RETAINED = b"mpyld-gc: retained (R)!"
# The compiler helper behind the dead 64-bit (x64: 128-bit) division, per arch.
DIV_HELPER = {"x64": "__udivti3", "armv6m": "__aeabi_uldivmod", "armv7m": "__aeabi_uldivmod",
              "armv7emsp": "__aeabi_uldivmod", "xtensa": "__udivdi3", "xtensawin": "__udivdi3",
              "rv32imc": "__udivdi3"}

GC_C = r"""
#include "py/dynruntime.h"
#if defined(__x86_64__)
typedef unsigned __int128 gc_div_t;
#else
typedef uint64_t gc_div_t;
#endif

/* Reached from mpy_init: kept. */
const char gc_used_bytes[] = "mpyld-gc: used bytes ##";
/* Nothing refers to these: dropped (and linked with --no-gc-sections). */
const char gc_unused_bytes[] = "mpyld-gc: unused bytes!";
int gc_unused_fn(int a, int b) {
    return ((a ^ 0x2d) + (a << 5) - (b >> 3)) ^ (b * 9 + 77);
}
/* The only user of a compiler helper from libgcc / the Xtensa runtime archive. */
gc_div_t gc_unused_div(gc_div_t a, gc_div_t b) {
    return a / b;
}
#ifdef GC_MISSING
int gc_missing_helper(int);
int gc_unused_calls_missing(int x) { return gc_missing_helper(x) + 1; }
#endif
/* SHF_GNU_RETAIN ("R"; __attribute__((retain)) where GCC supports it): kept although nothing
   refers to it. */
__asm__(".section .rodata.gc_retained_bytes,\"aR\"\n.ascii \"mpyld-gc: retained (R)!\"\n.previous\n");

/* Reached only through the function-pointer table (rodata / .data.rel.ro). */
static int gc_op_add(int a, int b) { return a + b; }
static int gc_op_sub3(int a, int b) { return a - 3 * b; }
int (*const gc_ops[2])(int, int) = {gc_op_add, gc_op_sub3};

static mp_obj_t apply(mp_obj_t i_in, mp_obj_t a_in, mp_obj_t b_in) {
    mp_int_t i = mp_obj_get_int(i_in);
    return mp_obj_new_int(gc_ops[i & 1](mp_obj_get_int(a_in), mp_obj_get_int(b_in)) + gc_used_bytes[i % 23]);
}
static MP_DEFINE_CONST_FUN_OBJ_3(apply_obj, apply);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_apply, MP_OBJ_FROM_PTR(&apply_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
"""


def apply_ref(i: int, a: int, b: int) -> int:
    return (a + b if i % 2 == 0 else a - 3 * b) + USED[i % 23]


@pytest.fixture(scope="module")
def gcbuild(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gcmod and gcmiss (the same source with -DGC_MISSING) for every arch, by the make rules."""
    root = tmp_path_factory.mktemp("gcbuild")
    (root / "src").mkdir()
    (root / "src" / "gcmod.c").write_text(GC_C)
    (root / "Makefile").write_text(
        f"PYTHON := {sys.executable}\ninclude {TOOLCHAIN / 'natmod.mk'}\n"
        "$(eval $(call NATMOD_MODULE,gcmod,src/gcmod.c,))\n"
        "$(eval $(call NATMOD_MODULE,gcmiss,src/gcmod.c,-DGC_MISSING))\n"
        "libs-%:\n\t@echo $(NATMOD_LIBS_$*)\n")
    r = subprocess.run([MAKE, "-s", "-C", str(root), "NATMOD_BUILD=build", "NATMOD_DIST=dist",
                        f"NATMOD_ARCHES={' '.join(ALL_ARCHES)}", "natmod-gcmod", "natmod-gcmiss"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return root


def _libs(root: Path, arch: str) -> list[Path]:
    out = subprocess.run([MAKE, "-s", "--no-print-directory", "-C", str(root), "NATMOD_BUILD=build",
                          f"libs-{arch}"], capture_output=True, text=True, check=True).stdout.split()
    return [p if p.is_absolute() else root / p for p in map(Path, out)]


def _linker(root: Path, arch: str, gc: bool, module: str = "gcmod") -> Linker:
    hdr = root / "build" / "qstrs" / f"{module}.h"
    return Linker(get_arch(arch), [root / "build" / arch / module / "gcmod.o"], _libs(root, arch),
                  parse_header(hdr.read_text()), f"{module}.mpy", gc_sections=gc)


def _section(lk: Linker, name: str):
    return next(s for o in lk.objects for s in o.sections.values() if s.name == name)


@pytest.mark.parametrize("arch", ALL_ARCHES)
def test_dead_code_and_data_are_dropped(gcbuild: Path, arch: str) -> None:
    built = (gcbuild / "dist" / arch / "gcmod.mpy").read_bytes()
    lk_gc = _linker(gcbuild, arch, True)
    assert write_mpy(lk_gc.link()) == built, "make must link with --gc-sections by default"
    lk_all = _linker(gcbuild, arch, False)
    full = write_mpy(lk_all.link())
    assert USED in built and RETAINED in built
    assert UNUSED not in built and UNUSED in full
    # The dead function's code (no relocations in it: position independent bytes).
    fn = _section(lk_gc, ".text.gc_unused_fn")
    assert not fn.relocs and len(fn.data) >= 8
    assert bytes(fn.data) not in built and bytes(fn.data) in full
    removed = {s.name for s in lk_gc.gc_removed}
    assert {".text.gc_unused_fn", ".text.gc_unused_div"} <= removed
    assert any(n.startswith(".rodata.gc_unused_bytes") for n in removed)
    # Kept: the table and both functions it points at; the retained data.
    for name in (".text.gc_op_add", ".text.gc_op_sub3", ".text.apply", ".text.mpy_init"):
        assert name not in removed and _section(lk_gc, name).blob == "text", name
    assert not any("gc_ops" in n or "gc_retained" in n or "gc_used" in n for n in removed), removed
    # The division helper is linked only without gc; from libgcc its member is not even loaded.
    helper = DIV_HELPER[arch]
    assert lk_all.defs[helper].section.blob == "text"
    d = lk_gc.defs.get(helper)
    assert d is None or d.section.blob is None
    if not arch.startswith("xtensa"):  # libgcc: one helper per member
        assert helper not in lk_gc.defs
        assert len(lk_gc.all_objects) < len(lk_all.all_objects)
    assert len(built) < len(full)
    info = inspect(gcbuild / "dist" / arch / "gcmod.mpy")
    assert info["arch"] == arch and info["bad_relocations"] == []


@pytest.mark.parametrize("arch", EMU_ARCHES)
def test_function_reached_through_a_rodata_table_runs_emulated(gcbuild: Path, arch: str) -> None:
    e = NatmodEmu(gcbuild / "dist" / arch / "gcmod.mpy")
    e.init()
    for args in ((0, 5, 7), (1, 5, 7), (7, -100, 3), (22, 1000, -9)):
        assert e.call_global("apply", *args) == apply_ref(*args), args


def test_function_reached_through_a_rodata_table_runs_on_unix(gcbuild: Path) -> None:
    args = ((0, 5, 7), (1, 5, 7), (7, -100, 3), (22, 1000, -9))
    r = run_micropython("import gcmod\nfor a in %r:\n    print(gcmod.apply(*a))\n" % (args,), gcbuild / "dist" / "x64")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [int(x) for x in r.stdout.split()] == [apply_ref(*a) for a in args]


@pytest.mark.parametrize("arch", ALL_ARCHES)
def test_undefined_symbol_only_in_dead_code(gcbuild: Path, arch: str) -> None:
    """Like GNU ld --gc-sections: a reference from dropped code is never resolved, so it is no error;
    with --no-gc-sections it is one."""
    assert (gcbuild / "dist" / arch / "gcmiss.mpy").is_file()
    with pytest.raises(LinkError, match="undefined symbol: gc_missing_helper"):
        _linker(gcbuild, arch, False, "gcmiss").link()


def test_cli_options(gcbuild: Path, tmp_path: Path) -> None:
    arch = "armv6m"
    objs = [str(gcbuild / "build" / arch / "gcmod" / "gcmod.o")]
    libs = [a for lib in _libs(gcbuild, arch) for a in ("-l", str(lib))]
    base = ["link", "--arch", arch, "--qstrs", str(gcbuild / "build" / "qstrs" / "gcmod.h")]
    r = mpyld(*base, "--print-gc-sections", "-o", str(tmp_path / "gc" / "gcmod.mpy"), *objs, *libs)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "gc" / "gcmod.mpy").read_bytes() == (gcbuild / "dist" / arch / "gcmod.mpy").read_bytes()
    assert f"removing unused section '.text.gc_unused_fn' in file '{objs[0]}'" in r.stderr
    assert "'.rodata.gc_unused_bytes'" in r.stderr and "gc_op_sub3" not in r.stderr
    assert "removed" in r.stderr.splitlines()[-1] and "bytes of code and data" in r.stderr.splitlines()[-1]
    r = mpyld(*base, "--no-gc-sections", "-o", str(tmp_path / "all" / "gcmod.mpy"), *objs, *libs)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "all" / "gcmod.mpy").read_bytes() == write_mpy(_linker(gcbuild, arch, False).link())
    r = mpyld(*base, "--no-gc-sections", "--print-gc-sections", "-o", str(tmp_path / "all2.mpy"), *objs, *libs)
    assert r.returncode == 0 and "removed 0 unused sections" in r.stderr


def _ar(path: Path, members: dict[str, bytes]) -> None:
    """A plain ar archive without a symbol index (mpyld then scans the members)."""
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        out += f"{name + '/':16s}{0:<12d}{0:<6d}{0:<6d}{'644':<8s}{len(data):<10d}`\n".encode() + data
        out += b"\n" if len(data) % 2 else b""
    path.write_bytes(bytes(out))


WEAK_C = r"""
#include "py/dynruntime.h"
__attribute__((weak)) int gc_hook(void) { return 1; }
int gc_lib_a(void);
mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    int h = gc_hook();
    int a = gc_lib_a();
    mp_store_global(MP_QSTR_answer, mp_obj_new_int(h * 10 + a));
    MP_DYNRUNTIME_INIT_EXIT
}
"""
MEMBER_C = "int gc_hook(void) { return 2; }\nint gc_lib_a(void) { return 3; }\n"


def test_strong_definition_from_a_later_member_replaces_a_followed_weak_one(tmp_path: Path) -> None:
    """mpy_init calls weak gc_hook first, then gc_lib_a, whose archive member also defines gc_hook
    (strong, so it wins): that member's gc_hook section must be linked although the reference to
    the name was followed (to the weak one) before the member was loaded."""
    cc = ["gcc", "-fno-stack-protector", "-ffunction-sections", "-fdata-sections"]
    (tmp_path / "m.c").write_text(MEMBER_C)
    compile_c(cc, tmp_path / "m.c", tmp_path / "m.o")
    _ar(tmp_path / "libhook.a", {"m.o": (tmp_path / "m.o").read_bytes()})
    (tmp_path / "w.c").write_text(WEAK_C)
    hdr = tmp_path / "w.h"
    assert mpyld("qstrs", "-o", str(hdr), str(tmp_path / "w.c")).returncode == 0
    compile_c(cc, tmp_path / "w.c", tmp_path / "w.o", f'-DMP_CONFIGFILE="{hdr}"')
    for gc in ("--gc-sections", "--no-gc-sections"):
        out = tmp_path / gc / "weakmod.mpy"
        r = mpyld("link", gc, "--arch", "x64", "--qstrs", str(hdr), "-o", str(out), str(tmp_path / "w.o"),
                  "-l", str(tmp_path / "libhook.a"))
        assert r.returncode == 0, r.stderr
        r = run_micropython("import weakmod\nprint(weakmod.answer)", out.parent)
        assert r.stdout.split() == ["23"], r.stdout + r.stderr


def test_object_sections_are_read_for_gc(gcbuild: Path) -> None:
    """The kit compiles with one section per function and per object (natmod.mk common flags)."""
    obj = ObjectFile("gcmod.o", (gcbuild / "build" / "armv6m" / "gcmod" / "gcmod.o").read_bytes(), get_arch("armv6m"))
    names = {s.name for s in obj.sections.values()}
    assert {".text.gc_unused_fn", ".text.apply", ".text.mpy_init", ".rodata.gc_unused_bytes"} <= names
