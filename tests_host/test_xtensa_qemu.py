"""Run Xtensa code built by our toolchain on QEMU's Xtensa CPUs (qemu-user, Debian).

The whole xtensa/xtensawin pipeline is exercised, not only the runtime helpers:
a harness module (C below) is compiled exactly like a natmod (the arch .mk flags;
xtensawin through ``mpyld.arch_xtensa wincc``), linked by mpyld against the runtime
archive into a .mpy, and the .mpy is then loaded the way MicroPython's loader does
it (text/rodata/bss placed at chosen addresses, every loader relocation applied) into
a small static ELF executable that qemu-xtensa runs as a Linux process:

* ``xtensa``    on QEMU's ``lx106`` CPU (the ESP8266 core, call0 ABI);
* ``xtensawin`` on QEMU's ``dc233c`` CPU (a windowed-ABI core with MUL32; the ESP32's
  LX6 has no Linux user mode in QEMU).

The harness reads (op, a, b) records on stdin, computes each with plain C operators
(so GCC chooses the helper calls and their register conventions itself) and writes
the results; they are compared with numpy float32 / Python integer references.  Deep
recursion checks register-window spills, a switch table and static const data check
literal/rodata relocation in running code.
"""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import toolreg

from mpyld.abi import KIND_BSS, KIND_RODATA, KIND_SLOT0, KIND_TEXT, SLOT
from mpyld.arch_xtensa import encode_callx, rewrite_windowed_asm
from mpyld.mpyfile import read_mpy

ROOT = Path(__file__).resolve().parents[1]
TOOLCHAIN = ROOT / "toolchain"

# Looked up in the tool registry: a missing tool fails collection with its install line.
QEMU = toolreg.which("qemu-xtensa")
GCC = toolreg.which("xtensa-lx106-elf-gcc")
MAKE = toolreg.which("make")

CPU = {"xtensa": "lx106", "xtensawin": "dc233c"}
TEXT_BASE, RODATA_BASE, BSS_BASE = 0x10001000, 0x10100000, 0x10200000
MAX_RECORDS = 3000

HARNESS_C = r"""
#include <stdint.h>
#include <stddef.h>
long xsys(long nr, long a, long b, long c);
#define SYS_READ 12
#define SYS_WRITE 13
#define MAXREC 3000
typedef struct { uint32_t op; uint32_t pad; uint64_t a; uint64_t b; } rec_t;
static rec_t in[MAXREC];
static uint64_t out[MAXREC];
static const int16_t tab[8] = {3, -1, 4, -1, 5, -9, 2, -6};
typedef union { uint32_t u; float f; } fu_t;

static float F(uint64_t v) { fu_t x; x.u = (uint32_t)v; return x.f; }
static uint64_t B(float f) { fu_t x; x.f = f; return x.u; }
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
static int depth(int n) { volatile int k = n; return n ? depth(n - 1) + k : 0; }
static int pick(int i) {
    switch (i) {
    case 0: return 10; case 1: return 21; case 2: return 32; case 3: return 43;
    case 4: return 54; case 5: return 65; case 6: return 76; default: return -1;
    }
}

static uint64_t run(const rec_t *r) {
    uint64_t a = r->a, b = r->b;
    switch (r->op) {
    case 0: return B(F(a) + F(b));
    case 1: return B(F(a) - F(b));
    case 2: return B(F(a) * F(b));
    case 3: return B(F(a) / F(b));
    case 4: return F(a) < F(b);
    case 5: return F(a) <= F(b);
    case 6: return F(a) > F(b);
    case 7: return F(a) >= F(b);
    case 8: return F(a) == F(b);
    case 9: return F(a) != F(b);
    case 10: return B((float)(int32_t)a);
    case 11: return B((float)(uint32_t)a);
    case 12: return B((float)(int64_t)a);
    case 13: return B((float)a);
    case 14: return (uint32_t)(int32_t)F(a);
    case 15: return (uint32_t)F(a);
    case 16: return (uint64_t)(int64_t)F(a);
    case 17: return (uint64_t)F(a);
    case 18: return (uint32_t)((int32_t)a / (int32_t)b);
    case 19: return (uint32_t)((int32_t)a % (int32_t)b);
    case 20: return (uint32_t)a / (uint32_t)b;
    case 21: return (uint32_t)a % (uint32_t)b;
    case 22: return (uint64_t)((int64_t)a * (int64_t)b);
    case 23: return (uint64_t)((int64_t)a / (int64_t)b);
    case 24: return (uint64_t)((int64_t)a % (int64_t)b);
    case 25: return a / b;
    case 26: return a % b;
    case 27: return a << (b & 63);
    case 28: return (uint64_t)((int64_t)a >> (b & 63));
    case 29: return a >> (b & 63);
    case 30: return (uint32_t)((uint32_t)a * (uint32_t)b);
    case 31: return (uint64_t)(int64_t)depth((int)a);
    case 32: return (uint64_t)(int64_t)(pick((int)a) + tab[a & 7]);
    case 33: { /* memset/memcpy: calls go through mpyld's stubs to "firmware" slots 50/51 */
        uint8_t buf[64], cp[64];
        size_t n = (size_t)(a & 63), i;
        uint64_t sum = 0;
        for (i = 0; i < 64; i++) { buf[i] = (uint8_t)i; }
        memset(buf, (int)b, n);
        memcpy(cp, buf, 64);
        for (i = 0; i < 64; i++) { sum = sum * 31u + cp[i]; }
        return sum;
    }
    default: return 0xdeadbeefu;
    }
}

int mpy_init(void) {
    long got = 0, n;
    char *p = (char *)in;
    while (got < (long)sizeof in && (n = xsys(SYS_READ, 0, (long)(p + got), (long)sizeof in - got)) > 0) {
        got += n;
    }
    n = got / (long)sizeof(rec_t);
    for (long i = 0; i < n; i++) {
        out[i] = run(&in[i]);
    }
    return xsys(SYS_WRITE, 1, (long)out, n * (long)sizeof(uint64_t)) == n * (long)sizeof(uint64_t) ? 0 : 3;
}
"""

