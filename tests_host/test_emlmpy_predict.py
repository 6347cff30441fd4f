"""emlmpy host predictor vs scikit-learn: tree models in format version 2 (every leaf kind, float
and int16 inputs, NaN inputs, pass-through nodes) and k-NN."""
from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlmpy
from emlmpy import keys as K
from emlmpy.layout import (SHAPE_LEAVES, decode_children, node_features, node_missing_left,
                           node_shapes)

CLASSIFICATION = ("iris", "wine", "breast_cancer", "digits", "make_classification")
SEEDS = (0, 1)


@functools.lru_cache(maxsize=None)
def split(name: str):
    if name == "make_classification":
        X, y = datasets.make_classification(n_samples=1000, n_features=40, n_informative=12,
                                            n_classes=4, random_state=3)
    elif name == "make_regression":
        X, y = datasets.make_regression(n_samples=800, n_features=10, noise=10.0, random_state=3)
    else:
        X, y = getattr(datasets, "load_" + name)(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.3, random_state=7))


def classifiers(seed: int):
    return [DecisionTreeClassifier(random_state=seed),
            RandomForestClassifier(n_estimators=10, random_state=seed),
            ExtraTreesClassifier(n_estimators=10, random_state=seed),
            RandomForestClassifier(n_estimators=10, max_leaf_nodes=40, random_state=seed + 1),
            ExtraTreesClassifier(n_estimators=7, max_depth=6, random_state=seed)]


@functools.lru_cache(maxsize=None)
def fitted(name: str, i: int, seed: int = 0):
    Xtr, _, ytr, _ = split(name)
    return classifiers(seed)[i].fit(Xtr, ytr)


def trees_of(est):
    return getattr(est, "estimators_", [est])


def n_inner(est) -> int:
    return sum(int((t.tree_.children_left != -1).sum()) for t in trees_of(est))


def n_padding(m) -> int:
    """1 when the model ends with the padding node after a trailing pass-through node."""
    return int(m.n_nodes >= 2 and bool(m.is_pass_through[-2]))


def sklearn_leaf_values(est, X) -> np.ndarray:
    """(n_samples, n_trees, n_classes) float64: scikit-learn's value of the leaf each tree reaches."""
    return np.stack([t.tree_.value[t.apply(X.astype(np.float32)), 0, :] for t in trees_of(est)], axis=1)


def sklearn_votes(est, X) -> np.ndarray:
    votes = np.zeros((len(X), len(est.classes_)), np.int64)
    for t in trees_of(est):
        votes[np.arange(len(X)), np.argmax(t.predict_proba(X), axis=1)] += 1
    return votes


def float32_tree_sum(est, X) -> np.ndarray:
    """The float32 regression value: each tree's value rounded to float32, summed in tree order."""
    acc = np.zeros(len(X), np.float32)
    for t in trees_of(est):
        acc += t.predict(X).astype(np.float32)
    return acc / np.float32(len(trees_of(est)))


