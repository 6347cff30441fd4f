# emlkmeans on the device: scikit-learn's centers (emlmpy's raw float32 file) predict like
# KMeans.predict; fits from scikit-learn's init arrays give its n_iter, labels, centers and inertia;
# a colour quantization of uint8 pixels from k-means++ reaches scikit-learn's best inertia; bad input.
# fit is the separate module emlkmeans_fit, which the first fit imports.
import array

import emlkmeans
from dtest import check, close, done, load, raises

nf = 4
X = load("kmeans_X.f32", "f")  # (240, 4) blobs
n = len(X) // nf
Y = load("kmeans_y.i16", "h")  # sklearn's predict with the float32 centers
m = emlkmeans.KMeans(5, nf)
raises("predict before centers", ValueError, m.predict, X[:nf])
m.set_cluster_centers(load("kmeans_centers.f32", "f"))
check("n_iter, inertia after set", m.n_iter() is None and m.inertia() is None)
labels = bytearray(n)
m.predict_many(X, labels)
bad = sum(1 for i in range(n) if labels[i] != Y[i])
check("predict_many == sklearn", bad == 0, "%d of %d wrong" % (bad, n))
bad = sum(1 for i in range(0, n, 3) if m.predict(X[i * nf:(i + 1) * nf]) != Y[i])
check("predict == sklearn", bad == 0, "%d wrong" % bad)

# Without emlkmeans_fit (hidden here by an empty sys.path: this is the script's first fit) fit is the
# firmware's ImportError naming it, and the model is as it was: its centers still predict.
import sys

path = list(sys.path)
try:
    while sys.path:
        sys.path.pop()
    msg = raises("fit without emlkmeans_fit", ImportError, m.fit, X)
finally:
    sys.path.extend(path)
check("without emlkmeans_fit: message names it", msg is not None and "emlkmeans_fit" in msg, msg)
check("without emlkmeans_fit: model kept", m.n_iter() is None and m.predict(X[:nf]) == Y[0])


def fit_vs_sklearn(name, model, data, init, ref, ref_y):
    model.fit(data, init=init)
    nc = len(ref) - 1
    c = array.array("f", [0.0] * nc)
    model.cluster_centers(c)
    worst = max(abs(c[i] - ref[i]) for i in range(nc))
    scale = max(abs(v) for v in data)
    check(name + " centers", worst <= 1e-5 * scale, "off by %r" % worst)
    check(name + " inertia", close(model.inertia(), ref[nc], 1e-5), "%r vs %r" % (model.inertia(), ref[nc]))
    n_s = len(ref_y) - 1
    check(name + " n_iter", model.n_iter() == ref_y[n_s], "%r vs %r" % (model.n_iter(), ref_y[n_s]))
    out = array.array("h", [0] * n_s)
    model.predict_many(data, out)
    check(name + " labels", all(out[i] == ref_y[i] for i in range(n_s)))


fit_vs_sklearn("float32 fit", m, X, load("kmeans_init.f32", "f"), load("kmeans_fit.f32", "f"),
               load("kmeans_fit_y.i16", "h"))
Xh = load("kmeans_h.i16", "h")  # (150, 3)
fit_vs_sklearn("int16 fit", emlkmeans.KMeans(4, 3, "h"), Xh, load("kmeans_h_init.f32", "f"),
               load("kmeans_h_fit.f32", "f"), load("kmeans_h_fit_y.i16", "h"))
Xh = None

# colour quantization: 6 palette entries for 400 RGB pixels, k-means++ start
px = load("kmeans_px.u8", "B")
q = emlkmeans.KMeans(n_clusters=6, n_features=3, dtype="B")
check("fit returns the model", q.fit(px, random_state=1) is q)
best = load("kmeans_px_inertia.f32", "f")[0]
check("pixels inertia", q.inertia() <= 1.001 * best, "%r vs sklearn's %r" % (q.inertia(), best))
pal = array.array("f", [0.0] * 18)
q.cluster_centers(pal)
idx = bytearray(len(px) // 3)
q.predict_many(px, idx)
total = 0.0
for i in range(len(idx)):
    j = idx[i]
    total += sum((px[3 * i + f] - pal[3 * j + f]) ** 2 for f in range(3))
check("inertia is the distance sum", close(total, q.inertia(), 1e-4), "%r vs %r" % (total, q.inertia()))
check("k-means++ is seeded", emlkmeans.KMeans(6, 3, "B").fit(px, random_state=1).inertia() == q.inertia())

raises("wrong typecode", TypeError, q.fit, X)
raises("NaN", ValueError, m.predict, array.array("f", [0, float("nan"), 0, 0]))
raises("n_clusters > n_samples", ValueError, emlkmeans.KMeans(7, 4).fit, X[:24])
raises("out length", ValueError, m.predict_many, X, bytearray(3))
raises("bad dtype", ValueError, emlkmeans.KMeans, 2, 2, "d")
import emlkmeans_fit

raises("emlkmeans_fit.fit needs a KMeans", TypeError, emlkmeans_fit.fit, "x", X)
check("emlkmeans_fit.fit is KMeans.fit", emlkmeans_fit.fit(m, X, init=load("kmeans_centers.f32", "f")) is m
      and m.n_iter() is not None)
done()