# Linux/Xtensa syscall: number in a2, arguments in a6, a3, a4; result in a2.
# Stand-ins for the firmware's memset/memcpy (mp_fun_table slots 50/51), each linked as
# its own tiny module whose entry (text offset 0, a J to mpy_init) is the function.
FW_MEMSET_C = """
#include <stddef.h>
void *mpy_init(void *d, int c, size_t n) {
    volatile unsigned char *p = d;
    while (n--) { *p++ = (unsigned char)c; }
    return d;
}
"""
FW_MEMCPY_C = """
#include <stddef.h>
void *mpy_init(void *d, const void *s, size_t n) {
    volatile unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) { *p++ = *q++; }
    return d;
}
"""
FW_BASES = {SLOT["memset_"]: 0x10300000, SLOT["memmove_"]: 0x10310000}

XSYS_CALL0 = "\t.text\n\t.align 4\n\t.global xsys\nxsys:\n\tmov a6, a3\n\tmov a3, a4\n\tmov a4, a5\n\tsyscall\n\tret\n"
XSYS_WINDOWED = ("\t.text\n\t.align 4\n\t.global xsys\nxsys:\n\tentry\ta1, 32\n\tmov a6, a3\n\tmov a3, a4\n"
                 "\tmov a4, a5\n\tsyscall\n\tretw\n")

# The programs' I/O, for a C harness to include: xsys (the asm above) is the Linux syscall, io() moves
# n bytes to or from p: nr 12 reads stdin, nr 13 writes stdout; the count is short only at end of input.
XSYS_IO_C = r"""
long xsys(long nr, long a, long b, long c);
static long io(long nr, void *p, long n) {
    long done = 0, k;
    while (done < n && (k = xsys(nr, nr == 12 ? 0 : 1, (long)((char *)p + done), n - done)) > 0) {
        done += k;
    }
    return done;
}
"""


