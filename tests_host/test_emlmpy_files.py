"""emlmpy model files: CSV and bin round trips, emlearn's CSV, malformed files."""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlmpy
from emlmpy import ModelFormatError


@functools.lru_cache(maxsize=None)
def data(name):
    return getattr(datasets, "load_" + name)(return_X_y=True)


@functools.lru_cache(maxsize=None)
def model(kind):
    if kind.startswith("knn"):
        X, y = data("iris")
        est = KNeighborsClassifier(n_neighbors=3).fit(X, y)
        return emlmpy.convert(est, dtype="int16" if kind.endswith("int16") else "float"), X
    if kind.startswith("reg"):
        X, y = data("diabetes")
        est = RandomForestRegressor(n_estimators=4, max_depth=5, random_state=0).fit(X, y)
        return emlmpy.convert(est, dtype="int16" if kind.endswith("int16") else "float"), X
    if kind == "single_leaf":
        X, y = data("iris")
        est = DecisionTreeRegressor().fit(X, np.ones(len(y)))
        return emlmpy.convert(est), X
    X, y = data("wine")
    est = RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0).fit(X, y)
    leaf_bits = {"proba": None, "class": 0, "proba8": 8, "proba_int16": None}[kind]
    return emlmpy.convert(est, dtype="int16" if kind.endswith("int16") else "float", leaf_bits=leaf_bits), X


KINDS = ["proba", "class", "proba8", "proba_int16", "reg", "reg_int16", "single_leaf", "knn", "knn_int16"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["csv", "bin"])
def test_round_trip_identical(kind, fmt, tmp_path):
    m, X = model(kind)
    path = tmp_path / ("m." + fmt)
    content = m.save(file=str(path), name="m", format=fmt)
    assert isinstance(content, str if fmt == "csv" else bytes)
    back = emlmpy.load(path)
    assert back.same_as(m)
    assert back.info() == m.info()
    if m.is_classifier:
        np.testing.assert_array_equal(back.predict_index(X), m.predict_index(X))
        np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))
    else:
        np.testing.assert_array_equal(back.predict(X), m.predict(X))
    # writing the loaded model again gives the same bytes
    assert back.save(format=fmt) == content


def test_bin_layout_is_the_documented_one():
    m, _ = model("proba_int16")
    b = m.save(format="bin")
    assert b[:4] == b"EMLT"
    version, dtype, kind, nf, no, nt, _r, nn, nl, total, _r2 = np.frombuffer(
        b[4:32], dtype=np.dtype("<u2, u1, u1, <u2, <u2, <u2, <u2, <u4, <u4, <u4, <u4"))[0]
    assert (version, dtype, kind, nf, no, nt) == (1, 1, 1, 13, 3, 5)
    assert (nn, nl, total) == (m.n_nodes, m.n_leaves, len(b))
    off = 32
    assert b[off:off + 4 * nn] == m.thresholds.astype("<i4").tobytes()
    off += (4 * nn + 3) // 4 * 4
    assert b[off:off + 2 * nn] == m.features.astype("<u2").tobytes()
    off += (2 * nn + 3) // 4 * 4
    assert b[off:off + 4 * nn] == m.children.astype("<i2").tobytes()
    off += 4 * nn
    assert b[off:off + 2 * nt] == m.roots.astype("<i2").tobytes()
    off += (2 * nt + 3) // 4 * 4
    assert b[off:off + 12 * nl] == m.leaves.astype("<f4").tobytes()
    off += 12 * nl
    assert b[off:off + 4 * nf] == m.scale.astype("<f4").tobytes()
    assert b[off + 4 * nf:] == m.offset.astype("<f4").tobytes()


# ---- emlearn's CSV ---------------------------------------------------------------------------
def _emlearn_case(name, leaf_bits, n_estimators=4):
    import emlearn
    X, y = data(name)
    est = RandomForestClassifier(n_estimators=n_estimators, max_depth=6, random_state=0).fit(X, y)
    ref = emlearn.convert(est, method="inline", dtype="float", leaf_bits=leaf_bits)
    return ref, ref.save(name="m", format="csv"), X.astype(np.float32)


@pytest.mark.parametrize("name", ["iris", "digits"])
@pytest.mark.parametrize("leaf_bits", [0, 8])
def test_emlearn_csv_predicts_as_emlearn(name, leaf_bits, tmp_path):
    ref, csv, X = _emlearn_case(name, leaf_bits)
    assert "\r\n" in csv and csv.startswith("f,")
    path = tmp_path / "emlearn.csv"
    path.write_bytes(csv.encode())
    m = emlmpy.load(path)
    assert m.leaf_kind == (0 if leaf_bits == 0 else 3) and m.dtype == "float"
    np.testing.assert_array_equal(m.predict(X), ref.predict(X))
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), atol=2e-6)
    ch = m.children.astype(int).reshape(-1, 2)
    assert all((c < 0 or c > i) for i, row in enumerate(ch) for c in row)
    # converted to our format it stays the same model
    assert emlmpy.loads(m.save(format="csv")).same_as(m)


