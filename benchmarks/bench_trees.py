"""Trees benchmark: the seed's comparison on one unix-port `micropython` binary.

A RandomForestClassifier (10 trees, max_leaf_nodes=100) trained on scikit-learn's digits is
predicted by emltrees (one call per sample, and predict_many), by m2cgen's generated Python,
by everywhereml's generated MicroPython, and by a no-op loop (the baseline). Also, per leaf kind
(format version 2: proba, proba8, class): model load time (binary through emltrees; CSV through the
optional module emltrees_csv, which emltrees imports on the first CSV load and keeps, so it is imported
before the CSV loads are timed) and the heap bytes the loaded model takes (binary- and CSV-loaded).

Writes results/trees.csv, results/trees_load.csv, results/trees_csv_module.csv, results/trees_ratios.csv
and results/trees.png.
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

import toolreg  # the project's tool registry
from digits_forest import everywhereml_code, save_models, train  # the model, shared with bench_boards

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

MICROPYTHON = toolreg.which("micropython")
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

CONFIGS = %(configs)s

def load(cfg, fmt):
    m = emltrees.new(cfg["trees"], cfg["nodes"], cfg["payloads"])
    with open(cfg["name"] + "." + fmt, "rb") as f:
        emltrees.load_model(m, f)
    return m

def heap_of(cfg, fmt):
    gc.collect()
    free0 = gc.mem_free()
    m = load(cfg, fmt)
    gc.collect()
    return m, free0 - gc.mem_free()

res = {}
# The first CSV load imports emltrees_csv (found on MICROPYPATH: dist/x64) and it stays imported; its
# heap is recorded here, once, and kept out of the per-model heap and the timed loads below.
gc.collect()
free0 = gc.mem_free()
import emltrees_csv
gc.collect()
res["csv_module_heap"] = free0 - gc.mem_free()
for cfg in CONFIGS:
    m = mm = None  # nothing of the previous leaf kind stays allocated
    m, res["heap_" + cfg["name"]] = heap_of(cfg, "bin")
    res["memory_" + cfg["name"]] = m.memory()
    mc, res["heap_csv_" + cfg["name"]] = heap_of(cfg, "csv")
    res["csv_same_" + cfg["name"]] = [mc.predict(a) for a in arrays] == [m.predict(a) for a in arrays]
    mc = None
    for fmt in ("csv", "bin"):
        mm = emltrees.new(cfg["trees"], cfg["nodes"], cfg["payloads"])
        gc.collect()
        t0 = time.ticks_us()
        for _ in range(REPS):
            with open(cfg["name"] + "." + fmt, "rb") as f:
                emltrees.load_model(mm, f)
        res["load_%%s_%%s" %% (cfg["name"], fmt)] = time.ticks_diff(time.ticks_us(), t0) / REPS
    res["predict_" + cfg["name"]] = timed(m.predict, arrays)
    res["pred_" + cfg["name"]] = [m.predict(a) for a in arrays]
m = mm = None
model = load(CONFIGS[0], "bin")
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

print("RESULT " + json.dumps(res))
'''


def run() -> dict:
    sk, ew, Xte = train()
    ref = sk.predict(Xte)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        configs = [m.as_dict() for m in save_models(sk, t)]
        (t / "m2c_model.py").write_text(m2cgen.export_to_python(sk))
        (t / "ew_model.py").write_text(everywhereml_code(ew))
        (t / "X.json").write_text(json.dumps(Xte.tolist()))
        (t / "bench.py").write_text(DEVICE_SCRIPT % {"reps": REPS, "configs": json.dumps(configs)})
        env = dict(os.environ, MICROPYPATH=f"{ROOT / 'dist' / 'x64'}:{t}")
        proc = subprocess.run([str(MICROPYTHON), "-X", "heapsize=16M", "bench.py"], cwd=t, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark failed:\n{proc.stdout}\n{proc.stderr}")
        res = json.loads(proc.stdout.split("RESULT ", 1)[1])
    res["configs"] = configs
    for key in ("emltrees", "many", "m2cgen", "everywhereml", *(c["name"] for c in configs)):
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
        w.writerow(["leaves", "load_csv_ms", "load_bin_ms", "heap_bytes", "heap_csv_bytes", "memory_method_bytes",
                    "device_bytes", "payloads", "us_per_prediction", "agreement_with_sklearn",
                    "csv_model_predicts_same"])
        for c in res["configs"]:
            n = c["name"]
            w.writerow([n, round(res[f"load_{n}_csv"] / 1000, 3), round(res[f"load_{n}_bin"] / 1000, 3),
                        res["heap_" + n], res["heap_csv_" + n], res["memory_" + n], c["device_bytes"],
                        c["payloads"], round(res["predict_" + n], 3), round(res["agree_" + n], 4),
                        "yes" if res["csv_same_" + n] else "no"])
    with open(RESULTS / "trees_csv_module.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["module", "import_heap_bytes", "mpy_bytes"])
        w.writerow(["emltrees_csv", res["csv_module_heap"], (ROOT / "dist" / "x64" / "emltrees_csv.mpy").stat().st_size])
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
