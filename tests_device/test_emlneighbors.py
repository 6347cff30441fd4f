# emlneighbors on the device: labels equal scikit-learn's KNeighborsClassifier (brute force, k=5),
# for stores filled with additem and for models read from files emlmpy wrote (through the optional
# module emlneighbors_load, which the first load imports).
import array
import io

import emlneighbors
from dtest import check, done, load, raises, rows

nf = 4
ytrain = load("knn_train_y.i16", "h")  # (105,) labels; features stream from knn_train_X.i16 (105, 4)
Y = load("knn_y.i16", "h")  # (45,) sklearn's predictions for knn_X.i16 (45, 4)
xf = array.array("f", [0.0] * nf)  # an int16 row copied for the float model

for dtype in ("h", "f"):
    m = emlneighbors.new(len(ytrain), nf, 5, dtype)
    i = 0
    for x in rows("knn_train_X.i16", "h", nf):
        if dtype == "f":
            for j in range(nf):
                xf[j] = x[j]
        m.additem(x if dtype == "h" else xf, ytrain[i])
        i += 1
    check(dtype + " n_items", i == len(ytrain) and m.n_items() == len(ytrain))
    bad = i = 0
    for x in rows("knn_X.i16", "h", nf):
        if dtype == "f":
            for j in range(nf):
                xf[j] = x[j]
        if m.predict(x if dtype == "h" else xf) != Y[i]:
            bad += 1
        i += 1
    check(dtype + " knn == sklearn", i == len(Y) and bad == 0, "%d rows, %d wrong" % (i, bad))
    # the nearest result of the last query (x still holds that row) is consistent with the stored item
    idx, dist, label = m.getresult(0)
    out = array.array(dtype, [0] * nf)
    check(dtype + " getitem label", m.getitem(idx, out) == label)
    d2 = sum((a - b) ** 2 for a, b in zip(out, x))
    check(dtype + " distance", abs(d2 - dist) <= 1e-3 * max(1, d2), "%r vs %r" % (d2, dist))
    raises(dtype + " capacity", ValueError, m.additem, array.array(dtype, [0] * nf), 0)
    raises(dtype + " wrong length", ValueError, m.predict, array.array(dtype, [0] * (nf + 1)))
    raises(dtype + " getresult range", IndexError, m.getresult, 5)

m = emlneighbors.new(4, 2, 1, "h")
raises("predict with no items", ValueError, m.predict, array.array("h", [0, 0]))
raises("wrong typecode", TypeError, m.additem, array.array("f", [0, 0]), 1)
raises("bad dtype", ValueError, emlneighbors.new, 4, 2, 1, "q")
raises("k > max_items", ValueError, emlneighbors.new, 2, 2, 3, "h")
# extreme int16 values: no overflow
m.additem(array.array("h", [-32768, -32768]), 7)
m.additem(array.array("h", [32767, 32767]), 9)
check("extreme", m.predict(array.array("h", [32767, 32700])) == 9)
i, d, l = m.getresult(0)
check("extreme distance exact", d == 67 * 67, repr(d))

# Model(...) with keywords is new(...); add_item/get_result/get_item, emlearn's names as aliases
m = emlneighbors.Model(max_items=2, n_features=1, k=1, dtype="f")
check("Model() type", type(m) is emlneighbors.Model)
m.add_item(array.array("f", [0.0]), 0)
m.additem(array.array("f", [1e20]), 1)
# squared distances beyond float32: scikit-learn's KNeighborsClassifier(1) answers 1 here
# (tests_host/test_cores_knn.py asserts that against scikit-learn)
check("float32 squares beyond float32", m.predict(array.array("f", [6e19])) == 1)
check("get_result == getresult", m.get_result(0) == m.getresult(0) and m.get_result(0)[0] == 1)
o = array.array("f", [0.0])
big = array.array("f", [1e20])[0]  # 1e20 rounded to float32, as stored
check("get_item == getitem", m.get_item(1, o) == 1 and o[0] == big and m.getitem(0, o) == 0 and o[0] == 0.0)
raises("get_item out typecode", TypeError, m.get_item, 0, array.array("h", [0]))

