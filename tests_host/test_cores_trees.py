"""cores/emlc_trees.*: predictions against scikit-learn, the validator, and a sanitizer fuzz run.

The fuzz part runs in a child process (ccore.run_sanitized) with the ASan/UBSan build of the
cores; that child imports this module and calls fuzz_main().
"""

from __future__ import annotations

import ctypes as C
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ccore  # noqa: E402
import treeconv as tc  # noqa: E402
from treeconv import TreeArrays  # noqa: E402

OK, ERR_NULL, ERR_SIZE, ERR_CHILD, ERR_FEATURE, ERR_CLASS, ERR_CYCLE, ERR_ROOT, ERR_KIND = (
    0, -1, -2, -4, -5, -6, -7, -8, -9)


class CTrees(C.Structure):
    _fields_ = [("n_features", C.c_uint16), ("n_outputs", C.c_uint16), ("n_trees", C.c_uint16),
                ("input", C.c_uint8), ("leaf_kind", C.c_uint8), ("n_nodes", C.c_uint16),
                ("n_leaves", C.c_uint16), ("thresholds", C.c_void_p), ("features", C.c_void_p),
                ("children", C.c_void_p), ("roots", C.c_void_p), ("leaves", C.c_void_p)]


def _ptr(a: np.ndarray | None) -> int | None:
    return None if a is None or a.size == 0 else a.ctypes.data


@lru_cache(maxsize=None)
def lib() -> C.CDLL:
    L = ccore.load()
    vp, sz = C.c_void_p, C.c_size_t
    sigs = {
        "emlc_trees_validate": [vp],
        "emlc_trees_leaf": [vp, C.c_uint16, vp, vp],
        "emlc_trees_predict": [vp, vp, vp],
        "emlc_trees_proba": [vp, vp, vp, sz],
        "emlc_trees_predict_proba": [vp, vp, vp, sz, vp],
        "emlc_trees_regress": [vp, vp, vp],
        "emlc_trees_predict_many": [vp, vp, sz, vp],
        "emlc_trees_regress_many": [vp, vp, sz, vp],
    }
    for name, args in sigs.items():
        fn = getattr(L, name)
        fn.argtypes, fn.restype = args, C.c_int
    L.emlc_trees_key_f32.argtypes, L.emlc_trees_key_f32.restype = [C.c_float], C.c_int32
    return L


class Core:
    """A TreeArrays bound to the C struct (keeps the arrays alive while in use)."""

    def __init__(self, m: TreeArrays, **override: int):
        self.m = m
        self.arrays = [np.ascontiguousarray(a) for a in
                       (m.thresholds, m.features, m.children, m.roots, m.leaves)]
        head = dict(n_features=m.n_features, n_outputs=m.n_outputs, n_trees=m.n_trees,
                    input=m.input, leaf_kind=m.leaf_kind, n_nodes=m.n_nodes,
                    n_leaves=m.n_leaves)
        head.update(override)
        self.s = CTrees(**head, **dict(zip(("thresholds", "features", "children", "roots",
                                            "leaves"), map(_ptr, self.arrays))))
        self.p = C.addressof(self.s)

    def x(self, X: np.ndarray) -> np.ndarray:
        dt = np.int16 if self.s.input == tc.INPUT_I16 else np.float32
        return np.ascontiguousarray(X, dtype=dt)

    def validate(self) -> int:
        return lib().emlc_trees_validate(self.p)

    def predict_many(self, X: np.ndarray) -> np.ndarray:
        X = self.x(X)
        out = np.full(len(X), -99, dtype=np.int32)
        assert lib().emlc_trees_predict_many(self.p, X.ctypes.data, len(X), out.ctypes.data) == OK
        return out

    def regress_many(self, X: np.ndarray) -> np.ndarray:
        X = self.x(X)
        out = np.full(len(X), np.nan, dtype=np.float32)
        assert lib().emlc_trees_regress_many(self.p, X.ctypes.data, len(X), out.ctypes.data) == OK
        return out

    def predict(self, row: np.ndarray) -> int:
        out = C.c_int32(-99)
        assert lib().emlc_trees_predict(self.p, self.x(row).ctypes.data, C.byref(out)) == OK
        return out.value

    def regress(self, row: np.ndarray) -> float:
        out = C.c_float(np.nan)
        assert lib().emlc_trees_regress(self.p, self.x(row).ctypes.data, C.byref(out)) == OK
        return out.value

    def proba(self, row: np.ndarray) -> np.ndarray:
        out = np.full(self.s.n_outputs, np.nan, dtype=np.float32)
        r = lib().emlc_trees_proba(self.p, self.x(row).ctypes.data, out.ctypes.data, len(out))
        assert r == OK
        return out

    def predict_proba(self, row: np.ndarray) -> tuple[int, np.ndarray]:
        out = np.full(self.s.n_outputs, np.nan, dtype=np.float32)
        cls = C.c_int32(-99)
        r = lib().emlc_trees_predict_proba(self.p, self.x(row).ctypes.data, out.ctypes.data, len(out),
                                           C.byref(cls))
        assert r == OK
        return cls.value, out

    def leaf(self, tree: int, row: np.ndarray) -> int:
        out = C.c_int32(-99)
        assert lib().emlc_trees_leaf(self.p, tree, self.x(row).ctypes.data, C.byref(out)) == OK
        return out.value


