"""emlmpy's binary reader against the device loader (cores/emlc_load + emlc_trees through
test_cores_trees.Core, the calls the device glue makes): on mutated files written by emlmpy both
accept or both reject, at the same byte offset, and what both accept predicts the same on the C
core and the host predictor (bit for bit: class indices, float32 probabilities and values).
NaN inputs and exact ties included. CSV files, version 1 files and emlearn's CSV, which emlmpy
converts on the host, the device refuses."""
from __future__ import annotations

import functools
import random

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

import emlmpy
from emlmpy import ModelFormatError
from test_cores_trees import Core, LoadError


@functools.lru_cache(maxsize=None)
def models():
    out = {}
    X, y = datasets.load_iris(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)
    out["iris"] = (emlmpy.convert(rf), X)
    out["iris8"] = (emlmpy.convert(rf, leaf_bits=8), X)
    out["iris_labels"] = (emlmpy.convert(RandomForestClassifier(n_estimators=3, random_state=0)
                                         .fit(X, np.array([-1, 7, 42])[y])), X)
    assert out["iris_labels"][0].labels is not None
    Xd, yd = datasets.load_digits(return_X_y=True)
    rfd = RandomForestClassifier(n_estimators=3, max_leaf_nodes=20, random_state=0).fit(Xd, yd)
    out["digits_i16"] = (emlmpy.convert(rfd, dtype="int16", leaf_bits=0), Xd[:40])
    Xr, yr = datasets.load_diabetes(return_X_y=True)
    rfr = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(Xr, yr)
    out["reg"] = (emlmpy.convert(rfr), Xr[:40])
    Xp, yp = datasets.make_regression(n_samples=2000, n_features=4, noise=5.0, random_state=2)
    out["pass_through"] = (emlmpy.convert(DecisionTreeRegressor(max_leaf_nodes=800, random_state=0).fit(Xp, yp)),
                           Xp[:40])
    assert out["pass_through"][0].n_pass_through > 0
    Xt, yt = datasets.make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=4, random_state=0)
    Xt = Xt.astype(np.float32)
    rng = np.random.default_rng(0)
    Xn = Xt.copy()
    Xn[rng.random(Xn.shape) < 0.1] = np.nan
    et = ExtraTreesClassifier(n_estimators=5, min_samples_leaf=2, random_state=0).fit(Xn[:400], yt[:400])
    out["ties_nan"] = (emlmpy.convert(et), Xn[400:])
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    if rng.random() < 0.15:
        return bytes(b[:rng.randrange(len(b))])
    for _ in range(rng.choice((1, 1, 2, 3))):
        pos = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[pos] = rng.randrange(256)
        else:
            b[pos] ^= 1 << rng.randrange(8)
    return bytes(b)


def device(data: bytes):
    """The device loader's verdict: the loaded Core, or (offset) of the rejection."""
    try:
        return Core(data)
    except LoadError as e:
        return e.where


@pytest.mark.parametrize("name", ["iris", "iris8", "iris_labels", "digits_i16", "reg", "pass_through", "ties_nan"])
def test_host_reader_agrees_with_device_loader(name: str) -> None:
    m, X = models()[name]
    good = m.save(format="bin")
    rng = random.Random(name)
    accepted = 0
    for data in [good] + [mutate(good, rng) for _ in range(300)]:
        dev = device(data)
        try:
            host = emlmpy.loads(data)
        except ModelFormatError as e:
            assert isinstance(dev, int), (e, "the device accepted what the host refused")
            if e.offset is not None:  # a file that no longer starts with 'E' is CSV to the host
                assert dev == e.offset, (dev, e)
            continue
        assert not isinstance(dev, int), ("the device refused what the host accepted", dev)
        accepted += 1
        if host.n_features != m.n_features or host.dtype != m.dtype:
            continue
        Xs = host.quantize(X) if host.dtype == "int16" else X.astype(np.float32)
        if host.is_classifier:
            got = [dev.predict(row, with_out=True) for row in Xs]
            np.testing.assert_array_equal([c for c, _ in got], host.predict_index(Xs))
            assert np.array([p for _, p in got], np.float32).tobytes() == host.predict_proba(Xs).tobytes()
        else:
            vals = [dev.predict(row, with_out=True)[1][0] for row in Xs]
            assert np.array(vals, np.float32).tobytes() == host.predict(Xs).astype(np.float32).tobytes()
    assert 1 <= accepted < 301


def test_host_predictor_equals_sklearn_on_ties_and_missing_values() -> None:
    m, X = models()["ties_nan"]
    _ = m  # the estimator is rebuilt for its own predict
    Xt, yt = datasets.make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=4, random_state=0)
    rng = np.random.default_rng(0)
    Xn = Xt.astype(np.float32)
    Xn[rng.random(Xn.shape) < 0.1] = np.nan
    et = ExtraTreesClassifier(n_estimators=5, min_samples_leaf=2, random_state=0).fit(Xn[:400], yt[:400])
    np.testing.assert_array_equal(emlmpy.convert(et).predict(Xn), et.predict(Xn))


@pytest.mark.parametrize("fmt", ["csv", "v1", "emlearn"])
def test_the_device_refuses_host_only_formats(fmt: str) -> None:
    m, _ = models()["iris"]
    if fmt == "csv":
        data = m.save(format="csv").encode()
    elif fmt == "v1":
        data = b"EMLT\x01\x00" + bytes(26)
    else:
        import emlearn
        X, y = datasets.load_iris(return_X_y=True)
        rf = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, y)
        data = emlearn.convert(rf, method="inline").save(name="m", format="csv").encode()
    dev = device(data.ljust(32, b" "))
    assert isinstance(dev, int)
