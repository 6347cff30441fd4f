"""Host side: make the synthetic HAR dataset, compute features, train a random forest, save it.

Writes into `outdir`:
  har_model.bin       the forest for emltrees (binary format)
  har_test.bin        held-out raw windows: int16 counts, per window 128 samples of (x, y, z)
  har_labels.bin      their true classes, one byte per window
Subjects 0-19 train, subjects 20-29 are held out (new people, as in a real deployment).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

import emlmpy
from har_data import CLASSES, make_dataset
from har_features import feature_names, features

N_SUBJECTS, TRAIN_SUBJECTS, WINDOWS_PER_CLASS, SEED = 30, 20, 8, 7


def main(outdir: str = ".") -> dict:
    out = Path(outdir)
    raw, y, subject = make_dataset(N_SUBJECTS, WINDOWS_PER_CLASS, SEED)
    X = features(raw)
    train, test = subject < TRAIN_SUBJECTS, subject >= TRAIN_SUBJECTS
    estimator = RandomForestClassifier(n_estimators=10, random_state=0)
    estimator.fit(X[train], y[train])
    emlmpy.convert(estimator).save(file=str(out / "har_model.bin"), name="har", format="bin")
    raw[test].tofile(out / "har_test.bin")            # int16, little-endian on every host we use
    y[test].astype(np.uint8).tofile(out / "har_labels.bin")
    pred = estimator.predict(X[test])
    acc = float(np.mean(pred == y[test]))
    n_nodes = sum(int(e.tree_.node_count - e.tree_.n_leaves) for e in estimator.estimators_)
    print(f"host: {int(train.sum())} training windows, {int(test.sum())} held out, "
          f"{len(feature_names())} features, {n_nodes} decision nodes")
    print(f"host: accuracy {acc:.4f} ({int(np.sum(pred == y[test]))}/{int(test.sum())})")
    return {"estimator": estimator, "raw_test": raw[test], "X_test": X[test], "y_test": y[test],
            "host_pred": pred, "host_accuracy": acc, "classes": CLASSES}


if __name__ == "__main__":
    main(*sys.argv[1:])
