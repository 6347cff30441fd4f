"""emlkmeans end to end on the MicroPython unix port (dist/x64): fits bit-identical to the core's
documented procedure (kmeansref), centers from scikit-learn through emlmpy.convert predicting like
the host predictor and scikit-learn, every bad input a clear TypeError/ValueError that leaves the
model as it was, MemoryError with a message, keywords, and the GC."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.datasets import load_iris, make_blobs

import emlmpy
import upy
from kmeansref import ref_fit, ref_plusplus

TC = {"f": np.float32, "B": np.uint8, "h": np.int16}


@pytest.fixture(scope="module", autouse=True)
def built():
    upy.ensure_modules()


FIT_SCRIPT = r'''
import array, json
import emlkmeans
cfg = json.load(open("cfg.json"))
tc, nf, k = cfg["tc"], cfg["nf"], cfg["k"]
X = array.array(tc, open("X.bin", "rb").read())
out = {}
for run in cfg["runs"]:
    m = emlkmeans.KMeans(k, nf, tc)
    kw = {"tol": run["tol"], "max_iter": run["max_iter"]}
    if run["init"] is not None:
        kw["init"] = array.array("f", run["init"])
    else:
        kw["random_state"] = run["seed"]
    assert m.fit(X, **kw) is m
    c = array.array("f", [0] * (k * nf))
    m.cluster_centers(c)
    labels = bytearray(len(X) // nf) if k <= 256 else array.array("h", [0] * (len(X) // nf))
    m.predict_many(X, labels)
    one = [m.predict(X[i * nf:(i + 1) * nf]) for i in range(0, len(X) // nf, 7)]
    out[run["name"]] = {"centers": list(c), "n_iter": m.n_iter(), "inertia": m.inertia(),
                        "labels": list(labels), "one": one}
print(json.dumps(out))
'''


def run_fits(tmp: Path, X: np.ndarray, tc: str, k: int, runs: list[dict]) -> dict:
    np.ascontiguousarray(X, dtype=TC[tc]).tofile(tmp / "X.bin")
    (tmp / "cfg.json").write_text(json.dumps({"tc": tc, "nf": X.shape[1], "k": k, "runs": runs}))
    r = upy.run(FIT_SCRIPT, tmp, heapsize="8M")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def f32bits(values) -> np.ndarray:
    return np.asarray(values, np.float32).view(np.uint32)


@pytest.mark.parametrize("tc", ["f", "B", "h"])
def test_fit_equals_documented_procedure(tc: str, tmp_path: Path) -> None:
    """The device's fit, k-means++ included, is the core's documented procedure bit for bit (float32
    centers, n_iter, inertia), and its predictions are the host predictor's."""
    rng = np.random.default_rng(ord(tc))
    if tc == "f":
        X, _ = make_blobs(400, 3, centers=5, cluster_std=2.0, random_state=1)
        X = X.astype(np.float32)
    elif tc == "B":
        palette = rng.integers(0, 256, size=(6, 3))
        X = np.clip(palette[rng.integers(0, 6, 500)] + rng.normal(0, 10, (500, 3)), 0, 255).astype(np.uint8)
    else:
        X = np.round(make_blobs(300, 4, centers=4, random_state=2)[0] * 2000).astype(np.int16)
    k = 5
    init = X[rng.choice(len(X), k, replace=False)].astype(np.float32) + np.float32(0.25)
    runs = [{"name": "init", "init": init.ravel().tolist(), "seed": 0, "tol": 1e-4, "max_iter": 300},
            {"name": "pp0", "init": None, "seed": 0, "tol": 1e-4, "max_iter": 300},
            {"name": "pp7", "init": None, "seed": 7, "tol": 0.0, "max_iter": 300},
            {"name": "short", "init": None, "seed": 3, "tol": 0.0, "max_iter": 2}]
    got = run_fits(tmp_path, X, tc, k, runs)
    for run in runs:
        start = init if run["init"] is not None else ref_plusplus(X, k, run["seed"])
        c, n_iter, inertia = ref_fit(X, start, max_iter=run["max_iter"], tol=run["tol"])
        g = got[run["name"]]
        assert np.array_equal(f32bits(g["centers"]), c.ravel().view(np.uint32)), run["name"]
        assert g["n_iter"] == n_iter and f32bits([g["inertia"]])[0] == inertia.view(np.uint32)
        host = emlmpy.KMeansModel(c)
        assert g["labels"] == host.predict(X).tolist()
        assert g["one"] == host.predict(X[::7]).tolist()
    assert got["short"]["n_iter"] == 2


