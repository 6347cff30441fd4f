"""cores/emlc_load: the streaming model-file parser, run under ASan/UBSan through tests_host/cload.py.

References: scikit-learn (predictions), emlmpy (the host writer/reader/predictor, exact float32
arithmetic), emlearn (its own CSV writer and its own compiled C predictor), and Python's exact
Fraction arithmetic for decimal -> float32 rounding.
"""
from __future__ import annotations

import random
import shutil
import struct
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import cload

_np_err = np.geterr()
import emlearn  # noqa: E402  (emlearn switches numpy to raise on every FP warning: undo that)
np.seterr(**_np_err)
import emlmpy  # noqa: E402
from sklearn.datasets import load_diabetes, load_digits, load_iris, make_classification  # noqa: E402
from sklearn.ensemble import (ExtraTreesClassifier, RandomForestClassifier,  # noqa: E402
                              RandomForestRegressor)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

OK, E_NULL, E_SIZE, E_CAP, E_CHILD, E_FEATURE, E_CLASS, E_CYCLE, E_ROOT, E_KIND, E_FORMAT, \
    E_VALUE, E_VERSION, E_STATE = 0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13
CAPS = (2000, 64, 1 << 16, 128)  # max_nodes, max_trees, leaves bytes, max_features


def dumps(model, fmt: str) -> bytes:
    with np.errstate(all="ignore"):
        data = emlmpy.dumps(model, format=fmt)
    return data if isinstance(data, bytes) else data.encode()


# ---- models ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained():
    """name -> (estimator, X float32)."""
    out = {}
    X, y = load_iris(return_X_y=True)
    out["iris_rf"] = (RandomForestClassifier(n_estimators=10, random_state=1).fit(X, y), X)
    out["iris_stump"] = (DecisionTreeClassifier(min_samples_leaf=200).fit(X, y), X)  # root is a leaf
    X, y = load_digits(return_X_y=True)
    out["digits_rf"] = (RandomForestClassifier(n_estimators=8, max_depth=9, random_state=2).fit(X, y), X)
    X, y = make_classification(n_samples=300, n_features=12, n_informative=6, n_classes=4,
                               random_state=3)
    out["mc_et"] = (ExtraTreesClassifier(n_estimators=6, max_depth=7, random_state=3).fit(X, y), X)
    # 40 classes: `lp` lines of 40 floats (~400 bytes; only one field is ever buffered)
    X, y = make_classification(n_samples=800, n_features=10, n_informative=7, n_classes=40,
                               n_clusters_per_class=1, random_state=6)
    out["many_rf"] = (RandomForestClassifier(n_estimators=3, max_depth=8, random_state=6).fit(X, y), X)
    X, y = load_diabetes(return_X_y=True)
    out["diab_rf"] = (RandomForestRegressor(n_estimators=6, max_depth=7, random_state=4).fit(X, y), X)
    out["diab_dt"] = (DecisionTreeRegressor(max_depth=5, random_state=5).fit(X, y), X)
    return {k: (est, np.asarray(X, dtype=np.float32)) for k, (est, X) in out.items()}


def variants(est):
    """(dtype, leaf_bits) pairs to convert with."""
    is_clf = hasattr(est, "classes_")
    bits = [None, 0, 8] if is_clf else [None]
    return [(dt, lb) for dt in ("float", "int16") for lb in bits]


def check_arrays(r: cload.Result, mm) -> None:
    a = r.arrays
    assert r.shape[0] == (1 if mm.dtype == "int16" else 0)
    assert r.shape[1] == mm.leaf_kind
    assert r.shape[2:] == (mm.n_features, mm.n_outputs, mm.n_trees, mm.n_nodes, mm.n_leaves)
    assert a["T"] == mm.thresholds.tolist()
    assert a["F"] == mm.features.tolist()
    assert a["C"] == mm.children.tolist()
    assert a["R"] == mm.roots.tolist()
    assert a["L"] == np.ascontiguousarray(mm.leaves).tobytes()
    if mm.dtype == "int16":
        q = [(int(s), int(o)) for s, o in zip(mm.scale.view(np.uint32), mm.offset.view(np.uint32))]
        assert a["Q"] == q


def check_proba(got: np.ndarray, want: np.ndarray, leaf_kind: int) -> None:
    want = np.asarray(want, dtype=np.float32)
    if leaf_kind == 3:
        # PROBA8: emlc_trees divides the byte sum once (sum / (255 * n_trees)); the contract and
        # emlmpy sum float32(u8 / 255) per tree: the two differ by an ulp now and then.
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    else:
        assert got.tobytes() == want.tobytes()


