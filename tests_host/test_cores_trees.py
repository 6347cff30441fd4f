"""cores/emlc_trees.* and cores/emlc_load.*: predictions against scikit-learn, the binary file
checks, and a sanitizer fuzz run (docs/model-format.md version 2).

Models come from tests_host/treeconv.py (an implementation of the format independent of emlmpy)
as binary files, loaded through the C loader's two calls exactly as the device glue does. The
references are scikit-learn itself and the documented aggregation computed in numpy from
scikit-learn's own apply() (treeconv.reference), never from our walk. The fuzz part runs in a
child process (ccore.run_sanitized) with the ASan/UBSan build of the cores. (~630 lines: the
file-rule tables of the binary format are here, one case per rule.)
"""

from __future__ import annotations

import ctypes as C
import struct
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import ccore
import treeconv as tc

OK, ERR_NULL, ERR_SIZE, ERR_CAPACITY, ERR_CHILD, ERR_FEATURE, ERR_CLASS = 0, -1, -2, -3, -4, -5, -6
ERR_ROOT, ERR_KIND, ERR_FORMAT, ERR_VALUE, ERR_VERSION = -8, -9, -10, -11, -12


class CTrees(C.Structure):
    _fields_ = [("n_features", C.c_uint16), ("n_outputs", C.c_uint16), ("n_trees", C.c_uint16),
                ("n_nodes", C.c_uint16), ("n_payloads", C.c_uint16), ("input", C.c_uint8),
                ("leaf_kind", C.c_uint8), ("has_labels", C.c_uint8), ("payload_bytes", C.c_uint32),
                ("nodes", C.c_void_p), ("roots", C.c_void_p), ("offsets", C.c_void_p), ("payload", C.c_void_p),
                ("values", C.c_void_p), ("scale", C.c_void_p), ("offset", C.c_void_p), ("labels", C.c_void_p)]


class CError(C.Structure):
    _fields_ = [("where", C.c_uint32), ("reason", C.c_char_p)]


class CWhere(C.Structure):
    _fields_ = [("section", C.c_uint8), ("index", C.c_uint32)]


@lru_cache(maxsize=None)
def lib() -> C.CDLL:
    L = ccore.load()
    vp, sz = C.c_void_p, C.c_size_t
    for name, args in {"emlc_load_header": [vp, vp, vp, vp], "emlc_load_check": [vp, vp, vp],
                       "emlc_trees_validate": [vp, vp], "emlc_trees_leaf": [vp, C.c_uint16, vp, vp],
                       "emlc_trees_predict": [vp, vp, vp, sz, vp]}.items():
        fn = getattr(L, name)
        fn.argtypes, fn.restype = args, C.c_int
    L.emlc_trees_bind.argtypes, L.emlc_trees_bind.restype = [vp, vp], None
    L.emlc_trees_key_f32.argtypes, L.emlc_trees_key_f32.restype = [C.c_float], C.c_int32
    return L


class LoadError(Exception):
    def __init__(self, code: int, where: int, reason: str) -> None:
        super().__init__(f"{code} at {where}: {reason}")
        self.code, self.where, self.reason = code, where, reason