def test_emlearn_csv_wrapped_leaf_arrays():
    import emlearn
    X, y = datasets.make_classification(n_samples=600, n_features=10, n_informative=8, n_classes=24,
                                        n_clusters_per_class=1, random_state=0)
    est = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    ref = emlearn.convert(est, method="inline", dtype="float", leaf_bits=8)
    csv = ref.save(name="m", format="csv")
    assert re.search(r"l,\[[^\]]*\n", csv)  # numpy wrapped a leaf onto two lines
    m = emlmpy.loads(csv)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(m.predict(X32), ref.predict(X32))


def test_emlearn_csv_regression():
    import emlearn
    X, y = data("diabetes")
    est = ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    ref = emlearn.convert(est, method="inline", dtype="float")
    m = emlmpy.loads(ref.save(name="m", format="csv"))
    assert m.leaf_kind == 2
    X32 = X.astype(np.float32)
    # emlearn's C code rounds leaf values to 6 decimals, its CSV does not: tiny differences only
    np.testing.assert_allclose(m.predict(X32), ref.predict(X32), rtol=1e-6, atol=1e-5)


# ---- malformed files -------------------------------------------------------------------------
def small_csv():
    X, y = data("iris")
    est = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    return emlmpy.convert(est).save(format="csv")


def lines_of(text):
    return text.split("\n")


def with_line(text, idx, new):
    ls = lines_of(text)
    ls[idx] = new
    return "\n".join(ls)


def find(text, prefix):
    return next(i for i, l in enumerate(lines_of(text)) if l.startswith(prefix))


def test_csv_errors_name_the_line():
    text = small_csv()
    cases = []
    n0 = find(text, "n,")
    cases.append((with_line(text, 0, "v,2"), 1, "unsupported format version 2"))
    cases.append((with_line(text, n0, "n,2,abc,1,-1"), n0 + 1, "bad integer 'abc'"))
    cases.append((with_line(text, n0, "n,2,12,1"), n0 + 1, "needs 4 field"))
    cases.append((with_line(text, n0, "n,9,12,1,-1"), n0 + 1, "feature 9 >= n_features"))
    cases.append((with_line(text, n0, "n,2,12,0,-1"), n0 + 1, "not greater than its parent"))
    cases.append((with_line(text, n0, "n,2,12,50,-1"), n0 + 1, "child node 50"))
    cases.append((with_line(text, n0, "n,2,12,-40,-1"), n0 + 1, "child leaf 39"))
    s = find(text, "s,")
    cases.append((with_line(text, s, "s,1,9,3"), None, "declares 9 'n' line"))
    cases.append((with_line(text, s, "s,1,1,3"), n0 + 2, "more 'n' lines than the 1 declared"))
    lp = find(text, "lp,")
    cases.append((with_line(text, lp, "lp,1.0,x,0"), lp + 1, "bad number 'x'"))
    cases.append((with_line(text, lp, "lp,1.0,1e99,0"), lp + 1, "does not fit a float32"))
    cases.append((with_line(text, lp, "lp,1.0,nan,0"), lp + 1, "bad number 'nan'"))
    cases.append((with_line(text, find(text, "k,"), "k,7"), 3, "unknown leaf kind 7"))
    cases.append((text + "f,4\n", len(lines_of(text)), "header line 'f' after the first data line"))
    cases.append(("", 1, "empty file"))
    cases.append((with_line(text, 1, "D,float"), 2, "bad line kind 'D'"))
    cases.append((with_line(text, 1, "d,float64"), 2, "unknown dtype 'float64'"))
    cases.append(("d,float\n" + text, 1, "'d' line before the 'v' line"))
    cases.append(("f,4\nc,3\nlp,1,0,0\n", 3, "'lp' line without a preceding 'v' line"))
    cases.append(("hello,world\n", 1, "not a model file"))
    for bad, line, msg in cases:
        with pytest.raises(ModelFormatError) as e:
            emlmpy.loads(bad)
        assert msg in str(e.value), (msg, str(e.value))
        if line is not None:
            assert e.value.line == line and f"line {line}" in str(e.value), (msg, str(e.value))


def test_csv_variants_accepted():
    """CRLF line ends, no final newline, blank lines, unknown kinds, optional c/s/d lines."""
    text = small_csv()
    m = emlmpy.loads(text)
    assert emlmpy.loads(text.replace("\n", "\r\n")).same_as(m)
    assert emlmpy.loads(text.rstrip("\n")).same_as(m)
    assert emlmpy.loads(text.replace("\nr,", "\n\nzz,future,stuff\nr,")).same_as(m)
    minimal = "\n".join(l for l in lines_of(text) if not l.startswith(("c,", "s,", "d,")))
    assert emlmpy.loads(minimal).same_as(m)