def check_preds(r: cload.Result, mm, est, X) -> None:
    vals, proba = cload.decode_preds(r)
    if mm.is_classifier:
        assert np.array_equal(vals, mm.predict_index(X))
        check_proba(proba, mm.predict_proba(X), mm.leaf_kind)
        if mm.dtype == "float" and mm.leaf_kind == 1:
            # float32 input with float proportions (sklearn's soft vote): agree on every sample
            assert np.array_equal(est.classes_[vals], est.predict(X))
    else:
        assert vals.tobytes() == mm.predict(X).astype(np.float32).tobytes()
        if mm.dtype == "float":
            np.testing.assert_allclose(vals, est.predict(X), rtol=1e-5, atol=1e-3)


def test_round_trip_both_formats_match_host_and_sklearn(trained, tmp_path):
    n_files = 0
    for name, (est, X) in trained.items():
        files, models = [], []
        for dt, lb in variants(est):
            mm = emlmpy.convert(est, dtype=dt, leaf_bits=lb)
            for fmt in ("csv", "bin"):
                p = tmp_path / f"{name}_{dt}_{lb}.{fmt}"
                p.write_bytes(dumps(mm, fmt))
                files.append(p)
                models.append(mm)
        for chunk, cb in ((256, False), (0, True)):
            res = cload.run(files, chunk=chunk, x=X, caps=CAPS, callbacks=cb, dump=True)
            for p, r, mm in zip(files, res, models):
                assert r.ok, (p.name, r)
                check_arrays(r, mm)
                check_preds(r, mm, est, X)
                n_files += 1
    assert n_files >= 40


def test_every_chunk_size_gives_identical_results(trained, tmp_path):
    est, X = trained["iris_rf"]
    files = []
    for dt, lb, fmt in (("float", None, "csv"), ("int16", 8, "bin"), ("float", 0, "bin")):
        p = tmp_path / f"m_{dt}_{lb}.{fmt}"
        p.write_bytes(dumps(emlmpy.convert(est, dtype=dt, leaf_bits=lb), fmt))
        files.append(p)
    e = emlearn.convert(est, method="inline", dtype="float")
    p = tmp_path / "emlearn.csv"
    p.write_text(e.save(name="m", format="csv"))
    files.append(p)
    sizes = sorted(set(list(range(1, 41)) + [61, 64, 255, 256, 1000, 10 ** 6, 0]))
    ref = None
    for c in sizes:
        out = [(r.ok, r.shape, r.arrays, r.preds) for r in cload.run(files, chunk=c, x=X[::7], dump=True)]
        assert all(o[0] for o in out)
        if ref is None:
            ref = out
        assert out == ref, c


# ---- emlearn's CSV -----------------------------------------------------------------------------
def emlearn_cases(trained):
    X, y = make_classification(n_samples=400, n_features=8, n_informative=6, n_classes=25,
                               n_clusters_per_class=1, random_state=7)
    many = RandomForestClassifier(n_estimators=3, max_depth=6, random_state=7).fit(X, y)
    return [
        ("iris_rf", trained["iris_rf"][0], trained["iris_rf"][1], None),
        ("iris_rf8", trained["iris_rf"][0], trained["iris_rf"][1], 8),
        ("mc_et", trained["mc_et"][0], trained["mc_et"][1], None),
        ("many_classes8", many, X.astype(np.float32), 8),  # numpy wraps these leaf arrays
        ("diab_rf", trained["diab_rf"][0], trained["diab_rf"][1], None),
    ]


def test_emlearn_csv_loads_like_emlmpy_and_predicts_like_emlearn(trained, tmp_path):
    for name, est, X, lb in emlearn_cases(trained):
        with np.errstate(all="ignore"):
            conv = emlearn.convert(est, method="inline", dtype="float", leaf_bits=lb)
            text = conv.save(name="m", format="csv")
            ref = conv.predict(X)  # emlearn's own C code, compiled
        if lb == 8:
            assert "\n " in text or name != "many_classes8"  # the wrapped-array case is covered
        p = tmp_path / f"{name}.csv"
        p.write_text(text)
        with np.errstate(all="ignore"):
            mm = emlmpy.loads(text)
        for chunk in (3, 0, 4096):
            r = cload.run([p], chunk=chunk, x=X, caps=CAPS, dump=True)[0]
            assert r.ok, (name, r)
            check_arrays(r, mm)
            vals, proba = cload.decode_preds(r)
            if proba is None:
                # emlearn's C code writes leaf values with 6 decimals, the CSV with 17 digits
                np.testing.assert_allclose(vals, ref, rtol=1e-5, atol=1e-4)
                assert vals.tobytes() == mm.predict(X).astype(np.float32).tobytes()
            else:
                assert np.array_equal(vals, ref), name
                check_proba(proba, mm.predict_proba(X), mm.leaf_kind)


