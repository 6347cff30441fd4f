# emltrees on the device: predictions equal scikit-learn's (computed on the host), bad input is refused.
import array
import gc
import io

import emltrees
from dtest import check, close, done, load, raises, rows


def load_model(path, max_trees=10, max_nodes=400):
    m = emltrees.new(max_trees, max_nodes)
    with open(path, "rb") as f:
        emltrees.load_model(m, f)
    return m


Xall = load("iris_X.f32", "f")  # (45, 4) flat, for predict_many
Y = load("iris_y.i16", "h")  # (45,) labels
n = len(Y)
check("iris data shape", len(Xall) == 4 * n)

for fmt in ("csv", "bin"):
    m = load_model("iris." + fmt)
    check(fmt + " outputs", m.outputs() == 3)
    check(fmt + " n_features", m.n_features() == 4)
    check(fmt + " memory", m.memory() > 0)
    out = array.array("f", [0.0] * 3)
    bad = 0
    worst = 0.0
    i = 0
    for x, p in zip(rows("iris_X.f32", "f", 4), rows("iris_proba.f32", "f", 3)):
        y = Y[i]
        i += 1
        if m.predict(x) != y or m.predict(x, out) != y:
            bad += 1
        for a, b in zip(out, p):
            worst = max(worst, abs(a - b))
    check(fmt + " iris predict == sklearn", i == n and bad == 0, "%d rows, %d wrong" % (i, bad))
    check(fmt + " iris proba ~ sklearn", worst < 1e-5, "max err %g" % worst)
    res = array.array("f", [0.0] * n)
    m.predict_many(Xall, res)
    check(fmt + " predict_many", [int(v) for v in res] == list(Y))
    res_i = array.array("i", [0] * n)
    m.predict_many(Xall, res_i)
    check(fmt + " predict_many int out", list(res_i) == list(Y))
    res = res_i = m = None

# int16 model on integer-valued digits
m = load_model("digits_i16.bin")
Yd = load("digits_y.i16", "h")
xf = array.array("f", [0.0] * 64)  # the same row as float
bad_h = bad_f = i = 0
for x in rows("digits_X.i16", "h", 64):
    if m.predict(x) != Yd[i]:
        bad_h += 1
    for j in range(64):
        xf[j] = x[j]
    if m.predict(xf) != Yd[i]:
        bad_f += 1
    i += 1
check("digits int16 == sklearn", i == len(Yd) and bad_h == 0, "%d rows, %d wrong" % (i, bad_h))
check("digits int16 model quantizes float input", bad_f == 0, "%d wrong" % bad_f)

# regression: the float32 inputs arrive bit-exact (binary), so the trees take sklearn's paths
m = load_model("diabetes.csv")
Yr = load("diabetes_y.f32", "f")
bad = i = 0
for x in rows("diabetes_X.f32", "f", 10):
    if not close(m.predict(x), Yr[i], 1e-5):
        bad += 1
    i += 1
check("diabetes regression ~ sklearn", i == len(Yr) and bad == 0, "%d rows, %d off" % (i, bad))
check("regression outputs", m.outputs() == 1)

# argument checking
m = load_model("iris.csv")
raises("wrong typecode", TypeError, m.predict, array.array("d", [0.0] * 4))
raises("wrong length", ValueError, m.predict, array.array("f", [0.0] * 3))
raises("proba out too short", ValueError, m.predict, array.array("f", [0.0] * 4), array.array("f", [0.0]))
raises("predict_many bad shape", ValueError, m.predict_many, array.array("f", [0.0] * 5), array.array("f", [0.0] * 2))
raises("not an array", TypeError, m.predict, 5)
empty = emltrees.new(2, 10)
raises("predict before load", ValueError, empty.predict, array.array("f", [0.0] * 4))
raises("new with zero trees", ValueError, emltrees.new, 0, 10)

# capacity too small: error names the reason, and the model is left empty
small = emltrees.new(1, 3)
with open("iris.csv", "rb") as f:
    msg = raises("capacity exceeded", ValueError, emltrees.load_model, small, f)
check("capacity message", msg is not None and "capacity" in msg, msg)
raises("model empty after failed load", ValueError, small.predict, array.array("f", [0.0] * 4))

# malformed streams
for name, data in (("empty", b""), ("garbage", b"hello\nworld\n"), ("bad magic", b"EMLT\x09\x00")):
    raises("malformed " + name, ValueError, emltrees.load_model, emltrees.new(2, 10), io.BytesIO(data))

# load(): a model of exactly the file's size; Model(...) is new(...), keywords accepted; a CSV
# saved with a UTF-8 byte-order mark (Windows editors) loads the same
with open("iris.bin", "rb") as f:
    m = emltrees.load(f)
with open("iris.csv", "rb") as f:
    text = f.read()
m2 = emltrees.Model(max_trees=10, max_nodes=400)
emltrees.load_model(m2, io.BytesIO(b"\xef\xbb\xbf" + text))
x = Xall[0:4]
check("load() and BOM CSV predict alike", type(m2) is emltrees.Model and m.predict(x) == m2.predict(x) == Y[0])
check("load() takes only the file's size", m.memory() <= m2.memory())
text = m = m2 = None

# the stream never gets the model's memory: a stream that grows the buffer it is given is refused,
# one that keeps the buffers and overwrites them after the load leaves the model as loaded
class Grow:
    def readinto(self, b):
        b[:] = bytes(64)
        return 64


class Keep:
    def __init__(self, f):
        self.f = f
        self.kept = []

    def readinto(self, b):
        self.kept.append(b)
        return self.f.readinto(b)


raises("stream grows the buffer", ValueError, emltrees.load, Grow())
with open("iris.bin", "rb") as f:
    k = Keep(f)
    m = emltrees.load(k)
for b in k.kept:
    for i in range(len(b)):
        b[i] = 0xff
check("kept buffers do not change the model", m.predict(Xall[0:4]) == Y[0])
# out sharing memory with X is refused (it would overwrite samples not yet read)
msg = raises("out over X", ValueError, m.predict_many, memoryview(Xall)[0:8], memoryview(Xall)[4:6])
check("out over X message", msg == "out must not share memory with x", msg)
check("empty model memory()", emltrees.new(1, 10).memory() > 0)
k = b = None

# a model stays usable across garbage collections; memory is given back
m = empty = small = None
gc.collect()
before = gc.mem_free()
for i in range(50):
    mm = load_model("iris.bin")
    mm.predict(Xall[4 * (i % n):4 * (i % n) + 4])
    mm = None
    gc.collect()
after = gc.mem_free()
check("heap back after 50 models", before - after < 1024, "%d bytes lost" % (before - after))
done()
