"""Talk to a MicroPython board through mpremote (no serial code of our own).

Board.require_arch() reads `sys.implementation._mpy` on the device and refuses, with a message naming
the arch the board needs, to copy modules built for an arch the board's loader would reject.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import toolreg
from mpyld.abi import ARCH_CODES, ARCH_NAMES, MPY_SUB_VERSION, MPY_VERSION, THUMB_ARCHES, split_feature_byte


class BoardError(RuntimeError):
    pass


def accepts(board_arch: int, file_arch: int) -> bool:
    """MicroPython's loader rule: exact match, except that Thumb firmware (armv6m..armv7emdp)
    also loads any Thumb file from armv6m up to its own arch."""
    if board_arch == file_arch:
        return True
    return board_arch in THUMB_ARCHES and file_arch in THUMB_ARCHES and file_arch <= board_arch


def best_arch(board_arch: int) -> str:
    """The arch to build for: the board's own, except armv7em (no build rule) -> armv7m."""
    name = ARCH_NAMES.get(board_arch, f"arch #{board_arch}")
    return {"armv7em": "armv7m", "armv7emdp": "armv7emsp"}.get(name, name)


def decode_mpy(value: int) -> tuple[int, int, int]:
    """sys.implementation._mpy -> (.mpy version, sub-version, native arch number)."""
    arch, sub = split_feature_byte((value >> 8) & 0xFF)
    return value & 0xFF, sub, arch


def check_arch(version: int, sub: int, board_arch: int, arch: str) -> None:
    """Raise BoardError unless a board whose loader reports (version, sub, board_arch) can load
    modules built for `arch`; the message says what to do instead."""
    if (version, sub) != (MPY_VERSION, MPY_SUB_VERSION):
        raise BoardError(f"the board's MicroPython reads .mpy v{version}.{sub}; these modules are "
                         f"v{MPY_VERSION}.{MPY_SUB_VERSION}: update the firmware to MicroPython 1.23 or newer")
    if board_arch == 0:
        raise BoardError("the board's firmware cannot load native code (no native emitter); "
                         "use a firmware build with native .mpy support")
    if not accepts(board_arch, ARCH_CODES[arch]):
        raise BoardError(f"refusing to copy {arch} modules: this board needs ARCH={best_arch(board_arch)} "
                         f"(its loader reports {ARCH_NAMES.get(board_arch, board_arch)})")


class Board:
    def __init__(self, port: str, mpremote: str | None = None) -> None:
        self.port = port
        self.mpremote = mpremote or toolreg.which("mpremote")

    def _run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = [self.mpremote, "connect", self.port, *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError as e:
            raise BoardError(f"mpremote not found ({e}); run `make` to create .venv") from e
        err = proc.stderr.strip()
        if proc.returncode != 0 and ("no device found" in err or "failed to access" in err
                                     or "could not" in err.lower()):
            raise BoardError(f"mpremote found no board on {self.port}: {err}\n"
                             "Check the cable, the port name (`mpremote connect list`) and that no other "
                             "program (a serial terminal, Thonny) holds the port.")
        return proc

    def mpy_info(self) -> tuple[int, int, int]:
        """(version, sub-version, arch number) of the board's .mpy loader."""
        proc = self._run("exec", "import sys; print(getattr(sys.implementation, '_mpy', 0))")
        if proc.returncode != 0:
            raise BoardError(f"could not query the board on {self.port}: {proc.stderr.strip()}")
        return decode_mpy(int(proc.stdout.strip().splitlines()[-1]))

    def require_arch(self, arch: str) -> None:
        check_arch(*self.mpy_info(), arch)

    def copy(self, files: list[Path]) -> None:
        if not files:
            return
        proc = self._run("cp", *[str(f) for f in files], ":")
        if proc.returncode != 0:
            raise BoardError(f"copy to the board failed: {proc.stderr.strip()}")

    def run(self, script: Path, mount: Path | None = None, timeout: float = 300) -> tuple[int, str]:
        """Run a host script on the board; with `mount`, that host folder is the board's current
        folder (`mpremote mount`: imports and open() read it over the serial link, nothing is
        written to the board's flash). Returns (exit status, output); on a timeout (-1, the output
        so far and a note): mpremote is stopped, the board may still be running the script."""
        args = ["mount", str(mount), "run", str(script)] if mount else ["run", str(script)]
        try:
            proc = self._run(*args, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            partial = b"".join(x for x in (exc.stdout, exc.stderr) if isinstance(x, bytes))
            return -1, partial.decode(errors="replace") + f"\n[timed out after {timeout:g} s]"
        return proc.returncode, proc.stdout + proc.stderr

    def responsive(self, timeout: float = 15) -> bool:
        """True if the board answers at its REPL (mpremote interrupts a running script first)."""
        try:
            proc = self._run("exec", "print(6 * 7)", timeout=timeout)
        except (subprocess.TimeoutExpired, BoardError):
            return False
        return proc.returncode == 0 and "42" in proc.stdout
