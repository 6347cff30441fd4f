"""cores/emlc_knn_load.c (the binary k-NN file, docs/model-format.md §4 version 2) and
cores/emlc_quant.c (int16 input quantization, §1), through ctypes as the emlneighbors glue calls
them: the header into emlc_knn_file_t.h, emlc_knn_load_header, the rest of the file into one
4-aligned block, emlc_knn_load_check.

- emlmpy's reader (binformat.read_knn) and the C loader accept and refuse the same files, at the
  same byte offset, for files emlmpy writes and for thousands of mutations of them (byte flips,
  header fields set to edge values, truncations); what both accept predicts the same (C core vs
  the host predictor, neighbours and labels).
- emlc_quantize equals emlmpy's quantize() bit for bit (host build and the Cortex-M0 build with
  the project's soft-float helpers), including NaN, infinities, the clamps and the half-way
  points where the rounding rule decides.
The sanitizer run repeats this file's tests on the ASan/UBSan build.
"""
from __future__ import annotations

import ctypes as C
import functools
import random
import struct

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.neighbors import KNeighborsClassifier

import ccore
import cdsp
import emlmpy
from cdsp import KnnResult, KnnT
from emlmpy import ModelFormatError
from emlmpy import keys as K

HEADER = 32
SECTIONS = 5


class KnnHeader(C.Structure):
    _fields_ = [("magic", C.c_uint8 * 4), ("version", C.c_uint16), ("dtype", C.c_uint8), ("reserved7", C.c_uint8),
                ("n_features", C.c_uint16), ("n_classes", C.c_uint16), ("k", C.c_uint16), ("flags", C.c_uint16),
                ("n_items", C.c_uint32), ("reserved20", C.c_uint32), ("file_bytes", C.c_uint32),
                ("reserved28", C.c_uint32)]


class KnnFile(C.Structure):
    _fields_ = [("h", KnnHeader), ("at", C.c_uint32 * SECTIONS), ("size", C.c_uint32 * SECTIONS)]


class CError(C.Structure):
    _fields_ = [("where", C.c_uint32), ("reason", C.c_char_p)]


assert C.sizeof(KnnHeader) == HEADER


def lib() -> C.CDLL:
    L = cdsp.lib()
    L.emlc_knn_load_header.argtypes, L.emlc_knn_load_header.restype = [C.c_void_p, C.c_void_p], C.c_int
    L.emlc_knn_load_check.argtypes, L.emlc_knn_load_check.restype = [C.c_void_p] * 4, C.c_int
    L.emlc_quantize_row.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p, C.c_size_t, C.c_void_p]
    L.emlc_quantize_row.restype = None
    return L


class Refused(Exception):
    def __init__(self, where: int, reason: str) -> None:
        super().__init__(f"offset {where}: {reason}")
        self.where, self.reason = where, reason