def test_csv_truncations_are_reported():
    text = small_csv()
    n_lines = len(lines_of(text.rstrip("\n")))
    for cut in range(1, n_lines):
        short = "\n".join(lines_of(text)[:cut])
        with pytest.raises(ModelFormatError, match=r"line \d+"):
            emlmpy.loads(short)
    # cutting inside the last line is caught too (a shorter number or a missing field)
    with pytest.raises(ModelFormatError, match="line"):
        emlmpy.loads(text.rstrip("\n")[:-3])


def test_bin_errors_name_the_offset():
    X, y = data("iris")
    b = emlmpy.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)).save(format="bin")
    cases = [
        (b[:20], 20, "truncated header"),
        (b[:-4], len(b) - 4, "truncated"),
        (b + b"\0\0\0\0", len(b), "extra bytes"),
        (b"EMLX" + b[4:], 0, "bad magic"),
        (b[:4] + b"\x02\x00" + b[6:], 4, "unsupported format version 2"),
        (b[:6] + b"\x05" + b[7:], 6, "unknown input dtype"),
        (b[:7] + b"\x09" + b[8:], 7, "unknown leaf kind"),
        (b[:24] + (len(b) + 4).to_bytes(4, "little") + b[28:], 24, "header says"),
    ]
    # first node's feature -> 7 (>= n_features 4)
    nn = int.from_bytes(b[16:20], "little")
    feat_off = 32 + 4 * nn
    cases.append((b[:feat_off] + b"\x07\x00" + b[feat_off + 2:], feat_off, "feature 7 >= n_features"))
    for bad, off, msg in cases:
        with pytest.raises(ModelFormatError) as e:
            emlmpy.loads(bad)
        assert msg in str(e.value) and e.value.offset == off, (msg, str(e.value))
        assert f"offset {off}" in str(e.value)


@pytest.mark.parametrize("fmt", ["csv", "bin"])
@pytest.mark.parametrize("kind", ["proba", "proba8", "reg_int16", "knn_int16"])
def test_random_corruption_never_escapes(fmt, kind):
    """Truncations and byte flips: a ModelFormatError, or a model that validates and predicts."""
    m, X = model(kind)
    good = m.save(format=fmt)
    good = good.encode() if isinstance(good, str) else good
    rng = np.random.default_rng(5)
    loaded = 0
    for trial in range(300):
        data = bytearray(good)
        if trial % 3 == 0:
            data = data[:int(rng.integers(0, len(data)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        try:
            got = emlmpy.loads(bytes(data))
        except ModelFormatError:
            continue
        got.check()
        p = got.predict_proba(X[:20]) if got.is_classifier else got.predict(X[:20])
        assert p.shape[0] == 20
        loaded += 1
    assert loaded < 300


def test_emlearn_csv_in_breadth_first_order_loads():
    """emlearn's relative jumps allow any node order with children after parents (e.g. breadth
    first); such a file loads as it is and predicts like the depth-first one."""
    import emlearn
    X, y = data("wine")
    est = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    with np.errstate(all="ignore"):
        csv = emlearn.convert(est, method="inline", dtype="float").save(name="m", format="csv")
    lines = csv.split("\r\n")
    head = [l for l in lines if not l.startswith(("n,", "r,"))]
    nodes = [l.split(",") for l in lines if l.startswith("n,")]
    roots = [int(l.split(",")[1]) for l in lines if l.startswith("r,")]
    kids = {i: [i + int(n[k]) if int(n[k]) > 0 else None for k in (3, 4)] for i, n in enumerate(nodes)}
    order = []
    frontier = list(roots)
    while frontier:  # breadth first over all trees at once
        order += frontier
        frontier = [c for n in frontier for c in kids[n] if c is not None]
    assert sorted(order) == list(range(len(nodes))) and order != list(range(len(nodes)))
    new = {old: i for i, old in enumerate(order)}
    out = head + [f"r,{new[r]}" for r in roots]
    for i, old in enumerate(order):
        f, t, l, r = nodes[old][1:]
        enc = [str(new[c] - i) if c is not None else v for c, v in zip(kids[old], (l, r))]
        out.append(f"n,{f},{t},{enc[0]},{enc[1]}")
    bfs = emlmpy.loads("\r\n".join(out))
    dfs = emlmpy.loads(csv)
    assert bfs.n_nodes == dfs.n_nodes and not bfs.same_as(dfs)
    assert sorted(bfs.thresholds) == sorted(dfs.thresholds)
    assert emlmpy.loads(bfs.save(format="csv")).same_as(bfs)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(bfs.predict(X32), emlmpy.loads(csv).predict(X32))
