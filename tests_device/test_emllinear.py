# emllinear on the device: scikit-learn's LogisticRegression and LinearRegression as EMLL files
# (emlmpy.convert(...).save) predict like scikit-learn; emllinear_train fits like SGDRegressor
# (shuffle=False) from zero weights: its n_iter_, coefficients and intercept; int16 samples train as
# their float values; bad input and divergence raise.
import array

import emllinear
import emllinear_train
from dtest import check, close, done, load, raises

with open("linear_iris.bin", "rb") as f:
    m = emllinear.load(f)
X = load("linear_iris_X.f32", "f")  # (45, 4)
Y = load("linear_iris_y.i16", "h")
P = load("linear_iris_proba.f32", "f")  # (45, 3)
n = len(Y)
pr = array.array("f", [0.0] * 3)
bad = 0
worst = 0.0
for i in range(n):
    x = X[i * 4:(i + 1) * 4]
    if m.predict(x) != Y[i]:
        bad += 1
    m.predict_proba(x, pr)
    worst = max(worst, max(abs(pr[k] - P[3 * i + k]) for k in range(3)))
check("logistic predict == sklearn", bad == 0, "%d of %d wrong" % (bad, n))
check("logistic predict_proba ~ sklearn", worst <= 2e-6, "off by %r" % worst)
X = Y = P = None

# 'ovr' with every score very negative: the softmax of the scores (was NaN), the host's bits
with open("linear_ovr.bin", "rb") as f:
    o = emllinear.load(f)
X = load("linear_ovr_X.f32", "f")  # (3, 2)
B = load("linear_ovr_bits.f32", "f")  # (3, 3)
P = load("linear_ovr_proba.f32", "f")  # (1, 3): scikit-learn's for the first row
got = []
for i in range(3):
    o.predict_proba(X[2 * i:2 * i + 2], pr)
    got.extend(pr)
check("ovr underflow proba == host bits", got == list(B), "%r" % got)
check("ovr underflow proba ~ sklearn", max(abs(got[k] - P[k]) for k in range(3)) <= 2e-6, "%r" % got[:3])
o = X = B = P = got = None

with open("linear_diab.bin", "rb") as f:
    r = emllinear.load(f)
X = load("linear_diab_X.f32", "f")  # (45, 10)
Y = load("linear_diab_y.f32", "f")
worst = max(abs(r.predict(X[i * 10:(i + 1) * 10]) - Y[i]) / max(1.0, abs(Y[i])) for i in range(len(Y)))
check("regression predict ~ sklearn", worst <= 1e-5, "off by %r" % worst)
X = Y = None

X = load("linear_sgd_X.f32", "f")  # (200, 5)
Y = load("linear_sgd_y.f32", "f")
ref = load("linear_sgd_ref.f32", "f")  # coef (5), intercept, n_iter
t = emllinear.LinearModel(5)
n_iter = emllinear_train.train(t, X, Y, eta0=0.01, power_t=0.25, alpha=0.01, l1_ratio=0.5)
check("train n_iter == sklearn", n_iter == int(ref[6]), "%r vs %r" % (n_iter, ref[6]))
c = array.array("f", [0.0] * 5)
b = array.array("f", [0.0])
t.coef(c)
t.intercept(b)
scale = max(abs(v) for v in ref[:5])
worst = max(abs(c[i] - ref[i]) for i in range(5))
check("train coef ~ sklearn", worst <= 1e-4 * scale, "off by %r" % worst)
check("train intercept ~ sklearn", abs(b[0] - ref[5]) <= 1e-4 * scale, "%r vs %r" % (b[0], ref[5]))
mse = emllinear_train.score_mse(t, X, Y)
check("score_mse small", mse < 0.5, "%r" % mse)

# int16 samples train exactly as their float values
Xh = array.array("h", [int(v * 100) for v in X[:100]])
Xf = array.array("f", [float(v) for v in Xh])
a, f = emllinear.LinearModel(5), emllinear.LinearModel(5)
emllinear_train.train(a, Xh, Y[:20], eta0=1e-5, epochs=5)
emllinear_train.train(f, Xf, Y[:20], eta0=1e-5, epochs=5)
ca, cf = array.array("f", [0.0] * 5), array.array("f", [0.0] * 5)
a.coef(ca)
f.coef(cf)
check("int16 training == float", list(ca) == list(cf))
loss1 = emllinear_train.step(a, Xf, Y[:20], eta0=1e-5)
check("step returns the mean loss", loss1 >= 0)

raises("wrong typecode", TypeError, m.predict, array.array("i", [1, 2, 3, 4]))
raises("NaN", ValueError, m.predict, array.array("f", [0, float("nan"), 0, 0]))
raises("length", ValueError, m.predict, array.array("f", [1, 2, 3]))
raises("proba of a regressor", TypeError, r.predict_proba, X[:10], pr)
o = emllinear.LinearModel(3, 3)
v = array.array("f", [1, 2, 3])
raises("out over x", ValueError, o.predict, v, v)
raises("out over x (decision_function)", ValueError, o.decision_function, v, v)
o = v = None
raises("train a classifier", ValueError, emllinear_train.train, m, X[:4], Y[:1])
t.coef(c)
Xbig = array.array("f", [1e6 * ((i % 7) - 3) for i in range(50)])
Ybig = array.array("f", [1e6 * (i % 5) for i in range(10)])
raises("divergence", ValueError, emllinear_train.train, t, Xbig, Ybig, "constant", 10.0)
after = array.array("f", [0.0] * 5)
t.coef(after)
check("weights restored", list(after) == list(c))
done()
