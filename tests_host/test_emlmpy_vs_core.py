"""emlmpy's readers against the device loaders, on mutated files written by emlmpy: both accept
or both reject, at the same byte offset (binary: cores/emlc_load + emlc_trees through
test_cores_trees.Core, the calls emltrees makes) or line (CSV: cores/emlc_load_csv through
CsvCore, the calls emltrees_csv makes), and what both accept predicts the same on the C core and
the host predictor (bit for bit: class indices, float32 probabilities and values). NaN inputs and
exact ties included. Version 1 files and emlearn's CSV, which emlmpy converts on the host, the
device refuses."""
from __future__ import annotations

import ctypes as C
import functools
import random
import struct

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

import emlmpy
from emlmpy import ModelFormatError
from test_cores_trees import OK, Core, CTrees, LoadError, lib


class CsvState(C.Structure):
    """The leading fields of emlc_csv_t (cores/emlc_load.h); the rest is opaque here."""
    _fields_ = [("m", CTrees), ("block", C.c_void_p), ("block_bytes", C.c_uint32), ("err", C.c_int),
                ("reason", C.c_char_p), ("line", C.c_uint32), ("last_line", C.c_uint32)]


ALLOC = C.CFUNCTYPE(C.c_void_p, C.c_void_p, C.c_uint32)


class CsvCore(Core):
    """A CSV model file read by the C streaming reader as emltrees_csv does: init with the
    capacity limits, feed chunks of `chunk` bytes, finish. Raises LoadError(code, line, reason)."""

    def __init__(self, text: bytes, chunk: int = 256, limits: tuple = (32767, 32767, 32768)) -> None:
        L = lib()
        L.emlc_csv_init.argtypes, L.emlc_csv_init.restype = [C.c_void_p, C.c_void_p, ALLOC, C.c_void_p], None
        L.emlc_csv_feed.argtypes, L.emlc_csv_feed.restype = [C.c_void_p, C.c_char_p, C.c_size_t], C.c_int
        L.emlc_csv_finish.argtypes, L.emlc_csv_finish.restype = [C.c_void_p], C.c_int
        self.raw = (C.c_uint64 * 512)()  # emlc_csv_t is far smaller than 4 KiB
        self.blocks: list = []

        def alloc(_ctx: int, size: int) -> int:
            block = (C.c_uint32 * max(1, (size + 3) // 4))()
            self.blocks.append(block)
            return C.addressof(block)

        self.alloc = ALLOC(alloc)
        lim = (C.c_uint16 * 3)(min(limits[0], 65535), min(limits[1], 65535), min(limits[2], 65535))
        L.emlc_csv_init(self.raw, lim, self.alloc, None)
        rc = OK
        for i in range(0, len(text), chunk):
            rc = L.emlc_csv_feed(self.raw, text[i:i + chunk], len(text[i:i + chunk]))
            if rc != OK:
                break
        if rc == OK:
            rc = L.emlc_csv_finish(self.raw)
        st = CsvState.from_buffer(self.raw)
        if rc != OK:
            raise LoadError(rc, st.line, st.reason.decode())
        self.s = st.m
        self.p = C.addressof(self.raw)  # m is the first member


@functools.lru_cache(maxsize=None)
def models():
    out = {}
    X, y = datasets.load_iris(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0).fit(X, y)
    out["iris"] = (emlmpy.convert(rf), X)
    out["iris8"] = (emlmpy.convert(rf, leaf_bits=8), X)
    out["iris_labels"] = (emlmpy.convert(RandomForestClassifier(n_estimators=3, random_state=0)
                                         .fit(X, np.array([-1, 7, 42])[y])), X)
    assert out["iris_labels"][0].labels is not None
    Xd, yd = datasets.load_digits(return_X_y=True)
    rfd = RandomForestClassifier(n_estimators=3, max_leaf_nodes=20, random_state=0).fit(Xd, yd)
    out["digits_i16"] = (emlmpy.convert(rfd, dtype="int16", leaf_bits=0), Xd[:40])
    Xr, yr = datasets.load_diabetes(return_X_y=True)
    rfr = RandomForestRegressor(n_estimators=3, max_depth=4, random_state=0).fit(Xr, yr)
    out["reg"] = (emlmpy.convert(rfr), Xr[:40])
    Xp, yp = datasets.make_regression(n_samples=2000, n_features=4, noise=5.0, random_state=2)
    out["pass_through"] = (emlmpy.convert(DecisionTreeRegressor(max_leaf_nodes=800, random_state=0).fit(Xp, yp)),
                           Xp[:40])
    assert out["pass_through"][0].n_pass_through > 0
    Xt, yt = datasets.make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=4, random_state=0)
    Xt = Xt.astype(np.float32)
    rng = np.random.default_rng(0)
    Xn = Xt.copy()
    Xn[rng.random(Xn.shape) < 0.1] = np.nan
    et = ExtraTreesClassifier(n_estimators=5, min_samples_leaf=2, random_state=0).fit(Xn[:400], yt[:400])
    out["ties_nan"] = (emlmpy.convert(et), Xn[400:])
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    if rng.random() < 0.15:
        return bytes(b[:rng.randrange(len(b))])
    for _ in range(rng.choice((1, 1, 2, 3))):
        pos = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[pos] = rng.randrange(256)
        else:
            b[pos] ^= 1 << rng.randrange(8)
    return bytes(b)


def assert_same_predictions(dev: Core, host, X: np.ndarray) -> None:
    """The C core (as the device loaded it) and the host predictor give the same bits: class
    indices and float32 probabilities, or float32 values."""
    Xs = host.quantize(X) if host.dtype == "int16" else X.astype(np.float32)
    if host.is_classifier:
        got = [dev.predict(row, with_out=True) for row in Xs]
        np.testing.assert_array_equal([c for c, _ in got], host.predict_index(Xs))
        assert np.array([p for _, p in got], np.float32).tobytes() == host.predict_proba(Xs).tobytes()
    else:
        vals = [dev.predict(row, with_out=True)[1][0] for row in Xs]
        assert np.array(vals, np.float32).tobytes() == host.predict(Xs).astype(np.float32).tobytes()


def device(data: bytes):
    """The device loader's verdict: the loaded Core, or (offset) of the rejection."""
    try:
        return Core(data)
    except LoadError as e:
        return e.where


@pytest.mark.parametrize("name", ["iris", "iris8", "iris_labels", "digits_i16", "reg", "pass_through", "ties_nan"])
def test_host_reader_agrees_with_device_loader(name: str) -> None:
    m, X = models()[name]
    good = m.save(format="bin")
    rng = random.Random(name)
    accepted = 0
    for data in [good] + [mutate(good, rng) for _ in range(300)]:
        dev = device(data)
        try:
            host = emlmpy.loads(data)
        except ModelFormatError as e:
            assert isinstance(dev, int), (e, "the device accepted what the host refused")
            if e.offset is not None:  # a file that no longer starts with 'E' is CSV to the host
                assert dev == e.offset, (dev, e)
            continue
        assert not isinstance(dev, int), ("the device refused what the host accepted", dev)
        accepted += 1
        if host.n_features == m.n_features and host.dtype == m.dtype:
            assert_same_predictions(dev, host, X)
    assert 1 <= accepted < 301


def test_host_predictor_equals_sklearn_on_ties_and_missing_values() -> None:
    m, X = models()["ties_nan"]
    _ = m  # the estimator is rebuilt for its own predict
    Xt, yt = datasets.make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=4, random_state=0)
    rng = np.random.default_rng(0)
    Xn = Xt.astype(np.float32)
    Xn[rng.random(Xn.shape) < 0.1] = np.nan
    et = ExtraTreesClassifier(n_estimators=5, min_samples_leaf=2, random_state=0).fit(Xn[:400], yt[:400])
    np.testing.assert_array_equal(emlmpy.convert(et).predict(Xn), et.predict(Xn))


