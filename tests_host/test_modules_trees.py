"""emltrees end to end: scikit-learn models exported with emlmpy (binary, and CSV read by the
emltrees_csv module), predicted on the MicroPython unix port with the built x64 modules, compared
with scikit-learn's own predictions."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine, make_classification
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlmpy
import upy

SCRIPT = r'''
import array, json
import emltrees
cfg = json.load(open("cfg.json"))
m = emltrees.new(cfg["trees"], cfg["nodes"], cfg["leaves"])
with open(cfg["model"], "rb") as f:
    emltrees.load_model(m, f)
nf = m.n_features()
X = array.array("f", bytes(4 * cfg["n"] * nf))
with open("X.f32", "rb") as f:
    f.readinto(X)
out = array.array("f", [0.0] * cfg["n"])
m.predict_many(X, out)
single = []
proba = []
p = array.array("f", [0.0] * m.outputs())
for i in range(cfg["n"]):
    x = X[i * nf:(i + 1) * nf]
    if cfg["classifier"]:
        single.append(m.predict(x, p))
        proba.append(list(p))
    else:
        single.append(m.predict(x))
print(json.dumps({"many": list(out), "single": single, "proba": proba, "outputs": m.outputs(), "nf": nf}))
'''


def datasets():
    Xm, ym = make_classification(n_samples=600, n_features=120, n_informative=30, n_classes=4, random_state=3)
    return {
        "iris": load_iris(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "digits": load_digits(return_X_y=True),
        "make_classification": (Xm, ym),
    }


CLASSIFIERS = {
    "rf": lambda: RandomForestClassifier(n_estimators=10, max_depth=8, random_state=1),
    "dt": lambda: DecisionTreeClassifier(random_state=1),
    "et": lambda: ExtraTreesClassifier(n_estimators=8, max_leaf_nodes=60, random_state=1),
}


@pytest.fixture(scope="module", autouse=True)
def built():
    upy.ensure_modules()


def run_model(est, X: np.ndarray, fmt: str, tmp: Path, classifier: bool, **convert_kw) -> dict:
    cm = emlmpy.convert(est, method="inline", **convert_kw)
    cm.save(file=str(tmp / f"model.{fmt}"), format=fmt)
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    (tmp / "X.f32").write_bytes(X32.tobytes())
    cfg = {"trees": cm.n_trees, "nodes": cm.n_nodes, "leaves": cm.n_payloads, "model": f"model.{fmt}",
           "n": len(X32), "classifier": classifier}
    (tmp / "cfg.json").write_text(json.dumps(cfg))
    r = upy.run(SCRIPT, tmp, heapsize="8M")
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("fmt", ["csv", "bin"])
@pytest.mark.parametrize("est_name", sorted(CLASSIFIERS))
@pytest.mark.parametrize("ds", sorted(datasets()))
def test_classifier_matches_sklearn(ds: str, est_name: str, fmt: str, tmp_path: Path) -> None:
    X, y = datasets()[ds]
    Xtr, Xte, ytr, _ = train_test_split(X.astype(np.float32), y, test_size=0.3, random_state=0)
    est = CLASSIFIERS[est_name]().fit(Xtr, ytr)
    res = run_model(est, Xte, fmt, tmp_path, classifier=True)
    want = est.predict(Xte)
    assert np.array_equal(np.array(res["single"]), want)                # 100% agreement, one call per sample
    assert np.array_equal(np.array(res["many"]).astype(int), want)      # and predict_many
    assert np.abs(np.array(res["proba"]) - est.predict_proba(Xte)).max() <= 1e-6
    assert res["nf"] == X.shape[1]


@pytest.mark.parametrize("fmt", ["csv", "bin"])
@pytest.mark.parametrize("est_cls", [RandomForestRegressor, ExtraTreesRegressor, DecisionTreeRegressor])
def test_regressor_matches_sklearn(est_cls, fmt: str, tmp_path: Path) -> None:
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X.astype(np.float32), y, test_size=0.3, random_state=0)
    kw = {"random_state": 1, "max_depth": 10}
    if est_cls is not DecisionTreeRegressor:
        kw["n_estimators"] = 6
    est = est_cls(**kw).fit(Xtr, ytr)
    res = run_model(est, Xte, fmt, tmp_path, classifier=False)
    want = est.predict(Xte)
    got = np.array(res["single"])
    # float32 leaves summed in float32: a few ulps of the largest value involved
    tol = 8 * np.finfo(np.float32).eps * np.abs(want).max()
    assert np.abs(got - want).max() <= tol
    assert np.array_equal(np.array(res["many"], dtype=np.float32), got.astype(np.float32))
    assert res["outputs"] == 1


def test_int16_digits_matches_sklearn(tmp_path: Path) -> None:
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=1).fit(Xtr, ytr)
    for fmt in ("csv", "bin"):
        # float inputs are quantized on the device with the file's (scale, offset)
        res = run_model(est, Xte, fmt, tmp_path, classifier=True, dtype="int16")
        assert np.array_equal(np.array(res["single"]), est.predict(Xte))


def test_emlearn_csv_converted_by_emlmpy_predicts_like_emlearn(tmp_path: Path) -> None:
    """emlearn's CSV is converted on the host (python -m emlmpy convert); the device refuses it."""
    import subprocess
    import sys
    import emlearn
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    est = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=2).fit(X, y)
    em = emlearn.convert(est, method="inline", dtype="float")
    em.save(file=str(tmp_path / "emlearn.csv"), format="csv")
    r = subprocess.run([sys.executable, "-m", "emlmpy", "convert", str(tmp_path / "emlearn.csv"), "-o",
                        str(tmp_path / "model.bin")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (tmp_path / "X.f32").write_bytes(X.tobytes())
    for model in ("model.bin", "emlearn.csv"):
        cfg = {"trees": 5, "nodes": 200, "leaves": 200, "model": model, "n": len(X), "classifier": True}
        (tmp_path / "cfg.json").write_text(json.dumps(cfg))
        r = upy.run(SCRIPT, tmp_path)
        if model == "model.bin":
            assert r.returncode == 0, r.stdout + r.stderr
            assert np.array_equal(np.array(json.loads(r.stdout)["single"]), em.predict(X))
        else:
            assert r.returncode != 0 and "emlearn's CSV? convert it with emlmpy" in r.stdout + r.stderr


SEED_DEVICE_CODE = """import emltrees
import array
model = emltrees.new(5, 30)   # ensemble of up to 5 trees and 30 decision nodes
with open('xor_model.csv', 'r') as f:
    emltrees.load_model(model, f)
for ex in [array.array('f', [0.0, 0.0]), array.array('f', [1.0, 1.0]), array.array('f', [0.0, 1.0]), array.array('f', [1.0, 0.0])]:
    print(ex, model.predict(ex))
"""


def test_seed_device_example(tmp_path: Path) -> None:
    """The seed's device code (emlearn-micropython's API: new + load_model of a CSV opened in
    text mode), exactly as written, on a model made by the seed's host code."""
    rng = np.random.default_rng(1)
    X = rng.random((400, 2)).astype(np.float32)
    y = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).astype(int)
    estimator = RandomForestClassifier(n_estimators=3, max_depth=3, max_features=2, random_state=1)
    estimator.fit(X, y)
    cmodel = emlmpy.convert(estimator, method='inline')
    cmodel.save(file=str(tmp_path / 'xor_model.csv'), name='xor', format='csv')
    seed = SEED_DEVICE_CODE
    r = upy.run(seed, tmp_path)
    assert r.returncode == 0, r.stderr
    got = [int(line.rsplit(" ", 1)[1]) for line in r.stdout.strip().splitlines()]
    want = estimator.predict(np.array([[0, 0], [1, 1], [0, 1], [1, 0]], dtype=np.float32)).tolist()
    assert got == want


@pytest.mark.parametrize("ds", ["iris", "wine"])
def test_int16_model_quantizes_float_input_like_the_host(ds: str, tmp_path: Path) -> None:
    """Float inputs to an int16 model are quantized on the device with the file's (scale, offset):
    the result equals the host package's .predict (which quantizes the same way), also for inputs
    off the training grid, at the quantization boundaries and beyond the int16 range."""
    X, y = datasets()[ds]
    est = RandomForestClassifier(n_estimators=8, max_depth=6, random_state=3).fit(X, y)
    cm = emlmpy.convert(est, dtype="int16")
    rng = np.random.default_rng(4)
    lo, hi = X.min(0), X.max(0)
    Xr = rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), size=(300, X.shape[1])).astype(np.float32)
    scale, offset = cm.scale.astype(np.float32), cm.offset.astype(np.float32)
    # points exactly half-way between quantization steps, where the rounding rule decides
    half = ((np.round((Xr - offset) * scale) + np.float32(0.5)) / scale + offset).astype(np.float32)
    Xall = np.vstack([Xr, half, np.full((1, X.shape[1]), 1e9, np.float32)])
    res = run_model(est, Xall, "bin", tmp_path, classifier=True, dtype="int16")
    assert np.array_equal(np.array(res["single"]), cm.predict_index(Xall))


