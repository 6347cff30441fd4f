"""cores/emlc_knn: k-NN against scikit-learn's KNeighborsClassifier(algorithm='brute'), exact int16
distances at the extremes, documented tie rules, argument errors.

Documented tie cases (see cores/emlc_knn.h): the core takes the k smallest (distance, index) pairs
and breaks vote ties towards the lowest label, like scikit-learn. The only samples where the two
may legitimately disagree are those whose neighbour set is not determined by the distances:
  - int16: the k-th and (k+1)-th smallest exact distances are equal (the set depends on how equal
    distances are ordered; the core uses the lower index, scikit-learn's heap does the same when it
    scans items in order, but its threaded "parallel on Y" strategy may merge heaps differently);
  - float32: the k-th and (k+1)-th exact (float64) distances lie within the core's float32 rounding
    error of each other, |d_k - d_k+1| <= 2 (n_features + 3) u d_k+1 with u = 2^-24 (a float32 sum
    of n squared float32 differences has relative error <= (n + 3) u; factor 2 for both sides).
The tests compute these ambiguous samples and assert every disagreement (label or neighbour set) is
one of them.
"""
from __future__ import annotations

import ctypes as C

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

import ccore
import cdsp
from cdsp import (ERR_CAPACITY, ERR_KIND, ERR_NULL, ERR_SIZE, ERR_STATE, KNN_F32, KNN_I16, OK, KnnResult,
                  KnnT, fptr)

U = 2.0 ** -24
KS = (1, 2, 3, 4, 5, 7) if not ccore.SANITIZED else (1, 4)


