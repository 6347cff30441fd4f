"""emlmpy model files: version 2 CSV and bin (round trips, the documented layout, every rejection
rule of docs/model-format.md §2/§3), version 1 files and emlearn's CSV read and converted.
Long (~700 lines) because the rule tables are: one case per documented rejection rule, next to
the rule's file offset or line."""
from __future__ import annotations

import functools
import re
import struct
from fractions import Fraction

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import (ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import emlmpy
import emlmpy.keys
from emlmpy import ModelFormatError
from emlmpy.layout import decode_children


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
    if kind == "pass_through":
        X, y = datasets.make_regression(n_samples=1500, n_features=6, noise=5.0, random_state=1)
        est = DecisionTreeRegressor(max_leaf_nodes=350, random_state=0).fit(X, y)
        return emlmpy.convert(est), X
    X, y = data("wine")
    est = RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0).fit(X, y)
    leaf_bits = {"proba": None, "class": 0, "proba8": 8, "proba_int16": None}[kind]
    return emlmpy.convert(est, dtype="int16" if kind.endswith("int16") else "float", leaf_bits=leaf_bits), X


KINDS = ["proba", "class", "proba8", "proba_int16", "reg", "reg_int16", "single_leaf", "pass_through",
         "knn", "knn_int16"]


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
    if kind == "pass_through":
        assert m.n_pass_through > 0


def _pad4(n):
    return (n + 3) // 4 * 4


@pytest.mark.parametrize("kind", ["proba_int16", "reg", "class"])
def test_bin_layout_is_the_documented_one(kind):
    m, _ = model(kind)
    b = m.save(format="bin")
    assert b[:4] == b"EMLT"
    (version, dtype, leaf_kind, nf, no, nt, nn, npay, res16, pb, total, res32) = struct.unpack_from(
        "<HBBHHHHHHIII", b, 4)
    assert (version, dtype, leaf_kind) == (2, 1 if m.dtype == "int16" else 0, m.leaf_kind)
    assert (nf, no, nt, nn, npay, pb, total) == (m.n_features, m.n_outputs, m.n_trees, m.n_nodes,
                                                  m.n_payloads, m.payload_bytes, len(b))
    assert res16 == res32 == 0
    off = 32
    nodes = np.frombuffer(b, dtype=np.dtype([("key", "<i4"), ("fk", "<u2"), ("c", "<u2")]), count=nn, offset=off)
    assert nodes.tobytes() == m.nodes.tobytes()
    off += 8 * nn
    assert b[off:off + 2 * nt] == m.roots.astype("<i2").tobytes()
    off += _pad4(2 * nt)
    if m.leaf_kind == 1:
        assert b[off:off + 2 * npay] == m.offsets.astype("<u2").tobytes()
        off += _pad4(2 * npay)
        assert b[off:off + pb] == m.payload.tobytes()
        off += _pad4(pb)
    if m.leaf_kind == 2:
        assert b[off:off + 4 * npay] == m.values.astype("<f4").tobytes()
        off += 4 * npay
    if m.dtype == "int16":
        assert b[off:off + 4 * nf] == m.scale.astype("<f4").tobytes()
        assert b[off + 4 * nf:off + 8 * nf] == m.offset.astype("<f4").tobytes()
        off += 8 * nf
    assert off == len(b) and m.device_bytes == len(b) - 32


def test_csv_layout_is_the_documented_one():
    m, X = model("proba_int16")
    text = m.save(format="csv")
    lines = text.split("\n")
    assert lines[-1] == "" and "\r" not in text
    kinds = [ln.split(",")[0] for ln in lines[:-1]]
    assert kinds[:6] == ["v", "d", "k", "f", "o", "s"]
    assert lines[:6] == ["v,2", "d,1", "k,1", f"f,{m.n_features}", f"o,{m.n_outputs}",
                         f"s,{m.n_trees},{m.n_nodes},{m.n_payloads},{m.payload_bytes},0"]
    body = kinds[6:]
    assert body == sorted(body, key=["q", "r", "n", "p"].index)  # q, r, n, p lines, in this order
    assert all(re.fullmatch(r"[a-z]+(,[+-]?[0-9]+)*", ln) for ln in lines[:-1])  # integers only
    q = [ln.split(",")[1:] for ln in lines if ln.startswith("q,")]
    bits = np.array([[int(s), int(o)] for s, o in q], dtype=np.uint32).view(np.float32)
    np.testing.assert_array_equal(bits[:, 0], m.scale)
    np.testing.assert_array_equal(bits[:, 1], m.offset)
    left, right = decode_children(m.nodes)
    n = [list(map(int, ln.split(",")[1:])) for ln in lines if ln.startswith("n,")]
    assert [r[2:4] for r in n] == [[int(a), int(b)] for a, b in zip(left, right)]
    # p lines: w, then class,count pairs whose counts/w are the leaf proportions
    refs = m.apply(X)
    props = m.leaf_proportions(refs)
    p = [list(map(int, ln.split(",")[1:])) for ln in lines if ln.startswith("p,")]
    for t in range(m.n_trees):
        for r, row in zip(refs[:, t], props[:, t]):
            if r >= m.n_outputs:
                w, rest = p[r - m.n_outputs][0], p[r - m.n_outputs][1:]
                want = np.zeros(m.n_outputs, np.float32)
                want[rest[0::2]] = np.float32(rest[1::2]) / np.float32(w)
                np.testing.assert_array_equal(row, want)


