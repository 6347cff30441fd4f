"""The modules as built for the boards (armv6m = RP2040, armv7m, armv7emsp, rv32imc = ESP32-C3),
run on emulated CPUs (unicorn, Cortex-M0 with alignment faults) behind the toolchain's minimal
loader, against scikit-learn, scipy and numpy. No board needed; the unix port covers x64."""
from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
import scipy.signal
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.neighbors import KNeighborsClassifier

import emlmpy
import upy
from natmod_util import EmuObj, NatmodEmu
import toolreg

ARCHES = ("armv6m", "armv7m", "armv7emsp", "rv32imc")


@pytest.fixture(scope="module", autouse=True)
def built():
    targets = [f"dist/{a}/{m}.mpy" for a in ARCHES for m in upy.MODULES]
    r = subprocess.run([toolreg.which("make"), "-s", f"NATMOD_ARCHES={' '.join(ARCHES)}", *targets], cwd=upy.REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


def emu(arch: str, module: str) -> NatmodEmu:
    e = NatmodEmu(upy.REPO / "dist" / arch / f"{module}.mpy")
    e.init()
    return e


def load_model(e: NatmodEmu, model, fmt: str, trees: int, nodes: int) -> EmuObj:
    data = emlmpy.dumps(model, format=fmt)
    data = data.encode() if isinstance(data, str) else data
    m = EmuObj(e.call_obj(e.globals["new"], trees, nodes))
    e.call_obj(e.globals["load_model"], m, io.BytesIO(data))
    return m


@pytest.mark.parametrize("arch", ARCHES)
def test_trees(arch: str) -> None:
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    rf = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=1).fit(X, y)
    e = emu(arch, "emltrees")
    m = load_model(e, emlmpy.convert(rf), "bin", 5, 200)  # CSV needs emltrees_csv: the boards run it
    got = [e.method(m, "predict", ("array_f", row)) for row in X[::4]]
    assert got == rf.predict(X[::4]).tolist()
    # int16 model, int16 input
    Xd, yd = load_digits(return_X_y=True)
    rfd = RandomForestClassifier(n_estimators=3, max_leaf_nodes=30, random_state=1).fit(Xd, yd)
    m = load_model(e, emlmpy.convert(rfd, dtype="int16"), "bin", 3, 100)
    got = [e.method(m, "predict", ("array_h", row)) for row in Xd[::60]]
    assert got == rfd.predict(Xd[::60]).tolist()
    # regression: the float result crosses back through memory
    Xr, yr = load_diabetes(return_X_y=True)
    Xr = Xr.astype(np.float32)
    rr = RandomForestRegressor(n_estimators=3, max_depth=5, random_state=1).fit(Xr, yr)
    m = load_model(e, emlmpy.convert(rr), "bin", 3, 200)
    got = np.array([e.method(m, "predict", ("array_f", row)) for row in Xr[::40]])
    assert np.abs(got - rr.predict(Xr[::40])).max() <= 1e-5 * np.abs(yr).max()


@pytest.mark.parametrize("arch", ARCHES)
def test_fft_iir_knn(arch: str) -> None:
    n = 64
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    e = emu(arch, "emlfft")
    f = EmuObj(e.call_obj(e.globals["new"], n))
    re, im = EmuObj(e.to_obj(("array_f", x))), EmuObj(e.to_obj(("array_f", np.zeros(n))))
    e.method(f, "run", re, im)
    got = np.frombuffer(e.buffer_bytes(int(re)), np.float32) + 1j * np.frombuffer(e.buffer_bytes(int(im)), np.float32)
    assert np.abs(got - np.fft.fft(x.astype(np.float64))).max() <= 1e-4 * np.abs(x).max()

    sos = scipy.signal.butter(4, 0.2, output="sos")
    coef = emlmpy.iir_coefficients(sos)
    sig = np.random.default_rng(2).standard_normal(200).astype(np.float32)
    e = emu(arch, "emliir")
    filt = EmuObj(e.call_obj(e.globals["new"], ("array_f", coef)))
    buf = EmuObj(e.to_obj(("array_f", sig)))
    e.method(filt, "run", buf)
    got = np.frombuffer(e.buffer_bytes(int(buf)), np.float32)
    want = scipy.signal.sosfilt(coef.reshape(-1, 6).astype(np.float64), sig.astype(np.float64))
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()

    X, y = load_iris(return_X_y=True)
    Xq = np.round(X * 10).astype(np.int16)
    knn = KNeighborsClassifier(n_neighbors=3, algorithm="brute").fit(Xq[::2], y[::2])
    e = emu(arch, "emlneighbors")
    m = EmuObj(e.call_obj(e.globals["new"], len(Xq[::2]), 4, 3))
    for row, label in zip(Xq[::2], y[::2]):
        e.method(m, "additem", ("array_h", row), int(label))
    got = [e.method(m, "predict", ("array_h", row)) for row in Xq[1::6]]
    assert got == knn.predict(Xq[1::6]).tolist()


