"""Real MicroPython firmware on emulated boards: start one under QEMU with its serial port on a pty.

The firmware images are MicroPython's `ports/qemu` builds (docs/boards.md says how to build them),
one folder per board holding `firmware.elf`, with the board's name as the folder name:

    FIRMWARE/MICROBIT/firmware.elf   FIRMWARE/MPS2_AN385/firmware.elf   ...

`Qemu(board_dir)` is a context manager: it starts QEMU, waits until it names the pty that stands
for the board's USB serial (`/dev/pts/N`, what mpremote connects to), and always stops QEMU on exit
(terminate, then kill). Nothing else here talks to the board: that is mpremote's job (tools/board.py).
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import toolreg


@dataclass(frozen=True)
class BoardSpec:
    qemu: str            # the QEMU command (registered in toolreg)
    machine: list[str]   # arguments that select and size the machine
    cpu: str             # for people reading reports


# The QEMU machine each ports/qemu board runs on (MicroPython's ports/qemu/boards/*/mpconfigboard.mk).
BOARDS: dict[str, BoardSpec] = {
    "MICROBIT": BoardSpec("qemu-system-arm", ["-machine", "microbit", "-global", "nrf51-soc.flash-size=1048576",
                                              "-global", "nrf51-soc.sram-size=262144"], "Cortex-M0"),
    "MPS2_AN385": BoardSpec("qemu-system-arm", ["-machine", "mps2-an385"], "Cortex-M3"),
    "MPS2_AN386": BoardSpec("qemu-system-arm", ["-machine", "mps2-an386"], "Cortex-M4F"),
    "MPS2_AN500": BoardSpec("qemu-system-arm", ["-machine", "mps2-an500"], "Cortex-M7"),
    "VIRT_RV32": BoardSpec("qemu-system-riscv32", ["-bios", "none", "-machine", "virt"], "RV32IMAC"),
}
PTY_LINE = re.compile(r"char device redirected to (/dev/pts/\d+)")
START_TIMEOUT_S = 20


class QemuError(RuntimeError):
    pass


def boards(firmware: Path) -> list[Path]:
    """The board folders under `firmware` that hold a firmware.elf for a known board, sorted.
    Raises QemuError when there is none, or a folder names a board this file does not know."""
    if not firmware.is_dir():
        raise QemuError(f"FIRMWARE={firmware}: no such folder (see docs/boards.md)")
    found = sorted(p.parent for p in firmware.glob("*/firmware.elf"))
    unknown = [p.name for p in found if p.name not in BOARDS]
    if unknown:
        raise QemuError(f"unknown board folder(s) {', '.join(unknown)} in {firmware}; known: {', '.join(BOARDS)}")
    if not found:
        raise QemuError(f"no <BOARD>/firmware.elf under {firmware} (see docs/boards.md)")
    return found


def command(board_dir: Path, extra: list[str] = ()) -> list[str]:
    spec = BOARDS[board_dir.name]
    return [toolreg.which(spec.qemu), *spec.machine, "-nographic", "-monitor", "null", "-semihosting",
            "-serial", "pty", "-kernel", str(board_dir / "firmware.elf"), *extra]


class Qemu:
    """A running board: `.port` is its serial pty; `.log()` is what QEMU itself printed."""

    def __init__(self, board_dir: Path, extra: list[str] = ()) -> None:
        self.name = board_dir.name
        self.cmd = command(board_dir, list(extra))
        self.port = ""
        self._log = tempfile.NamedTemporaryFile(prefix=f"qemu-{self.name}-", suffix=".log")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Qemu":
        self.start()
        return self

    def restart(self) -> None:
        """Power-cycle the board: stop QEMU and start it again (the pty changes)."""
        self.stop()
        self.start()

    def start(self) -> None:
        self._log.seek(0)
        self._log.truncate(0)  # the log of this run only
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = PTY_LINE.search(self.log())
            if m:
                self.port = m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise QemuError(f"{self.name}: QEMU named no serial pty within {START_TIMEOUT_S} s "
                        f"(exit {self.proc.returncode}): {self.log().strip()[-500:]}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def state(self) -> str:
        """One line for a report: running or exited, and the end of what QEMU printed."""
        how = "running" if self.alive() else f"exited with status {self.proc.returncode}"
        return f"QEMU ({self.name}) {how}; it printed: {self.log().strip()[-500:]}"

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")