def test_the_pages_example_shape():
    """The iris example of §3 (3 trees, proba): `n` lines carry 5 fields, `p` lines w,class,count."""
    X, y = data("iris")
    m = emlmpy.convert(RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y))
    text = m.save(format="csv")
    assert text.startswith("v,2\nd,0\nk,1\nf,4\no,3\ns,3,")
    assert all(len(ln.split(",")) == 6 for ln in text.split("\n") if ln.startswith("n,"))
    for ln in text.split("\n"):
        if ln.startswith("p,"):
            w, *rest = map(int, ln.split(",")[1:])
            assert w >= 2 and all(1 <= c < w for c in rest[1::2]) and rest[0::2] == sorted(set(rest[0::2]))


# ---- the aggregation rule ----------------------------------------------------------------------
def _single_leaf_forest(leaves):
    """A version 2 CSV of one-leaf trees with the given (w, count of class 0) payloads, 2 classes."""
    lines = ["v,2", "k,1", "f,1", "o,2", f"s,{len(leaves)},0,{len(leaves)},{9 * len(leaves)},0"]
    lines += [f"r,{-1 - (2 + p)}" for p in range(len(leaves))]
    lines += [f"p,{w},0,{c},1,{w - c}" for w, c in leaves]
    return "\n".join(lines) + "\n"


def test_proba_ties_go_to_scikit_learns_float64_sums():
    """Exact sums that tie (the integer sums S cannot separate them) are decided as scikit-learn
    decides them: the float64 sums in tree order, divided by n_trees, first argmax; found with
    Fractions and numpy float64."""
    rng = np.random.default_rng(0)
    for _ in range(100000):
        ws = [int(w) for w in rng.integers(3, 40, 3)]
        cs = [int(rng.integers(1, w)) for w in ws]
        if sum(Fraction(c, w) for c, w in zip(cs, ws)) != sum(Fraction(w - c, w) for c, w in zip(cs, ws)):
            continue
        d = np.zeros(2, np.float64)
        for c, w in zip(cs, ws):
            d += np.array([c, w - c], np.float64) / w
        if (d / 3)[0] < (d / 3)[1]:
            break
    else:
        pytest.fail("no tie found")
    f = np.zeros(2, np.float32)
    for c, w in zip(cs, ws):
        f += np.array([c, w - c], np.float32) / np.float32(w)
    m = emlmpy.loads(_single_leaf_forest(list(zip(ws, cs))))
    X = np.zeros((1, 1))
    assert m.predict_index(X)[0] == 1  # the exact first argmax would say 0
    np.testing.assert_array_equal(m.predict_proba(X)[0], f / np.float32(3))
    # a clear majority is decided by the integer sums: the exact argmax
    m2 = emlmpy.loads(_single_leaf_forest([(3, 2), (7, 5), (5, 2)]))
    assert m2.predict_index(X)[0] == 0


