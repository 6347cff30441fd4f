"""Faults a newcomer review found in the native modules, each as the case that showed it, run on the
unix port (real `micropython`, dist/x64) against scikit-learn: streams that resize or keep the
buffer readinto gets (never the model's memory), out arrays over their input (refused), NaN and inf
into float k-NN (refused, as scikit-learn does), int arguments out of range (messages state the
range), a failed load_model (the model stays usable) and memory() of an empty model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

import emlmpy
import upy

F32 = np.float32

HELPERS = r'''
import array, io, json
''' + upy.OUT_FN + r'''
class Grow:  # the review's reproducer: resizes b to 64 bytes and says it read 64
    def readinto(self, b):
        b[:] = bytes(64)
        return 64
class Resize:  # correct data, but assigned by slice so the buffer is resized to what was read
    def __init__(self, data): self.f = io.BytesIO(data)
    def readinto(self, b):
        d = self.f.read(len(b))
        b[:] = d
        return len(d)
class Keep:  # correct data; keeps every buffer it was given, to scribble on after the load
    def __init__(self, data): self.f = io.BytesIO(data); self.kept = []
    def readinto(self, b):
        self.kept.append(b)
        return self.f.readinto(b)
    def scribble(self):
        for b in self.kept:
            for i in range(len(b)):
                b[i] = 0xff if i % 2 else 0
'''


def _run(tmp: Path, body: str) -> list[str]:
    upy.ensure_modules()
    r = upy.run(HELPERS + body, tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip().splitlines()


def test_streams_never_see_model_memory(tmp_path: Path) -> None:
    """Every loader: a stream that grows the buffer is refused with ValueError (no crash), one
    that resizes it while returning the right bytes loads correctly, and one that keeps the
    buffers and scribbles on them after the load cannot change the model: predictions equal
    scikit-learn's."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(F32)
    rf = RandomForestClassifier(3, max_depth=4, random_state=0).fit(X, y)
    knn = KNeighborsClassifier(3).fit(X[::2], y[::2])
    lin = LinearRegression().fit(X[:, :3], X[:, 3])
    emlmpy.convert(rf).save(file=str(tmp_path / "t.bin"))
    emlmpy.convert(rf).save(file=str(tmp_path / "t.csv"))
    emlmpy.convert(knn).save(file=str(tmp_path / "k.bin"))
    emlmpy.convert(lin).save(file=str(tmp_path / "l.bin"))
    (tmp_path / "x.json").write_text(json.dumps(X[1::2].tolist()))
    body = r'''
import emltrees, emlneighbors, emllinear
X = [array.array("f", r) for r in json.load(open("x.json"))]
def preds(kind, m):
    if kind == "l":
        return [round(m.predict(x[:3]), 3) for x in X]
    return [m.predict(x) for x in X]
cases = [
    ("trees bin", "t", "t.bin", emltrees.load),
    ("trees csv", "t", "t.csv", emltrees.load),
    ("trees load_model", "t", "t.bin", lambda s: (emltrees.load_model(emltrees.new(3, 100), s))),
    ("knn load", "k", "k.bin", emlneighbors.load),
    ("knn load_model", "k", "k.bin", lambda s: emlneighbors.load_model(emlneighbors.Model(75, 4, 3, "f"), s)),
    ("linear load", "l", "l.bin", emllinear.load),
]
for name, kind, path, load in cases:
    data = open(path, "rb").read()
    print(name, "grow", out(load, Grow()))
    if "load_model" in name:
        continue
    print(name, "resize", json.dumps(preds(kind, load(Resize(data)))))
    k = Keep(data)
    m = load(k)
    k.scribble()
    print(name, "keep", json.dumps(preds(kind, m)))
'''
    got = _run(tmp_path, body)
    Xt = X[1::2]
    want = {"t": json.dumps(rf.predict(Xt).tolist()), "k": json.dumps(knn.predict(Xt).tolist()),
            "l": json.dumps([round(float(v), 3) for v in lin.predict(Xt[:, :3]).astype(F32)])}
    grow = "grow ValueError: the stream returned more bytes than asked"
    expected = []
    for name, kind in (("trees bin", "t"), ("trees csv", "t"), ("trees load_model", "t"), ("knn load", "k"),
                       ("knn load_model", "k"), ("linear load", "l")):
        expected.append(f"{name} {grow}")
        if "load_model" not in name:
            expected += [f"{name} resize {want[kind]}", f"{name} keep {want[kind]}"]
    assert got == expected