class Knn:
    """A store over numpy-owned memory, filled with (X, y)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, dtype: int, capacity: int | None = None) -> None:
        self.np_dtype = np.int16 if dtype == KNN_I16 else np.float32
        self.dtype = dtype
        n_items, n_features = X.shape
        cap = capacity or n_items
        self.data = np.zeros((cap, n_features), dtype=self.np_dtype)
        self.labels = np.zeros(cap, dtype=np.int16)
        self.m = KnnT()
        L = cdsp.lib()
        assert L.emlc_knn_init(C.byref(self.m), dtype, n_features, cap, fptr(self.data), self.data.size,
                               fptr(self.labels), cap) == OK
        add = L.emlc_knn_add_i16 if dtype == KNN_I16 else L.emlc_knn_add_f32
        for row, label in zip(np.ascontiguousarray(X, dtype=self.np_dtype), y):
            assert add(C.byref(self.m), fptr(row), n_features, int(label)) == OK
        assert self.m.n_items == n_items

    def predict(self, x: np.ndarray, k: int) -> tuple[int, list[tuple[int, int, int]]]:
        x = np.ascontiguousarray(x, dtype=self.np_dtype)
        res = (KnnResult * k)()
        label = C.c_int16(-999)
        fn = cdsp.lib().emlc_knn_predict_i16 if self.dtype == KNN_I16 else cdsp.lib().emlc_knn_predict_f32
        assert fn(C.byref(self.m), fptr(x), x.size, k, C.addressof(res), C.addressof(label)) == OK
        return label.value, [(r.index, r.dist, r.label) for r in res]


def quantize(X: np.ndarray, name: str) -> np.ndarray:
    """Integer features for the int16 store: digits as is (0..16); iris x10 (exact: one decimal);
    wine per-feature standardised and scaled to +-30000 (large values, exact float64 arithmetic in
    scikit-learn because all sums stay < 2^53)."""
    if name == "digits":
        return X.astype(np.int16)
    if name == "iris":
        return np.round(X * 10).astype(np.int16)
    z = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.round(z / np.abs(z).max(axis=0) * 30000).astype(np.int16)


DATASETS = {"iris": load_iris, "wine": load_wine, "digits": load_digits}


def sorted_distances(Xtr: np.ndarray, Xte: np.ndarray) -> np.ndarray:
    """Exact squared distances (float64 of float32/int16 differences; sums of <= 64 terms of <= 48
    bits, exact for int16 data, ~1e-16 relative for float32), sorted per test sample."""
    a, b = Xtr.astype(np.float64), Xte.astype(np.float64)
    rows = [((b[i:i + 32, None, :] - a[None, :, :]) ** 2).sum(axis=2) for i in range(0, len(b), 32)]
    return np.sort(np.concatenate(rows), axis=1)


def ambiguous(dsorted: np.ndarray, k: int, rel: float) -> np.ndarray:
    """Per test sample: True if the k-th and (k+1)-th distances are within rel (0: equal)."""
    if k >= dsorted.shape[1]:
        return np.zeros(len(dsorted), dtype=bool)
    dk, dk1 = dsorted[:, k - 1], dsorted[:, k]
    return (dk1 - dk) <= rel * dk1


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("dtype", [KNN_I16, KNN_F32], ids=["int16", "float32"])
def test_vs_sklearn(name: str, dtype: int) -> None:
    X, y = DATASETS[name](return_X_y=True)
    if dtype == KNN_I16:
        X = quantize(X, name)
        rel = 0.0
    else:
        X = X.astype(np.float32)
        rel = 2 * (X.shape[1] + 3) * U
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    if ccore.SANITIZED:
        Xte = Xte[:40]
    Xtr, Xte = np.ascontiguousarray(Xtr), np.ascontiguousarray(Xte)
    store = Knn(Xtr, ytr, dtype)
    dsorted = sorted_distances(Xtr, Xte)
    summary = []
    for k in KS:
        clf = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(Xtr, ytr)
        ref = clf.predict(Xte)
        ref_idx = np.sort(clf.kneighbors(Xte, return_distance=False), axis=1)
        amb = ambiguous(dsorted, k, rel)
        got = []
        for i, x in enumerate(Xte):
            label, res = store.predict(x, k)
            got.append(label)
            idx = [r[0] for r in res]
            dists = [r[1] for r in res]
            # results sorted by (dist, index), labels are the items' labels
            assert sorted(zip(dists, idx)) == list(zip(dists, idx))
            assert [r[2] for r in res] == [int(ytr[j]) for j in idx]
            if not amb[i]:
                assert sorted(idx) == list(ref_idx[i]), (name, k, i)
        got = np.array(got)
        disagree = got != ref
        assert not (disagree & ~amb).any(), (name, k, np.flatnonzero(disagree & ~amb))
        summary.append((k, int(amb.sum()), int(disagree.sum())))
    print(name, dtype, "(k, ambiguous, disagreements):", summary)


def exact_ref(Xtr: np.ndarray, ytr: np.ndarray, x: np.ndarray, k: int) -> tuple[int, list[int], np.ndarray]:
    """The documented rule in numpy: exact int64 distances, stable sort (lower index first on equal
    distance), majority vote with ties to the lowest label."""
    d = ((Xtr.astype(np.int64) - x.astype(np.int64)) ** 2).sum(axis=1)
    order = np.argsort(d, kind="stable")[:k]
    labels, counts = np.unique(ytr[order], return_counts=True)
    return int(labels[np.argmax(counts)]), [int(i) for i in order], d


def test_exact_rule_with_many_ties() -> None:
    """Digits (integers 0..16, many exact ties) and tiny-range data: identical to the documented rule."""
    rng = np.random.default_rng(1)
    for n_features, hi, n_labels in [(64, 17, 10), (3, 3, 4), (1, 2, 3)]:
        Xtr = rng.integers(0, hi, size=(120, n_features)).astype(np.int16)
        ytr = rng.integers(-2, n_labels - 2, size=120).astype(np.int16)  # negative labels too
        store = Knn(Xtr, ytr, KNN_I16)
        for _ in range(60):
            x = rng.integers(0, hi, size=n_features).astype(np.int16)
            for k in (1, 2, 4, 6, 9):
                label, res = store.predict(x, k)
                ref_label, ref_idx, d = exact_ref(Xtr, ytr, x, k)
                assert [r[0] for r in res] == ref_idx
                assert [r[1] for r in res] == [int(d[i]) for i in ref_idx]
                assert label == ref_label


def test_int16_extremes_exact() -> None:
    rng = np.random.default_rng(2)
    ext = np.array([-32768, -32767, 32767, 0, -1, 1], dtype=np.int16)
    for n_features in (1, 2, 7, 1000):
        Xtr = rng.choice(ext, size=(50, n_features)).astype(np.int16)
        Xtr[0] = 32767
        Xtr[1] = -32768
        ytr = np.arange(50, dtype=np.int16)
        store = Knn(Xtr, ytr, KNN_I16)
        for x in [np.full(n_features, -32768, np.int16), np.full(n_features, 32767, np.int16),
                  rng.choice(ext, size=n_features).astype(np.int16)]:
            _, res = store.predict(x, 50)
            d = ((Xtr.astype(np.int64) - x.astype(np.int64)) ** 2).sum(axis=1)
            got = {r[0]: r[1] for r in res}
            assert got == {i: int(d[i]) for i in range(50)}
    # the largest possible distance: 65535 features, each difference 65535 -> 65535^3 (> 2^47)
    n = 65535
    store = Knn(np.full((1, n), -32768, np.int16), np.array([5], np.int16), KNN_I16)
    label, res = store.predict(np.full(n, 32767, np.int16), 1)
    assert label == 5 and res[0][1] == 65535 ** 3


def test_float32_distances_bitexact() -> None:
    """The float32 distance is the sequential float32 sum of float32 squared differences."""
    rng = np.random.default_rng(3)
    Xtr = (rng.standard_normal((40, 13)) * 10).astype(np.float32)
    ytr = rng.integers(0, 3, size=40).astype(np.int16)
    store = Knn(Xtr, ytr, KNN_F32)
    for _ in range(20):
        x = (rng.standard_normal(13) * 10).astype(np.float32)
        _, res = store.predict(x, 40)
        diff = (x[None, :] - Xtr).astype(np.float32)
        ref = np.cumsum(diff * diff, axis=1, dtype=np.float32)[:, -1]  # cumsum is sequential
        for idx, dist, _label in res:
            r = KnnResult(dist=dist)
            assert cdsp.lib().emlc_knn_dist_f32(C.byref(r)) == ref[idx]
            assert np.uint64(ref[idx].view(np.uint32)) == dist
    # NaN inputs sort after every finite distance and do not crash
    x = np.full(13, np.nan, np.float32)
    _, res = store.predict(x, 3)
    assert [r[0] for r in res] == [0, 1, 2]


def test_float32_beyond_float32_squares_like_sklearn() -> None:
    """Inputs whose squared distances exceed float32 (|d| >= ~1.8e19) still find scikit-learn's
    neighbours (issue: all distances became inf and the first item won), and report +inf."""
    store = Knn(np.array([[0.0], [1e20]], np.float32), np.array([0, 1], np.int16), KNN_F32)
    label, res = store.predict(np.array([6e19], np.float32), 1)
    ref = KNeighborsClassifier(n_neighbors=1, algorithm="brute").fit([[0.0], [1e20]], [0, 1])
    assert label == int(ref.predict([[np.float32(6e19)]])[0]) == 1
    assert cdsp.lib().emlc_knn_dist_f32(C.byref(KnnResult(dist=res[0][1]))) == np.inf
    rng = np.random.default_rng(5)
    for scale in (1e17, 1e19, 1e25, 1e37):
        Xtr = (rng.standard_normal((60, 5)) * scale).astype(np.float32)
        Xtr[:3] = 0.0  # items at finite distance from small queries: before every overflowed one
        ytr = rng.integers(0, 4, size=60).astype(np.int16)
        store = Knn(Xtr, ytr, KNN_F32)
        Xte = (rng.standard_normal((30, 5)) * scale).astype(np.float32)
        d = sorted_distances(Xtr, Xte)
        for k in (1, 3):
            sk = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(Xtr.astype(np.float64), ytr)
            want = sk.predict(Xte.astype(np.float64))
            amb = ambiguous(d, k, 2 * (5 + 3) * U)
            got = np.array([store.predict(x, k)[0] for x in Xte])
            assert np.all((got == want) | amb), (scale, k)
            assert np.count_nonzero(got == want) >= 0.9 * len(Xte)


def test_vote_ties_lowest_label() -> None:
    L = cdsp.lib()
    res = (KnnResult * 6)()
    for r, lab in zip(res, [7, -3, 7, 2, -3, 2]):
        r.label = lab
    out = C.c_int16()
    assert L.emlc_knn_vote(C.addressof(res), 6, C.addressof(out)) == OK and out.value == -3
    assert L.emlc_knn_vote(C.addressof(res), 4, C.addressof(out)) == OK and out.value == 7
    assert L.emlc_knn_vote(C.addressof(res), 2, C.addressof(out)) == OK and out.value == -3


def test_errors() -> None:
    L = cdsp.lib()
    m = KnnT()
    data = np.zeros((4, 3), np.int16)
    fdata = np.zeros((4, 3), np.float32)
    labels = np.zeros(4, np.int16)
    init = L.emlc_knn_init
    assert init(None, KNN_I16, 3, 4, fptr(data), 12, fptr(labels), 4) == ERR_NULL
    assert init(C.byref(m), KNN_I16, 3, 4, None, 12, fptr(labels), 4) == ERR_NULL
    assert init(C.byref(m), KNN_I16, 3, 4, fptr(data), 12, None, 4) == ERR_NULL
    assert init(C.byref(m), 2, 3, 4, fptr(data), 12, fptr(labels), 4) == ERR_KIND
    assert init(C.byref(m), KNN_I16, 0, 4, fptr(data), 12, fptr(labels), 4) == ERR_SIZE
    assert init(C.byref(m), KNN_I16, 65536, 4, fptr(data), 1 << 20, fptr(labels), 4) == ERR_SIZE
    assert init(C.byref(m), KNN_I16, 3, 0, fptr(data), 12, fptr(labels), 4) == ERR_SIZE
    assert init(C.byref(m), KNN_I16, 3, 1 << 32, fptr(data), 12, fptr(labels), 4) == ERR_SIZE
    assert init(C.byref(m), KNN_I16, 3, 4, fptr(data), 11, fptr(labels), 4) == ERR_CAPACITY
    assert init(C.byref(m), KNN_I16, 3, 4, fptr(data), 12, fptr(labels), 3) == ERR_CAPACITY
    assert init(C.byref(m), KNN_I16, 3, 4, fptr(data), 12, fptr(labels), 4) == OK

    x = np.array([1, 2, 3], np.int16)
    fx = x.astype(np.float32)
    res = (KnnResult * 5)()
    out = C.c_int16()
    # a zeroed (never initialised) store is rejected, not dereferenced
    assert L.emlc_knn_add_i16(C.byref(KnnT()), fptr(x), 3, 1) == ERR_NULL
    assert L.emlc_knn_kneighbors_f32(C.byref(KnnT()), fptr(fx), 3, 1, C.addressof(res)) == ERR_NULL
    kn, pr = L.emlc_knn_kneighbors_i16, L.emlc_knn_predict_i16
    assert kn(C.byref(m), fptr(x), 3, 1, C.addressof(res)) == ERR_STATE  # empty store
    assert pr(C.byref(m), fptr(x), 3, 1, C.addressof(res), C.addressof(out)) == ERR_STATE
    add = L.emlc_knn_add_i16
    assert add(None, fptr(x), 3, 1) == ERR_NULL
    assert add(C.byref(m), None, 3, 1) == ERR_NULL
    assert add(C.byref(m), fptr(x), 2, 1) == ERR_SIZE
    assert L.emlc_knn_add_f32(C.byref(m), fptr(fx), 3, 1) == ERR_KIND
    for i in range(4):
        assert add(C.byref(m), fptr(x), 3, i) == OK
    assert add(C.byref(m), fptr(x), 3, 9) == ERR_CAPACITY
    assert kn(None, fptr(x), 3, 1, C.addressof(res)) == ERR_NULL
    assert kn(C.byref(m), None, 3, 1, C.addressof(res)) == ERR_NULL
    assert kn(C.byref(m), fptr(x), 3, 1, None) == ERR_NULL
    assert kn(C.byref(m), fptr(x), 4, 1, C.addressof(res)) == ERR_SIZE
    assert kn(C.byref(m), fptr(x), 3, 0, C.addressof(res)) == ERR_SIZE
    assert kn(C.byref(m), fptr(x), 3, 5, C.addressof(res)) == ERR_SIZE  # k > n_items
    assert L.emlc_knn_kneighbors_f32(C.byref(m), fptr(fx), 3, 1, C.addressof(res)) == ERR_KIND
    assert L.emlc_knn_predict_f32(C.byref(m), fptr(fx), 3, 1, C.addressof(res), C.addressof(out)) == ERR_KIND
    assert pr(C.byref(m), fptr(x), 3, 1, C.addressof(res), None) == ERR_NULL
    assert pr(C.byref(m), fptr(x), 3, 4, C.addressof(res), C.addressof(out)) == OK and out.value == 0
    assert L.emlc_knn_vote(None, 1, C.addressof(out)) == ERR_NULL
    assert L.emlc_knn_vote(C.addressof(res), 1, None) == ERR_NULL
    assert L.emlc_knn_vote(C.addressof(res), 0, C.addressof(out)) == ERR_SIZE
    assert L.emlc_knn_clear(None) == ERR_NULL
    assert L.emlc_knn_clear(C.byref(m)) == OK and m.n_items == 0
    assert kn(C.byref(m), fptr(x), 3, 1, C.addressof(res)) == ERR_STATE
    # float32 store: same checks through the other entry points
    assert init(C.byref(m), KNN_F32, 3, 4, fptr(fdata), 12, fptr(labels), 4) == OK
    assert add(C.byref(m), fptr(x), 3, 1) == ERR_KIND
    assert L.emlc_knn_add_f32(C.byref(m), fptr(fx), 3, 1) == OK
    assert L.emlc_knn_add_f32(C.byref(m), fptr(fx), 4, 1) == ERR_SIZE
    assert kn(C.byref(m), fptr(x), 3, 1, C.addressof(res)) == ERR_KIND
    assert L.emlc_knn_kneighbors_f32(C.byref(m), fptr(fx), 3, 2, C.addressof(res)) == ERR_SIZE
    assert L.emlc_knn_kneighbors_f32(C.byref(m), fptr(fx), 3, 1, C.addressof(res)) == OK
    assert res[0].dist == 0 and res[0].index == 0 and res[0].label == 1


def test_cross_compiles() -> None:
    """cores/emlc_knn.c builds warning-free for every natmod cross compiler, without libm, double or division
    helpers (ccore.check_portable)."""
    ccore.check_portable("emlc_knn.c")


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (run in unicorn) returns the same neighbours, distances and labels."""
    m = ccore.Armv6m(["emlc_knn.c"])
    res_dtype = np.dtype([("dist", "<u8"), ("index", "<u4"), ("label", "<i2"), ("pad", "V2")])  # 16 bytes
    rng = np.random.default_rng(9)
    for dtype, np_dtype in ((KNN_I16, np.int16), (KNN_F32, np.float32)):
        Xtr = rng.integers(-32768, 32768, size=(60, 9)).astype(np_dtype)
        ytr = rng.integers(-3, 4, size=60).astype(np.int16)
        st = m.alloc(20)  # emlc_knn_t is 20 bytes on armv6m
        data, labels = m.alloc(Xtr.nbytes), m.alloc(2 * 60)
        assert m.call("emlc_knn_init", st, dtype, 9, 60, data, Xtr.size, labels, 60) == OK
        suffix = "i16" if dtype == KNN_I16 else "f32"
        for row, lab in zip(Xtr, ytr):
            assert m.call(f"emlc_knn_add_{suffix}", st, m.alloc(row.tobytes()), 9, int(lab)) == OK
        host = Knn(Xtr, ytr, dtype)
        for k in (1, 4, 9):
            x = rng.integers(-32768, 32768, size=9).astype(np_dtype)
            res, out = m.alloc(16 * k), m.alloc(4)
            assert m.call(f"emlc_knn_predict_{suffix}", st, m.alloc(x.tobytes()), 9, k, res, out) == OK
            got = np.frombuffer(m.read(res, 16 * k), dtype=res_dtype)
            label, ref = host.predict(x, k)
            assert int.from_bytes(m.read(out, 2), "little", signed=True) == label
            assert [(int(r["index"]), int(r["dist"]), int(r["label"])) for r in got] == ref


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