# ---- classifiers -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("i", range(5))
@pytest.mark.parametrize("seed", SEEDS)
def test_float_classifier_matches_sklearn(name, i, seed):
    est = fitted(name, i, seed)
    _, Xte, _, _ = split(name)
    # default leaves: exact class proportions
    m = emlmpy.convert(est, method="inline")
    assert m.dtype == "float" and m.leaf_kind == 1
    np.testing.assert_array_equal(m.predict(Xte), est.predict(Xte))  # 100 %
    np.testing.assert_allclose(m.predict_proba(Xte), est.predict_proba(Xte), rtol=0, atol=1e-6)
    # every tree reaches the leaf scikit-learn's tree reaches: its proportions, rounded to float32
    refs = m.apply(Xte)
    want = sklearn_leaf_values(est, Xte).astype(np.float32)
    for t in range(m.n_trees):
        np.testing.assert_array_equal(m.leaf_proportions(refs[:, t]), want[:, t])
    # leaf_bits=8: proportions rounded to 1/255
    m8 = emlmpy.convert(est, leaf_bits=8)
    assert m8.leaf_kind == 1 and all(m8.payload_terms(p)[0] == 255 for p in range(m8.n_payloads))
    np.testing.assert_allclose(m8.predict_proba(Xte), est.predict_proba(Xte), atol=0.5 / 255 + 1e-6)
    assert np.mean(m8.predict(Xte) == est.predict(Xte)) >= 0.97
    # leaf_bits=0: the leaf's class, a hard vote
    m0 = emlmpy.convert(est, leaf_bits=0)
    assert m0.leaf_kind == 0 and m0.n_payloads == 0 and m0.payload.size == 0
    votes = sklearn_votes(est, Xte)
    np.testing.assert_array_equal(m0.predict(Xte), est.classes_[np.argmax(votes, axis=1)])
    np.testing.assert_array_equal(m0.predict_proba(Xte), votes.astype(np.float32) / np.float32(m0.n_trees))


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("i", range(4))
def test_int16_classifier_agreement(name, i):
    est = fitted(name, i)
    _, Xte, _, _ = split(name)
    for leaf_bits in (None, 8, 0):
        m = emlmpy.convert(est, dtype="int16", leaf_bits=leaf_bits)
        ref = est.predict(Xte) if leaf_bits != 0 else emlmpy.convert(est, leaf_bits=0).predict(Xte)
        agree = np.mean(m.predict(Xte) == ref)
        assert agree >= (1.0 if name == "digits" else 0.99), (leaf_bits, agree)
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
    keys = m.nodes["key"][~m.is_pass_through]
    assert set(np.sort(keys)) == set(np.floor(tree.threshold[inner]).astype(np.int32))
    assert not np.any(node_missing_left(m.nodes)[~m.is_pass_through])  # int16 models do not use it
    Xq = split("digits")[1].astype(np.int16)
    np.testing.assert_array_equal(m.predict(Xq), est.predict(Xq))


def test_leaves_are_exact_ratios_in_lowest_terms_and_deduplicated():
    est = fitted("digits", 3)
    m = emlmpy.convert(est)
    seen = set()
    for t in trees_of(est):
        tr = t.tree_
        for node in np.flatnonzero(tr.children_left == -1):
            v = tr.value[node, 0]
            w = tr.weighted_n_node_samples[node]
            fr = tuple(Fraction(int(round(c * w)), int(w)) for c in v)
            assert all(float(f) == c for f, c in zip(fr, v))  # scikit-learn's values are count / w
            if max(fr) < 1:
                seen.add(fr)
    stored = set()
    for p in range(m.n_payloads):
        w, terms = m.payload_terms(p)
        assert w >= 2 and np.gcd.reduce([w] + [c for _, c in terms]) == 1  # lowest terms
        row = [Fraction(0)] * m.n_outputs
        for cls, count in terms:
            row[cls] = Fraction(count, w)
        stored.add(tuple(row))
    assert stored == seen and m.n_payloads == len(seen)  # one payload per distinct impure leaf


def test_children_follow_parents_in_preorder():
    est = fitted("iris", 2)
    m = emlmpy.convert(est)
    left, right = decode_children(m.nodes)
    for i, (a, b) in enumerate(zip(left, right)):
        assert (a < 0 or a > i) and (b < 0 or b > i)
    # pre-order: a node's left subtree starts right after it
    assert all(a == i + 1 for i, a in enumerate(left) if a >= 0)
    roots = [int(r) for r in m.roots if r >= 0]
    assert roots[0] == 0 and roots == sorted(roots)
    assert m.n_nodes == n_inner(est) + m.n_pass_through + n_padding(m)


def test_string_labels_and_single_leaf_trees():
    X = np.arange(40, dtype=float).reshape(-1, 1)
    y = np.where(X[:, 0] < 20, "low", "high")
    est = RandomForestClassifier(n_estimators=5, min_samples_leaf=30, random_state=0).fit(X, y)
    m = emlmpy.convert(est)
    assert np.any(m.roots < 0)  # some trees are a single leaf
    np.testing.assert_array_equal(m.predict(X), est.predict(X))
    reg = DecisionTreeRegressor(max_depth=3).fit(X, np.full(40, 2.5))
    mr = emlmpy.convert(reg)
    assert mr.n_nodes == 0 and list(mr.roots) == [-1] and list(mr.values) == [2.5]
    np.testing.assert_array_equal(mr.predict(X), np.full(40, 2.5, np.float32))


