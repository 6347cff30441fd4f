"""Run every tests_device/ script on the unix port (default) or on a board over mpremote.

Each script prints `heap: N bytes used at peak` and one `N passed, N failed` line; this runner
collects them, prints a total in the same form and exits non-zero if any script failed, crashed,
timed out or printed no summary (each of those counts as one failure of the script).

    make test-device [PORT=/dev/ttyACM0 | QEMU=FIRMWARE/MICROBIT], or by hand (PYTHONPATH: tools/pythonpath.py):
    PYTHONPATH=tools:toolchain python tools/run_device_tests.py                           # unix port, dist/x64
    PYTHONPATH=tools:toolchain python tools/run_device_tests.py --port /dev/ttyACM0       # a board; ARCH from it
    PYTHONPATH=tools:toolchain python tools/run_device_tests.py --qemu FIRMWARE/MICROBIT  # firmware on QEMU

On a board the modules, the scripts and their data are not copied: a host folder holding them is
mounted as the board's current folder (`mpremote mount`). Nothing is written to the board's flash
(no wear, nothing left behind), boards without a filesystem work the same way (MicroPython's QEMU
boards have none), and the board always runs the files just built. Reads cross the serial link, so
the test data are kept small. A script that outlives --timeout is stopped. If the board then no
longer answers at its REPL (a crash, or a hang Ctrl-C cannot break), a QEMU board is power-cycled
(QEMU restarted) and the next script runs; on a USB board the remaining scripts are not run and
count as failures (reset the board).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import board  # tools/board.py: mpremote helpers shared with deploy
import qemu_boards
import toolreg

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed", re.M)
HEAP = re.compile(r"^heap: (\d+) bytes", re.M)
TIMEOUT_S = 300


def make_data(out: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_device_data.py"), str(out)], check=True)


def run_unix(script: Path, workdir: Path, dist: Path, micropython: str, timeout: float) -> tuple[int, str]:
    env = dict(os.environ, MICROPYPATH=f"{dist}:{workdir}")
    try:
        proc = subprocess.run([micropython, script.name], cwd=workdir, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"[timed out after {timeout:g} s]"
    return proc.returncode, proc.stdout + proc.stderr


def tally(name: str, rc: int, out: str) -> tuple[int, int]:
    """Print one script's result; returns (passed, failed)."""
    m = SUMMARY.search(out)
    n_pass, n_fail = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if (rc != 0 or not m) and n_fail == 0:
        n_fail = 1  # crashed, timed out or printed no summary: one failure for the script
    if n_fail:
        print(f"--- {name}: exit {rc}\n{out.strip()}")
    else:
        heap = HEAP.search(out)
        print(f"{name}: {m.group(0)}" + (f" (heap {heap.group(1)} bytes at peak)" if heap else ""))
    return n_pass, n_fail


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default=None, help="modules to test (default: x64 on the unix port, the board's own)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--port", default=None, help="serial port of a board; default: the unix port")
    where.add_argument("--qemu", default=None, type=Path, help="a ports/qemu firmware folder (FIRMWARE/<BOARD>)")
    ap.add_argument("--micropython", default=None, help="the unix port binary (default: the registry's)")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds one script may take")
    ap.add_argument("scripts", nargs="*", help="test scripts (default: tests_device/test_*.py)")
    args = ap.parse_args(argv)
    scripts = [Path(s).resolve() for s in args.scripts] or sorted((ROOT / "tests_device").glob("test_*.py"))
    with contextlib.ExitStack() as stack:
        qemu = stack.enter_context(qemu_boards.Qemu(args.qemu)) if args.qemu else None
        port = qemu.port if qemu else args.port
        try:
            arch = args.arch or (board_arch(port) if port else "x64")
        except board.BoardError as exc:
            raise SystemExit(f"error: {exc}" + (f"\n{qemu.state()}" if qemu else "")) from None
        if not port and arch != "x64":
            raise SystemExit(f"the unix port runs x64 modules only, not {arch}; give --port")
        if qemu:
            print(f"{qemu.name} on {port}: ARCH={arch}")
        return run_all(scripts, arch, port, qemu, args)


def board_arch(port: str) -> str:
    """The arch to test on a board: the one its loader takes best (refused if it loads none)."""
    version, sub, number = board.Board(port).mpy_info()
    arch = board.best_arch(number)
    board.check_arch(version, sub, number, arch)
    return arch


def run_all(scripts: list[Path], arch: str, port: str | None, qemu: qemu_boards.Qemu | None,
            args: argparse.Namespace) -> int:
    dist = ROOT / "dist" / arch
    modules = sorted(dist.glob("*.mpy"))
    if not modules:
        raise SystemExit(f"no modules in {dist}: run `make`")
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="emldev-") as tmp:
        work = Path(tmp)
        make_data(work)
        shutil.copy(ROOT / "tests_device" / "dtest.py", work)
        if port:
            dev = board.Board(port)
            try:
                dev.require_arch(arch)
            except board.BoardError as exc:
                raise SystemExit(f"error: {exc}") from None
            for m in modules:
                shutil.copy(m, work)
        for i, script in enumerate(scripts):
            shutil.copy(script, work)
            if port:
                rc, out = dev.run(work / script.name, mount=work, timeout=args.timeout)
                if qemu and not qemu.alive():
                    out += f"\n[{qemu.state()}]"
            else:
                rc, out = run_unix(work / script.name, work, dist, args.micropython or toolreg.which("micropython"),
                                   args.timeout)
            n_pass, n_fail = tally(script.name, rc, out)
            passed += n_pass
            failed += n_fail
            rest = scripts[i + 1:]
            if port and n_fail and rest and not dev.responsive():
                if qemu:
                    qemu.restart()
                    port = qemu.port
                    dev = board.Board(port)
                    print(f"--- the board no longer answered: QEMU restarted, now on {port}")
                    continue
                print(f"--- the board on {port} no longer answers; not run: " + ", ".join(s.name for s in rest))
                failed += len(rest)
                break
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