def test_proba_integer_sums_decide_where_float32_sums_drift():
    """16001 one-leaf trees: class 0 gets 5/15 per tree, class 1 alternately 6/15 and 4/15, then
    3/5 more. Exactly class 1 wins by 3/5, and the integer sums S separate the classes by more than
    U (the trees that reached a payload), so predict is class 1, although the float32 sums F (which
    predict_proba returns) drift further apart than 3/5 and rank class 0 first."""
    n = 16000
    lines = ["v,2", "k,1", "f,1", "o,2", f"s,{n + 1},0,3,24,0"]
    lines += [f"r,{-1 - (2 + (k % 2))}" for k in range(n)] + ["r,-5"]
    lines += ["p,15,0,5,1,6", "p,15,0,5,1,4", "p,5,1,3"]
    m = emlmpy.loads("\n".join(lines) + "\n")
    exact = [Fraction(5, 15) * n, (Fraction(6, 15) + Fraction(4, 15)) * (n // 2) + Fraction(3, 5)]
    F = np.zeros(2, np.float32)
    for k in range(n):
        F += np.array([5, 6 if k % 2 == 0 else 4], np.float32) / np.float32(15)
    F += np.array([0, 3], np.float32) / np.float32(5)
    assert exact[1] > exact[0] and F[0] > F[1]
    X = np.zeros((1, 1))
    np.testing.assert_array_equal(m.predict_proba(X)[0], F / np.float32(n + 1))
    assert m.predict_index(X)[0] == 1


# ---- emlearn's CSV ---------------------------------------------------------------------------
def _emlearn_case(name, leaf_bits, n_estimators=4):
    import emlearn
    X, y = data(name)
    est = RandomForestClassifier(n_estimators=n_estimators, max_depth=6, random_state=0).fit(X, y)
    ref = emlearn.convert(est, method="inline", dtype="float", leaf_bits=leaf_bits)
    return ref, ref.save(name="m", format="csv"), X.astype(np.float32)


@pytest.mark.parametrize("name", ["iris", "digits"])
@pytest.mark.parametrize("leaf_bits", [0, 8])
def test_emlearn_csv_predicts_as_emlearn(name, leaf_bits, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # emlearn compiles its predictor in ./tmp: one folder per test
    ref, csv, X = _emlearn_case(name, leaf_bits)
    assert "\r\n" in csv and csv.startswith("f,")
    path = tmp_path / "emlearn.csv"
    path.write_bytes(csv.encode())
    m = emlmpy.load(path)
    assert m.leaf_kind == (0 if leaf_bits == 0 else 1) and m.dtype == "float"
    if leaf_bits == 8:  # emlearn's bytes are the counts over 255
        assert all(m.payload_terms(p)[0] == 255 for p in range(m.n_payloads))
    np.testing.assert_array_equal(m.predict(X), ref.predict(X))
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), atol=2e-6)
    left, right = decode_children(m.nodes)
    assert all((c < 0 or c > i) for i, row in enumerate(zip(left, right)) for c in row)
    # converted to version 2 it stays the same model
    assert emlmpy.loads(m.save(format="csv")).same_as(m)
    assert emlmpy.loads(m.save(format="bin")).same_as(m)


def test_emlearn_csv_wrapped_leaf_arrays(tmp_path, monkeypatch):
    import emlearn
    monkeypatch.chdir(tmp_path)
    X, y = datasets.make_classification(n_samples=600, n_features=10, n_informative=8, n_classes=24,
                                        n_clusters_per_class=1, random_state=0)
    est = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    ref = emlearn.convert(est, method="inline", dtype="float", leaf_bits=8)
    csv = ref.save(name="m", format="csv")
    assert re.search(r"l,\[[^\]]*\n", csv)  # numpy wrapped a leaf onto two lines
    m = emlmpy.loads(csv)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(m.predict(X32), ref.predict(X32))


def test_emlearn_csv_regression(tmp_path, monkeypatch):
    import emlearn
    monkeypatch.chdir(tmp_path)
    X, y = data("diabetes")
    est = ExtraTreesRegressor(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    ref = emlearn.convert(est, method="inline", dtype="float")
    m = emlmpy.loads(ref.save(name="m", format="csv"))
    assert m.leaf_kind == 2
    X32 = X.astype(np.float32)
    # emlearn's C code rounds leaf values to 6 decimals, its CSV does not: tiny differences only
    np.testing.assert_allclose(m.predict(X32), ref.predict(X32), rtol=1e-6, atol=1e-5)


def test_emlearn_csv_in_breadth_first_order_loads():
    """emlearn's relative jumps allow any node order with children after parents (e.g. breadth
    first); such a file is laid out in pre-order on reading: the same model as the depth-first one."""
    import emlearn
    X, y = data("wine")
    est = RandomForestClassifier(n_estimators=3, max_depth=5, random_state=0).fit(X, y)
    with np.errstate(all="ignore"):
        csv = emlearn.convert(est, method="inline", dtype="float").save(name="m", format="csv")
    lines = csv.split("\r\n")
    head = [ln for ln in lines if not ln.startswith(("n,", "r,"))]
    nodes = [ln.split(",") for ln in lines if ln.startswith("n,")]
    roots = [int(ln.split(",")[1]) for ln in lines if ln.startswith("r,")]
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
        f, t, left, right = nodes[old][1:]
        enc = [str(new[c] - i) if c is not None else v for c, v in zip(kids[old], (left, right))]
        out.append(f"n,{f},{t},{enc[0]},{enc[1]}")
    bfs = emlmpy.loads("\r\n".join(out))
    dfs = emlmpy.loads(csv)
    assert bfs.same_as(dfs) and bfs.n_nodes == len(nodes)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(bfs.predict(X32), dfs.predict(X32))


# ---- version 1 files ---------------------------------------------------------------------------
def v1_arrays(est, leaf_kind):
    """The version 1 arrays (docs/model-format.md before version 2): scikit-learn's node order per
    tree with running offsets (children after parents, not pre-order), one leaf per leaf in
    scikit-learn's order; leaves: CLASS uint8 class, PROBA float32 proportions, VALUE float32,
    PROBA8 uint8 rint(p x 255)."""
    thr, feat, kids, roots, leaves = [], [], [], [], []
    n_nodes = n_leaves = 0
    for t in est.estimators_:
        tr = t.tree_
        is_leaf = tr.children_left == -1
        ref = np.empty(tr.node_count, np.int64)
        ref[~is_leaf] = n_nodes + np.arange(int((~is_leaf).sum()))
        ref[is_leaf] = -1 - (n_leaves + np.arange(int(is_leaf.sum())))
        inner = np.flatnonzero(~is_leaf)
        thr.append(emlmpy.keys.sklearn_threshold_keys(tr.threshold[inner]))
        feat.append(tr.feature[inner])
        kids.append(np.stack([ref[tr.children_left[inner]], ref[tr.children_right[inner]]], axis=1).ravel())
        roots.append(ref[0])
        v = tr.value[is_leaf, 0, :]
        if leaf_kind != 2:
            v = v / v.sum(axis=1, keepdims=True)
        leaves.append(v)
        n_nodes += inner.size
        n_leaves += int(is_leaf.sum())
    p = np.concatenate(leaves)
    lv = {0: lambda: np.argmax(p, axis=1).astype(np.uint8), 1: lambda: p.astype(np.float32),
          2: lambda: p[:, 0].astype(np.float32), 3: lambda: np.rint(p * 255).astype(np.uint8)}[leaf_kind]()
    return (np.concatenate(thr).astype(np.int32), np.concatenate(feat).astype(np.uint16),
            np.concatenate(kids).astype(np.int16), np.array(roots, np.int16), lv)


def v1_files(est, leaf_kind):
    """A version 1 CSV and binary file of the estimator, and its leaf array."""
    thresholds, features, children, roots, leaves = v1_arrays(est, leaf_kind)
    n_features, n_out = est.n_features_in_, (1 if leaf_kind == 2 else len(est.classes_))
    lines = ["v,1", "d,float", f"k,{leaf_kind}", f"f,{n_features}", f"o,{n_out}",
             f"s,{len(roots)},{len(features)},{len(leaves)}"]
    for row in leaves:
        if leaf_kind == 0:
            lines.append(f"l,{int(row)}")
        elif leaf_kind == 2:
            lines.append(f"l,{float(row)!r}")
        elif leaf_kind == 1:
            lines.append("lp," + ",".join(repr(float(v)) for v in row))
        else:
            lines.append("lp," + ",".join(str(int(v)) for v in row))
    lines += [f"r,{int(r)}" for r in roots]
    ch = children.reshape(-1, 2)
    lines += [f"n,{int(f)},{int(t)},{int(c[0])},{int(c[1])}" for f, t, c in zip(features, thresholds, ch)]
    csv = "\n".join(lines) + "\n"
    arrays = [thresholds.astype("<i4").tobytes(), features.astype("<u2").tobytes(),
              children.astype("<i2").tobytes(), roots.astype("<i2").tobytes(),
              np.ascontiguousarray(leaves).tobytes()]
    body = b"".join(x + b"\0" * (_pad4(len(x)) - len(x)) for x in arrays)
    head = struct.pack("<4sHBBHHHHIIII", b"EMLT", 1, 0, leaf_kind, n_features, n_out, len(roots), 0,
                       len(features), len(leaves), 32 + len(body), 0)
    return csv, head + body, leaves


@pytest.mark.parametrize("leaf_kind", [0, 1, 2, 3])
@pytest.mark.parametrize("fmt", ["csv", "bin"])
def test_version1_files_convert_and_predict_as_before(leaf_kind, fmt):
    name = "diabetes" if leaf_kind == 2 else "wine"
    X, y = data(name)
    if leaf_kind == 2:
        est = RandomForestRegressor(n_estimators=4, max_depth=6, random_state=0).fit(X, y)
    else:
        est = RandomForestClassifier(n_estimators=6, max_depth=4, random_state=0).fit(X, y)
    csv, binary, leaves = v1_files(est, leaf_kind)
    m = emlmpy.loads(csv if fmt == "csv" else binary)
    trees = est.estimators_
    if leaf_kind == 2:  # float32 values summed in tree order
        acc = np.zeros(len(X), np.float32)
        for t in trees:
            acc += t.predict(X).astype(np.float32)
        np.testing.assert_array_equal(m.predict(X), acc / np.float32(len(trees)))
        return
    if leaf_kind == 0:  # hard vote
        votes = np.zeros((len(X), 3), np.int64)
        for t in trees:
            votes[np.arange(len(X)), np.argmax(t.predict_proba(X), axis=1)] += 1
        np.testing.assert_array_equal(m.predict(X), np.argmax(votes, axis=1))
        np.testing.assert_array_equal(m.predict_proba(X), votes.astype(np.float32) / np.float32(len(trees)))
        return
    # proportions: the file's float32 (version 1 PROBA) or bytes / 255 (PROBA8) of the leaf each
    # scikit-learn tree reaches (leaves numbered in scikit-learn's order), summed in tree order
    acc = np.zeros((len(X), 3), np.float32)
    first = 0
    for t in trees:
        leaf_ids = np.flatnonzero(t.tree_.children_left == -1)
        rank = np.searchsorted(leaf_ids, t.apply(X.astype(np.float32)))
        rows = leaves[first + rank]
        acc += rows if leaf_kind == 1 else rows.astype(np.float32) / np.float32(255)
        first += leaf_ids.size
    np.testing.assert_array_equal(m.predict_proba(X), acc / np.float32(len(trees)))
    np.testing.assert_array_equal(m.predict(X), np.argmax(acc, axis=1))
    if leaf_kind == 1:
        np.testing.assert_array_equal(m.predict(X), est.predict(X))


def test_version1_float_proportions_that_are_no_ratios_are_refused():
    X, y = data("iris")
    est = RandomForestClassifier(n_estimators=1, max_depth=2, random_state=0).fit(X, y)
    csv, _, _ = v1_files(est, 1)
    lines = csv.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("lp,") and "0.0,0.0" not in ln and "1.0" not in ln)
    lines[i] = "lp,0.0,0.31415927,0.68584073"  # float32 of no count/w with w <= 65535
    with pytest.raises(ModelFormatError, match="re-convert the estimator") as e:
        emlmpy.loads("\n".join(lines))
    assert e.value.line == i + 1
    lines[i] = "lp,0.0,0.0,0.0"
    with pytest.raises(ModelFormatError, match="re-convert"):
        emlmpy.loads("\n".join(lines))


def test_version1_proba8_leaves_with_no_version2_form_are_refused():
    X, y = data("iris")
    csv, _, _ = v1_files(RandomForestClassifier(n_estimators=1, max_depth=2, random_state=0).fit(X, y), 3)
    lines = csv.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.startswith("lp,"))
    for bad in ("lp,255,3,0", "lp,0,0,0"):
        lines[i] = bad
        with pytest.raises(ModelFormatError, match="not representable in format version 2") as e:
            emlmpy.loads("\n".join(lines))
        assert e.value.line == i + 1


