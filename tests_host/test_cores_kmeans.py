"""cores/emlc_kmeans: nearest-center prediction against scikit-learn's KMeans.predict (ties included),
Lloyd fits from scikit-learn's own init arrays against KMeans(init=<array>, n_init=1,
algorithm='lloyd'), the documented rules (float32 sums, empty clusters, k-means++ draws, the tol
stop) against a numpy transcription bit for bit, argument errors, ASan/UBSan and the Cortex-M0 build.

Where the core and scikit-learn may legitimately differ (cores/emlc_kmeans.h, docs/emlkmeans.md):
  - predict: a sample whose two nearest centers are at distances within float32 rounding of each
    other (the core sums float32 squared differences, scikit-learn computes |c|^2 - 2 x.c in
    float64). Bound used: d2 - d1 <= 2 (n_features + 3) u d2 + 1e-12 (|x|^2 + |c|^2), u = 2^-24,
    as for k-NN (tests_host/test_cores_knn.py).
  - fit: a run in which some iteration has a sample whose two nearest centers are within the float32
    rounding of the run so far (exact ties included: scikit-learn's fit subtracts the data's mean
    first and then breaks them by rounding), or a center shift within rounding of the tol threshold
    (bounds in `lockstep`). The test runs scikit-learn's Lloyd in float64 beside the core's float32
    procedure to find such runs, and requires every other run to agree with scikit-learn: same n_iter,
    same labels, centers and inertia within float32 rounding.
"""
from __future__ import annotations

import ctypes as C
from functools import lru_cache
import warnings
from fractions import Fraction

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, load_iris, make_blobs

import ccore
from ccore import ptr
import emlmpy
from kmeansref import U, lockstep, ref_fit, ref_plusplus

OK, ERR_NULL, ERR_SIZE, ERR_CAPACITY, ERR_KIND, ERR_VALUE = 0, -1, -2, -3, -9, -11
U8, I16, F32 = 0, 1, 2
NP = {U8: np.uint8, I16: np.int16, F32: np.float32}
LIMIT = 2.0 ** 40


class KmT(C.Structure):
    _fields_ = [("centers", C.c_void_p), ("n_clusters", C.c_uint16), ("n_features", C.c_uint16),
                ("dtype", C.c_uint8)]


_P, _Z = C.c_void_p, C.c_size_t
SIGNATURES = {
    "emlc_kmeans_init": ([C.POINTER(KmT), C.c_int, _Z, _Z, _P, _Z], C.c_int),
    "emlc_kmeans_check": ([_P, C.c_int, _Z], C.c_int),
    "emlc_kmeans_predict": ([C.POINTER(KmT), _P, _Z, _P, _P], C.c_int),
    "emlc_kmeans_init_plusplus": ([C.POINTER(KmT), _P, _Z, C.c_uint32], C.c_int),
    "emlc_kmeans_fit": ([C.POINTER(KmT), _P, _Z, C.c_uint32, C.c_float, _P, _Z, _P, _Z, _P, _P], C.c_int),
    "emlc_kmeans_recip": ([C.c_uint32], C.c_float),
}


@lru_cache(maxsize=None)
def lib() -> C.CDLL:
    return ccore.declare(SIGNATURES)


