"""Generate the data files tests_device/ scripts read: models, inputs, and the expected outputs
computed on the host by scikit-learn, scipy and numpy (the references).

Models are the files emlmpy writes (CSV and binary: loading both is under test). Inputs and
expected outputs are raw little-endian arrays, C order, no header, named <name>.f32 (float32),
.i16 (int16), .i32 (int32) or .u8 (uint8): the device reads them into array.array without parsing decimals.
Shapes are listed in tests_device/README.md.

Usage: python tools/make_device_data.py OUTDIR
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.signal
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes, load_digits, load_iris, make_blobs, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

import emlmpy


_DTYPES = {".f32": "<f4", ".i16": "<i2", ".i32": "<i4", ".u8": "u1"}


def _write(path: Path, values: np.ndarray) -> None:
    """values as a raw little-endian array of the dtype the file name ends with."""
    values = np.asarray(values)
    a = np.ascontiguousarray(values, dtype=_DTYPES[path.suffix])
    if a.dtype.kind == "i" and not np.array_equal(a, values):
        raise ValueError(f"{path.name}: values do not fit {a.dtype}")
    path.write_bytes(a.tobytes())


def make_trees(out: Path) -> None:
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=1)
    rf = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=1).fit(Xtr, ytr)
    model = emlmpy.convert(rf, method="inline")
    model.save(file=str(out / "iris.csv"), name="iris", format="csv")
    model.save(file=str(out / "iris.bin"), name="iris", format="bin")
    _write(out / "iris_X.f32", Xte)  # (45, 4)
    _write(out / "iris_y.i16", rf.predict(Xte))  # (45,)
    _write(out / "iris_proba.f32", rf.predict_proba(Xte))  # (45, 3)

    Xd, yd = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(Xd, yd, test_size=0.1, random_state=2)
    rfd = RandomForestClassifier(n_estimators=4, max_leaf_nodes=40, random_state=1).fit(Xtr, ytr)
    emlmpy.convert(rfd, method="inline", dtype="int16").save(file=str(out / "digits_i16.bin"), format="bin")
    _write(out / "digits_X.i16", Xte)  # (180, 64)
    _write(out / "digits_y.i16", rfd.predict(Xte))  # (180,)

    Xr, yr = load_diabetes(return_X_y=True)
    Xr = Xr.astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(Xr, yr, test_size=0.1, random_state=3)
    rfr = RandomForestRegressor(n_estimators=3, max_depth=6, random_state=1).fit(Xtr, ytr)
    emlmpy.convert(rfr, method="inline").save(file=str(out / "diabetes.csv"), format="csv")
    _write(out / "diabetes_X.f32", Xte)  # (45, 10)
    _write(out / "diabetes_y.f32", rfr.predict(Xte))  # (45,)


def make_knn(out: Path) -> None:
    X, y = load_iris(return_X_y=True)
    Xq = np.round(X * 10).astype(np.int16)  # iris has one decimal: exact in int16
    Xtr, Xte, ytr, yte = train_test_split(Xq, y, test_size=0.3, random_state=4)
    knn = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xtr, ytr)
    _write(out / "knn_train_X.i16", Xtr)  # (105, 4)
    _write(out / "knn_train_y.i16", ytr)  # (105,)
    _write(out / "knn_X.i16", Xte)  # (45, 4)
    _write(out / "knn_y.i16", knn.predict(Xte))  # (45,)

    # models from files: trained on the float data, integer class labels, saved by emlmpy
    Xtr, Xte, ytr, yte = train_test_split(X, np.array([-1, 7, 42])[y], test_size=0.3, random_state=4)
    knn = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xtr, ytr)
    want = knn.predict(Xte)
    for dtype, name in (("int16", "knn_i16"), ("float", "knn_f32")):
        model = emlmpy.convert(knn, dtype=dtype)
        if not np.array_equal(model.predict(Xte.astype(np.float32)), want):  # no tie or rounding case here
            raise AssertionError(f"{name}: emlmpy's predictor differs from scikit-learn on the test data")
        model.save(file=str(out / f"{name}.bin"))  # 105 items: 1,128 bytes (int16), 1,936 (float)
    emlmpy.convert(knn, dtype="int16").save(file=str(out / "knn_i16.csv"))  # host only: the device refuses it
    _write(out / "knn_Xf.f32", Xte)  # (45, 4)
    _write(out / "knn_yf.i16", want)  # (45,) labels -1, 7, 42


def make_iir(out: Path) -> None:
    sos = scipy.signal.butter(4, 0.1, output="sos").astype(np.float32)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(500).astype(np.float32)
    y = scipy.signal.sosfilt(sos.astype(np.float64), x.astype(np.float64))
    _write(out / "iir_sos.f32", emlmpy.iir_coefficients(sos))  # (12,): 2 sections
    _write(out / "iir_x.f32", x)  # (500,)
    _write(out / "iir_y.f32", y)  # (500,)


def make_fft(out: Path) -> None:
    rng = np.random.default_rng(6)
    n = 256
    x = rng.standard_normal(n).astype(np.float32)
    X = np.fft.fft(x.astype(np.float64))
    _write(out / "fft_x.f32", x)  # (256,)
    _write(out / "fft_re.f32", X.real)  # (256,)
    _write(out / "fft_im.f32", X.imag)  # (256,)


def make_q15(out: Path) -> None:
    """emliir_q15 / emlfft_q15: int16 inputs, emlmpy's bit-exact host results, and the float64
    references (scipy.signal.sosfilt, numpy.fft) for the accuracy bounds."""
    sos = scipy.signal.butter(4, 0.1, output="sos")
    coef = emlmpy.iir_coefficients_q15(sos)
    rng = np.random.default_rng(15)
    x = np.round(np.clip(rng.standard_normal(500) * 4000, -32768, 32767)).astype(np.int16)
    _write(out / "iirq15_sos.i16", coef)  # (12,): 2 sections of B0 B1 B2 T A1 A2
    _write(out / "iirq15_x.i16", x)  # (500,)
    _write(out / "iirq15_y.i16", emlmpy.IirQ15(coef).run(x))  # (500,) bit-exact device output
    _write(out / "iirq15_sosfilt.f32", scipy.signal.sosfilt(sos, x.astype(np.float64)))  # (500,)
    n = 256
    re = rng.integers(-32768, 32768, n).astype(np.int16)
    im = (rng.integers(-32768, 32768, n) // 2).astype(np.int16)
    _write(out / "fftq15_re.i16", re)  # (256,) input, real part
    _write(out / "fftq15_im.i16", im)  # (256,) input, imaginary part
    fr, fi = emlmpy.fft_q15(re, im)
    _write(out / "fftq15_fwd.i16", np.concatenate([fr, fi]))  # (512,) run(): real then imaginary
    ir, ii = emlmpy.ifft_q15(re, im)
    _write(out / "fftq15_inv.i16", np.concatenate([ir, ii]))  # (512,) inverse()
    rr, ri = emlmpy.rfft_q15(re)
    _write(out / "fftq15_rfft.i16", np.concatenate([rr, ri]))  # (258,) rfft(re): 129 real, 129 imaginary
    X = np.fft.fft(re + 1j * im.astype(np.float64)) / n
    _write(out / "fftq15_numpy.f32", np.concatenate([X.real, X.imag]))  # (512,) numpy.fft.fft / n


def make_kmeans(out: Path) -> None:
    """k-means: scikit-learn's centers converted for the device with its predictions; fits from a
    given init (float32 blobs, int16 samples) with scikit-learn's KMeans(init=array, n_init=1) result;
    uint8 pixels of a 6-colour palette with scikit-learn's best inertia."""
    X, _ = make_blobs(240, 4, centers=5, cluster_std=1.0, random_state=11)
    X = X.astype(np.float32)
    sk = KMeans(5, n_init=4, random_state=0).fit(X.astype(np.float64))
    emlmpy.convert(sk).save(file=str(out / "kmeans_centers.f32"))  # (5, 4): the raw float32 centers file
    _write(out / "kmeans_X.f32", X)  # (240, 4)
    sk.cluster_centers_ = sk.cluster_centers_.astype(np.float32).astype(np.float64)  # as the device holds them
    _write(out / "kmeans_y.i16", sk.predict(X.astype(np.float64)))  # (240,)
    rng = np.random.default_rng(12)
    init = X[rng.choice(len(X), 5, replace=False)] + np.float32(0.25)
    fit = KMeans(5, init=init.astype(np.float64), n_init=1, algorithm="lloyd").fit(X.astype(np.float64))
    _write(out / "kmeans_init.f32", init)  # (5, 4)
    _write(out / "kmeans_fit.f32", np.append(fit.cluster_centers_.ravel(), fit.inertia_))  # (21,): centers, inertia
    _write(out / "kmeans_fit_y.i16", np.append(fit.labels_, fit.n_iter_))  # (241,): labels, n_iter

    Xh = np.round(make_blobs(150, 3, centers=4, cluster_std=0.8, random_state=13)[0] * 3000).astype(np.int16)
    init = Xh[:4].astype(np.float32) + np.float32(0.5)
    fit = KMeans(4, init=init.astype(np.float64), n_init=1, algorithm="lloyd").fit(Xh.astype(np.float64))
    _write(out / "kmeans_h.i16", Xh)  # (150, 3)
    _write(out / "kmeans_h_init.f32", init)  # (4, 3)
    _write(out / "kmeans_h_fit.f32", np.append(fit.cluster_centers_.ravel(), fit.inertia_))  # (13,)
    _write(out / "kmeans_h_fit_y.i16", np.append(fit.labels_, fit.n_iter_))  # (151,)

    palette = rng.integers(0, 256, size=(6, 3))
    px = np.clip(palette[rng.integers(0, 6, 400)] + rng.normal(0, 6, (400, 3)), 0, 255).astype(np.uint8)
    best = KMeans(6, n_init=10, random_state=0).fit(px.astype(np.float64))
    _write(out / "kmeans_px.u8", px)  # (400, 3) RGB pixels
    _write(out / "kmeans_px_inertia.f32", [best.inertia_])  # (1,)