def test_version1_csv_errors_name_the_line():
    """Version 1's reader keeps its rules (decimal numbers, optional counts, emlearn's files)."""
    X, y = data("iris")
    text, _, _ = v1_files(RandomForestClassifier(n_estimators=1, max_depth=2, random_state=0).fit(X, y), 1)
    lp, n0 = find(text, "lp,"), find(text, "n,")
    cases = [
        (with_line(text, lp, "lp,1.0,x,0"), lp + 1, "bad number 'x'"),
        (with_line(text, lp, "lp,1.0,1e99,0"), lp + 1, "does not fit a float32"),
        (with_line(text, lp, "lp,1.0,nan,0"), lp + 1, "bad number 'nan'"),
        (with_line(text, n0, "n,2,12,1"), n0 + 1, "needs 4 field"),
        (with_line(text, n0, "n,9,12,1,-1"), n0 + 1, "feature 9 >= n_features"),
        (with_line(text, n0, "n,2,12,0,-1"), n0 + 1, "not greater than its parent"),
        (with_line(text, 2, "k,7"), 3, "unknown leaf kind 7"),
        ("d,float\n" + text, 1, "'d' line before the 'v' line"),
        ("f,4\nc,3\nlp,1,0,0\n", 3, "'lp' line without a preceding 'v' line"),
    ]
    for bad, line, msg in cases:
        with pytest.raises(ModelFormatError) as e:
            emlmpy.loads(bad)
        assert msg in str(e.value) and e.value.line == line, (msg, str(e.value))
    # without the optional s line, the counts are those of the lines
    m = emlmpy.loads(text)
    assert emlmpy.loads("\n".join(ln for ln in lines_of(text) if not ln.startswith("s,"))).same_as(m)


