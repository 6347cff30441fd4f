"""`make bench-cores`: instructions per call on an emulated Cortex-M0, our cores/ vs emlearn's C.

Both sides are compiled by arm-none-eabi-gcc -mcpu=cortex-m0 -mthumb -Os (tools/m0emu.py) and run in
unicorn; every measured result is checked against scikit-learn / scipy / numpy first, so no
broken code is ever timed. Writes benchmarks/results/cores.csv (raw counts) and
benchmarks/results/cores.md (the table for benchmarks/README.md). See README.md here.

Depends on: numpy, scipy, scikit-learn, emlearn (its converter and its eml_*.h headers), emlmpy
(our converter), unicorn, pyelftools, arm-none-eabi-gcc + newlib. Run from the repo root:
    PYTHONPATH=tools:toolchain .venv/bin/python benchmarks/cores/bench.py
"""
from __future__ import annotations

import argparse
import csv
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import m0emu as m0
import numpy as np
import toolreg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORES = ROOT / "cores"
RESULTS = ROOT / "benchmarks" / "results"
BUILD = ROOT / "build" / "bench-cores"

N_SAMPLES = 50  # tree test samples averaged
KNN_ITEMS, KNN_FEATURES, KNN_K, KNN_QUERIES = 100, 10, 5, 20
IIR_SAMPLES = 1000
FFT_SIZES = (256, 1024)
SEED = 1
EXTRA_FLAGS = ["-std=c99", "-ffp-contract=off"]  # both sides
TREES_SOURCES = ("emlc_trees.c", "emlc_trees_check.c", "emlc_f64.c", "emlc_load.c", "emlc_common_sf.c")  # as emltrees links them


def f32(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float32).tobytes()


def i16(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.int16).tobytes()


FAILURES: list[str] = []
PROFILE = False  # --profile: print where the first call of each measured function spends instructions
_CHECKED: set[tuple[int, str, int]] = set()


def verify(what: str, ok: bool) -> None:
    print(f"  check {what}: {'ok' if ok else 'FAILED'}")
    if not ok:
        FAILURES.append(what)


def measure(machine: m0.M0, fn: str, *args: int) -> tuple[int, int]:
    """(r0, instructions) of one call. The first call of each function (and first argument, e.g.
    each tree model) on each machine is first run
    counted per instruction, memory is restored, then it is run counted per block: both counts
    (and results) must agree."""
    exact = None
    key = (id(machine), fn, args[0] if args else 0)
    if key not in _CHECKED:
        _CHECKED.add(key)
        state = machine.snapshot()
        exact = machine.count_exact(fn, *args)
        machine.restore(state)
    r, n = machine.count(fn, *args)
    if exact is not None:
        verify(f"{fn}: per-instruction count == per-block count ({exact[1]} vs {n})", exact == (r, n))
        if PROFILE:
            state = machine.snapshot()
            prof = machine.profile(fn, *args)
            machine.restore(state)
            top = sorted(prof.items(), key=lambda kv: -kv[1])[:8]
            print(f"    profile {fn}: " + ", ".join(f"{k} {v}" for k, v in top))
    return r, n


@dataclass
class Row:
    op: str
    variant: str
    ours: float
    emlearn: float | None
    target: float | None  # max ratio ours/emlearn asked for, None = informational
    n_calls: int
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.emlearn is None else self.ours / self.emlearn


# ---------------------------------------------------------------------------------------- trees
MODEL_STRUCT_BYTES = 256  # room for an emlc_trees_t (52 bytes on a 32-bit target); the tail is a guard
GUARD = 0xA5