# ---------------------------------------------------------------- data and models (cached)

@lru_cache(maxsize=None)
def dataset(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    if name == "many":
        X, y = datasets.make_classification(n_samples=600, n_features=200, n_informative=30,
                                            n_classes=4, random_state=1)
    elif name == "many_reg":
        X, y = datasets.make_regression(n_samples=400, n_features=200, n_informative=40,
                                        noise=1.0, random_state=2)
    else:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=0)
    return Xtr, Xte.astype(np.float32), ytr, yte


MODELS = {
    "dt": ("DecisionTreeClassifier", dict()),
    "rf": ("RandomForestClassifier", dict(n_estimators=12, max_leaf_nodes=60)),
    "et": ("ExtraTreesClassifier", dict(n_estimators=12, max_depth=9)),
    "rf_full": ("RandomForestClassifier", dict(n_estimators=10)),  # pure leaves: many exact ties
}
REG_MODELS = {
    "dt": ("DecisionTreeRegressor", dict(max_depth=8)),
    "rf": ("RandomForestRegressor", dict(n_estimators=12, max_depth=8)),
    "et": ("ExtraTreesRegressor", dict(n_estimators=12, max_leaf_nodes=80)),
}
CLF_DATA = ["iris", "wine", "breast_cancer", "digits", "many"]
REG_DATA = ["diabetes", "many_reg"]


@lru_cache(maxsize=None)
def fitted(data: str, model: str):
    import sklearn.ensemble
    import sklearn.tree
    cls_name, kw = (REG_MODELS if data in REG_DATA else MODELS)[model]
    mod = sklearn.tree if cls_name.startswith("Decision") else sklearn.ensemble
    Xtr, _, ytr, _ = dataset(data)
    return getattr(mod, cls_name)(random_state=0, **kw).fit(Xtr, ytr)


def hard_vote(est, X: np.ndarray) -> np.ndarray:
    """numpy reference for CLASS leaves: each tree votes its argmax class, lowest index wins ties."""
    trees = getattr(est, "estimators_", [est])
    votes = np.zeros((len(X), len(est.classes_)), dtype=np.int64)
    for t in trees:
        votes[np.arange(len(X)), np.argmax(t.predict_proba(X), axis=1)] += 1
    return np.argmax(votes, axis=1)


def leaf_numbers(est, X: np.ndarray) -> np.ndarray:
    """[n_trees, n_samples] our leaf numbers, from scikit-learn's own apply() (not the C walk)."""
    out, base = [], 0
    for t in getattr(est, "estimators_", [est]):
        is_leaf = t.tree_.children_left < 0
        out.append((np.cumsum(is_leaf) - 1 + base)[t.apply(X)])
        base += int(is_leaf.sum())
    return np.array(out)


def contract_sums(est, m: TreeArrays, X: np.ndarray) -> np.ndarray:
    """docs/model-format.md "Aggregation" in numpy float32: sum over trees in order, from 0.0f."""
    leaves = leaf_numbers(est, X)
    acc = np.zeros((len(X), m.n_outputs), dtype=np.float32)
    for lt in leaves:
        v = m.leaves[lt].reshape(len(X), -1)
        term = (v.astype(np.float32) / np.float32(255)) if m.leaf_kind == tc.LEAF_PROBA8 else v
        acc = (acc + term.astype(np.float32)).astype(np.float32)
    return acc


# ---------------------------------------------------------------- predictions vs scikit-learn