# ---- regressors ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor])
@pytest.mark.parametrize("name", ["diabetes", "make_regression"])
@pytest.mark.parametrize("seed", SEEDS)
def test_regression_float(cls, name, seed):
    Xtr, Xte, ytr, yte = split(name)
    kw = {} if cls is DecisionTreeRegressor else {"n_estimators": 10}
    est = cls(random_state=seed, **kw).fit(Xtr, ytr)
    m = emlmpy.convert(est)
    assert m.leaf_kind == 2 and not m.is_classifier
    p = m.predict(Xte)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, est.predict(Xte), rtol=2e-6 * len(trees_of(est)))
    # exact float32 reference: each tree's value rounded to float32, summed in tree order
    np.testing.assert_array_equal(p, float32_tree_sum(est, Xte))
    assert m.n_payloads == len({np.float32(v).tobytes() for t in trees_of(est)
                                for v in t.tree_.value[t.tree_.children_left == -1, 0, 0]})
    with pytest.raises(ValueError, match="regressor"):
        m.predict_proba(Xte)


def test_regression_int16_close_to_float():
    Xtr, Xte, ytr, yte = split("diabetes")
    est = RandomForestRegressor(n_estimators=10, random_state=0).fit(Xtr, ytr)
    mq = emlmpy.convert(est, dtype="int16")
    # diabetes has near-duplicate feature values (closer than one int16 step), so per-sample
    # equality is not reachable; the model quality must stay the same.
    assert abs(r2_score(yte, mq.predict(Xte)) - r2_score(yte, est.predict(Xte))) < 0.02


# ---- pass-through nodes ----------------------------------------------------------------------
def _pass_through_models():
    X, y = datasets.make_regression(n_samples=2000, n_features=8, noise=5.0, random_state=0)
    reg = RandomForestRegressor(n_estimators=5, max_leaf_nodes=300, random_state=0).fit(X, y)
    single = DecisionTreeRegressor(max_leaf_nodes=400, random_state=0).fit(X, y)
    Xc, yc = datasets.make_classification(n_samples=3000, n_features=20, n_informative=15, n_classes=250,
                                          n_clusters_per_class=1, random_state=0)
    clf = RandomForestClassifier(n_estimators=3, max_leaf_nodes=200, random_state=0).fit(Xc, yc)
    return [(reg, X), (single, X), (clf, Xc)]


@pytest.mark.parametrize("k", range(3))
def test_pass_through_nodes_predict_as_the_unconstrained_model(k):
    """More distinct payloads/values than shape 3's 256 references: some leaf-leaf nodes get a
    pass-through node. The encoded model must still reach, in every tree, the leaf scikit-learn's
    tree reaches (the model without the constraint) and predict exactly as it."""
    est, X = _pass_through_models()[k]
    m = emlmpy.convert(est)
    assert m.n_pass_through > 0
    shapes = node_shapes(m.nodes)
    pt = np.flatnonzero(m.is_pass_through)
    # the pass-through (shape 1, feature 0) follows its node (shape 1: left leaf, right node i + 1),
    # because one of the two leaf references is >= 256; its own right child i + 2 exists
    assert np.all(shapes[pt] == 1) and np.all(node_features(m.nodes)[pt] == 0)
    assert np.all(shapes[pt - 1] == 1) and not np.any(m.is_pass_through[pt - 1])
    assert np.all(np.maximum(m.nodes["c"][pt - 1], m.nodes["c"][pt]) >= 256)
    assert np.all(pt + 1 < m.n_nodes)
    assert n_inner(est) + m.n_pass_through + n_padding(m) == m.n_nodes
    # NaN inputs too (feature 0 is the pass-through nodes' feature): they follow missing_left there
    Xn = X.copy()
    Xn[::3, 0] = np.nan
    Xn[1::4, 1:] = np.nan
    for X in (X, Xn):
        refs = m.apply(X)
        want = sklearn_leaf_values(est, X)
        if m.is_classifier:
            for t in range(m.n_trees):
                np.testing.assert_array_equal(m.leaf_proportions(refs[:, t]), want[:, t].astype(np.float32))
            np.testing.assert_array_equal(m.predict(X), est.predict(X))
            np.testing.assert_allclose(m.predict_proba(X), est.predict_proba(X), atol=1e-6)
        else:
            for t in range(m.n_trees):
                np.testing.assert_array_equal(m.values[refs[:, t]], want[:, t, 0].astype(np.float32))
            np.testing.assert_array_equal(m.predict(X), float32_tree_sum(est, X))
    assert emlmpy.loads(m.save(format="bin")).same_as(m) and emlmpy.loads(m.save(format="csv")).same_as(m)