def make_var(arch: str, var: str) -> str:
    """Value of a make variable as natmod.mk defines it (so the test uses the real flags)."""
    out = subprocess.run([MAKE, "-s", "--no-print-directory", "-f", str(TOOLCHAIN / "natmod.mk"), "-f", "-",
                          "NATMOD_BUILD=build", f"PYTHON={sys.executable}", "print"],
                         input=f"print:\n\t@echo '$({var})'\n", capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


def compile_c(arch: str, work: Path, name: str, src: "str | Path", flags: list[str]) -> Path:
    """Compile C text (or a C file) like a natmod source for ``arch``."""
    if isinstance(src, str):
        path = work / f"{name}.c"
        path.write_text(src)
    else:
        path = src
    obj = work / f"{name}_{arch}.o"
    env = {"PYTHONPATH": str(TOOLCHAIN), "PATH": "/usr/bin:/bin"}
    if arch == "xtensawin":
        subprocess.run([sys.executable, "-m", "mpyld.arch_xtensa", "wincc", GCC, *flags, "-c", "-o", str(obj),
                        str(path)], check=True, env=env)
    else:
        subprocess.run([GCC, *flags, "-c", "-o", str(obj), str(path)], check=True)
    return obj


def link(arch: str, out: Path, objs: list[Path], libs: list[Path]) -> Path:
    env = {"PYTHONPATH": str(TOOLCHAIN), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "mpyld", "link", "--arch", arch, "-o", str(out), *map(str, objs),
                    *[a for lib in libs for a in ("-l", str(lib))]], check=True, env=env)
    return out


def build_program(arch: str, work: Path, name: str, main_c: str, extra: list[Path] = (),
                  extra_flags: list[str] = ()) -> Path:
    """Compile ``main_c`` (defining mpy_init) and the ``extra`` C files like natmod sources
    (the arch's make flags), link them with mpyld and the runtime archive (built by
    make) into ``<name>_<arch>.mpy``; also build the memset/memcpy stand-in modules."""
    subprocess.run([MAKE, "-s", "-C", str(ROOT), f"PYTHON={sys.executable}", f"NATMOD_BUILD={work / 'build'}",
                    "-f", str(TOOLCHAIN / "natmod.mk"), str(work / "build" / "xtrt" / arch / "libxtrt.a")],
                   check=True, stdout=subprocess.DEVNULL)
    common = make_var(arch, "NATMOD_CFLAGS_COMMON").split()
    common = [f for f in common if not f.startswith(("-MMD", "-MP", "-I"))]
    flags = common + make_var(arch, f"NATMOD_CFLAGS_{arch}").split() + list(extra_flags)
    objs = [compile_c(arch, work, name, main_c, flags)]
    objs += [compile_c(arch, work, f"{name}_{p.stem}", p, flags) for p in extra]
    asm = rewrite_windowed_asm(XSYS_WINDOWED) if arch == "xtensawin" else XSYS_CALL0
    (work / "xsys.s").write_text(asm)
    xsys = work / f"xsys_{arch}.o"
    abi = ["-Wa,--abi-windowed"] if arch == "xtensawin" else []
    subprocess.run([GCC, *abi, "-c", "-o", str(xsys), str(work / "xsys.s")], check=True)
    lib = work / "build" / "xtrt" / arch / "libxtrt.a"
    fw_flags = flags + ["-fno-builtin", "-fno-tree-loop-distribute-patterns"]
    for slot, csrc in ((SLOT["memset_"], FW_MEMSET_C), (SLOT["memmove_"], FW_MEMCPY_C)):
        link(arch, work / f"fw{slot}_{arch}.mpy", [compile_c(arch, work, f"fw{slot}", csrc, fw_flags)], [lib])
    return link(arch, work / f"{name}_{arch}.mpy", [*objs, xsys], [lib])


def build_elf(arch: str, work: Path, name: str, main_c: str, extra: list[Path] = (),
              extra_flags: list[str] = ()) -> Path:
    """build_program's .mpy loaded by mpy_to_elf into the executable ``<name>_<arch>.elf``."""
    elf = work / f"{name}_{arch}.elf"
    elf.write_bytes(mpy_to_elf(build_program(arch, work, name, main_c, extra, extra_flags), arch))
    elf.chmod(0o755)
    return elf


def assert_same_bytes(arch: str, out: bytes, want: bytes) -> None:
    """Xtensa output `out` equals `want` byte for byte (else: where the first difference is)."""
    assert len(out) == len(want)
    diff = np.nonzero(np.frombuffer(out, np.uint8) != np.frombuffer(want, np.uint8))[0]
    assert diff.size == 0, f"{arch}: first differing byte at {diff[0]} of {len(out)}"