def load_model(machine: m0.M0, blob: bytes) -> int:
    """Our model in emulated RAM as a device loads it (src/emltrees): the binary file (docs/model-format.md
    §2, format version 2) is copied into RAM, emlc_load_header fills the counts of an emlc_trees_t,
    emlc_trees_bind points its arrays into the block after the 32-byte header, and emlc_load_check
    (padding + emlc_trees_validate) must accept it. Returns the address of the emlc_trees_t."""
    addr = machine.alloc(blob)  # 8-aligned, so the block at +32 is 4-aligned as emlc_trees_bind needs
    model = machine.alloc(bytes([GUARD]) * MODEL_STRUCT_BYTES)
    file_bytes, err = machine.alloc(4), machine.alloc(8)
    rc = machine.call("emlc_load_header", addr, model, file_bytes, err)
    assert rc == 0, f"emlc_load_header: {rc}"
    assert struct.unpack("<I", machine.read(file_bytes, 4))[0] == len(blob), "file size"
    machine.call("emlc_trees_bind", model, addr + 32)
    assert machine.call("emlc_load_check", model, addr + 32, err) == 0, "emlc_load_check"
    assert machine.call("emlc_trees_validate", model, 0) == 0, "emlc_trees_validate"
    tail = machine.read(model + MODEL_STRUCT_BYTES - 64, 64)
    assert tail == bytes([GUARD]) * 64, "emlc_trees_t larger than MODEL_STRUCT_BYTES - 64"
    return model


def sklearn_paths_agree(est, X: np.ndarray) -> np.ndarray:
    """Per sample: True when every tree sends it to the same leaf under `x < t` (emlearn's rule)
    as under scikit-learn's `x <= t`, i.e. no visited node has a threshold equal to the input."""
    ok = np.ones(len(X), dtype=bool)
    for e in est.estimators_:
        t = e.tree_
        for s, x in enumerate(X):
            n = 0
            while t.children_left[n] != -1:
                v, th = x[t.feature[n]], t.threshold[n]
                if v == th:
                    ok[s] = False
                n = t.children_left[n] if v <= th else t.children_right[n]
    return ok


def tree_leaf_proportions(est, X: np.ndarray) -> list[np.ndarray]:
    """Per tree: the class proportions (n_samples, n_classes) of the leaf each sample reaches,
    from scikit-learn's own tree arrays."""
    out = []
    for e in est.estimators_:
        v = e.tree_.value[e.tree_.apply(X.astype(np.float32)), 0, :].astype(np.float64)
        out.append(v / v.sum(axis=1, keepdims=True))
    return out


def references(est, X: np.ndarray) -> dict[str, np.ndarray]:
    """Expected class index per sample for each leaf encoding, computed from scikit-learn's trees
    (docs/model-format.md §1 "Aggregation" for ours).
    hard: majority of the trees' argmax classes (ties: lowest class);
    proba: scikit-learn's predict (mean of float proportions);
    proba8: first argmax of fl64(sum over trees, in order, of count/255) / n_trees in float64, with
    count = rint(p*255) (emlmpy's leaf_bits=8: PROBA leaves over w = 255);
    eml8: float32 sum of byte/255 with emlearn's byte quantization (its quantize_probabilities_into_byte);
    emlearn's loadable C divides the sums by n_trees before the argmax, inline does not."""
    from emlearn.trees import quantize_probabilities_into_byte

    props = tree_leaf_proportions(est, X)
    n, k = len(X), len(est.classes_)
    votes = np.zeros((n, k), dtype=np.int64)
    s8 = np.zeros((n, k), dtype=np.float64)
    e8 = np.zeros((n, k), dtype=np.float32)
    for p in props:
        votes[np.arange(n), np.argmax(p, axis=1)] += 1
        s8 += np.rint(p * 255.0) / 255.0
        qe = np.stack([quantize_probabilities_into_byte(row) for row in p])
        e8 += qe.astype(np.float32) / np.float32(255.0)
    proba = np.searchsorted(est.classes_, est.predict(X))
    return dict(hard=np.argmax(votes, axis=1), proba=proba, proba8=np.argmax(s8 / len(props), axis=1),
                eml8_inline=np.argmax(e8, axis=1), eml8_loadable=np.argmax(e8 / np.float32(len(props)), axis=1))


LEAF_VARIANTS = {  # our leaf kind -> (emlmpy leaf_bits, emlearn leaf_bits to compare with, label)
    "class": (0, 0, "hard vote: ours CLASS leaves vs emlearn leaf_bits=0"),
    "proba8": (8, 8, "soft vote, 8-bit leaves: ours PROBA8 vs emlearn leaf_bits=8"),
    "proba": (None, 8, "soft vote: ours PROBA (exact proportions, default; = sklearn predict) vs emlearn leaf_bits=8"),
}