class CKnn:
    """A file loaded by the C loader as emlneighbors does (a short file: the glue's 'truncated
    file' at the number of bytes read; bytes beyond the declared size: 'data after the model')."""

    def __init__(self, blob: bytes) -> None:
        L = lib()
        if len(blob) < HEADER:
            raise Refused(len(blob), "truncated file")
        self.f, e = KnnFile(), CError()
        C.memmove(C.addressof(self.f.h), blob, HEADER)
        if L.emlc_knn_load_header(C.byref(self.f), C.byref(e)) != cdsp.OK:
            raise Refused(e.where, e.reason.decode())
        total = self.f.h.file_bytes
        if len(blob) < total:
            raise Refused(len(blob), "truncated file")
        if len(blob) > total:
            raise Refused(total, "data after the model")
        self.block = (C.c_uint32 * max(1, (total - HEADER + 3) // 4))()  # 4-aligned, as a GC block
        C.memmove(self.block, blob[HEADER:], total - HEADER)
        self.m = KnnT()
        if L.emlc_knn_load_check(C.byref(self.f), self.block, C.byref(self.m), C.byref(e)) != cdsp.OK:
            raise Refused(e.where, e.reason.decode())
        assert self.m.n_items == self.m.max_items == self.f.h.n_items

    def kneighbors(self, x: np.ndarray) -> tuple[int, list[int]]:
        k = self.f.h.k
        x = np.ascontiguousarray(x, dtype=np.int16 if self.m.dtype == cdsp.KNN_I16 else np.float32)
        res, label = (KnnResult * k)(), C.c_int16(-1)
        fn = lib().emlc_knn_predict_i16 if self.m.dtype == cdsp.KNN_I16 else lib().emlc_knn_predict_f32
        assert fn(C.byref(self.m), cdsp.fptr(x), x.size, k, C.addressof(res), C.addressof(label)) == cdsp.OK
        return label.value, [r.index for r in res]


def device(blob: bytes):
    try:
        return CKnn(blob)
    except Refused as e:
        return e


@functools.lru_cache(maxsize=None)
def models() -> dict:
    out = {}
    for name, load in (("iris", load_iris), ("wine", load_wine), ("digits", load_digits)):
        X, y = load(return_X_y=True)
        X, y = X[::2], y[::2]
        labels = {"iris": np.array([-1, 7, 42]), "wine": None, "digits": np.arange(10) * 1000 - 4000}[name]
        est = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(X, y if labels is None else labels[y])
        for dtype in ("float", "int16"):
            out[f"{name}_{dtype}"] = (emlmpy.convert(est, dtype=dtype), X)
    return out


def host_verdict(blob: bytes):
    try:
        return emlmpy.binformat.read_knn(blob)
    except ModelFormatError as e:
        return e


def assert_same(blob: bytes, X: np.ndarray) -> bool:
    """Both readers refuse at the same offset, or both accept and predict the same. True when accepted."""
    dev, host = device(blob), host_verdict(blob)
    if blob[4:6] == b"\x01\x00" and blob[:4] == b"EMLK":  # version 1: host only
        assert isinstance(dev, Refused) and dev.where == 4, dev
        return False
    if isinstance(host, ModelFormatError):
        assert isinstance(dev, Refused), (host, "the C loader accepted what emlmpy refused")
        assert dev.where == host.offset, (dev, host)
        return False
    assert not isinstance(dev, Refused), (dev, "the C loader refused what emlmpy accepted")
    model = emlmpy.KnnModel.from_arrays(host)
    Xs = model.quantize(X) if model.dtype == "int16" else X.astype(np.float32)
    if Xs.shape[1] == model.n_features:
        _, idx = model.kneighbors(Xs[:15])
        want = model.predict_index(Xs[:15])
        for row, ref_idx, ref_label in zip(Xs[:15], idx, want):
            label, nearest = dev.kneighbors(row)
            assert label == ref_label and nearest == list(ref_idx)
    return True


@pytest.mark.parametrize("name", ["iris_float", "iris_int16", "wine_float", "wine_int16", "digits_float",
                                  "digits_int16"])
def test_files_emlmpy_writes_load_and_predict_the_same(name: str) -> None:
    m, X = models()[name]
    blob = m.save(format="bin")
    assert assert_same(blob, X)
    dev = CKnn(blob)
    assert (dev.f.h.flags == 1) == (m.class_labels is not None)
    if m.class_labels is not None:  # the class labels lie where the glue reads them
        at = dev.f.at[4]
        got = np.frombuffer(bytes(dev.block), dtype="<i4", count=m.n_classes, offset=at)
        assert got.tolist() == m.class_labels.tolist()


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Truncations, byte flips and header fields set to edge values."""
    b = bytearray(data)
    r = rng.random()
    if r < 0.1:
        return bytes(b[:rng.randrange(len(b))])
    if r < 0.4:
        at, fmt = rng.choice(((4, "<H"), (6, "<B"), (7, "<B"), (8, "<H"), (10, "<H"), (12, "<H"), (14, "<H"),
                              (16, "<I"), (20, "<I"), (24, "<I"), (28, "<I")))
        old = struct.unpack_from(fmt, b, at)[0]
        top = 2 ** (8 * struct.calcsize(fmt)) - 1
        new = rng.choice((0, 1, 2, old - 1, old + 1, top, top // 2, top // 2 + 1, 32768, 32769,
                          rng.randrange(top + 1))) & top
        struct.pack_into(fmt, b, at, new)
        return bytes(b)
    for _ in range(rng.choice((1, 1, 2, 3))):
        pos = rng.randrange(len(b))
        if rng.random() < 0.5:
            b[pos] = rng.randrange(256)
        else:
            b[pos] ^= 1 << rng.randrange(8)
    return bytes(b)


@pytest.mark.parametrize("name", ["iris_float", "iris_int16", "wine_int16", "digits_float"])
def test_mutated_files_same_verdict_same_offset(name: str) -> None:
    m, X = models()[name]
    good = m.save(format="bin")
    rng = random.Random(name)
    n = 400 if not ccore.SANITIZED else 150
    accepted = sum(assert_same(mutate(good, rng), X) for _ in range(n))
    assert 1 <= accepted < n


def put(blob: bytes, at: int, fmt: str, value) -> bytes:
    b = bytearray(blob)
    struct.pack_into(fmt, b, at, value)
    return bytes(b)


def rule_cases() -> tuple[list[tuple[bytes, int]], list[bytes]]:
    """(file, offset) for one file per rule of §4 (header fields out of range, truncations, bad
    padding, bad elements), and files at the allowed edges (32768 classes, k == n_items)."""
    mi, _ = models()["iris_int16"]  # 75 items (odd: label padding), int16, class labels
    mf, _ = models()["wine_float"]  # float items, no class labels
    bi, bf = mi.save(format="bin"), mf.save(format="bin")
    n = mi.n_items
    labels_at = HEADER + ((n * 4 * 2 + 3) & ~3)
    scale_at = labels_at + ((2 * n + 3) & ~3)
    offset_at = scale_at + 16
    cases = [
        (bi[:0], 0), (bi[:31], 31), (bi[:-1], len(bi) - 1), (bi + b"\0", len(bi)),
        (put(bi, 0, "4s", b"EMLT"), 0), (put(bi, 0, "4s", b"EMLX"), 0),
        (put(bi, 4, "<H", 3), 4), (put(bi, 4, "<H", 0), 4), (put(bi, 6, "<B", 2), 6),
        (put(bi, 7, "<B", 1), 7), (put(bi, 20, "<I", 1), 20), (put(bi, 28, "<I", 1 << 31), 28),
        (put(bi, 14, "<H", 2), 14), (put(bi, 8, "<H", 0), 8), (put(bi, 10, "<H", 0), 10),
        (put(bi, 10, "<H", 32769), 10), (put(bi, 12, "<H", 0), 12), (put(bi, 16, "<I", 0), 16),
        (put(bi, 16, "<I", 2 ** 26 + 1), 16),  # x 4 features > 2^28
        (put(bi, 12, "<H", n + 1), 12), (put(bi, 24, "<I", len(bi) + 4), 24),
        (put(bi, 8, "<H", 5), 24),  # other counts: the total size no longer matches
        (put(bi, labels_at + 2 * n, "<B", 1), labels_at + 2 * n),  # label padding
        (put(bi, labels_at + 2 * 7, "<H", 3), labels_at + 2 * 7),  # label 3 >= n_classes 3
        (put(bi, scale_at + 4, "<f", float("nan")), scale_at + 4),
        (put(bi, scale_at, "<f", 0.0), scale_at), (put(bi, scale_at, "<f", -1.0), scale_at),
        (put(bi, scale_at, "<f", float("inf")), scale_at), (put(bi, offset_at + 12, "<f", float("-inf")), offset_at + 12),
        (put(bf, HEADER + 4 * 13, "<f", float("nan")), HEADER + 4 * 13),
        (put(bf, HEADER + 4 * 20, "<f", float("inf")), HEADER + 4 * 20),
    ]
    edges = [put(put(bi, 10, "<H", 32768), 24, "<I", len(bi) + 4 * (32768 - 3)) + b"\0" * 4 * (32768 - 3),
             put(bi, 12, "<H", n)]
    return cases, edges


def test_every_rule_refused_at_its_offset() -> None:
    """One file per rule of §4: the C loader names the same offset as emlmpy, and the one the
    format page gives; the allowed edges load (a class label table of any values included)."""
    cases, edges = rule_cases()
    for blob, where in cases:
        dev, host = device(blob), host_verdict(blob)
        assert isinstance(dev, Refused) and isinstance(host, ModelFormatError), (where, dev, host)
        assert dev.where == host.offset == where, (where, dev, host)
    for blob in edges:
        assert isinstance(device(blob), CKnn) and not isinstance(host_verdict(blob), ModelFormatError)


def test_tree_file_and_version_1_refused_with_their_own_message() -> None:
    X, y = load_iris(return_X_y=True)
    from sklearn.tree import DecisionTreeClassifier
    tree = emlmpy.convert(DecisionTreeClassifier(max_depth=2).fit(X, y)).save(format="bin")
    e = device(tree)
    assert isinstance(e, Refused) and e.where == 0 and "emltrees" in e.reason
    m, _ = models()["iris_float"]
    v1 = put(put(m.save(format="bin"), 4, "<H", 1), 14, "<H", 0)
    e = device(v1)
    assert isinstance(e, Refused) and e.where == 4 and "version 1" in e.reason


def test_version_1_files_still_read_on_the_host() -> None:
    """A version 1 file (no flags, no class labels, k > n_items allowed) reads on the host, and
    saving it writes version 2 with k = n_items, which predicts the same."""
    X, y = load_iris(return_X_y=True)
    X, y = X[:9], y[:9] % 2
    items = X.astype(np.float32)
    body = items.tobytes() + y.astype("<u2").tobytes()
    body += b"\0" * (-len(body) % 4)
    v1 = struct.pack("<4sHBBHHHHIIII", b"EMLK", 1, 0, 0, 4, 2, 12, 0, 9, 0, HEADER + len(body), 0) + body
    m = emlmpy.loads(v1)
    assert m.k == 12 and m.n_items == 9 and m.class_labels is None
    v2 = m.save(format="bin")
    assert v2[4:6] == b"\x02\x00" and struct.unpack_from("<H", v2, 12)[0] == 9
    m2 = emlmpy.loads(v2)
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))
    dev = CKnn(v2)
    assert [dev.kneighbors(x)[0] for x in X] == m.predict(X).tolist()


def quantize_c(x: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    x, scale, offset = (np.ascontiguousarray(a, dtype=np.float32) for a in (x, scale, offset))
    out = np.zeros(x.size, dtype=np.int16)
    lib().emlc_quantize_row(cdsp.fptr(x), cdsp.fptr(scale), cdsp.fptr(offset), x.size, cdsp.fptr(out))
    return out


def quantize_cases(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs around the quantization grid and its edges: random values and scales, exact half-way
    points, values beyond int16, NaN, infinities, signed zeros, subnormals."""
    scale = (10.0 ** rng.integers(-3, 4, n) * rng.uniform(0.5, 2.0, n)).astype(np.float32)
    offset = rng.normal(0, 100, n).astype(np.float32)
    x = (offset + rng.normal(0, 40000, n) / scale).astype(np.float32)
    q = rng.integers(-32770, 32770, n).astype(np.float32)
    half = ((q + np.float32(0.5)) / scale + offset).astype(np.float32)  # near the half-way points
    for step in (-1, 0, 1):
        x = np.concatenate([x, np.nextafter(half, np.float32(step * np.inf))])
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 0.5, -0.5, 1.5, -1.5, 2.5,
                        -2.5, 32767.0, 32767.5, 32766.5, -32768.0, -32768.5, -32767.5, 3e38, -3e38], np.float32)
    x = np.concatenate([x, special])
    m = x.size
    scale = np.resize(scale, m)
    offset = np.resize(offset, m)
    offset[-special.size:], scale[-special.size:] = 0.0, 1.0
    return x, scale, offset