def build_mpy(arch: str, work: Path) -> Path:
    return build_program(arch, work, "harness", HARNESS_C)


def run_elf(elf: Path, arch: str, stdin: bytes) -> bytes:
    proc = subprocess.run([QEMU, "-cpu", CPU[arch], str(elf)], input=stdin, capture_output=True, timeout=120)
    assert proc.returncode == 0, f"qemu exit {proc.returncode}: {proc.stderr[-500:]!r}"
    return proc.stdout


def load_blobs(mpy: Path, text_base: int, slot_values: dict[int, int]) -> tuple[bytes, bytes, int]:
    """Place a module like MicroPython's loader: apply every loader relocation."""
    data = mpy.read_bytes()
    info = read_mpy(data)
    text, rodata = extract_blobs(data, info)
    mem = {"text": bytearray(text), "rodata": bytearray(rodata)}
    bases = {KIND_TEXT: text_base, KIND_RODATA: RODATA_BASE, KIND_BSS: BSS_BASE}
    bases.update({KIND_SLOT0 + k: v for k, v in slot_values.items()})
    for r in info.relocs:
        assert r.kind in bases, f"harness must not need other firmware symbols (kind {r.kind})"
        w = struct.unpack_from("<I", mem[r.blob], r.offset)[0]
        struct.pack_into("<I", mem[r.blob], r.offset, (w + bases[r.kind]) & 0xFFFFFFFF)
    return bytes(mem["text"]), bytes(mem["rodata"]), info.bss_size


def mpy_to_elf(mpy: Path, arch: str) -> bytes:
    """Load a native .mpy like MicroPython does (blobs at fixed addresses, loader
    relocations applied) and wrap it in a static ELF whose entry calls text offset 0."""
    text, rodata, bss_size = load_blobs(mpy, TEXT_BASE, FW_BASES)
    fw = {slot: load_blobs(mpy.with_name(f"fw{slot}_{arch}.mpy"), base, {}) for slot, base in FW_BASES.items()}
    assert all(not ro and not bss for _, ro, bss in fw.values())
    seg_base = TEXT_BASE - 0x1000
    # Entry stub at seg_base: literal word, then L32R a8 / CALLXn a8 / exit_group(result).
    stub = struct.pack("<I", TEXT_BASE) + bytes((0x81, 0xFF, 0xFF))
    if arch == "xtensawin":
        stub += encode_callx(1, 8)  # CALLX4: the callee's a2 comes back in a6
    else:
        stub += bytes((0xC0, 0x08, 0x00)) + bytes((0x6D, 0x02))  # CALLX0 a8; MOV.N a6, a2
    stub += bytes((0x22, 0xA0, 0x77)) + bytes((0x00, 0x50, 0x00))  # MOVI a2, 119 (exit_group); SYSCALL
    image = bytearray(max(FW_BASES.values()) + 0x10000 - seg_base)
    image[0:len(stub)] = stub
    image[TEXT_BASE - seg_base:TEXT_BASE - seg_base + len(text)] = text
    image[RODATA_BASE - seg_base:RODATA_BASE - seg_base + len(rodata)] = rodata
    for slot, (fw_text, _, _) in fw.items():
        image[FW_BASES[slot] - seg_base:FW_BASES[slot] - seg_base + len(fw_text)] = fw_text
    assert len(text) < RODATA_BASE - TEXT_BASE and len(rodata) < BSS_BASE - RODATA_BASE
    assert BSS_BASE + bss_size < min(FW_BASES.values())
    memsz = len(image)
    ehdr_size, phdr_size = 52, 32
    off = 0x1000
    ehdr = struct.pack("<4sBBBBB7sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, b"\0" * 7, 2, 94, 1, seg_base + 4,
                       ehdr_size, 0, 0, ehdr_size, phdr_size, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, off, seg_base, seg_base, len(image), memsz, 7, 0x1000)
    elf = bytearray(off)
    elf[0:ehdr_size] = ehdr
    elf[ehdr_size:ehdr_size + phdr_size] = phdr
    return bytes(elf + image)