def make_array(out: Path) -> None:
    """emlarray: an interleaved x, y, z int16 recording (128 samples per axis) and a float32 signal;
    per axis numpy's float64 features (mean, std, min, max, rms, zero crossings) stored as float32,
    and the host model's bits (emlmpy.arrays); numpy's float64 linear maps and the host model's."""
    from emlmpy import arrays
    rng = np.random.default_rng(14)
    t = np.arange(128) / 50.0
    xyz = np.stack([4096 * np.sin(2 * np.pi * 1.7 * t) + rng.normal(0, 300, 128),
                    -4096 + rng.normal(0, 800, 128), rng.normal(200, 2000, 128)], axis=1)
    h = np.clip(np.round(xyz), -32768, 32767).astype(np.int16).ravel()
    f = rng.normal(0.5, 3.0, 300).astype(np.float32)
    f[::17] = 0.0
    _write(out / "array_xyz.i16", h)  # (384,) = 128 samples of x, y, z
    _write(out / "array_sig.f32", f)  # (300,)
    ref, bits = [], []
    for x, start, step in [(h, 0, 3), (h, 1, 3), (h, 2, 3), (h, 0, 1), (f, 0, 1), (f, 1, 2)]:
        v = x[start::step].astype(np.float64)
        neg = v < 0
        ref.append([v.mean(), v.std(), v.min(), v.max(), np.sqrt(np.mean(v * v)),
                    np.count_nonzero(neg[1:] != neg[:-1])])
        bits.append(arrays.features(x, start, step))
    _write(out / "array_feat.f32", np.array(ref))  # (6, 6): per view [mean, std, min, max, rms, zc]
    _write(out / "array_feat_bits.f32", np.array(bits))  # (6, 6): the host model's float32 bits
    # maps: x axis counts -> g (-32768..32768 -> -8..8), the float signal -> int16 (-10..10 -> -32767..32767)
    _write(out / "array_map_g.f32", np.clip((h[0::3].astype(np.float64) + 32768) * 16 / 65536 - 8, -8, 8))  # (128,)
    _write(out / "array_map_g_bits.f32", arrays.linear_map(h, -32768, 32768, -8, 8, "f", 0, 3))  # (128,)
    _write(out / "array_map_q.i16", arrays.linear_map(f, -10, 10, -32767, 32767, "h"))  # (300,)
    _write(out / "array_map_q.f32", np.clip((f.astype(np.float64) + 10) * 65534 / 20 - 32767, -32767, 32767))  # (300,)
    # non-finite window: the host model's features (NaN results: any NaN on the device)
    _write(out / "array_inf_bits.f32", arrays.features(np.array([1, np.inf, -np.inf, 2, 3], np.float32)))  # (6,)


