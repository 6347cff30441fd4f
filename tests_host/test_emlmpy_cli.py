"""emlmpy command line and IIR helper."""
from __future__ import annotations

import os
import subprocess
import sys

import joblib
import numpy as np
import pytest
from scipy import signal
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.svm import SVC
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlmpy
from emlmpy.cli import main


@pytest.fixture(scope="module")
def iris_forest():
    X, y = load_iris(return_X_y=True)
    return RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y), X


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "emlmpy", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emlmpy: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_cli_convert_and_info_subprocess(tmp_path, iris_forest):
    est, X = iris_forest
    joblib.dump(est, tmp_path / "m.joblib")
    r = run("convert", str(tmp_path / "m.joblib"), "-o", str(tmp_path / "model.csv"))
    assert r.returncode == 0, r.stderr
    m = emlmpy.load(tmp_path / "model.csv")
    np.testing.assert_array_equal(m.predict(X), est.predict(X))
    device = f"device: emltrees.load(f)  or  emltrees.new({m.n_trees}, {m.n_nodes}, {m.n_payloads})"
    assert device in r.stdout.splitlines()
    r = run("info", str(tmp_path / "model.csv"))
    assert r.returncode == 0 and f"n_nodes: {m.n_nodes}" in r.stdout
    assert f"device_bytes: {m.device_bytes}" in r.stdout and "kind: trees" in r.stdout
    assert f"n_pass_through: {m.n_pass_through}" in r.stdout and device in r.stdout.splitlines()
    (tmp_path / "bad.csv").write_text("v,2\nk,1\nf,4\no,3\ns,1,1,0,0,0\nr,0\nn,0,1,2\n")
    r = run("info", str(tmp_path / "bad.csv"))
    assert r.returncode == 1 and "line 7" in r.stderr and "needs 5 field" in r.stderr
    one_error_line(r.stderr)


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
    (tmp_path / "junk.joblib").write_bytes(b"\x80not a pickle")
    assert main(["convert", str(tmp_path / "junk.joblib"), "-o", str(out)]) == 1
    assert "cannot read" in capsys.readouterr().err
    joblib.dump(SVC().fit(X, est.predict(X)), tmp_path / "lr.joblib")
    assert main(["convert", str(tmp_path / "lr.joblib"), "-o", str(out)]) == 1
    assert "unsupported estimator SVC" in capsys.readouterr().err
    (tmp_path / "trunc.bin").write_bytes(out.read_bytes()[:40])
    assert main(["info", str(tmp_path / "trunc.bin")]) == 1
    assert "offset 40" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["convert"])
    assert e.value.code == 2