def test_trailing_pass_through_gets_a_padding_node():
    est, X = _pass_through_models()[1]
    m = emlmpy.convert(est)
    # the last leaf-leaf node of this tree (pre-order ends there) has values numbered >= 256
    assert m.is_pass_through[-2] and node_shapes(m.nodes)[-1] == SHAPE_LEAVES
    assert (int(m.nodes["key"][-1]), int(m.nodes["fk"][-1]) & ~3, int(m.nodes["c"][-1])) == (0, 0, 0)  # shape 3 only
    np.testing.assert_array_equal(m.predict(X), float32_tree_sum(est, X))


# ---- missing values ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier,
                                 DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor])
def test_nan_inputs_follow_missing_go_to_left(cls):
    """Trained with NaN (scikit-learn >= 1.3 learns where missing values go): a float model sends
    every NaN where scikit-learn does, so every prediction equals scikit-learn's."""
    is_clf = "Classifier" in cls.__name__
    X, y = (datasets.load_breast_cancer if is_clf else datasets.load_diabetes)(return_X_y=True)
    rng = np.random.default_rng(0)
    Xn = X.copy()
    Xn[rng.random(X.shape) < 0.15] = np.nan
    Xn[5] = np.nan  # a row with nothing known
    kw = {} if cls.__name__.startswith("Decision") else {"n_estimators": 10}
    est = cls(random_state=0, **kw).fit(Xn, y)
    m = emlmpy.convert(est)
    assert np.any(node_missing_left(m.nodes)) and not np.all(node_missing_left(m.nodes))
    refs = m.apply(Xn)
    want = sklearn_leaf_values(est, Xn)
    if is_clf:
        for t in range(m.n_trees):
            np.testing.assert_array_equal(m.leaf_proportions(refs[:, t]), want[:, t].astype(np.float32))
        np.testing.assert_array_equal(m.predict(Xn), est.predict(Xn))
        np.testing.assert_allclose(m.predict_proba(Xn), est.predict_proba(Xn), atol=1e-6)
    else:
        np.testing.assert_array_equal(m.predict(Xn), float32_tree_sum(est, Xn))
    back = emlmpy.loads(m.save(format="csv"))
    np.testing.assert_array_equal(back.apply(Xn), refs)


# ---- sizes ------------------------------------------------------------------------------------
def _pad4(n: int) -> int:
    return (n + 3) // 4 * 4


def test_digits_forest_device_bytes(capsys):
    """The benchmark's forest (benchmarks/bench_trees.py): bytes of the model arrays per leaf kind,
    against the counts taken from scikit-learn's trees."""
    X, y = datasets.load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=42)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=1).fit(Xtr, ytr)
    rows, exact = [], set()
    for t in est.estimators_:
        leaf = t.tree_.children_left == -1
        for r, w in zip(t.tree_.value[leaf, 0], t.tree_.weighted_n_node_samples[leaf]):
            rows.append(r)
            if r.max() < 1:
                exact.add(tuple(Fraction(int(round(v * w)), int(w)) for v in r))
    rint8 = {tuple(np.rint(r / r.sum() * 255).astype(int)) for r in rows}
    rint8 = {r for r in rint8 if max(r) < 255}
    expect_payloads = {None: len(exact), 8: len(rint8), 0: 0}
    expect_bytes = {None: sum(3 + 3 * sum(1 for v in r if v) for r in exact),
                    8: sum(3 + 3 * sum(1 for v in r if v) for r in rint8), 0: 0}
    report = []
    for leaf_bits in (0, None, 8):
        m = emlmpy.convert(est, leaf_bits=leaf_bits)
        assert m.n_nodes == n_inner(est) + m.n_pass_through + n_padding(m)
        assert m.n_payloads == expect_payloads[leaf_bits] and m.payload_bytes == expect_bytes[leaf_bits]
        arrays = 8 * m.n_nodes + _pad4(2 * m.n_trees)
        if m.leaf_kind == 1:
            arrays += _pad4(2 * m.n_payloads) + _pad4(m.payload_bytes)
        assert m.device_bytes == arrays == len(m.save(format="bin")) - 32
        info = m.info()
        assert info["device_bytes"] == arrays and info["n_pass_through"] == m.n_pass_through
        assert info["device"] == f"emltrees.load(f)  or  emltrees.new(10, {m.n_nodes}, {m.n_payloads})"
        report.append(f"leaf_bits={leaf_bits}: nodes {m.n_nodes} (pass-through {m.n_pass_through}), "
                      f"payloads {m.n_payloads} ({m.payload_bytes} B), device_bytes {m.device_bytes}")
        if leaf_bits != 0:
            np.testing.assert_array_equal(m.predict(Xte), est.predict(Xte))
    with capsys.disabled():
        print("\ndigits forest: " + "; ".join(report))


