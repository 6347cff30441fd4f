"""cores/emlc_linear (inference) and emlc_linear_sgd (training) through ctypes: scores, classes and
probabilities bit-identical to the host predictor (emlmpy.LinearModel) and equal to scikit-learn's
within float32 rounding; exp and ln accuracy; the SGD epoch against scikit-learn's SGDRegressor;
argument errors; ASan/UBSan; the Cortex-M0 build bit-identical to the host build.

Tolerances (float32 maths against scikit-learn's float64):
  - scores and regression values: |core - sklearn| <= 1e-5 * (sum_f |coef_f x_f| + |intercept| + 1)
    (n_features float32 roundings of terms bounded by that sum).
  - probabilities: <= 2e-6 absolute (exp within 3 ulp plus the divisions).
  - classes: equal, except samples whose top two scores (or binary score and 0) are within the
    score tolerance of each other: a near tie a float64 evaluation flags (none in these data sets).
"""
from __future__ import annotations

import ctypes as C
from functools import lru_cache
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris, load_wine, make_classification, make_regression
from sklearn.linear_model import (ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge,
                                  SGDClassifier, SGDRegressor)
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import ccore
from ccore import ptr as p
import emlmpy
from emlmpy.linear import exp32

OK, ERR_NULL, ERR_SIZE, ERR_KIND, ERR_VALUE = 0, -1, -2, -9, -11
KIND = {"regressor": 0, "classifier": 1, "logistic": 2, "ovr": 3}


class LinT(C.Structure):
    _fields_ = [("coef", C.c_void_p), ("intercept", C.c_void_p), ("classes", C.c_void_p),
                ("n_features", C.c_uint16), ("n_outputs", C.c_uint16), ("kind", C.c_uint8)]


class SgdT(C.Structure):
    _fields_ = [("eta0", C.c_float), ("power_t", C.c_float), ("alpha", C.c_float), ("l1_ratio", C.c_float),
                ("invscaling", C.c_uint8)]


_P, _Z = C.c_void_p, C.c_size_t
SIGNATURES = {
    "emlc_linear_init": ([C.POINTER(LinT), C.c_int, _Z, _Z, _P, _P, _P], C.c_int),
    "emlc_linear_decision": ([C.POINTER(LinT), _P, C.c_int, _P], C.c_int),
    "emlc_linear_class": ([C.POINTER(LinT), _P], _Z),
    "emlc_linear_proba": ([C.POINTER(LinT), _P, _P], C.c_int),
    "emlc_linear_exp": ([C.c_float], C.c_float),
    "emlc_linear_ln": ([C.c_float], C.c_float),
    "emlc_linear_sgd_epoch": ([C.POINTER(LinT), C.POINTER(SgdT), _P, C.c_int, _P, _Z, _P, _P, _P, _P, _P],
                              C.c_int),
    "emlc_linear_stop": ([C.c_float, C.c_float, _Z, C.c_uint32, _P, _P], C.c_int),
}


@lru_cache(maxsize=None)
def lib() -> C.CDLL:
    return ccore.declare(SIGNATURES)


