"""Count guest instructions in real firmware under QEMU with the firmware folder's TCG plugin.

The plugin (FIRMWARE/plugin/insncount.c, see FIRMWARE/README.md) counts the instructions QEMU
executes between each execution of the instruction at a `start` address and the next one at a
`stop` address, and appends one count per line to a file (plus a `total N` line when QEMU exits).
Here: build it into the build folder (never into the repository), find marker addresses in the
firmware's ELF symbols, give QEMU the `-plugin` argument, read the counts back.

    lib = build_plugin(firmware, ROOT / "build" / "insncount")
    start = symbol_address(board_dir, "mp_micropython_heap_lock")
    with qemu_boards.Qemu(board_dir, extra=plugin_args(lib, start, stop, out)) as q: ...
    counts = read_counts(out)
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import qemu_boards
import toolreg

# the nm that reads each QEMU machine's ELF
NM = {"qemu-system-arm": "arm-none-eabi-nm", "qemu-system-riscv32": "riscv64-unknown-elf-nm"}


class InsnCountError(RuntimeError):
    pass


def build_plugin(firmware: Path, out_dir: Path) -> Path:
    """Compile FIRMWARE/plugin/insncount.c into out_dir/libinsncount.so (rebuilt when the source is newer)."""
    src = firmware / "plugin" / "insncount.c"
    if not src.is_file():
        raise InsnCountError(f"{src}: no such file (the firmware folder's README.md describes the plugin)")
    lib = out_dir / "libinsncount.so"
    if lib.exists() and lib.stat().st_mtime >= src.stat().st_mtime:
        return lib
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([toolreg.which("gcc"), "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise InsnCountError(f"building the QEMU plugin failed:\n{proc.stderr.strip()}")
    return lib


def symbol_address(board_dir: Path, name: str) -> int:
    """Address of a function symbol in board_dir/firmware.elf (the Thumb bit cleared: the plugin
    compares instruction addresses)."""
    nm = NM[qemu_boards.BOARDS[board_dir.name].qemu]
    proc = subprocess.run([toolreg.which(nm), str(board_dir / "firmware.elf")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InsnCountError(f"{nm} failed on {board_dir / 'firmware.elf'}: {proc.stderr.strip()}")
    found = {int(parts[0], 16) & ~1 for parts in (line.split() for line in proc.stdout.splitlines())
             if len(parts) == 3 and parts[2] == name and parts[1] in "tT"}
    if len(found) != 1:
        raise InsnCountError(f"{len(found)} functions named {name} in {board_dir / 'firmware.elf'}: "
                             "a marker must be one address")
    return found.pop()


def plugin_args(lib: Path, start: int, stop: int, out: Path) -> list[str]:
    """The QEMU arguments that load the plugin (pass as qemu_boards.Qemu(..., extra=...))."""
    return ["-plugin", f"{lib},start={start:#x},stop={stop:#x},out={out}"]


def read_counts(path: Path) -> list[int]:
    """The per-interval counts the plugin wrote so far (the `total` line is left out)."""
    if not path.exists():
        return []
    return [int(line) for line in path.read_text().split("\n") if line.strip().isdigit()]
