"""Generate the data files tests_device/ scripts read: models, inputs, and the expected outputs
computed on the host by scikit-learn, scipy and numpy (the references).

Usage: python tools/make_device_data.py OUTDIR
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.signal
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

import emlmpy


def _write_rows(path: Path, rows: np.ndarray, fmt: str = "%.9g") -> None:
    rows = np.atleast_2d(rows)
    path.write_text("\n".join(",".join(fmt % v for v in row) for row in rows) + "\n")


def make_trees(out: Path) -> None:
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=1)
    rf = RandomForestClassifier(n_estimators=5, max_depth=5, random_state=1).fit(Xtr, ytr)
    model = emlmpy.convert(rf, method="inline")
    model.save(file=str(out / "iris.csv"), name="iris", format="csv")
    model.save(file=str(out / "iris.bin"), name="iris", format="bin")
    _write_rows(out / "iris_X.csv", Xte)
    _write_rows(out / "iris_y.csv", rf.predict(Xte).reshape(-1, 1), "%d")
    _write_rows(out / "iris_proba.csv", rf.predict_proba(Xte))

    Xd, yd = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(Xd, yd, test_size=0.1, random_state=2)
    rfd = RandomForestClassifier(n_estimators=4, max_leaf_nodes=40, random_state=1).fit(Xtr, ytr)
    emlmpy.convert(rfd, method="inline", dtype="int16").save(file=str(out / "digits_i16.bin"), format="bin")
    _write_rows(out / "digits_X.csv", Xte, "%d")
    _write_rows(out / "digits_y.csv", rfd.predict(Xte).reshape(-1, 1), "%d")

    Xr, yr = load_diabetes(return_X_y=True)
    Xr = Xr.astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(Xr, yr, test_size=0.1, random_state=3)
    rfr = RandomForestRegressor(n_estimators=3, max_depth=6, random_state=1).fit(Xtr, ytr)
    emlmpy.convert(rfr, method="inline").save(file=str(out / "diabetes.csv"), format="csv")
    _write_rows(out / "diabetes_X.csv", Xte)
    _write_rows(out / "diabetes_y.csv", rfr.predict(Xte).reshape(-1, 1))


def make_knn(out: Path) -> None:
    X, y = load_iris(return_X_y=True)
    Xq = np.round(X * 10).astype(np.int16)  # iris has one decimal: exact in int16
    Xtr, Xte, ytr, yte = train_test_split(Xq, y, test_size=0.3, random_state=4)
    knn = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(Xtr, ytr)
    _write_rows(out / "knn_train.csv", np.column_stack([Xtr, ytr]), "%d")
    _write_rows(out / "knn_X.csv", Xte, "%d")
    _write_rows(out / "knn_y.csv", knn.predict(Xte).reshape(-1, 1), "%d")


def make_iir(out: Path) -> None:
    sos = scipy.signal.butter(4, 0.1, output="sos").astype(np.float32)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(500).astype(np.float32)
    y = scipy.signal.sosfilt(sos.astype(np.float64), x.astype(np.float64))
    _write_rows(out / "iir_sos.csv", emlmpy.iir_coefficients(sos).reshape(1, -1))
    _write_rows(out / "iir_x.csv", x.reshape(-1, 1))
    _write_rows(out / "iir_y.csv", y.reshape(-1, 1))


def make_fft(out: Path) -> None:
    rng = np.random.default_rng(6)
    n = 256
    x = rng.standard_normal(n).astype(np.float32)
    X = np.fft.fft(x.astype(np.float64))
    _write_rows(out / "fft_x.csv", x.reshape(-1, 1))
    _write_rows(out / "fft_re.csv", X.real.reshape(-1, 1))
    _write_rows(out / "fft_im.csv", X.imag.reshape(-1, 1))


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "build/device_data")
    out.mkdir(parents=True, exist_ok=True)
    make_trees(out)
    make_knn(out)
    make_iir(out)
    make_fft(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