class Lin:
    """A core model over numpy-owned weights (copied from a host LinearModel)."""

    def __init__(self, model: emlmpy.LinearModel) -> None:
        self.coef = model.coef_.copy()
        self.intercept = model.intercept_.copy()
        self.classes = (model.class_labels if model.class_labels is not None else np.zeros(1, np.int32)).copy()
        self.m = LinT()
        assert lib().emlc_linear_init(C.byref(self.m), KIND[model.kind], model.n_features, model.n_outputs,
                                      p(self.coef), p(self.intercept), p(self.classes)) == OK
        self.nc = model.n_classes

    def run(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        no = self.m.n_outputs
        scores = np.zeros((len(X), no), np.float32)
        cls = np.zeros(len(X), np.intp)
        proba = np.zeros((len(X), max(self.nc, 1)), np.float32) if self.m.kind >= 2 else None
        i16 = int(X.dtype == np.int16)
        for i in range(len(X)):
            x = np.ascontiguousarray(X[i])
            assert lib().emlc_linear_decision(C.byref(self.m), p(x), i16, p(scores[i])) == OK
            cls[i] = lib().emlc_linear_class(C.byref(self.m), p(scores[i]))
            if proba is not None:
                assert lib().emlc_linear_proba(C.byref(self.m), p(scores[i]), p(proba[i])) == OK
        return scores, cls, proba


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def _datasets():
    Xi, yi = load_iris(return_X_y=True)
    Xw, yw = load_wine(return_X_y=True)
    Xw = StandardScaler().fit_transform(Xw)
    Xd, yd = load_diabetes(return_X_y=True)
    Xb, yb = make_classification(300, 8, random_state=3)
    Xr, Yr = make_regression(200, 6, n_targets=3, noise=1.0, random_state=4)
    return [
        ("LinearRegression", LinearRegression(), Xd, yd),
        ("Ridge multi", Ridge(alpha=0.5), Xr, Yr),
        ("Lasso", Lasso(alpha=0.1), Xd, yd),
        ("ElasticNet", ElasticNet(alpha=0.01, l1_ratio=0.3), Xd, yd),
        ("SGDRegressor", SGDRegressor(random_state=0), StandardScaler().fit_transform(Xd), yd),
        ("LogisticRegression multinomial", LogisticRegression(max_iter=2000), Xi, yi),
        ("LogisticRegression binary", LogisticRegression(max_iter=2000), Xb, yb),
        ("LogisticRegression wine", LogisticRegression(max_iter=2000, C=0.3), Xw, yw + 10),
        ("LinearSVC", LinearSVC(max_iter=5000), Xw, yw),
        ("LinearSVC binary", LinearSVC(max_iter=5000), Xb, yb),
        ("SGDClassifier hinge", SGDClassifier(random_state=0), Xw, yw),
        ("SGDClassifier log_loss", SGDClassifier(loss="log_loss", random_state=0), Xw, yw),
        ("SGDClassifier log_loss binary", SGDClassifier(loss="log_loss", random_state=0), Xb, yb),
    ]


@pytest.mark.parametrize("case", _datasets(), ids=lambda c: c[0])
def test_predict_vs_host_and_sklearn(case) -> None:
    """Core == host model bit for bit (scores, class index, probabilities); both equal scikit-learn
    within the stated tolerances; classes exactly away from near ties."""
    name, est, X, y = case
    est = _fit(est, X, y)
    model = emlmpy.convert(est)
    X32 = X.astype(np.float32)
    scores, cls, proba = Lin(model).run(X32)
    assert np.array_equal(scores.view(np.uint32), model.scores(X32).view(np.uint32))
    # scikit-learn on the same float32 inputs (as float64) with its own float64 weights
    Xs = X32.astype(np.float64)
    ref = est.decision_function(Xs) if hasattr(est, "decision_function") and model.kind != "regressor" \
        else est.predict(Xs)
    ref = np.asarray(ref, np.float64).reshape(len(X), -1)
    bound = 1e-5 * (np.abs(Xs) @ np.abs(np.asarray(est.coef_, np.float64).reshape(len(model.coef_), -1)).T
                    + np.abs(np.asarray(est.intercept_, np.float64)).reshape(1, -1) + 1)
    assert np.all(np.abs(scores - ref) <= bound), name
    if model.kind == "regressor":
        return
    assert np.array_equal(cls, model.class_index(X32))
    labels = est.predict(Xs)
    if ref.shape[1] == 1:
        near = np.abs(ref[:, 0]) <= bound[:, 0]
    else:
        top2 = np.sort(ref, axis=1)[:, -2:]
        near = top2[:, 1] - top2[:, 0] <= 2 * bound.max(axis=1)
    assert np.array_equal(model.classes_[cls][~near], labels[~near]), name
    assert near.sum() == 0, f"{name}: {near.sum()} near ties (data changed?)"
    if proba is not None:
        assert np.array_equal(proba.view(np.uint32), model.predict_proba(X32).view(np.uint32))
        assert np.abs(proba - est.predict_proba(Xs)).max() <= 2e-6, name


def test_int16_inputs() -> None:
    """int16 inputs are converted to float32 exactly: the same scores as the float32 copy."""
    rng = np.random.default_rng(1)
    X = rng.integers(-32768, 32768, (60, 7)).astype(np.int16)
    model = emlmpy.LinearModel(rng.normal(0, 1e-3, (3, 7)), rng.normal(0, 1, 3), "logistic", np.array([4, 5, 6]))
    a = Lin(model).run(X)
    b = Lin(model).run(X.astype(np.float32))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])