# ---- decimal -> float32 -----------------------------------------------------------------------
def nearest_f32_bits(text: str):
    """Exact reference: nearest float32 to the decimal, ties to even; None on overflow."""
    q = Fraction(text)
    neg = q < 0
    q = abs(q)
    if q == 0:
        return 0x80000000 if text.lstrip().startswith("-") else 0
    with np.errstate(all="ignore"):
        c = np.float32(float(q))
    best = None
    with np.errstate(all="ignore"):
        cands = (np.nextafter(c, np.float32(0)), c, np.nextafter(c, np.float32(np.inf)))
    for cand in cands:
        if not np.isfinite(cand):
            continue
        err = abs(Fraction(float(cand)) - q)
        bits = int(np.float32(cand).view(np.uint32))
        if best is None or err < best[0] or (err == best[0] and bits % 2 == 0):
            best = (err, bits)
    fmax = Fraction(float(np.finfo(np.float32).max))
    half_ulp = Fraction(2) ** 103  # half the spacing at FLT_MAX
    if q >= fmax + half_ulp:
        return None
    return best[1] | (0x80000000 if neg else 0)


def test_parse_f32_is_correctly_rounded():
    so = cload.lib()
    rng = random.Random(11)
    cases = ["0", "-0", "0.0", "1", "-1", "0.75", "4.85", "1e-06", "1E+16", ".5", "5.", "+2.5",
             "3.4028234663852886e38", "3.4028235677973366e38", "3.402823567797337e38",
             "1.401298464324817e-45", "7.006492321624085e-46", "7.006492321624086e-46",
             "1.1754943508222875e-38", "1.1754942106924411e-38", "0.1", "16777217", "16777219",
             "33554435", "1e-50", "-1e-50", "0.000000000000000000000000000000000000000001",
             "123456789012345678901234567890123456789", "9.99999999999999999999999999999999999999e-40",
             "1" + "0" * 38, "100000000000000000000000000000000000000000e-5", "2.5e-45"]
    for _ in range(3000):
        kind = rng.random()
        if kind < 0.4:  # like sklearn/emlearn thresholds and leaf values
            v = rng.uniform(-1e4, 1e4) * 10 ** rng.randint(-8, 4)
            cases.append(repr(round(v, rng.randint(0, 8))))
        elif kind < 0.7:  # midpoints between neighbouring float32 and just around them
            f = np.float32(rng.uniform(-1, 1) * 2.0 ** rng.randint(-149, 127))
            g = np.nextafter(f, np.float32(np.inf))
            if np.isfinite(g):
                mid = (Fraction(float(f)) + Fraction(float(g))) / 2
                eps = Fraction(rng.choice([0, 1, -1]), 10 ** 60)
                x = mid + eps * abs(mid)
                digits = 40
                s = f"{float(x):.17e}" if eps == 0 and rng.random() < 0.5 else None
                if s is None:  # exact decimal expansion, truncated to `digits` significant digits
                    from decimal import Decimal, getcontext
                    getcontext().prec = digits
                    s = str(Decimal(x.numerator) / Decimal(x.denominator))
                cases.append(s)
        else:  # random digit strings with random exponents
            mant = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 30)))
            pos = rng.randint(0, len(mant))
            s = mant[:pos] + "." + mant[pos:] if rng.random() < 0.7 else mant
            if s == ".":
                s = "0"
            if rng.random() < 0.6:
                s += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, 60))
            cases.append(rng.choice(["", "-"]) + s)
    checked = 0
    for s in cases:
        sig = len(s.lower().split("e")[0].replace("-", "").replace("+", "").replace(".", "").lstrip("0").rstrip("0"))
        err, bits = cload.parse_f32(so, s)
        want = nearest_f32_bits(s)
        if sig > 40:
            assert err == E_VALUE, s
            continue
        if want is None:
            assert err == E_VALUE, s
        else:
            assert err == OK and bits == want, (s, err, hex(bits), hex(want))
            checked += 1
    assert checked > 2500
    for bad in ["", "-", "+", ".", "e5", "1e", "1e+", "nan", "inf", "-inf", "1.2.3", "0x10", "1,5",
                " 1", "1 ", "1e5.5", "--1", "1d5", "١"]:
        assert cload.parse_f32(so, bad)[0] == E_FORMAT, bad
    assert cload.parse_f32(so, "1e39")[0] == E_VALUE
    assert cload.parse_f32(so, "-3.5e38")[0] == E_VALUE
    assert cload.parse_f32(so, "1e-999999999")[1] == 0