class Km:
    """A model over numpy-owned centers."""

    def __init__(self, n_clusters: int, n_features: int, dtype: int = F32,
                 centers: np.ndarray | None = None) -> None:
        self.dtype = dtype
        self.centers = np.zeros((n_clusters, n_features), np.float32)
        if centers is not None:
            self.centers[:] = centers
        self.m = KmT()
        assert lib().emlc_kmeans_init(C.byref(self.m), dtype, n_clusters, n_features, ptr(self.centers),
                                      self.centers.size) == OK

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.ascontiguousarray(X, dtype=NP[self.dtype]).reshape(-1, self.centers.shape[1])
        labels, dists = np.zeros(len(X), np.int64), np.zeros(len(X), np.float32)
        lab, dist = C.c_uint16(), C.c_float()
        for i, x in enumerate(X):
            assert lib().emlc_kmeans_predict(C.byref(self.m), ptr(x), x.size, C.byref(lab), C.byref(dist)) == OK
            labels[i], dists[i] = lab.value, dist.value
        return labels, dists

    def plusplus(self, X: np.ndarray, seed: int) -> int:
        X = np.ascontiguousarray(X, dtype=NP[self.dtype])
        return lib().emlc_kmeans_init_plusplus(C.byref(self.m), ptr(X), len(X), seed)

    def fit(self, X: np.ndarray, max_iter: int = 300, tol: float = 1e-4) -> tuple[int, float]:
        X = np.ascontiguousarray(X, dtype=NP[self.dtype])
        k = self.centers.shape[0]
        sums, counts = np.zeros(self.centers.size, np.float32), np.zeros(k, np.uint32)
        n_iter, inertia = C.c_uint32(), C.c_float()
        err = lib().emlc_kmeans_fit(C.byref(self.m), ptr(X), len(X), max_iter, tol, ptr(sums), sums.size,
                                    ptr(counts), k, C.byref(n_iter), C.byref(inertia))
        assert err == OK, err
        return n_iter.value, inertia.value


# ---------------------------------------------------------------- reciprocal
def nearest_f32(fr: Fraction) -> np.float32:
    """The float32 nearest to an exact fraction (1/n is never halfway between two floats unless it
    is a power of two, then exact)."""
    c = np.float32(float(fr))
    cands = [np.nextafter(c, np.float32(0)), c, np.nextafter(c, np.float32(2))]
    return min(cands, key=lambda v: abs(Fraction(float(v)) - fr))


def test_recip_is_correctly_rounded() -> None:
    L = lib()
    ns = list(range(1, 3000)) + [2 ** e + d for e in range(12, 31) for d in (-1, 0, 1, 3)]
    ns += np.random.default_rng(0).integers(1, 2 ** 31, size=1000).tolist()
    for n in ns:
        got = np.float32(L.emlc_kmeans_recip(n))
        assert got == nearest_f32(Fraction(1, n)), n
        if n < 2 ** 24:  # n exact in float32: the division numpy (and scikit-learn's float32) does
            assert got == np.float32(1) / np.float32(n), n
    assert L.emlc_kmeans_recip(0) == 0.0 and L.emlc_kmeans_recip(2 ** 31) == 0.0


# ---------------------------------------------------------------- predict
def sklearn_with_centers(centers32: np.ndarray) -> KMeans:
    """A fitted KMeans whose cluster_centers_ are the float32 centers (in float64): scikit-learn's
    predict with exactly the centers the device holds."""
    k, nf = centers32.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate centers: ConvergenceWarning
        km = KMeans(k, init=centers32.astype(np.float64), n_init=1, max_iter=1).fit(centers32.astype(np.float64))
    km.cluster_centers_ = centers32.astype(np.float64)
    return km