def test_exp_and_ln() -> None:
    """emlc_linear_exp: the host transcription bit for bit; within 3 ulp of exp in the normal range;
    0 far below, inf above. emlc_linear_ln within 3e-7 relative on counters 1..2^24."""
    rng = np.random.default_rng(2)
    xs = np.concatenate([np.linspace(-110, 95, 20001), rng.uniform(-104, 89, 20000), [0.0, -0.0, 88.7, -87.3]])
    xs = xs.astype(np.float32)
    core = np.array([lib().emlc_linear_exp(float(x)) for x in xs], np.float32)
    assert np.array_equal(core.view(np.uint32), exp32(xs).view(np.uint32))
    ref = np.exp(xs.astype(np.float64))
    normal = (ref > 1.2e-38) & (ref < 3.4e38)
    ulp = np.spacing(ref[normal].astype(np.float32)).astype(np.float64)
    assert np.max(np.abs(core[normal] - ref[normal]) / ulp) <= 3
    assert lib().emlc_linear_exp(-200.0) == 0.0 and lib().emlc_linear_exp(100.0) == float("inf")
    ts = np.unique(np.concatenate([np.arange(1, 5000), rng.integers(1, 1 << 24, 5000)])).astype(np.float32)
    ln = np.array([lib().emlc_linear_ln(float(t)) for t in ts])
    ref = np.log(ts.astype(np.float64))
    assert np.all(np.abs(ln - ref) <= 3e-7 * np.maximum(ref, 1))


def sgd_train(X: np.ndarray, y: np.ndarray, epochs: int, tol: float | None, **kw) -> tuple:
    """Train a zero model with the core's epoch and stopping rule: (coef, intercept, n_iter, t)."""
    nf = X.shape[1]
    coef, b = np.zeros(nf, np.float32), np.zeros(1, np.float32)
    m = LinT()
    assert lib().emlc_linear_init(C.byref(m), 0, nf, 1, p(coef), p(b), None) == OK
    s = SgdT(kw.get("eta0", 0.01), kw.get("power_t", 0.25), kw.get("alpha", 1e-4), kw.get("l1_ratio", 0.0),
             int(kw.get("learning_rate", "invscaling") == "invscaling"))
    q, u, t = np.zeros(nf, np.float32), np.zeros(1, np.float32), np.ones(1, np.uint32)
    loss, obj, best, count = (np.zeros(1, np.float32) for _ in range(4))
    best[0], count = np.inf, np.zeros(1, np.uint32)
    Xc, yc = np.ascontiguousarray(X), np.ascontiguousarray(y, dtype=np.float32)
    i16 = int(X.dtype == np.int16)
    for e in range(epochs):
        rc = lib().emlc_linear_sgd_epoch(C.byref(m), C.byref(s), p(Xc), i16, p(yc), len(X), p(q), p(u), p(t),
                                         p(loss), p(obj))
        if rc != OK:
            return rc, None, e, None
        if tol is not None and lib().emlc_linear_stop(float(obj[0]), tol, len(X), 5, p(best), p(count)):
            return coef, b[0], e + 1, int(t[0])
    return coef, b[0], epochs, int(t[0])


def _regression(n=200, nf=5, seed=0):
    X, y = make_regression(n, nf, noise=5.0, random_state=seed)
    return X.astype(np.float32), (y / 10).astype(np.float32)


SGD_CASES = [
    dict(learning_rate="constant", eta0=0.01, penalty="l2", alpha=0.001),
    dict(learning_rate="invscaling", eta0=0.01, power_t=0.25, penalty="elasticnet", alpha=0.01, l1_ratio=0.5),
    dict(learning_rate="invscaling", eta0=0.02, power_t=0.3, penalty="l1", alpha=0.05),
    dict(learning_rate="constant", eta0=0.005, penalty=None, alpha=0.0),
]


def _device_kw(kw: dict) -> dict:
    d = dict(kw)
    pen = d.pop("penalty")
    d["l1_ratio"] = {"l2": 0.0, "l1": 1.0, None: 0.0}.get(pen, d.get("l1_ratio", 0.15))
    if pen is None:
        d["alpha"] = 0.0
    return d