def test_parse_f32_short_decimals_are_correctly_rounded():
    """The fast path (up to 8 significant digits, 0..9 decimals) against the exact reference,
    including values next to float32 rounding ties (e.g. 16777217 = 2^24 + 1)."""
    so = cload.lib()
    rng = random.Random(5)
    cases = ["16777217", "16777219", "33554431", "0.33333334", "0.6666667", "1.0", "0.5", "9.9999999",
             "0.000000001", "0.00000001", "1.5", "-0.1", "33554432", "0.99999999"]
    for _ in range(20000):
        d = rng.randrange(1, 10 ** rng.randint(1, 8))
        k = rng.randint(0, 9)
        t = str(d).rjust(k + 1, "0")
        cases.append(rng.choice(["", "-"]) + (t[:-k] + "." + t[-k:] if k else t))
    for f in np.float32(np.random.default_rng(3).uniform(0, 64, 2000)):
        g = np.nextafter(f, np.float32(np.inf))
        cases.append(f"{(float(f) + float(g)) / 2:.8g}")
    for text in cases:
        err, bits = cload.parse_f32(so, text)
        assert err == OK and bits == nearest_f32_bits(text), (text, hex(bits), hex(nearest_f32_bits(text)))


# ---- targeted malformed files -----------------------------------------------------------------
OURS = ("v,1\nd,float\nk,0\nf,2\nc,2\no,2\ns,1,1,2\n"
        "l,0\nl,1\nr,0\nn,1,0,-1,-2\n")
EML = "f,2\r\nc,2\r\nlb,0\r\nl,0\r\nl,1\r\nr,0\r\nn,1,0.5,-1,-2"
EML_R = "f,2\nc,0\nlb,32\nl,1.5\nl,-2.25\nr,0\nn,0,0.5,-1,-2\n"


