"""The board harness (tools/run_device_tests.py, tools/check_boards.py, tools/qemu_boards.py) on a
real MicroPython firmware: a script that hangs or crashes the board is a failure, reported with the
board's last output within its time bound, and no QEMU process outlives the harness."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pythonpath
import toolreg

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "run_device_tests.py"


def scripts(tmp: Path) -> dict[str, Path]:
    src = {
        "t_hang.py": "print('looping')\nwhile True:\n    pass\n",
        "t_ok.py": "print('1 passed, 0 failed')\n",
        # 0x60000000 is unmapped on QEMU's microbit machine: the load is a bus fault -> HardFault,
        # whose handler prints the registers and spins.
        "t_crash.py": "import machine\nprint('reading')\nprint(machine.mem32[0x60000000])\n",
    }
    out = {}
    for name, text in src.items():
        out[name] = tmp / name
        out[name].write_text(text)
    return out


def test_hang_and_crash_are_failures_within_the_time_bound(firmware: Path, tmp_path: Path) -> None:
    s = scripts(tmp_path)
    order = [s["t_hang.py"], s["t_ok.py"], s["t_crash.py"], s["t_ok.py"]]
    # the board through a folder of this test's own, so that the QEMU left-over check below sees only
    # the QEMU this run started (other runs on the machine may use the same firmware meanwhile)
    board = tmp_path / "fw" / "MICROBIT"
    board.parent.mkdir()
    board.symlink_to(firmware / "MICROBIT")
    start = time.monotonic()
    r = subprocess.run([sys.executable, str(RUNNER), "--qemu", str(board), "--timeout", "8",
                        *map(str, order)], capture_output=True, text=True, env=pythonpath.env(), timeout=180)
    elapsed = time.monotonic() - start
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    # the hang: stopped after its timeout, its output shown; QEMU's UART cannot deliver ^C to a
    # running loop, so the board is power-cycled and the next script passes
    assert "--- t_hang.py: exit -1" in out and "looping" in out and "timed out after 8 s" in out, out
    assert out.count("QEMU restarted") == 2, out
    assert out.count("t_ok.py: 1 passed, 0 failed") == 2, out
    # the crash: the board's last words (the fault handler's register dump) are in the report
    assert "--- t_crash.py: exit -1" in out and "reading" in out and "HardFault" in out, out
    assert out.rstrip().endswith("2 passed, 2 failed"), out
    assert elapsed < 8 * 2 + 15 * 2 + 60, elapsed  # two timeouts, two probes, start-ups
    left = subprocess.run([toolreg.which("pgrep"), "-f", str(board)], capture_output=True, text=True).stdout
    assert left == "", left  # QEMU stopped


def test_check_boards_reports_a_board_that_never_boots(tmp_path: Path) -> None:
    """A firmware image that is not a program: a failure with QEMU's words, nothing left running."""
    (tmp_path / "MPS2_AN385").mkdir()
    (tmp_path / "MPS2_AN385" / "firmware.elf").write_bytes(os.urandom(4096))
    start = time.monotonic()
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "check_boards.py"), "--firmware", str(tmp_path),
                        "--board-timeout", "60"], capture_output=True, text=True, env=pythonpath.env(), timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "MPS2_AN385" in out and out.rstrip().endswith("0 passed, 1 failed"), out
    assert time.monotonic() - start < 120
    left = subprocess.run([toolreg.which("pgrep"), "-f", str(tmp_path)], capture_output=True, text=True).stdout
    assert left == "", left


def test_unknown_board_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "NOT_A_BOARD").mkdir()
    (tmp_path / "NOT_A_BOARD" / "firmware.elf").write_bytes(b"\x7fELF")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "check_boards.py"), "--firmware", str(tmp_path)],
                       capture_output=True, text=True, env=pythonpath.env(), timeout=60)
    assert r.returncode == 2 and "unknown board folder(s) NOT_A_BOARD" in r.stderr, r.stderr