def _nan_data(seed: int, train_nan: float):
    X, y = make_classification(n_samples=500, n_features=6, n_informative=4, n_classes=3, random_state=seed)
    X = X.astype(np.float32)
    rng = np.random.default_rng(seed)
    Xtr, Xte = X[:300].copy(), X[300:].copy()
    Xtr[rng.random(Xtr.shape) < train_nan] = np.nan
    Xte[rng.random(Xte.shape) < 0.15] = np.nan
    return Xtr, y[:300], Xte


@pytest.mark.parametrize("train_nan", [0.0, 0.15], ids=["nan_at_predict_only", "nan_in_training"])
@pytest.mark.parametrize("kind", ["dt", "rf", "et", "dt_reg", "rf_reg", "et_reg"])
def test_missing_values_on_the_device_equal_sklearn(kind: str, train_nan: float, tmp_path: Path) -> None:
    """NaN inputs take scikit-learn's learned route (missing_go_to_left) on the device, for trees
    trained with and without missing values: every row equals scikit-learn's predict."""
    Xtr, ytr, Xte = _nan_data(1, train_nan)
    regress = kind.endswith("_reg")
    yfit = ytr * 1.5 + 0.25 if regress else ytr
    make = {"dt": DecisionTreeClassifier(random_state=0),
            "rf": RandomForestClassifier(n_estimators=5, random_state=0),
            "et": ExtraTreesClassifier(n_estimators=5, random_state=0),
            "dt_reg": DecisionTreeRegressor(random_state=0, max_depth=8),
            "rf_reg": RandomForestRegressor(n_estimators=5, max_depth=8, random_state=0),
            "et_reg": ExtraTreesRegressor(n_estimators=5, max_depth=8, random_state=0)}[kind]
    est = make.fit(Xtr, yfit)  # scikit-learn pinned at 1.9 (requirements.txt): every estimator learns NaN routes
    res = run_model(est, Xte, "bin", tmp_path, classifier=not regress)
    want = est.predict(Xte)
    got = np.array(res["single"])
    if regress:
        assert np.abs(got - want).max() <= 8 * np.finfo(np.float32).eps * np.abs(want).max()
    else:
        assert np.array_equal(got, want)
        assert np.array_equal(np.array(res["many"]).astype(int), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_leaf_forest_ties_on_the_device_equal_sklearn(seed: int, tmp_path: Path) -> None:
    """Forests with small leaves have exact probability ties; the device's predict equals
    scikit-learn's first argmax of its float64 sums on every row (labels -1/7/42: classes_)."""
    X, y = make_classification(n_samples=700, n_features=8, n_informative=5, n_classes=3, random_state=seed)
    X = X.astype(np.float32)
    y = np.array([-1, 7, 42])[y]
    est = ExtraTreesClassifier(n_estimators=5 + seed * 4, min_samples_leaf=1 + seed, random_state=seed).fit(X[:400], y[:400])
    res = run_model(est, X[400:], "bin", tmp_path, classifier=True)
    assert np.array_equal(np.array(res["single"]), est.predict(X[400:]))
    assert np.array_equal(np.array(res["many"]).astype(int), est.predict(X[400:]))
