"""The "Real firmware" section of benchmarks/README.md, rendered by benchmarks/report.py from the
CSV files `make bench-boards` writes (results/boards_*.csv). Every number comes from results/;
without those files the section says how to measure."""
from __future__ import annotations

import csv
from pathlib import Path

from anchor import ANCHOR_MPY

# From the issue: an earlier manual measurement on the same firmware (import heap, bytes).
EARLIER_IMPORT = {("armv6m", "emltrees"): 18272, ("armv6m", "emlneighbors"): 6944, ("armv6m", "emliir"): 4992,
                  ("armv6m", "emlfft"): 6768, ("rv32imc", "emltrees"): 22128}
EARLIER_PREDICT = "about 5,240 M0 instructions per predict(x), including about 1,200 of interpreter call overhead"
# results/cores.csv (make bench-cores, unicorn) rows for the same leaf kinds, float32 inputs
CORES_VARIANT = {"class": "ours CLASS leaves", "proba8": "ours PROBA8", "proba": "ours PROBA ("}
# The footprint issue's targets on the real Cortex-M0 (MICROBIT, armv6m): import heap per module at or
# below the anchor's armv6m .mpy bytes; loaded digits forest heap; predict(x) instructions with the call.
TARGET_IMPORT = ANCHOR_MPY["armv6m"]
TARGET_MODEL = {"class": 8128, "proba": 12000}
TARGET_PREDICT = 4000
TARGET_Q15_RATIO = 0.25  # issue 14 (fixed-point DSP): Q15 IIR/FFT instructions <= 0.25x the float modules'
HOWTO = "run `make bench-boards FIRMWARE=<folder>` (docs/boards.md says how to get the firmware)"


def read_rows(res: Path, name: str) -> list[dict] | None:
    """The rows of results/<name> as dicts, None when the file is missing (not measured yet)."""
    p = res / name
    if not p.exists():
        return None
    with open(p) as f:
        return list(csv.DictReader(f))