@pytest.mark.parametrize("arch", ARCHES)
def test_knn_file(arch: str, tmp_path) -> None:
    """emlneighbors with emlneighbors_load: an int16 k-NN file loaded from a stream predicts float32
    inputs (quantized by the loader's code with emlneighbors' float helpers) like emlmpy's host
    predictor and scikit-learn (these rows are no near ties)."""
    X, y = load_iris(return_X_y=True)
    knn = KNeighborsClassifier(n_neighbors=5).fit(X, np.array([-1, 7, 42])[y])
    cm = emlmpy.convert(knn, dtype="int16")
    cm.save(file=str(tmp_path / "h.bin"))
    e = emu(arch, "emlneighbors")
    e.add_module(upy.REPO / "dist" / arch / "emlneighbors_load.mpy")  # the loader, which load imports
    m = EmuObj(e.call_obj(e.globals["load"], io.BytesIO((tmp_path / "h.bin").read_bytes())))
    Xf = X[::7].astype(np.float32)
    got = [e.method(m, "predict", ("array_f", row)) for row in Xf]
    assert got == cm.predict(Xf).tolist() == knn.predict(Xf).tolist()


@pytest.mark.parametrize("arch", ARCHES)
def test_kmeans(arch: str) -> None:
    """emlkmeans with emlkmeans_fit: a fit from given centers equals the core's documented procedure bit for bit (soft
    float on armv6m and rv32imc, the FPU on armv7emsp), predictions equal emlmpy's host predictor,
    and k-means++ (random_state) gives the documented draws."""
    from kmeansref import ref_fit, ref_plusplus
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(c, 0.6, (20, 2)) for c in ((0, 0), (4, 1), (1, 5))]).astype(np.float32)
    init = X[[0, 1, 2]].copy()
    e = emu(arch, "emlkmeans")
    e.add_module(upy.REPO / "dist" / arch / "emlkmeans_fit.mpy")  # fit's module, which KMeans.fit imports
    m = EmuObj(e.call_obj(e.globals["new"], 3, 2))
    e.method(m, "fit", ("array_f", X.ravel()), 300, 1e-4, ("array_f", init.ravel()))
    out = EmuObj(e.to_obj(("array_f", np.zeros(6))))
    e.method(m, "cluster_centers", out)
    got = np.frombuffer(e.buffer_bytes(int(out)), np.float32).reshape(3, 2)
    want, n_iter, inertia = ref_fit(X, init)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    assert e.method(m, "n_iter") == n_iter and np.float32(e.method(m, "inertia")) == inertia
    host = emlmpy.KMeansModel(want)
    assert [e.method(m, "predict", ("array_f", row)) for row in X[::5]] == host.predict(X[::5]).tolist()
    e.method(m, "fit", ("array_f", X.ravel()), 1, 0.0, None, 4)  # k-means++ draws, one iteration
    e.method(m, "cluster_centers", out)
    got = np.frombuffer(e.buffer_bytes(int(out)), np.float32).reshape(3, 2)
    assert np.array_equal(got, ref_fit(X, ref_plusplus(X, 3, 4), max_iter=1)[0])