@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("data", CLF_DATA)
def test_classifier_proba_leaves_match_sklearn(data: str, model: str) -> None:
    est = fitted(data, model)
    _, Xte, _, _ = dataset(data)
    m = tc.convert(est, tc.LEAF_PROBA)
    core = Core(m)
    assert core.validate() == OK
    got = core.predict_many(Xte)
    np.testing.assert_array_equal(est.classes_[got], est.predict(Xte))
    proba = np.array([core.proba(row) for row in Xte])
    np.testing.assert_allclose(proba, est.predict_proba(Xte), rtol=0, atol=1e-6)
    # bit-exact against the float32 aggregation contract
    sums = contract_sums(est, m, Xte)
    np.testing.assert_array_equal(got, np.argmax(sums, axis=1))
    np.testing.assert_array_equal(proba, sums / np.float32(m.n_trees))
    assert [core.predict(row) for row in Xte[:20]] == list(got[:20])


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("data", CLF_DATA)
def test_classifier_class_leaves_hard_vote(data: str, model: str) -> None:
    est = fitted(data, model)
    _, Xte, _, _ = dataset(data)
    core = Core(tc.convert(est, tc.LEAF_CLASS))
    assert core.validate() == OK
    ref = hard_vote(est, Xte)
    np.testing.assert_array_equal(core.predict_many(Xte), ref)
    if model == "dt":
        np.testing.assert_array_equal(est.classes_[ref], est.predict(Xte))
    trees = getattr(est, "estimators_", [est])
    votes = np.zeros((len(Xte), len(est.classes_)), dtype=np.int64)
    for t in trees:
        votes[np.arange(len(Xte)), np.argmax(t.predict_proba(Xte), axis=1)] += 1
    frac = votes.astype(np.float32) / np.float32(len(trees))  # contract: (float)votes / n_trees
    for row, f in zip(Xte[:25], frac[:25]):
        np.testing.assert_array_equal(core.proba(row), f)


@pytest.mark.parametrize("data", ["iris", "digits", "many"])
def test_classifier_proba8_leaves(data: str) -> None:
    est = fitted(data, "rf")
    _, Xte, _, _ = dataset(data)
    m = tc.convert(est, tc.LEAF_PROBA8)
    core = Core(m)
    assert core.validate() == OK
    q = np.zeros((len(Xte), len(est.classes_)))
    for t in est.estimators_:  # leaf proportions as stored in the tree, rounded to 1/255
        v = t.tree_.value[t.apply(Xte), 0, :]
        q += np.round(v / v.sum(axis=1, keepdims=True) * 255)
    np.testing.assert_array_equal(m.leaves[leaf_numbers(est, Xte)].sum(axis=0), q)
    sums = contract_sums(est, m, Xte)
    got = core.predict_many(Xte)
    np.testing.assert_array_equal(got, np.argmax(sums, axis=1))
    for row, ref in zip(Xte[:25], sums[:25] / np.float32(m.n_trees)):
        np.testing.assert_array_equal(core.proba(row), ref)
    # 8-bit proportions still agree with scikit-learn on nearly all samples
    assert np.mean(est.classes_[got] == est.predict(Xte)) >= 0.97


@pytest.mark.parametrize("kind", [tc.LEAF_CLASS, tc.LEAF_PROBA, tc.LEAF_PROBA8])
def test_predict_proba_in_one_walk_equals_predict_and_proba(kind: int) -> None:
    est = fitted("digits", "rf")
    _, Xte, _, _ = dataset("digits")
    core = Core(tc.convert(est, kind))
    for row in Xte[:60]:
        cls, p = core.predict_proba(row)
        assert cls == core.predict(row)
        np.testing.assert_array_equal(p, core.proba(row))


@pytest.mark.parametrize("model", list(REG_MODELS))
@pytest.mark.parametrize("data", REG_DATA)
def test_regressor_matches_sklearn(data: str, model: str) -> None:
    est = fitted(data, model)
    _, Xte, _, yte = dataset(data)
    core = Core(tc.convert(est))
    assert core.validate() == OK
    ref = est.predict(Xte)
    got = core.regress_many(Xte)
    np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-6 * np.abs(ref).max())
    m = core.m
    np.testing.assert_array_equal(got, contract_sums(est, m, Xte)[:, 0] / np.float32(m.n_trees))
    assert [core.regress(r) for r in Xte[:10]] == list(got[:10])


