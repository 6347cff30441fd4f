"""emlmpy host predictor vs scikit-learn: conversion of trees and k-NN, float32 and int16."""
from __future__ import annotations

import functools

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlmpy
from emlmpy import keys as K

CLASSIFICATION = ("iris", "wine", "breast_cancer", "digits", "make_classification")


@functools.lru_cache(maxsize=None)
def split(name: str):
    if name == "make_classification":
        X, y = datasets.make_classification(n_samples=1000, n_features=40, n_informative=12,
                                            n_classes=4, random_state=3)
    else:
        X, y = getattr(datasets, "load_" + name)(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.3, random_state=7))


def classifiers():
    return [DecisionTreeClassifier(random_state=0),
            RandomForestClassifier(n_estimators=10, random_state=0),
            ExtraTreesClassifier(n_estimators=10, random_state=0),
            RandomForestClassifier(n_estimators=10, max_leaf_nodes=40, random_state=1)]


@functools.lru_cache(maxsize=None)
def fitted(name: str, i: int):
    Xtr, _, ytr, _ = split(name)
    return classifiers()[i].fit(Xtr, ytr)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("i", range(4))
def test_float_classifier_matches_sklearn(name, i):
    est = fitted(name, i)
    _, Xte, _, _ = split(name)
    m = emlmpy.convert(est, method="inline")
    assert m.dtype == "float" and m.leaf_kind == 1
    np.testing.assert_array_equal(m.predict(Xte), est.predict(Xte))  # 100 %
    np.testing.assert_allclose(m.predict_proba(Xte), est.predict_proba(Xte), rtol=0, atol=1e-6)
    # every tree reaches the leaf sklearn's tree reaches (its proportions, rounded to float32)
    leaves = m.apply(Xte)
    for t, tree in enumerate(getattr(est, "estimators_", [est])):
        want = tree.predict_proba(Xte).astype(np.float32)
        np.testing.assert_array_equal(m.leaves[leaves[:, t]], want)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("i", range(3))
def test_int16_classifier_agreement(name, i):
    est = fitted(name, i)
    _, Xte, _, _ = split(name)
    m = emlmpy.convert(est, dtype="int16")
    agree = np.mean(m.predict(Xte) == est.predict(Xte))
    assert agree >= (1.0 if name == "digits" else 0.99), agree
    # the device receives the quantized inputs; predicting from them gives the same answer
    np.testing.assert_array_equal(m.predict(m.quantize(Xte)), m.predict(Xte))


def test_int16_digits_integer_features_are_exact():
    est = fitted("digits", 0)
    m = emlmpy.convert(est, dtype="int16")
    np.testing.assert_array_equal(m.scale, np.ones(64, np.float32))
    np.testing.assert_array_equal(m.offset, np.zeros(64, np.float32))
    tree = est.tree_
    inner = tree.children_left != -1
    # sklearn thresholds are k + 0.5 on integer data; x <= k + 0.5 must become q <= k
    assert set(np.sort(m.thresholds)) == set(np.floor(tree.threshold[inner]).astype(np.int32))
    Xq = split("digits")[1].astype(np.int16)
    np.testing.assert_array_equal(m.predict(Xq), est.predict(Xq))


@pytest.mark.parametrize("cls", [DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor])
def test_regression_float(cls):
    Xtr, Xte, ytr, yte = split("diabetes")
    kw = {} if cls is DecisionTreeRegressor else {"n_estimators": 10}
    est = cls(random_state=0, **kw).fit(Xtr, ytr)
    m = emlmpy.convert(est)
    assert m.leaf_kind == 2 and not m.is_classifier
    p = m.predict(Xte)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, est.predict(Xte), rtol=2e-6 * len(getattr(est, "estimators_", [0])))
    # exact float32 reference: each tree's value rounded to float32, summed in tree order
    acc = np.zeros(len(Xte), np.float32)
    trees = getattr(est, "estimators_", [est])
    for t in trees:
        acc += t.predict(Xte).astype(np.float32)
    np.testing.assert_array_equal(p, acc / np.float32(len(trees)))
    with pytest.raises(ValueError, match="regressor"):
        m.predict_proba(Xte)


