"""emlmpy command line and IIR helper."""
from __future__ import annotations

import subprocess
import sys

import joblib
import numpy as np
import pytest
from scipy import signal
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import emlmpy
from emlmpy.cli import main


@pytest.fixture(scope="module")
def iris_forest():
    X, y = load_iris(return_X_y=True)
    return RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y), X


def run(*args):
    return subprocess.run([sys.executable, "-m", "emlmpy", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_convert_and_info_subprocess(tmp_path, iris_forest):
    est, X = iris_forest
    joblib.dump(est, tmp_path / "m.joblib")
    r = run("convert", str(tmp_path / "m.joblib"), "-o", str(tmp_path / "model.csv"))
    assert r.returncode == 0, r.stderr
    m = emlmpy.load(tmp_path / "model.csv")
    np.testing.assert_array_equal(m.predict(X), est.predict(X))
    r = run("info", str(tmp_path / "model.csv"))
    assert r.returncode == 0 and f"n_nodes: {m.n_nodes}" in r.stdout
    assert f"device_bytes: {m.device_bytes}" in r.stdout and "kind: trees" in r.stdout
    (tmp_path / "bad.csv").write_text("v,1\nk,1\nf,4\no,3\ns,1,1,1\nn,0,1,2\n")
    r = run("info", str(tmp_path / "bad.csv"))
    assert r.returncode == 1 and "line 6" in r.stderr and "needs 4 field" in r.stderr


def test_cli_options_in_process(tmp_path, iris_forest, capsys):
    est, X = iris_forest
    joblib.dump(est, tmp_path / "m.joblib")
    out = tmp_path / "model.bin"
    assert main(["convert", str(tmp_path / "m.joblib"), "-o", str(out), "--dtype", "int16"]) == 0
    m = emlmpy.load(out)
    assert out.read_bytes()[:4] == b"EMLT" and m.dtype == "int16"
    assert np.mean(m.predict(X) == est.predict(X)) >= 0.99
    assert main(["convert", str(tmp_path / "m.joblib"), "-o", str(tmp_path / "x.txt"), "--format", "bin",
                 "--leaf-bits", "0"]) == 0
    assert emlmpy.load(tmp_path / "x.txt").leaf_kind == 0
    capsys.readouterr()
    # bad inputs: exit 1 and a message naming the problem
    assert main(["convert", str(tmp_path / "missing.joblib"), "-o", str(out)]) == 1
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle")
    assert main(["convert", str(tmp_path / "junk.joblib"), "-o", str(out)]) == 1
    assert "cannot read" in capsys.readouterr().err
    joblib.dump(LogisticRegression().fit(X, est.predict(X)), tmp_path / "lr.joblib")
    assert main(["convert", str(tmp_path / "lr.joblib"), "-o", str(out)]) == 1
    assert "unsupported estimator LogisticRegression" in capsys.readouterr().err
    (tmp_path / "trunc.bin").write_bytes(out.read_bytes()[:40])
    assert main(["info", str(tmp_path / "trunc.bin")]) == 1
    assert "offset 40" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["convert"])
    assert e.value.code == 2


def test_iir_coefficients():
    sos = signal.butter(4, [0.1, 0.3], btype="bandpass", output="sos")
    c = emlmpy.iir_coefficients(sos)
    assert c.dtype == np.float32 and c.shape == (sos.size,)
    np.testing.assert_array_equal(c, sos.astype(np.float32).ravel())
    x = np.random.default_rng(0).normal(size=500)
    y32 = signal.sosfilt(c.reshape(-1, 6).astype(np.float64), x)
    np.testing.assert_allclose(y32, signal.sosfilt(sos, x), atol=1e-4)
    with pytest.raises(ValueError, match="shape"):
        emlmpy.iir_coefficients(sos.ravel())
    with pytest.raises(ValueError, match="shape"):
        emlmpy.iir_coefficients(np.zeros((0, 6)))
    bad = sos.copy()
    bad[1, 3] = 2.0
    with pytest.raises(ValueError, match="section 1 has a0"):
        emlmpy.iir_coefficients(bad)
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        emlmpy.iir_coefficients(bad)
