"""Build C sources for Cortex-M0 and count the instructions a function call executes in unicorn.

Build: arm-none-eabi-gcc -mcpu=cortex-m0 -mthumb -Os (plus caller flags), -nostartfiles -nostdlib,
our own linker script (code + read-only data at 0, .data/.bss in RAM at 0x20000000 with load
address = run address, so no copy loop is needed), linked with newlib's libc/libm and libgcc from
the thumb/v6-m/nofp multilib (gcc picks it from -mcpu/-mthumb).

Run: the ELF's PT_LOAD segments are written to emulated memory (bss zero-filled). A call puts its
arguments in r0-r3 (the rest on the stack, AAPCS), sets lr to a stop address and runs until the
function returns there. Counting: a basic-block hook adds the number of Thumb instructions of every
block executed (the block's bytes are decoded once: a halfword whose top five bits are 0b11101,
0b11110 or 0b11111 starts a 32-bit instruction, every other halfword is a 16-bit instruction).
`count_exact` counts with a per-instruction hook instead; bench.py checks that both agree.

Depends on: unicorn, pyelftools, arm-none-eabi-gcc with newlib. No project code.
"""
from __future__ import annotations

import struct
import subprocess
from pathlib import Path
from typing import Callable, Iterable, Sequence
import toolreg

GCC = ["arm-none-eabi-gcc", "-mcpu=cortex-m0", "-mthumb"]
OPT = ["-Os"]

LINKER_SCRIPT = """\
MEMORY { FLASH (rx) : ORIGIN = 0, LENGTH = 1M
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 1M }
SECTIONS {
  .text : { *(.text*) *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM
  .bss : { *(.bss*) *(COMMON) } > RAM
  _bench_end = .;
  /DISCARD/ : { *(.ARM.exidx*) *(.ARM.extab*) }
}
"""