@pytest.mark.parametrize("fmt", ["csv", "v1", "emlearn"])
def test_the_device_refuses_host_only_formats(fmt: str) -> None:
    m, _ = models()["iris"]
    if fmt == "csv":
        data = m.save(format="csv").encode()
    elif fmt == "v1":
        data = b"EMLT\x01\x00" + bytes(26)
    else:
        import emlearn
        X, y = datasets.load_iris(return_X_y=True)
        rf = RandomForestClassifier(n_estimators=2, max_depth=3, random_state=0).fit(X, y)
        data = emlearn.convert(rf, method="inline").save(name="m", format="csv").encode()
    dev = device(data.ljust(32, b" "))
    assert isinstance(dev, int)


CSV_EDITS = ("digit", "delete", "insert", "drop_line", "dup_line", "swap_lines", "sign", "zeros",
             "long", "space", "crlf", "bom", "truncate", "blank", "comma", "pad")


def mutate_csv(text: bytes, rng: random.Random) -> bytes:
    """One or two edits of the kinds a hand edit, a transfer or an attacker makes."""
    lines = text.split(b"\n")
    for _ in range(rng.choice((1, 1, 2))):
        edit = rng.choice(CSV_EDITS)
        i = rng.randrange(len(lines))
        ln = bytearray(lines[i])
        j = rng.randrange(len(ln) + 1)
        if edit == "digit":
            ln[j:j + 1] = str(rng.randrange(10)).encode()
        elif edit == "delete" and ln:
            del ln[min(j, len(ln) - 1)]
        elif edit == "insert":
            ln[j:j] = bytes([rng.choice(b"0123456789-+,.eE x\t")])
        elif edit == "sign":
            ln[j:j] = rng.choice((b"-", b"+", b"-0", b"+0"))
        elif edit == "zeros":
            ln[j:j] = b"0" * rng.randrange(1, 20)
        elif edit == "long":
            ln[j:j] = b"9" * rng.randrange(9, 45)
        elif edit == "space":
            ln[j:j] = rng.choice((b" ", b"\t", b"  "))
        elif edit == "comma":
            ln[j:j] = b","
        lines[i] = bytes(ln)
        if edit == "drop_line" and len(lines) > 1:
            del lines[i]
        elif edit == "dup_line":
            lines.insert(i, lines[i])
        elif edit == "swap_lines" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif edit == "crlf":
            lines[i] += rng.choice((b"\r", b"\r\r", b""))
        elif edit == "blank":
            lines.insert(i, rng.choice((b"", b"  ", b"\t")))
        elif edit == "bom":
            lines[0] = rng.choice((b"\xef\xbb\xbf", b"\xef\xbb", b"\xef")) + lines[0]
        elif edit == "truncate":
            return b"\n".join(lines)[:rng.randrange(len(text))]
        elif edit == "pad":  # near the length bound (1 KiB + 32 bytes per model byte)
            lines.insert(i, rng.choice((b" ", b"\n", b"x,1\n")) * rng.randrange(100, 4000))
    return b"\n".join(lines)