def nodes_visited(est, X: np.ndarray) -> np.ndarray:
    """Decision nodes visited per sample, summed over the forest's trees (scikit-learn's walk)."""
    total = np.zeros(len(X), dtype=np.int64)
    for e in est.estimators_:
        total += np.asarray(e.tree_.decision_path(X.astype(np.float32)).sum(axis=1)).ravel() - 1  # minus the leaf
    return total


# Hard-vote trees: least-squares fit instructions = per_node * nodes visited + fixed, per side.
NODE_FITS: list[tuple[str, str, float, float]] = []


def bench_trees(ours: m0.M0, eml: m0.M0, data: dict) -> list[Row]:
    est, X = data["est"], data["X"]
    ref = references(est, X)
    visited = nodes_visited(est, X)
    cls = ours.alloc(4)
    xf = [f32(x) for x in X]
    rows = []
    for dtype in ("float", "int16"):
        xs = xf if dtype == "float" else [i16(x) for x in X]  # int16: the quantization is the identity (prepare_trees)
        obuf, ebuf = ours.alloc(len(xs[0])), eml.alloc(len(xs[0]))
        emean = {}
        for eml_bits in (0, 8):
            fn = f"eml_{'f32' if dtype == 'float' else 'i16'}_lb{eml_bits}_predict"
            preds, counts = [], []
            for b in xs:
                eml.write(ebuf, b)
                r, n = measure(eml, fn, ebuf, est.n_features_in_)
                preds.append(r)
                counts.append(n)
            expect = ref["hard"] if eml_bits == 0 else ref["eml8_inline" if dtype == "float" else "eml8_loadable"]
            verify(f"emlearn trees {dtype} leaf_bits={eml_bits} predictions", np.array_equal(preds, expect))
            emean[eml_bits] = float(np.mean(counts))
            if eml_bits == 0:
                NODE_FITS.append((dtype, "emlearn", *np.polyfit(visited, counts, 1)))
        for kind, (_, eml_bits, label) in LEAF_VARIANTS.items():
            model = data["ours_models"][f"{dtype}_{kind}"]
            preds, counts = [], []
            for b in xs:
                ours.write(obuf, b)
                # emlc_trees_predict(m, x, out = NULL, n_out = 0, &class): the class only, as predict(x)
                r, n = measure(ours, "emlc_trees_predict", model, obuf, 0, 0, cls)
                assert r == 0, r
                preds.append(struct.unpack("<i", ours.read(cls, 4))[0])
                counts.append(n)
            verify(f"ours trees {dtype} {kind} predictions", np.array_equal(preds, ref["hard" if kind == "class" else kind]))
            if kind == "class":
                NODE_FITS.append((dtype, "ours", *np.polyfit(visited, counts, 1)))
            target = (0.5 if dtype == "float" else 1.0) if kind == "class" else None
            inputs = "float32 inputs" if dtype == "float" else "int16 inputs"
            rows.append(Row("RF digits predict", f"{inputs}, {label}", float(np.mean(counts)), emean[eml_bits],
                            target, len(xs)))
    return rows


