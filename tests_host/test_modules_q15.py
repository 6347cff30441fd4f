"""emliir_q15 and emlfft_q15 end to end on the unix port: bit for bit equal to emlmpy's host models
(IirQ15, fft_q15/ifft_q15/rfft_q15), which test_cores_*_q15.py hold against scipy and numpy;
chunked streams, reset, and every bad argument (TypeError/ValueError, never a crash)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

import emlmpy
import upy


@pytest.fixture(scope="module", autouse=True)
def built():
    upy.ensure_modules()


IIR_TAIL = r'''
filt.reset()
whole = array.array("h", x)
emliir_q15.IIR(coef).run(whole)
filt.run(x)
print(json.dumps({"chunks": out, "whole": list(whole), "after_reset": list(x)}))
'''


@pytest.mark.parametrize("design", ["butter4", "cheby1_8", "ellip3_band", "butter8_high"])
def test_iir_bitexact_streamed(design: str, tmp_path: Path) -> None:
    sos = {"butter4": lambda: scipy.signal.butter(4, 0.2, output="sos"),
           "cheby1_8": lambda: scipy.signal.cheby1(8, 1, 0.3, output="sos"),
           "ellip3_band": lambda: scipy.signal.ellip(3, 1, 40, [0.2, 0.4], btype="band", output="sos"),
           "butter8_high": lambda: scipy.signal.butter(8, 0.1, btype="high", output="sos")}[design]()
    coef = emlmpy.iir_coefficients_q15(sos)
    x = np.random.default_rng(7).integers(-32768, 32768, 3000).astype(np.int16)
    res = upy.run_iir_stream("emliir_q15", coef, x, tmp_path, IIR_TAIL)
    want = emlmpy.IirQ15(coef).run(x).tolist()
    assert res["chunks"] == want and res["whole"] == want and res["after_reset"] == want


FFT_SCRIPT = r'''
import array, json
import emlfft_q15
cfg = json.load(open("cfg.json"))
n = cfg["n"]
re = array.array("h", cfg["re"]); im = array.array("h", cfg["im"])
f = emlfft_q15.FFT(n)
f.run(re, im)
fwd = [list(re), list(im)]
re = array.array("h", cfg["re"]); im = array.array("h", cfg["im"])
emlfft_q15.new(n).inverse(re, im)
inv = [list(re), list(im)]
r = array.array("h", [0] * (n // 2 + 1)); i = array.array("h", [0] * (n // 2 + 1))
f.rfft(array.array("h", cfg["re"]), r, i)
print(json.dumps({"fwd": fwd, "inv": inv, "rfft": [list(r), list(i)]}))
'''


@pytest.mark.parametrize("n", [2, 8, 64, 256, 1024])
def test_fft_bitexact(n: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(n)
    re = rng.integers(-32768, 32768, n).astype(np.int16)
    im = (rng.integers(-32768, 32768, n) // 2).astype(np.int16)
    (tmp_path / "cfg.json").write_text(json.dumps({"n": n, "re": re.tolist(), "im": im.tolist()}))
    r = upy.run(FFT_SCRIPT, tmp_path, heapsize="4M")
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)
    assert res["fwd"] == [v.tolist() for v in emlmpy.fft_q15(re, im)]
    assert res["inv"] == [v.tolist() for v in emlmpy.ifft_q15(re, im)]
    assert res["rfft"] == [v.tolist() for v in emlmpy.rfft_q15(re)]


ERRORS_SCRIPT = r'''
import array, emliir_q15, emlfft_q15
def out(fn, *a):
    try:
        fn(*a)
        return "ok"
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
h = lambda v: array.array("h", v)
good = h([4096, 0, 0, 0, 0, 0])
f = emliir_q15.new(good)
for name, fn, args in [
    ("iir typecode", emliir_q15.new, (array.array("f", [1, 0, 0, 1, 0, 0]),)),
    ("iir list", emliir_q15.new, ([1, 0, 0, 0, 0, 0],)),
    ("iir empty", emliir_q15.new, (h([]),)),
    ("iir 7", emliir_q15.new, (h([0] * 7),)),
    ("iir T", emliir_q15.new, (h([1, 0, 0, 32, 0, 0]),)),
    ("iir T<0", emliir_q15.new, (h([1, 0, 0, -1, 0, 0]),)),
    ("iir bsum", emliir_q15.new, (h([30000, 30000, 0, 0, 0, 0]),)),
    ("iir a", emliir_q15.new, (h([1, 0, 0, 0, -32768, 0]),)),
    ("run typecode", f.run, (array.array("f", [0.0]),)),
    ("run bytes", f.run, (b"ab",)),
    ("run empty", f.run, (h([]),)),
    ("fft 0", emlfft_q15.FFT, (0,)),
    ("fft 100", emlfft_q15.FFT, (100,)),
    ("fft 65536", emlfft_q15.FFT, (65536,)),
    ("fft float", emlfft_q15.FFT, (8.0,)),
    ("fft big", emlfft_q15.new, (2 ** 70,)),
]:
    print(name, "|", out(fn, *args))
g = emlfft_q15.FFT(8)
a = h([0] * 8)
for name, fn, args in [
    ("fft run typecode", g.run, (array.array("f", [0.0] * 8), array.array("f", [0.0] * 8))),
    ("run length", g.run, (h([0] * 8), h([0] * 7))),
    ("run 16", g.run, (h([0] * 16), h([0] * 16))),
    ("run same", g.run, (a, a)),
    ("inverse overlap", g.inverse, (a, memoryview(a))),
    ("rfft x length", g.rfft, (h([0] * 4), h([0] * 5), h([0] * 5))),
    ("rfft out length", g.rfft, (h([0] * 8), h([0] * 4), h([0] * 5))),
    ("rfft same outputs", g.rfft, (h([0] * 8), h([0] * 5), h([0] * 5))),
]:
    print(name, "|", out(fn, *args))
o = h([0] * 5)
print("rfft shared", "|", out(g.rfft, h([0] * 8), o, o))
print("rfft x is out", "|", out(g.rfft, a, memoryview(a)[3:], h([0] * 5)))
print("types", type(emlfft_q15.FFT(8)) is type(emlfft_q15.new(8)), type(f) is emliir_q15.IIR)
'''


def test_bad_arguments(tmp_path: Path) -> None:
    r = upy.run(ERRORS_SCRIPT, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    got = dict(line.split(" | ", 1) for line in r.stdout.splitlines() if " | " in line)
    want_prefix = {
        "iir typecode": "TypeError", "iir list": "TypeError", "iir empty": "ValueError", "iir 7": "ValueError",
        "iir T": "ValueError", "iir T<0": "ValueError", "iir bsum": "ValueError", "iir a": "ValueError",
        "run typecode": "TypeError", "fft run typecode": "TypeError", "run bytes": "TypeError", "run empty": "ok",
        "fft 0": "ValueError", "fft 100": "ValueError", "fft 65536": "ValueError", "fft float": "TypeError",
        "fft big": "ValueError", "run length": "ValueError", "run 16": "ValueError", "run same": "ValueError",
        "inverse overlap": "ValueError", "rfft x length": "ValueError", "rfft out length": "ValueError",
        "rfft same outputs": "ok", "rfft shared": "ValueError", "rfft x is out": "ValueError",
    }
    for k, v in want_prefix.items():
        assert got[k].startswith(v), (k, got[k])
    assert "emlmpy.iir_coefficients_q15" in got["iir bsum"]
    assert "power of two" in got["fft 100"]
    assert "share memory" in got["rfft x is out"] and "share memory" in got["rfft shared"]
    assert "True True" in r.stdout