def _table(header: list[str], body: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
    return "\n".join(out)


def _n(v: str) -> str:
    """'4788.4' -> '4,788'; '' stays ''."""
    if v in ("", None):
        return ""
    return f"{float(v):,.0f}"


def _not_measured(what: str) -> str:
    return f"{what}: not measured: {HOWTO}."


def imports(res: Path) -> str:
    rows = read_rows(res, "boards_import.csv")
    if not rows:
        return _not_measured("Heap per module at import")
    boards = list(dict.fromkeys(r["board"] for r in rows))
    arch = {r["board"]: r["arch"] for r in rows}
    cell = {(r["board"], r["module"]): r for r in rows}
    modules = list(dict.fromkeys(r["module"] for r in rows))
    body = []
    for m in modules:
        line = [m]
        for b in boards:
            r = cell.get((b, m))
            if r is None or not r["import_heap_bytes"]:
                line.append(r["note"] if r else "")
                continue
            line.append(f'{_n(r["import_heap_bytes"])} ({_n(r["qstr_pool_growth_bytes"])} qstr; .mpy {_n(r["mpy_bytes"])})')
        body.append(line)
    earlier = []
    for (a, m), v in EARLIER_IMPORT.items():
        now = [r for r in rows if r["arch"] == a and r["module"] == m and r["import_heap_bytes"]]
        if now:
            earlier.append([m, a, f"{v:,}", _n(now[0]["import_heap_bytes"]),
                            f'{int(now[0]["import_heap_bytes"]) - v:+,}', _n(now[0]["qstr_pool_growth_bytes"])])
    free = sorted({r["free_heap_before"] for r in rows if r["free_heap_before"]}, key=int)
    parts = [
        "### GC heap a module takes at `import`",
        "Bytes of GC heap taken by `import <module>`, per board and the arch it loads. In brackets: how "
        "much of it is growth of the interned-string (qstr) pools, and the size of the `.mpy` file loaded. "
        "The qstr part comes from "
        "`micropython.qstr_info()`'s `n_total_bytes` before and after. That part is lumpy: when the current "
        "pool is full a new one is allocated with room to spare, so a module pays several hundred bytes "
        "or almost nothing depending on what was interned before it (the measuring script's own names "
        "included); the figure minus it is the module's own code, data and objects. Method: one mpremote "
        "invocation per module, so each import starts from mpremote's soft reset (fresh heap, nothing "
        "else imported), with `dist/<arch>/` mounted; the script touches the module file once through the "
        "mount, then `gc.collect(); gc.mem_free()` before and after `__import__(name)` inside a function "
        "(no global is added). On these ports a native module's code lives on the GC heap. `emltrees_csv` "
        "is emltrees' optional CSV reader: emltrees imports it on the first CSV model loaded (and it stays "
        "imported), so a board that loads only binary models never pays this row; `emlneighbors_load` is "
        "emlneighbors' optional k-NN file loader, imported by the first k-NN file loaded (and kept), so a "
        "board that only adds items never pays its row; both measured here alone, like the others."
        + (f" Free heap before the import: {_n(free[0])} to {_n(free[-1])} bytes." if free else ""),
        _table(["module", *[f"{b} ({arch[b]})" for b in boards]], body),
    ]
    if earlier:
        parts += ["Against the earlier manual measurement quoted in the issue (method unknown; differences of a "
                  "few hundred bytes are within the qstr-pool lumpiness):",
                  _table(["module", "arch", "earlier", "now", "difference", "of which qstr pool growth now"],
                         earlier)]
    return "\n\n".join(parts)


def models(res: Path) -> str:
    rows = read_rows(res, "boards_model.csv")
    if not rows:
        return _not_measured("Heap of the loaded forest")
    boards = list(dict.fromkeys(r["board"] for r in rows))
    kinds = list(dict.fromkeys(r["leaves"] for r in rows))
    cell = {(r["board"], r["leaves"]): r for r in rows}
    body = []
    for k in kinds:
        first = next(r for r in rows if r["leaves"] == k)
        line = [k, _n(first.get("payloads", "")), _n(first["model_bytes"]), _n(first["memory_method_bytes"])]
        for b in boards:
            r = cell.get((b, k))
            line.append(_n(r["heap_bin_bytes"]) if r and r["heap_bin_bytes"] else (r["note"] if r else ""))
        body.append(line)
    csv_ok = [r for r in rows if r["heap_csv_bytes"]]
    csv_same = [r for r in csv_ok if r["heap_csv_bytes"] == r["heap_bin_bytes"]]
    preds_same = [r for r in csv_ok if r["csv_vs_bin"].startswith("same")]
    first_load = [f'{r["board"]} {int(r["heap_csv_first_load_bytes"]) - int(r["heap_csv_bytes"]):,}'
                  for r in csv_ok if r.get("heap_csv_first_load_bytes") and r["leaves"] == kinds[0]]
    import_csv = {r["board"]: r["import_heap_bytes"] for r in (read_rows(res, "boards_import.csv") or [])
                  if r["module"] == "emltrees_csv" and r["import_heap_bytes"]}
    first_text = ("The first CSV load of a session also imports `emltrees_csv`: it took more heap than the second "
                  f"load of the same file by (leaf kind {kinds[0]}) " + ", ".join(first_load) + " bytes"
                  + (" (import alone, from the table above: " + ", ".join(f"{b} {_n(v)}" for b, v in import_csv.items())
                     + ")" if import_csv else "") + "; the CSV heap figures here are from the second load, the model "
                  "alone." if first_load else "")
    unix = read_rows(res, "trees_load.csv") or []
    unix_heap = {r["leaves"]: r["heap_bytes"] for r in unix}
    csv_text = (f"The CSV files load within the heap on every board measured ({len(csv_ok)} of {len(rows)} loads); "
                f"the CSV-loaded model takes the same heap as the binary-loaded one in {len(csv_same)} of "
                f"{len(csv_ok)} cases and predicts the same as it in {len(preds_same)} of {len(csv_ok)} "
                f"(on the first test samples: {csv_ok[0]['csv_vs_bin'] if csv_ok else ''}). Free heap with "
                f"emltrees imported, before the model: {_n(rows[0]['free_heap_with_emltrees'])} bytes on "
                f"{rows[0]['board']}.")
    unix_text = ("For comparison, the unix port (64-bit) measures " +
                 ", ".join(f"{k} {_n(v)}" for k, v in unix_heap.items()) + " bytes (results/trees_load.csv)."
                 if unix_heap else "")
    return "\n\n".join([
        "### Heap of the loaded digits forest",
        "Bytes of GC heap the forest (model format version 2) takes: `emltrees.new(n_trees, n_nodes, "
        "n_payloads)` with the exact capacities emlmpy reports (limits: nothing is reserved before the file "
        "says what it needs), then `emltrees.load_model` from the binary file over the mount "
        "(`gc.collect(); gc.mem_free()` before `new` and after the load). Payloads: the distinct class "
        "proportion payloads (none for class leaves); model bytes: the model's block, the binary file minus "
        "its 32-byte header (emlmpy's `device_bytes`); `m.memory()`: what the model says it holds; the heap "
        "figures add the GC's 16-byte block rounding and the model object.",
        _table(["leaves", "payloads", "model bytes", "m.memory()", *boards], body),
        " ".join(t for t in (csv_text, first_text, unix_text) if t),
    ])


def _cores(res: Path) -> dict[str, str]:
    rows = read_rows(res, "cores.csv") or []
    out = {}
    for kind, needle in CORES_VARIANT.items():
        for r in rows:
            if r["operation"] == "RF digits predict" and r["variant"].startswith("float32") and needle in r["variant"]:
                out[kind] = r["ours_instructions"]
    return out


def predict(res: Path, run: dict[str, str]) -> str:
    rows = read_rows(res, "boards_m0_predict.csv")
    if not rows:
        return _not_measured("Cortex-M0 instructions per predict")
    cores = _cores(res)
    body = [[r["leaves"], f'`{r["call"]}`', _n(r["gross_mean"]), _n(r["net_of_empty_body"]),
             _n(r["net_of_len_call"]), _n(r["net_of_outputs_call"]),
             _n(cores.get(r["leaves"], "")) if r["call"] == "predict(x)" else "", r["agreement_with_sklearn"],
             r["note"]] for r in rows]
    r0 = next((r for r in rows if r["empty_body_mean"]), rows[0])
    first_pass_gap = max((abs(float(r["first_pass_gross_mean"]) - float(r["gross_mean"])) for r in rows
                          if r["gross_mean"]), default=0.0)
    samples = r0["samples"]
    return "\n\n".join([
        "### Cortex-M0 instructions per predict (MICROBIT image, QEMU instruction-count plugin)",
        f"Mean over the first {samples} test samples, per leaf kind. The plugin counts the guest "
        "instructions QEMU executes from the entry of `micropython.heap_lock()` to the entry of the next "
        f"`micropython.heap_unlock()` (addresses from `arm-none-eabi-nm firmware.elf`: {run.get('M0 markers', '?')}). "
        "The device script calls `heap_lock()`, the statement under test, `heap_unlock()`, so the heap is "
        "locked around the call: every count that arrived is also proof that the call allocated nothing "
        "(an allocation raises MemoryError). Each sample is read over the mount into an `array('f')`, then "
        "five bodies run, twice: nothing, `e = len(x)`, `e = m.outputs()`, `c = m.predict(x)`, "
        "`d = m.predict(x, out)`. The table uses the second pass, a tight loop's steady state.",
        "Which figure is which:\n"
        "- **gross**: everything between the markers: the return from `heap_lock()`, the statement, and "
        "the call of `heap_unlock()` up to its entry.\n"
        f"- **net of empty body**: gross minus the same markers around nothing ({_n(r0['empty_body_mean'])} "
        "instructions): the whole cost of the statement, interpreter included, which is what a loop on a "
        "board pays per call.\n"
        f"- **net of `len(x)`**: gross minus the markers around a trivial builtin call `e = len(x)` "
        f"({_n(r0['len_call_mean'])} instructions), as the firmware README suggests, to read a figure net "
        "of the interpreter's call overhead. This over-subtracts: `len` is a global name, looked up in the "
        "script's globals and then in the builtins table, which costs more than `m.predict`'s method "
        f"lookup (compare `m.outputs()` below; the same `len(x)` costs {_n(r0['first_pass_len_call_mean'])} "
        "in the first pass, right after the mount's own Python code has run).\n"
        f"- **net of `m.outputs()`**: gross minus a trivial method of the same object, `e = m.outputs()` "
        f"({_n(r0['outputs_call_mean'])} instructions): the same method lookup and native-call path, so "
        "this is the closest to the work inside `predict` (argument checks, the buffer, the forest, the "
        "result).\n"
        "- **unicorn, C core** (`make bench-cores`, results/cores.csv): `emlc_trees_predict` alone, built "
        "for Cortex-M0 with `-Os` and run in unicorn, mean over 50 samples of a sibling forest (same "
        "parameters, but digits ×2 and another train/test split, and only samples without threshold ties; "
        "benchmarks/cores/README.md), so it is comparable in size, not equal.",
        _table(["leaves", "call", "gross", "net of empty body", "net of len(x)", "net of m.outputs()",
                "unicorn, C core", "agreement with sklearn", "note"], body),
        f"The first pass (just after reading the sample through the mount) gives `predict` figures within "
        f"{first_pass_gap:,.1f} instructions of the second. Earlier manual measurement quoted in the issue: "
        f"{EARLIER_PREDICT}.",
    ])


def seed_chart(res: Path) -> str:
    rows = read_rows(res, "boards_chart.csv")
    if not rows:
        return _not_measured("The seed's chart on the Cortex-M0")
    body = [[r["method"], _n(r["instructions_per_prediction"]), f'{_n(r["net_min"])} – {_n(r["net_max"])}',
             _n(r["samples_per_s_at_125MHz"]), r["agreement_with_sklearn"], _n(r["heap_bytes"]),
             r["code_and_model"], r["note"]] for r in rows]
    ipp = {r["method"]: float(r["instructions_per_prediction"]) for r in rows if r["instructions_per_prediction"]}
    ratios = []
    base = ipp.get("emltrees.predict")
    for other in ("m2cgen (mpy-cross)", "everywhereml (mpy-cross)"):
        if base and other in ipp:
            ratios.append(f"{other.split(' ')[0]} takes {ipp[other] / base:,.0f}× the instructions of emltrees.predict")
    if base and "emltrees.predict_many" in ipp:
        ratios.append(f"predict_many is {base / ipp['emltrees.predict_many']:.2f}× as fast as predict per sample")
    unix = {r["ratio"]: r["value"] for r in (read_rows(res, "trees_ratios.csv") or [])}
    unix_text = (f" (on the unix port, in time net of the loop, results/trees_ratios.csv: m2cgen "
                 f"{unix.get('emltrees_vs_m2cgen')}×, everywhereml {unix.get('emltrees_vs_everywhereml')}×, "
                 f"predict_many {unix.get('predict_many_vs_predict')}×)" if unix else "")
    nofit = [r["method"] for r in rows if not r["instructions_per_prediction"] and "does not fit the heap" in r["note"]]
    return "\n\n".join([
        "### The seed's chart on the Cortex-M0",
        "The same digits forest through emltrees (`m.predict(x)`, and `m.predict_many(X, out)` over chunks "
        "of 60 samples), through m2cgen's generated Python (`score(x)`, the class taken outside the count) "
        "and through everywhereml's (`clf.predict(x)`), both compiled with mpy-cross (bytecode; whether "
        "the source itself fits, compiled on the board, is in the note column). Instructions "
        "per prediction: net of the empty body, second pass, counted between `gc.isenabled()` and "
        "`gc.enable()` (markers that do not lock the heap: generated Python allocates lists and floats); a "
        "garbage collection during a prediction is counted in it, which is what the max column shows. "
        "Samples/s = 125,000,000 / instructions per prediction: RP2040's 125 MHz, **assuming one "
        "instruction per cycle** (a Cortex-M0+ takes 2 or more cycles for loads, stores, taken branches and "
        "calls, and memory wait states such as flash cache misses come on top; read the figures as an upper "
        "bound, the ratios as the "
        "result). Agreement: the device's predictions of all test samples against scikit-learn's "
        "`predict`. Heap: what importing the generated module, or emltrees plus loading the model, took.",
        _table(["method", "instructions / prediction", "min – max", "samples/s at 125 MHz",
                "agreement with sklearn", "heap bytes", "code and model", "note"], body),
        "![samples per second on the Cortex-M0](results/boards_chart.png)",
        ("On this core " + "; ".join(ratios) + unix_text + "." if ratios else "")
        + (f" Did not fit even compiled: {', '.join(nofit)} (not measured with fewer trees or samples: "
           "no figure is given for them)." if nofit else " Compiled, every method fit the heap with the full "
           "forest, and all test samples were measured."),
    ])


def targets(res: Path) -> str:
    """The footprint issue's targets on the Cortex-M0 board, with the measured figure."""
    imp = {r["module"]: r for r in (read_rows(res, "boards_import.csv") or []) if r["board"] == "MICROBIT"}
    mod = {r["leaves"]: r for r in (read_rows(res, "boards_model.csv") or []) if r["board"] == "MICROBIT"}
    pre = [r for r in (read_rows(res, "boards_m0_predict.csv") or []) if r["call"] == "predict(x)"]
    body = []
    for m, t in TARGET_IMPORT.items():
        r = imp.get(m)
        if r and r["import_heap_bytes"]:
            v = int(r["import_heap_bytes"])
            body.append([f"`import {m}` heap", f"{v:,}", f"≤ {t:,}", "met" if v <= t else f"**missed** ({v / t:.2f}×)"])
    for k, t in TARGET_MODEL.items():
        r = mod.get(k)
        if r and r["heap_bin_bytes"]:
            v = int(r["heap_bin_bytes"])
            body.append([f"digits forest heap, {k} leaves", f"{v:,}", f"≤ {t:,}", "met" if v <= t else "**missed**"])
    for r in pre:
        v, worst = float(r["net_of_empty_body"]), int(r["gross_max"]) - float(r["empty_body_mean"])
        body.append([f"`predict(x)` instructions with the call, {r['leaves']} leaves (mean; worst sample)",
                     f"{v:,.0f}; {worst:,.0f}", f"≤ {TARGET_PREDICT:,}",
                     ("met" if v <= TARGET_PREDICT else "**missed**") + ("" if worst <= TARGET_PREDICT
                                                                          else " (worst sample above)")])
    if not body:
        return ""
    return "\n\n".join(["### Footprint targets on the Cortex-M0 (MICROBIT)",
                        "From the footprint issue; figures from the tables below (reasons for misses: "
                        "*Where a target is missed, and why*).",
                        _table(["what", "measured", "target", ""], body)])


def dsp(res: Path) -> str:
    """Float vs Q15 DSP instructions on the Cortex-M0 (results/boards_m0_dsp.csv)."""
    rows = read_rows(res, "boards_m0_dsp.csv")
    if not rows:
        return ""
    body = []
    for r in rows:
        ratio = r["q15_over_float"]
        verdict = "" if not ratio else ("met" if float(ratio) <= TARGET_Q15_RATIO else "**missed**")
        body.append([r["work"], f"`{r['float_call']}` {_n(r['float_instructions'])}",
                     f"`{r['q15_call']}` {_n(r['q15_instructions'])}",
                     f"{float(ratio):.3f}× (target ≤ {TARGET_Q15_RATIO}×: {verdict})" if ratio else r["note"]])
    return "\n\n".join([
        "### Float vs Q15 DSP on the Cortex-M0 (MICROBIT)",
        "Instructions per call with the call itself, net of an empty body, heap locked "
        "(`benchmarks/boards/device/dsp_insns.py`; the float modules pay a soft-float helper call per "
        "operation, the Q15 ones use integer instructions only). `bench_boards.py --only-dsp` measures "
        "just this table.",
        _table(["work", "float32", "Q15", "Q15 / float"], body)])


def section(res: Path) -> str:
    run = {r["what"]: r["value"] for r in (read_rows(res, "boards_run.csv") or [])}
    head = ("## Real firmware (`make bench-boards FIRMWARE=...`)\n\n"
            "Unmodified MicroPython `ports/qemu` firmware on five emulated boards (docs/boards.md), the "
            "modules and models reached through `mpremote mount` exactly as on a board, one board at a time; "
            "method and device scripts: `benchmarks/boards/README.md`.")
    if not run:
        return head + "\n\n" + f"Not measured: {HOWTO}."
    info = _table(["", ""], [[k, v] for k, v in run.items()])
    return "\n\n".join(t for t in [head, info, targets(res), imports(res), models(res), predict(res, run),
                                    dsp(res), seed_chart(res)] if t)