def targeted_cases():
    """(name, bytes, expected error code or OK, expected where or None)."""
    c = [
        ("ours_ok", OURS, OK, None),
        ("eml_ok", EML, OK, None),
        ("eml_value_ok", EML_R, OK, None),
        ("eml_stump_dummy_node", "f,4\nc,3\nlb,0\nl,2\nr,0\nn,0,0,-1,-1\n", OK, None),
        ("ours_root_is_leaf", OURS.replace("s,1,1,2", "s,2,1,2").replace("r,0", "r,0\nr,-2"), OK, None),
        ("crlf_and_blank_lines", OURS.replace("\n", "\r\n").replace("l,1", "\r\nl,1"), OK, None),
        ("unknown_kind_skipped", OURS.replace("r,0", "zz,anything,at all\nr,0"), OK, None),
        ("spaces_around_fields", OURS.replace("n,1,0,-1,-2", "n, 1 ,0,-1 , -2"), OK, None),
        ("empty", "", E_FORMAT, 1),
        ("blank_only", "\n\n", E_FORMAT, None),
        ("headers_only", "v,1\nd,float\nk,0\nf,2\nc,2\ns,1,1,2\n", E_FORMAT, 6),
        ("version_2", OURS.replace("v,1", "v,2"), E_VERSION, 1),
        ("v_not_first_ok", "f,2\n" + OURS.replace("f,2\n", ""), OK, None),
        ("ext_before_v", "d,float\n" + OURS.replace("d,float\n", ""), E_FORMAT, 1),
        ("v_after_data", EML + "\nv,1", E_FORMAT, 8),
        ("dup_header", OURS.replace("k,0\n", "k,0\nk,0\n"), E_FORMAT, 4),
        ("missing_s_ok", OURS.replace("s,1,1,2\n", ""), OK, None),
        ("missing_d_ok", OURS.replace("d,float\n", ""), OK, None),
        ("missing_k", OURS.replace("k,0\n", ""), E_FORMAT, 7),
        ("missing_o", OURS.replace("o,2\n", ""), E_FORMAT, 7),
        ("c_mismatch", OURS.replace("c,2", "c,3"), E_FORMAT, 8),
        ("value_needs_o1", "v,1\nk,2\nf,1\no,2\nl,1\nr,-1\n", E_SIZE, 5),
        ("value_l_and_lp", "v,1\nk,2\nf,1\nl,1.5\nlp,2.5\nr,-1\nr,-2\n", OK, None),
        ("int16_partial_q", "v,1\nd,int16\nk,0\nf,2\no,2\nq,0,2,0.5\nl,0\nr,-1\n", OK, None),
        ("q_out_of_order", "v,1\nd,int16\nk,0\nf,2\no,2\nq,1,2,0.5\nl,0\nr,-1\n", E_FORMAT, 6),
        ("q_too_many", "v,1\nd,int16\nk,0\nf,1\no,2\nq,0,2,0\nq,1,2,0\n", E_FORMAT, 7),
        ("q_nan", "v,1\nd,int16\nk,0\nf,1\no,2\nq,0,1e39,0\n", E_VALUE, 6),
        ("q_zero_scale", "v,1\nd,int16\nk,0\nf,1\no,2\nq,0,-0.0,0\n", E_VALUE, 6),
        ("q_negative_scale", "v,1\nd,int16\nk,0\nf,1\no,2\nq,0,-2,0\n", E_VALUE, 6),
        ("knn_bin", "EMLK" + "\0" * 28, E_KIND, 3),
        ("header_after_data", OURS + "f,3\n", E_FORMAT, 12),
        ("bad_kind", OURS.replace("r,0", "R,0"), E_FORMAT, 10),
        ("garbage_line", OURS + "\x00\x01\x02\n", E_FORMAT, 12),
        ("trailing_text_line", OURS + "hello world\n", E_FORMAT, 12),  # not a line kind
        ("unknown_kind_at_end", OURS + "hello,world\n", OK, None),  # an unknown kind: skipped
        ("trailing_garbage", OURS + "n,1,0,-1,-2,junk\n", E_FORMAT, 12),
        ("stray_cr", OURS.replace("l,1\n", "l,1\rx\n"), E_FORMAT, 9),
        ("field_too_long", OURS.replace("n,1,0,", "n,1," + "0" * 100 + ","), E_FORMAT, 11),
        ("int_overflow", OURS.replace("n,1,0,", "n,1,2147483648,"), E_VALUE, 11),
        ("huge_count", OURS.replace("s,1,1,2", "s,1,1,99999"), E_VALUE, 7),
        ("count_over_capacity", OURS.replace("s,1,1,2", "s,1,32767,2"), E_CAP, 8),
        ("truncated_counts", OURS.replace("n,1,0,-1,-2\n", ""), E_FORMAT, 10),
        ("truncated_no_newline", OURS.replace("n,1,0,-1,-2\n", "n,1,0,-1"), E_FORMAT, 11),
        ("validate_error_names_last_line", OURS.replace("r,0", "r,1") + "\n\n", E_ROOT, 11),
        ("more_lines_than_declared", OURS + "r,0\n", E_FORMAT, 12),
        ("feature_out_of_range", OURS.replace("n,1,", "n,2,"), E_FEATURE, None),
        ("child_out_of_range", OURS.replace("-1,-2", "-1,-3"), E_CHILD, None),
        ("self_cycle_ours", OURS.replace("s,1,1,2", "s,1,1,2").replace("-1,-2", "0,-2"), E_CYCLE, None),
        ("class_out_of_range", OURS.replace("l,1\n", "l,2\n"), E_CLASS, None),
        ("leaf_255_ok_range", OURS.replace("l,1\n", "l,256\n"), E_VALUE, 9),
        ("root_out_of_range", OURS.replace("r,0", "r,1"), E_ROOT, None),
        ("lp_for_class", OURS.replace("l,1\n", "lp,1\n"), E_FORMAT, 9),
        ("knn_file", "v,1\nknn,3,2,1,2\nd,float\ni,0,1,2\n", E_KIND, 2),
        ("q_in_float", OURS.replace("s,1,1,2\n", "s,1,1,2\nq,0,1,0\n"), E_FORMAT, 8),
        ("eml_lb_default", EML.replace("lb,0\r\n", ""), OK, None),
        ("eml_lb_32_classifier", EML.replace("lb,0", "lb,32"), OK, None),
        ("eml_lb_9", EML.replace("lb,0", "lb,9"), E_KIND, 4),
        ("eml_proba_commas", "f,2\nc,2\nlb,8\nl,0,255\nl,[255 0]\nr,0\nn,0,0.5,-1,-2\n", OK, None),
        ("eml_nan_threshold", EML.replace("0.5", "nan"), E_FORMAT, 7),
        ("eml_inf_threshold", EML.replace("0.5", "inf"), E_FORMAT, 7),
        ("eml_overflow_threshold", EML.replace("0.5", "1e39"), E_VALUE, 7),
        ("eml_self_jump", EML.replace("-1,-2", "0,-2"), E_CYCLE, 7),
        ("eml_jump_past_end", EML.replace("-1,-2", "5,-2"), E_CHILD, None),
        ("eml_extension_line", EML.replace("lb,0", "lb,0\r\nk,1"), E_FORMAT, 4),
        ("eml_negative_root", EML.replace("r,0", "r,-1"), E_VALUE, 6),
        ("eml_nan_leaf", EML_R.replace("1.5", "nan"), E_FORMAT, 4),
        ("eml_inf_leaf", EML_R.replace("1.5", "1e400"), E_VALUE, 4),
        ("eml_unclosed_array", "f,2\nc,2\nlb,8\nl,[ 0 255\n", E_FORMAT, None),
        ("eml_array_too_long", "f,2\nc,2\nlb,8\nl,[ 0 255 1]\n", E_FORMAT, 4),
        ("eml_array_junk", "f,2\nc,2\nlb,8\nl,[ 0 255] x\n", E_FORMAT, 4),
        ("no_roots", OURS.replace("r,0\n", "").replace("s,1,1,2", "s,1,1,2"), E_FORMAT, None),
        ("binary_garbage", bytes(range(256)) * 3, E_FORMAT, 1),
        ("lone_E", "E", E_FORMAT, None),
        ("bad_magic", "EMLX" + "\0" * 28, E_FORMAT, 3),
    ]
    return [(n, d.encode("latin-1") if isinstance(d, str) else d, e, w) for n, d, e, w in c]