@pytest.mark.parametrize("tc", ["f", "B"])
def test_fit_vs_sklearn_same_init(tc: str, tmp_path: Path) -> None:
    """From scikit-learn's init array: same n_iter, labels and (within float32 rounding) centers and
    inertia as KMeans(init=array, n_init=1, algorithm='lloyd') (runs the float64 check confirms)."""
    from kmeansref import lockstep
    if tc == "f":
        X = load_iris().data.astype(np.float32)
        k = 3
    else:
        rng = np.random.default_rng(5)
        palette = rng.integers(0, 256, size=(8, 3))
        X = np.clip(palette[rng.integers(0, 8, 1500)] + rng.normal(0, 15, (1500, 3)), 0, 255).astype(np.uint8)
        k = 8
    rng = np.random.default_rng(11)
    runs, inits = [], []
    for i in range(4):
        init = X[rng.choice(len(X), k, replace=False)].astype(np.float32) + np.float32(0.3) * (tc == "B")
        inits.append(init)
        runs.append({"name": str(i), "init": init.ravel().tolist(), "seed": 0, "tol": 1e-4, "max_iter": 300})
    got = run_fits(tmp_path, X, tc, k, runs)
    same = 0
    for i, init in enumerate(inits):
        verdict, it = lockstep(X, init)
        assert verdict != "mismatch"
        if verdict != "same":
            continue
        sk = KMeans(k, init=init.astype(np.float64), n_init=1, algorithm="lloyd").fit(X.astype(np.float64))
        g = got[str(i)]
        assert g["n_iter"] == sk.n_iter_ == it
        assert g["labels"] == sk.labels_.tolist()
        scale = float(np.abs(X).max())
        assert np.abs(np.array(g["centers"]).reshape(k, -1) - sk.cluster_centers_).max() <= 1e-5 * scale
        assert abs(g["inertia"] - sk.inertia_) <= 1e-5 * sk.inertia_
        same += 1
    assert same >= 2


CENTERS_SCRIPT = r'''
import array, json
import emlkmeans
cfg = json.load(open("cfg.json"))
nf, k, tc = cfg["nf"], cfg["k"], cfg["tc"]
c = array.array("f", bytes(4 * k * nf))
with open("centers.bin", "rb") as f:
    f.readinto(c)
m = emlkmeans.new(n_clusters=k, n_features=nf, dtype=tc)
m.set_cluster_centers(c)
X = array.array(tc, open("X.bin", "rb").read())
out = array.array("h", [0] * (len(X) // nf))
m.predict_many(X, out)
back = array.array("f", [0] * (k * nf))
m.cluster_centers(back)
print(json.dumps({"labels": list(out), "same": list(back) == list(c), "n_iter": m.n_iter(), "inertia": m.inertia()}))
'''