@pytest.mark.parametrize("name", ["m.BIN", "m.Bin", "m.bin"])
def test_cli_output_extension_is_case_insensitive(tmp_path, iris_forest, name):
    est, _ = iris_forest
    joblib.dump(est, tmp_path / "m.joblib")
    assert main(["convert", str(tmp_path / "m.joblib"), "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / name).read_bytes()[:4] == b"EMLT"
    # the same rule for model.save(file=...)
    emlmpy.convert(est).save(file=str(tmp_path / ("s" + name)))
    assert (tmp_path / ("s" + name)).read_bytes()[:4] == b"EMLT"


def test_cli_refuses_to_overwrite_its_input(tmp_path, iris_forest, capsys):
    est, _ = iris_forest
    src = tmp_path / "m.joblib"
    joblib.dump(est, src)
    before = src.read_bytes()
    (tmp_path / "link.joblib").symlink_to(src)
    os.link(src, tmp_path / "hard.joblib")
    for out in (src, tmp_path / "link.joblib", tmp_path / "hard.joblib", tmp_path / "." / "m.joblib"):
        assert main(["convert", str(src), "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert "is the input file" in err, err
        assert src.read_bytes() == before
    # a model file as input, too
    assert main(["convert", str(src), "-o", str(tmp_path / "m.csv")]) == 0
    assert main(["convert", str(tmp_path / "m.csv"), "-o", str(tmp_path / "m.csv")]) == 1
    assert joblib.load(src).get_params() == est.get_params()


def test_cli_failed_conversion_leaves_no_file(tmp_path, capsys):
    """The output is written through a temporary file and os.replace: a refused conversion leaves
    an existing output as it was and creates no file."""
    X, y = load_iris(return_X_y=True)
    w = np.random.default_rng(0).random(len(y))
    joblib.dump(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y, sample_weight=w), tmp_path / "w.joblib")
    (tmp_path / "keep.bin").write_bytes(b"previous")
    assert main(["convert", str(tmp_path / "w.joblib"), "-o", str(tmp_path / "keep.bin")]) == 1
    assert "leaf_bits=8" in capsys.readouterr().err
    assert (tmp_path / "keep.bin").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bin", "w.joblib"]
    assert main(["convert", str(tmp_path / "w.joblib"), "-o", str(tmp_path / "keep.bin"), "--leaf-bits", "8"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bin", "w.joblib"]
    assert emlmpy.load(tmp_path / "keep.bin").leaf_kind == 1


def test_cli_info_on_an_estimator_says_not_a_model(tmp_path, iris_forest):
    est, _ = iris_forest
    joblib.dump(est, tmp_path / "m.joblib")
    joblib.dump(est, tmp_path / "z.joblib", compress=3)
    for name in ("m.joblib", "z.joblib"):
        r = run("info", str(tmp_path / name))
        assert r.returncode == 1
        assert "not a model file" in one_error_line(r.stderr)


def test_cli_converts_older_model_files(tmp_path, iris_forest):
    """emlearn's CSV and emlmpy version 1 files convert to version 2 (binary or CSV)."""
    import emlearn
    est, X = iris_forest
    with np.errstate(all="ignore"):
        (tmp_path / "eml.csv").write_text(emlearn.convert(est, method="inline", leaf_bits=8).save(name="m", format="csv"))
    r = run("convert", str(tmp_path / "eml.csv"), "-o", str(tmp_path / "eml.bin"))
    assert r.returncode == 0, r.stderr
    m = emlmpy.load(tmp_path / "eml.bin")
    assert (tmp_path / "eml.bin").read_bytes()[:6] == b"EMLT\x02\x00"
    assert m.same_as(emlmpy.load(tmp_path / "eml.csv"))
    v1 = "v,1\nk,2\nf,1\ns,1,1,2\nl,1.5\nl,-2.25\nr,0\nn,0,1065353216,-1,-2\n"  # x <= 1.0 ? 1.5 : -2.25
    (tmp_path / "v1.csv").write_text(v1)
    r = run("convert", str(tmp_path / "v1.csv"), "-o", str(tmp_path / "v2.csv"))
    assert r.returncode == 0, r.stderr
    m = emlmpy.load(tmp_path / "v2.csv")
    assert (tmp_path / "v2.csv").read_text().startswith("v,2\n")
    np.testing.assert_array_equal(m.predict(np.array([[0.5], [1.0], [1.5]])), np.float32([1.5, 1.5, -2.25]))
    r = run("convert", str(tmp_path / "v1.csv"), "-o", str(tmp_path / "x.csv"), "--leaf-bits", "8")
    assert r.returncode == 1 and "model file" in one_error_line(r.stderr)


def test_cli_refusals_are_one_line(tmp_path, capsys):
    """What the format cannot hold ends with exit 1 and one `emlmpy: error:` line, no traceback."""
    Xw = np.zeros((40, 9000), np.float32)
    yw = np.arange(40) % 2
    Xw[:, 8999] = yw
    joblib.dump(DecisionTreeClassifier().fit(Xw, yw), tmp_path / "wide.joblib")
    joblib.dump(DecisionTreeRegressor().fit(np.arange(4.0).reshape(-1, 1), [1e39, 1e39, 0, 0]), tmp_path / "big.joblib")
    joblib.dump(KNeighborsClassifier(n_neighbors=1).fit(np.arange(70000.0).reshape(-1, 1), np.arange(70000)),
                tmp_path / "knn.joblib")
    joblib.dump({"not": "an estimator"}, tmp_path / "dict.joblib")
    (tmp_path / "dir.bin").mkdir()
    for name, msg in (("wide.joblib", "8191"), ("big.joblib", "float32"), ("knn.joblib", "70000 classes"),
                      ("dict.joblib", "unsupported estimator dict")):
        r = run("convert", str(tmp_path / name), "-o", str(tmp_path / "out.bin"))
        assert r.returncode == 1 and msg in one_error_line(r.stderr), r.stderr
    r = run("convert", str(tmp_path / "big.joblib"), "-o", str(tmp_path / "dir.bin"))
    assert r.returncode == 1
    one_error_line(r.stderr)


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


def test_help_text_has_balanced_backticks():
    r = run("--help")
    assert r.returncode == 0 and r.stdout.count("`") % 2 == 0, r.stdout
    assert "convert" in r.stdout and "info" in r.stdout


def test_errors_print_plain_numbers_not_numpy_reprs():
    """numpy 2's repr of a scalar is np.float64(2.0): messages show 2.0."""
    sos = signal.butter(2, 0.2, output="sos")
    sos[0, 3] = 2.0
    for f in (emlmpy.iir_coefficients, emlmpy.iir_coefficients_q15):
        with pytest.raises(ValueError) as e:
            f(sos)
        assert "a0 = 2.0;" in str(e.value) and "np." not in str(e.value)
    with pytest.raises(emlmpy.ConversionError) as e:
        emlmpy.iir_coefficients_q15([[0.1, 0, 0, 1, -3.5, 0.25]])
    assert "a1 = -3.5, a2 = 0.25 " in str(e.value) and "np." not in str(e.value)
