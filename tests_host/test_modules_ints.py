"""Integer arguments beyond a machine word are refused by every module, never wrapped modulo 2**64
(the kit's mp_obj_get_int truncates big ints; the glue takes only small ints). Run on the
MicroPython unix port with the built x64 modules."""
from __future__ import annotations

from pathlib import Path

import upy

SCRIPT = r'''
import array, emltrees, emlneighbors, emliir, emlfft
BIG = 2**64
def outcome(f, *args):
    try:
        f(*args)
        return "ok"
    except Exception as e:
        return type(e).__name__
m = emlneighbors.new(4, 1, 1, "h")
m.additem(array.array("h", [0]), 1)
m.predict(array.array("h", [0]))
print(outcome(emltrees.new, BIG + 2, BIG + 10))
print(outcome(emltrees.new, 2, BIG + 10))
print(outcome(emltrees.new, 2, 10, BIG + 5))
print(outcome(emlfft.FFT, BIG + 8))
print(outcome(m.additem, array.array("h", [1]), BIG + 7))
print(outcome(m.getresult, BIG))
print(outcome(m.getitem, BIG, array.array("h", [0])))
print(outcome(emlneighbors.new, BIG + 4, 1, 1, "h"))
print(outcome(emltrees.new, True, 5))
print(outcome(emltrees.new, 2.0, 5))
'''


def test_huge_ints_are_refused(tmp_path: Path) -> None:
    upy.ensure_modules()
    r = upy.run(SCRIPT, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ValueError", "ValueError", "ValueError", "ValueError", "ValueError",
                                "IndexError", "IndexError", "ValueError", "ok", "TypeError"], r.stdout