@pytest.mark.parametrize("kw", SGD_CASES, ids=lambda k: f"{k['learning_rate']}-{k['penalty']}")
def test_sgd_vs_sgdregressor(kw: dict) -> None:
    """The core's epochs and stopping rule against SGDRegressor(shuffle=False): the same n_iter and
    t_, coefficients and intercept within 1e-4 relative to the largest coefficient (float32 against
    float64 over thousands of updates); the same with a fixed number of epochs (tol=None)."""
    X, y = _regression()
    sk = _fit(SGDRegressor(shuffle=False, max_iter=1000, tol=1e-3, **kw), X.astype(np.float64), y.astype(np.float64))
    coef, b, n_iter, t = sgd_train(X, y, 1000, 1e-3, **_device_kw(kw))
    assert n_iter == sk.n_iter_ and t == sk.t_
    scale = np.abs(sk.coef_).max()
    assert np.abs(coef - sk.coef_).max() <= 1e-4 * scale and abs(b - sk.intercept_[0]) <= 1e-4 * scale
    sk = _fit(SGDRegressor(shuffle=False, max_iter=7, tol=None, **kw), X.astype(np.float64), y.astype(np.float64))
    coef, b, n_iter, _ = sgd_train(X, y, 7, None, **_device_kw(kw))
    assert np.abs(coef - sk.coef_).max() <= 1e-4 * scale and abs(b - sk.intercept_[0]) <= 1e-4 * scale


def test_sgd_int16_and_elasticnet() -> None:
    """int16 inputs train as their float32 copy (bit for bit); many small-step epochs with the
    elastic-net penalty approach ElasticNet's coordinate-descent solution (same objective):
    coefficients within 2% of the largest, MSE within 1%."""
    X, y = _regression(300, 4, seed=5)
    Xh = np.round(X * 1000).astype(np.int16)
    a = sgd_train(Xh, y, 3, None, eta0=1e-9, alpha=0.01, l1_ratio=0.5)
    b = sgd_train(Xh.astype(np.float32), y, 3, None, eta0=1e-9, alpha=0.01, l1_ratio=0.5)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    Xs = X / X.std(axis=0)
    en = ElasticNet(alpha=0.05, l1_ratio=0.5).fit(Xs.astype(np.float64), y.astype(np.float64))
    coef, b0, _, _ = sgd_train(Xs.astype(np.float32), y, 300, None, learning_rate="constant", eta0=0.0005,
                               alpha=0.05, l1_ratio=0.5)
    assert np.abs(coef - en.coef_).max() <= 0.02 * np.abs(en.coef_).max()
    mse = lambda c, i: float(np.mean((Xs @ c + i - y) ** 2))  # noqa: E731
    assert abs(mse(coef, b0) - mse(en.coef_, en.intercept_)) <= 0.01 * mse(en.coef_, en.intercept_)


def test_sgd_divergence_and_bad_values() -> None:
    """A learning rate that overflows float32 is VALUE (not silent garbage); NaN inputs are VALUE."""
    X, y = _regression()
    rc, *_ = sgd_train(X * 1e6, y * 1e6, 50, None, learning_rate="constant", eta0=10.0)
    assert rc == ERR_VALUE
    Xn = X.copy()
    Xn[3, 1] = np.nan
    assert sgd_train(Xn, y, 1, None)[0] == ERR_VALUE
    yn = y.copy()
    yn[0] = np.inf
    assert sgd_train(X, yn, 1, None)[0] == ERR_VALUE