@pytest.mark.parametrize("kind", [tc.LEAF_PROBA, tc.LEAF_CLASS])
@pytest.mark.parametrize("model", list(MODELS))
def test_int16_digits_agree(model: str, kind: int) -> None:
    est = fitted("digits", model)
    _, Xte, _, _ = dataset("digits")
    assert np.array_equal(Xte, np.round(Xte))  # integer-valued features: scale 1, offset 0 exact
    core = Core(tc.convert(est, kind, input=tc.INPUT_I16))
    assert core.validate() == OK
    got = core.predict_many(tc.quantize(Xte))
    ref = est.predict(Xte) if kind == tc.LEAF_PROBA else est.classes_[hard_vote(est, Xte)]
    np.testing.assert_array_equal(est.classes_[got], ref)


def test_leaf_index_matches_sklearn_apply() -> None:
    est = fitted("breast_cancer", "et")
    _, Xte, _, _ = dataset("breast_cancer")
    m = tc.convert(est)
    core = Core(m)
    base = 0
    for i, t in enumerate(est.estimators_):
        is_leaf = t.tree_.children_left < 0
        number = np.cumsum(is_leaf) - 1 + base  # our leaf number of each sklearn leaf node
        ref = number[t.apply(Xte[:40])]
        np.testing.assert_array_equal([core.leaf(i, r) for r in Xte[:40]], ref)
        base += int(is_leaf.sum())


def test_model_near_the_int16_limits() -> None:
    """~31000 decision nodes and leaves: child references and byte offsets near their limits."""
    from sklearn.ensemble import ExtraTreesClassifier
    rng = np.random.default_rng(0)
    X = rng.standard_normal((14000, 6)).astype(np.float32)
    est = ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, rng.integers(0, 3, len(X)))
    m = tc.convert(est, tc.LEAF_CLASS)
    assert 29000 < m.n_nodes <= 32767 and m.n_leaves <= 32768
    core = Core(m)
    assert core.validate() == OK
    Xt = rng.standard_normal((3000, 6)).astype(np.float32)
    np.testing.assert_array_equal(core.predict_many(Xt), hard_vote(est, Xt))
    last = m.n_trees - 1
    ref = leaf_numbers(est, Xt[:200])[last]
    np.testing.assert_array_equal([core.leaf(last, r) for r in Xt[:200]], ref)
    bigger = ExtraTreesClassifier(n_estimators=4, random_state=0).fit(X, rng.integers(0, 3, len(X)))
    with pytest.raises(ValueError):
        tc.convert(bigger)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # sklearn's finiteness check sums 3e38s
def test_thresholds_exact_at_float32_neighbours() -> None:
    """Inputs at and next to every threshold, plus zeros, subnormals and huge values."""
    from sklearn.tree import DecisionTreeClassifier
    rng = np.random.default_rng(5)
    tiny = np.float32(1.4e-45)
    specials = np.array([0.0, -0.0, tiny, -tiny, 1e-38, -1e-38, 3e38, -3e38, 1.0, -1.0],
                        dtype=np.float32)
    X = np.concatenate([rng.choice(specials, size=(300, 4)),
                        rng.standard_normal((300, 4)).astype(np.float32) * 1e-3], axis=0)
    y = rng.integers(0, 3, len(X))
    est = DecisionTreeClassifier(random_state=0).fit(X, y)
    t = est.tree_
    inner = t.children_left >= 0
    probes = []
    for f, thr in zip(t.feature[inner], t.threshold[inner]):
        c = np.float32(thr)
        near = [c, np.nextafter(c, np.float32(np.inf)), np.nextafter(c, np.float32(-np.inf))]
        for v in near + [np.nextafter(near[1], np.float32(np.inf))]:
            row = X[rng.integers(len(X))].copy()
            row[f] = v
            probes.append(row)
    P = np.concatenate([np.array(probes, dtype=np.float32), X])
    core = Core(tc.convert(est, tc.LEAF_PROBA))
    assert core.validate() == OK
    np.testing.assert_array_equal(est.classes_[core.predict_many(P)], est.predict(P))


