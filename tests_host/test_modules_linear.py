"""emllinear and emllinear_train end to end on the MicroPython unix port (dist/x64): scikit-learn's
linear models through emlmpy.convert and the EMLL file predicting bit for bit like the host
predictor (and so like scikit-learn within the tolerances of tests_host/test_cores_linear.py);
training against SGDRegressor (fit and partial_fit); every bad input and malformed file a clear
TypeError/ValueError (files: with the byte offset), divergence a ValueError with the weights
restored, MemoryError for a model that does not fit, never a crash."""
from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris, load_wine, make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import emlmpy
import upy


@pytest.fixture(scope="module", autouse=True)
def built():
    upy.ensure_modules()


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


PREDICT_SCRIPT = r'''
import array, json
import emllinear
cfg = json.load(open("cfg.json"))
nf, no, nc, tc = cfg["nf"], cfg["no"], cfg["nc"], cfg["tc"]
m = emllinear.load(open("model.bin", "rb"))
X = array.array(tc, open("X.bin", "rb").read())
n = len(X) // nf
out = {"pred": [], "dec": [], "proba": []}
s = array.array("f", [0] * no)
pr = array.array("f", [0] * max(nc, 1))
for i in range(n):
    x = X[i * nf:(i + 1) * nf]
    if cfg["kind"] == "regressor" and no > 1:
        m.predict(x, s)
        out["pred"].extend(s)
    else:
        out["pred"].append(m.predict(x))
    if no == 1:
        out["dec"].append(m.decision_function(x))
    else:
        m.decision_function(x, s)
        out["dec"].extend(s)
    if cfg["kind"] in ("logistic", "ovr"):
        m.predict_proba(x, pr)
        out["proba"].extend(pr)
print(json.dumps(out))
'''


def run_predict(tmp: Path, model: emlmpy.LinearModel, X: np.ndarray) -> dict:
    model.save(file=str(tmp / "model.bin"))
    tc = "h" if X.dtype == np.int16 else "f"
    X.tofile(tmp / "X.bin")
    (tmp / "cfg.json").write_text(json.dumps({"nf": model.n_features, "no": model.n_outputs,
                                              "nc": model.n_classes, "tc": tc, "kind": model.kind}))
    r = upy.run(PREDICT_SCRIPT, tmp, heapsize="8M")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def f32(v) -> np.ndarray:
    return np.asarray(v, np.float64).astype(np.float32)


def _cases():
    Xi, yi = load_iris(return_X_y=True)
    Xw, yw = load_wine(return_X_y=True)
    Xw = StandardScaler().fit_transform(Xw)
    Xd, yd = load_diabetes(return_X_y=True)
    Xb, yb = make_classification(200, 6, random_state=7)
    Xr, Yr = make_regression(80, 5, n_targets=3, random_state=8)
    return [("LinearRegression", LinearRegression(), Xd, yd),
            ("Ridge multi-output", Ridge(), Xr, Yr),
            ("LogisticRegression", LogisticRegression(max_iter=2000), Xi, yi + 5),
            ("LogisticRegression binary", LogisticRegression(max_iter=2000), Xb, yb * 3 - 1),
            ("LinearSVC", LinearSVC(max_iter=5000), Xw, yw),
            ("SGDClassifier log_loss", SGDClassifier(loss="log_loss", random_state=1), Xw, yw)]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_predict_equals_host(case, tmp_path: Path) -> None:
    """The device's predict, decision_function and predict_proba are the host predictor's bit for
    bit, and its classes are scikit-learn's (these data sets have no near ties: see
    test_cores_linear.py)."""
    name, est, X, y = case
    est = _fit(est, X, y)
    model = emlmpy.convert(est)
    X32 = X.astype(np.float32)
    out = run_predict(tmp_path, model, X32)
    dec = model.scores(X32)
    assert np.array_equal(f32(out["dec"]).reshape(dec.shape).view(np.uint32), dec.view(np.uint32))
    if model.kind == "regressor":
        assert np.array_equal(f32(out["pred"]).reshape(dec.shape), dec)
    else:
        assert out["pred"] == model.predict_device(X32).tolist()
        assert out["pred"] == est.predict(X32.astype(np.float64)).tolist()
    if out["proba"]:
        pr = model.predict_proba(X32)
        assert np.array_equal(f32(out["proba"]).reshape(pr.shape).view(np.uint32), pr.view(np.uint32))


