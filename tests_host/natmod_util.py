"""Helpers for the toolchain tests: build the test module, run mpyld and micropython."""
from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np
import pythonpath
import toolreg
from mpyld.abi import (FUN_TABLE_SLOTS, KIND_BSS, KIND_FUN_TABLE, KIND_OBJ_TABLE, KIND_QSTR_TABLE, KIND_RODATA,
                       KIND_SLOT0, KIND_TEXT, N_FUN_TABLE_SLOTS, NATIVE_TYPES, SLOT)
from mpyld.mpyfile import read_mpy
from mpyld.qstrs import STATIC_QSTRS

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
MICROPYTHON = toolreg.which("micropython")
TOOLCHAIN = REPO / "toolchain"
# The arches whose linker support lives in mpyld's own modules (not Xtensa).
OWN_ARCHES = ("x64", "armv6m", "armv7m", "armv7emsp", "rv32imc")


def make_testmod(root: Path, arches: Sequence[str] = OWN_ARCHES, *extra: str) -> subprocess.CompletedProcess:
    """Build toolchain/tests/testmod for ``arches`` into root/{build,dist}."""
    cmd = ["make", "-s", "-f", "toolchain/tests/testmod.mk", f"NATMOD_BUILD={root}/build",
           f"NATMOD_DIST={root}/dist", f"NATMOD_ARCHES={' '.join(arches)}", f"PYTHON={PYTHON}", *extra]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=pythonpath.env(), timeout=300)


_BUILT: dict[tuple, Path] = {}


def built_testmod(arches: Sequence[str] = OWN_ARCHES) -> Path:
    """Build the test module once per test process (shared by the toolchain test files)."""
    import atexit
    import shutil
    import tempfile
    key = tuple(arches)
    if key not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix="natmod-testmod-"))
        atexit.register(shutil.rmtree, root, True)
        r = make_testmod(root, arches)
        assert r.returncode == 0, r.stdout + r.stderr
        _BUILT[key] = root
    return _BUILT[key]


def mpyld(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "-m", "mpyld", *args], cwd=REPO, capture_output=True, text=True,
                          env=pythonpath.env(), timeout=120)