# ---------------------------------------------------------------------------------------- k-NN
def bench_knn(ours: m0.M0, eml: m0.M0) -> list[Row]:
    from sklearn.datasets import make_classification
    from sklearn.neighbors import KNeighborsClassifier

    X, y = make_classification(n_samples=KNN_ITEMS + KNN_QUERIES, n_features=KNN_FEATURES, n_informative=6,
                               n_classes=4, random_state=SEED)
    Xq = np.round(X * 1000).astype(np.int16)  # int16 features, |x| < ~6000: no overflow in emlearn's uint32 sum
    train, test, ytr = Xq[:KNN_ITEMS], Xq[KNN_ITEMS:], y[:KNN_ITEMS]
    ref = KNeighborsClassifier(n_neighbors=KNN_K, algorithm="brute").fit(train.astype(np.float64), ytr)
    expect = ref.predict(test.astype(np.float64))

    # ours
    m = ours.alloc(64)
    data = ours.alloc(KNN_ITEMS * KNN_FEATURES * 2)
    labels = ours.alloc(KNN_ITEMS * 2)
    assert ours.call("emlc_knn_init", m, 1, KNN_FEATURES, KNN_ITEMS, data, KNN_ITEMS * KNN_FEATURES,
                     labels, KNN_ITEMS) == 0
    row = ours.alloc(KNN_FEATURES * 2)
    for x, lab in zip(train, ytr):
        ours.write(row, i16(x))
        assert ours.call("emlc_knn_add_i16", m, row, KNN_FEATURES, int(lab)) == 0
    results = ours.alloc(16 * KNN_K)
    label = ours.alloc(4)
    # emlearn
    assert eml.call("bench_knn_setup", KNN_FEATURES, KNN_ITEMS, KNN_K) == 0
    erow = eml.alloc(KNN_FEATURES * 2)
    for x, lab in zip(train, ytr):
        eml.write(erow, i16(x))
        assert eml.call("bench_knn_add", erow, KNN_FEATURES, int(lab)) == 0
    eout = eml.alloc(4)
    model, dist = eml.sym("bench_knn_model"), eml.sym("bench_knn_dist")

    got_o, got_e, n_o, n_e = [], [], [], []
    for i, x in enumerate(test):
        ours.write(row, i16(x))
        args = (m, row, KNN_FEATURES, KNN_K, results, label)
        r, n = measure(ours, "emlc_knn_predict_i16", *args)
        assert r == 0
        got_o.append(struct.unpack("<h", ours.read(label, 2))[0])
        n_o.append(n)
        eml.write(erow, i16(x))
        args = (model, erow, KNN_FEATURES, dist, KNN_ITEMS, eout)
        r, n = measure(eml, "eml_neighbors_predict", *args)
        assert r == 0
        got_e.append(struct.unpack("<h", eml.read(eout, 2))[0])
        n_e.append(n)
    verify("ours k-NN", np.array_equal(got_o, expect))
    verify("emlearn k-NN", np.array_equal(got_e, expect))
    return [Row("k-NN predict", f"int16, {KNN_ITEMS} items x {KNN_FEATURES} features, k={KNN_K}",
                float(np.mean(n_o)), float(np.mean(n_e)), 1.0, len(test))]


# ---------------------------------------------------------------------------------------- IIR
def bench_iir(ours: m0.M0, eml: m0.M0) -> list[Row]:
    from scipy import signal

    sos = signal.butter(4, 0.1, output="sos").astype(np.float32)
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(IIR_SAMPLES).astype(np.float32)
    expect = signal.sosfilt(sos.astype(np.float64), x.astype(np.float64))
    tol = 1e-4 * np.max(np.abs(expect))

    f, st = ours.alloc(32), ours.alloc(4 * 2 * len(sos))
    s = ours.alloc(f32(sos))
    assert ours.call("emlc_iir_init", f, s, sos.size, len(sos), st, 2 * len(sos)) == 0
    xin, yout = ours.alloc(f32(x)), ours.alloc(4 * IIR_SAMPLES)
    r, n_o = measure(ours, "emlc_iir_process", f, xin, yout, IIR_SAMPLES)
    assert r == 0
    y_o = np.frombuffer(ours.read(yout, 4 * IIR_SAMPLES), dtype=np.float32)
    verify("ours IIR", np.max(np.abs(y_o - expect)) <= tol)

    es = eml.alloc(f32(sos))
    assert eml.call("bench_iir_setup", es, len(sos)) == 0
    exin, eyout = eml.alloc(f32(x)), eml.alloc(4 * IIR_SAMPLES)
    _, n_e = measure(eml, "bench_iir_run", exin, eyout, IIR_SAMPLES)
    y_e = np.frombuffer(eml.read(eyout, 4 * IIR_SAMPLES), dtype=np.float32)
    verify("emlearn IIR", np.max(np.abs(y_e - expect)) <= tol)
    return [Row("IIR filter", f"float32, 4th order ({len(sos)} sections), {IIR_SAMPLES} samples",
                float(n_o), float(n_e), 1.0, 1, "emlearn: one eml_iir_filter call per sample (its API), in a loop")]