def csv_device(text: bytes, rng: random.Random):
    try:
        return CsvCore(text, chunk=rng.choice((1, 7, 256, 4096)))
    except LoadError as e:
        return e


@pytest.mark.parametrize("name", ["iris", "iris8", "iris_labels", "digits_i16", "reg", "pass_through", "ties_nan"])
def test_host_csv_reader_agrees_with_device_csv_reader(name: str) -> None:
    """One grammar and one set of limits: every mutated CSV is accepted by both readers or refused
    by both at the same line; accepted files predict the same on both."""
    m, X = models()[name]
    good = m.save(format="csv").encode()
    rng = random.Random("csv" + name)
    accepted = 0
    for text in [good, b"\xef\xbb\xbf" + good, good.replace(b"\n", b"\r\n")] + [mutate_csv(good, rng) for _ in range(300)]:
        dev = csv_device(text, rng)
        try:
            fmt = emlmpy.io.file_format(text)
        except ModelFormatError:
            fmt = "none"
        if fmt != "trees-2-csv":  # no v,2 line: a host-only format (version 1, emlearn's) or none
            assert isinstance(dev, LoadError), (text, fmt, "the device accepted a file without v,2")
            continue
        try:
            host = emlmpy.loads(text)
        except ModelFormatError as e:
            assert isinstance(dev, LoadError), (text, e, "the device accepted what the host refused")
            assert e.line == dev.where, (text, e, dev)
            continue
        assert not isinstance(dev, LoadError), (text, "the device refused what the host accepted", dev)
        accepted += 1
        if host.n_features == m.n_features and host.dtype == m.dtype:
            assert_same_predictions(dev, host, X)
    assert 3 <= accepted < 303


@pytest.mark.parametrize("key,missing_left,ok", [
    (0x7F800000, 0, True), (-0x7F800001, 1, True),            # key(+inf), key(-inf): in range
    (0x7FFFFFFF, 1, True),                                     # the pass-through key with missing_left
    (0x7FFFFFFF, 0, False), (0x7F800001, 1, False),            # above key(+inf): a NaN would go left
    (-0x7F800002, 0, False), (-0x80000000, 1, False)])         # below key(-inf): a NaN would go right
def test_float_keys_beyond_infinity_are_refused_by_both(key: int, missing_left: int, ok: bool) -> None:
    """A float model's threshold key outside key(-inf)..key(+inf) would route NaN against its
    missing_left bit: both readers refuse it, at the node (binary offset, CSV line)."""
    m, _ = models()["iris"]
    b = bytearray(m.save(format="bin"))
    fk = int(m.nodes["fk"][1]) & ~4 | (4 * missing_left)
    struct.pack_into("<iH", b, 32 + 8, key, fk)
    dev = device(bytes(b))
    if ok:
        assert not isinstance(dev, int) and emlmpy.loads(bytes(b)).n_nodes == m.n_nodes
    else:
        with pytest.raises(ModelFormatError) as e:
            emlmpy.loads(bytes(b))
        assert dev == e.value.offset == 40
    text = emlmpy.loads(bytes(b)).save(format="csv").encode() if ok else None
    if ok:
        assert not isinstance(csv_device(text, random.Random(0)), LoadError)