def test_regression_int16_close_to_float():
    Xtr, Xte, ytr, yte = split("diabetes")
    est = RandomForestRegressor(n_estimators=10, random_state=0).fit(Xtr, ytr)
    mq = emlmpy.convert(est, dtype="int16")
    # diabetes has near-duplicate feature values (closer than one int16 step), so per-sample
    # equality is not reachable; the model quality must stay the same.
    assert abs(r2_score(yte, mq.predict(Xte)) - r2_score(yte, est.predict(Xte))) < 0.02


def test_hard_vote_leaves_match_per_tree_votes():
    est = fitted("wine", 1)
    _, Xte, _, _ = split("wine")
    m = emlmpy.convert(est, leaf_bits=0)
    assert m.leaf_kind == 0 and m.leaves.dtype == np.uint8
    votes = np.zeros((len(Xte), 3), np.int64)
    for tree in est.estimators_:
        votes[np.arange(len(Xte)), tree.predict(Xte).astype(int)] += 1
    np.testing.assert_array_equal(m.predict(Xte), est.classes_[np.argmax(votes, axis=1)])
    np.testing.assert_array_equal(m.predict_proba(Xte), votes.astype(np.float32) / np.float32(10))


def test_proba8_leaves_close_to_sklearn():
    est = fitted("digits", 1)
    _, Xte, _, _ = split("digits")
    m = emlmpy.convert(est, leaf_bits=8)
    assert m.leaf_kind == 3
    np.testing.assert_allclose(m.predict_proba(Xte), est.predict_proba(Xte), atol=0.5 / 255 + 1e-6)
    assert np.mean(m.predict(Xte) == est.predict(Xte)) >= 0.99


def test_leaves_are_deduplicated_and_children_follow_parents():
    est = fitted("iris", 2)
    m = emlmpy.convert(est)
    rows = {r.tobytes() for r in m.leaves}
    assert len(rows) == m.n_leaves < sum(t.tree_.n_leaves for t in est.estimators_)
    ch = m.children.astype(int).reshape(-1, 2)
    for i, (a, b) in enumerate(ch):
        assert (a < 0 or a > i) and (b < 0 or b > i)
    assert m.device_bytes == m.n_nodes * 10 + m.n_trees * 2 + m.n_leaves * 3 * 4


def test_string_labels_and_single_leaf_trees():
    X = np.arange(40, dtype=float).reshape(-1, 1)
    y = np.where(X[:, 0] < 20, "low", "high")
    est = RandomForestClassifier(n_estimators=5, min_samples_leaf=30, random_state=0).fit(X, y)
    m = emlmpy.convert(est)
    assert np.any(m.roots < 0)  # some trees are a single leaf
    np.testing.assert_array_equal(m.predict(X), est.predict(X))
    reg = DecisionTreeRegressor(max_depth=3).fit(X, np.full(40, 2.5))
    mr = emlmpy.convert(reg)
    assert mr.n_nodes == 0 and list(mr.roots) == [-1]
    np.testing.assert_array_equal(mr.predict(X), np.full(40, 2.5, np.float32))


@pytest.mark.parametrize("name", ["iris", "wine", "digits"])
@pytest.mark.parametrize("dtype", ["float", "int16"])
def test_knn_matches_sklearn(name, dtype):
    Xtr, Xte, ytr, yte = split(name)
    est = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xtr, ytr)
    m = emlmpy.convert(est, dtype=dtype)
    agree = np.mean(m.predict(Xte) == est.predict(Xte))
    assert agree >= (1.0 if dtype == "float" or name == "digits" else 0.99), agree
    d, idx = m.kneighbors(Xte)
    sd, sidx = est.kneighbors(Xte)
    if dtype == "float":
        np.testing.assert_allclose(np.sqrt(d.astype(np.float64)), sd, rtol=1e-5, atol=1e-5)
    if name == "digits":  # integer data: exact integer distances, same neighbours as sklearn
        np.testing.assert_array_equal(d.astype(np.float64), np.rint(sd ** 2))