# ---------------------------------------------------------------------------------------- FFT
def bench_fft(ours: m0.M0, eml: m0.M0) -> list[Row]:
    rows = []
    for n in FFT_SIZES:
        rng = np.random.default_rng([SEED, n])  # per size: a row's data does not depend on other rows
        z = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
        expect = np.fft.fft(z.astype(np.complex128))
        tol = 1e-5 * np.sqrt(n) * np.log2(n) * np.max(np.abs(expect))

        f = ours.alloc(32)
        table = ours.alloc(4 * (3 * n // 4))
        assert ours.call("emlc_fft_init", f, table, 3 * n // 4, n) == 0
        re, im = ours.alloc(f32(z.real)), ours.alloc(f32(z.imag))
        r, n_o = measure(ours, "emlc_fft_forward", f, re, im, n)
        assert r == 0
        got = (np.frombuffer(ours.read(re, 4 * n), np.float32)
               + 1j * np.frombuffer(ours.read(im, 4 * n), np.float32))
        verify(f"ours FFT {n}", np.max(np.abs(got - expect)) <= tol)

        assert eml.call("bench_fft_setup", n) == 0
        tab = eml.sym("bench_fft")
        length, sin_p, cos_p = struct.unpack("<iII", eml.read(tab, 12))
        ere, eim = eml.alloc(f32(z.real)), eml.alloc(f32(z.imag))
        # eml_fft_forward(EmlFFT table /* by value: r0-r2 */, real, imag, n)
        r, n_e = measure(eml, "eml_fft_forward", length, sin_p, cos_p, ere, eim, n)
        assert r == 0
        got = (np.frombuffer(eml.read(ere, 4 * n), np.float32)
               + 1j * np.frombuffer(eml.read(eim, 4 * n), np.float32))
        verify(f"emlearn FFT {n}", np.max(np.abs(got - expect)) <= tol)
        rows.append(Row("FFT forward", f"complex float32, n={n}", float(n_o), float(n_e), 1.0, 1))

        # Real input (informational): our rfft (n/2-point complex FFT + split) against what emlearn
        # offers for it, its complex FFT with a zero imaginary part.
        x = rng.standard_normal(n).astype(np.float32)
        rexpect = np.fft.rfft(x.astype(np.float64))
        rtol = 1e-5 * np.sqrt(n) * np.log2(n) * np.max(np.abs(rexpect))
        xin, rre, rim = ours.alloc(f32(x)), ours.alloc(4 * (n // 2 + 1)), ours.alloc(4 * (n // 2 + 1))
        r, n_o = measure(ours, "emlc_fft_rfft", f, xin, n, rre, rim, n // 2 + 1)
        assert r == 0
        got = (np.frombuffer(ours.read(rre, 4 * (n // 2 + 1)), np.float32)
               + 1j * np.frombuffer(ours.read(rim, 4 * (n // 2 + 1)), np.float32))
        verify(f"ours rfft {n}", np.max(np.abs(got - rexpect)) <= rtol)
        eml.write(ere, f32(x))
        eml.write(eim, bytes(4 * n))
        r, n_e = measure(eml, "eml_fft_forward", length, sin_p, cos_p, ere, eim, n)
        assert r == 0
        got = (np.frombuffer(eml.read(ere, 4 * n), np.float32)
               + 1j * np.frombuffer(eml.read(eim, 4 * n), np.float32))[: n // 2 + 1]
        verify(f"emlearn FFT {n} of real input", np.max(np.abs(got - rexpect)) <= rtol)
        rows.append(Row("FFT of real input", f"float32, n={n}: ours emlc_fft_rfft vs emlearn complex FFT, imag = 0",
                        float(n_o), float(n_e), None, 1, "emlearn has no real-input FFT"))
    return rows


# ---------------------------------------------------------------------------------------- main
def prepare_trees() -> dict:
    """Forest on digits (pixel values x2, see README: makes every split threshold an integer, which
    emlearn's int16 converter needs to be exact), converted by emlmpy and by emlearn."""
    import emlearn
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    import emlmpy

    X, y = load_digits(return_X_y=True)
    X = X * 2.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=SEED)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=SEED).fit(Xtr, ytr)
    ok = sklearn_paths_agree(est, Xte)
    Xs = Xte[ok][:N_SAMPLES]
    assert len(Xs) == N_SAMPLES, "not enough test samples without threshold ties"
    ours = {f"{dt}_{kind}": emlmpy.convert(est, dtype=dt, leaf_bits=v[0])
            for dt in ("float", "int16") for kind, v in LEAF_VARIANTS.items()}
    for kind in LEAF_VARIANTS:
        q = ours[f"int16_{kind}"]
        assert np.array_equal(q.quantize(Xs), Xs.astype(np.int16)), "expected identity quantization"
    gen_f32 = "\n".join(emlearn.convert(est, method="inline", dtype="float", leaf_bits=lb)
                         .save(format="c", name=f"eml_f32_lb{lb}") for lb in (0, 8))
    gen_i16 = "\n".join(emlearn.convert(est, method="loadable", dtype="int16_t", leaf_bits=lb)
                         .save(format="c", name=f"eml_i16_lb{lb}") for lb in (0, 8))
    return dict(est=est, X=Xs, ours=ours, mean_visited=float(nodes_visited(est, Xs).mean()), gen_f32=gen_f32, gen_i16=gen_i16,
                n_nodes=int(sum(e.tree_.node_count for e in est.estimators_)), n_tied=int((~ok).sum()), n_test=len(ok))


def build_all(trees: dict) -> tuple[m0.M0, m0.M0, m0.M0]:
    import emlearn

    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "eml_trees_f32.c").write_text(trees["gen_f32"])
    (BUILD / "eml_trees_i16.c").write_text(trees["gen_i16"])
    # Each side of ours is linked as its module is (Makefile): trees with emlc_f64.c (exact float64 sums
    # at near ties) and emlc_common_sf.c (float32 + - * /, int<->float conversions: our own helpers),
    # plus emlc_load.c, which puts the binary model files into RAM as the device does (setup, not
    # counted); k-NN, IIR and FFT with emlc_common_sf.c, as emlneighbors, emliir and emlfft link it.
    ours_src = [CORES / s for s in TREES_SOURCES]
    ours_elf = m0.build(ours_src, BUILD / "ours.elf", includes=[CORES], extra=EXTRA_FLAGS)
    dsp_src = [CORES / s for s in ("emlc_common_sf.c", "emlc_knn.c", "emlc_iir.c", "emlc_fft.c")]
    dsp_elf = m0.build(dsp_src, BUILD / "ours_dsp.elf", includes=[CORES], extra=EXTRA_FLAGS)
    eml_elf = m0.build([HERE / "eml_harness.c", BUILD / "eml_trees_f32.c", BUILD / "eml_trees_i16.c"],
                       BUILD / "emlearn.elf", includes=[Path(emlearn.includedir)],
                       extra=EXTRA_FLAGS)
    return m0.M0(ours_elf), m0.M0(dsp_elf), m0.M0(eml_elf)


def fmt_int(v: float) -> str:
    return f"{v:,.0f}"


def write_results(rows: list[Row], meta: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "cores.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["operation", "variant", "ours_instructions", "emlearn_instructions", "ratio", "target",
                    "meets_target", "calls_averaged", "note"])
        for r in rows:
            meets = "" if r.target is None or r.ratio is None else ("yes" if r.ratio <= r.target else "no")
            w.writerow([r.op, r.variant, f"{r.ours:.1f}", "" if r.emlearn is None else f"{r.emlearn:.1f}",
                        "" if r.ratio is None else f"{r.ratio:.3f}", "" if r.target is None else r.target,
                        meets, r.n_calls, r.note])
    lines = [
        "| operation | variant | ours (instr.) | emlearn (instr.) | ours / emlearn | target | met |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        meets = "—" if r.target is None or r.ratio is None else ("yes" if r.ratio <= r.target else "**no**")
        lines.append(f"| {r.op} | {r.variant} | {fmt_int(r.ours)} | "
                     f"{'—' if r.emlearn is None else fmt_int(r.emlearn)} | "
                     f"{'—' if r.ratio is None else f'{r.ratio:.2f}×'} | "
                     f"{'—' if r.target is None else f'≤ {r.target}×'} | {meets} |")
    lines += ["", f"Hard-vote trees, instructions ≈ per node × nodes visited + fixed (least-squares fit over the "
              f"{N_SAMPLES} samples; {meta['mean_visited']:.1f} nodes visited per prediction on average, 10 trees):", "",
              "| inputs | side | per visited node | fixed per prediction |", "|---|---|---:|---:|"]
    for dtype, side, slope, icpt in NODE_FITS:
        lines.append(f"| {'float32' if dtype == 'float' else 'int16'} | {side} | {slope:.1f} | {icpt:,.0f} |")
    lines += [
        "",
        f"Instructions executed per call on an emulated Cortex-M0 (unicorn), both sides built with "
        f"`{' '.join(m0.GCC + m0.OPT + EXTRA_FLAGS)}` ({meta['gcc']}), soft float from libgcc's thumb/v6-m/nofp multilib "
        f"(emlearn) or `cores/emlc_common_sf.c` (ours, as our modules link it: add, subtract, multiply, divide "
        f"and int/float conversions; libgcc for the rest); "
        f"emlearn {meta['emlearn']}; cores/ at commit {meta['cores_rev']}. Trees: RandomForestClassifier(n_estimators=10, max_leaf_nodes=100) on "
        f"digits ×2 ({meta['n_nodes']} scikit-learn nodes; ours: model format version 2, the binary files loaded "
        f"into RAM with `emlc_load_header` + `emlc_trees_bind`, {meta['ours_sizes']}; "
        f"`emlc_trees_predict(m, x, NULL, 0, &class)`), mean over the first {N_SAMPLES} test samples on which no visited "
        f"threshold equals the input ({meta['n_tied']} of {meta['n_test']} test samples have such a tie and are "
        f"skipped: emlearn's `<` and scikit-learn's `<=` differ there); k-NN: mean over "
        f"{KNN_QUERIES} queries. Every result was checked against scikit-learn / scipy / numpy before counting. "
        f"Method and caveats: `benchmarks/cores/README.md`. Generated by `make bench-cores`.",
    ]
    (RESULTS / "cores.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", action="store_true",
                    help="print instructions per function for the first call of each measured function")
    global PROFILE
    PROFILE = ap.parse_args(argv).profile
    import subprocess

    import emlearn

    t0 = time.time()
    print("bench-cores: training and converting ...")
    trees = prepare_trees()
    print("bench-cores: building for cortex-m0 ...")
    ours, ours_dsp, eml = build_all(trees)
    trees["ours_models"] = {k: load_model(ours, m.save(format="bin")) for k, m in trees["ours"].items()}
    rows: list[Row] = []
    print("bench-cores: trees")
    rows += bench_trees(ours, eml, trees)
    print("bench-cores: k-NN")
    rows += bench_knn(ours_dsp, eml)
    print("bench-cores: IIR")
    rows += bench_iir(ours_dsp, eml)
    print("bench-cores: FFT")
    rows += bench_fft(ours_dsp, eml)
    if FAILURES:
        print("bench-cores: verification FAILED, no results written:", ", ".join(FAILURES))
        return 1
    gcc = subprocess.run([toolreg.which(m0.GCC[0]), "-dumpversion"], capture_output=True, text=True).stdout.strip()
    git = toolreg.which("git")
    head = subprocess.run([git, "log", "-1", "--format=%h", "--", "cores"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip() or "unknown"
    dirty = subprocess.run([git, "status", "--porcelain", "--", "cores"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    cores_rev = f"{head}{' + uncommitted changes' if dirty else ''}"
    sizes = "; ".join(f"{k.replace('_', ' ')}: {m.n_nodes} nodes, {m.n_payloads} payloads, {m.device_bytes:,} bytes"
                      for k, m in trees["ours"].items())
    write_results(rows, dict(gcc=f"gcc {gcc}", emlearn=emlearn.__version__, n_nodes=trees["n_nodes"], ours_sizes=sizes,
                       n_tied=trees["n_tied"], n_test=trees["n_test"], mean_visited=trees["mean_visited"],
                       cores_rev=cores_rev))
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
        print(f"  {r.op:18s} {r.variant:60.60s} ours {r.ours:12,.0f}  emlearn "
              f"{(r.emlearn or 0):12,.0f}  {ratio}")
    print(f"bench-cores: wrote {RESULTS / 'cores.csv'} and {RESULTS / 'cores.md'} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
