"""Every file kind emlmpy writes is read back by emlmpy.load/loads and by the command line (info,
and convert from a model file): trees, k-NN, linear (EMLL). K-means centers files have no header:
the errors name KMeansModel.load(path, n_features)."""
from __future__ import annotations

import struct
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import emlmpy
from emlmpy.cli import main

X, y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def linear_files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("linear")
    joblib.dump(LogisticRegression(max_iter=2000).fit(X, y), d / "lr.joblib")
    joblib.dump(LinearRegression().fit(X[:, :1], X[:, 2]), d / "reg.joblib")  # 20-byte file
    for name in ("lr", "reg"):
        assert main(["convert", str(d / f"{name}.joblib"), "-o", str(d / f"{name}.bin")]) == 0
    return d


def test_load_reads_linear_files(linear_files: Path) -> None:
    for name in ("lr", "reg"):
        est = joblib.load(linear_files / f"{name}.joblib")
        m = emlmpy.load(linear_files / f"{name}.bin")
        assert isinstance(m, emlmpy.LinearModel)
        data = (linear_files / f"{name}.bin").read_bytes()
        back = emlmpy.loads(data)
        assert back.tobytes() == data == m.tobytes() == emlmpy.convert(est).tobytes()
        Xs = X if name == "lr" else X[:, :1]
        np.testing.assert_array_equal(m.predict(Xs), emlmpy.convert(est).predict(Xs))
    assert len((linear_files / "reg.bin").read_bytes()) == 20


def test_cli_info_and_convert_read_linear_files(linear_files: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["info", str(linear_files / "lr.bin")]) == 0
    out = capsys.readouterr().out
    assert "kind: linear-logistic" in out and "n_features: 4" in out and "n_classes: 3" in out
    assert "emllinear.load" in out
    assert main(["convert", str(linear_files / "lr.bin"), "-o", str(linear_files / "again.bin")]) == 0
    assert (linear_files / "again.bin").read_bytes() == (linear_files / "lr.bin").read_bytes()
    assert main(["convert", str(linear_files / "lr.bin"), "-o", str(linear_files / "again.csv")]) == 1
    assert "EMLL" in capsys.readouterr().err


def test_malformed_linear_files_fail_at_the_device_offsets(linear_files: Path) -> None:
    """The offsets emllinear.load reports (tests_host/test_modules_linear.py runs it), as a
    ModelFormatError naming the file."""
    good = (linear_files / "lr.bin").read_bytes()

    def patched(offset: int, data: bytes) -> bytes:
        return good[:offset] + data + good[offset + len(data):]
    cases = {b"EMLL": (4, "file too short"), good[:40]: (40, "file too short"),
             patched(4, b"\x02"): (4, "bad version"), patched(5, b"\x04"): (5, "bad kind"),
             patched(6, b"\0\0"): (6, "bad n_features"), patched(8, b"\2\0"): (8, "bad n_outputs"),
             patched(10, b"\1\0"): (10, "reserved not 0"),
             patched(32, struct.pack("<f", np.nan)): (32, "not finite"),
             good + b"\0": (len(good), "data after the end")}
    for data, (offset, reason) in cases.items():
        with pytest.raises(emlmpy.ModelFormatError, match=reason) as e:
            emlmpy.loads(data, path="lr.bin")
        assert e.value.offset == offset and str(e.value).startswith(f"lr.bin, offset {offset}: ")


def test_every_written_kind_loads(tmp_path: Path) -> None:
    trees = emlmpy.convert(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y))
    knn = emlmpy.convert(KNeighborsClassifier(n_neighbors=3).fit(X, y))
    for m in (trees, knn):
        for fmt in ("csv", "bin"):
            m.save(file=str(tmp_path / f"m.{fmt}"))
            assert emlmpy.load(tmp_path / f"m.{fmt}").same_as(m)
            assert main(["info", str(tmp_path / f"m.{fmt}")]) == 0


def test_kmeans_centers_errors_name_the_reader(tmp_path: Path, capsys) -> None:
    km = emlmpy.convert(KMeans(n_clusters=3, n_init=1, random_state=0).fit(X))
    km.save(tmp_path / "km.bin")
    hint = "KMeansModel.load(path, n_features)"
    with pytest.raises(emlmpy.ModelFormatError, match=r"KMeansModel\.load\(path, n_features\)"):
        emlmpy.load(tmp_path / "km.bin")
    capsys.readouterr()
    assert main(["info", str(tmp_path / "km.bin")]) == 1
    assert hint in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "km.bin"), "-o", str(tmp_path / "x.bin")]) == 1
    assert hint in capsys.readouterr().err
    # centers whose first byte happens to be 'E' hit the magic check: the hint is there too
    e_first = emlmpy.KMeansModel(np.frombuffer(b"E" + bytes(31), "<f4").reshape(2, 4)).save()
    with pytest.raises(emlmpy.ModelFormatError, match=r"bad magic .*KMeansModel\.load"):
        emlmpy.loads(e_first)
    assert emlmpy.KMeansModel.load(tmp_path / "km.bin", 4).tobytes() == km.tobytes()


def test_dumps_names_the_writer_of_linear_and_kmeans_models() -> None:
    for m in (emlmpy.LinearModel(np.ones(3), 0.5), emlmpy.KMeansModel(np.ones((2, 3)))):
        with pytest.raises(TypeError, match=f"not {type(m).__name__}: use its tobytes"):
            emlmpy.dumps(m, "bin")
