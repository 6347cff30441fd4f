"""emlmpy's reader against the device loader (cores/emlc_load via tests_host/cload.py): on
mutated version 2 files both accept or both reject, and what both accept predicts the same (bit for
bit for class indices and float32 values). Files emlmpy reads in an older format (version 1,
emlearn's CSV), which it converts on the host, the device refuses.

Uses cload.run(paths, chunk=, x=, caps=) -> results with .ok, and cload.decode_preds(result)."""
from __future__ import annotations

import functools
import random

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

import cload
import emlmpy
import emlmpy.io
from emlmpy import ModelFormatError

CAPS = (4000, 64, 1 << 17, 128)  # max_nodes, max_trees, leaf bytes, max_features


@functools.lru_cache(maxsize=None)
def models():
    out = {}
    X, y = datasets.load_iris(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)
    out["iris"] = (emlmpy.convert(rf), X)
    out["iris8"] = (emlmpy.convert(rf, leaf_bits=8), X)
    Xd, yd = datasets.load_digits(return_X_y=True)
    rfd = RandomForestClassifier(n_estimators=3, max_leaf_nodes=20, random_state=0).fit(Xd, yd)
    out["digits_i16"] = (emlmpy.convert(rfd, dtype="int16", leaf_bits=0), Xd[:40])
    Xr, yr = datasets.load_diabetes(return_X_y=True)
    rfr = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(Xr, yr)
    out["reg"] = (emlmpy.convert(rfr), Xr[:40])
    Xp, yp = datasets.make_regression(n_samples=800, n_features=4, noise=5.0, random_state=2)
    out["pass_through"] = (emlmpy.convert(DecisionTreeRegressor(max_leaf_nodes=300, random_state=0).fit(Xp, yp)),
                           Xp[:40])
    assert out["pass_through"][0].n_pass_through > 0
    import emlearn
    Xm, ym = datasets.make_classification(n_samples=400, n_features=6, n_informative=5, n_redundant=0,
                                          n_classes=20, n_clusters_per_class=1, random_state=0)
    rfm = RandomForestClassifier(n_estimators=2, max_depth=4, random_state=0).fit(Xm, ym)
    with np.errstate(all="ignore"):
        text = emlearn.convert(rfm, method="inline", dtype="float", leaf_bits=8).save(name="m", format="csv")
    assert "\n " in text  # some leaf arrays are wrapped over two lines
    out["emlearn8"] = (text, Xm[:40])
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    r = rng.random()
    if r < 0.2:
        return bytes(b[:rng.randrange(len(b))])
    if r < 0.3 and b"\n" in b:  # swap two lines
        lines = bytes(b).split(b"\n")
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    for _ in range(rng.choice((1, 1, 2, 3))):
        pos = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[pos] = rng.choice(b"0123456789-,+ \t\r\nnrvpqdk") if rng.random() < 0.5 else rng.randrange(256)
        else:
            b[pos] ^= 1 << rng.randrange(8)
    return bytes(b)


@pytest.mark.parametrize("name,fmt", [(n, f) for n in ("iris", "iris8", "digits_i16", "reg", "pass_through")
                                      for f in ("csv", "bin")] + [("emlearn8", "csv")])
def test_host_reader_agrees_with_device_loader(name, fmt, tmp_path):
    m, X = models()[name]
    if isinstance(m, str):  # an emlearn file: emlmpy converts it, the device refuses it
        m, good = emlmpy.loads(m), m
    else:
        good = m.save(format=fmt)
    good = good.encode() if isinstance(good, str) else good
    rng = random.Random(f"{name}-{fmt}")
    files = [good] + [mutate(good, rng) for _ in range(150)]
    paths = []
    for i, data in enumerate(files):
        p = tmp_path / f"f{i}"
        p.write_bytes(data)
        paths.append(p)
    X = X.astype(np.float32)  # the driver quantizes int16 models' inputs with the file's scale/offset
    results = cload.run(paths, chunk=97, x=X, caps=CAPS)
    accepted = 0
    for data, r in zip(files, results):
        try:
            host = emlmpy.loads(data)
        except ModelFormatError as e:
            assert not r.ok, (e, data[:200])
            continue
        if emlmpy.io.file_format(data) not in ("trees-2-bin", "trees-2-csv"):
            assert not r.ok, ("the device refuses older formats", data[:200])
            continue
        assert r.ok, (r, data[:200])
        accepted += 1
        if host.n_features != m.n_features or host.dtype != m.dtype:
            continue  # the driver's sample file no longer fits this model
        vals, proba = cload.decode_preds(r)
        if host.is_classifier:
            np.testing.assert_array_equal(vals, host.predict_index(X))
            assert proba.tobytes() == host.predict_proba(X).tobytes()
        else:
            assert vals.tobytes() == host.predict(X).astype(np.float32).tobytes()
    if name == "emlearn8":
        assert accepted == 0
    else:
        assert 1 <= accepted < len(files)