# Models from files: emlmpy.convert(KNeighborsClassifier).save("knn_*.bin"), trained on float iris
# with labels -1/7/42 (scikit-learn's classes_, returned by predict); float inputs (an int16 model
# quantizes them with the file's scale and offset).
m = xf = x = ytrain = Y = None
Yf = load("knn_yf.i16", "h")


def load_model_from(model, name, cut=None):
    with open(name, "rb") as f:
        emlneighbors.load_model(model, f if cut is None else io.BytesIO(f.read()[:cut]))


# The loader is the separate module emlneighbors_load, imported by the first load. Without it (hidden
# here by an empty sys.path: this is the script's first load) load_model names the missing .mpy and
# leaves the model as it was: its items stay and add_item still works.
import sys

m = emlneighbors.Model(2, nf, 1)
m.add_item(array.array("h", [1, 2, 3, 4]), 3)
path = list(sys.path)
try:
    while sys.path:
        sys.path.pop()
    msg = raises("load without the loader", ValueError, load_model_from, m, "knn_i16.bin")
finally:
    sys.path.extend(path)
check("without the loader: message", msg == "k-NN files need emlneighbors_load.mpy", msg)
check("without the loader: model kept", m.n_items() == 1 and m.add_item(array.array("h", [5, 6, 7, 8]), 4) == 1
      and m.predict(array.array("h", [5, 6, 7, 9])) == 4 and m.get_result(0)[0] == 1)
m = None

for name, tc in (("knn_i16.bin", "h"), ("knn_f32.bin", "f")):
    with open(name, "rb") as f:
        m = emlneighbors.load(f)
    c = emlneighbors.Model(105, nf, 5, tc)  # load_model into a Model made with capacities
    load_model_from(c, name)
    check(name + " n_items", m.n_items() == 105 and c.n_items() == 105)
    bad = i = 0
    for x in rows("knn_Xf.f32", "f", nf):
        if m.predict(x) != Yf[i] or c.predict(x) != Yf[i]:
            bad += 1
        i += 1
    check(name + " == sklearn", i == len(Yf) and bad == 0, "%d rows, %d wrong" % (i, bad))
    check(name + " get_result label", m.get_result(0)[2] in (-1, 7, 42))
    msg = raises(name + " beyond the capacities", ValueError, load_model_from, emlneighbors.Model(104, nf, 5, tc), name)
    check(name + " capacity offset", msg is not None and msg.startswith("offset 16:"), msg)
    msg = raises(name + " truncated", ValueError, load_model_from, c, name, 100)
    check(name + " truncated offset", msg is not None and msg.startswith("offset 100:"), msg)
    raises(name + " empty after an error", ValueError, c.predict, array.array(tc, [0] * nf))
    check(name + " add_item after an error", c.add_item(array.array(tc, [0] * nf), 7) == 0 and c.n_items() == 1)
    load_model_from(c, name)
    check(name + " loads again", c.predict(x) == Yf[len(Yf) - 1])
    c = None
# NaN and inf are refused by float k-NN (scikit-learn's KNeighborsClassifier refuses them too),
# also as array('f') input to an int16 model from a file (quantized)
nan, inf = float("nan"), float("inf")
q = m  # knn_f32.bin, loaded above
with open("knn_i16.bin", "rb") as f:
    h = emlneighbors.load(f)
for v in (nan, inf, -inf):
    x = array.array("f", [v, 1, 1, 1])
    raises("float predict %r" % v, ValueError, q.predict, x)
    raises("int16 model, float predict %r" % v, ValueError, h.predict, x)
    raises("float add_item %r" % v, ValueError, emlneighbors.Model(2, nf, 1, "f").add_item, x, 1)


class Grow:  # resizes the buffer readinto gets: refused, never a crash
    def readinto(self, b):
        b[:] = bytes(64)
        return 64


raises("stream grows the buffer", ValueError, emlneighbors.load, Grow())
q = h = x = None
msg = raises("CSV refused", ValueError, load_model_from, emlneighbors.Model(105, nf, 5), "knn_i16.csv")
check("CSV message", msg is not None and "host-only" in msg and "emlmpy" in msg, msg)
msg = raises("tree file refused", ValueError, load_model_from, emlneighbors.Model(105, nf, 5), "iris.bin")
check("tree file message", msg is not None and "emltrees" in msg, msg)
done()