def make_linear(out: Path) -> None:
    """Linear models: a multinomial LogisticRegression (iris, labels 5..7) and a LinearRegression
    (diabetes) as EMLL files with scikit-learn's predictions; SGDRegressor(shuffle=False) fitted on
    a small regression problem (its coef_, intercept_, n_iter_) for the device's training."""
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    lr = LogisticRegression(max_iter=2000).fit(Xtr.astype(np.float64), ytr + 5)
    emlmpy.convert(lr).save(file=str(out / "linear_iris.bin"))
    _write(out / "linear_iris_X.f32", Xte)  # (45, 4)
    _write(out / "linear_iris_y.i16", lr.predict(Xte.astype(np.float64)))  # (45,)
    _write(out / "linear_iris_proba.f32", lr.predict_proba(Xte.astype(np.float64)))  # (45, 3)
    Xd, yd = load_diabetes(return_X_y=True)
    Xd = Xd.astype(np.float32)
    reg = LinearRegression().fit(Xd[:-45].astype(np.float64), yd[:-45])
    emlmpy.convert(reg).save(file=str(out / "linear_diab.bin"))
    _write(out / "linear_diab_X.f32", Xd[-45:])  # (45, 10)
    _write(out / "linear_diab_y.f32", reg.predict(Xd[-45:].astype(np.float64)))  # (45,)
    Xs, ys = make_regression(200, 5, noise=5.0, random_state=0)
    Xs, ys = Xs.astype(np.float32), (ys / 10).astype(np.float32)
    sgd = SGDRegressor(shuffle=False, learning_rate="invscaling", eta0=0.01, power_t=0.25, penalty="elasticnet",
                       alpha=0.01, l1_ratio=0.5).fit(Xs.astype(np.float64), ys.astype(np.float64))
    _write(out / "linear_sgd_X.f32", Xs)  # (200, 5)
    _write(out / "linear_sgd_y.f32", ys)  # (200,)
    _write(out / "linear_sgd_ref.f32", np.concatenate([sgd.coef_, sgd.intercept_, [sgd.n_iter_]]))  # (7,)
    # 'ovr' with very negative scores (-100.. and -800..: the float32 sigmoids underflow)
    ovr = SGDClassifier(loss="log_loss", random_state=0).fit(Xs[:30, :2].astype(np.float64), np.arange(30) % 3)
    ovr.coef_, ovr.intercept_ = np.array([[-100.0, 0.0], [-101.0, 0.0], [-102.0, 0.0]]), np.zeros(3)
    Xo = np.array([[1, 0], [8, 0], [800, 0]], dtype=np.float32)
    om = emlmpy.convert(ovr)
    om.save(file=str(out / "linear_ovr.bin"))
    _write(out / "linear_ovr_X.f32", Xo)  # (3, 2)
    _write(out / "linear_ovr_bits.f32", om.predict_proba(Xo))  # (3, 3): the host model's float32 bits
    _write(out / "linear_ovr_proba.f32", ovr.predict_proba(Xo[:1].astype(np.float64)))  # (1, 3)


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "build/device_data")
    out.mkdir(parents=True, exist_ok=True)
    make_trees(out)
    make_knn(out)
    make_iir(out)
    make_fft(out)
    make_q15(out)
    make_kmeans(out)
    make_array(out)
    make_linear(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