def test_key_f32_is_monotonic_and_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    bits = rng.integers(-(2**31), 2**31, 4000, dtype=np.int64).astype(np.int32)
    x = bits.view(np.float32)
    x = np.concatenate([x[~np.isnan(x)], np.array([0.0, -0.0, np.inf, -np.inf], np.float32)])
    got = np.array([lib().emlc_trees_key_f32(float(v)) for v in x], dtype=np.int32)
    np.testing.assert_array_equal(got, tc.key_f32(x))
    assert tc.key_f32(np.float32(-0.0)) == -1 and tc.key_f32(np.float32(0.0)) == 0
    order = np.lexsort((got, x.astype(np.float64)))  # by value, then -0.0 before +0.0
    dx, dk = np.diff(x[order].astype(np.float64)), np.diff(got[order].astype(np.int64))
    assert np.all(dk[dx > 0] > 0) and np.all(dk >= 0)


# ---------------------------------------------------------------- validator and argument checks

def small_model(kind: int = tc.LEAF_CLASS) -> TreeArrays:
    """Two trees: tree 0 = nodes 0..2 (leaves 0..3), tree 1 = a single leaf (leaf 4)."""
    leaves = (np.array([0, 1, 2, 1, 0], np.uint8) if kind == tc.LEAF_CLASS
              else np.eye(3, dtype=np.float32)[[0, 1, 2, 1, 0]])
    return TreeArrays(
        n_features=3, n_outputs=3, input=tc.INPUT_F32, leaf_kind=kind,
        thresholds=tc.key_f32(np.array([0.5, 1.5, -2.0], np.float32)),
        features=np.array([0, 1, 2], np.uint16),
        children=np.array([1, 2, -1, -2, -3, -4], np.int16),
        roots=np.array([0, -5], np.int16), leaves=leaves)


def broken(**changes) -> TreeArrays:
    m = small_model()
    for name, (idx, val) in changes.items():
        arr = getattr(m, name).copy()
        arr[idx] = val
        setattr(m, name, arr)
    return m


@pytest.mark.parametrize("m, override, code", [
    (small_model(), {}, OK),
    (small_model(tc.LEAF_PROBA), {}, OK),
    (broken(children=(1, 3)), {}, ERR_CHILD),         # node 3 does not exist
    (broken(children=(3, -6)), {}, ERR_CHILD),        # leaf 5 does not exist
    (broken(children=(2, 0)), {}, ERR_CYCLE),         # node 1 -> node 0 -> node 1
    (broken(children=(0, 0)), {}, ERR_CYCLE),         # self loop
    (broken(children=(4, 1)), {}, ERR_CYCLE),         # node 2 -> node 1 (backwards)
    (broken(features=(2, 3)), {}, ERR_FEATURE),
    (broken(roots=(0, 3)), {}, ERR_ROOT),
    (broken(roots=(1, -6)), {}, ERR_ROOT),
    (broken(leaves=(4, 3)), {}, ERR_CLASS),
    (small_model(), {"leaf_kind": 4}, ERR_KIND),
    (small_model(), {"input": 2}, ERR_KIND),
    (small_model(), {"n_trees": 0}, ERR_SIZE),
    (small_model(), {"n_features": 0}, ERR_SIZE),
    (small_model(), {"n_leaves": 0}, ERR_SIZE),
    (small_model(), {"n_outputs": 300}, ERR_SIZE),
    (small_model(tc.LEAF_PROBA), {"leaf_kind": tc.LEAF_VALUE}, ERR_SIZE),  # VALUE needs 1 output
    (small_model(), {"roots": None}, ERR_NULL),
    (small_model(), {"children": None}, ERR_NULL),
])
def test_validator_codes(m: TreeArrays, override: dict, code: int) -> None:
    core = Core(m, **{k: v for k, v in override.items() if k != "roots" and k != "children"})
    for k in ("roots", "children"):
        if k in override:
            setattr(core.s, k, None)
    assert core.validate() == code


def test_small_model_predicts_by_hand() -> None:
    core = Core(small_model())
    # x0 <= 0.5 -> node 1: x1 <= 1.5 -> leaf 0 (class 0); else leaf 1 (class 1)
    # x0 > 0.5 -> node 2: x2 <= -2 -> leaf 2 (class 2); else leaf 3 (class 1); tree 1: class 0
    cases = [([0.5, 1.5, 0], 0, [1.0, 0, 0]), ([0.5, 1.6, 0], 0, [0.5, 0.5, 0]),
             ([0.6, 0, -2.0], 0, [0.5, 0, 0.5]), ([0.6, 0, -1.9], 0, [0.5, 0.5, 0])]
    for x, cls, proba in cases:
        row = np.array(x, np.float32)
        assert core.predict(row) == cls
        np.testing.assert_allclose(core.proba(row), proba)
    assert core.leaf(1, np.zeros(3, np.float32)) == 4


