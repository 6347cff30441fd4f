"""emltrees must survive any file and any memory pressure: malformed model files are refused with
ValueError/MemoryError (never a crash or hang), random byte flips are refused exactly when the host
reader refuses them and otherwise predict what the host predicts, and models are reclaimed by the GC."""
from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

import emlmpy
import upy

LOADER = r'''
import array, json, time, gc
import emltrees
cfg = json.load(open("cfg.json"))
X = array.array("f", cfg["x"])
out = []
for name in cfg["files"]:
    m = emltrees.new(cfg["trees"], cfg["nodes"], cfg["leaves"])
    t0 = time.ticks_ms()
    try:
        with open(name, "rb") as f:
            emltrees.load_model(m, f)
        nf = m.n_features()
        preds = [m.predict(X[i * nf:(i + 1) * nf]) for i in range(len(X) // nf)] if nf == cfg["nf"] else None
        res = ["ok", preds, m.outputs()]
    except (ValueError, MemoryError) as e:
        res = [type(e).__name__, str(e)]
    except Exception as e:
        res = ["UNEXPECTED " + type(e).__name__, str(e)]
    res.append(time.ticks_diff(time.ticks_ms(), t0))
    out.append(res)
    m = None
    gc.collect()
print(json.dumps(out))
'''


def _models():
    X, y = load_iris(return_X_y=True)
    iris = emlmpy.convert(RandomForestClassifier(n_estimators=3, max_depth=4, random_state=1).fit(X, y))
    Xd, yd = load_digits(return_X_y=True)
    digits16 = emlmpy.convert(RandomForestClassifier(n_estimators=2, max_leaf_nodes=12, random_state=1).fit(Xd, yd),
                              dtype="int16", leaf_bits=0)
    reg = emlmpy.convert(RandomForestRegressor(n_estimators=2, max_depth=3, random_state=1).fit(X[:, :3], X[:, 3]))
    return {"iris": iris, "digits16": digits16, "reg": reg}


def _csv_lines(model) -> list[str]:
    return emlmpy.dumps(model, format="csv").splitlines()


def malformed_files(rng: random.Random) -> list[tuple[str, bytes]]:
    """Files every reader must refuse (each category's rule is stated where it is built)."""
    files: list[tuple[str, bytes]] = [("empty", b"")]
    for name, model in _models().items():
        b = emlmpy.dumps(model, format="bin")
        c = emlmpy.dumps(model, format="csv").encode()
        # binary: any truncation loses declared data
        for _ in range(250):
            files.append((f"{name}-bin-trunc", b[:rng.randrange(0, len(b))]))
        # binary: huge or inconsistent counts in the header (n_trees, n_nodes, n_payloads,
        # payload_bytes, total size); a value equal to the file's own is no change
        for off, fmt in ((12, "<H"), (14, "<H"), (16, "<H"), (20, "<I"), (24, "<I")):
            for v in (0xFFFF if fmt == "<H" else 0xFFFFFFFF, 0, 40000):
                bb = bytearray(b)
                struct.pack_into(fmt, bb, off, v)
                if bytes(bb) != b:
                    files.append((f"{name}-bin-count@{off}={v}", bytes(bb)))
        # binary: bad magic, unknown version, unknown kinds
        for off, val in ((0, 0x58), (4, 9), (6, 7), (7, 9)):
            bb = bytearray(b)
            bb[off] = val
            files.append((f"{name}-bin-hdr@{off}", bytes(bb)))
        # CSV: truncation inside the data (not only trailing whitespace) leaves a node or leaf missing
        body = c.rstrip()
        first_data, last_line = body.index(b"\nr,"), body.rindex(b"\n")
        for _ in range(300):  # the last line at least goes: a number cut short may still be valid
            files.append((f"{name}-csv-trunc", body[:rng.randrange(first_data, last_line)]))
        lines = _csv_lines(model)
        node_idx = [i for i, ln in enumerate(lines) if ln.startswith("n,")]
        n_nodes = len(node_idx)
        for k, i in enumerate(node_idx):
            f = lines[i].split(",")
            # out-of-range children and features, cycles (a child at or before its parent), NaN/inf thresholds
            for field, val in ((3, str(n_nodes + 5)), (4, "-30000"), (1, "9999"), (3, str(k)), (4, "0"),
                               (2, "nan"), (2, "inf"), (2, "1e99"), (2, "12x"), (3, "")):
                g = list(f)
                g[field] = val
                bad = list(lines)
                bad[i] = ",".join(g)
                files.append((f"{name}-csv-node{k}-{field}={val}", ("\n".join(bad) + "\n").encode()))
        roots = [i for i, ln in enumerate(lines) if ln.startswith("r,")]
        for i in roots:
            for val in (str(n_nodes), "-9999", "x"):
                bad = list(lines)
                bad[i] = "r," + val
                files.append((f"{name}-csv-root={val}", ("\n".join(bad) + "\n").encode()))
        for i, ln in enumerate(lines):
            if ln.startswith("v,"):
                bad = list(lines)
                bad[i] = "v,99"
                files.append((f"{name}-csv-version", ("\n".join(bad) + "\n").encode()))
        files.append((f"{name}-csv-longline", ("n," + "1" * 5000 + "\n").encode() + c))
        files.append((f"{name}-binary-garbage", bytes(rng.randrange(256) for _ in range(300))))
    return files


