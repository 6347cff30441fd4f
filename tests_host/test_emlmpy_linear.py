"""emlmpy's linear models on the host: convert() for every supported linear estimator (kinds,
shapes, labels), LinearModel validation, the EMLL file round trip and its refusals, the CLI, and
the host exp against numpy."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression, LogisticRegression, Perceptron, Ridge,
                                  RidgeClassifier, SGDClassifier, SGDRegressor)
from sklearn.svm import LinearSVC

import emlmpy
from emlmpy.cli import main
from emlmpy.linear import exp32


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


X, y = load_iris(return_X_y=True)
Xr, yr = make_regression(50, 3, random_state=0)
Xb, yb = make_classification(80, 4, random_state=0)


@pytest.mark.parametrize("est, data, kind, no", [
    (LinearRegression(), (Xr, yr), "regressor", 1), (Ridge(), (Xr, np.c_[yr, -yr]), "regressor", 2),
    (Lasso(), (Xr, yr), "regressor", 1), (ElasticNet(), (Xr, yr), "regressor", 1),
    (SGDRegressor(), (Xr, yr), "regressor", 1), (LogisticRegression(max_iter=1000), (X, y), "logistic", 3),
    (LogisticRegression(), (Xb, yb), "logistic", 1), (LinearSVC(), (X, y), "classifier", 3),
    (SGDClassifier(), (X, y), "classifier", 3), (SGDClassifier(loss="log_loss"), (X, y), "ovr", 3),
    (RidgeClassifier(), (Xb, yb), "classifier", 1), (Perceptron(), (X, y), "classifier", 3),
], ids=lambda v: type(v).__name__ if hasattr(v, "fit") else None)
def test_convert_kinds(est, data, kind, no) -> None:
    """Each estimator converts to the kind that gives scikit-learn's predict (and predict_proba),
    and its file reads back to the same model."""
    est = _fit(est, *data)
    m = emlmpy.convert(est)
    assert isinstance(m, emlmpy.LinearModel) and m.kind == kind and m.n_outputs == no
    Xd = data[0].astype(np.float32)
    if kind != "regressor":
        assert np.array_equal(m.predict(Xd), est.predict(Xd.astype(np.float64)))
    back = emlmpy.LinearModel.from_bytes(m.save())
    assert back.kind == m.kind and np.array_equal(back.coef_, m.coef_) and back.save() == m.save()


def test_string_labels_and_int_labels() -> None:
    """String classes stay on the host (predict returns them); the device gets the class index.
    Integer classes are the device's labels."""
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    m = emlmpy.convert(_fit(LogisticRegression(max_iter=1000), X, names))
    assert list(m.class_labels) == [0, 1, 2] and m.predict(X[:1])[0] == "setosa"
    m = emlmpy.convert(_fit(LogisticRegression(max_iter=1000), X, y * 10 - 7))
    assert list(m.class_labels) == [-7, 3, 13]
    assert list(emlmpy.LinearModel.from_bytes(m.save()).class_labels) == [-7, 3, 13]


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(emlmpy.ConversionError, match="not fitted"):
        emlmpy.convert(LinearRegression())
    est = _fit(LinearRegression(), Xr, yr)
    with pytest.raises(emlmpy.ConversionError, match="float32"):
        emlmpy.convert(est, dtype="int16")
    with pytest.raises(emlmpy.ConversionError, match="leaf_bits"):
        emlmpy.convert(est, leaf_bits=8)
    est.coef_ = est.coef_ * 1e300
    with pytest.raises(emlmpy.ConversionError, match="finite"):
        emlmpy.convert(est)
    with pytest.raises(ValueError, match="not 2"):
        emlmpy.LinearModel(np.ones((2, 3)), np.zeros(2), "logistic")
    with pytest.raises(ValueError, match="kind"):
        emlmpy.LinearModel(np.ones(3), 0.0, "svm")
    m = emlmpy.LinearModel(np.ones(3), 0.5)
    with pytest.raises(ValueError, match="features"):
        m.predict(np.ones((2, 4)))
    with pytest.raises(ValueError, match="score overflow"):
        emlmpy.LinearModel(np.full(2, 3e38), 0.0).predict(np.array([[10.0, 10.0]]))
    with pytest.raises(ValueError, match="no predict_proba"):
        m.predict_proba(np.ones((1, 3)))
    data = m.save()
    for bad in (data[:11], data[:-1], data + b"\0", b"EMLX" + data[4:], data[:4] + b"\2" + data[5:]):
        with pytest.raises(ValueError):
            emlmpy.LinearModel.from_bytes(bad)


def test_cli_convert(tmp_path: Path, capsys) -> None:
    """python -m emlmpy convert writes a linear estimator's EMLL file; a .csv output is refused."""
    import joblib
    joblib.dump(_fit(LogisticRegression(max_iter=1000), X, y), tmp_path / "lr.joblib")
    assert main(["convert", str(tmp_path / "lr.joblib"), "-o", str(tmp_path / "lr.bin")]) == 0
    assert emlmpy.LinearModel.load(tmp_path / "lr.bin").kind == "logistic"
    assert main(["convert", str(tmp_path / "lr.joblib"), "-o", str(tmp_path / "lr.csv")]) == 1
    assert "EMLL" in capsys.readouterr().err


def test_exp32() -> None:
    """The device's exp on the host: within 3 ulp of numpy's in the normal range, monotonic."""
    xs = np.linspace(-87, 88, 200001).astype(np.float32)
    e = exp32(xs)
    ref = np.exp(xs.astype(np.float64))
    assert np.max(np.abs(e - ref) / np.spacing(ref.astype(np.float32))) <= 3
    assert np.all(np.diff(e.astype(np.float64)) >= 0)