# ---- version 2 CSV: what the reader (and the device loader) rejects -------------------------
def small_csv(kind="proba"):
    X, y = data("iris")
    if kind == "value":
        return emlmpy.convert(DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, y * 1.5)).save(format="csv")
    if kind == "int16":
        est = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
        return emlmpy.convert(est, dtype="int16").save(format="csv")
    leaf_bits = 0 if kind == "class" else None
    return emlmpy.convert(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y),
                          leaf_bits=leaf_bits).save(format="csv")


def lines_of(text):
    return text.split("\n")


def with_line(text, idx, new):
    ls = lines_of(text)
    ls[idx] = new
    return "\n".join(ls)


def find(text, prefix):
    return next(i for i, ln in enumerate(lines_of(text)) if ln.startswith(prefix))


NAN_BITS = int(np.array([np.nan], np.float32).view(np.uint32)[0])


def csv_cases():
    text = small_csv()  # v d k f o s r n n n n p p (4 nodes, 2 payloads)
    assert [ln.split(",")[0] for ln in lines_of(text)[:-1]] == list("vdkfosr") + ["n"] * 4 + ["p"] * 2
    n0, p0, s = find(text, "n,"), find(text, "p,"), find(text, "s,")
    cls, val, i16 = small_csv("class"), small_csv("value"), small_csv("int16")
    c = []
    # line syntax
    c.append((with_line(text, 0, "v,3"), 1, "unsupported format version 3"))
    c.append((with_line(text, n0, "n,2,abc,1,2,0"), n0 + 1, "bad integer 'abc'"))
    c.append((with_line(text, n0, "n,3,1061997773,-1,1"), n0 + 1, "needs 5 field"))
    c.append((with_line(text, n0, "n,3,00000001061997773,-1,1,0"), n0 + 1, "longer than 16"))
    c.append((with_line(text, n0, "n,3,1061997773,-1,1,0\rx"), n0 + 1, "carriage return"))
    c.append((with_line(text, 1, "D,0"), 2, "bad line kind 'D'"))
    # headers: v, d (optional), k, f, o, s, each once, in this order, before any data line
    c.append((with_line(with_line(text, 2, "f,4"), 3, "k,1"), 3, "expected a 'k' line before this 'f'"))
    c.append((text.replace("o,3\n", "o,3\nk,1\n"), 6, "repeated or out of order"))
    c.append((text + "f,4\n", len(lines_of(text)), "header line 'f' after the first data line"))
    c.append((text.replace("s,1,4,2,18,0\n", ""), 6, "data line 'r' before the 's' header line"))
    c.append(("k,1\n" + text, 1, "expected a 'v' line before this 'k'"))
    c.append((with_line(text, 1, "d,2"), 2, "input dtype"))
    c.append((with_line(text, 2, "k,3"), 3, "leaf kind"))
    c.append((with_line(text, 3, "f,0"), 4, "n_features 0 outside 1..8191"))
    c.append((with_line(text, 3, "f,8192"), 4, "n_features 8192 outside 1..8191"))
    c.append((with_line(text, 4, "o,257"), 5, "n_outputs 257 outside 1..256"))
    c.append((with_line(val, 4, "o,2"), 5, "need n_outputs 1"))
    # counts (the s line)
    c.append((with_line(text, s, "s,0,4,2,18,0"), s + 1, "n_trees 0"))
    c.append((with_line(text, s, "s,1,32768,2,18,0"), s + 1, "n_nodes 32768"))
    c.append((with_line(text, s, "s,1,4,32766,18,0"), s + 1, "n_payloads 32766 outside 0..32765"))
    c.append((with_line(text, s, "s,1,4,2,65536,0"), s + 1, "payload_bytes 65536"))
    c.append((with_line(cls, find(cls, "s,"), "s,1,4,1,0,0"), find(cls, "s,") + 1, "class leaves have no payloads"))
    c.append((with_line(cls, find(cls, "s,"), "s,1,4,0,9,0"), find(cls, "s,") + 1, "payload_bytes must be 0"))
    c.append((with_line(val, find(val, "s,"), "s,1,3,0,0,0"), find(val, "s,") + 1, "n_payloads (values) 0"))
    c.append((with_line(text, s, "s,1,5,2,18,0"), len(lines_of(text)) - 1, "declares 5 'n' line"))
    c.append((with_line(text, s, "s,1,3,2,18,0"), n0 + 2, "node 1: right child node 3 >= n_nodes 3"))  # checked on its line
    three = with_line(with_line(text, n0 + 1, "n,3,1071644672,2,-3,1"), s, "s,1,3,2,18,0")  # nodes 0-2 valid
    c.append((three, n0 + 4, "more 'n' lines than the 3 declared"))
    c.append((with_line(text, s, "s,1,4,2,19,0"), len(lines_of(text)) - 1, "declares 19"))
    c.append((with_line(text, s, "s,1,4,2,17,0"), p0 + 2, "exceed the 17 payload bytes"))
    # node lines: one of the four shapes at this index, then the validator (feature, children)
    c.append((with_line(text, n0, "n,3,1061997773,-1,2,0"), n0 + 1, "must be the next node 1"))
    c.append((with_line(text, n0 + 1, "n,3,1071644672,3,2,1"), n0 + 2, "left child node 3 must be the next node 2"))
    c.append((with_line(text, n0 + 1, "n,3,1071644672,2,1,1"), n0 + 2, "right child node 1 is not after node 1"))
    c.append((with_line(text, n0 + 3, "n,2,1083913011,-300,-3,0"), n0 + 4, "references <= 255"))
    c.append((with_line(text, n0, "n,9,1061997773,-1,1,0"), n0 + 1, "feature 9 >= n_features 4"))
    c.append((with_line(text, n0, "n,8192,1061997773,-1,1,0"), n0 + 1, "feature 8192 outside 0..8191"))
    c.append((with_line(text, n0 + 1, "n,3,1071644672,2,30,1"), n0 + 2, "right child node 30 >= n_nodes 4"))
    c.append((with_line(text, n0 + 3, "n,2,1083913011,-6,-3,0"), n0 + 4, "left leaf reference 5 >= 5"))
    c.append((with_line(text, n0, "n,3,1061997773,-1,1,2"), n0 + 1, "missing_left 2 outside 0..1"))
    # roots
    c.append((with_line(text, find(text, "r,"), "r,4"), 7, "root of tree 0: node 4 >= n_nodes 4"))
    c.append((with_line(text, find(text, "r,"), "r,-6"), 7, "leaf reference 5 >= 5"))
    # payload lines
    c.append((with_line(text, p0, "p,1,1,1,2,2"), p0 + 1, "w 1 outside 2..65535"))
    c.append((with_line(text, p0, "p,3,2,1,1,2"), p0 + 1, "classes must increase"))
    c.append((with_line(text, p0, "p,3,1,1,3,2"), p0 + 1, "class 3 outside 0..2"))
    c.append((with_line(text, p0, "p,3,1,0,2,2"), p0 + 1, "count 0 outside 1..2"))
    c.append((with_line(text, p0, "p,3,1,3,2,2"), p0 + 1, "count 3 outside 1..2"))
    c.append((with_line(text, p0, "p,3,1,1,2"), p0 + 1, "w then class,count pairs"))
    c.append((with_line(text, p0, "p,3,0,1,1,1,2,1,0,1"), p0 + 1, "4 terms > n_outputs 3"))
    c.append((cls.replace("\nr,", "\np,3,1,1\nr,", 1), find(cls, "r,") + 1, "p lines are for proba leaves only"))
    # values and quantization
    lv = find(val, "lv,")
    c.append((with_line(val, lv, f"lv,{NAN_BITS}"), lv + 1, "value 0 is not finite"))
    c.append((with_line(val, lv, "lv,-1"), lv + 1, "outside 0..4294967295"))
    q0 = find(i16, "q,")
    c.append((with_line(i16, q0, "q,0,0"), q0 + 1, "scale of feature 0 must be finite and > 0"))
    c.append((with_line(i16, q0, f"q,1065353216,{NAN_BITS}"), q0 + 1, "offset of feature 0 is not finite"))
    c.append((text.replace("\nr,", "\nq,1065353216,0\nr,", 1), 7, "q lines are for int16 models only"))
    # not a model
    c.append(("", 1, "empty file"))
    c.append(("hello,world\n", 1, "not a model file"))
    c.append(("\x80\x04\x95", None, "not a model file"))
    return c


