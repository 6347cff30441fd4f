"""Run every tests_device/ script on the unix port (default) or on a board over mpremote.

Each script prints one `N passed, N failed` line; this runner collects them, prints a total in the
same form and exits non-zero if any script failed, crashed or printed no summary.

    python tools/run_device_tests.py --arch x64                 # unix port, dist/x64 modules
    python tools/run_device_tests.py --arch armv6m --port /dev/ttyACM0
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed", re.M)
TIMEOUT_S = 300

sys.path.insert(0, str(ROOT / "tools"))
import board  # noqa: E402  (tools/board.py: mpremote helpers shared with deploy)
import toolreg  # noqa: E402


def make_data(out: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_device_data.py"), str(out)], check=True)


def run_unix(script: Path, workdir: Path, dist: Path, micropython: Path) -> tuple[int, str]:
    env = dict(os.environ, MICROPYPATH=f"{dist}:{workdir}")
    proc = subprocess.run([str(micropython), script.name], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    return proc.returncode, proc.stdout + proc.stderr


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="x64")
    ap.add_argument("--port", default=None, help="serial port of a board; default: the unix port")
    ap.add_argument("--micropython", default=None, help="the unix port binary (default: the registry's)")
    ap.add_argument("scripts", nargs="*", help="test scripts (default: tests_device/test_*.py)")
    args = ap.parse_args(argv)

    dist = ROOT / "dist" / args.arch
    scripts = [Path(s).resolve() for s in args.scripts] or sorted((ROOT / "tests_device").glob("test_*.py"))
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="emldev-") as tmp:
        work = Path(tmp)
        make_data(work)
        shutil.copy(ROOT / "tests_device" / "dtest.py", work)
        if args.port:
            dev = board.Board(args.port)
            dev.require_arch(args.arch)
            dev.copy([*sorted(dist.glob("*.mpy")), *sorted(work.iterdir())])
        for script in scripts:
            shutil.copy(script, work)
            try:
                if args.port:
                    rc, out = dev.run(work / script.name)
                else:
                    if args.arch != "x64":
                        raise SystemExit(f"the unix port runs x64 modules only, not {args.arch}; give --port")
                    rc, out = run_unix(work / script.name, work, dist, Path(args.micropython or toolreg.which("micropython")))
            except subprocess.TimeoutExpired:
                rc, out = -1, f"timed out after {TIMEOUT_S} s"
            m = SUMMARY.search(out)
            n_pass, n_fail = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
            if (rc != 0 or not m) and n_fail == 0:
                n_fail = 1  # crashed, timed out or printed no summary: one failure for the script
            passed += n_pass
            failed += n_fail
            if n_fail:
                print(f"--- {script.name}: exit {rc}\n{out.strip()}")
            else:
                print(f"{script.name}: {m.group(0)}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
