"""The "How fast, how exact" bullets of the top-level README.md, rendered by report.py from the
same results/ files as benchmarks/README.md, so that the two never disagree. Missing files leave a
bullet out."""
from __future__ import annotations

from pathlib import Path

from boards.readme_section import read_rows

BEGIN = "<!-- bench-summary: begin (benchmarks/report.py writes this part) -->"
END = "<!-- bench-summary: end -->"


def _rows(res: Path, name: str) -> list[dict]:
    return read_rows(res, name) or []


def _by(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def _n(v: str | float) -> str:
    return f"{round(float(v)):,}"


def bullets(res: Path) -> list[str]:
    out = []
    chart = _by(_rows(res, "boards_chart.csv"), "method")
    ours = chart.get("emltrees.predict")
    if ours:
        per = float(ours["instructions_per_prediction"])
        others = [(m, r) for m, r in chart.items() if not m.startswith("emltrees")]
        vs = ", ".join(f"{float(r['instructions_per_prediction']) / per:.0f}× fewer than {m.split()[0]}'s "
                       f"generated Python" for m, r in sorted(others))
        out.append(f"In real MicroPython firmware on an emulated Cortex-M0 (RP2040's core), a 10-tree random "
                   f"forest on digits takes {_n(per)} instructions per `predict(x)`, call included ({vs}, "
                   f"compiled with mpy-cross), agreeing with scikit-learn's `predict` on "
                   f"{float(ours['agreement_with_sklearn']):.0%} of the test samples: float thresholds are "
                   f"exact, ties and NaN follow scikit-learn.")
    model = [r for r in _rows(res, "boards_model.csv") if r["board"] == "MICROBIT"]
    imp = _by([r for r in _rows(res, "boards_import.csv") if r["board"] == "MICROBIT"], "module")
    if model and "emltrees" in imp:
        heap = {r["leaves"]: r["heap_bin_bytes"] for r in model}
        out.append(f"Memory on that board: `import emltrees` takes {_n(imp['emltrees']['import_heap_bytes'])} "
                   f"bytes of heap, the loaded forest {_n(heap.get('class', 0))} (hard vote) or "
                   f"{_n(heap.get('proba', 0))} (default: scikit-learn's probabilities); every module's "
                   f"figure is in benchmarks/README.md.")
    ratios = _by(_rows(res, "trees_ratios.csv"), "ratio")
    load = _by(_rows(res, "trees_load.csv"), "leaves")
    if ratios and "proba" in load:
        out.append(f"On the unix port the same forest predicts "
                   f"{float(ratios['emltrees_vs_m2cgen']['value']):.0f}× faster than m2cgen's and "
                   f"{float(ratios['emltrees_vs_everywhereml']['value']):.0f}× faster than everywhereml's "
                   f"Python (net of the loop; one run on a shared machine) and loads in "
                   f"{load['proba']['load_bin_ms']} ms from the binary file, {load['proba']['load_csv_ms']} ms "
                   f"from CSV.")
    dsp = _rows(res, "dsp.csv")
    if dsp:
        sp = [float(r["speedup"]) for r in dsp if not r["module"].endswith("_q15")]
        out.append(f"FFT, IIR and k-NN run {min(sp):.0f}–{max(sp):.0f}× faster than straightforward "
                   f"MicroPython code on the unix port.")
    q15 = _rows(res, "boards_m0_dsp.csv")
    if q15:
        r = [float(x["q15_over_float"]) for x in q15]
        out.append(f"On the Cortex-M0 the integer-only Q15 IIR and FFT take {min(r):.2f}–{max(r):.2f}× the "
                   f"instructions of the float ones (no FPU: every float operation is a library call).")
    cores = _rows(res, "cores.csv")
    if cores:
        hard = next((c for c in cores if "float32 inputs, hard vote" in c["variant"]), None)
        rest = [float(c["ratio"]) for c in cores if c["operation"] in ("k-NN predict", "IIR filter", "FFT forward")]
        if hard and rest:
            out.append(f"The C cores alone on an emulated Cortex-M0 use {float(hard['ratio']):.2f}× the "
                       f"instructions of emlearn's C for float-input hard-vote trees (no soft-float call per "
                       f"node) and {min(rest):.2f}–{max(rest):.2f}× for k-NN, IIR and FFT.")
    return out


def render(readme: Path, res: Path) -> None:
    """Replace the text between the markers of `readme` with the bullets (no-op without markers)."""
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    body = "\n".join(f"- {b}" for b in bullets(res))
    readme.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