def test_nan_inputs_follow_the_documented_rule() -> None:
    """model-format.md: a positive NaN goes right at every node, a negative NaN left."""
    core = Core(small_model())
    pos = np.float32(np.nan)
    neg = np.frombuffer(np.uint32(0xFFC00000).tobytes(), np.float32)[0]
    assert np.isnan(neg) and np.signbit(neg) and not np.signbit(pos)
    assert core.leaf(0, np.array([pos, 0, pos], np.float32)) == 3  # right, right
    assert core.leaf(0, np.array([neg, neg, 0], np.float32)) == 0  # left, left


def test_argument_errors() -> None:
    L = lib()
    core = Core(small_model())
    x = np.zeros(3, np.float32)
    out = C.c_int32()
    val = C.c_float()
    pr = np.zeros(3, np.float32)
    assert L.emlc_trees_validate(None) == ERR_NULL
    assert L.emlc_trees_predict(None, x.ctypes.data, C.byref(out)) == ERR_NULL
    assert L.emlc_trees_predict(core.p, None, C.byref(out)) == ERR_NULL
    assert L.emlc_trees_predict(core.p, x.ctypes.data, None) == ERR_NULL
    assert L.emlc_trees_regress(core.p, x.ctypes.data, C.byref(val)) == ERR_KIND
    assert L.emlc_trees_proba(core.p, x.ctypes.data, pr.ctypes.data, 2) == ERR_SIZE
    assert L.emlc_trees_leaf(core.p, 2, x.ctypes.data, C.byref(out)) == ERR_SIZE
    assert L.emlc_trees_predict_many(core.p, x.ctypes.data, 0, C.byref(out)) == OK
    reg = Core(tc.convert(fitted("diabetes", "dt")))
    xr = np.zeros(10, np.float32)
    assert L.emlc_trees_predict(reg.p, xr.ctypes.data, C.byref(out)) == ERR_KIND
    assert L.emlc_trees_proba(reg.p, xr.ctypes.data, pr.ctypes.data, 3) == ERR_KIND


# ---------------------------------------------------------------- fuzz under ASan/UBSan

HEAD = np.dtype([("n_features", "<u2"), ("n_outputs", "<u2"), ("n_trees", "<u2"),
                 ("input", "u1"), ("leaf_kind", "u1"), ("n_nodes", "<u2"), ("n_leaves", "<u2")])
LEAF_DTYPE = {tc.LEAF_CLASS: (np.uint8, 1), tc.LEAF_PROBA: (np.float32, 0),
              tc.LEAF_VALUE: (np.float32, 1), tc.LEAF_PROBA8: (np.uint8, 0)}


def serialize(m: TreeArrays) -> bytes:
    h = np.array([(m.n_features, m.n_outputs, m.n_trees, m.input, m.leaf_kind, m.n_nodes,
                   m.n_leaves)], dtype=HEAD)
    return b"".join(a.tobytes() for a in (h, m.thresholds, m.features, m.children, m.roots,
                                          m.leaves))


def deserialize(blob: bytes) -> TreeArrays | None:
    """Arrays sized exactly by the (possibly mutated) header, or None if the blob is too short."""
    h = np.frombuffer(blob[:HEAD.itemsize], dtype=HEAD)[0]
    kind = int(h["leaf_kind"])
    ldt, width = LEAF_DTYPE.get(kind, (np.uint8, 1))
    width = width or int(h["n_outputs"])
    n, nl = int(h["n_nodes"]), int(h["n_leaves"])
    parts, pos = [], HEAD.itemsize
    for dt, count in ((np.int32, n), (np.uint16, n), (np.int16, 2 * n),
                      (np.int16, int(h["n_trees"])), (ldt, nl * width)):
        size = np.dtype(dt).itemsize * count
        if pos + size > len(blob):
            return None
        parts.append(np.frombuffer(blob[pos:pos + size], dtype=dt).copy())  # exact-size buffer
        pos += size
    if kind in (tc.LEAF_PROBA, tc.LEAF_PROBA8):
        parts[-1] = parts[-1].reshape(nl, width)  # so that len(leaves) == n_leaves
    return TreeArrays(int(h["n_features"]), int(h["n_outputs"]), int(h["input"]), kind, *parts)


