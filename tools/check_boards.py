"""`make check-boards FIRMWARE=<dir>`: the tests_device/ scripts inside real MicroPython firmware.

For each board folder under FIRMWARE (tools/qemu_boards.py): `make test-device QEMU=FIRMWARE/<BOARD>`,
which starts QEMU with the board's serial on a pty, reads the native arch the board loads, runs the
scripts through mpremote exactly as with a USB board (power-cycling the board if a script leaves it
dead) and stops QEMU. A board gets at most --board-timeout seconds, after which the whole process
group (make, runner, mpremote, QEMU) is killed; a crash or hang is a failure reported with the
board's last output. Prints one `N passed, N failed` line per board and a total; exits 1 if
anything failed.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import qemu_boards
import toolreg

ROOT = Path(__file__).resolve().parent.parent

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed\s*$", re.M)


def run_make(args: list[str], timeout: float) -> tuple[int, str]:
    """make in the repo, in its own process group so a timeout stops mpremote too."""
    proc = subprocess.Popen([toolreg.which("make"), "-s", "--no-print-directory", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return -1, out + f"\n[board timed out after {timeout:g} s]"


def check_board(board_dir: Path, timeout: float) -> tuple[int, int]:
    """Run the device tests on one board; returns (passed, failed)."""
    start = time.monotonic()
    print(f"== {board_dir.name} ({qemu_boards.BOARDS[board_dir.name].cpu})", flush=True)
    rc, out = run_make(["test-device", f"QEMU={board_dir}"], timeout)
    print(out.rstrip())
    totals = SUMMARY.findall(out)
    passed, failed = (int(totals[-1][0]), int(totals[-1][1])) if totals else (0, 0)
    if rc != 0 and failed == 0:
        failed = 1  # make failed without a test failure line: count it
    print(f"{board_dir.name}: {passed} passed, {failed} failed ({time.monotonic() - start:.0f} s)", flush=True)
    return passed, failed


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firmware", required=True, type=Path, help="folder of <BOARD>/firmware.elf")
    ap.add_argument("--board-timeout", type=float, default=600, help="seconds one board may take")
    ap.add_argument("--boards", default="", help="comma-separated board names (default: every folder)")
    args = ap.parse_args(argv)
    try:
        dirs = qemu_boards.boards(args.firmware)
    except qemu_boards.QemuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.boards:
        want = args.boards.split(",")
        dirs = [d for d in dirs if d.name in want]
    passed = failed = 0
    results = []
    for d in dirs:
        p, f = check_board(d, args.board_timeout)
        passed, failed = passed + p, failed + f
        results.append(f"{d.name}: {p} passed, {f} failed")
    print("\n".join(["== boards", *results]))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
