"""emlmpy's k-means side: convert(KMeans / MiniBatchKMeans) -> KMeansModel (float32 centers), the
centers file (raw float32, docs/model-format.md §5), the host predictor's rule, refusals, the CLI."""
from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.cluster import KMeans, MiniBatchKMeans

import emlmpy
from emlmpy.cli import main as cli


def fitted(cls=KMeans, k: int = 4) -> KMeans:
    rng = np.random.default_rng(0)
    X = rng.normal(0, 3, (200, 3))
    return cls(k, n_init=1, random_state=0).fit(X)


@pytest.mark.parametrize("cls", [KMeans, MiniBatchKMeans])
def test_convert_and_file_roundtrip(cls, tmp_path: Path) -> None:
    sk = fitted(cls)
    m = emlmpy.convert(sk)
    assert isinstance(m, emlmpy.KMeansModel) and m.kind == "kmeans"
    assert m.cluster_centers_.dtype == np.float32 and m.cluster_centers_.shape == (4, 3)
    assert np.array_equal(m.cluster_centers_, sk.cluster_centers_.astype(np.float32))
    content = m.save(file=str(tmp_path / "c.bin"))
    assert content == (tmp_path / "c.bin").read_bytes() == sk.cluster_centers_.astype("<f4").tobytes()
    back = emlmpy.KMeansModel.load(tmp_path / "c.bin", n_features=3)
    assert np.array_equal(back.cluster_centers_, m.cluster_centers_)
    info = m.info()
    assert info["n_clusters"] == 4 and info["n_features"] == 3 and info["device_bytes"] == 48
    assert "KMeans(4, 3" in info["device"]
    with pytest.raises(ValueError, match="whole number"):
        emlmpy.KMeansModel.from_bytes(content[:-4], n_features=3)


def test_host_predict_rule() -> None:
    """float32 sum of squared differences in feature order; ties to the lowest index; integer
    inputs as their float32 values."""
    c = np.array([[0, 0], [2, 0], [1, 2]], np.float32)
    m = emlmpy.KMeansModel(c)
    assert m.predict(np.array([[1, 0], [1, 1.5], [5, 0]], np.float32)).tolist() == [0, 2, 1]
    assert m.predict(np.array([[1, 0]], np.uint8)).tolist() == [0]
    assert m.predict(np.array([1, 0], np.int16)).tolist() == [0]
    x = np.array([[0.1, 0.7]], np.float32)
    e0, e1 = np.float32(0.1) - c[:, 0], np.float32(0.7) - c[:, 1]
    assert np.array_equal(m.distances(x)[0], e0 * e0 + e1 * e1)
    X = np.random.default_rng(1).normal(0, 1, (50, 2)).astype(np.float32)
    d = m.distances(X).min(axis=1)
    want = np.float32(0)
    for v in d:
        want = np.float32(want + v)
    assert m.inertia(X) == want


def test_refusals() -> None:
    with pytest.raises(emlmpy.ConversionError, match="not fitted"):
        emlmpy.convert(KMeans(3))
    with pytest.raises(emlmpy.ConversionError, match="float32 whatever"):
        emlmpy.convert(fitted(), dtype="int16")
    with pytest.raises(emlmpy.ConversionError, match="leaf_bits"):
        emlmpy.convert(fitted(), leaf_bits=8)
    sk = fitted()
    sk.cluster_centers_[0, 0] = 1e13  # beyond the device's 2**40
    with pytest.raises(emlmpy.ConversionError, match="2\\*\\*40"):
        emlmpy.convert(sk)
    for bad in (np.zeros((0, 2)), np.zeros(3), np.array([[np.nan, 0.0]]), np.zeros((2, 40000))):
        with pytest.raises(ValueError):
            emlmpy.KMeansModel(bad)
    m = emlmpy.KMeansModel(np.zeros((2, 2)))
    for X in (np.zeros((3, 3)), np.array([[np.inf, 0]]), np.array([[2e12, 0]])):
        with pytest.raises(ValueError):
            m.predict(X)


def test_cli(tmp_path: Path, capsys) -> None:
    joblib.dump(fitted(), tmp_path / "km.joblib")
    assert cli(["convert", str(tmp_path / "km.joblib"), "-o", str(tmp_path / "centers.bin")]) == 0
    out = capsys.readouterr().out
    assert "float32 cluster centers" in out and "n_clusters: 4" in out
    assert (tmp_path / "centers.bin").stat().st_size == 48
    assert cli(["convert", str(tmp_path / "km.joblib"), "-o", str(tmp_path / "centers.csv")]) == 1
    assert "use a .bin output" in capsys.readouterr().err
    assert not (tmp_path / "centers.csv").exists()