# ---- k-NN --------------------------------------------------------------------------------------
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
    # NaN keys are exactly those of the page's test (uint32)(k - 0x7f800001) <= 0x00fffffd
    raw = np.random.default_rng(2).integers(0, 2 ** 32, 20000, dtype=np.uint64).astype(np.uint32)
    raw = np.concatenate([raw, np.array([0x7F800000, 0x7F800001, 0x7FFFFFFF, 0xFF800000, 0xFF800001,
                                         0xFFFFFFFF], np.uint32)])
    k = K.float32_keys(raw.view(np.float32)).astype(np.int64)
    nan_by_key = ((k - 0x7F800001) & 0xFFFFFFFF) <= 0x00FFFFFD
    np.testing.assert_array_equal(nan_by_key, np.isnan(raw.view(np.float32)))


# ---- refusals ----------------------------------------------------------------------------------
def test_convert_errors():
    X, y = split("iris")[0], split("iris")[2]
    with pytest.raises(emlmpy.ConversionError, match="unsupported estimator SVC.*"
                       "RandomForestClassifier"):
        emlmpy.convert(SVC().fit(X, y))
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


def test_convert_refusals_are_conversion_errors():
    """What the format cannot hold is refused with a ConversionError (never numpy's OverflowError
    or an internal exception)."""
    # > 8191 features, with a split on feature 69999 (>= 65536: used to overflow uint16)
    Xw = np.zeros((40, 70000), np.float32)
    yw = np.arange(40) % 2
    Xw[:, 69999] = yw
    wide = DecisionTreeClassifier().fit(Xw, yw)
    assert wide.tree_.feature[0] == 69999
    with pytest.raises(emlmpy.ConversionError, match="8191"):
        emlmpy.convert(wide)
    # a regressor leaf value beyond float32
    with pytest.raises(emlmpy.ConversionError, match="float32"):
        emlmpy.convert(DecisionTreeRegressor().fit(np.arange(4.0).reshape(-1, 1), [1e39, 1e39, 0, 0]))
    # k-NN with more classes than a file holds
    many = KNeighborsClassifier(n_neighbors=1).fit(np.arange(70000.0).reshape(-1, 1), np.arange(70000))
    with pytest.raises(emlmpy.ConversionError, match="70000 classes"):
        emlmpy.convert(many)
    # leaf values that are no ratios of integer counts (fractional sample weights): name leaf_bits=8
    Xi, yi = datasets.load_iris(return_X_y=True)
    w = np.random.default_rng(0).random(len(yi))
    est = DecisionTreeClassifier(max_depth=2, random_state=0).fit(Xi, yi, sample_weight=w)
    with pytest.raises(emlmpy.ConversionError, match="leaf_bits=8"):
        emlmpy.convert(est)
    m8 = emlmpy.convert(est, leaf_bits=8)
    np.testing.assert_array_equal(m8.predict(Xi), est.predict(Xi))
    # uniform fractional weights keep exact ratios
    half = DecisionTreeClassifier(max_depth=2, random_state=0).fit(Xi, yi, sample_weight=np.full(len(yi), 0.5))
    mh = emlmpy.convert(half)
    assert mh.n_payloads > 0
    np.testing.assert_allclose(mh.predict_proba(Xi), half.predict_proba(Xi), atol=1e-7)


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xor_model.csv"]
    loaded = emlmpy.load(tmp_path / "xor_model.csv")
    assert loaded.same_as(cmodel)
    grid = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(loaded.predict(grid), estimator.predict(grid))
    np.testing.assert_array_equal(loaded.predict(grid), [0, 0, 1, 1])
