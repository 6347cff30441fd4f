"""The seed's model, shared by the trees benchmarks (bench_trees.py on the unix port, bench_boards.py
in real firmware): a RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=1)
trained on 70 % of scikit-learn's digits (train_test_split(test_size=0.3, random_state=42)), its
540 test samples, and the same forest from everywhereml (whose estimator subclasses
scikit-learn's, so the same data and seed give the same trees).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from everywhereml.sklearn.ensemble import RandomForestClassifier as EwRandomForest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import emlmpy

FOREST_KW = dict(n_estimators=10, max_leaf_nodes=100, random_state=1)
SPLIT_KW = dict(test_size=0.3, random_state=42)
# (file name, leaf_bits), format version 2 leaf kinds (docs/model-format.md §1): "proba" (the default) keeps
# sklearn's class proportions as exact count/w payloads (exact agreement); "proba8" (leaf_bits=8) rounds them
# to counts over w = 255 (still PROBA leaves); "class" (leaf_bits=0) is a hard vote per tree (CLASS leaves
# inside the nodes, no payloads), like the anchor project's trees.
LEAF_CONFIGS: tuple[tuple[str, int | None], ...] = (("proba", None), ("proba8", 8), ("class", 0))


@dataclass(frozen=True)
class SavedModel:
    """One leaf kind of the forest, written as <name>.csv and <name>.bin (format version 2);
    trees/nodes/payloads are the exact capacities for emltrees.new(max_trees, max_nodes, max_payloads)
    (payloads: distinct proportion payloads, 0 for class leaves), device_bytes the model block the
    device allocates (the binary file minus its 32-byte header)."""
    name: str
    trees: int
    nodes: int
    payloads: int
    device_bytes: int

    def as_dict(self) -> dict:
        return {"name": self.name, "trees": self.trees, "nodes": self.nodes, "payloads": self.payloads,
                "device_bytes": self.device_bytes}


def train() -> tuple[RandomForestClassifier, EwRandomForest, np.ndarray]:
    """(scikit-learn forest, everywhereml forest, test inputs X of shape (540, 64))."""
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, **SPLIT_KW)
    sk = RandomForestClassifier(**FOREST_KW).fit(Xtr, ytr)
    ew = EwRandomForest(**FOREST_KW).fit(Xtr, ytr)
    if not np.array_equal(ew.predict(Xte), sk.predict(Xte)):
        raise SystemExit("everywhereml's forest differs from scikit-learn's")
    return sk, ew, Xte


def save_models(sk: RandomForestClassifier, folder: Path) -> list[SavedModel]:
    """Convert the forest once per leaf kind and save <name>.csv and <name>.bin into folder."""
    out = []
    for name, leaf_bits in LEAF_CONFIGS:
        cm = emlmpy.convert(sk, method="inline", leaf_bits=leaf_bits)
        cm.save(file=str(folder / f"{name}.csv"), format="csv")
        blob = cm.save(file=str(folder / f"{name}.bin"), format="bin")
        if len(blob) != 32 + cm.device_bytes:
            raise SystemExit(f"{name}.bin: {len(blob)} bytes, not the 32-byte header + device_bytes {cm.device_bytes}")
        out.append(SavedModel(name, cm.n_trees, cm.n_nodes, cm.n_payloads, cm.device_bytes))
    return out


def everywhereml_code(ew: EwRandomForest) -> str:
    """everywhereml's generated MicroPython, with an instance named `clf`."""
    code = ew.to_micropython(instance_name="clf")
    # everywhereml's template ends with a declaration line that is not Python: make an instance.
    lines = code.rstrip().splitlines()
    if lines and lines[-1].strip() == "RandomForestClassifier clf":
        lines[-1] = "clf = RandomForestClassifier()"
    return "\n".join(lines) + "\n"
