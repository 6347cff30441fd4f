"""Trees benchmark: the seed's comparison on one unix-port `micropython` binary.

A RandomForestClassifier (10 trees, max_leaf_nodes=100) trained on scikit-learn's digits is
predicted by emltrees (one call per sample, and predict_many), by m2cgen's generated Python,
by everywhereml's generated MicroPython, and by a no-op loop (the baseline). Also: model load
time (CSV vs binary) and the heap bytes the loaded model takes.

Writes results/trees.csv, results/trees_load.csv and results/trees.png.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import m2cgen
import numpy as np
from everywhereml.sklearn.ensemble import RandomForestClassifier as EwRandomForest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import emlmpy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MICROPYTHON = ROOT / ".venv" / "bin" / "micropython"
RESULTS = HERE / "results"
REPS = int(os.environ.get("BENCH_REPS", "20"))

DEVICE_SCRIPT = r'''
import array, gc, json, time
import emltrees
import m2c_model
import ew_model

with open("X.json") as f:
    rows = json.load(f)
n = len(rows)
nf = len(rows[0])
lists = [[float(v) for v in r] for r in rows]
arrays = [array.array("f", r) for r in lists]
flat = array.array("f", [v for r in lists for v in r])
REPS = %(reps)d

def timed(fn, xs):
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(REPS):
        for x in xs:
            fn(x)
    return time.ticks_diff(time.ticks_us(), t0) / (REPS * len(xs))

def noop(x):
    return 0

gc.collect()
free0 = gc.mem_free()
model = emltrees.new(10, 1000)
with open("model.bin", "rb") as f:
    emltrees.load_model(model, f)
gc.collect()
heap = free0 - gc.mem_free()

res = {"heap_bytes": heap, "memory_method": model.memory()}
res["noop"] = timed(noop, lists)
res["emltrees"] = timed(model.predict, arrays)
out = array.array("f", [0.0] * n)
gc.collect()
t0 = time.ticks_us()
for _ in range(REPS):
    model.predict_many(flat, out)
res["emltrees_many"] = time.ticks_diff(time.ticks_us(), t0) / (REPS * n)
res["m2cgen"] = timed(m2c_model.score, lists)
res["everywhereml"] = timed(ew_model.clf.predict, lists)

def argmax(v):
    return max(range(len(v)), key=lambda i: v[i])
res["pred_emltrees"] = [model.predict(a) for a in arrays]
res["pred_many"] = [int(v) for v in out]
res["pred_m2cgen"] = [argmax(m2c_model.score(x)) for x in lists]
res["pred_everywhereml"] = [ew_model.clf.predict(x) for x in lists]

for fmt in ("csv", "bin"):
    m = emltrees.new(10, 1000)
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(REPS):
        with open("model." + fmt, "rb") as f:
            emltrees.load_model(m, f)
    res["load_" + fmt] = time.ticks_diff(time.ticks_us(), t0) / REPS
print("RESULT " + json.dumps(res))
'''


def train():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=42)
    kw = dict(n_estimators=10, max_leaf_nodes=100, random_state=1)
    ew = EwRandomForest(**kw).fit(Xtr, ytr)  # an sklearn RandomForestClassifier subclass
    return ew, Xte


def everywhereml_code(ew) -> str:
    code = ew.to_micropython(instance_name="clf")
    # everywhereml's template ends with a declaration line that is not Python: make an instance.
    lines = code.rstrip().splitlines()
    if lines and lines[-1].strip() == "RandomForestClassifier clf":
        lines[-1] = "clf = RandomForestClassifier()"
    return "\n".join(lines) + "\n"


def run() -> dict:
    ew, Xte = train()
    ref = ew.predict(Xte)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        cm = emlmpy.convert(ew, method="inline")
        cm.save(file=str(t / "model.csv"), format="csv")
        cm.save(file=str(t / "model.bin"), format="bin")
        (t / "m2c_model.py").write_text(m2cgen.export_to_python(ew))
        (t / "ew_model.py").write_text(everywhereml_code(ew))
        (t / "X.json").write_text(json.dumps(Xte.tolist()))
        (t / "bench.py").write_text(DEVICE_SCRIPT % {"reps": REPS})
        env = dict(os.environ, MICROPYPATH=f"{ROOT / 'dist' / 'x64'}:{t}")
        proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=16M", "bench.py"], cwd=t, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark failed:\n{proc.stdout}\n{proc.stderr}")
        res = json.loads(proc.stdout.split("RESULT ", 1)[1])
    for key in ("emltrees", "many", "m2cgen", "everywhereml"):
        pred = np.array(res["pred_" + key])
        res["agree_" + key] = float(np.mean(pred == ref))
    return res


def write(res: dict) -> list[list]:
    RESULTS.mkdir(exist_ok=True)
    base = res["noop"]
    rows = []
    for name, key, agree in (("emltrees.predict", "emltrees", "agree_emltrees"),
                             ("emltrees.predict_many", "emltrees_many", "agree_many"),
                             ("everywhereml", "everywhereml", "agree_everywhereml"),
                             ("m2cgen", "m2cgen", "agree_m2cgen"),
                             ("no-op loop", "noop", None)):
        us = res[key]
        net = us - base if key not in ("noop", "emltrees_many") else us
        rows.append([name, round(us, 3), round(net, 3), round(1e6 / max(us, 1e-9)), res[agree] if agree else ""])
    with open(RESULTS / "trees.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "us_per_prediction", "us_net_of_loop", "samples_per_s", "agreement_with_sklearn"])
        w.writerows(rows)
    with open(RESULTS / "trees_load.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["what", "value"])
        w.writerow(["load_csv_ms", round(res["load_csv"] / 1000, 3)])
        w.writerow(["load_bin_ms", round(res["load_bin"] / 1000, 3)])
        w.writerow(["heap_bytes_loaded_model", res["heap_bytes"]])
        w.writerow(["model_memory_method_bytes", res["memory_method"]])
    net = {r[0]: r[2] for r in rows}
    ratios = {
        "emltrees_vs_m2cgen": net["m2cgen"] / net["emltrees.predict"],
        "emltrees_vs_everywhereml": net["everywhereml"] / net["emltrees.predict"],
        "predict_many_vs_predict": net["emltrees.predict"] / net["emltrees.predict_many"],
    }
    with open(RESULTS / "trees_ratios.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ratio", "value"])
        for k, v in ratios.items():
            w.writerow([k, round(v, 2)])
    chart(rows)
    return rows


def chart(rows: list[list]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r[0] for r in rows if r[0] != "no-op loop"]
    rates = [r[3] for r in rows if r[0] != "no-op loop"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(names[::-1], rates[::-1], color="#3b7dd8")
    ax.set_xscale("log")
    ax.set_xlabel("samples per second (log scale, higher is better)")
    ax.set_title("digits random forest (10 trees, 100 leaves) on MicroPython unix port")
    for i, v in enumerate(rates[::-1]):
        ax.text(v, i, f" {v:,.0f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "trees.png", dpi=110)


if __name__ == "__main__":
    r = run()
    for row in write(r):
        print(row)
    sys.exit(0)