def test_csv_errors_name_the_line():
    for bad, line, msg in csv_cases():
        with pytest.raises(ModelFormatError) as e:
            emlmpy.loads(bad)
        assert msg in str(e.value), (msg, str(e.value))
        if line is not None:
            assert e.value.line == line and f"line {line}" in str(e.value), (msg, str(e.value))


def test_csv_variants_accepted():
    """CRLF line ends, no final newline, a final lone CR, blank lines, unknown kinds, no d line,
    signs and spaces around fields, interleaved data kinds."""
    text = small_csv()
    m = emlmpy.loads(text)
    assert emlmpy.loads(text.replace("\n", "\r\n")).same_as(m)
    assert emlmpy.loads(text.rstrip("\n")).same_as(m)
    assert emlmpy.loads(text.replace("\n", "\r\n")[:-1]).same_as(m)
    assert emlmpy.loads(text.replace("\nr,", "\n\n \t\nzz,future,stuff\nr,")).same_as(m)
    assert emlmpy.loads(text.replace("d,0\n", "")).same_as(m)
    assert emlmpy.loads(text.replace("v,2", "v, +2 ").replace("o,3", "o,\t3")).same_as(m)
    ls = lines_of(text)
    shuffled = ls[:6] + [ls[find(text, "p,")]] + ls[6:find(text, "p,")] + ls[find(text, "p,") + 1:]
    assert emlmpy.loads("\n".join(shuffled)).same_as(m)


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


