"""Render benchmarks/README.md from the CSV files one `make bench` run wrote to results/.

Targets come from the project's issues (the anchor project's figures measured on the same unix-port
binary); every number in the README comes from results/, none is typed by hand.
"""
from __future__ import annotations

import csv
from pathlib import Path

from boards import readme_section  # the "Real firmware" section, from results/boards_*.csv

HERE = Path(__file__).resolve().parent
RES = HERE / "results"
# anchor project (emlearn-micropython), armv6m .mpy bytes, from the issue
ANCHOR_MPY = {"emltrees": 4711, "emlneighbors": 2352, "emliir": 4223, "emlfft": 4317}
LEAF_LABEL = {"proba": "proba (default)", "proba8": "proba8 (`leaf_bits=8`)", "class": "class (`leaf_bits=0`)"}


def rows(name: str) -> list[dict]:
    with open(RES / name) as f:
        return list(csv.DictReader(f))


def table(header: list[str], body: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def trees_section() -> str:
    t = rows("trees.csv")
    ratios = {r["ratio"]: float(r["value"]) for r in rows("trees_ratios.csv")}
    load = {r["leaves"]: r for r in rows("trees_load.csv")}
    body = [[r["method"], r["us_per_prediction"], r["us_net_of_loop"], f'{int(r["samples_per_s"]):,}',
             f'{float(r["agreement_with_sklearn"]):.4f}' if r["agreement_with_sklearn"] else ""] for r in t]
    p = load["proba"]
    c = load["class"]
    targets = [
        ["emltrees vs m2cgen (net of loop)", f'{ratios["emltrees_vs_m2cgen"]:.0f}×', "≥ 135×",
         verdict(ratios["emltrees_vs_m2cgen"] >= 135)],
        ["emltrees vs everywhereml (net of loop)", f'{ratios["emltrees_vs_everywhereml"]:.0f}×', "≥ 25×",
         verdict(ratios["emltrees_vs_everywhereml"] >= 25)],
        ["predict_many vs predict, per sample", f'{ratios["predict_many_vs_predict"]:.2f}×', "≥ 5×",
         verdict(ratios["predict_many_vs_predict"] >= 5)],
        ["CSV load (default model)", f'{p["load_csv_ms"]} ms', "≤ 1.3 ms", verdict(float(p["load_csv_ms"]) <= 1.3)],
        ["binary load (default model)", f'{p["load_bin_ms"]} ms', "≤ 0.3 ms", verdict(float(p["load_bin_ms"]) <= 0.3)],
        ["heap bytes, hard-vote model (like the anchor's)", c["heap_bytes"], "≤ 8,160",
         verdict(int(c["heap_bytes"]) <= 8160)],
    ]
    lbody = [[LEAF_LABEL.get(r["leaves"], r["leaves"]), r["load_csv_ms"], r["load_bin_ms"], r["heap_bytes"],
              r["heap_csv_bytes"], r["device_bytes"], r["payloads"], r["us_per_prediction"],
              r["agreement_with_sklearn"], r["csv_model_predicts_same"]] for r in load.values()]
    csv_mod = rows("trees_csv_module.csv")[0] if (RES / "trees_csv_module.csv").exists() else {}
    csv_text = (f" Importing `emltrees_csv` (which emltrees does on the first CSV load; it stays imported) took "
                f"{int(csv_mod['import_heap_bytes']):,} bytes of heap (.mpy {int(csv_mod['mpy_bytes']):,} bytes; the "
                "unix port keeps a native module's code outside the GC heap, the boards do not: see the "
                "real-firmware section); it is imported before the CSV loads are timed and before any model's "
                "heap is measured."
                if csv_mod else "")
    return "\n\n".join([
        "## Trees: the seed's comparison (unix port)",
        "RandomForestClassifier(n_estimators=10, max_leaf_nodes=100) on scikit-learn's digits "
        "(test split of 540 samples), predicted on one `micropython` binary; µs per prediction: the mean "
        "over one timed loop of the run's repetitions (`BENCH_REPS`, 20 by default) over all samples.",
        table(["method", "µs / prediction", "µs net of loop", "samples / s", "agreement with sklearn"], body),
        "![samples per second](results/trees.png)",
        "Per leaf kind (model format version 2, `leaf_bits` of `emlmpy.convert`): load time (mean of the "
        "repetitions; binary through `emltrees.load_model`, CSV through the same call, which hands the file "
        "to `emltrees_csv`), the heap the loaded model takes (`gc.mem_free()` before "
        "`emltrees.new(trees, nodes, payloads)` minus after the load, both after `gc.collect()`; from the "
        "binary and from the CSV file), the model's own bytes (the binary file minus its 32-byte header, "
        "emlmpy's `device_bytes`), the number of proportion payloads, prediction time, agreement with "
        "scikit-learn's `predict` and whether the CSV-loaded model predicts every test sample as the "
        "binary-loaded one." + csv_text,
        table(["leaves", "CSV load ms", "binary load ms", "heap bytes", "heap bytes (CSV)", "model bytes",
               "payloads", "µs / predict", "agreement", "CSV = binary"], lbody),
        "Targets (from the issue):",
        table(["what", "measured", "target", ""], targets),
    ])


def dsp_section() -> str:
    body = [[r["module"], r["case"], r["native_us"], r["pure_micropython_us"], f'{r["speedup"]}×']
            for r in rows("dsp.csv")]
    return "\n\n".join(["## DSP and k-NN vs pure MicroPython (unix port, one run)",
                        table(["module", "case", "native µs", "pure MicroPython µs", "speed-up"], body)])


def sizes_section() -> str:
    r = rows("mpy_sizes.csv")
    mods = list(ANCHOR_MPY)
    cols = [c for c in r[0] if c != "arch"]
    body = [[x["arch"], *[f'{int(x[m]):,}' if x[m] else "" for m in cols]] for x in r]
    arm = next(x for x in r if x["arch"] == "armv6m")
    tgt = [[m, f'{int(arm[m]):,}', f'{ANCHOR_MPY[m]:,}', f'{int(arm[m]) / ANCHOR_MPY[m]:.2f}×', "≤ 0.75×",
            verdict(int(arm[m]) <= 0.75 * ANCHOR_MPY[m])] for m in mods]
    return "\n\n".join(["## .mpy sizes (bytes)",
                        "`emltrees_csv` is the optional CSV reader of `emltrees` (a board that loads only binary "
                        "models does not need it).",
                        table(["arch", *cols], body),
                        "armv6m against the anchor project's files:",
                        table(["module", "ours", "anchor", "ratio", "target", ""], tgt)])


def main() -> None:
    cores = (RES / "cores.md").read_text() if (RES / "cores.md").exists() else "(run `make bench-cores`)"
    notes = (HERE / "NOTES.md").read_text() if (HERE / "NOTES.md").exists() else ""
    text = "\n\n".join([
        "# benchmarks/",
        "Measurements, not tests: `make bench` (about a minute) runs everything below and rewrites this "
        "file from `results/` (`bench_trees.py`, `bench_dsp.py`, `sizes.py`, `cores/bench.py`, then "
        "`report.py`), except the real-firmware section, which `make bench-boards FIRMWARE=<folder>` "
        "measures (`bench_boards.py` with `boards/`; a few minutes; it also rewrites this file). Timings "
        "are from one run on a shared, noisy machine; compare ratios within a run. "
        "May depend on: the built modules in `dist/`, `.venv` (m2cgen, everywhereml, unicorn, emlearn, "
        "matplotlib), `tools/` (through `PYTHONPATH=tools:toolchain`, which the Makefile exports).",
        trees_section(), dsp_section(), sizes_section(),
        "## Cortex-M0 instructions per call (`make bench-cores`)", cores, readme_section.section(RES), notes,
    ])
    (HERE / "README.md").write_text(text.rstrip() + "\n")


if __name__ == "__main__":
    main()