@pytest.mark.parametrize("arch", ARCHES)
def test_q15(arch: str) -> None:
    """emliir_q15 and emlfft_q15 (integer only on every arch): bit for bit emlmpy's host models."""
    coef = emlmpy.iir_coefficients_q15(scipy.signal.ellip(4, 0.5, 50.0, 0.3, output="sos"))
    sig = np.random.default_rng(3).integers(-32768, 32768, 300).astype(np.int16)
    e = emu(arch, "emliir_q15")
    filt = EmuObj(e.call_obj(e.globals["new"], ("array_h", coef)))
    buf = EmuObj(e.to_obj(("array_h", sig[:120])))
    e.method(filt, "run", buf)
    buf2 = EmuObj(e.to_obj(("array_h", sig[120:])))
    e.method(filt, "run", buf2)
    got = np.concatenate([np.frombuffer(e.buffer_bytes(int(b)), np.int16) for b in (buf, buf2)])
    assert np.array_equal(got, emlmpy.IirQ15(coef).run(sig))

    n = 128
    re, im = sig[:n], sig[n:2 * n] // 2
    e = emu(arch, "emlfft_q15")
    f = EmuObj(e.call_obj(e.globals["new"], n))
    ore, oim = EmuObj(e.to_obj(("array_h", re))), EmuObj(e.to_obj(("array_h", im)))
    e.method(f, "run", ore, oim)
    want = emlmpy.fft_q15(re, im)
    assert np.array_equal(np.frombuffer(e.buffer_bytes(int(ore)), np.int16), want[0])
    assert np.array_equal(np.frombuffer(e.buffer_bytes(int(oim)), np.int16), want[1])
    x, r, i = (EmuObj(e.to_obj(("array_h", v))) for v in (re, np.zeros(n // 2 + 1), np.zeros(n // 2 + 1)))
    e.method(f, "rfft", x, r, i)
    want = emlmpy.rfft_q15(re)
    assert np.array_equal(np.frombuffer(e.buffer_bytes(int(r)), np.int16), want[0])
    assert np.array_equal(np.frombuffer(e.buffer_bytes(int(i)), np.int16), want[1])


def assert_bits_but_nan(got: bytes, want: np.ndarray) -> None:
    """float32 bits equal, except that a NaN only has to be a NaN (any sign and payload)."""
    g = np.frombuffer(got, np.float32)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(g), nan)
    assert np.array_equal(g.view(np.uint32)[~nan], want.view(np.uint32)[~nan])


@pytest.mark.parametrize("arch", ARCHES)
def test_array(arch: str) -> None:
    """emlarray: features and linear_map give emlmpy.arrays' bits (soft float on armv6m and rv32imc,
    the FPU on armv7emsp), strided views included; a bad bound is a ValueError."""
    from emlmpy import arrays
    rng = np.random.default_rng(4)
    h = rng.integers(-32768, 32768, 96).astype(np.int16)
    f = rng.normal(5, 300, 96).astype(np.float32)
    # non-finite: inf - inf's NaN is 0xffc00000 on x86, 0x7fc00000 on ARM and soft float, and a NaN
    # input's sign and payload may pass through: bit for bit except a NaN result's sign and payload
    # (docs/emlarray.md), which the device may give differently from the host
    fi = f.copy()
    fi[[2, 8, 50, 68]] = np.inf, -np.inf, -np.inf, np.inf  # in every view below
    fn = f.copy()
    fn.view(np.uint32)[[4, 8, 60]] = 0xffc00000, 0x7f800001, 0xff812345
    e = emu(arch, "emlarray")
    out = EmuObj(e.to_obj(("array_f", np.zeros(6))))
    for tc, x in (("array_f", fi), ("array_f", fn)):
        src = EmuObj(e.to_obj((tc, x)))
        for start, step in ((0, 1), (2, 3), (4, 4)):
            e.call_obj(e.globals["features"], src, out, start, step)
            want = arrays.features(x, start, step)
            assert np.isnan(want).any()
            assert_bits_but_nan(e.buffer_bytes(int(out)), want)
        dst = EmuObj(e.to_obj(("array_f", np.zeros(len(x)))))
        e.call_obj(e.globals["linear_map"], src, dst, -32768.0, 32768.0, 1.5, -8.25)
        assert_bits_but_nan(e.buffer_bytes(int(dst)), arrays.linear_map(x, -32768.0, 32768.0, 1.5, -8.25, "f"))
    for tc, x in (("array_h", h), ("array_f", f)):
        src = EmuObj(e.to_obj((tc, x)))
        for start, step in ((0, 1), (2, 3)):
            e.call_obj(e.globals["features"], src, out, start, step)
            assert e.buffer_bytes(int(out)) == arrays.features(x, start, step).tobytes()
            for dt, np_t in (("array_h", np.int16), ("array_f", np.float32)):
                dst = EmuObj(e.to_obj((dt, np.zeros(len(x[start::step]), np_t))))
                e.call_obj(e.globals["linear_map"], src, dst, -32768.0, 32768.0, 1.5, -8.25, start, step)
                want = arrays.linear_map(x, -32768.0, 32768.0, 1.5, -8.25, dt[-1], start, step)
                assert e.buffer_bytes(int(dst)) == want.tobytes()
    with pytest.raises(Exception, match="ValueError"):
        e.call_obj(e.globals["linear_map"], src, src, 1.0, 1.0, 0.0, 1.0)


@pytest.mark.parametrize("arch", ARCHES)
def test_linear(arch: str) -> None:
    """emllinear: a LogisticRegression file (softmax) and a multi-output Ridge predict bit for bit
    like emlmpy's host predictor (soft float exp and division on armv6m and rv32imc)."""
    from sklearn.datasets import make_regression
    from sklearn.linear_model import LogisticRegression, Ridge
    X, y = load_iris(return_X_y=True)
    model = emlmpy.convert(LogisticRegression(max_iter=2000).fit(X, y + 3))
    X32 = X.astype(np.float32)
    e = emu(arch, "emllinear")
    m = EmuObj(e.call_obj(e.globals["load"], io.BytesIO(model.save())))
    out = EmuObj(e.to_obj(("array_f", np.zeros(3))))
    want = model.predict_proba(X32)
    for i in range(0, 150, 7):
        assert e.method(m, "predict", ("array_f", X32[i])) == model.predict_device(X32[i:i + 1])[0]
        e.method(m, "predict_proba", ("array_f", X32[i]), out)
        assert np.frombuffer(e.buffer_bytes(int(out)), np.float32).tobytes() == want[i].tobytes()
    # 'ovr' whose sigmoids underflow (scores -100.. to -80000): the softmax fallback, host's bits
    model = emlmpy.LinearModel([[-100, 0], [-101, 0], [-102, 0]], [0, 0, 0], "ovr")
    m = EmuObj(e.call_obj(e.globals["load"], io.BytesIO(model.save())))
    Xo = np.array([[1, 0], [0.86, 0], [8, 0], [800, 0]], np.float32)
    want = model.predict_proba(Xo)
    assert not np.isnan(want).any()
    for i in range(len(Xo)):
        e.method(m, "predict_proba", ("array_f", Xo[i]), out)
        assert np.frombuffer(e.buffer_bytes(int(out)), np.float32).tobytes() == want[i].tobytes()
    Xr, Yr = make_regression(30, 4, n_targets=2, random_state=1)
    model = emlmpy.convert(Ridge().fit(Xr, Yr))
    m = EmuObj(e.call_obj(e.globals["load"], io.BytesIO(model.save())))
    out = EmuObj(e.to_obj(("array_f", np.zeros(2))))
    Xr32 = Xr.astype(np.float32)
    want = model.scores(Xr32)
    for i in range(0, 30, 3):
        e.method(m, "decision_function", ("array_f", Xr32[i]), out)
        assert np.frombuffer(e.buffer_bytes(int(out)), np.float32).tobytes() == want[i].tobytes()
