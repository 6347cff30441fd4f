"""emlmpy's reader against the device loader (cores/emlc_load via tests_host/cload.py): on
mutated files both accept or both reject, and what both accept is the same model predicting
the same (bit for bit for class indices and float32 values)."""
from __future__ import annotations

import functools
import random

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import cload
import emlmpy
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
            b[pos] = rng.choice(b"0123456789-,.e \t\r\nlnrvq[]") if rng.random() < 0.5 else rng.randrange(256)
        else:
            b[pos] ^= 1 << rng.randrange(8)
    return bytes(b)


def host_arrays(m) -> dict:
    a = {"T": m.thresholds.tolist(), "F": m.features.tolist(), "C": m.children.tolist(),
         "R": m.roots.tolist(), "L": np.ascontiguousarray(m.leaves).tobytes()}
    if m.dtype == "int16":
        a["Q"] = [(int(s), int(o)) for s, o in zip(m.scale.view(np.uint32), m.offset.view(np.uint32))]
    return a


@pytest.mark.parametrize("name,fmt", [(n, f) for n in ("iris", "iris8", "digits_i16", "reg")
                                      for f in ("csv", "bin")] + [("emlearn8", "csv")])
def test_host_reader_agrees_with_device_loader(name, fmt, tmp_path):
    m, X = models()[name]
    if isinstance(m, str):  # an emlearn file
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
    X = X.astype(np.float32)  # the driver quantizes int16 models' inputs with the file's q values
    results = cload.run(paths, chunk=97, x=X, caps=CAPS, dump=True)
    accepted = 0
    for data, r in zip(files, results):
        try:
            host = emlmpy.loads(data)
        except ModelFormatError as e:
            assert not r.ok, (e, data[:200])
            continue
        assert r.ok, (r, data[:200])
        accepted += 1
        assert r.shape[5:] == (host.n_nodes, host.n_leaves)
        want = host_arrays(host)
        for k, v in want.items():
            assert r.arrays[k] == v, k
        if host.n_features != m.n_features or host.dtype != m.dtype:
            continue  # the driver's sample file no longer fits this model
        vals, proba = cload.decode_preds(r)
        if host.is_classifier:
            np.testing.assert_array_equal(vals, host.predict_index(X))
            if host.leaf_kind != 3:  # PROBA8 probabilities: see test_cores_load.check_proba
                assert proba.tobytes() == host.predict_proba(X).tobytes()
        else:
            assert vals.tobytes() == host.predict(X).astype(np.float32).tobytes()
    assert 1 <= accepted < len(files)