def test_errors() -> None:
    """init: NULL, KIND, SIZE (0 or > 65535, a two-output classifier); decision: NaN input and
    overflowing scores are VALUE; proba of a non-logistic kind is KIND; SGD on two outputs is SIZE."""
    L = lib()
    m = LinT()
    w, b, c = np.zeros(8, np.float32), np.zeros(2, np.float32), np.zeros(3, np.int32)
    assert L.emlc_linear_init(None, 0, 2, 1, p(w), p(b), None) == ERR_NULL
    assert L.emlc_linear_init(C.byref(m), 1, 2, 1, p(w), p(b), None) == ERR_NULL
    assert L.emlc_linear_init(C.byref(m), 4, 2, 1, p(w), p(b), p(c)) == ERR_KIND
    assert L.emlc_linear_init(C.byref(m), 0, 0, 1, p(w), p(b), None) == ERR_SIZE
    assert L.emlc_linear_init(C.byref(m), 0, 65536, 1, p(w), p(b), None) == ERR_SIZE
    assert L.emlc_linear_init(C.byref(m), 2, 4, 2, p(w), p(b), p(c)) == ERR_SIZE
    assert L.emlc_linear_init(C.byref(m), 0, 4, 2, p(w), p(b), None) == OK
    s = np.zeros(3, np.float32)
    x = np.array([1, np.nan, 0, 0], np.float32)
    assert L.emlc_linear_decision(C.byref(m), p(x), 0, p(s)) == ERR_VALUE
    w[:] = 3e38
    x = np.array([10, 10, 0, 0], np.float32)
    assert L.emlc_linear_decision(C.byref(m), p(x), 0, p(s)) == ERR_VALUE
    assert L.emlc_linear_proba(C.byref(m), p(s), p(s)) == ERR_KIND
    sgd = SgdT(0.01, 0.25, 0.0, 0.0, 0)
    z = np.zeros(8, np.float32)
    assert L.emlc_linear_sgd_epoch(C.byref(m), C.byref(sgd), p(x), 0, p(z), 1, p(z), p(z), p(z), p(z),
                                   p(z)) == ERR_SIZE


def test_cross_compiles() -> None:
    """Both core files build warning-free for every natmod cross compiler, without libm or double
    helpers (float division is used: the probabilities, ln and the stopping rule's mean)."""
    ccore.check_portable("emlc_linear.c", allow_div=True)
    for arch in ccore.CROSS:  # emlc_linear_sgd.c also calls emlc_linear.c's functions
        undef = {u for u in ccore.cross_undefined("emlc_linear_sgd.c", arch) if not u.startswith("emlc_linear_")}
        assert all(u.startswith("__") for u in undef), (arch, undef)
        assert not {u for u in undef if ccore.is_double_or_div_helper(u) and "div" not in u.lower()}, (arch, undef)


def test_armv6m_bitexact() -> None:
    """The Cortex-M0 build (soft float in unicorn) gives the host build's scores, probabilities and
    SGD weights bit for bit."""
    m = ccore.Armv6m(["emlc_linear.c", "emlc_linear_sgd.c"])
    X, y = load_iris(return_X_y=True)
    est = _fit(LogisticRegression(max_iter=2000), X, y)
    model = emlmpy.convert(est)
    X32 = X.astype(np.float32)
    st = m.alloc(20)  # emlc_linear_t on armv6m: 3 pointers, 2 uint16, 1 uint8, padded
    cf, ic, cl = m.alloc(model.coef_.tobytes()), m.alloc(model.intercept_.tobytes()), m.alloc(model.class_labels.tobytes())
    assert m.call("emlc_linear_init", st, 2, 4, 3, cf, ic, cl) == OK
    mx, sc, pr = m.alloc(X32.tobytes()), m.alloc(12), m.alloc(12)
    want_s, want_p = model.scores(X32), model.predict_proba(X32)
    for i in range(0, 150, 3):
        assert m.call("emlc_linear_decision", st, mx + 16 * i, 0, sc) == OK
        assert m.read(sc, 12) == want_s[i].tobytes()
        assert m.call("emlc_linear_proba", st, sc, pr) == OK
        assert m.read(pr, 12) == want_p[i].tobytes()
    Xr, yr = _regression(40, 3)
    host = sgd_train(Xr, yr, 3, None, eta0=0.01, alpha=0.01, l1_ratio=0.5)
    w, b = m.alloc(12), m.alloc(4)
    m.write(w, bytes(12))
    m.write(b, bytes(4))
    assert m.call("emlc_linear_init", st, 0, 3, 1, w, b, 0) == OK
    sgd = m.alloc(np.array([0.01, 0.25, 0.01, 0.5], np.float32).tobytes() + bytes([1, 0, 0, 0]))
    q, u, t, loss, obj = m.alloc(bytes(12)), m.alloc(bytes(4)), m.alloc(np.uint32(1).tobytes()), m.alloc(4), m.alloc(4)
    mX, mY = m.alloc(Xr.tobytes()), m.alloc(yr.tobytes())
    for _ in range(3):
        assert m.call("emlc_linear_sgd_epoch", st, sgd, mX, 0, mY, 40, q, u, t, loss, obj) == OK
    assert m.read(w, 12) == host[0].tobytes() and m.read(b, 4) == np.float32(host[1]).tobytes()


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