class Core:
    """A binary model file loaded by the C loader as the device does: header, one block, check."""

    def __init__(self, blob: bytes) -> None:
        L = lib()
        self.s, e, size = CTrees(), CError(), C.c_uint32()
        if len(blob) < 32:  # as the device glue reports a short stream
            raise LoadError(ERR_FORMAT, len(blob), "truncated file")
        hdr = (C.c_uint8 * 32).from_buffer_copy(blob[:32].ljust(32, b"\0"))
        rc = L.emlc_load_header(hdr, C.byref(self.s), C.byref(size), C.byref(e))
        if rc != OK:
            raise LoadError(rc, e.where, e.reason.decode())
        body = blob[32:size.value]
        if len(body) < size.value - 32:  # as the device glue reports a short stream
            raise LoadError(ERR_FORMAT, len(blob), "truncated file")
        self.block = (C.c_uint8 * max(1, len(body))).from_buffer_copy(body.ljust(1, b"\0"))
        L.emlc_trees_bind(C.byref(self.s), self.block)
        rc = L.emlc_load_check(C.byref(self.s), self.block, C.byref(e))
        if rc != OK:
            raise LoadError(rc, e.where, e.reason.decode())
        self.p = C.addressof(self.s)

    def x(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(X, dtype=np.int16 if self.s.input == tc.INPUT_I16 else np.float32)

    def predict(self, row: np.ndarray, with_out: bool = False) -> tuple[int, np.ndarray | None]:
        cls = C.c_int32(-99)
        out = np.full(self.s.n_outputs, np.nan, np.float32) if with_out else None
        rc = lib().emlc_trees_predict(self.p, self.x(row).ctypes.data, None if out is None else out.ctypes.data,
                                      0 if out is None else len(out), C.byref(cls))
        assert rc == OK, rc
        return cls.value, out

    def classes(self, X: np.ndarray) -> np.ndarray:
        return np.array([self.predict(r)[0] for r in X])

    def outputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(class, probabilities or value) per row, from predict with out (one walk)."""
        got = [self.predict(r, with_out=True) for r in X]
        return np.array([c for c, _ in got]), np.array([o for _, o in got], np.float32)

    def leaf(self, tree: int, row: np.ndarray) -> int:
        out = C.c_uint32(99999)
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
    votes = np.zeros((len(X), len(est.classes_)), dtype=np.int64)
    for t in getattr(est, "estimators_", [est]):
        votes[np.arange(len(X)), np.argmax(t.predict_proba(X), axis=1)] += 1
    return np.argmax(votes, axis=1)


# ---------------------------------------------------------------- predictions vs scikit-learn

@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("data", CLF_DATA)
def test_classifier_proba_leaves_match_sklearn(data: str, model: str) -> None:
    est = fitted(data, model)
    _, Xte, _, _ = dataset(data)
    m = tc.convert(est)
    core = Core(m.blob())
    cls, proba = core.outputs(Xte)
    np.testing.assert_array_equal(est.classes_[cls], est.predict(Xte))
    np.testing.assert_array_equal(core.classes(Xte), cls)  # without out: the same class
    ref_cls, ref_p = tc.reference(est, m, Xte)
    np.testing.assert_array_equal(cls, ref_cls)
    np.testing.assert_array_equal(proba, ref_p)  # bit for bit: the documented float32 sums
    np.testing.assert_allclose(proba, est.predict_proba(Xte), rtol=0, atol=1e-6)


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("data", CLF_DATA)
def test_classifier_class_leaves_hard_vote(data: str, model: str) -> None:
    est = fitted(data, model)
    _, Xte, _, _ = dataset(data)
    m = tc.convert(est, tc.LEAF_CLASS)
    assert m.n_pass_through == 0 and m.n_payloads == 0  # class leaves live in the nodes
    core = Core(m.blob())
    cls, proba = core.outputs(Xte)
    np.testing.assert_array_equal(cls, hard_vote(est, Xte))
    np.testing.assert_array_equal(proba, tc.reference(est, m, Xte)[1])


def test_pass_through_nodes_predict_like_the_tree() -> None:
    """More than 256 distinct payloads: two-leaf nodes with big references use pass-through nodes."""
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=42)  # benchmarks/bench_trees.py
    Xte = Xte.astype(np.float32)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=1).fit(Xtr, ytr)
    m = tc.convert(est)
    assert m.n_pass_through > 20 and m.n_payloads > 256
    core = Core(m.blob())
    for t in range(m.n_trees):
        refs = tc.leaf_refs(est, m, Xte[:80])[t]
        np.testing.assert_array_equal([core.leaf(t, r) for r in Xte[:80]], refs)
    np.testing.assert_array_equal(est.classes_[core.classes(Xte)], est.predict(Xte))


@pytest.mark.parametrize("model", list(REG_MODELS))
@pytest.mark.parametrize("data", REG_DATA)
def test_regressor_matches_sklearn(data: str, model: str) -> None:
    est = fitted(data, model)
    _, Xte, _, _ = dataset(data)
    m = tc.convert(est)
    core = Core(m.blob())
    _, got = core.outputs(Xte)
    np.testing.assert_array_equal(got, tc.reference(est, m, Xte)[1])
    ref = est.predict(Xte)
    np.testing.assert_allclose(got[:, 0], ref, rtol=2e-6, atol=2e-6 * np.abs(ref).max())


@pytest.mark.parametrize("kind", [tc.LEAF_PROBA, tc.LEAF_CLASS])
@pytest.mark.parametrize("model", list(MODELS))
def test_int16_digits_agree(model: str, kind: int) -> None:
    est = fitted("digits", model)
    _, Xte, _, _ = dataset("digits")
    assert np.array_equal(Xte, np.round(Xte))  # integer-valued features: scale 1, offset 0 exact
    core = Core(tc.convert(est, kind, input=tc.INPUT_I16).blob())
    got = core.classes(tc.quantize(Xte))
    ref = est.predict(Xte) if kind == tc.LEAF_PROBA else est.classes_[hard_vote(est, Xte)]
    np.testing.assert_array_equal(est.classes_[got], ref)


def test_leaf_references_match_sklearn_apply() -> None:
    est = fitted("breast_cancer", "et")
    _, Xte, _, _ = dataset("breast_cancer")
    m = tc.convert(est)
    core = Core(m.blob())
    refs = tc.leaf_refs(est, m, Xte[:40])
    for t in range(m.n_trees):
        np.testing.assert_array_equal([core.leaf(t, r) for r in Xte[:40]], refs[t])


def test_model_near_the_node_limit() -> None:
    """~31000 decision nodes: node offsets and references near their limits."""
    from sklearn.ensemble import ExtraTreesClassifier
    rng = np.random.default_rng(0)
    X = rng.standard_normal((14000, 6)).astype(np.float32)
    est = ExtraTreesClassifier(n_estimators=3, random_state=0).fit(X, rng.integers(0, 3, len(X)))
    m = tc.convert(est, tc.LEAF_CLASS)
    assert 29000 < m.n_nodes <= 32767
    core = Core(m.blob())
    Xt = rng.standard_normal((1500, 6)).astype(np.float32)
    np.testing.assert_array_equal(core.classes(Xt), hard_vote(est, Xt))


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
    core = Core(tc.convert(est).blob())
    np.testing.assert_array_equal(est.classes_[core.classes(P)], est.predict(P))


def test_missing_values_go_where_sklearn_sends_them() -> None:
    """missing_left: NaN follows scikit-learn's learned direction at every node (float models)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier
    nan = np.nan
    est = DecisionTreeClassifier(random_state=0).fit([[nan], [nan], [0], [1], [2], [3], [4], [5]],
                                                     [0, 0, 0, 0, 1, 1, 1, 1])
    core = Core(tc.convert(est).blob())
    assert est.predict([[nan]])[0] == 0 and core.classes(np.array([[nan]]))[0] == 0
    rng = np.random.default_rng(3)
    X = rng.standard_normal((600, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    X[rng.random(X.shape) < 0.15] = nan
    rf = RandomForestClassifier(n_estimators=15, random_state=0).fit(X[:400], y[:400])
    core = Core(tc.convert(rf).blob())
    Xt = X[400:].astype(np.float32)
    np.testing.assert_array_equal(rf.classes_[core.classes(Xt)], rf.predict(Xt))
    neg_nan = np.frombuffer(np.uint32(0xFFC00000).tobytes(), np.float32)[0]
    Xn = Xt.copy()
    Xn[np.isnan(Xn)] = neg_nan  # the sign of a NaN does not matter
    np.testing.assert_array_equal(core.classes(Xn), core.classes(Xt))


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


# ---------------------------------------------------------------- the file checks

def small(kind: int = tc.LEAF_PROBA) -> tc.TreeV2:
    """Two trees. Tree 0: node 0 (x0 <= 0.5) -> node 1 (x1 <= 1.5: leaf A | leaf B), node 2
    (x2 <= -2: leaf C | leaf D); tree 1: a single leaf E. PROBA: A=class 0, B=payload 0
    (class 1: 3/4, class 2: 1/4), C=class 2, D=class 1, E=class 0."""
    LL, RL = tc.LEFT_LEAF, tc.RIGHT_LEAF
    keys = tc.key_f32(np.array([0.5, 1.5, -2.0], np.float32))
    nodes = np.array([(keys[0], 0 << 3, 2), (keys[1], 1 << 3 | LL | RL, 0 | 3 << 8), (keys[2], 2 << 3 | LL | RL, 2 | 1 << 8)],
                     dtype=tc.NODE)
    m = tc.TreeV2(n_features=3, n_outputs=3, input=tc.INPUT_F32, leaf_kind=kind, nodes=nodes,
                  roots=np.array([0, -1], np.int16))
    if kind == tc.LEAF_PROBA:
        m.offsets = np.array([0], np.uint16)
        m.payload = struct.pack("<BHBHBH", 2, 4, 1, 49152, 2, 16384)
    return m


def test_small_model_by_hand() -> None:
    core = Core(small().blob())
    cases = [([0.5, 1.5, 0], 0, [1.0, 0, 0]), ([0.5, 1.6, 0], 0, [0.5, 0.375, 0.125]),
             ([0.6, 0, -2.0], 0, [0.5, 0, 0.5]), ([0.6, 0, -1.9], 0, [0.5, 0.5, 0])]
    for x, cls, proba in cases:
        got_cls, got = core.predict(np.array(x, np.float32), with_out=True)
        assert got_cls == cls
        np.testing.assert_array_equal(got, np.array(proba, np.float32))
    # ties: classes 0 and 1 at 0.5 each -> the first
    assert core.leaf(1, np.zeros(3, np.float32)) == 0
    assert core.leaf(0, np.array([0.5, 1.6, 0], np.float32)) == 3  # n_outputs + payload 0


def patched(m: tc.TreeV2, what: str, index: int, value) -> bytes:
    """m's file with one element changed: nodes[index] = value (key, fk, c), roots, payload byte."""
    m2 = tc.TreeV2(**{k: getattr(m, k) for k in m.__dataclass_fields__})
    if what == "node":
        m2.nodes = m.nodes.copy()
        m2.nodes[index] = value
    elif what == "root":
        m2.roots = m.roots.copy()
        m2.roots[index] = value
    elif what == "payload":
        b = bytearray(m.payload)
        b[index] = value
        m2.payload = bytes(b)
    elif what == "offsets":
        m2.offsets = m.offsets.copy()
        m2.offsets[index] = value
    return m2.blob()


KEY = int(tc.key_f32(np.float32(0.5)))
NODE_AT = [32 + 8 * i for i in range(3)]


@pytest.mark.parametrize("what, index, value, code, where", [
    ("node", 0, (KEY, 3 << 3, 2), ERR_FEATURE, NODE_AT[0]),                  # feature 3 >= 3
    ("node", 0, (KEY, 0, 0), ERR_CHILD, NODE_AT[0]),                         # shape 0, c == 0
    ("node", 0, (KEY, 0, 3), ERR_CHILD, NODE_AT[0]),                         # right node 3 absent
    ("node", 2, (KEY, tc.LEFT_LEAF, 0), ERR_CHILD, NODE_AT[2]),              # right node i+1 absent
    ("node", 2, (KEY, tc.RIGHT_LEAF, 0), ERR_CHILD, NODE_AT[2]),             # left node i+1 absent
    ("node", 1, (KEY, tc.LEFT_LEAF | tc.RIGHT_LEAF, 4), ERR_CLASS, NODE_AT[1]),      # ref 4 >= 3 + 1
    ("node", 1, (KEY, tc.LEFT_LEAF | tc.RIGHT_LEAF, 4 << 8), ERR_CLASS, NODE_AT[1]),
    ("node", 1, (KEY, tc.LEFT_LEAF, 4), ERR_CLASS, NODE_AT[1]),
    ("root", 0, 3, ERR_ROOT, 32 + 24),
    ("root", 1, -5, ERR_ROOT, 32 + 24 + 2),
    ("offsets", 0, 9, ERR_VALUE, 32 + 24 + 4),                               # past the payload
    ("payload", 0, 0, ERR_VALUE, 32 + 24 + 4 + 4 + 0),                       # n = 0
    ("payload", 0, 4, ERR_VALUE, 32 + 24 + 4 + 4 + 0),                       # n > n_outputs
    ("payload", 1, 1, ERR_VALUE, 32 + 24 + 4 + 4 + 0),                       # w = 1
    ("payload", 3, 3, ERR_VALUE, 32 + 24 + 4 + 4 + 3),                       # class 3 >= 3
    ("payload", 6, 1, ERR_VALUE, 32 + 24 + 4 + 4 + 6),                       # classes not increasing
    ("payload", 4, 1, ERR_VALUE, 32 + 24 + 4 + 4 + 4),                       # q not canonical
    ("payload", 5, 0, ERR_VALUE, 32 + 24 + 4 + 4 + 4),                       # count 0
])
def test_each_rule_is_checked_and_located(what: str, index: int, value, code: int, where: int) -> None:
    with pytest.raises(LoadError) as exc:
        Core(patched(small(), what, index, value))
    assert (exc.value.code, exc.value.where) == (code, where), exc.value


@pytest.mark.parametrize("field, value, code, where", [
    ("magic", b"EMLX", ERR_FORMAT, 0),
    ("magic", b"EMLK", ERR_KIND, 3),
    ("version", 1, ERR_VERSION, 4),
    ("version", 3, ERR_VERSION, 4),
    ("input", 2, ERR_KIND, 6),
    ("leaf_kind", 3, ERR_KIND, 7),
    ("n_features", 0, ERR_SIZE, 8),
    ("n_features", 8192, ERR_SIZE, 8),
    ("n_outputs", 0, ERR_SIZE, 10),
    ("n_outputs", 257, ERR_SIZE, 10),
    ("n_trees", 0, ERR_SIZE, 12),
    ("n_nodes", 32768, ERR_SIZE, 14),
    ("n_payloads", 32766, ERR_SIZE, 16),  # 3 + 32766 references > 32768
    ("flags", 2, ERR_KIND, 18),
    ("payload_bytes", 65536, ERR_SIZE, 20),
    ("total", 0, ERR_SIZE, 24),
    ("reserved2", 1, ERR_FORMAT, 28),
])
def test_header_errors_name_the_field(field: str, value, code: int, where: int) -> None:
    with pytest.raises(LoadError) as exc:
        Core(small().blob(**{field: value}))
    assert (exc.value.code, exc.value.where) == (code, where), exc.value
    if field == "version" and value == 1:
        assert "re-save" in exc.value.reason


def test_header_counts_fit_the_leaf_kind() -> None:
    for kind, header, field in [(tc.LEAF_CLASS, dict(n_payloads=1), 16), (tc.LEAF_CLASS, dict(payload_bytes=4), 20)]:
        with pytest.raises(LoadError) as exc:
            Core(small(kind).blob(**header))
        assert (exc.value.code, exc.value.where) == (ERR_SIZE, field)
    reg = tc.convert(fitted("diabetes", "dt"))
    with pytest.raises(LoadError) as exc:
        Core(reg.blob(flags=1))  # labels on a regressor
    assert (exc.value.code, exc.value.where) == (ERR_KIND, 18)
    with pytest.raises(LoadError) as exc:
        Core(reg.blob(n_outputs=2))
    assert (exc.value.code, exc.value.where) == (ERR_SIZE, 10)
    with pytest.raises(LoadError) as exc:
        Core(reg.blob(n_payloads=0))
    assert (exc.value.code, exc.value.where) == (ERR_SIZE, 16)


def test_padding_and_values_are_checked() -> None:
    m = small()
    blob = bytearray(m.blob())
    pad = 32 + 24 + 4 + 2  # the offsets section is 2 bytes, padded to 4
    blob[pad] = 1
    with pytest.raises(LoadError) as exc:
        Core(bytes(blob))
    assert (exc.value.code, exc.value.where) == (ERR_FORMAT, pad)
    reg = tc.convert(fitted("diabetes", "dt"))
    reg.values = reg.values.copy()
    reg.values[2] = np.inf
    with pytest.raises(LoadError) as exc:
        Core(reg.blob())
    values_at = 32 + ((reg.n_nodes * 8 + 3) & ~3) + ((reg.n_trees * 2 + 3) & ~3)
    assert (exc.value.code, exc.value.where) == (ERR_VALUE, values_at + 8)
    q = tc.convert(fitted("digits", "dt"), input=tc.INPUT_I16)
    q.scale = q.scale.copy()
    q.scale[5] = 0.0
    with pytest.raises(LoadError) as exc:
        Core(q.blob())
    assert exc.value.code == ERR_VALUE


def test_argument_errors() -> None:
    L = lib()
    core = Core(small().blob())
    x = np.zeros(3, np.float32)
    out, cls = np.zeros(3, np.float32), C.c_int32()
    assert L.emlc_trees_validate(None, None) == ERR_NULL
    assert L.emlc_trees_predict(None, x.ctypes.data, None, 0, C.byref(cls)) == ERR_NULL
    assert L.emlc_trees_predict(core.p, None, None, 0, C.byref(cls)) == ERR_NULL
    assert L.emlc_trees_predict(core.p, x.ctypes.data, out.ctypes.data, 2, C.byref(cls)) == ERR_SIZE
    assert L.emlc_trees_predict(core.p, x.ctypes.data, None, 0, None) == OK  # class not wanted
    assert L.emlc_trees_leaf(core.p, 2, x.ctypes.data, C.byref(cls)) == ERR_SIZE
    reg = Core(tc.convert(fitted("diabetes", "dt")).blob())
    xr = np.zeros(10, np.float32)
    assert L.emlc_trees_predict(reg.p, xr.ctypes.data, None, 0, C.byref(cls)) == ERR_SIZE  # needs out


# ---------------------------------------------------------------- fuzz under ASan/UBSan

def fuzz_main(npz: str, count: int, seed: int) -> None:
    """Mutate the model files in npz `count` times each; load; predict on accepted ones."""
    rng = np.random.default_rng(seed)
    data = np.load(npz)
    stats = {"rejected": 0, "accepted": 0}
    for key in sorted(k for k in data.files if k.startswith("model")):
        blob0 = data[key].tobytes()
        X = data["x" + key[5:]]
        for _ in range(count):
            b = bytearray(blob0)
            r = rng.random()
            if r < 0.2:  # a header byte
                b[rng.integers(32)] = rng.integers(256)
            elif r < 0.6:  # a node's fk or c
                n = (len(b) - 32) // 8
                at = 32 + 8 * int(rng.integers(max(1, n))) + int(rng.integers(4, 8))
                b[min(at, len(b) - 1)] = rng.integers(256)
            else:
                for _ in range(int(rng.integers(1, 5))):
                    b[rng.integers(len(b))] = rng.integers(256)
            try:
                core = Core(bytes(b))
            except LoadError:
                stats["rejected"] += 1
                continue
            stats["accepted"] += 1
            nf, s = core.s.n_features, core.s
            rows = np.resize(X, (3, nf)).astype(np.int16 if s.input == tc.INPUT_I16 else np.float32)
            for t in range(min(s.n_trees, 4)):
                core.leaf(t, rows[0])
            for row in rows:
                cls, out = core.predict(row, with_out=True)
                assert 0 <= cls < max(1, s.n_outputs) and np.all(np.isfinite(out))
    print("FUZZ", stats)


def test_fuzz_mutations_under_sanitizers() -> None:
    models = {
        "0": (tc.convert(fitted("iris", "rf"), tc.LEAF_CLASS), dataset("iris")[1]),
        "1": (tc.convert(fitted("wine", "et")), dataset("wine")[1]),
        "2": (tc.convert(fitted("diabetes", "dt")), dataset("diabetes")[1]),
        "3": (tc.convert(fitted("digits", "dt"), input=tc.INPUT_I16), dataset("digits")[1]),
        "4": (small(), np.zeros((1, 3), np.float32)),
    }
    with tempfile.TemporaryDirectory() as d:
        npz = str(Path(d) / "models.npz")
        arrays = {}
        for k, (m, X) in models.items():
            arrays["model" + k] = np.frombuffer(m.blob(), np.uint8)
            arrays["x" + k] = X[:3]
        np.savez(npz, **arrays)
        code = ("import sys; sys.argv = ['fuzz']; import test_cores_trees as t; "
                f"t.fuzz_main({npz!r}, 1500, 7)")
        res = ccore.run_sanitized(["-c", code], timeout=120)  # a non-terminating walk times out
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    assert "FUZZ" in res.stdout
    stats = eval(res.stdout.split("FUZZ", 1)[1].strip())
    assert stats["accepted"] > 500 and stats["rejected"] > 500, stats


def test_sklearn_models_under_sanitizers() -> None:
    """The prediction paths on real models, run once with ASan/UBSan (same checks as above)."""
    code = ("import test_cores_trees as t\n"
            "t.test_classifier_proba_leaves_match_sklearn('digits', 'rf')\n"
            "t.test_classifier_class_leaves_hard_vote('many', 'et')\n"
            "t.test_pass_through_nodes_predict_like_the_tree()\n"
            "t.test_regressor_matches_sklearn('diabetes', 'rf')\n"
            "t.test_int16_digits_agree('rf', 0)\n"
            "t.test_missing_values_go_where_sklearn_sends_them()\n"
            "assert t.ccore.flavour() == 'asan'\n"
            "print('SANITIZED OK')\n")
    res = ccore.run_sanitized(["-c", code], timeout=300)
    assert res.returncode == 0 and "SANITIZED OK" in res.stdout, res.stderr[-6000:]


# ---------------------------------------------------------------- exact ties (scikit-learn's float64 vote)

def test_f64_arithmetic_is_exact() -> None:
    """cores/emlc_f64.c against IEEE-754 doubles (numpy/CPython floats)."""
    L = lib()
    u64, i32, u32 = C.c_uint64, C.c_int32, C.c_uint32
    L.emlc_f64_ratio.argtypes, L.emlc_f64_ratio.restype = [u64, i32, u32], u64
    L.emlc_f64_add.argtypes, L.emlc_f64_add.restype = [u64, u64], u64
    L.emlc_f64_div_int.argtypes, L.emlc_f64_div_int.restype = [u64, u32], u64
    bits = lambda v: struct.unpack("<Q", struct.pack("<d", v))[0]  # noqa: E731
    rng = np.random.default_rng(4)
    for _ in range(20000):
        w = int(rng.integers(1, 65536))
        c = int(rng.integers(0, w + 1))
        assert L.emlc_f64_ratio(c, 0, w) == bits(c / w), (c, w)
        a = float(rng.random() * 10.0 ** rng.integers(-5, 5))
        b = float(rng.random() * 10.0 ** rng.integers(-5, 5))
        assert L.emlc_f64_add(bits(a), bits(b)) == bits(a + b), (a, b)
        t = int(rng.integers(1, 32768))
        assert L.emlc_f64_div_int(bits(a), t) == bits(a / t), (a, t)
    for a, b in [(0.5, 0.5), (1 / 3, 2 / 3), (0.1, 0.2), (1.0, 2.0 ** -53), (1.0, 2.0 ** -52 + 2.0 ** -53)]:
        assert L.emlc_f64_add(bits(a), bits(b)) == bits(a + b), (a, b)


def test_exact_tie_of_the_issue() -> None:
    """ExtraTrees on make_classification: row 429 has 7/15 and 7/15 for classes 1 and 2; the float64
    sums decide (scikit-learn says 1; float32 sums said 2)."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import ExtraTreesClassifier
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=4, random_state=0)
    X = X.astype(np.float32)
    est = ExtraTreesClassifier(n_estimators=5, min_samples_leaf=2, random_state=0).fit(X[:400], y[:400])
    core = Core(tc.convert(est).blob())
    assert est.predict(X[429:430])[0] == 1 and core.classes(X[429:430])[0] == 1
    np.testing.assert_array_equal(est.classes_[core.classes(X)], est.predict(X))


@pytest.mark.parametrize("seed", range(4))
def test_small_leaf_forests_equal_sklearn_ties_included(seed: int) -> None:
    """Forests with small leaves (ties are common): 100% equal to scikit-learn's predict."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    rng = np.random.default_rng(seed)
    ties = 0
    for _ in range(6):
        n_classes = int(rng.integers(3, 11))
        X, y = make_classification(n_samples=500, n_features=8, n_informative=6, n_classes=n_classes,
                                   n_clusters_per_class=1, random_state=int(rng.integers(1 << 30)))
        X = X.astype(np.float32)
        cls = RandomForestClassifier if rng.random() < 0.5 else ExtraTreesClassifier
        est = cls(n_estimators=int(rng.integers(3, 21)), min_samples_leaf=int(rng.integers(1, 4)),
                  random_state=int(rng.integers(1 << 30))).fit(X[:300], y[:300])
        np.testing.assert_array_equal(est.classes_[Core(tc.convert(est).blob()).classes(X)], est.predict(X))
        p = est.predict_proba(X)
        top2 = np.sort(p, axis=1)[:, -2:]
        ties += int(np.sum(np.abs(top2[:, 1] - top2[:, 0]) < 1e-12))
    assert ties > 0  # the zoo does exercise exact ties


def test_class_labels_are_loaded() -> None:
    """The optional labels section (scikit-learn's integer classes_) lands in m->labels."""
    from sklearn.tree import DecisionTreeClassifier
    X, _, _, _ = dataset("iris")
    y = np.array([3, 7, 42])[np.arange(len(X)) % 3]
    est = DecisionTreeClassifier(random_state=0).fit(X, y)
    core = Core(tc.convert(est, labels=True).blob())
    assert core.s.has_labels == 1
    labels = np.ctypeslib.as_array(C.cast(core.s.labels, C.POINTER(C.c_int32)), shape=(3,))
    np.testing.assert_array_equal(labels, [3, 7, 42])
    np.testing.assert_array_equal(labels[core.classes(X.astype(np.float32))], est.predict(X))
