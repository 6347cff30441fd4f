"""Constructor arguments as a MicroPython user writes them: positional or by keyword, dtype as
the array typecode ('h', 'f'). Run on the MicroPython unix port with the built x64 modules; each line is
the outcome the docs (stubs/*.pyi) promise."""
from __future__ import annotations

from pathlib import Path

import upy

SCRIPT = r'''
import array, emltrees, emlneighbors
def outcome(f, *args, **kw):
    try:
        r = f(*args, **kw)
        return "ok"
    except Exception as e:
        return type(e).__name__
print(outcome(emltrees.new, 10, 100))
print(outcome(emltrees.new, 10, 100, 50))
print(outcome(emltrees.new, 10, 100, max_leaves=50))
print(outcome(emltrees.new, max_trees=2, max_nodes=5))
print(outcome(emltrees.new, 2, max_nodes=5, max_leaves=None))
print(outcome(emltrees.new, 1))
print(outcome(emltrees.new, 1, 2, bogus=3))
print(outcome(emltrees.new, 1, 2, max_nodes=3))
print(outcome(emltrees.new, 1, 2, 3, 4))
for d in ("h", "f", None):
    m = emlneighbors.new(4, 2, 1, d)
    print(d, m.n_items())
for d in ("q", "i", "float", "int16", "", 3, b"h"):
    print(repr(d), outcome(emlneighbors.new, 4, 2, 1, d))
m = emlneighbors.new(max_items=4, n_features=3, k=1, dtype="f")
m.additem(array.array("f", [1, 2, 3]), 7)
print(m.predict(array.array("f", [1, 2, 3])))
print(outcome(m.additem, array.array("h", [1, 2, 3]), 1))
m = emlneighbors.new(4, 3, 1)
m.additem(array.array("h", [1, 2, 3]), 5)
print(m.predict(array.array("h", [1, 2, 4])))
print(outcome(emlneighbors.new, 4, 2, 1, dtype="h", bogus=1))
'''

EXPECTED = """ok
ok
ok
ok
ok
TypeError
TypeError
TypeError
TypeError
h 0
f 0
None 0
'q' ValueError
'i' ValueError
'float' ValueError
'int16' ValueError
'' ValueError
3 TypeError
b'h' TypeError
7
TypeError
5
TypeError"""


def test_constructor_arguments(tmp_path: Path) -> None:
    upy.ensure_modules()
    r = upy.run(SCRIPT, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == EXPECTED, r.stdout


API = r'''
import array, emltrees, emlneighbors, emliir, emlfft
print(type(emltrees.Model(2, 10)) is emltrees.Model, type(emltrees.new(2, 10)) is emltrees.Model)
print(emltrees.Model(max_trees=2, max_nodes=10).memory() == emltrees.new(2, 10).memory())
for args in ((1,), (1, 2, 3, 4)):
    try:
        emltrees.Model(*args)
    except TypeError:
        print("TypeError")
k = emlneighbors.Model(3, 2, 1, dtype="f")
print(type(k) is emlneighbors.Model, k.add_item(array.array("f", [1, 2]), 4), k.additem(array.array("f", [0, 0]), 5))
print(k.predict(array.array("f", [1, 2])), k.get_result(0) == k.getresult(0))
o = array.array("f", [9, 9])
print(k.get_item(1, o), list(o), k.getitem(0, o), list(o))
c = array.array("f", [0.5, 0.5, 0, 1, -0.2, 0])
f = emliir.IIR(c)
g = emliir.new(c)
x, y = array.array("f", [1, 2, 3]), array.array("f", [1, 2, 3])
f.run(x)
g.run(y)
print(type(f) is emliir.IIR, list(x) == list(y), type(emlfft.FFT(8)) is type(emlfft.new(8)))
'''


def test_types_are_constructible_and_anchor_names_stay(tmp_path: Path) -> None:
    """Model(...)/IIR(...)/FFT(...) are the same as new(...) (MicroPython's convention); the
    k-NN methods are add_item/get_result/get_item, emlearn-micropython's additem/getresult/getitem
    stay as aliases."""
    upy.ensure_modules()
    r = upy.run(API, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:-1] == [
        "True True", "True", "TypeError", "TypeError", "True 0 1", "4 True",
        "5 [0.0, 0.0] 4 [1.0, 2.0]", "True True True"], r.stdout