def fuzz_main(npz: str, count: int, seed: int) -> None:
    """Mutate the models in npz `count` times each; validate; predict on accepted ones."""
    rng = np.random.default_rng(seed)
    data = np.load(npz)
    stats = {"rejected": 0, "accepted": 0, "short": 0}
    for key in sorted(k for k in data.files if k.startswith("model")):
        blob0 = data[key].tobytes()
        X = data["x" + key[5:]]
        for _ in range(count):
            b = bytearray(blob0)
            r = rng.random()
            if r < 0.15:  # header byte
                b[rng.integers(HEAD.itemsize)] = rng.integers(256)
            elif r < 0.5:  # child reference set to a plausible value
                m0 = deserialize(bytes(b))
                assert m0 is not None
                i = HEAD.itemsize + 6 * m0.n_nodes + 2 * rng.integers(max(1, 2 * m0.n_nodes))
                v = int(rng.integers(-m0.n_leaves - 2, m0.n_nodes + 2))
                b[i:i + 2] = int(v).to_bytes(2, "little", signed=True)
            else:
                for _ in range(int(rng.integers(1, 5))):
                    b[rng.integers(len(b))] = rng.integers(256)
            m = deserialize(bytes(b))
            if m is None:
                stats["short"] += 1
                continue
            core = Core(m)
            if core.validate() != OK:
                stats["rejected"] += 1
                continue
            stats["accepted"] += 1
            nf = m.n_features
            rows = np.resize(X, (3, nf)) if X.size else np.zeros((3, nf))
            rows = rows.astype(np.int16 if m.input == tc.INPUT_I16 else np.float32)
            for t in range(min(m.n_trees, 4)):
                assert 0 <= core.leaf(t, rows[0]) < m.n_leaves
            if m.leaf_kind == tc.LEAF_VALUE:
                core.regress_many(rows)
            else:
                assert np.all((core.predict_many(rows) >= 0)
                              & (core.predict_many(rows) < m.n_outputs))
                core.proba(rows[1])
    print("FUZZ", stats)


def test_fuzz_mutations_under_sanitizers() -> None:
    models = {
        "0": (tc.convert(fitted("iris", "rf"), tc.LEAF_CLASS), dataset("iris")[1]),
        "1": (tc.convert(fitted("wine", "et"), tc.LEAF_PROBA), dataset("wine")[1]),
        "2": (tc.convert(fitted("diabetes", "dt")), dataset("diabetes")[1]),
        "3": (tc.convert(fitted("digits", "dt"), tc.LEAF_PROBA8, input=tc.INPUT_I16),
              dataset("digits")[1]),
        "4": (small_model(), np.zeros((1, 3), np.float32)),
    }
    with tempfile.TemporaryDirectory() as d:
        npz = str(Path(d) / "models.npz")
        arrays = {}
        for k, (m, X) in models.items():
            arrays["model" + k] = np.frombuffer(serialize(m), np.uint8)
            arrays["x" + k] = X[:3]
        np.savez(npz, **arrays)
        code = ("import sys; sys.argv = ['fuzz']; import test_cores_trees as t; "
                f"t.fuzz_main({npz!r}, 1500, 7)")
        res = ccore.run_sanitized(["-c", code], timeout=60)  # a non-terminating walk times out
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    assert "FUZZ" in res.stdout
    stats = eval(res.stdout.split("FUZZ", 1)[1].strip())
    assert stats["accepted"] > 500 and stats["rejected"] > 500, stats


def test_sklearn_models_under_sanitizers() -> None:
    """The prediction paths on real models, run once with ASan/UBSan (same checks as above)."""
    code = ("import test_cores_trees as t\n"
            "t.test_classifier_proba_leaves_match_sklearn('digits', 'rf')\n"
            "t.test_classifier_class_leaves_hard_vote('many', 'et')\n"
            "t.test_classifier_proba8_leaves('wine')\n"
            "t.test_regressor_matches_sklearn('diabetes', 'rf')\n"
            "t.test_int16_digits_agree('rf', 0)\n"
            "t.test_thresholds_exact_at_float32_neighbours()\n"
            "assert t.ccore.flavour() == 'asan'\n"
            "print('SANITIZED OK')\n")
    res = ccore.run_sanitized(["-c", code])
    assert res.returncode == 0 and "SANITIZED OK" in res.stdout, res.stderr[-6000:]
