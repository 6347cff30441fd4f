"""Host side: train a random forest on XOR data and save it for emltrees."""
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier

import emlmpy


def make_xor(n: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered around the four corners of the unit square; label = XOR of the corner."""
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2))
    X = (corners + rng.normal(0.0, 0.15, size=(n, 2))).astype(np.float32)
    y = corners[:, 0] ^ corners[:, 1]
    return X, y


def main(path: str = "xor_model.bin") -> RandomForestClassifier:
    X, y = make_xor()
    estimator = RandomForestClassifier(n_estimators=3, max_depth=3, max_features=2, random_state=1)
    estimator.fit(X, y)
    cmodel = emlmpy.convert(estimator, method='inline')
    cmodel.save(file=path)   # .bin: binary; a .csv name writes CSV (device needs emltrees_csv.mpy)
    return estimator


if __name__ == "__main__":
    main(*sys.argv[1:])