# ---- version 2 binary: what the reader (and the device loader) rejects -----------------------
def _put(b: bytes, off: int, fmt: str, value) -> bytes:
    out = bytearray(b)
    struct.pack_into("<" + fmt, out, off, value)
    return bytes(out)


def bin_cases():
    X, y = data("iris")
    b = emlmpy.convert(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)).save(format="bin")
    m = emlmpy.loads(b)
    nn, nt, npay, pb = m.n_nodes, m.n_trees, m.n_payloads, m.payload_bytes
    roots, offs = 32 + 8 * nn, 32 + 8 * nn + _pad4(2 * nt)
    pay = offs + _pad4(2 * npay)
    cls = emlmpy.convert(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), leaf_bits=0).save(format="bin")
    val = emlmpy.convert(DecisionTreeRegressor(max_depth=2, random_state=0).fit(X, y * 1.5)).save(format="bin")
    i16 = emlmpy.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), dtype="int16").save(format="bin")
    c = [
        (b[:20], 20, "truncated header"),
        (b[:-4], len(b) - 4, "truncated"),
        (b + b"\0\0\0\0", len(b), "extra bytes"),
        (b"EMLX" + b[4:], 0, "bad magic"),
        (_put(b, 4, "H", 3), 4, "unsupported format version 3"),
        (_put(b, 6, "B", 2), 6, "unknown input dtype"),
        (_put(b, 7, "B", 3), 7, "unknown leaf kind 3"),
        (_put(b, 18, "H", 2), 18, "unknown header flags"),
        (_put(val, 18, "H", 1), 18, "unknown header flags"),  # class labels on a regressor
        (_put(b, 28, "I", 1), 28, "reserved"),
        (_put(b, 8, "H", 0), 8, "n_features 0"),
        (_put(b, 8, "H", 8192), 8, "n_features 8192"),
        (_put(b, 10, "H", 257), 10, "n_outputs 257"),
        (_put(val, 10, "H", 2), 10, "need n_outputs 1"),
        (_put(b, 12, "H", 0), 12, "n_trees 0"),
        (_put(b, 14, "H", 32768), 14, "n_nodes 32768"),
        (_put(b, 16, "H", 32766), 16, "n_payloads 32766"),
        (_put(cls, 16, "H", 1), 16, "class leaves have no payloads"),
        (_put(b, 20, "I", 65536), 20, "payload_bytes 65536"),
        (_put(cls, 20, "I", 4), 20, "payload_bytes must be 0"),
        (_put(b, 24, "I", len(b) + 4), 24, "header says"),
        # validator: nodes (feature, then children by shape), roots, payloads, values, scales
        (_put(b, 32 + 4, "H", (int(m.nodes["fk"][0]) & 7) | 9 << 3), 36 - 4, "feature 9 >= n_features 4"),
        (_put(b, 32 + 8 + 6, "H", 0), 40, "right child offset 0"),
        (_put(b, 32 + 8 + 6, "H", 9), 40, "right child node 10 >= n_nodes 4"),
        (_put(b, 32 + 6, "H", 5), 32, "left leaf reference 5 >= 5"),
        (_put(b, roots, "h", 4), roots, "root of tree 0: node 4"),
        (_put(b, offs, "H", pb - 2), offs, "overlaps the end"),
        (_put(b, pay, "B", 0), pay, "n 0 outside 1..3"),
        (_put(b, pay + 9, "B", 3), pay + 9, "terms overlap the end"),
        (_put(b, pay + 1, "H", 1), pay + 1, "w 1 < 2"),
        (_put(b, pay + 3, "B", 7), pay + 3, "class 7 out of range"),
        (_put(b, pay + 4, "H", 0), pay + 4, "q 0 is no count/w"),
        (_put(b, pay + 4, "H", int.from_bytes(b[pay + 4:pay + 6], "little") + 1), pay + 4, "is no count/w"),
    ]
    vn = struct.unpack_from("<H", val, 14)[0]
    vt = struct.unpack_from("<H", val, 12)[0]
    voff = 32 + 8 * vn + _pad4(2 * vt)
    c.append((_put(val, voff, "f", np.nan), voff, "value 0 is not finite"))
    inn, int_ = struct.unpack_from("<H", i16, 14)[0], struct.unpack_from("<H", i16, 12)[0]
    ipay = struct.unpack_from("<I", i16, 20)[0]
    inp = struct.unpack_from("<H", i16, 16)[0]
    soff = 32 + 8 * inn + _pad4(2 * int_) + _pad4(2 * inp) + _pad4(ipay)
    c.append((_put(i16, soff + 4, "f", 0.0), soff + 4, "scale of feature 1 must be finite and > 0"))
    c.append((_put(i16, soff + 16 + 8, "f", np.inf), soff + 16 + 8, "offset of feature 2 is not finite"))
    if pb % 4:  # padding after the payload
        c.append((_put(b, pay + pb, "B", 1), pay + pb, "non-zero padding after payload"))
    if nt % 2:
        c.append((_put(b, roots + 2 * nt, "B", 1), roots + 2 * nt, "non-zero padding after roots"))
    return c


