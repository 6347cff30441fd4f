"""emlarray end to end on the MicroPython unix port (dist/x64): features and linear_map bit for bit
as the host model emlmpy.arrays (itself tested against exact arithmetic and numpy in
test_cores_array.py) for int16 and float32 arrays, strided views and memoryviews; every bad input a
clear TypeError/ValueError that writes nothing; arrays the size of a long recording."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import upy
from emlmpy import arrays


@pytest.fixture(scope="module", autouse=True)
def built():
    upy.ensure_modules()


SCRIPT = r'''
import array, json, gc
import emlarray
cfg = json.load(open("cfg.json"))
h = array.array("h", open("h.bin", "rb").read())
f = array.array("f", open("f.bin", "rb").read())
res = {"features": [], "map": []}
out = array.array("f", [0] * 6)
for name, src in (("h", h), ("f", f)):
    for start, step in cfg["views"]:
        emlarray.features(src, out, start, step)
        res["features"].append(bytes(out).hex())
    for rng in cfg["ranges"]:
        for dt in "hf":
            for start, step in cfg["views"]:
                n = len(range(start, len(src), step))
                dst = array.array(dt, [0] * n)
                emlarray.linear_map(src, dst, rng[0], rng[1], rng[2], rng[3], start, step)
                res["map"].append(bytes(dst).hex())
    gc.collect()
# memoryview windows: the same bits as a copy
mv = memoryview(h)[10:138]
emlarray.features(mv, out)
a = bytes(out)
emlarray.features(array.array("h", h[10:138]), out)
res["mv"] = a == bytes(out)
print(json.dumps(res))
'''

VIEWS = [(0, 1), (0, 3), (1, 3), (2, 3), (5, 7), (299, 1)]
RANGES = [(-32768, 32768, -8, 8), (0, 4096, 0, 1), (-1.5, 2.25, 30000, -30000), (0, 255, 0, 1)]


def test_bit_for_bit_host_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    h = rng.integers(-32768, 32768, 300).astype(np.int16)
    h[100:130] = 0
    f = np.concatenate([rng.normal(0, 1000, 298), [np.inf, -1e-40]]).astype(np.float32)
    h.tofile(tmp_path / "h.bin")
    f.tofile(tmp_path / "f.bin")
    (tmp_path / "cfg.json").write_text(json.dumps({"views": VIEWS, "ranges": RANGES}))
    r = upy.run(SCRIPT, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(r.stdout)
    want_f, want_m = [], []
    for src in (h, f):
        want_f += [arrays.features(src, s, st).tobytes().hex() for s, st in VIEWS]
        for rg in RANGES:
            for dt in "hf":
                want_m += [arrays.linear_map(src, *rg, dtype=dt, start=s, step=st).tobytes().hex()
                           for s, st in VIEWS]
    assert got["features"] == want_f
    assert got["map"] == want_m
    assert got["mv"] is True


ERRORS = r'''
import array, json
import emlarray
h = array.array("h", [1, -2, 3, 4])
f = array.array("f", [1, -2, 3, 4])
o = array.array("f", [7] * 6)
d = array.array("h", [7] * 4)
nan, inf = float("nan"), float("inf")
cases = [
    ("features list", lambda: emlarray.features([1, 2], o)),
    ("features bytes", lambda: emlarray.features(b"abcd", o)),
    ("features int32", lambda: emlarray.features(array.array("i", [1, 2]), o)),
    ("features double", lambda: emlarray.features(array.array("d", [1, 2]), o)),
    ("features uint16", lambda: emlarray.features(array.array("H", [1, 2]), o)),
    ("features out h", lambda: emlarray.features(h, d)),
    ("features out 5", lambda: emlarray.features(h, array.array("f", [0] * 5))),
    ("features out 7", lambda: emlarray.features(h, array.array("f", [0] * 7))),
    ("features out bytes", lambda: emlarray.features(h, bytes(24))),
    ("features empty", lambda: emlarray.features(array.array("h"), o)),
    ("features start past end", lambda: emlarray.features(h, o, 4)),
    ("features start negative", lambda: emlarray.features(h, o, -1)),
    ("features step 0", lambda: emlarray.features(h, o, 0, 0)),
    ("features step negative", lambda: emlarray.features(h, o, 0, -1)),
    ("features start float", lambda: emlarray.features(h, o, 1.0)),
    ("features start big", lambda: emlarray.features(h, o, 2 ** 64 + 1)),
    ("features start str", lambda: emlarray.features(h, o, "1")),
    ("features 1 arg", lambda: emlarray.features(h)),
    ("features 5 args", lambda: emlarray.features(h, o, 0, 1, 1)),
    ("features too long", lambda: emlarray.features(array.array("h", bytes(2 * 65536)), o)),
    ("map in_min == in_max", lambda: emlarray.linear_map(h, f, 1, 1, 0, 1)),
    ("map out_min == out_max", lambda: emlarray.linear_map(h, f, 0, 1, 2, 2)),
    ("map nan bound", lambda: emlarray.linear_map(h, f, nan, 1, 0, 1)),
    ("map inf bound", lambda: emlarray.linear_map(h, f, 0, inf, 0, 1)),
    ("map span overflows", lambda: emlarray.linear_map(h, f, -3e38, 3e38, 0, 1)),
    ("map k underflows", lambda: emlarray.linear_map(h, f, 0, 1e30, 0, 1e-30)),
    ("map str bound", lambda: emlarray.linear_map(h, f, "0", 1, 0, 1)),
    ("map None bound", lambda: emlarray.linear_map(h, f, 0, None, 0, 1)),
    ("map nan into h", lambda: emlarray.linear_map(array.array("f", [1, nan, 2, 3]), d, 0, 1, 0, 1)),
    ("map length", lambda: emlarray.linear_map(h, array.array("f", [0] * 3), 0, 1, 0, 1)),
    ("map view length", lambda: emlarray.linear_map(h, array.array("f", [0] * 4), 0, 1, 0, 1, 1, 2)),
    ("map dst bytes", lambda: emlarray.linear_map(h, bytes(16), 0, 1, 0, 1)),
    ("map dst int32", lambda: emlarray.linear_map(h, array.array("i", [0] * 4), 0, 1, 0, 1)),
    ("map src list", lambda: emlarray.linear_map([1, 2, 3, 4], f, 0, 1, 0, 1)),
    ("map overlap", lambda: emlarray.linear_map(memoryview(f)[0:2], memoryview(f)[1:3], 0, 1, 0, 1)),
    ("map in place strided", lambda: emlarray.linear_map(f, memoryview(f)[:2], 0, 1, 0, 1, 0, 2)),
    ("map h into same bytes as f", lambda: emlarray.linear_map(array.array("h", [1, 2]), memoryview(bytearray(8)), 0, 1, 0, 1)),
    ("map step 0", lambda: emlarray.linear_map(h, f, 0, 1, 0, 1, 0, 0)),
    ("map 5 args", lambda: emlarray.linear_map(h, f, 0, 1, 0)),
    ("map 9 args", lambda: emlarray.linear_map(h, f, 0, 1, 0, 1, 0, 1, 1)),
]
res = []
for name, fn in cases:
    try:
        fn()
        res.append([name, None, ""])
    except Exception as e:
        res.append([name, type(e).__name__, str(e)])
res.append(["untouched", list(o) == [7] * 6 and list(d) == [7] * 4 and list(f) == [1, -2, 3, 4], ""])
# fine: in place, empty arrays, bool step
emlarray.linear_map(f, f, 0, 4, 0, 8)
emlarray.linear_map(array.array("h"), array.array("f"), 0, 1, 0, 1)
emlarray.features(h, o, False, True)
res.append(["ok", list(f) == [2, 0, 6, 8] and list(o)[2:4] == [-2, 4], ""])
print(json.dumps(res))
'''

WANT = {"features list": "TypeError", "features bytes": "TypeError", "features int32": "TypeError",
        "features double": "TypeError", "features uint16": "TypeError", "features out h": "TypeError",
        "features out 5": "ValueError", "features out 7": "ValueError", "features out bytes": "TypeError",
        "features empty": "ValueError", "features start past end": "ValueError",
        "features start negative": "ValueError", "features step 0": "ValueError",
        "features step negative": "ValueError", "features start float": "TypeError",
        "features start big": "ValueError", "features start str": "TypeError", "features 1 arg": "TypeError",
        "features 5 args": "TypeError", "features too long": "ValueError",
        "map in_min == in_max": "ValueError", "map out_min == out_max": "ValueError",
        "map nan bound": "ValueError", "map inf bound": "ValueError", "map span overflows": "ValueError",
        "map k underflows": "ValueError", "map str bound": "TypeError", "map None bound": "TypeError",
        "map nan into h": "ValueError", "map length": "ValueError", "map view length": "ValueError",
        "map dst bytes": "TypeError", "map dst int32": "TypeError", "map src list": "TypeError",
        "map overlap": "ValueError", "map in place strided": "ValueError",
        "map h into same bytes as f": "TypeError", "map step 0": "ValueError", "map 5 args": "TypeError",
        "map 9 args": "TypeError"}


def test_bad_inputs(tmp_path: Path) -> None:
    r = upy.run(ERRORS, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)
    got = {name: exc for name, exc, _ in res[:-2]}
    assert got == WANT, {k: (got[k], WANT[k]) for k in WANT if got.get(k) != WANT[k]}
    assert all(msg for _, exc, msg in res[:-2]), "every error has a message"
    assert res[-2] == ["untouched", True, ""] and res[-1] == ["ok", True, ""]


def test_long_recording(tmp_path: Path) -> None:
    """65535 int16 values (the longest window): exact sums at their limits;
    the host model's bits (the module allocates nothing)."""
    x = np.full(65535, -32768, np.int16)
    x[::2] = 32767
    x.tofile(tmp_path / "x.bin")
    script = r'''
import array, emlarray
x = array.array("h", bytes(2 * 65535))
with open("x.bin", "rb") as fh:
    fh.readinto(x)
o = array.array("f", [0] * 6)
emlarray.features(x, o)
print(bytes(o).hex())
'''
    r = upy.run(script, tmp_path, heapsize="512k")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == arrays.features(x).tobytes().hex()