def test_quantize_equals_emlmpy() -> None:
    x, scale, offset = quantize_cases(np.random.default_rng(3), 20000 if not ccore.SANITIZED else 2000)
    np.testing.assert_array_equal(quantize_c(x, scale, offset), K.quantize(x, scale, offset))


def test_cross_compiles() -> None:
    """Both files build warning-free for every natmod cross compiler, without libm, double or
    division helpers."""
    ccore.check_portable("emlc_knn_load.c")
    ccore.check_portable("emlc_quant.c")


def test_armv6m_quantize_and_load_bitexact() -> None:
    """The Cortex-M0 build (soft-float helpers of emlc_common_sf.c, run in unicorn): the same int16
    values as emlmpy, and the same verdicts on a few files as the host build."""
    m = ccore.Armv6m(["emlc_quant.c", "emlc_knn.c", "emlc_knn_load.c"])
    x, scale, offset = quantize_cases(np.random.default_rng(4), 600)
    n = x.size
    out = m.alloc(2 * n)
    m.call("emlc_quantize_row", m.alloc(x.tobytes()), m.alloc(scale.tobytes()), m.alloc(offset.tobytes()), n, out)
    got = np.frombuffer(m.read(out, 2 * n), dtype="<i2")
    np.testing.assert_array_equal(got, K.quantize(x, scale, offset))
    model, _ = models()["iris_int16"]
    good = model.save(format="bin")
    rng = random.Random(7)
    for blob in [good] + [mutate(good, rng) for _ in range(40)]:
        if len(blob) < HEADER:
            continue
        f, e = m.alloc(C.sizeof(KnnFile)), m.alloc(8)
        m.write(f, blob[:HEADER])
        rc = m.call("emlc_knn_load_header", f, e)
        dev = device(blob)
        if rc != cdsp.OK:
            assert isinstance(dev, Refused) and dev.where == struct.unpack("<I", m.read(e, 4))[0]
            continue
        total = struct.unpack_from("<I", blob, 24)[0]
        if len(blob) != total:
            continue
        body, st = m.alloc(blob[HEADER:] or 1), m.alloc(20)
        rc = m.call("emlc_knn_load_check", f, body, st, e)
        assert (rc == cdsp.OK) == isinstance(dev, CKnn)
        if rc != cdsp.OK:
            assert dev.where == struct.unpack("<I", m.read(e, 4))[0]


def test_sanitized() -> None:
    """This file's tests again, in a child process, on the -fsanitize=address,undefined build."""
    ccore.assert_tests_pass_sanitized(__file__)