def build(sources: Sequence[Path], out: Path, includes: Iterable[Path] = (), defines: Iterable[str] = (),
          extra: Sequence[str] = ()) -> Path:
    """Compile and link `sources` into the ELF `out`. Raises CalledProcessError (with output) on failure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    ld = out.with_suffix(".ld")
    ld.write_text(LINKER_SCRIPT)
    cmd = [*toolreg.argv(GCC), *OPT, *extra, *[f"-I{p}" for p in includes], *[f"-D{d}" for d in defines],
           "-nostartfiles", "-nostdlib", "-T", str(ld), "-Wl,-e,0",
           *[str(s) for s in sources], "-lm", "-lc", "-lgcc", "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"build failed: {' '.join(cmd)}\n{r.stderr}")
    return out


def thumb_count(code: bytes) -> int:
    """Number of Thumb instructions in a straight run of code bytes."""
    n = i = 0
    while i < len(code):
        hw = code[i] | (code[i + 1] << 8)
        i += 4 if (hw >> 11) in (0b11101, 0b11110, 0b11111) else 2
        n += 1
    assert i == len(code), "block ends inside a 32-bit instruction"
    return n


class M0:
    """One linked ELF loaded into a fresh unicorn Cortex-M instance."""

    FLASH_SIZE = 1 << 20
    RAM = 0x20000000
    RAM_SIZE = 4 << 20
    STOP = 0xFFF00  # return address of every call (in flash, never executed)

    def __init__(self, elf_path: Path) -> None:
        from elftools.elf.elffile import ELFFile
        from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc

        from unicorn import UC_HOOK_BLOCK
        from unicorn.arm_const import UC_CPU_ARM_CORTEX_M0

        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        # An ARMv6-M core: an instruction the M0 lacks would fault instead of being counted.
        self.uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_M0)
        self.uc.mem_map(0, self.FLASH_SIZE)
        self.uc.mem_map(self.RAM, self.RAM_SIZE)
        self.symbols: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        end = self.RAM
        with open(elf_path, "rb") as fh:
            elf = ELFFile(fh)
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                    continue
                data = seg.data()
                self.uc.mem_write(seg["p_vaddr"], data + bytes(seg["p_memsz"] - len(data)))
                if seg["p_vaddr"] >= self.RAM:
                    end = max(end, seg["p_vaddr"] + seg["p_memsz"])
            for s in elf.get_section_by_name(".symtab").iter_symbols():
                if s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and s.name:
                    self.symbols[s.name] = s["st_value"]
                    self.sizes[s.name] = s["st_size"]
        self.heap = (end + 7) & ~7
        self.stack_top = self.RAM + self.RAM_SIZE - 64
        self._blocks: dict[tuple[int, int], int] = {}
        # The block hook is installed before any code runs and stays: unicorn instruments code
        # when it translates it, so a hook added later would miss blocks already translated
        # (e.g. soft-float helpers first run during setup). Counting is switched by a flag.
        self._counting = False
        self._total = 0
        self._listener: Callable[[int, int], None] | None = None
        self.uc.hook_add(UC_HOOK_BLOCK, self._on_block)

    def _on_block(self, uc, addr: int, size: int, _user) -> None:
        if self._counting:
            key = (addr, size)
            n = self._blocks.get(key)
            if n is None:
                n = self._blocks[key] = thumb_count(bytes(uc.mem_read(addr, size)))
            self._total += n
            if self._listener is not None:
                self._listener(addr, n)

    # ---- memory -------------------------------------------------------------------------------
    def alloc(self, data: bytes | int) -> int:
        """Copy bytes (or reserve a zeroed size) into emulated RAM; returns the 8-aligned address."""
        size = data if isinstance(data, int) else len(data)
        addr = self.heap
        self.heap = (self.heap + size + 7) & ~7
        assert self.heap < self.stack_top - (256 << 10), "emulated RAM exhausted"
        self.uc.mem_write(addr, bytes(size) if isinstance(data, int) else bytes(data))
        return addr

    def read(self, addr: int, size: int) -> bytes:
        return bytes(self.uc.mem_read(addr, size))

    def write(self, addr: int, data: bytes) -> None:
        self.uc.mem_write(addr, bytes(data))

    def snapshot(self) -> bytes:
        """Contents of the used RAM (static data and everything alloc'ed), for restore()."""
        return self.read(self.RAM, self.heap - self.RAM)

    def restore(self, state: bytes) -> None:
        self.write(self.RAM, state)

    def sym(self, name: str) -> int:
        return self.symbols[name]

    # ---- calls --------------------------------------------------------------------------------
    def _setup(self, name: str, args: Sequence[int]) -> int:
        from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_R0, UC_ARM_REG_SP

        sp = (self.stack_top - 4 * max(0, len(args) - 4)) & ~7
        for i, a in enumerate(args):
            v = a & 0xFFFFFFFF
            if i < 4:
                self.uc.reg_write(UC_ARM_REG_R0 + i, v)  # r0..r3 are consecutive in unicorn's enum
            else:
                self.uc.mem_write(sp + 4 * (i - 4), struct.pack("<I", v))
        self.uc.reg_write(UC_ARM_REG_SP, sp)
        self.uc.reg_write(UC_ARM_REG_LR, self.STOP | 1)
        return self.symbols[name] | 1

    def _run(self, entry: int) -> int:
        from unicorn.arm_const import UC_ARM_REG_PC, UC_ARM_REG_R0

        self.uc.emu_start(entry, self.STOP)
        assert self.uc.reg_read(UC_ARM_REG_PC) & ~1 == self.STOP, "call did not return"
        r = self.uc.reg_read(UC_ARM_REG_R0)
        return r - (1 << 32) if r & 0x80000000 else r

    def call(self, name: str, *args: int) -> int:
        """Call name(args) (32-bit integer/pointer arguments); returns r0 as a signed int."""
        return self._run(self._setup(name, args))

    def count(self, name: str, *args: int) -> tuple[int, int]:
        """(r0, instructions executed by the call), counted per basic block."""
        entry = self._setup(name, args)
        self._total, self._counting = 0, True
        try:
            r = self._run(entry)
        finally:
            self._counting = False
        return r, self._total

    def profile(self, name: str, *args: int) -> dict[str, int]:
        """Instructions executed by the call, per function symbol (a block is charged to the
        nearest function symbol at or below its start)."""
        import bisect

        funcs = sorted((a & ~1, n) for n, a in self.symbols.items() if a < self.FLASH_SIZE)
        starts = [a for a, _ in funcs]
        hist: dict[str, int] = {}

        def listen(addr: int, n: int) -> None:
            fn = funcs[bisect.bisect_right(starts, addr) - 1][1]
            hist[fn] = hist.get(fn, 0) + n

        self._listener = listen
        try:
            self.count(name, *args)
        finally:
            self._listener = None
        return hist

    def count_exact(self, name: str, *args: int) -> tuple[int, int]:
        """(r0, instructions executed), counted one instruction at a time (slow; for cross-checks).
        The translation cache is flushed around the call so every instruction carries the hook."""
        from unicorn import UC_HOOK_CODE

        total = [0]

        def on_code(uc, addr, size, _):
            total[0] += 1

        entry = self._setup(name, args)
        h = self.uc.hook_add(UC_HOOK_CODE, on_code)
        self.uc.ctl_flush_tb()
        try:
            r = self._run(entry)
        finally:
            self.uc.hook_del(h)
            self.uc.ctl_flush_tb()
        return r, total[0]
