"""The native-module kit's C-plus-Python test module (toolchain/tests/compat/pymod.c + pymod.py, merged
by `mpyld merge`) in real MicroPython firmware on the emulated Cortex-M0 (MICROBIT): the Python half
runs after mpy_init, calls the C half and keeps its line numbers, as on the unix port
(tests_host/test_toolchain_compat.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import board
import pythonpath
import qemu_boards
import toolreg

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """import pymod, array, io, sys
print(pymod.VERSION, pymod.who, pymod.BIG, pymod.RATIO, pymod.TAG)
print(pymod.norm(array.array('f', [3, 4])), pymod.clip_all([-5, 3, 300]), pymod.clip_all([1, 9], 2, 8))
c = pymod.Counter(10)
print(c.add_all([1, 2, 3]), isinstance(c, pymod.Acc), pymod.Acc(4).value())
print(pymod.scaler(3)(7), pymod.first_over([1, -2, 3, 9, 4], 5), list(pymod.gen(5)))
n = pymod.names()
print(len(n), n['n129'], pymod.late(10), pymod.late(0))
try:
    pymod.fails(1)
except ValueError as e:
    s = io.StringIO()
    sys.print_exception(e, s)
    print(s.getvalue())
"""


def test_pymod_on_cortex_m0_firmware(firmware: Path, tmp_path: Path) -> None:
    r = subprocess.run([toolreg.which("make"), "-s", "-f", "toolchain/tests/compat.mk", f"NATMOD_BUILD={tmp_path}/build",
                        f"NATMOD_DIST={tmp_path}/dist", "NATMOD_ARCHES=armv6m", f"PYTHON={sys.executable}",
                        f"{tmp_path}/dist/armv6m/pymod.mpy"], cwd=ROOT, capture_output=True, text=True,
                       env=pythonpath.env(), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    work = tmp_path / "board"
    work.mkdir()
    (work / "pymod.mpy").write_bytes((tmp_path / "dist" / "armv6m" / "pymod.mpy").read_bytes())
    (work / "t_pymod.py").write_text(SCRIPT)
    with qemu_boards.Qemu(firmware / "MICROBIT") as q:
        rc, out = board.Board(q.port).run(work / "t_pymod.py", mount=work, timeout=120)
    assert rc == 0, out
    line = next(i for i, t in enumerate((ROOT / "toolchain/tests/compat/pymod.py").read_text().splitlines(), 1)
                if "raise ValueError" in t)
    assert [ln for ln in out.splitlines() if ln and not ln.startswith(("Local directory", "Traceback", "  File"))] == [
        "3.1 py after c 12345678901234567890 2.5 b'\\x00pymod\\xff'",
        "5.0 [0, 3, 255] [2, 8]",
        "16 True 4",
        "21 [1, -2, 3, 9] [0, 1, 4, 9, 16]",
        "130 129 32.5 0",
        f"ValueError: pymod.fails: line {line}",
    ], out
    assert f'File "pymod.mpy", line {line}, in fails' in out, out