def extract_blobs(data: bytes, info) -> tuple[bytes, bytes]:
    pos = 4 + (0 if info.arch_flags is None else 1)

    def vuint() -> int:
        nonlocal pos
        v = 0
        while True:
            b = data[pos]
            pos += 1
            v = (v << 7) | (b & 0x7F)
            if not b & 0x80:
                return v

    n_qstr, _ = vuint(), vuint()
    for _ in range(n_qstr):
        ln = vuint()
        if not ln & 1:
            pos += (ln >> 1) + 1
    kind_len = vuint()
    text = data[pos:pos + (kind_len >> 3)]
    pos += kind_len >> 3
    scope = vuint()
    ro = vuint() if scope & 0x20 else 0
    if scope & 0x40:
        vuint()
    return text, data[pos:pos + ro]


def run_records(elf: Path, arch: str, recs: list[tuple[int, int, int]]) -> list[int]:
    assert len(recs) <= MAX_RECORDS
    stdin = b"".join(struct.pack("<IIQQ", op, 0, a & (2**64 - 1), b & (2**64 - 1)) for op, a, b in recs)
    out = run_elf(elf, arch, stdin)
    assert len(out) == 8 * len(recs)
    return list(struct.unpack(f"<{len(recs)}Q", out))


@pytest.fixture(scope="module", params=list(CPU))
def harness(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    arch = request.param
    work = tmp_path_factory.mktemp(f"qemu_{arch}")
    return arch, build_elf(arch, work, "harness", HARNESS_C)


def f32bits(x) -> int:
    return int(np.asarray(x, dtype=np.float32).view(np.uint32))


def test_float_ops_match_numpy(harness: tuple[str, Path]) -> None:
    arch, elf = harness
    rng = np.random.default_rng(7)
    specials = [0.0, -0.0, 1.0, -1.5, np.inf, -np.inf, np.nan, 1e-45, -1e-40, 3.4e38, 1.17549435e-38, 0.1, 1e10]
    vals = np.concatenate([np.array(specials, dtype=np.float32),
                           (rng.standard_normal(110) * np.exp2(rng.integers(-30, 30, 110))).astype(np.float32),
                           rng.integers(0, 2**32, 20, dtype=np.uint64).astype(np.uint32).view(np.float32)])
    a = rng.choice(vals, 230)
    b = rng.choice(vals, 230)
    recs, want = [], []
    with np.errstate(all="ignore"):
        refs = [np.add, np.subtract, np.multiply, np.divide]
        for op, fn in enumerate(refs):
            for x, y in zip(a, b):
                recs.append((op, f32bits(x), f32bits(y)))
                want.append(fn(np.float32(x), np.float32(y)))
        cmps = [np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal]
        for k, fn in enumerate(cmps):
            for x, y in zip(a[:100], b[:100]):
                recs.append((4 + k, f32bits(x), f32bits(y)))
                want.append(int(fn(x, y)))
    got = run_records(elf, arch, recs)
    for (op, x, y), g, w in zip(recs, got, want):
        if op <= 3:
            wf = np.float32(w)
            if np.isnan(wf):
                assert np.isnan(np.uint32(g).view(np.float32)), (arch, op, hex(x), hex(y), hex(g))
            else:
                assert g == f32bits(wf), (arch, op, hex(x), hex(y), hex(g), hex(f32bits(wf)))
        else:
            assert g == w, (arch, op, hex(x), hex(y), g, w)


def test_conversions_match_numpy(harness: tuple[str, Path]) -> None:
    arch, elf = harness
    rng = np.random.default_rng(8)
    i32 = [int(v) for v in rng.integers(-(2**31), 2**31, 150)] + [0, -1, 2**31 - 1, -(2**31), 16777217]
    i64 = [int(v) >> int(s) for v, s in zip(rng.integers(-(2**63), 2**63 - 1, 150), rng.integers(0, 60, 150))]
    recs, want = [], []
    for v in i32:
        recs += [(10, v & 0xFFFFFFFF, 0), (11, v & 0xFFFFFFFF, 0)]
        want += [f32bits(np.float32(np.int32(v))), f32bits(np.float32(np.uint32(v & 0xFFFFFFFF)))]
    for v in i64:
        recs += [(12, v, 0), (13, v & (2**64 - 1), 0)]
        want += [f32bits(np.float32(np.int64(v))), f32bits(np.float32(np.uint64(v & (2**64 - 1))))]
    fl = (rng.standard_normal(150) * np.exp2(rng.integers(0, 30, 150))).astype(np.float32)
    for f in fl:
        recs += [(14, f32bits(f), 0), (16, f32bits(f), 0)]
        want += [int(np.trunc(f)) & 0xFFFFFFFF, int(np.trunc(f)) & (2**64 - 1)]
        if f > -1:
            recs += [(15, f32bits(f), 0), (17, f32bits(f), 0)]
            want += [int(np.trunc(f)), int(np.trunc(f))]
    got = run_records(elf, arch, recs)
    bad = [(r, g, w) for r, g, w in zip(recs, got, want) if g != w]
    assert not bad, (arch, bad[:5])


def c_div(n: int, d: int) -> tuple[int, int]:
    q = abs(n) // abs(d)
    q = -q if (n < 0) != (d < 0) else q
    return q, n - q * d


def test_integer_ops_match_python(harness: tuple[str, Path]) -> None:
    arch, elf = harness
    rng = np.random.default_rng(9)
    recs, want = [], []
    m32, m64 = 2**32 - 1, 2**64 - 1
    for _ in range(200):
        a = int(rng.integers(-(2**31), 2**31))
        b = int(rng.integers(-(2**31), 2**31)) >> int(rng.integers(0, 31)) or 3
        q, r = c_div(a, b)
        ua, ub = a & m32, b & m32
        recs += [(18, ua, ub), (19, ua, ub), (20, ua, ub), (21, ua, ub), (30, ua, ub)]
        want += [q & m32, r & m32, ua // ub, ua % ub, (ua * ub) & m32]
        a64 = int(rng.integers(-(2**63), 2**63 - 1)) >> int(rng.integers(0, 63))
        b64 = int(rng.integers(-(2**63), 2**63 - 1)) >> int(rng.integers(0, 63)) or -7
        s = int(rng.integers(0, 64))
        q, r = c_div(a64, b64)
        recs += [(22, a64, b64), (23, a64, b64), (24, a64, b64), (25, a64, b64), (26, a64, b64),
                 (27, a64, s), (28, a64, s), (29, a64, s)]
        ua, ub = a64 & m64, b64 & m64
        want += [(a64 * b64) & m64, q & m64, r & m64, ua // ub, ua % ub, (ua << s) & m64, (a64 >> s) & m64, ua >> s]
    got = run_records(elf, arch, recs)
    bad = [(r, g, w) for r, g, w in zip(recs, got, want) if g != w]
    assert not bad, (arch, bad[:5])


def test_recursion_switch_and_static_data(harness: tuple[str, Path]) -> None:
    """Deep recursion forces register-window overflow/underflow on xtensawin; the
    switch and the static const table go through relocated literals/rodata."""
    arch, elf = harness
    tab = [3, -1, 4, -1, 5, -9, 2, -6]
    picks = [10, 21, 32, 43, 54, 65, 76]
    recs = [(31, n, 0) for n in (0, 1, 5, 40, 200)] + [(32, i, 0) for i in range(12)]
    want = [n * (n + 1) // 2 for n in (0, 1, 5, 40, 200)]
    want += [((picks[i] if i < 7 else -1) + tab[i & 7]) & (2**64 - 1) for i in range(12)]
    assert run_records(elf, arch, recs) == want


def test_memset_memcpy_through_firmware_slots(harness: tuple[str, Path]) -> None:
    """memset/memcpy calls reach the "firmware" functions through mpyld's byte-function
    stubs (J, L32R a9 <slot value>, JX a9), in both ABIs."""
    arch, elf = harness
    recs, want = [], []
    for n in (0, 1, 7, 32, 63):
        for c in (0, 0xA5):
            buf = [c if i < n else i for i in range(64)]
            h = 0
            for v in buf:
                h = (h * 31 + v) & (2**64 - 1)
            recs.append((33, n, c))
            want.append(h)
    assert run_records(elf, arch, recs) == want