def test_knn_vote_tie_goes_to_lowest_label():
    X = np.array([[0.0], [1.0], [-1.0], [2.0]])
    y = np.array([2, 1, 2, 1])
    est = KNeighborsClassifier(n_neighbors=2).fit(X, y)
    m = emlmpy.convert(est)
    q = np.array([[0.4]])  # nearest: item 0 (label 2) and item 1 (label 1): a 1-1 tie
    assert est.predict(q)[0] == 1 == m.predict(q)[0]


@np.errstate(all="ignore")  # emlearn (imported by other tests) sets np.seterr(all="raise")
def test_threshold_keys_exact():
    rng = np.random.default_rng(1)
    t = np.concatenate([rng.normal(size=300) * 10.0 ** rng.integers(-30, 30, 300),
                        [0.0, -0.0, 1e-45, -1e-45, 3.5, -3.5, 1.0, 2.0 ** -149]])
    k = K.sklearn_threshold_keys(t)
    t32 = t.astype(np.float32)
    for step in (-2, -1, 0, 1, 2):
        x = t32.copy()
        for _ in range(abs(step)):
            x = np.nextafter(x, np.float32(np.sign(step) * np.inf))
        x = np.concatenate([x, -x, np.zeros_like(x), -np.zeros_like(x)]).astype(np.float32)
        tt = np.tile(t, 4)
        kk = np.tile(k, 4)
        np.testing.assert_array_equal(K.float32_keys(x) <= kk, x.astype(np.float64) <= tt)
        ke = np.tile(K.emlearn_threshold_keys(t32), 4)
        np.testing.assert_array_equal(K.float32_keys(x) <= ke, x < np.tile(t32, 4))
    keys = K.float32_keys(np.array([-np.inf, -1.0, -0.0, 0.0, 1e-45, 1.0, np.inf], np.float32))
    assert list(keys[2:4]) == [-1, 0] and np.all(np.diff(keys.astype(np.int64)) > 0)


def test_convert_errors():
    X, y = split("iris")[0], split("iris")[2]
    with pytest.raises(emlmpy.ConversionError, match="unsupported estimator LogisticRegression.*"
                       "RandomForestClassifier"):
        emlmpy.convert(LogisticRegression().fit(X, y))
    with pytest.raises(emlmpy.ConversionError, match="not fitted"):
        emlmpy.convert(RandomForestClassifier())
    with pytest.raises(emlmpy.ConversionError, match="not fitted"):
        emlmpy.convert(KNeighborsClassifier())
    with pytest.raises(emlmpy.ConversionError, match="dtype"):
        emlmpy.convert(fitted("iris", 0), dtype="int8")
    with pytest.raises(emlmpy.ConversionError, match="leaf_bits"):
        emlmpy.convert(fitted("iris", 0), leaf_bits=5)
    with pytest.raises(emlmpy.ConversionError, match="method"):
        emlmpy.convert(fitted("iris", 0), method="jit")
    with pytest.raises(emlmpy.ConversionError, match="multi-output"):
        emlmpy.convert(DecisionTreeRegressor().fit(X, np.c_[y, y]))
    with pytest.raises(emlmpy.ConversionError, match="uniform"):
        emlmpy.convert(KNeighborsClassifier(weights="distance").fit(X, y))
    with pytest.raises(ValueError, match="4 features"):
        emlmpy.convert(fitted("iris", 0)).predict(np.zeros((2, 3)))


def test_seed_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(200, 2)).astype(float)
    y = np.logical_xor(X[:, 0] > 0.5, X[:, 1] > 0.5).astype(int)
    # --- the seed's host example, with emlmpy as the package name
    estimator = RandomForestClassifier(n_estimators=3, max_depth=3, max_features=2, random_state=1)
    estimator.fit(X, y)
    cmodel = emlmpy.convert(estimator, method='inline')
    cmodel.save(file='xor_model.csv', name='xor', format='csv')
    # ---
    loaded = emlmpy.load(tmp_path / "xor_model.csv")
    assert loaded.same_as(cmodel)
    grid = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(loaded.predict(grid), estimator.predict(grid))
    np.testing.assert_array_equal(loaded.predict(grid), [0, 0, 1, 1])