def ambiguous_predict(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    X64, C64 = X.astype(np.float64), centers.astype(np.float64)
    d = np.sort(((X64[:, None, :] - C64[None]) ** 2).sum(-1), axis=1)
    if d.shape[1] < 2:
        return np.zeros(len(X), bool)
    nf = X.shape[1]
    bound = 2 * (nf + 3) * U * d[:, 1] + 1e-12 * ((X64 ** 2).sum(1) + (C64 ** 2).sum(1).max())
    return (d[:, 1] - d[:, 0]) <= bound


def predict_cases():
    X, _ = load_iris(return_X_y=True)
    yield "iris", X.astype(np.float32), F32, 3
    Xd, _ = load_digits(return_X_y=True)
    yield "digits-u8", Xd.astype(np.uint8), U8, 10
    yield "digits-i16", (Xd * 100 - 800).astype(np.int16), I16, 7
    Xb, _ = make_blobs(3000, 5, centers=8, cluster_std=3.0, random_state=2)
    yield "blobs", (Xb * 1000).astype(np.float32), F32, 12
    rng = np.random.default_rng(1)
    yield "pixels", rng.integers(0, 256, size=(4000, 3)).astype(np.uint8), U8, 16


@pytest.mark.parametrize("case", list(predict_cases()), ids=lambda c: c[0])
def test_predict_vs_sklearn(case) -> None:
    name, X, dtype, k = case
    if ccore.SANITIZED:
        X = X[:300]
    sk = KMeans(k, n_init=1, random_state=0).fit(X.astype(np.float64))
    centers = sk.cluster_centers_.astype(np.float32)
    sk = sklearn_with_centers(centers)
    km = Km(k, X.shape[1], dtype, centers)
    got, dists = km.predict(X)
    want = sk.predict(X.astype(np.float64))
    amb = ambiguous_predict(X, centers)
    assert not ((got != want) & ~amb).any(), np.flatnonzero((got != want) & ~amb)
    # the host predictor is the device's, bit for bit (labels and distances)
    host = emlmpy.KMeansModel(centers)
    hd = host.distances(X)
    assert np.array_equal(host.predict(X), got)
    assert np.array_equal(hd[np.arange(len(X)), got].view(np.uint32), dists.view(np.uint32))
    print(name, "ambiguous", int(amb.sum()), "disagreements", int((got != want).sum()))


def test_predict_ties_lowest_index() -> None:
    """Exact ties (exact in both computations: integers and half-integers) go to the lowest index,
    as in scikit-learn's predict."""
    centers = np.array([[0, 0], [2, 0], [1, 2], [1, -2], [0, 0], [-1, 0]], np.float32)
    pts = np.array([[1, 0], [1, 1], [1, -1], [0, 0], [0.5, 0], [-0.5, 0], [1, 0.75], [3, 1], [1, 10]], np.float32)
    sk = sklearn_with_centers(centers)
    for dtype, X in ((F32, pts), (I16, pts[[0, 1, 2, 3, 7, 8]].astype(np.int16))):
        got, _ = Km(6, 2, dtype, centers).predict(X)
        want = sk.predict(X.astype(np.float64))
        assert got.tolist() == want.tolist(), (got, want)
    assert Km(6, 2, F32, centers).predict(pts)[0].tolist()[:6] == [0, 2, 3, 0, 0, 0]
    # many exact ties: integer pixels, integer centers on a grid
    rng = np.random.default_rng(4)
    grid = np.array([[a, b, c] for a in (0, 64, 128) for b in (0, 128) for c in (32, 96)], np.float32)
    X = rng.integers(0, 160, size=(3000, 3)).astype(np.uint8)
    got, _ = Km(len(grid), 3, U8, grid).predict(X)
    d = ((X.astype(np.int64)[:, None, :] - grid.astype(np.int64)[None]) ** 2).sum(-1)
    assert np.array_equal(got, np.argmin(d, axis=1))
    assert (np.sort(d, 1)[:, 0] == np.sort(d, 1)[:, 1]).sum() >= 50  # plenty of ties were decided
    assert np.array_equal(got, sklearn_with_centers(grid).predict(X.astype(np.float64)))


# ---------------------------------------------------------------- fit
def fit_cases():
    X, _ = load_iris(return_X_y=True)
    yield "iris", X.astype(np.float32), F32, 3
    Xb, _ = make_blobs(1500, 4, centers=6, random_state=1)
    yield "blobs", Xb.astype(np.float32), F32, 6
    Xd, _ = load_digits(return_X_y=True)
    yield "digits-u8", Xd.astype(np.uint8), U8, 10
    yield "digits-i16", ((Xd - 8) * 30).astype(np.int16), I16, 8
    Xb, _ = make_blobs(1000, 3, centers=5, cluster_std=1.5, random_state=4)
    yield "blobs-i16", np.round(Xb / np.abs(Xb).max() * 32000).astype(np.int16), I16, 5
    rng = np.random.default_rng(3)
    palette = rng.integers(0, 256, size=(6, 3))
    px = np.clip(palette[rng.integers(0, 6, 2000)] + rng.normal(0, 12, (2000, 3)), 0, 255)
    yield "pixels", px.astype(np.uint8), U8, 8


@pytest.mark.parametrize("case", list(fit_cases()), ids=lambda c: c[0])
def test_fit_vs_sklearn(case) -> None:
    name, X, dtype, k = case
    trials = 2 if ccore.SANITIZED else 6
    if ccore.SANITIZED:
        X = X[:400]
    rng = np.random.default_rng(len(name))
    X64 = X.astype(np.float64)
    verdicts = []
    for trial in range(trials):
        init = X[rng.choice(len(X), k, replace=False)].astype(np.float32)
        if dtype != F32:  # off the integer grid: no exact ties in the first iteration
            init += rng.uniform(-0.5, 0.5, init.shape).astype(np.float32)
        tol = (1e-4, 0.0, 1e-2)[trial % 3]
        km = Km(k, X.shape[1], dtype, init)
        n_iter, inertia = km.fit(X, tol=tol)
        # the core is the documented procedure, bit for bit
        rc, rit, rinertia = ref_fit(X, init, tol=tol)
        assert n_iter == rit and np.array_equal(km.centers.view(np.uint32), rc.view(np.uint32))
        assert np.float32(inertia).view(np.uint32) == rinertia.view(np.uint32)
        verdict, it = lockstep(X, init, tol=tol)
        verdicts.append(verdict)
        assert verdict != "mismatch", (name, trial, it)
        if verdict != "same":
            continue
        sk = KMeans(k, init=init.astype(np.float64), n_init=1, algorithm="lloyd", tol=tol).fit(X64)
        scale = np.abs(X64).max()
        assert n_iter == it == sk.n_iter_, (name, trial, n_iter, it, sk.n_iter_)
        assert np.abs(km.centers - sk.cluster_centers_).max() <= 1e-5 * scale, (name, trial)
        assert abs(inertia - sk.inertia_) <= 1e-5 * sk.inertia_ + 1e-6 * scale ** 2
        labels, _ = km.predict(X)
        assert np.array_equal(labels, sk.labels_)
    print(name, verdicts)
    if not ccore.SANITIZED:  # (the sanitized run's 2 trials on 400 samples are for memory errors)
        assert verdicts.count("same") >= trials // 2, (name, verdicts)


def test_empty_cluster_relocated_like_sklearn() -> None:
    """A center far from every sample gets no sample in the first iteration: it takes the sample
    farthest from its center, as scikit-learn's _relocate_empty_clusters_dense does."""
    X, _ = make_blobs(400, 2, centers=3, random_state=5)
    X = X.astype(np.float32)
    init = np.vstack([X[:2], [[100.0, 100.0]]]).astype(np.float32)
    sk = KMeans(3, init=init.astype(np.float64), n_init=1, algorithm="lloyd").fit(X.astype(np.float64))
    km = Km(3, 2, F32, init)
    n_iter, inertia = km.fit(X)
    assert n_iter == sk.n_iter_
    assert np.abs(km.centers - sk.cluster_centers_).max() <= 1e-4
    assert abs(inertia - sk.inertia_) <= 1e-5 * sk.inertia_
    rc, rit, _ = ref_fit(X, init)
    assert rit == n_iter and np.array_equal(rc, km.centers)


def test_empty_clusters_documented_rule() -> None:
    """Several empty clusters (scikit-learn's order among them is argpartition's, unspecified), and
    fewer distinct samples than clusters (nothing moves, empty clusters keep their centers): the
    core follows its documented rule exactly."""
    rng = np.random.default_rng(6)
    X = rng.normal(0, 1, (300, 3)).astype(np.float32)
    init = np.vstack([X[:2], np.full((3, 3), 50.0), [[-50, 0, 0]]]).astype(np.float32)
    km = Km(6, 3, F32, init)
    n_iter, inertia = km.fit(X, max_iter=5)
    rc, rit, rin = ref_fit(X, init, max_iter=5)
    assert (n_iter, np.float32(inertia)) == (rit, rin) and np.array_equal(rc, km.centers)
    # every center now has samples: the far ones were moved to the farthest samples
    assert np.all(np.abs(km.centers) < 10)
    # 3 distinct samples, 5 clusters: two clusters stay empty and keep their centers
    Xd = np.repeat(np.array([[0, 0], [10, 0], [0, 10]], np.uint8), 20, axis=0)
    init = np.array([[0, 0], [10, 0], [0, 10], [7, 7], [200, 200]], np.float32)
    km = Km(5, 2, U8, init)
    n_iter, inertia = km.fit(Xd)
    assert n_iter == 1 and inertia == 0.0 and np.array_equal(km.centers, init)
    rc, rit, rin = ref_fit(Xd, init)
    assert rit == 1 and np.array_equal(rc, init)


def test_tol_stop_and_max_iter() -> None:
    """tol is relative to the data's variance as scikit-learn defines it; max_iter caps n_iter."""
    X, _ = make_blobs(600, 3, centers=5, cluster_std=2.5, random_state=7)
    X = (X * 1e3).astype(np.float32)  # the threshold scales with the variance: same stops as unscaled
    init = X[:5].copy()
    its = {}
    for tol in (0.0, 1e-6, 1e-4, 1e-2, 1.0, 1e30):
        km = Km(5, 3, F32, init)
        its[tol], _ = km.fit(X, tol=tol)
        rc, rit, _ = ref_fit(X, init, tol=tol)
        assert rit == its[tol] and np.array_equal(rc, km.centers)
        sk = KMeans(5, init=init.astype(np.float64), n_init=1, tol=tol).fit(X.astype(np.float64))
        verdict, it = lockstep(X, init, tol=tol)
        assert verdict != "mismatch"
        if verdict == "same":
            assert its[tol] == it == sk.n_iter_, (tol, its[tol], sk.n_iter_)
    assert its[1e30] == 1 and its[0.0] >= its[1e-4] >= its[1e-2] >= its[1.0]
    for max_iter in (1, 2, 3):
        km = Km(5, 3, F32, init)
        assert km.fit(X, max_iter=max_iter, tol=0.0)[0] == max_iter


# ---------------------------------------------------------------- k-means++
def test_plusplus_documented_draws() -> None:
    rng = np.random.default_rng(8)
    cases = [(rng.normal(0, 5, (500, 4)).astype(np.float32), F32, 7),
             (rng.integers(0, 256, (800, 3)).astype(np.uint8), U8, 16),
             (rng.integers(-32768, 32768, (300, 2)).astype(np.int16), I16, 5)]
    for X, dtype, k in cases:
        for seed in (0, 1, 12345, 2 ** 30 - 1, 2 ** 32 - 1):
            km = Km(k, X.shape[1], dtype)
            assert km.plusplus(X, seed) == OK
            assert np.array_equal(km.centers, ref_plusplus(X, k, seed)), (dtype, seed)
            # centers are distinct samples
            assert len(np.unique(km.centers, axis=0)) == k
            assert all((X.astype(np.float32) == c).all(axis=1).any() for c in km.centers)
    # fewer distinct samples than clusters: the missing ones repeat sample 0 (all weights 0)
    X = np.array([[1, 1], [1, 1], [5, 5]], np.uint8)
    km = Km(3, 2, U8)
    assert km.plusplus(X, 3) == OK
    assert sorted(map(tuple, km.centers.tolist()))[-1] == (5.0, 5.0)
    assert np.array_equal(km.centers, ref_plusplus(X, 3, 3))


def test_plusplus_then_fit_clusters_blobs() -> None:
    """Sanity of the whole device path: k-means++ and Lloyd find well-separated blobs (scikit-learn's
    own k-means++ gets the same partition)."""
    X, y = make_blobs(900, 2, centers=4, cluster_std=0.5, random_state=3)
    X = X.astype(np.float32)
    km = Km(4, 2, F32)
    assert km.plusplus(X, 1) == OK
    n_iter, inertia = km.fit(X)
    labels, _ = km.predict(X)
    sk = KMeans(4, n_init=10, random_state=0).fit(X.astype(np.float64))
    perm = {a: b for a, b in zip(labels, sk.labels_)}
    assert [perm[a] for a in labels] == sk.labels_.tolist()
    assert abs(inertia - sk.inertia_) <= 1e-4 * sk.inertia_


# ---------------------------------------------------------------- errors
def test_errors() -> None:
    L = lib()
    m = KmT()
    c = np.zeros((3, 2), np.float32)
    init = L.emlc_kmeans_init
    assert init(None, F32, 3, 2, ptr(c), 6) == ERR_NULL
    assert init(C.byref(m), F32, 3, 2, None, 6) == ERR_NULL
    assert init(C.byref(m), 3, 3, 2, ptr(c), 6) == ERR_KIND
    assert init(C.byref(m), -1, 3, 2, ptr(c), 6) == ERR_KIND
    for k, nf in ((0, 2), (3, 0), (65536, 1), (1, 65536)):
        assert init(C.byref(m), F32, k, nf, ptr(c), 1 << 40) == ERR_SIZE
    assert init(C.byref(m), F32, 3, 2, ptr(c), 5) == ERR_CAPACITY
    assert init(C.byref(m), F32, 1 << 15, 1 << 15, ptr(c), (1 << 30) - 1) == ERR_CAPACITY
    assert init(C.byref(m), F32, 3, 2, ptr(c), 6) == OK

    chk = L.emlc_kmeans_check
    for v in (np.nan, np.inf, -np.inf, LIMIT, -LIMIT, 3e38):
        a = np.array([0.0, v], np.float32)
        assert chk(ptr(a), F32, 2) == ERR_VALUE, v
        assert chk(ptr(a), F32, 1) == OK
    ok = np.array([LIMIT * (1 - 2 ** -24), -LIMIT * (1 - 2 ** -24), 0.0, -0.0, 1e-45], np.float32)
    assert chk(ptr(ok), F32, 5) == OK
    assert chk(None, F32, 0) == OK and chk(None, U8, 3) == ERR_NULL and chk(ptr(ok), 7, 1) == ERR_KIND
    assert chk(ptr(ok), U8, 20) == OK and chk(ptr(ok), I16, 10) == OK

    X = np.array([[0, 0], [1, 1], [4, 4], [5, 5]], np.float32)
    lab, dist = C.c_uint16(), C.c_float()
    pred = L.emlc_kmeans_predict
    assert pred(None, ptr(X), 2, C.byref(lab), None) == ERR_NULL
    assert pred(C.byref(m), None, 2, C.byref(lab), None) == ERR_NULL
    assert pred(C.byref(m), ptr(X), 2, None, None) == ERR_NULL
    assert pred(C.byref(KmT()), ptr(X), 2, C.byref(lab), None) == ERR_NULL
    assert pred(C.byref(m), ptr(X), 3, C.byref(lab), None) == ERR_SIZE
    bad = np.array([np.nan, 0], np.float32)
    assert pred(C.byref(m), ptr(bad), 2, C.byref(lab), None) == ERR_VALUE
    assert pred(C.byref(m), ptr(X[1]), 2, C.byref(lab), C.byref(dist)) == OK and lab.value == 0 and dist.value == 2

    pp = L.emlc_kmeans_init_plusplus
    assert pp(None, ptr(X), 4, 0) == ERR_NULL and pp(C.byref(m), None, 4, 0) == ERR_NULL
    assert pp(C.byref(m), ptr(X), 2, 0) == ERR_SIZE  # n_samples < n_clusters
    assert pp(C.byref(m), ptr(X), 1 << 31, 0) == ERR_SIZE
    Xn = X.copy()
    Xn[3, 1] = np.inf
    c[:] = 7.0
    assert pp(C.byref(m), ptr(Xn), 4, 0) == ERR_VALUE and (c == 7.0).all()  # nothing written

    fit = L.emlc_kmeans_fit
    sums, counts = np.zeros(6, np.float32), np.zeros(3, np.uint32)
    it, inert = C.c_uint32(99), C.c_float(-1)

    def call(Xa=X, n=4, max_iter=10, tol=1e-4, s=sums, sl=6, cn=counts, cl=3, model=m, out=True):
        return fit(C.byref(model) if model is not None else None, ptr(Xa) if Xa is not None else None, n,
                   max_iter, tol, ptr(s) if s is not None else None, sl, ptr(cn) if cn is not None else None, cl,
                   C.byref(it) if out else None, C.byref(inert))

    assert call(model=None) == ERR_NULL and call(Xa=None) == ERR_NULL and call(s=None) == ERR_NULL
    assert call(cn=None) == ERR_NULL and call(out=False) == ERR_NULL
    assert call(n=2) == ERR_SIZE and call(n=1 << 31) == ERR_SIZE
    assert call(sl=5) == ERR_CAPACITY and call(cl=2) == ERR_CAPACITY
    assert call(Xa=Xn) == ERR_VALUE and call(max_iter=0) == ERR_VALUE
    for t in (-1e-4, np.nan, np.inf, -np.inf, -1e-45):
        assert call(tol=t) == ERR_VALUE, t
    c[0, 0] = np.nan  # centers not accepted (never set): refused, untouched
    assert call() == ERR_VALUE and np.isnan(c[0, 0]) and it.value == 99
    c[:] = X[:3]
    assert call(tol=-0.0) == OK and it.value >= 1
    assert call(max_iter=1, tol=0.0) == OK and it.value == 1


def test_extremes_do_not_overflow() -> None:
    """Values just inside the limit: sums, variances and distances stay finite."""
    rng = np.random.default_rng(9)
    big = np.float32(LIMIT * (1 - 2 ** -24))
    X = (rng.choice([-1.0, 1.0], size=(64, 8)) * big).astype(np.float32)
    km = Km(4, 8, F32, X[:4])
    n_iter, inertia = km.fit(X, tol=1e-4)
    assert np.isfinite(inertia) and np.all(np.isfinite(km.centers)) and n_iter >= 1
    Xi = rng.choice([-32768, 32767], size=(200, 16)).astype(np.int16)
    km = Km(3, 16, I16, Xi[:3].astype(np.float32))
    n_iter, inertia = km.fit(Xi)
    rc, rit, rin = ref_fit(Xi, Xi[:3].astype(np.float32))
    assert (n_iter, np.float32(inertia)) == (rit, rin) and np.array_equal(rc, km.centers)


def test_cross_compiles() -> None:
    """cores/emlc_kmeans.c builds warning-free for every natmod cross compiler, without libm, double or
    division helpers (ccore.check_portable)."""
    ccore.check_portable("emlc_kmeans.c")


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (soft float, run in unicorn) predicts, draws k-means++ centers and fits
    bit-identically to the host build, for all three dtypes."""
    m = ccore.Armv6m(["emlc_kmeans.c"])
    rng = np.random.default_rng(10)
    for dtype, X in ((F32, rng.normal(0, 100, (150, 3)).astype(np.float32)),
                     (U8, rng.integers(0, 256, (200, 3)).astype(np.uint8)),
                     (I16, rng.integers(-32768, 32768, (120, 5)).astype(np.int16))):
        k, nf = 6, X.shape[1]
        st, cen = m.alloc(12), m.alloc(4 * k * nf)  # emlc_kmeans_t: 12 bytes on armv6m
        assert m.call("emlc_kmeans_init", st, dtype, k, nf, cen, k * nf) == OK
        mX = m.alloc(X.tobytes())
        assert m.call("emlc_kmeans_init_plusplus", st, mX, len(X), 77) == OK
        host = Km(k, nf, dtype)
        assert host.plusplus(X, 77) == OK
        assert m.read(cen, 4 * k * nf) == host.centers.tobytes()
        sums, counts, out = m.alloc(4 * k * nf), m.alloc(4 * k), m.alloc(8)
        tol_bits = int(np.array([1e-4], np.float32).view(np.uint32)[0])
        assert m.call("emlc_kmeans_fit", st, mX, len(X), 300, tol_bits, sums, k * nf, counts, k, out, out + 4) == OK
        n_iter, inertia = host.fit(X)
        assert m.read(cen, 4 * k * nf) == host.centers.tobytes()
        assert m.read(out, 8) == np.uint32(n_iter).tobytes() + np.float32(inertia).tobytes()
        lab, dist = m.alloc(4), m.alloc(4)
        want_l, want_d = host.predict(X[:40])
        for i, x in enumerate(X[:40]):
            assert m.call("emlc_kmeans_predict", st, mX + i * x.nbytes, nf, lab, dist) == OK
            assert int.from_bytes(m.read(lab, 2), "little") == want_l[i]
            assert m.read(dist, 4) == want_d[i].tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
