"""Render benchmarks/README.md from the CSV files one `make bench` run wrote to results/.

Targets come from the project's issues (the anchor project's figures measured on the same unix-port
binary); every number in the README comes from results/, none is typed by hand.
"""
from __future__ import annotations

import csv
from pathlib import Path

from anchor import ANCHOR_MPY
from boards import readme_section  # the "Real firmware" section, from results/boards_*.csv
from summary import render as render_summary  # the top-level README's figures

HERE = Path(__file__).resolve().parent
RES = HERE / "results"
# ours before the footprint work (model format version 1, no dead-code elimination), every arch:
# the table for armv6m and x64, the others measured from the same sources when the work began
BEFORE_MPY = {"armv6m": {"emltrees": 18003, "emlneighbors": 6779, "emliir": 4748, "emlfft": 6648},
              "armv7m": {"emltrees": 15435, "emlneighbors": 4979, "emliir": 3024, "emlfft": 4832},
              "armv7emsp": {"emltrees": 13571, "emlneighbors": 4075, "emliir": 2043, "emlfft": 3720},
              "rv32imc": {"emltrees": 21839, "emlneighbors": 8507, "emliir": 6036, "emlfft": 8780},
              "x64": {"emltrees": 17434, "emlneighbors": 5120, "emliir": 2565, "emlfft": 4712},
              "xtensa": {"emltrees": 21453, "emlneighbors": 6753, "emliir": 3816, "emlfft": 6986},
              "xtensawin": {"emltrees": 16250, "emlneighbors": 5470, "emliir": 3391, "emlfft": 6102}}
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
        ["heap bytes, hard-vote model (like the anchor's)", c["heap_bytes"], "≤ 8,128",
         verdict(int(c["heap_bytes"]) <= 8128)],
        ["heap bytes, default model (agrees with scikit-learn)", p["heap_bytes"], "≤ 12,000",
         verdict(int(p["heap_bytes"]) <= 12000)],
    ] + [[f"µs per predict, {LEAF_LABEL.get(k, k)} (the anchor's 0.402 µs: the footprint issue's "
          "figure, not this run)", r["us_per_prediction"], "≤ 0.402", verdict(float(r["us_per_prediction"]) <= 0.402)]
         for k, r in load.items()]
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
    cols = [c for c in r[0] if c != "arch"]
    body = [[x["arch"], *[f'{int(x[m]):,}' if x[m] else "" for m in cols]] for x in r]
    by_arch = {x["arch"]: x for x in r}
    before = []
    for arch, old in BEFORE_MPY.items():
        now = by_arch.get(arch)
        if now:
            before.append([arch, *[f'{old[m]:,} → {int(now[m]):,} ({int(now[m]) / old[m]:.2f}×)' for m in old]])
    # the rule for the other arches: the same ratio against "before" as armv6m's target asks
    v6 = BEFORE_MPY["armv6m"]
    before.append(["required ratio (armv6m anchor / armv6m before)",
                   *[f'≤ {ANCHOR_MPY["armv6m"][m] / v6[m]:.2f}×' for m in v6]])
    tgt = []
    for arch, anchor in ANCHOR_MPY.items():
        now = by_arch.get(arch)
        for m, a in anchor.items():
            if now and now.get(m):
                n = int(now[m])
                tgt.append([arch, m, f'{n:,}', f'{a:,}', f'{n / a:.2f}×', verdict(n <= a),
                            "met" if n <= 0.75 * a else "not reached"])
    return "\n\n".join(["## .mpy sizes (bytes)",
                        "`emltrees_csv` is the optional CSV reader of `emltrees` (a board that loads only binary "
                        "models does not need it); `emlneighbors_load` is the optional k-NN file loader of "
                        "`emlneighbors` (a board that only adds items with `add_item` does not need it); `emlkmeans_fit` is "
                        "the optional fit of `emlkmeans` (a board that predicts with centers fitted elsewhere does not "
                        "need it).",
                        table(["arch", *cols], body),
                        "Before the footprint work (model format version 1, no dead-code elimination in the "
                        "linker) → now, per arch:",
                        table(["arch", *BEFORE_MPY["armv6m"]], before),
                        "Against the anchor project's modules (the footprint issue's figures; target: at or "
                        "below the anchor's, aim: 0.75×):",
                        table(["arch", "module", "ours", "anchor", "ratio", "≤ anchor", "≤ 0.75× anchor"], tgt)])


def main() -> None:
    cores = (RES / "cores.md").read_text() if (RES / "cores.md").exists() else "(run `make bench-cores`)"
    notes = (HERE / "NOTES.md").read_text() if (HERE / "NOTES.md").exists() else ""
    text = "\n\n".join([
        "# benchmarks/",
        "Measurements, not tests: `make bench` (about a minute) runs everything below and rewrites this "
        "file from `results/` (`bench_trees.py`, `bench_dsp.py`, `sizes.py`, `cores/bench.py`, then "
        "`report.py`), except the real-firmware section, which `make bench-boards FIRMWARE=<folder>` "
        "measures (`bench_boards.py` with `boards/`; a few minutes; it also rewrites this file). Both also "
        "rewrite the figures of the top-level README.md (`summary.py`). Timings "
        "are from one run on a shared, noisy machine; compare ratios within a run. "
        "May depend on: the built modules in `dist/`, `.venv` (m2cgen, everywhereml, unicorn, emlearn, "
        "matplotlib), `tools/` (through `PYTHONPATH=tools:toolchain`, which the Makefile exports).",
        trees_section(), dsp_section(), sizes_section(),
        "## Cortex-M0 instructions per call (`make bench-cores`)", cores, readme_section.section(RES), notes,
    ])
    (HERE / "README.md").write_text(text.rstrip() + "\n")
    render_summary(HERE.parent / "README.md", RES)


if __name__ == "__main__":
    main()