def bin_model(leaf_kind=1, dtype="float"):
    X, y = load_iris(return_X_y=True)
    est = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, y)
    lb = {0: 0, 1: None, 3: 8}[leaf_kind]
    mm = emlmpy.convert(est, dtype=dtype, leaf_bits=lb)
    return mm, dumps(mm, "bin")


def bin_offsets(mm, data):
    """Byte offsets of the sections of a binary tree file (docs/model-format.md §2)."""
    n, t = mm.n_nodes, mm.n_trees
    pad = lambda k: (k + 3) & ~3  # noqa: E731
    off = {"thresholds": 32}
    off["features"] = off["thresholds"] + pad(4 * n)
    off["children"] = off["features"] + pad(2 * n)
    off["roots"] = off["children"] + pad(4 * n)
    off["leaves"] = off["roots"] + pad(2 * t)
    return off


def set_u(data: bytes, off: int, fmt: str, v) -> bytes:
    b = bytearray(data)
    struct.pack_into("<" + fmt, b, off, v)
    return bytes(b)


def bin_targeted():
    mm, d = bin_model(1)
    o = bin_offsets(mm, d)
    nan = struct.pack("<f", float("nan"))
    cases = [
        ("bin_ok", d, OK, None),
        ("bin_version", set_u(d, 4, "H", 2), E_VERSION, 4),
        ("bin_input", set_u(d, 6, "B", 2), E_KIND, 6),
        ("bin_kind", set_u(d, 7, "B", 4), E_KIND, 7),
        ("bin_zero_features", set_u(d, 8, "H", 0), E_SIZE, 8),
        ("bin_outputs", set_u(d, 10, "H", 300), E_SIZE, 10),
        ("bin_zero_trees", set_u(d, 12, "H", 0), E_SIZE, 12),
        ("bin_trees_cap", set_u(d, 12, "H", 65535), E_CAP, 12),
        ("bin_reserved", set_u(d, 14, "H", 1), E_FORMAT, 14),
        ("bin_huge_nodes", set_u(d, 16, "I", 0xFFFFFFFF), E_SIZE, 16),
        ("bin_nodes_cap", set_u(d, 16, "I", 30000), E_CAP, 16),
        ("bin_huge_leaves", set_u(d, 20, "I", 0x7FFFFFFF), E_SIZE, 20),
        ("bin_size_field", set_u(d, 24, "I", len(d) + 4), E_FORMAT, 24),
        ("bin_reserved2", set_u(d, 28, "I", 1), E_FORMAT, 28),
        ("bin_trailing", d + b"\0", E_FORMAT, len(d)),
        ("bin_truncated", d[:-1], E_FORMAT, None),
        ("bin_header_only", d[:32], E_FORMAT, None),
        ("bin_half_header", d[:17], E_FORMAT, None),
        ("bin_nan_leaf", d[:o["leaves"]] + nan + d[o["leaves"] + 4:], E_VALUE, o["leaves"]),
        ("bin_inf_leaf", d[:o["leaves"] + 4] + struct.pack("<f", float("-inf")) + d[o["leaves"] + 8:],
         E_VALUE, o["leaves"] + 4),
        ("bin_self_cycle", set_u(d, o["children"] + 4 * 1, "h", 1), E_CYCLE, None),
        ("bin_back_edge", set_u(d, o["children"] + 4 * 2 + 2, "h", 0), E_CYCLE, None),
        ("bin_child_range", set_u(d, o["children"], "h", 32767), E_CHILD, None),
        ("bin_leaf_range", set_u(d, o["children"], "h", -32768), E_CHILD, None),
        ("bin_root_range", set_u(d, o["roots"], "h", 500), E_ROOT, None),
        ("bin_feature_range", set_u(d, o["features"], "H", 4), E_FEATURE, None),
    ]
    if mm.n_trees % 2 == 1:  # roots padding is 2 bytes: must be zero
        cases.append(("bin_padding", set_u(d, o["roots"] + 2 * mm.n_trees, "H", 7), E_FORMAT,
                      o["roots"] + 2 * mm.n_trees))
    mm16, d16 = bin_model(0, "int16")
    qoff = len(d16) - 8 * mm16.n_features
    cases.append(("bin_nan_scale", d16[:qoff] + nan + d16[qoff + 4:], E_VALUE, qoff))
    cases.append(("bin_zero_scale", set_u(d16, qoff + 4, "f", 0.0), E_VALUE, qoff + 4))
    cases.append(("bin_nan_offset", set_u(d16, qoff + 4 * mm16.n_features, "f", float("nan")), E_VALUE,
                  qoff + 4 * mm16.n_features))
    cases.append(("bin_int16_ok", d16, OK, None))
    cases.append(("bin_class_range", set_u(d16, bin_offsets(mm16, d16)["leaves"], "B", 3), E_CLASS, None))
    return cases


