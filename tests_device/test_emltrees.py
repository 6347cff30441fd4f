# emltrees on the device: predictions equal scikit-learn's (computed on the host), bad input is refused.
import array
import gc
import io

import emltrees
from dtest import check, close, done, raises, read_floats, read_rows


def load(path, max_trees=10, max_nodes=400):
    m = emltrees.new(max_trees, max_nodes)
    with open(path, "rb") as f:
        emltrees.load_model(m, f)
    return m


X = read_rows("iris_X.csv")
Y = [int(v) for v in read_floats("iris_y.csv")]
P = read_rows("iris_proba.csv")

for fmt in ("csv", "bin"):
    m = load("iris." + fmt)
    check(fmt + " outputs", m.outputs() == 3)
    check(fmt + " n_features", m.n_features() == 4)
    check(fmt + " memory", m.memory() > 0)
    out = array.array("f", [0.0] * 3)
    bad = 0
    worst = 0.0
    for row, y, p in zip(X, Y, P):
        x = array.array("f", row)
        if m.predict(x) != y or m.predict(x, out) != y:
            bad += 1
        for a, b in zip(out, p):
            worst = max(worst, abs(a - b))
    check(fmt + " iris predict == sklearn", bad == 0, "%d wrong" % bad)
    check(fmt + " iris proba ~ sklearn", worst < 1e-5, "max err %g" % worst)
    flat = array.array("f", [v for row in X for v in row])
    res = array.array("f", [0.0] * len(X))
    m.predict_many(flat, res)
    check(fmt + " predict_many", [int(v) for v in res] == Y)
    res_i = array.array("i", [0] * len(X))
    m.predict_many(flat, res_i)
    check(fmt + " predict_many int out", list(res_i) == Y)

# int16 model on integer-valued digits
m = load("digits_i16.bin")
Xd = read_rows("digits_X.csv")
Yd = [int(v) for v in read_floats("digits_y.csv")]
bad = sum(1 for row, y in zip(Xd, Yd) if m.predict(array.array("h", [int(v) for v in row])) != y)
check("digits int16 == sklearn", bad == 0, "%d wrong" % bad)
bad = sum(1 for row, y in zip(Xd, Yd) if m.predict(array.array("f", row)) != y)
check("digits int16 model quantizes float input", bad == 0, "%d wrong" % bad)

# regression
m = load("diabetes.csv")
Xr = read_rows("diabetes_X.csv")
Yr = read_floats("diabetes_y.csv")
bad = sum(1 for row, y in zip(Xr, Yr) if not close(m.predict(array.array("f", row)), y, 1e-5))
check("diabetes regression ~ sklearn", bad == 0, "%d off" % bad)
check("regression outputs", m.outputs() == 1)

# argument checking
m = load("iris.csv")
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

# a model stays usable across garbage collections; memory is given back
gc.collect()
before = gc.mem_free()
for i in range(50):
    mm = load("iris.bin")
    mm.predict(array.array("f", X[i % len(X)]))
    mm = None
    gc.collect()
after = gc.mem_free()
check("heap back after 50 models", before - after < 1024, "%d bytes lost" % (before - after))
done()