def test_out_overlapping_x_is_refused(tmp_path: Path) -> None:
    """predict/predict_many (emltrees) and predict/decision_function/predict_proba (emllinear)
    refuse an out array that shares memory with x (it would overwrite inputs not yet read);
    separate arrays give scikit-learn's results."""
    rng = np.random.default_rng(0)
    X = rng.random((300, 3)).astype(F32)
    reg = RandomForestRegressor(2, max_depth=3, random_state=0).fit(X, X[:, 0] * 10)
    clf = RandomForestClassifier(2, max_depth=3, random_state=0).fit(X, (X[:, 0] * 3).astype(int))
    emlmpy.convert(reg).save(file=str(tmp_path / "r.bin"))
    emlmpy.convert(clf).save(file=str(tmp_path / "c.bin"))
    Xs = X[:4]
    (tmp_path / "x.json").write_text(json.dumps(Xs.ravel().tolist()))
    body = r'''
import emltrees, emllinear
X = array.array("f", json.load(open("x.json")))
r = emltrees.load(open("r.bin", "rb"))
print("trees many overlap", out(r.predict_many, memoryview(X)[0:12], memoryview(X)[3:7]))
o = array.array("f", [0] * 4)
print("trees many apart", out(r.predict_many, memoryview(X)[0:12], o), json.dumps([round(v, 4) for v in o]))
c = emltrees.load(open("c.bin", "rb"))
print("trees predict overlap", out(c.predict, memoryview(X)[0:3], memoryview(X)[2:5]))
m = emllinear.LinearModel(3, 3)
m.set_coef(array.array("f", [1] * 9))
x = array.array("f", [1, 2, 3])
print("linear predict overlap", out(m.predict, x, x))
print("linear decision overlap", out(m.decision_function, x, x))
y = array.array("f", [0, 0, 0])
print("linear predict apart", out(m.predict, x, y), list(y))
g = emllinear.LinearModel(3, 3, "logistic")
big = array.array("f", [1, 2, 3, 0])
print("linear proba overlap", out(g.predict_proba, memoryview(big)[0:3], memoryview(big)[1:4]))
'''
    got = _run(tmp_path, body)
    want_reg = json.dumps([round(float(v), 4) for v in reg.predict(Xs).astype(F32)])
    ref = np.ones((3, 3), F32) @ np.array([1, 2, 3], F32)  # numpy: coef all 1, intercept 0
    msg = "ValueError: out must not share memory with x"
    assert got == [
        f"trees many overlap {msg}",
        f"trees many apart ok None {want_reg}",
        f"trees predict overlap {msg}",
        f"linear predict overlap {msg}",
        f"linear decision overlap {msg}",
        f"linear predict apart ok None {[float(v) for v in ref]}",
        f"linear proba overlap {msg}",
    ], got


def test_float_knn_refuses_nan_and_inf(tmp_path: Path) -> None:
    """As scikit-learn's KNeighborsClassifier (ValueError for NaN and for inf), float k-NN
    add_item/predict refuse them, also an int16 model from a file given array('f') (quantized),
    and the host's KnnModel.predict."""
    Xtr = np.array([[100, 100, 100], [1, 1, 1]], F32)
    sk = KNeighborsClassifier(1).fit(Xtr, [5, 7])
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError):
            sk.predict([[bad, 1, 1]])
        with pytest.raises(ValueError):
            KNeighborsClassifier(1).fit(np.vstack([Xtr, [[bad, 1, 1]]]), [5, 7, 1])
        with pytest.raises(ValueError, match="NaN or infinity"):
            emlmpy.convert(sk).predict(np.array([[bad, 1, 1]]))
    emlmpy.convert(KNeighborsClassifier(1).fit(Xtr, [5, 7]), dtype="int16").save(file=str(tmp_path / "q.bin"))
    body = r'''
import emlneighbors
k = emlneighbors.Model(10, 3, 1, "f")
k.add_item(array.array("f", [100, 100, 100]), 5)
k.add_item(array.array("f", [1, 1, 1]), 7)
q = emlneighbors.load(open("q.bin", "rb"))
for v in (float("nan"), float("inf"), -float("inf")):
    x = array.array("f", [v, 1, 1])
    print(out(k.predict, x), out(k.add_item, x, 1), out(q.predict, x))
print(k.n_items(), k.predict(array.array("f", [1, 1, 2])), q.predict(array.array("f", [1, 1, 2])))
'''
    got = _run(tmp_path, body)
    msg = "ValueError: values must be finite"
    assert got == [f"{msg} {msg} {msg}"] * 3 + [f"2 {sk.predict([[1, 1, 2]])[0]} {sk.predict([[1, 1, 2]])[0]}"]


def test_int_messages_state_the_range(tmp_path: Path) -> None:
    """An int argument out of range (a big int too) is refused with a message giving its range."""
    body = r'''
import emlneighbors, emlfft, emlkmeans, emlkmeans_fit, emlarray, emllinear, emllinear_train
x = array.array("f", [1, 2, 3, 4])
s = array.array("f", [0] * 6)
km = emlkmeans.KMeans(1, 1)
for f, a in ((emlneighbors.Model, (2**40, 3, 1)), (emlneighbors.Model, (2**30, 3, 1)),
             (emlfft.FFT, (2**30,)), (emlfft.FFT, (3,)),
             (lambda n: km.fit(array.array("f", [1, 2]), max_iter=n), (2**32 + 1,)),
             (lambda n: km.fit(array.array("f", [1, 2]), max_iter=n), (0,)),
             (emlarray.features, (x, s, 2**40, 1)), (emlarray.features, (x, s, 0, 0)),
             (lambda n: emllinear_train.train(emllinear.LinearModel(1), array.array("f", [1]), array.array("f", [1]), epochs=n), (2**40,))):
    print(out(f, *a))
'''
    got = _run(tmp_path, body)
    assert got == [
        "ValueError: max_items must be 1..2**30-1", "ValueError: max_items must be 1..2**30-1",
        "ValueError: n must be a power of two, 2..2**24", "ValueError: n must be a power of two, 2..2**24",
        "ValueError: max_iter must be 1..2**30-1", "ValueError: max_iter must be 1..2**30-1",
        "ValueError: start: 0..2**30-1, step: 1..2**30-1", "ValueError: start: 0..2**30-1, step: 1..2**30-1",
        "ValueError: epochs must be 1..2**30-1",
    ], got