@pytest.fixture(scope="module", autouse=True)
def built():
    upy.ensure_modules()


def _run_files(tmp: Path, files: list[tuple[str, bytes]], x: list[float], nf: int) -> list:
    names = []
    for i, (_, data) in enumerate(files):
        p = tmp / f"m{i}.dat"
        p.write_bytes(data)
        names.append(p.name)
    cfg = {"files": names, "trees": 4, "nodes": 200, "leaves": 400, "x": x, "nf": nf}
    (tmp / "cfg.json").write_text(json.dumps(cfg))
    r = upy.run(LOADER, tmp, heapsize="4M", timeout=600)
    assert r.returncode == 0, f"micropython died (exit {r.returncode}): {r.stderr[-2000:]}"
    return json.loads(r.stdout)


def test_malformed_files_are_refused(tmp_path: Path) -> None:
    files = malformed_files(random.Random(1234))
    assert len(files) >= 2000
    # the host reader refuses every one of them too (they are malformed by construction)
    for name, data in files[:: max(1, len(files) // 300)]:
        with pytest.raises(Exception):
            emlmpy.loads(data)
    res = _run_files(tmp_path, files, [0.5] * 4, 4)
    bad = [(files[i][0], r) for i, r in enumerate(res) if r[0] not in ("ValueError", "MemoryError")]
    assert not bad, bad[:10]
    assert max(r[-1] for r in res) < 1000  # ms per file: bounded work, no hang
    # errors name where: a line (CSV) or an offset (binary)
    assert all(("line" in r[1] or "offset" in r[1]) for r in res if r[0] == "ValueError" and r[1] != "")


def test_byte_flips_agree_with_host_reader(tmp_path: Path) -> None:
    rng = random.Random(99)
    models = _models()
    X = np.random.default_rng(3).uniform(0, 8, size=(6, 4)).astype(np.float32)
    files = []
    for name in ("iris", "reg"):
        for fmt in ("csv", "bin"):
            data = emlmpy.dumps(models[name], format=fmt)
            data = data.encode() if isinstance(data, str) else data
            for _ in range(300):
                bb = bytearray(data)
                for _ in range(rng.choice((1, 1, 2, 3))):
                    pos = rng.randrange(len(bb))
                    bb[pos] = rng.randrange(256) if rng.random() < 0.5 else bb[pos] ^ (1 << rng.randrange(8))
                files.append((f"{name}-{fmt}-flip", bytes(bb)))
    res = _run_files(tmp_path, files, X.ravel().tolist(), 4)
    accepted = 0
    for (label, data), r in zip(files, res):
        assert not r[0].startswith("UNEXPECTED"), (label, r)
        try:
            host = emlmpy.loads(data)
        except Exception:
            host = None
        if host is None:
            assert r[0] in ("ValueError", "MemoryError"), (label, r)
            continue
        # host accepts: the device accepts too and predicts the same, in bounds
        assert r[0] == "ok", (label, r)
        accepted += 1
        if host.n_features == 4 and r[1] is not None:
            want = host.predict(X) if host.is_classifier else host.predict(X).astype(np.float32)
            got = np.array(r[1])
            if host.is_classifier:
                assert np.array_equal(got, want) and got.max() < r[2], (label, got, want)
            else:
                assert np.allclose(got, want, rtol=1e-6, equal_nan=True), (label, got, want)
    assert accepted > 0  # some flips (inside numbers) give valid files: both sides must agree on them


GC_SCRIPT = r'''
import array, gc, io
import emltrees
data = open("model.bin", "rb").read()
x = array.array("f", [5.0, 3.0, 1.5, 0.2])
gc.collect()
start = gc.mem_free()
for i in range(1000):
    m = emltrees.new(3, 40)
    emltrees.load_model(m, io.BytesIO(data))
    assert m.predict(x) == 0
    m = None
    gc.collect()
print(start - gc.mem_free())
'''

OOM_SCRIPT = r'''
import array, gc, io
import emltrees
res = []
m = emltrees.new(32767, 32767)  # capacities are limits: nothing is reserved
for name in ("big.bin", "big.csv"):
    try:
        with open(name, "rb") as f:
            emltrees.load_model(m, f)  # larger than the whole heap
        res.append("ok")
    except MemoryError:
        res.append("MemoryError")
    try:
        m.predict(array.array("f", [0.0] * 6))
    except ValueError:
        res.append("empty")
with open("model.bin", "rb") as f:
    emltrees.load_model(m, f)
res.append(m.predict(array.array("f", [5.0, 3.0, 1.5, 0.2])))
print(res)
'''


def test_gc_stress_and_low_memory(tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True)
    est = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=1).fit(X, y)
    emlmpy.convert(est).save(file=str(tmp_path / "model.bin"), format="bin")
    rng = np.random.default_rng(0)
    Xb = rng.standard_normal((12000, 6)).astype(np.float32)
    from sklearn.ensemble import ExtraTreesClassifier
    big = emlmpy.convert(ExtraTreesClassifier(n_estimators=1, random_state=0).fit(Xb, rng.integers(0, 3, len(Xb))),
                         leaf_bits=0)
    assert big.device_bytes > 65_536  # more than the 64 KiB heap it is loaded into
    big.save(file=str(tmp_path / "big.bin"))
    big.save(file=str(tmp_path / "big.csv"))
    assert est.predict([[5.0, 3.0, 1.5, 0.2]])[0] == 0
    r = upy.run(GC_SCRIPT, tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) <= 1024  # heap back to within 1 KiB of where it started
    r = upy.run(OOM_SCRIPT, tmp_path, heapsize="64K")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['MemoryError', 'empty', 'MemoryError', 'empty', 0]"


STREAMS = r'''
import emltrees, emlfft, emliir, emlneighbors, array, io
''' + upy.OUT_FN + r'''
BIN = open("c.bin", "rb").read()
CSV = open("c.csv", "rb").read()
X = array.array("f", [0.9, 0.5, 0.5])
m = emltrees.new(5, 100)
class Reentrant:  # calls load_model on the same model from inside its own readinto
    def __init__(s): s.f = io.BytesIO(BIN); s.n = 0
    def readinto(s, b):
        s.n += 1
        if s.n == 2:
            print("inner", out(emltrees.load_model, m, io.BytesIO(BIN)))
        return s.f.readinto(b)
print("reentrant", out(emltrees.load_model, m, Reentrant()), m.predict(X))
class More:  # read(n) returns n + 7 bytes
    def __init__(s, d): s.d = d; s.p = 0
    def read(s, n):
        r = s.d[s.p:s.p + n + 7]; s.p += len(r); return r
print("more bin", out(emltrees.load_model, m, More(BIN)))
print("more csv", out(emltrees.load_model, m, More(CSV)))
class Endless:  # a prefix, then the fill byte for ever (the test stops it after 20000 reads)
    def __init__(s, prefix, fill): s.p = prefix; s.fill = fill; s.n = 0
    def readinto(s, b):
        s.n += 1
        if s.n > 20000:
            raise OSError("not bounded")
        if s.p:
            k = min(len(b), len(s.p)); b[:k] = s.p[:k]; s.p = s.p[k:]; return k
        for i in range(len(b)):
            b[i] = s.fill
        return len(b)
for prefix, fill in ((b"", 32), (CSV, 10), (CSV, 32), (CSV[:40], 32), (BIN, 0)):
    print("endless", out(emltrees.load_model, m, Endless(prefix, fill)))
print("bom", out(emltrees.load_model, m, io.BytesIO(b"\xef\xbb\xbf" + CSV)), m.predict(X))
print("bom crlf", out(emltrees.load_model, m, io.BytesIO(b"\xef\xbb\xbf" + CSV.replace(b"\n", b"\r\n"))), m.predict(X))
print("half bom", out(emltrees.load_model, m, io.BytesIO(b"\xef\xbb" + CSV)))
r = emltrees.load(open("r.bin", "rb"))
for tc in "hif":
    print("regression out", tc, out(r.predict_many, X, array.array(tc, [0])))
f = emlfft.FFT(8)
a = array.array("f", range(8))
b = array.array("f", range(5))
print("run aliased", out(f.run, a, a))
print("inverse aliased", out(f.inverse, a, memoryview(a)))
print("rfft aliased", out(f.rfft, a, b, b))
print("iir empty", out(emliir.new(array.array("f", [1, 0, 0, 1, 0, 0])).run, array.array("f")))
print("fft memory", out(emlfft.FFT, 1 << 24))
k = emlneighbors.new(2, 1, 1, "h")
k.additem(array.array("h", [1]), 3)
print("getitem typecode", out(k.getitem, 0, array.array("f", [0])))
print("getitem length", out(k.getitem, 0, array.array("h", [0, 0])))
k = emlneighbors.new(2, 1, 1, "f")
k.additem(array.array("f", [0.0]), 0)
k.additem(array.array("f", [1e20]), 1)
print("knn huge", out(k.predict, array.array("f", [6e19])), k.getresult(0))
'''


def test_streams_aliasing_and_messages(tmp_path: Path) -> None:
    """Issue 12's device cases, each with the outcome a reference gives (scikit-learn for the
    predictions and k-NN, numpy's rule that an FFT's outputs are distinct arrays)."""
    rng = np.random.default_rng(0)
    X = rng.random((200, 3)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    clf = RandomForestClassifier(3, max_depth=3, random_state=0).fit(X, y)
    emlmpy.convert(clf).save(file=str(tmp_path / "c.bin"))
    emlmpy.convert(clf).save(file=str(tmp_path / "c.csv"))
    emlmpy.convert(RandomForestRegressor(3, max_depth=3, random_state=0).fit(X, X[:, 0] * 1e5)).save(
        file=str(tmp_path / "r.bin"))
    want = int(clf.predict(np.array([[0.9, 0.5, 0.5]], np.float32))[0])
    upy.ensure_modules()
    r = upy.run(STREAMS, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    got = r.stdout.strip().splitlines()
    csv, size = (tmp_path / "c.csv").read_bytes(), (tmp_path / "c.bin").stat().st_size

    def host(prefix: bytes, fill: bytes) -> str:  # the host reader's verdict up to the bound
        with pytest.raises(emlmpy.ModelFormatError) as e:
            emlmpy.loads(prefix + fill * (40 * size + 2048))
        return f"endless ValueError: line {e.value.line}: file too long for the model it declares"

    assert got == [
        "inner ValueError: this model is already loading",
        f"reentrant ok None {want}",
        "more bin ValueError: the stream returned more bytes than asked",
        "more csv ValueError: the stream returned more bytes than asked",
        "endless ValueError: line 1: file too long for the model it declares",
        host(csv, b"\n"),
        host(csv, b" "),
        host(csv[:40], b" "),
        f"endless ValueError: offset {size}: data after the model",
        f"bom ok None {want}",
        f"bom crlf ok None {want}",
        "half bom ValueError: line 1: bad byte-order mark",
        "regression out h TypeError: out must be array('f') for a regressor",
        "regression out i TypeError: out must be array('f') for a regressor",
        "regression out f ok None",
        "run aliased ValueError: real and imag must not share memory",
        "inverse aliased ValueError: real and imag must not share memory",
        "rfft aliased ValueError: real and imag must not share memory",
        "iir empty ok None",
        "fft memory MemoryError: memory allocation failed",
        "getitem typecode TypeError: out must be array('h')",
        "getitem length ValueError: out must have n_features elements",
        "knn huge ok 1 (1, inf, 1)",
    ], got


def test_csv_without_emltrees_csv_says_what_to_do(tmp_path: Path) -> None:
    """A board with emltrees.mpy only: a CSV file is refused with a message naming the missing
    module (and the binary alternative), and the model stays empty; a binary file loads."""
    import shutil

    upy.ensure_modules()
    shutil.copy(upy.DIST / "emltrees.mpy", tmp_path)
    rng = np.random.default_rng(0)
    X = rng.random((100, 3)).astype(np.float32)
    cm = emlmpy.convert(RandomForestClassifier(2, max_depth=3, random_state=0).fit(X, X[:, 0] > 0.5))
    cm.save(file=str(tmp_path / "m.csv"))
    cm.save(file=str(tmp_path / "m.bin"))
    script = (
        "import emltrees, array\n"
        "m = emltrees.new(2, 20)\n"
        "try:\n"
        "    emltrees.load_model(m, open('m.csv', 'rb'))\n"
        "except ValueError as e:\n"
        "    print('ValueError:', e)\n"
        "try:\n"
        "    m.n_features()\n"
        "except ValueError as e:\n"
        "    print('empty:', e)\n"
        "print(emltrees.load(open('m.bin', 'rb')).n_features())\n")
    r = upy.run_isolated(script, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["ValueError: CSV needs emltrees_csv.mpy (or use a .bin file)",
                                     "empty: no model loaded", "3"], r.stdout
