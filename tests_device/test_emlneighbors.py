# emlneighbors on the device: labels equal scikit-learn's KNeighborsClassifier (brute force, k=5).
import array

import emlneighbors
from dtest import check, done, raises, read_floats, read_rows

train = read_rows("knn_train.csv")
X = read_rows("knn_X.csv")
Y = [int(v) for v in read_floats("knn_y.csv")]
nf = len(X[0])

for dtype in ("h", "f"):
    m = emlneighbors.new(len(train), nf, 5, dtype)
    for row in train:
        vals = [int(v) for v in row[:nf]] if dtype == "h" else row[:nf]
        m.additem(array.array(dtype, vals), int(row[nf]))
    check(dtype + " n_items", m.n_items() == len(train))
    bad = 0
    for row, y in zip(X, Y):
        vals = [int(v) for v in row] if dtype == "h" else row
        if m.predict(array.array(dtype, vals)) != y:
            bad += 1
    check(dtype + " knn == sklearn", bad == 0, "%d wrong" % bad)
    # the nearest result is consistent with the stored item
    idx, dist, label = m.getresult(0)
    out = array.array(dtype, [0] * nf)
    check(dtype + " getitem label", m.getitem(idx, out) == label)
    d2 = sum((a - b) ** 2 for a, b in zip(out, X[-1]))
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
done()