def test_failed_load_leaves_model_usable(tmp_path: Path) -> None:
    """After a failed load_model the model is empty and usable as new() made it: a k-NN Model
    takes max_items items again and predicts as scikit-learn on them; an emltrees model loads a
    good file; memory() works before, after a failure and for an empty model."""
    rng = np.random.default_rng(1)
    Xi = rng.random((300, 4)).astype(F32)
    yi = rng.integers(0, 3, 300)
    Xq = rng.random((20, 4)).astype(F32)
    X, y = load_iris(return_X_y=True)
    rf = RandomForestClassifier(2, max_depth=3, random_state=0).fit(X.astype(F32), y)
    emlmpy.convert(rf).save(file=str(tmp_path / "t.bin"))
    (tmp_path / "d.json").write_text(json.dumps([Xi.tolist(), yi.tolist(), Xq.tolist()]))
    body = r'''
import emlneighbors, emltrees
Xi, yi, Xq = json.load(open("d.json"))
k = emlneighbors.Model(300, 4, 5, "f")
k.add_item(array.array("f", Xi[0]), 1)
print(out(emlneighbors.load_model, k, io.BytesIO(b"EMLK" + bytes(60))), k.n_items())
print(out(emlneighbors.load_model, k, io.BytesIO(b"")), k.n_items())
print(out(k.predict, array.array("f", Xq[0])))
for x, c in zip(Xi, yi):
    k.add_item(array.array("f", x), c)
print(k.n_items(), out(k.add_item, array.array("f", Xi[0]), 0))
print(json.dumps([k.predict(array.array("f", x)) for x in Xq]))
t = emltrees.new(2, 40)
m0 = t.memory()
print(out(emltrees.load_model, t, io.BytesIO(b"EMLT" + bytes(40))), t.memory() == m0, out(t.n_features))
emltrees.load_model(t, open("t.bin", "rb"))
print(t.predict(array.array("f", [5.1, 3.5, 1.4, 0.2])), t.memory() > m0, emltrees.new(1, 10).memory() > 0)
'''
    got = _run(tmp_path, body)
    sk = KNeighborsClassifier(5).fit(Xi, yi)
    assert got[0].startswith("ValueError: offset ") and got[0].endswith(" 0"), got
    assert got[1] == "ValueError: offset 0: truncated file 0", got
    assert got[2:] == [
        "ValueError: no items: call add_item first",
        "300 ValueError: capacity exceeded (max_items)",
        json.dumps(sk.predict(Xq).tolist()),
        got[5],
        f"{rf.predict(np.array([[5.1, 3.5, 1.4, 0.2]], F32))[0]} True True",
    ], got
    assert got[5].startswith("ValueError: offset ") and got[5].endswith(" True ValueError: no model loaded"), got


def test_read_returning_none_is_the_end_of_the_stream(tmp_path: Path) -> None:
    """A stream with only read() that returns None (MicroPython's non-blocking "no data") ends the
    read, as readinto returning None does: every loader says the file is short, at the offset
    reached, instead of "object with buffer protocol required"."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(F32)
    emlmpy.convert(RandomForestClassifier(3, max_depth=3, random_state=0).fit(X, y)).save(file=str(tmp_path / "t.bin"))
    emlmpy.convert(KNeighborsClassifier(3).fit(X, y)).save(file=str(tmp_path / "k.bin"))
    emlmpy.convert(LinearRegression().fit(X[:, :3], X[:, 3])).save(file=str(tmp_path / "l.bin"))
    body = r'''
import emltrees, emlneighbors, emllinear
class Stalls:  # gives the first 20 bytes (less than any file), then None
    def __init__(self, name): self.d = open(name, "rb").read()[:20]; self.at = 0
    def read(self, n):
        if self.at >= len(self.d):
            return None
        b = self.d[self.at:self.at + n]
        self.at += len(b)
        return b
for mod, name in ((emltrees, "t.bin"), (emlneighbors, "k.bin"), (emllinear, "l.bin")):
    try:
        mod.load(Stalls(name))
        print("loaded")
    except Exception as e:
        print(type(e).__name__, e)
'''
    got = _run(tmp_path, body)
    assert got == ["ValueError offset 20: truncated file"] * 2 + ["ValueError offset 20: file too short"], got
