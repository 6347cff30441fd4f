"""DSP and k-NN benchmark on the unix port: emlfft / emliir / emlneighbors against straightforward
pure-MicroPython implementations of the same maths, all in one run of one binary. The Q15 modules
(emliir_q15, emlfft_q15) are measured too, against the same maths in Python integers, when their .mpy
are built (optional rows; their point is chips without an FPU: bench_boards.py's section 5).

Writes results/dsp.csv.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import tempfile
from pathlib import Path

import toolreg  # the project's tool registry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

MICROPYTHON = toolreg.which("micropython")
RESULTS = HERE / "results"

DEVICE_SCRIPT = r'''
import array, gc, json, math, time
import emlfft, emliir, emlneighbors

def timed(fn, reps):
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(reps):
        fn()
    return time.ticks_diff(time.ticks_us(), t0) / reps

# ---- FFT: iterative radix-2 with precomputed twiddles (pure Python)
def py_fft_tables(n):
    return [math.cos(-2 * math.pi * k / n) for k in range(n // 2)], [math.sin(-2 * math.pi * k / n) for k in range(n // 2)]

# The radix-2 schedule both pure-Python FFTs share (float here, Q15 below; only their butterflies
# differ): bit-reverse re and im in place, then yield each stage as (half, step): butterflies pair
# m and m + half in groups of 2 half, twiddle index stepping by step. One yield per stage (log2 n
# per transform): a yield per group allocates a tuple each time, which cost the Q15 loop (no other
# allocation) 3.5 times its time on the unix port.
def py_fft_stages(re, im):
    n = len(re)
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            re[i], re[j] = re[j], re[i]
            im[i], im[j] = im[j], im[i]
    half = 1
    while half < n:
        yield half, n // (2 * half)
        half *= 2

def py_fft(re, im, cos_t, sin_t):
    for half, step in py_fft_stages(re, im):
        for start in range(0, len(re), 2 * half):
            k = 0
            for m in range(start, start + half):
                wr = cos_t[k]; wi = sin_t[k]
                tr = wr * re[m + half] - wi * im[m + half]
                ti = wr * im[m + half] + wi * re[m + half]
                re[m + half] = re[m] - tr; im[m + half] = im[m] - ti
                re[m] += tr; im[m] += ti
                k += step

res = []
for n in (64, 256, 1024):
    x = [math.sin(0.1 * i) + 0.5 * math.cos(0.37 * i) for i in range(n)]
    f = emlfft.FFT(n)
    re = array.array("f", x); im = array.array("f", [0.0] * n)
    reps = max(5, 20000 // n)
    t_c = timed(lambda: f.run(re, im), reps)
    ct, st = py_fft_tables(n)
    pre = list(x); pim = [0.0] * n
    t_py = timed(lambda: py_fft(pre, pim, ct, st), max(2, reps // 20))
    res.append(["fft", "n=%d" % n, t_c, t_py])

# ---- IIR: 4th order (two sections), 10000 samples
sos = [0.0004165992, 0.0008331984, 0.0004165992, 1.0, -1.5610181, 0.6413515,
       1.0, 2.0, 1.0, 1.0, -1.7786318, 0.8008026]
sig = [math.sin(0.05 * i) for i in range(10000)]
filt = emliir.new(array.array("f", sos))
buf = array.array("f", sig)
t_c = timed(lambda: filt.run(buf), 5)

def py_iir(x, sos, state):
    ns = len(sos) // 6
    for i in range(len(x)):
        v = x[i]
        for s in range(ns):
            b0, b1, b2, a0, a1, a2 = sos[6 * s:6 * s + 6]
            z0 = state[2 * s]; z1 = state[2 * s + 1]
            y = b0 * v + z0
            state[2 * s] = b1 * v - a1 * y + z1
            state[2 * s + 1] = b2 * v - a2 * y
            v = y
        x[i] = v
pbuf = list(sig)
t_py = timed(lambda: py_iir(pbuf, sos, [0.0] * 4), 1)
res.append(["iir", "4th order, 10000 samples", t_c, t_py])

# ---- Q15 (optional rows): emliir_q15 and emlfft_q15 against the same integer maths in Python
try:
    import emliir_q15, emlfft_q15
except ImportError:
    emliir_q15 = None
if emliir_q15:
    # emlmpy.iir_coefficients_q15 of the 4th-order Butterworth above: B0 B1 B2 T A1 A2 per section
    sosq = [10529, 21059, 10529, 8, -25576, 10508, 10876, 21751, 10876, 8, -29141, 13120]
    pbuf = buf = None
    sigq = array.array("h", bytes(2 * len(sig)))
    for i in range(len(sig)):
        sigq[i] = int(16000 * sig[i])
    fq = emliir_q15.new(array.array("h", sosq))
    t_c = timed(lambda: fq.run(sigq), 5)

    def py_iir_q15(x, sos, st):
        for s in range(len(sos) // 6):
            b0, b1, b2, t, a1, a2 = sos[6 * s:6 * s + 6]
            x1, x2, y1, y2 = st[4 * s:4 * s + 4]
            for i in range(len(x)):
                v = x[i]
                y = (((b0 * v + b1 * x1 + b2 * x2) >> t) - ((a1 * y1 + a2 * y2) >> 3) + 1024) >> 11
                y = 32767 if y > 32767 else (-32768 if y < -32768 else y)
                x2 = x1; x1 = v; y2 = y1; y1 = y
                x[i] = y
            st[4 * s:4 * s + 4] = [x1, x2, y1, y2]
    pq = list(sigq)
    t_py = timed(lambda: py_iir_q15(pq, sosq, [0] * 8), 1)
    res.append(["iir_q15", "4th order, 10000 samples", t_c, t_py])

    n = 256
    ct, st = py_fft_tables(n)
    cq = [int(round(32767 * v)) for v in ct]
    sq = [int(round(32767 * v)) for v in st]
    xq = [int(16000 * (math.sin(0.1 * i) + 0.5 * math.cos(0.37 * i)) / 1.5) for i in range(n)]
    g = emlfft_q15.FFT(n)
    re = array.array("h", xq); im = array.array("h", [0] * n)
    t_c = timed(lambda: g.run(re, im), 200)

    def py_fft_q15(re, im, cos_t, sin_t):
        for half, step in py_fft_stages(re, im):
            for start in range(0, len(re), 2 * half):
                k = 0
                for m in range(start, start + half):
                    wr = cos_t[k]; wi = sin_t[k]
                    tr = (wr * re[m + half] - wi * im[m + half]) >> 1
                    ti = (wr * im[m + half] + wi * re[m + half]) >> 1
                    ar = re[m] * 16384 + 16384; ai = im[m] * 16384 + 16384
                    re[m + half] = (ar - tr) >> 15; im[m + half] = (ai - ti) >> 15
                    re[m] = (ar + tr) >> 15; im[m] = (ai + ti) >> 15
                    k += step
    pre = list(xq); pim = [0] * n
    t_py = timed(lambda: py_fft_q15(pre, pim, cq, sq), 10)
    res.append(["fft_q15", "n=%d" % n, t_c, t_py])

# ---- k-NN: 100 items x 10 features, k = 5
import random
random.seed(1)
items = [[random.randint(-1000, 1000) for _ in range(10)] for _ in range(100)]
labels = [i % 3 for i in range(100)]
knn = emlneighbors.new(100, 10, 5, "h")
for it, lb in zip(items, labels):
    knn.additem(array.array("h", it), lb)
q = [random.randint(-1000, 1000) for _ in range(10)]
qa = array.array("h", q)
t_c = timed(lambda: knn.predict(qa), 200)

def py_knn(items, labels, q, k):
    d = []
    for idx in range(len(items)):
        it = items[idx]
        s = 0
        for j in range(len(q)):
            t = it[j] - q[j]
            s += t * t
        d.append((s, idx))
    d.sort()
    votes = {}
    for s, idx in d[:k]:
        votes[labels[idx]] = votes.get(labels[idx], 0) + 1
    best = max(votes.values())
    return min(l for l, c in votes.items() if c == best)
t_py = timed(lambda: py_knn(items, labels, q, 5), 20)
res.append(["knn", "100 items x 10 features, k=5", t_c, t_py])
print("RESULT " + json.dumps(res))
'''


def run() -> list[list]:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "bench.py").write_text(DEVICE_SCRIPT)
        env = dict(os.environ, MICROPYPATH=str(ROOT / "dist" / "x64"))
        proc = subprocess.run([str(MICROPYTHON), "bench.py"], cwd=t, env=env, capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"benchmark failed:\n{proc.stdout}\n{proc.stderr}")
        rows = json.loads(proc.stdout.split("RESULT ", 1)[1])
    RESULTS.mkdir(exist_ok=True)
    out = [[k, what, round(c, 2), round(p, 2), round(p / c, 1)] for k, what, c, p in rows]
    with open(RESULTS / "dsp.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["module", "case", "native_us", "pure_micropython_us", "speedup"])
        w.writerows(out)
    return out


if __name__ == "__main__":
    for row in run():
        print(row)