@pytest.mark.parametrize("est", ["KMeans", "MiniBatchKMeans"])
@pytest.mark.parametrize("tc", ["f", "B", "h"])
def test_converted_centers_predict_like_sklearn(est: str, tc: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    if tc == "f":
        X, _ = make_blobs(1500, 4, centers=7, cluster_std=3.0, random_state=3)
        X = X.astype(np.float32)
    elif tc == "B":
        X = rng.integers(0, 256, size=(2000, 3)).astype(np.uint8)
    else:
        X = rng.integers(-32768, 32768, size=(1000, 2)).astype(np.int16)
    k = 12
    cls = KMeans if est == "KMeans" else MiniBatchKMeans
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = cls(k, n_init=1, random_state=0).fit(X.astype(np.float64))
    model = emlmpy.convert(sk)
    assert isinstance(model, emlmpy.KMeansModel) and model.cluster_centers_.dtype == np.float32
    model.save(file=str(tmp_path / "centers.bin"))
    assert (tmp_path / "centers.bin").stat().st_size == 4 * k * X.shape[1]
    X.tofile(tmp_path / "X.bin")
    (tmp_path / "cfg.json").write_text(json.dumps({"nf": X.shape[1], "k": k, "tc": tc}))
    r = upy.run(CENTERS_SCRIPT, tmp_path, heapsize="4M")
    assert r.returncode == 0, r.stdout + r.stderr
    res = json.loads(r.stdout)
    assert res["same"] and res["n_iter"] is None and res["inertia"] is None
    got = np.array(res["labels"])
    assert np.array_equal(got, model.predict(X))  # the host predictor is the device's
    # scikit-learn's predict with the same (float32) centers: equal except within float32 rounding
    sk.cluster_centers_ = model.cluster_centers_.astype(np.float64)
    want = sk.predict(X.astype(np.float64))
    d = np.sort(((X.astype(np.float64)[:, None] - sk.cluster_centers_[None]) ** 2).sum(-1), axis=1)
    amb = (d[:, 1] - d[:, 0]) <= 2 * (X.shape[1] + 3) * 2.0 ** -24 * d[:, 1] + 1e-9
    assert not ((got != want) & ~amb).any()


BAD_SCRIPT = r'''
import array, gc
import emlkmeans
def out(f, *a, **kw):
    try:
        r = f(*a, **kw)
        return "ok" if r is None or isinstance(r, emlkmeans.KMeans) else "ok %r" % (r,)
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
BIG = 2 ** 64
nan = float("nan")
inf = float("inf")
A = array.array
print("ctor", out(emlkmeans.KMeans))
print("ctor", out(emlkmeans.KMeans, 2))
print("ctor", out(emlkmeans.KMeans, 0, 2))
print("ctor", out(emlkmeans.KMeans, 32768, 2))
print("ctor", out(emlkmeans.KMeans, 2, 0))
print("ctor", out(emlkmeans.KMeans, 2, 40000))
print("ctor", out(emlkmeans.KMeans, BIG + 2, 2))
print("ctor", out(emlkmeans.KMeans, 2.0, 2))
print("ctor", out(emlkmeans.KMeans, 2, 2, "i"))
print("ctor", out(emlkmeans.KMeans, 2, 2, "ff"))
print("ctor", out(emlkmeans.KMeans, 2, 2, 3))
print("ctor", out(emlkmeans.KMeans, 2, 2, b"f"))
print("ctor", out(emlkmeans.KMeans, 2, 2, "f", 1))
print("ctor", out(emlkmeans.KMeans, 2, 2, bogus=1))
print("ctor", out(emlkmeans.KMeans, 2, n_clusters=3))
print("ctor", out(emlkmeans.KMeans, 32767, 32767))
m = emlkmeans.KMeans(2, 2)
X = A("f", [0, 0, 0, 1, 5, 5, 5, 6])
print("state", out(m.predict, A("f", [0, 0])), out(m.predict_many, X, bytearray(4)), out(m.cluster_centers, A("f", [0] * 4)))
print("state", m.n_iter(), m.inertia())
print("fit", out(m.fit, A("h", [0, 0, 1, 1])))
print("fit", out(m.fit, bytearray(4)))
print("fit", out(m.fit, [0.0, 0.0, 1.0, 1.0]))
print("fit", out(m.fit, A("f", [0, 0, 1])))
print("fit", out(m.fit, A("f", [0, 0])))
print("fit", out(m.fit, A("f", [0, 0, nan, 1])))
print("fit", out(m.fit, A("f", [0, 0, inf, 1])))
print("fit", out(m.fit, A("f", [0, 0, 2e12, 1])))
print("fit", out(m.fit, X, max_iter=0))
print("fit", out(m.fit, X, max_iter=BIG))
print("fit", out(m.fit, X, max_iter=1.5))
print("fit", out(m.fit, X, tol=-1e-3))
print("fit", out(m.fit, X, tol=nan))
print("fit", out(m.fit, X, tol=inf))
print("fit", out(m.fit, X, tol="x"))
print("fit", out(m.fit, X, random_state=-1))
print("fit", out(m.fit, X, random_state=BIG))
print("fit", out(m.fit, X, init=A("f", [0, 0, 1])))
print("fit", out(m.fit, X, init=A("h", [0, 0, 1, 1])))
print("fit", out(m.fit, X, init=A("f", [0, 0, nan, 1])))
print("fit", out(m.fit, X, bogus=1))
print("fit", out(m.fit, X, 10, 0.1, None, 0, 5))
print("fit", out(m.fit, X, X=X))
print("fit", out(m.fit))
print("state", m.n_iter(), m.inertia(), out(m.predict, A("f", [0, 0])))
print("fit ok", out(m.fit, X, init=A("f", [0, 0, 5, 5])), m.n_iter(), m.inertia())
c = A("f", [0] * 4)
m.cluster_centers(c)
print("centers", list(c))
# every refused call below leaves the model as it was
print("predict", out(m.predict, A("f", [0, 0, 0])))
print("predict", out(m.predict, A("f", [nan, 0])))
print("predict", out(m.predict, A("f", [-inf, 0])))
print("predict", out(m.predict, A("h", [0, 0])))
print("predict", out(m.predict, A("f", [5, 5.2])))
print("many", out(m.predict_many, X, A("i", [0] * 4)))
print("many", out(m.predict_many, X, A("h", [0] * 3)))
print("many", out(m.predict_many, X, bytearray(5)))
print("many", out(m.predict_many, X, b"\0\0\0\0"))
print("many", out(m.predict_many, A("f", [0, 0, 5, nan]), bytearray(2)))
print("many", out(m.predict_many, A("f"), bytearray(0)))
o = bytearray(4)
print("many", out(m.predict_many, X, o), list(o))
print("centers", out(m.cluster_centers, A("f", [0] * 3)), out(m.cluster_centers, A("h", [0] * 4)), out(m.cluster_centers, b"\0" * 16))
print("set", out(m.set_cluster_centers, A("f", [0, 0, 1])), out(m.set_cluster_centers, A("f", [0, 0, inf, 1])), out(m.set_cluster_centers, A("f", [0, 0, -2e12, 1])))
print("set", out(m.set_cluster_centers, [0, 0, 1, 1]))
print("state", m.n_iter(), m.inertia())
m.cluster_centers(c)
print("centers", list(c))
print("set ok", out(m.set_cluster_centers, A("f", [1, 1, 9, 9])), m.n_iter(), m.inertia(), m.predict(A("f", [6, 6])))
# 'B' model: bytes, bytearray and array('B') are samples; >256 clusters need array('h')
b = emlkmeans.KMeans(2, 1, "B")
print("B", out(b.fit, b"\x00\x01\xfe\xff", init=A("f", [0, 255])), b.predict(b"\xf0"), b.predict(bytearray([3])), b.predict(A("B", [200])))
print("B", out(b.fit, A("b", [0, 1, 2, 3])), out(b.predict, A("h", [1])))
bx = bytearray(b"\x00\x01\xfe\xff")
print("B", out(b.predict_many, bx, memoryview(bx)), out(b.predict_many, bx, bx), bx)
w = emlkmeans.KMeans(300, 1, "h")
print("wide", out(w.fit, A("h", range(300)), random_state=5), out(w.predict_many, A("h", range(300)), bytearray(300)))
o = A("h", [0] * 300)
w.predict_many(A("h", range(300)), o)
print("wide", sorted(o) == list(range(300)), w.inertia())
print("n_samples", out(emlkmeans.KMeans(3, 2).fit, A("f", [0, 0, 1, 1])))
'''


def test_bad_inputs_are_clear_errors_and_lose_nothing(tmp_path: Path) -> None:
    r = upy.run(BAD_SCRIPT, tmp_path, heapsize="2M")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    print(r.stdout)
    text = "\n".join(lines)
    assert "UNEXPECTED" not in text
    ctor = [ln for ln in lines if ln.startswith("ctor ")]
    kinds = [ln.split(":")[0].split()[1] for ln in ctor]
    assert kinds == ["TypeError", "TypeError", "ValueError", "ValueError", "ValueError", "ValueError", "ValueError",
                     "TypeError", "ValueError", "ValueError", "TypeError", "TypeError", "TypeError", "TypeError",
                     "TypeError", "MemoryError"], ctor
    fit = [ln[4:] for ln in lines if ln.startswith("fit ") and not ln.startswith("fit ok")]
    kinds = [ln.split(":")[0] for ln in fit]
    assert kinds == ["TypeError", "TypeError", "TypeError", "ValueError", "ValueError", "ValueError", "ValueError",
                     "ValueError", "ValueError", "ValueError", "TypeError", "ValueError", "ValueError", "ValueError",
                     "TypeError", "ValueError", "ValueError", "ValueError", "TypeError", "ValueError", "TypeError",
                     "TypeError", "TypeError", "TypeError"], fit
    # every message says what is wrong (no empty or generic message)
    for ln in ctor + fit:
        if ":" in ln:
            assert len(ln.split(":", 1)[1].strip()) >= 8, ln
    assert "n_samples must be >= n_clusters" in fit[4]
    assert "finite" in fit[5] and "finite" in fit[6] and "finite" in fit[7]
    assert "n_clusters" in r.stdout and "memory allocation failed" in ctor[-1]
    st = [ln for ln in lines if ln.startswith("state")]
    assert st[0].count("ValueError: no centers") == 3 and st[1] == "state None None"
    assert st[2] == "state None None ValueError: no centers: fit or set_cluster_centers first"
    fit_ok = next(ln for ln in lines if ln.startswith("fit ok"))
    assert fit_ok.startswith("fit ok ok 2 ")
    centers = [ln for ln in lines if ln.startswith("centers [")]
    assert centers[0] == centers[1] == "centers [0.0, 0.5, 5.0, 5.5]"  # refused calls changed nothing
    pred = [ln for ln in lines if ln.startswith("predict ")]
    assert [p.split(":")[0] for p in pred] == ["predict ValueError", "predict ValueError", "predict ValueError",
                                               "predict TypeError", "predict ok 1"]
    many = [ln for ln in lines if ln.startswith("many ")]
    assert [p.split(":")[0] for p in many] == ["many TypeError", "many ValueError", "many ValueError",
                                               "many TypeError", "many ValueError", "many ok",
                                               "many ok [0, 0, 1, 1]"]
    s = [ln for ln in lines if ln.startswith("set")]
    assert s[0].count("ValueError") == 3 and s[1].startswith("set TypeError")
    assert "state 2 " in text and s[2] == "set ok ok None None 1"
    b = [ln for ln in lines if ln.startswith("B ")]
    assert b[0] == "B ok 1 0 1" and b[1].count("TypeError") == 2
    assert b[2].count("ValueError: out must have n_samples items, apart from X") == 2 and b[2].endswith("bytearray(b'\\x00\\x01\\xfe\\xff')")
    wide = [ln for ln in lines if ln.startswith("wide")]
    assert wide[0] == "wide ok TypeError: out must be array('h') (or 'B': <= 256 clusters)"
    assert wide[1] == "wide True 0.0"
    assert "n_samples ValueError: n_samples must be >= n_clusters" in text


def test_huge_ints_and_keywords(tmp_path: Path) -> None:
    script = r'''
import array, emlkmeans
m = emlkmeans.KMeans(n_features=2, n_clusters=2, dtype=None)
X = array.array("f", [0, 0, 0, 1, 5, 5, 5, 6])
print(m.fit(X, tol=0, max_iter=True, random_state=False).n_iter())
print(emlkmeans.new(2, 2, "f").fit(X, 50, 1e-4, array.array("f", [0, 0, 5, 5]), 9).n_iter())
print(type(emlkmeans.new(1, 1)) is emlkmeans.KMeans, type(m) is emlkmeans.KMeans)
for a in ((2 ** 64 + 2, 2), (2, 2 ** 64 + 2), (-2 ** 64, 2)):
    try:
        emlkmeans.KMeans(*a)
    except ValueError as e:
        print("ValueError", e)
'''
    r = upy.run(script, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == ["1", "2", "True True", "ValueError n_clusters must be 1..32767",
                                     "ValueError n_features must be 1..32767",
                                     "ValueError n_clusters must be 1..32767"], r.stdout


def test_memory_error_keeps_the_model_and_gc_reclaims(tmp_path: Path) -> None:
    """Under a 64 KiB heap: a model too large is a MemoryError with a message; a fit whose scratch
    does not fit is a MemoryError that leaves the centers as they were; models are reclaimed."""
    script = r'''
import array, gc, emlkmeans
res = []
try:
    emlkmeans.KMeans(200, 200)
except MemoryError as e:
    res.append("MemoryError " + str(e)[:24])
m = emlkmeans.KMeans(20, 50)             # 4 KB of centers; fit needs 4 KB of scratch more
X = array.array("f", bytes(4 * 50 * 40))
for i in range(len(X)):
    X[i] = i % 97
m.set_cluster_centers(X[:1000])
gc.collect()
hog = []
try:                                     # fill the heap with 1 KB blocks, then free 2 KB: less than the scratch
    while True:
        hog.append(bytearray(1000))
except MemoryError:
    pass
hog.pop()
hog.pop()
try:
    m.fit(X)
    res.append("fit ok")
except MemoryError:
    res.append("fit MemoryError")
hog = None
gc.collect()
c = X[1000:2000]
m.cluster_centers(c)
res.append(bytes(c) == bytes(X[:1000]))
res.append(m.n_iter())
hog = c = m = None
gc.collect()
start = gc.mem_free()
for i in range(300):
    k = emlkmeans.KMeans(4, 3)
    k.fit(array.array("f", range(30)), random_state=i)
    k = None
gc.collect()
res.append(start - gc.mem_free() <= 1024)
print(res)
'''
    r = upy.run(script, tmp_path, heapsize="64K")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "['MemoryError memory allocation failed', 'fit MemoryError', True, None, True]", r.stdout


BASE_ONLY = r'''
import array
import emlkmeans
def out(f, *a, **kw):
    try:
        r = f(*a, **kw)
        return "ok " + ("model" if isinstance(r, emlkmeans.KMeans) else repr(r))
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
X = array.array("f", [0, 0, 0, 1, 10, 10, 10, 11])
m = emlkmeans.KMeans(2, 2)
m.set_cluster_centers(array.array("f", [0, 0, 10, 10]))
print("fit", out(m.fit, X), out(m.fit, X, max_iter=0), m.n_iter(), out(m.predict, X[6:]))
def put(src):
    with open(src, "rb") as a, open("emlkmeans_fit.mpy", "wb") as b:
        b.write(a.read())
put("other_arch.mpy")  # a fit module the firmware cannot load: that import error, as it is
print("other arch", out(m.fit, X), m.n_iter())
import os
os.remove("emlkmeans_fit.mpy")
with open("emlkmeans_fit.py", "w") as f:
    f.write("fit = 3\n")
print("not ours", out(m.fit, X), m.n_iter())
import sys
del sys.modules["emlkmeans_fit"]
os.remove("emlkmeans_fit.py")
put("fit.mpy")  # the module arrives: the next fit imports it (a failed import is not remembered)
c = array.array("f", [0] * 4)
print("fit module", out(m.fit, X, tol=0.0), out(m.cluster_centers, c), sorted(c), out(m.fit, X, max_iter=0),
      m.n_iter() is not None)
import emlkmeans_fit  # direct use: the same function, the same checks
print("direct", out(emlkmeans_fit.fit, "x", X), out(emlkmeans_fit.fit, m, X, random_state=-1),
      out(emlkmeans_fit.fit, m, X=X), out(emlkmeans_fit.fit, m, X, init=None, random_state=3), m.n_iter() is not None)
'''


def test_without_the_fit_module_predict_works_and_fit_names_it(tmp_path: Path) -> None:
    """A board with emlkmeans.mpy only (centers fitted elsewhere): predict works, fit raises the
    firmware's ImportError naming emlkmeans_fit and leaves the model as it was; a fit module that
    cannot be imported for another reason raises that error, one that is not ours a TypeError; once
    the module is there fit works, and its fit called directly checks the model and the arguments."""
    r = upy.run_without("emlkmeans", "emlkmeans_fit", "fit.mpy", BASE_ONLY, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    missing = "ImportError: no module named 'emlkmeans_fit'"
    x = np.array([0, 0, 0, 1, 10, 10, 10, 11], np.float32).reshape(4, 2)
    means = sorted(np.concatenate([x[:2].mean(axis=0), x[2:].mean(axis=0)]).tolist())  # the two clusters' means
    assert r.stdout.splitlines() == [
        f"fit {missing} {missing} None ok 1",
        "other arch ValueError: incompatible .mpy arch None",
        "not ours TypeError: emlkmeans_fit is not emlkmeans' own None",
        f"fit module ok model ok None {means} ValueError: max_iter must be 1..2**30-1 True",
        "direct TypeError: fit needs an emlkmeans model ValueError: random_state must be 0..2**30-1 "
        "TypeError: function missing 1 required positional arguments ok model True",
    ], r.stdout