def test_ovr_proba_very_negative_scores(tmp_path: Path) -> None:
    """'ovr' with every score very negative: the float32 sigmoids underflow to 0 (was 0/0 = NaN);
    the device and host give the softmax of the scores (the limit of the normalized sigmoids), bit
    for bit alike, within 2e-6 of scikit-learn while its float64 sigmoids do not underflow (scores
    above about -700), and never NaN for finite scores. Below about -745 scikit-learn's sum is 0
    and it returns the uniform distribution; we keep the softmax (docs/emllinear.md)."""
    rng = np.random.default_rng(0)
    est = _fit(SGDClassifier(loss="log_loss", random_state=0), rng.normal(size=(30, 2)), np.arange(30) % 3)
    est.coef_ = np.array([[-100.0, 0.0], [-101.0, 0.0], [-102.0, 0.0]])
    est.intercept_ = np.zeros(3)
    model = emlmpy.convert(est)
    assert model.kind == "ovr"
    X = f32([[1, 0], [0.5, 0], [0.9, 0], [0.88, 0], [0.86, 0], [2, 0], [7, 0], [8, 0], [800, 0],
             [1e30, 0], [0.01, 0], [-1, 0], [0, 0]])
    out = run_predict(tmp_path, model, X)
    pr = model.predict_proba(X)
    dev = f32(out["proba"]).reshape(pr.shape)
    assert np.array_equal(dev.view(np.uint32), pr.view(np.uint32))
    assert not np.isnan(dev).any()
    assert np.allclose(dev.sum(axis=1), 1, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = est.predict_proba(X.astype(np.float64))
    s = est.decision_function(X.astype(np.float64))
    near, far = s.max(axis=1) >= -700, s.max(axis=1) < -745
    assert near.sum() == 10 and far.sum() == 3
    assert np.abs(dev[near] - sk[near]).max() <= 2e-6
    assert np.allclose(sk[far], 1 / 3)  # scikit-learn's float64 underflow: uniform
    e = np.exp(s[far] - s[far].max(axis=1, keepdims=True))
    assert np.abs(dev[far] - e / e.sum(axis=1, keepdims=True)).max() <= 2e-6


def test_int16_inputs(tmp_path: Path) -> None:
    """array('h') inputs: the host predictor's result for the int16 values."""
    rng = np.random.default_rng(3)
    X = rng.integers(-2000, 2000, (120, 4)).astype(np.int16)
    y = (X[:, 0].astype(int) + 2 * X[:, 1] > 100).astype(int) + (X[:, 2] > 500)
    est = _fit(LogisticRegression(max_iter=3000), X.astype(np.float64), y)
    model = emlmpy.convert(est)
    out = run_predict(tmp_path, model, X)
    assert out["pred"] == model.predict_device(X).tolist()
    pr = model.predict_proba(X)
    assert np.array_equal(f32(out["proba"]).reshape(pr.shape), pr)


TRAIN_SCRIPT = r'''
import array, json
import emllinear, emllinear_train
cfg = json.load(open("cfg.json"))
X = array.array(cfg["tc"], open("X.bin", "rb").read())
y = array.array("f", open("y.bin", "rb").read())
nf = cfg["nf"]
out = {}
for run in cfg["runs"]:
    m = emllinear.LinearModel(nf)
    kw = run["kw"]
    if run["mode"] == "train":
        n = emllinear_train.train(m, X, y, **kw)
    else:
        n = [emllinear_train.step(m, X, y, **kw) for _ in range(run["steps"])]
    c = array.array("f", [0] * nf)
    b = array.array("f", [0])
    m.coef(c)
    m.intercept(b)
    out[run["name"]] = {"n": n, "coef": list(c), "b": b[0], "mse": emllinear_train.score_mse(m, X, y)}
print(json.dumps(out))
'''

SGD_KW = {
    "constant-l2": dict(learning_rate="constant", eta0=0.01, penalty="l2", alpha=0.001),
    "invscaling-elasticnet": dict(learning_rate="invscaling", eta0=0.01, power_t=0.25, penalty="elasticnet",
                                  alpha=0.01, l1_ratio=0.5),
    "invscaling-l1": dict(learning_rate="invscaling", eta0=0.02, power_t=0.3, penalty="l1", alpha=0.05),
    "default": dict(),
}


def device_kw(kw: dict) -> dict:
    d = {k: v for k, v in kw.items() if k != "penalty"}
    pen = kw.get("penalty", "l2")
    d["l1_ratio"] = {"l2": 0.0, "l1": 1.0}.get(pen, kw.get("l1_ratio", 0.15))
    return d


def run_train(tmp: Path, X: np.ndarray, y: np.ndarray, runs: list[dict]) -> dict:
    X.tofile(tmp / "X.bin")
    y.astype(np.float32).tofile(tmp / "y.bin")
    (tmp / "cfg.json").write_text(json.dumps({"tc": "h" if X.dtype == np.int16 else "f", "nf": X.shape[1],
                                              "runs": runs}))
    r = upy.run(TRAIN_SCRIPT, tmp, heapsize="8M")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_train_vs_sgdregressor(tmp_path: Path) -> None:
    """train(): SGDRegressor(shuffle=False)'s n_iter_, coefficients and intercept within 1e-4 of the
    largest coefficient, its MSE within 1e-4 relative; step() x3 against partial_fit x3 (the
    schedule's t carries over, the L1 state restarts per call, as in scikit-learn)."""
    X, y = make_regression(200, 5, noise=5.0, random_state=0)
    X, y = X.astype(np.float32), (y / 10).astype(np.float32)
    runs = [{"name": k, "mode": "train", "kw": device_kw(v)} for k, v in SGD_KW.items()]
    runs += [{"name": "steps-" + k, "mode": "step", "steps": 3, "kw": device_kw(v)} for k, v in SGD_KW.items()]
    out = run_train(tmp_path, X, y, runs)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    for name, kw in SGD_KW.items():
        sk = _fit(SGDRegressor(shuffle=False, **kw), X64, y64)
        got = out[name]
        scale = np.abs(sk.coef_).max()
        assert got["n"] == sk.n_iter_, name
        assert np.abs(np.array(got["coef"]) - sk.coef_).max() <= 1e-4 * scale, name
        assert abs(got["b"] - sk.intercept_[0]) <= 1e-4 * scale, name
        mse = float(np.mean((sk.predict(X64) - y64) ** 2))
        assert abs(got["mse"] - mse) <= 1e-4 * mse + 1e-6, name
        sk = SGDRegressor(shuffle=False, **kw)
        for _ in range(3):
            sk.partial_fit(X64, y64)
        got = out["steps-" + name]
        assert np.abs(np.array(got["coef"]) - sk.coef_).max() <= 1e-4 * scale, name
        assert len(got["n"]) == 3 and got["n"][2] < got["n"][0]  # the mean loss of each pass falls


def test_train_int16(tmp_path: Path) -> None:
    """array('h') samples train exactly as their float32 values."""
    rng = np.random.default_rng(4)
    Xh = rng.integers(-300, 300, (150, 3)).astype(np.int16)
    y = (Xh @ np.array([0.01, -0.02, 0.005]) + 1).astype(np.float32)
    runs = [{"name": "a", "mode": "train", "kw": {"eta0": 1e-6, "alpha": 0.001, "l1_ratio": 0.3, "epochs": 20}}]
    a = run_train(tmp_path, Xh, y, runs)["a"]
    b = run_train(tmp_path, Xh.astype(np.float32), y, runs)["a"]
    assert a == b


BAD_SCRIPT = r'''
import array, io
import emllinear, emllinear_train
res = []
def bad(name, exc, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc as e:
        res.append((name, "ok", str(e)))
        return
    except Exception as e:
        res.append((name, "wrong " + type(e).__name__, str(e)))
        return
    res.append((name, "no error", ""))
F = lambda *v: array.array("f", v)
m = emllinear.LinearModel(3)
m.set_coef(F(1, 2, 3))
bad("typecode x", TypeError, m.predict, array.array("i", [1, 2, 3]))
bad("bytes x", TypeError, m.predict, b"abc")
bad("x length", ValueError, m.predict, F(1, 2))
bad("X not a multiple", ValueError, emllinear_train.score_mse, m, F(1, 2, 3, 4), F(1))
bad("nan x", ValueError, m.predict, F(1, float("nan"), 0))
bad("inf x", ValueError, m.decision_function, F(1, float("inf"), 0))
bad("overflow", ValueError, m.predict, F(3e38, 3e38, 0))
bad("n_features 0", ValueError, emllinear.LinearModel, 0)
bad("n_features str", TypeError, emllinear.LinearModel, "3")
bad("n_outputs big", ValueError, emllinear.LinearModel, 3, 70000)
bad("too large", ValueError, emllinear.LinearModel, 65535, 65535)
bad("kind", ValueError, emllinear.LinearModel, 3, 1, "svm")
bad("kind type", TypeError, emllinear.LinearModel, 3, 1, 5)
bad("2-output classifier", ValueError, emllinear.new, 3, 2, "logistic")
bad("keyword", TypeError, emllinear.LinearModel, 3, colour=1)
bad("set_coef length", ValueError, m.set_coef, F(1, 2))
bad("set_coef nan", ValueError, m.set_coef, F(1, float("nan"), 2))
bad("set_intercept typecode", TypeError, m.set_intercept, array.array("d", [1]))
bad("coef out length", ValueError, m.coef, F(0, 0))
bad("proba of regressor", TypeError, m.predict_proba, F(1, 2, 3), F(0, 0))
mo = emllinear.LinearModel(3, 2)
bad("multi-output needs out", TypeError, mo.predict, F(1, 2, 3))
bad("out length", ValueError, mo.predict, F(1, 2, 3), F(0))
c = emllinear.LinearModel(3, 3, "logistic")
bad("classifier out", TypeError, c.predict, F(1, 2, 3), F(0, 0, 0))
bad("proba out length", ValueError, c.predict_proba, F(1, 2, 3), F(0, 0))
bad("train a classifier", ValueError, emllinear_train.train, c, F(1, 2, 3), F(1))
bad("train multi-output", ValueError, emllinear_train.train, mo, F(1, 2, 3), F(1))
bad("train not a model", TypeError, emllinear_train.train, [1], F(1, 2, 3), F(1))
bad("y length", ValueError, emllinear_train.train, m, F(1, 2, 3, 4, 5, 6), F(1))
bad("y typecode", TypeError, emllinear_train.step, m, F(1, 2, 3), array.array("h", [1]))
bad("y nan", ValueError, emllinear_train.step, m, F(1, 2, 3), F(float("nan")))
bad("no samples", ValueError, emllinear_train.step, m, F(), F())
bad("eta0 0", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), eta0=0)
bad("alpha < 0", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), alpha=-1)
bad("l1_ratio > 1", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), l1_ratio=1.5)
bad("learning_rate", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), learning_rate="optimal")
bad("learning_rate same ends", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), learning_rate="iXXXXXXXXg")
bad("learning_rate same ends c", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), learning_rate="cXXXXXXt")
bad("learning_rate bytes", ValueError, emllinear_train.step, m, F(1, 2, 3), F(1), learning_rate=b"constant")
big = emllinear.LinearModel(2)
big.set_coef(F(1e19, 1e19))
bad("mse overflow", ValueError, emllinear_train.score_mse, big, F(1, 1), F(0))
bad("mse score overflow", ValueError, emllinear_train.score_mse, big, F(3e19, 3e19), F(0))
bad("epochs 0", ValueError, emllinear_train.train, m, F(1, 2, 3), F(1), epochs=0)
bad("tol < 0", ValueError, emllinear_train.train, m, F(1, 2, 3), F(1), tol=-1)
bad("epochs for step", TypeError, emllinear_train.step, m, F(1, 2, 3), F(1), epochs=3)
bad("missing y", TypeError, emllinear_train.train, m, F(1, 2, 3))
# divergence: ValueError, weights restored
before = array.array("f", [0, 0, 0])
m.coef(before)
X = F(*[1e6 * (i % 7 - 3) for i in range(30)])
Y = F(*[1e6 * (i % 5) for i in range(10)])
bad("diverges", ValueError, emllinear_train.train, m, X, Y, learning_rate="constant", eta0=10.0, epochs=50)
after = array.array("f", [0, 0, 0])
m.coef(after)
res.append(("restored", "ok" if list(after) == list(before) else "changed", ""))
res.append(("still predicts", "ok" if m.predict(F(1, 1, 1)) == 6.0 else "bad", ""))
for name, status, msg in res:
    print(name + "|" + status + "|" + msg)
'''


def test_bad_inputs(tmp_path: Path) -> None:
    r = upy.run(BAD_SCRIPT, tmp_path, heapsize="2M")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = [ln.split("|") for ln in r.stdout.strip().splitlines()]
    assert len(lines) == BAD_SCRIPT.count("\nbad(") + 2
    wrong = [ln for ln in lines if ln[1] != "ok"]
    assert not wrong, wrong
    msgs = {ln[0]: ln[2] for ln in lines}
    assert "diverged" in msgs["diverges"] and "restored" in msgs["diverges"]
    assert msgs["overflow"] == "score overflow"
    assert msgs["mse overflow"] == msgs["mse score overflow"] == "score overflow"


LOAD_SCRIPT = r'''
import emllinear
import json
res = []
cases = json.load(open("cases.json"))
for name in cases:
    try:
        emllinear.load(open(name, "rb"))
        res.append([name, "loaded"])
    except ValueError as e:
        res.append([name, "ValueError: " + str(e)])
    except MemoryError as e:
        res.append([name, "MemoryError"])
print(json.dumps(res))
'''


def test_malformed_files(tmp_path: Path) -> None:
    """Every truncation, bad header field, non-finite weight and trailing byte is a ValueError
    naming the byte offset; a model larger than the heap is a MemoryError; the good file loads."""
    est = _fit(LogisticRegression(max_iter=2000), *load_iris(return_X_y=True))
    good = emlmpy.convert(est).save()
    files: dict[str, bytes] = {"good": good}
    for n in range(len(good)):
        files[f"cut{n}"] = good[:n]
    hdr = bytearray(good)

    def patched(offset: int, data: bytes) -> bytes:
        b = bytearray(hdr)
        b[offset:offset + len(data)] = data
        return bytes(b)
    files.update({
        "magic": patched(0, b"EMLX"), "version": patched(4, b"\x02"), "kind": patched(5, b"\x04"),
        "nf0": patched(6, b"\x00\x00"), "no0": patched(8, b"\x00\x00"), "no2": patched(8, b"\x02\x00"),
        "reserved": patched(10, b"\x01\x00"), "nan": patched(12 + 4 * 5, struct.pack("<f", float("nan"))),
        "inf": patched(12 + 4 * 13, struct.pack("<f", float("-inf"))), "trailing": good + b"\x00",
        "huge": struct.pack("<4sBBHHH", b"EMLL", 1, 0, 60000, 1000, 0) + bytes(64),
    })
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "cases.json").write_text(json.dumps(list(files)))
    r = upy.run(LOAD_SCRIPT, tmp_path, heapsize="1M")
    assert r.returncode == 0, r.stdout + r.stderr
    got = dict(json.loads(r.stdout))
    assert got["good"] == "loaded"
    assert got["huge"] == "MemoryError"
    for n in range(len(good)):
        assert got[f"cut{n}"] == f"ValueError: offset {n}: file too short", (n, got[f"cut{n}"])
    expect = {"magic": "offset 0: bad magic (not EMLL)", "version": "offset 4: bad version",
              "kind": "offset 5: bad kind", "nf0": "offset 6: bad n_features", "no0": "offset 8: bad n_outputs",
              "no2": "offset 8: bad n_outputs", "reserved": "offset 10: reserved not 0",
              "nan": "offset 32: not finite", "inf": "offset 64: not finite",
              "trailing": f"offset {len(good)}: data after the end"}
    for name, msg in expect.items():
        assert got[name] == "ValueError: " + msg, (name, got[name])


GC_SCRIPT = r'''
import array, gc, emllinear, emllinear_train
F = lambda *v: array.array("f", v)
for i in range(300):
    m = emllinear.LinearModel(8, 3, "logistic")
    m.predict(F(*range(8)))
    r = emllinear.LinearModel(8)
    emllinear_train.train(r, F(*[(j % 5) * 0.1 for j in range(80)]), F(*[j * 0.01 for j in range(10)]), epochs=3)
    if i % 50 == 0:
        gc.collect()
print("done")
'''


def test_gc_small_heap(tmp_path: Path) -> None:
    """Models and training scratch are ordinary GC blocks: 300 rounds in a 64 KiB heap."""
    r = upy.run(GC_SCRIPT, tmp_path, heapsize="64k")
    assert r.returncode == 0 and r.stdout.strip() == "done", r.stdout + r.stderr