def test_targeted_malformed_files(tmp_path):
    cases = targeted_cases() + bin_targeted()
    files = []
    for i, (name, data, _, _) in enumerate(cases):
        p = tmp_path / f"{i:03d}_{name}"
        p.write_bytes(data)
        files.append(p)
    for chunk in (1, 5, 256):
        res = cload.run(files, chunk=chunk, x=np.zeros((3, 4), np.float32), caps=CAPS)
        for (name, data, code, where), r in zip(cases, res):
            got = OK if r.ok else r.code
            assert got == code, (name, chunk, r)
            if where is not None and not r.ok:
                assert r.where == where, (name, chunk, r)


def test_zero_capacity_and_small_capacity(tmp_path):
    p = tmp_path / "m.csv"
    p.write_bytes(OURS.encode())
    b = tmp_path / "m.bin"
    b.write_bytes(bin_model(1)[1])
    for caps, code in (((0, 64, 1 << 16, 0), E_CAP), ((2000, 0, 1 << 16, 0), E_CAP),
                       ((2000, 64, 1, 0), E_CAP), ((2000, 64, 0, 0), E_CAP)):
        for f in (p, b):
            r = cload.run([f], caps=caps)[0]
            assert not r.ok and r.code == code, (caps, f.name, r)
    # int16 model with no quantization table
    d16 = tmp_path / "q.bin"
    d16.write_bytes(bin_model(0, "int16")[1])
    r = cload.run([d16], caps=(2000, 64, 1 << 16, 3))[0]
    assert not r.ok and r.code == E_CAP and r.where == 8


def test_api_misuse_is_reported_not_crashed():
    assert cload.selftest() == "selftest ok"