def inspect(path: Path) -> dict:
    r = mpyld("inspect", "--json", str(path))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def run_micropython(code: str, path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` on the unix port with ``path`` first on sys.path."""
    prog = f"import sys\nsys.path.insert(0, {str(path)!r})\n" + code
    return subprocess.run([str(MICROPYTHON), "-c", prog], capture_output=True, text=True, timeout=60)


def cc_query(cc: Sequence[str], *args: str) -> str:
    """What a compiler prints for a query such as -print-libgcc-file-name (stripped)."""
    return subprocess.run([*toolreg.argv(cc), *args], capture_output=True, text=True, check=True).stdout.strip()


def compile_c(cc: Sequence[str], src: Path, out: Path, *flags: str) -> None:
    cmd = [*toolreg.argv(cc), "-std=c99", "-Os", "-ffreestanding", "-fpic", "-fno-common", f"-I{TOOLCHAIN / 'include'}",
           *flags, "-c", "-o", str(out), str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def build_natmod(cc: Sequence[str], arch: str, src: Path, out: Path, objects: Sequence[Path] = (),
                 libs: Sequence[str] = ()) -> Path:
    """One-source native module: qstr header from `src`, compile it with `cc`, link it for `arch`
    (after any prebuilt `objects`, with archives `libs`) into `out`; asserts each step succeeds."""
    hdr = out.with_suffix(".qstrs.h")
    r = mpyld("qstrs", "-o", str(hdr), str(src))
    assert r.returncode == 0, r.stderr
    obj = out.with_suffix(".o")
    compile_c(cc, src, obj, f'-DMP_CONFIGFILE="{hdr}"')
    lib_args = [a for lib in libs for a in ("-l", lib)]
    r = mpyld("link", "--arch", arch, "--qstrs", str(hdr), "-o", str(out), *map(str, objects), str(obj), *lib_args)
    assert r.returncode == 0, r.stderr
    return out


# ---------------------------------------------------------------------------
# A tiny MicroPython "firmware" in unicorn: loads a native .mpy exactly as
# py/persistentcode.c does (text, bss+rodata block, relocation stream) and
# implements the mp_fun_table slots the test module uses, so ARM (Cortex-M0
# model for armv6m) and RISC-V code is executed, not only inspected.


class EmuRaise(Exception):
    """A MicroPython exception raised by emulated native code: (type name, message)."""


class EmuHang(Exception):
    pass


class EmuFault(Exception):
    """The emulated code did something the real CPU would fault on."""


class EmuObj(int):
    """An object word already in emulator memory (passed through as is by to_obj)."""


class NatmodEmu:
    TEXT, DATA, FUNTAB, STUBS, TYPES = 0x10000000, 0x20000000, 0x21000000, 0x21100000, 0x21200000
    QSTRTAB, OBJTAB, HEAP, STACK_TOP, RET = 0x21300000, 0x21310000, 0x60000000, 0x6FFF0000, 0x70000000
    N_SLOTS = N_FUN_TABLE_SLOTS
    QBASE = 1000  # run-time qstr numbers of the module's table entries
    JUMPED = object()  # a slot that continued in native code: its return value is that code's
    NONE, FALSE, TRUE = 0x06, 0x0E, 0x1E  # the firmware's None/False/True objects (object representation A)
    # Firmware objects given by table slots -> the emulator's type objects (self.type_addr).
    SLOT_OBJECTS = {"type_type": "type", "type_str": "str", "type_list": "list", "type_dict": "dict",
                    "type_fun_builtin_0": "fun0", "type_fun_builtin_1": "fun1", "type_fun_builtin_2": "fun2",
                    "type_fun_builtin_3": "fun3", "type_fun_builtin_var": "funvar", "type_Exception": "Exception",
                    "stream_read_obj": "sread", "stream_readinto_obj": "sreadinto",
                    "stream_unbuffered_readline_obj": "sreadline", "stream_write_obj": "swrite"}

    def __init__(self, mpy: Path, setjmp: bool = False):
        import unicorn
        from unicorn import arm_const, riscv_const

        self.uc_mod = unicorn
        info = read_mpy(Path(mpy).read_bytes())
        self.info = info
        self.arch = info.arch_name
        if self.arch.startswith("arm"):
            self.uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
            model = {"armv6m": arm_const.UC_CPU_ARM_CORTEX_M0, "armv7m": arm_const.UC_CPU_ARM_CORTEX_M3,
                     "armv7emsp": arm_const.UC_CPU_ARM_CORTEX_M4}[self.arch]
            self.uc.ctl_set_cpu_model(model)
            self.args_regs = [arm_const.UC_ARM_REG_R0 + i for i in range(4)]
            self.ret_reg, self.sp_reg, self.lr_reg = arm_const.UC_ARM_REG_R0, arm_const.UC_ARM_REG_SP, arm_const.UC_ARM_REG_LR
            self.thumb = 1
            ret_insn = struct.pack("<H", 0x4770)  # bx lr
        elif self.arch == "rv32imc":
            self.uc = unicorn.Uc(unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV32)
            self.args_regs = [riscv_const.UC_RISCV_REG_A0 + i for i in range(8)]
            self.ret_reg, self.sp_reg, self.lr_reg = riscv_const.UC_RISCV_REG_A0, riscv_const.UC_RISCV_REG_SP, riscv_const.UC_RISCV_REG_RA
            self.thumb = 0
            ret_insn = struct.pack("<I", 0x00008067)  # ret
        else:
            raise ValueError(f"no emulator for {self.arch}")
        uc = self.uc
        for base, size in ((self.TEXT, 1 << 20), (self.DATA, 1 << 20), (self.FUNTAB, 0x500000),
                           (self.HEAP, 1 << 24), (self.STACK_TOP - (1 << 20), 1 << 20), (self.RET, 0x1000)):
            uc.mem_map(base, size)
        uc.mem_write(self.RET, ret_insn)
        self.heap = self.HEAP
        self.objs: dict[int, tuple] = {}
        self.globals: dict[str, int] = {}
        self.pending: Exception | None = None
        self.qnames = {i + 1: s for i, s in enumerate(STATIC_QSTRS)}
        for i, q in enumerate(info.qstrs):
            self.qnames[self.QBASE + i] = q
        self.qnum = {v: k for k, v in self.qnames.items()}
        self.store_to = self.globals  # store_global's dict: the module whose mpy_init runs
        self.modules: dict[str, tuple[int, dict]] = {}  # import_name: .mpy stem -> (module object, globals)
        # fun table: function slots -> stub addresses (one return instruction each)
        table = []
        for i in range(self.N_SLOTS):
            uc.mem_write(self.STUBS + 16 * i, ret_insn)
            table.append((self.STUBS + 16 * i) | self.thumb)
        self.type_addr = {name: self.TYPES + 0x40 * k for k, name in enumerate(
            ["type", "str", "list", "dict", "fun0", "fun1", "fun2", "fun3", "funvar", "Exception", "sread",
             "sreadinto", "sreadline", "swrite", "float", "tuple", "bytes", "bytearray", "array", "NoneType",
             "bool", "int", "stream", "method", "module"])}
        for slot_name, obj in self.SLOT_OBJECTS.items():
            table[SLOT[slot_name]] = self.type_addr[obj]
        table[SLOT["const_none"]], table[SLOT["const_false"]], table[SLOT["const_true"]] = self.NONE, self.FALSE, self.TRUE
        # nlr: native nlr_push (setjmp_ slot NULL), or setjmp-based firmware (nlr_push slot =
        # nlr_push_tail, setjmp_ slot = setjmp), both emulated by saving the CPU context.
        table[SLOT["setjmp_"]] = (self.STUBS + 16 * SLOT["setjmp_"]) | self.thumb if setjmp else 0
        self.setjmp = setjmp
        self.nlr: list[list] = []  # [buf, context, return address]
        table[SLOT["plat_print"]] = self.TYPES + 0x3000
        uc.mem_write(self.FUNTAB, struct.pack(f"<{self.N_SLOTS}I", *table))
        self.table = table
        # the exception classes, ArithmeticError ... ZeroDivisionError (static qstrs in order)
        exc_qstrs = range(self.qnum["ArithmeticError"], self.qnum["ZeroDivisionError"] + 1)
        self.exc_types = {self.TYPES + 0x4000 + 0x40 * n: self.qnames[n] for n in exc_qstrs}
        uc.mem_write(self.QSTRTAB, struct.pack(f"<{len(info.qstrs)}H", *[self.QBASE + i for i in range(len(info.qstrs))]))
        uc.hook_add(unicorn.UC_HOOK_CODE, self._hook, begin=self.STUBS, end=self.STUBS + 16 * self.N_SLOTS)
        if self.arch == "armv6m":
            # ARMv6-M (RP2040) faults on unaligned halfword/word accesses, which QEMU's M0
            # model does not: check every data access of the module's code ourselves.
            uc.hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, self._align_hook)
        self.bss, self.rodata = self._load(info, self.TEXT, self.DATA, self.QSTRTAB)
        self.modules[Path(info.qstrs[0]).stem] = (self.new_obj("module", ("module", self.globals)), self.globals)

    def _load(self, info, text: int, data: int, qstrtab: int) -> tuple[int, int]:
        """Lay a module out like mp_raw_code_load: text, then bss+rodata in one block, then
        relocate; returns (bss, rodata)."""
        bss = (info.bss_size + 3) & ~3
        rodata = data + bss
        self.uc.mem_write(text, info.text)
        self.uc.mem_write(rodata, info.rodata)
        for r in info.relocs:
            at = (text if r.blob == "text" else rodata) + r.offset
            dest = {KIND_TEXT: text, KIND_RODATA: rodata, KIND_BSS: data, KIND_QSTR_TABLE: qstrtab,
                    KIND_OBJ_TABLE: self.OBJTAB, KIND_FUN_TABLE: self.FUNTAB}.get(r.kind)
            if dest is None:
                dest = self.table[r.kind - KIND_SLOT0]
            self.w32(at, self.r32(at) + dest)
        return data, rodata

    def add_module(self, mpy: Path) -> dict[str, int]:
        """A second module of the same arch (e.g. an optional one the first imports), laid out in
        the upper half of the text and data regions with its own qstr table, its mpy_init run now
        (calls cannot nest in the emulator): import_name then returns it. Returns its globals."""
        info = read_mpy(Path(mpy).read_bytes())
        assert info.arch_name == self.arch and len(self.info.text) < 0x80000 > len(info.text)
        qbase, qstrtab = 2 * self.QBASE, self.QSTRTAB + 0x1000
        nums = [self.qnum.setdefault(q, qbase + i) for i, q in enumerate(info.qstrs)]
        self.qnames.update({n: q for n, q in zip(nums, info.qstrs)})
        self.uc.mem_write(qstrtab, struct.pack(f"<{len(nums)}H", *nums))
        self._load(info, self.TEXT + 0x80000, self.DATA + 0x80000, qstrtab)
        self.store_to = glob = {}
        try:
            self.init(self.TEXT + 0x80000, qstrtab)
        finally:
            self.store_to = self.globals
        self.modules[Path(info.qstrs[0]).stem] = (self.new_obj("module", ("module", glob)), glob)
        return glob

    # ---- memory helpers
    def r32(self, a: int) -> int:
        return struct.unpack("<I", self.uc.mem_read(a, 4))[0]

    def w32(self, a: int, v: int) -> None:
        self.uc.mem_write(a, struct.pack("<I", v & 0xFFFFFFFF))

    def alloc(self, n: int) -> int:
        a = self.heap
        self.heap += (max(n, 4) + 7) & ~7
        self.uc.mem_write(a, bytes(max(n, 4)))
        return a

    def cstr(self, a: int) -> str:
        out = bytearray()
        while (b := self.uc.mem_read(a + len(out), 1)[0]) != 0:
            out.append(b)
        return out.decode()

    # ---- objects
    def new_obj(self, typename: str, entry: tuple, size: int = 16) -> int:
        a = self.alloc(size)
        self.w32(a, self.type_addr[typename])
        self.objs[a] = entry
        return a

    def to_obj(self, v) -> int:
        if isinstance(v, EmuObj):
            return int(v)
        if v is None:
            return self.NONE
        if v is True or v is False:
            return self.TRUE if v else self.FALSE
        if isinstance(v, int):
            return ((v << 1) | 1) & 0xFFFFFFFF
        if isinstance(v, float):
            return self.new_obj("float", ("float", v))
        if isinstance(v, (bytes, bytearray)):
            buf = self.alloc(len(v))
            self.uc.mem_write(buf, bytes(v))
            return self.new_obj("bytes", ("buf", buf, len(v), 1))
        if isinstance(v, tuple) and v and v[0] in ("array_f", "array_h"):
            tc = v[0][-1]
            data = np.asarray(v[1], dtype=np.float32 if tc == "f" else np.int16).tobytes()
            buf = self.alloc(len(data))
            self.uc.mem_write(buf, data)
            return EmuObj(self.new_obj("array", ("buf", buf, len(data), ord(tc))))
        if isinstance(v, str):
            return ((self.qnum[v] << 3) | 2)
        if callable(v):
            return self.new_obj("method", ("pycall", v))
        return self.new_obj("stream", ("stream", v))

    def from_obj(self, o: int):
        if o & 1:
            return (o - (1 << 32) if o & 0x80000000 else o) >> 1
        if o & 7 == 2:
            return self.qnames[o >> 3]
        if o in (self.NONE, self.FALSE, self.TRUE):
            return {self.NONE: None, self.FALSE: False, self.TRUE: True}[o]
        e = self.objs.get(o)
        if e is None:
            return ("obj", o)
        if e[0] == "float":
            return e[1]
        if e[0] == "tuple":
            return tuple(self.from_obj(x) for x in e[1])
        if e[0] == "exc":
            return EmuRaise(*e[1:])
        return e

    def buffer_bytes(self, o: int) -> bytes:
        _, buf, n, _tc = self.objs[o]
        return bytes(self.uc.mem_read(buf, n))

    def _as_float(self, o: int) -> float:
        v = self.from_obj(o)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise EmuRaise("TypeError", "can't convert to float")
        return float(v)

    def _raise(self, exc: Exception) -> int:
        if self.nlr and isinstance(exc, EmuRaise):
            # unwind to the innermost nlr_push/setjmp: it returns 1, ret_val = exception
            buf, ctx, ret = self.nlr.pop()
            self.w32(buf + 4, self.new_obj("Exception", ("exc",) + tuple(exc.args)))
            self.uc.context_restore(ctx)
            self.uc.reg_write(self._pc(), ret)
            return 1
        self.pending = exc
        self.uc.emu_stop()
        return 0

    def _align_hook(self, uc, access, address, size, value, user_data):
        if size > 1 and address % min(size, 4) and self.pending is None:
            pc = uc.reg_read(self._pc())
            self.pending = EmuFault(f"armv6m: unaligned {size}-byte access at {address:#x} (pc={pc:#x}): "
                                    f"a HardFault on Cortex-M0")
            uc.emu_stop()

    # ---- mp_fun_table slots
    def _hook(self, uc, address, size, user_data):
        slot = (address - self.STUBS) // 16
        if self.pending is not None:
            return
        a = [uc.reg_read(r) for r in self.args_regs]
        try:
            ret = self._slot(slot, a)
        except EmuRaise as e:
            ret = self._raise(e)
        if ret is not self.JUMPED:
            uc.reg_write(self.ret_reg, (ret or 0) & 0xFFFFFFFF)

    def _slot(self, slot: int, a: list[int]) -> int:
        fn = FUN_TABLE_SLOTS[slot]
        if fn == "native_from_obj":
            v = self.from_obj(a[0])
            if a[1] & 0xF == NATIVE_TYPES["bool"]:
                return int(bool(v))
            if isinstance(v, bool):
                return int(v)
            if not isinstance(v, int):
                raise EmuRaise("TypeError", "can't convert to int")
            return v
        if fn == "native_to_obj":
            v, t = a[0], a[1] & 0xF
            if t == NATIVE_TYPES["qstr"]:
                return (v << 3) | 2
            if t == NATIVE_TYPES["int"]:
                v = v - (1 << 32) if v & 0x80000000 else v
            if t == NATIVE_TYPES["bool"]:
                return self.TRUE if v else self.FALSE
            if not -(1 << 30) <= v < (1 << 30):
                raise AssertionError("big int not emulated")
            return ((v << 1) | 1) & 0xFFFFFFFF
        if fn == "swap_globals":
            return 0
        if fn == "load_global":  # (exception types by static qstr)
            for addr, name in self.exc_types.items():
                if self.qnames[a[0]] == name:
                    return addr
            raise AssertionError(f"load_global {self.qnames[a[0]]}")
        if fn == "load_method":  # (base, attr, dest)
            self.w32(a[2], self.new_obj("method", ("method", self.qnames[a[1]])))
            self.w32(a[2] + 4, a[0])
            return 0
        if fn == "load_method_maybe":  # (base, attr, dest): streams have readinto
            name = self.qnames[a[1]]
            entry = self.objs.get(a[0])
            if entry is not None and entry[0] == "stream" and hasattr(entry[1], name):
                self.w32(a[2], self.new_obj("method", ("method", name)))
                self.w32(a[2] + 4, a[0])
            else:
                self.w32(a[2], 0)
            return 0
        if fn == "store_global":
            self.store_to[self.qnames[a[0]]] = a[1]
            return 0
        if fn == "arg_parse_all":  # (n_pos, pos, kws, n_allowed, allowed, out): positional arguments
            sp = self.uc.reg_read(self.sp_reg)  # ARM passes the 5th and 6th on the stack
            allowed, out = (self.r32(sp), self.r32(sp + 4)) if self.thumb else (a[4], a[5])
            assert self.r32(a[2]) >> 3 == 0, "keyword arguments not emulated"
            if a[0] > a[3]:
                raise EmuRaise("TypeError", "extra positional arguments given")
            for i in range(a[3]):  # mp_arg_t: qst, flags (uint16 each), defval; out: one word each
                self.w32(out + 4 * i, self.r32(a[1] + 4 * i) if i < a[0] else self.r32(allowed + 8 * i + 4))
            return 0
        if fn == "import_name":  # (name, fromlist, level): the modules loaded here
            if self.qnames[a[0]] not in self.modules:
                raise EmuRaise("ImportError", "no module named '%s'" % self.qnames[a[0]])
            return self.modules[self.qnames[a[0]]][0]
        if fn == "load_attr":  # (module, attr)
            return self.objs[a[0]][1][self.qnames[a[1]]]
        if fn == "new_tuple":
            items = [self.r32(a[1] + 4 * i) for i in range(a[0])]
            return self.new_obj("tuple", ("tuple", items), 8 + 4 * a[0])
        if fn == "make_function_from_proto_fun":  # (rc, context, defs) -> viper function object
            return self.new_obj("method", ("viper", self.r32(a[0] + 4)))
        if fn == "obj_new_bytes":  # (data, len)
            buf = self.alloc(a[1])
            self.uc.mem_write(buf, bytes(self.uc.mem_read(a[0], a[1])))
            return self.new_obj("bytes", ("buf", buf, a[1], 1))
        if fn == "obj_is_true":
            return int(bool(self.from_obj(a[0])))
        if fn == "call_function_n_kw" and a[0] not in self.objs:  # a module's function of 1..3 arguments:
            n = [self.type_addr[f"fun{k}"] for k in range(4)].index(self.r32(a[0]))  # jump to it; it
            assert n == a[1] == len(self.args_regs[:n]) and n > 0  # returns to the slot's caller
            for r, k in zip(self.args_regs, range(n)):
                self.uc.reg_write(r, self.r32(a[2] + 4 * k))
            self.uc.reg_write(self._pc(), self.r32(a[0] + 4) | self.thumb)
            return self.JUMPED
        if fn == "call_function_n_kw":  # (fun, n_args | n_kw << 8, args): a Python callable
            pyfn = self.objs[a[0]][1]
            args = [self.from_obj(self.r32(a[2] + 4 * i)) for i in range(a[1] & 0xFF)]
            return self.to_obj(pyfn(*args))
        if fn == "nlr_push":  # (native) / nlr_push_tail (setjmp firmware)
            self.nlr.append([a[0], None if self.setjmp else self.uc.context_save(), self.uc.reg_read(self.lr_reg)])
            return 0
        if fn == "setjmp_":  # setjmp(&buf->regs)
            assert self.nlr and self.nlr[-1][0] + 8 == a[0], "setjmp without nlr_push_tail on the same buffer"
            self.nlr[-1][1:] = [self.uc.context_save(), self.uc.reg_read(self.lr_reg)]
            return 0
        if fn == "nlr_pop":
            self.nlr.pop()
            return 0
        if fn == "call_method_n_kw":  # (n_args, n_kw, args): args = [meth, self, arg...]
            name = self.objs[self.r32(a[2])][1]
            stream = self.objs[self.r32(a[2] + 4)][1]
            pyargs = [self.r32(a[2] + 8 + 4 * i) for i in range(a[0])]
            assert name == "readinto" and len(pyargs) == 1
            _, buf, n, _ = self.objs[pyargs[0]]
            data = stream.read(n)
            self.uc.mem_write(buf, data)
            return self.to_obj(len(data))
        if fn == "raise":  # (o): an exception class
            raise EmuRaise(self.exc_types.get(a[0], f"obj@{a[0]:#x}"), "")
        if fn == "arg_check_num_sig":  # (n_args, n_kw, sig)
            lo, hi = a[2] >> 17, (a[2] >> 1) & 0xFFFF
            if a[1] and not a[2] & 1 or not lo <= a[0] <= hi:
                raise EmuRaise("TypeError", "wrong number of arguments")
            return 0
        if fn == "memset_":
            self.uc.mem_write(a[0], bytes([a[1] & 0xFF]) * a[2])
            return a[0]
        if fn == "memmove_":
            self.uc.mem_write(a[0], bytes(self.uc.mem_read(a[1], a[2])))
            return a[0]
        if fn == "realloc_":  # (ptr, n, allow_move)
            if a[1] == 0:
                return 0
            new = self.alloc(a[1])
            if a[0]:
                self.uc.mem_write(new, bytes(self.uc.mem_read(a[0], a[1])))
            return new
        if fn == "raise_msg":  # (type, msg); a module-made type is named by its qstr
            name = self.exc_types.get(a[0]) or self.qnames[struct.unpack("<H", self.uc.mem_read(a[0] + 6, 2))[0]]
            raise EmuRaise(name, self.cstr(a[1]))
        if fn == "obj_get_type":
            e = self.objs.get(a[0])
            # heap objects the module allocated itself (mp_obj_malloc) and the static objects of
            # the modules' text and data (function objects, types) carry their type in word 0
            own = a[0] & 3 == 0 and any(b <= a[0] < e for b, e in (
                (self.HEAP, self.heap), (self.TEXT, self.TEXT + (1 << 20)), (self.DATA, self.DATA + (1 << 20))))
            return self.r32(a[0]) if e or own else self.type_addr["int"]
        if fn == "obj_new_bytearray_by_ref":  # (n, items)
            return self.new_obj("bytearray", ("buf", a[1], a[0], 1))
        if fn == "get_buffer":  # (obj, info, flags)
            e = self.objs.get(a[0])
            if e is None or e[0] != "buf":
                if a[2] & 4:
                    raise EmuRaise("TypeError", "object with buffer protocol required")
                return 0
            self.w32(a[1], e[1])
            self.w32(a[1] + 4, e[2])
            self.w32(a[1] + 8, e[3])
            return 1
        if fn in ("binary_get_val_array", "binary_set_val_array"):  # (typecode, p, index[, val])
            tc = chr(a[0] & 0xFF)
            fmt, size = {"f": ("<f", 4), "d": ("<d", 8)}[tc]
            addr = a[1] + size * a[2]
            if fn == "binary_get_val_array":
                return self.to_obj(struct.unpack(fmt, self.uc.mem_read(addr, size))[0])
            self.uc.mem_write(addr, struct.pack(fmt, self._as_float(a[3])))
            return 0
        raise AssertionError(f"mp_fun_table slot {slot} not emulated")

    # ---- calling native code
    def call(self, fn: int, *args: int, limit: int = 2_000_000) -> int:
        uc = self.uc
        assert len(args) <= len(self.args_regs)
        for r, v in zip(self.args_regs, args):
            uc.reg_write(r, v & 0xFFFFFFFF)
        uc.reg_write(self.sp_reg, self.STACK_TOP)
        uc.reg_write(self.lr_reg, self.RET | self.thumb)
        self.pending = None
        self.nlr = []
        try:
            uc.emu_start(fn | self.thumb, self.RET, count=limit)
        except self.uc_mod.UcError as exc:
            raise AssertionError(f"{self.arch}: CPU fault {exc} at pc={uc.reg_read(self._pc()):#x}") from exc
        if self.pending is not None:
            raise self.pending
        if uc.reg_read(self._pc()) & ~1 != self.RET:
            raise EmuHang(f"{self.arch}: no return after {limit} instructions (pc={uc.reg_read(self._pc()):#x})")
        return uc.reg_read(self.ret_reg)

    def _pc(self) -> int:
        from unicorn import arm_const, riscv_const
        return arm_const.UC_ARM_REG_PC if self.thumb else riscv_const.UC_RISCV_REG_PC

    def init(self, text: int = 0, qstrtab: int = 0) -> None:
        """Run mpy_init (text offset 0) with a fake function object and module context."""
        text, qstrtab = text or self.TEXT, qstrtab or self.QSTRTAB
        ctx = self.alloc(16)
        self.w32(ctx + 4, self.alloc(16))  # module.globals
        self.w32(ctx + 8, qstrtab)
        self.w32(ctx + 12, self.OBJTAB)
        fun = self.alloc(16)
        self.w32(fun + 4, ctx)
        self.w32(fun + 12, text)
        self.call(text, fun, 0, 0, 0)

    def call_obj(self, fobj: int, *pyargs):
        """Call a builtin function object (fixed 0..3 args or var) with Python values."""
        objs = [self.to_obj(v) for v in pyargs]
        typ = self.r32(fobj)
        if typ == self.type_addr["funvar"]:
            arr = self.alloc(4 * len(objs))
            for i, o in enumerate(objs):
                self.w32(arr + 4 * i, o)
            res = self.call(self.r32(fobj + 8), len(objs), arr, *self._kw_map(fobj))
        else:
            n = [self.type_addr[f"fun{k}"] for k in range(4)].index(typ)
            assert n == len(objs), f"function takes {n} args"
            res = self.call(self.r32(fobj + 4), *objs)
        return res

    def _kw_map(self, fobj: int) -> tuple:
        """A builtin var function whose sig has bit 0 (MP_DEFINE_CONST_FUN_OBJ_KW) takes a third
        argument, the keyword map (mp_map_t: used/flags, alloc, table): an empty one here."""
        if self.r32(fobj + 4) & 1 == 0:
            return ()
        kw = self.alloc(12)
        for k in range(3):
            self.w32(kw + 4 * k, 0)
        return (kw,)

    def call_global(self, name: str, *pyargs):
        return self.from_obj(self.call_obj(self.globals[name], *pyargs))

    def call_viper(self, name: str, *pyargs):
        """Call a function made with MP_DYNRUNTIME_MAKE_FUNCTION: f(self, n_args, n_kw, args)."""
        f = self.globals[name]
        kind, code = self.objs[f]
        assert kind == "viper"
        arr = self.alloc(4 * len(pyargs))
        for i, v in enumerate(pyargs):
            self.w32(arr + 4 * i, self.to_obj(v))
        return self.from_obj(self.call(code, f, len(pyargs), 0, arr))

    def make_new(self, type_name: str, *pyargs) -> int:
        t = self.globals[type_name]
        idx = self.uc.mem_read(t + 8, 1)[0]
        arr = self.alloc(4 * len(pyargs))
        for i, v in enumerate(pyargs):
            self.w32(arr + 4 * i, self.to_obj(v))
        return EmuObj(self.call(self.r32(t + 20 + 4 * (idx - 1)), t, len(pyargs), 0, arr))

    def method(self, obj: int, name: str, *pyargs):
        t = self.r32(obj)
        idx = self.uc.mem_read(t + 19, 1)[0]
        d = self.r32(t + 20 + 4 * (idx - 1))
        n, table = self.r32(d + 4) >> 3, self.r32(d + 12)
        for i in range(n):
            if self.from_obj(self.r32(table + 8 * i)) == name:
                f = self.r32(table + 8 * i + 4)
                objs = [obj] + [self.to_obj(v) for v in pyargs]
                typ = self.r32(f)
                if typ == self.type_addr["funvar"]:  # f(n_args, args): self is args[0]
                    arr = self.alloc(4 * len(objs))
                    for j, o in enumerate(objs):
                        self.w32(arr + 4 * j, o)
                    return self.from_obj(self.call(self.r32(f + 8), len(objs), arr, *self._kw_map(f)))
                k = [self.type_addr[f"fun{j}"] for j in range(4)].index(typ)
                assert k == len(objs)
                return self.from_obj(self.call(self.r32(f + 4), *objs))
        raise AttributeError(name)