def test_bin_errors_name_the_offset():
    for bad, off, msg in bin_cases():
        with pytest.raises(ModelFormatError) as e:
            emlmpy.loads(bad)
        assert msg in str(e.value) and e.value.offset == off, (msg, off, str(e.value))
        assert f"offset {off}" in str(e.value)


def test_payloads_may_share_bytes():
    """Offsets need not increase nor leave the payloads apart: two payloads on the same bytes."""
    X, y = data("iris")
    b = emlmpy.convert(DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)).save(format="bin")
    m = emlmpy.loads(b)
    assert m.n_payloads == 2
    offs = 32 + 8 * m.n_nodes + _pad4(2 * m.n_trees)
    shared = emlmpy.loads(_put(b, offs + 2, "H", 0))
    assert shared.payload_terms(1) == shared.payload_terms(0) == m.payload_terms(0)


@pytest.mark.parametrize("fmt", ["csv", "bin"])
@pytest.mark.parametrize("kind", ["proba", "proba8", "reg_int16", "pass_through", "knn_int16"])
def test_random_corruption_never_escapes(fmt, kind):
    """Truncations and byte flips: a ModelFormatError, or a model that validates and predicts."""
    m, X = model(kind)
    good = m.save(format=fmt)
    good = good.encode() if isinstance(good, str) else good
    rng = np.random.default_rng(5)
    loaded = 0
    for trial in range(300):
        data_ = bytearray(good)
        if trial % 3 == 0:
            data_ = data_[:int(rng.integers(0, len(data_)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                data_[int(rng.integers(0, len(data_)))] = int(rng.integers(0, 256))
        try:
            got = emlmpy.loads(bytes(data_))
        except ModelFormatError:
            continue
        got.check()
        p = got.predict_proba(X[:20]) if got.is_classifier else got.predict(X[:20])
        assert p.shape[0] == 20
        loaded += 1
    assert loaded < 300