# ---- fuzz: >= 2,000 malformed files ------------------------------------------------------------
def mutate_csv_fields(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    op = rng.random()
    i = rng.randrange(len(lines))
    if op < 0.45:
        fields = lines[i].split(",")
        j = rng.randrange(len(fields))
        fields[j] = rng.choice([
            "", "-1", "0", "1", "-2", "32767", "-32768", "32768", "65535", "65536", "2147483647",
            "-2147483648", "99999999999999999999", "nan", "inf", "-inf", "1e39", "-1e39", "1e-50",
            "0.5", "-0.0", "3.4e38", "x", "[", "]", "[1 2", str(rng.randint(-40, 40)),
            "1" * 70, "v", "l", "n"])
        lines[i] = ",".join(fields)
    elif op < 0.6:
        del lines[i]
    elif op < 0.75:
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
    elif op < 0.85:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op < 0.92:
        lines[i] = lines[i] + "," + rng.choice(["0", "1", "junk", ""])
    else:
        lines.insert(i, rng.choice(["v,1", "f,100000", "s,65535,32767,32768", "c,999", "k,9",
                                    "d,int16", "q,0,1,0", "lb,7", "o,3", "\r", "l," + "0," * 300]))
    return "\n".join(lines)


def test_fuzz_malformed_files_rejected_or_bounded(trained, tmp_path):
    rng = random.Random(2024)
    bases = []
    est = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0).fit(*load_iris(return_X_y=True))
    reg = trained["diab_dt"][0]
    for e in (est, reg):
        for dt in ("float", "int16"):
            for lb in ([None, 0, 8] if e is est else [None]):
                mm = emlmpy.convert(e, dtype=dt, leaf_bits=lb)
                bases.append(dumps(mm, "csv"))
                bases.append(dumps(mm, "bin"))
    for lb in (None, 8):
        with np.errstate(all="ignore"):
            bases.append(emlearn.convert(est, method="inline", dtype="float", leaf_bits=lb)
                         .save(name="m", format="csv").encode())
    with np.errstate(all="ignore"):
        bases.append(emlearn.convert(reg, method="inline", dtype="float").save(name="m", format="csv").encode())
    datas = [b"", b"E", b"EMLT", b"\n", b"\r", b"\xef\xbb\xbfv,1\n", b"v", b"v,1", b"f,1\nc,1\nlb,0\n"]
    while len(datas) < 2400:
        base = rng.choice(bases)
        op = rng.random()
        if op < 0.2:  # truncation
            datas.append(base[:rng.randrange(len(base))])
        elif op < 0.55:  # byte flips
            b = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                k = rng.randrange(len(b))
                b[k] = rng.randrange(256) if rng.random() < 0.5 else b[k] ^ (1 << rng.randrange(8))
            datas.append(bytes(b))
        elif op < 0.85 and not base.startswith(b"EMLT"):  # CSV structure mutations
            datas.append(mutate_csv_fields(base.decode(), rng).encode("latin-1", "replace"))
        elif base.startswith(b"EMLT"):  # binary field mutations: counts, indices, floats
            b = bytearray(base)
            k = rng.randrange(4, len(b) - 1) & ~1
            struct.pack_into("<H", b, k, rng.choice([0, 1, 2, 7, 0x7FFF, 0x8000, 0xFFFF, 0xFFFE,
                                                     rng.randrange(65536)]))
            if rng.random() < 0.2:
                struct.pack_into("<f", b, rng.randrange(32, len(b) - 3) & ~3,
                                 rng.choice([float("nan"), float("inf"), -float("inf")]))
            datas.append(bytes(b))
        else:  # random junk appended
            datas.append(base + bytes(rng.randrange(256) for _ in range(rng.randint(1, 20))))
    files = []
    for i, d in enumerate(datas):
        p = tmp_path / f"f{i:05d}"
        p.write_bytes(d)
        files.append(p)
    # random samples including NaN/inf/extremes: predictions on any accepted model stay in bounds
    xr = np.random.default_rng(5)
    X = xr.normal(0, 50, size=(6, 12)).astype(np.float32)
    X[0, :] = np.nan
    X[1, ::2] = np.inf
    X[2, ::3] = -np.inf
    X[3, :] = -0.0
    t0 = time.monotonic()
    caps = (300, 8, 4096, 16)
    res = cload.run(files, chunk=0, x=X.ravel()[: 6 * 4], caps=caps, timeout=120)
    res_cb = cload.run(files[::4], chunk=7, caps=caps, callbacks=True, timeout=120)
    elapsed = time.monotonic() - t0
    n_err = sum(not r.ok for r in res)
    for r in res + res_cb:
        if r.ok:  # valid-and-bounded
            _, _, nf, no, nt, nn, nl = r.shape
            assert nt <= caps[1] and nn <= caps[0] and nl >= 1 and no >= 1 and nf >= 1
        else:
            assert r.code in (E_SIZE, E_CAP, E_CHILD, E_FEATURE, E_CLASS, E_CYCLE, E_ROOT, E_KIND,
                              E_FORMAT, E_VALUE, E_VERSION), r
            assert r.reason
    assert len(files) >= 2000
    assert n_err >= 0.6 * len(files), n_err  # most mutations must be caught (about 80% are)
    assert elapsed < 60, elapsed


# ---- portability -------------------------------------------------------------------------------
def test_armv6m_build_has_no_soft_float_calls(tmp_path):
    from conftest import require_tools
    gcc, nm_tool = require_tools("arm-none-eabi-gcc", "arm-none-eabi-nm")
    obj = tmp_path / "emlc_load.o"
    cmd = [gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
           "-mcpu=cortex-m0", "-mthumb", "-Os", "-I", str(cload.CORES), "-c",
           str(cload.CORES / "emlc_load.c"), "-o", str(obj)]
    subprocess.run(cmd, check=True, capture_output=True)
    nm = subprocess.run([nm_tool, "-u", str(obj)], check=True, capture_output=True,
                        text=True).stdout.split()
    undefined = {s for s in nm if s != "U"}
    float_calls = {s for s in undefined if s.startswith("__aeabi_f") or s.startswith("__aeabi_d")
                   or s.endswith(("sf3", "df3", "sf2", "df2", "sfsi", "sisf"))}
    assert not float_calls, float_calls
    allowed = {"emlc_trees_validate", "emlc_strerror", "memset", "memcpy"}
    assert {s for s in undefined if not s.startswith("__gnu_thumb1_case")} <= allowed, undefined
