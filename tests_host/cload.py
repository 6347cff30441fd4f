"""Build and run a small C driver around cores/emlc_load.c (streaming model-file parser).

The driver (source below, compiled into build/host/ and cached by a hash of the sources and flags)
loads each file named on its command line by feeding it to emlc_load_feed() in chunks, then
prints one line per file:

    err <code> <where> <reason>
    ok <input> <leaf_kind> <n_features> <n_outputs> <n_trees> <n_nodes> <n_leaves> [| predictions]

Predictions (when -x gives a float32 sample file): per sample `c<class>:<proba bits hex>,...`
for classifiers or `v<value bits hex>` for regressors. With -d the loaded arrays follow as
`T..`/`F..`/`C..`/`R..`/`L..`/`Q..` tokens (hex), so tests can compare them bit for bit.

Two flavours: 'asan' (-fsanitize=address,undefined, aborts on the first report) and 'plain'.
Destination arrays are malloc'ed with exactly the requested capacity, so any write past a
capacity is an ASan report.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import toolreg

ROOT = Path(__file__).resolve().parent.parent
CORES = ROOT / "cores"
BUILD = ROOT / "build" / "host"
CC = toolreg.which("gcc")
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-ffp-contract=off"]
FLAVOURS = {
    "asan": ["-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all"],
    "plain": [],
}
SOURCES = ["emlc_load.c", "emlc_trees.c", "emlc_common.c"]

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "emlc_load.h"

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static uint32_t cb_max_leaves;
static void *cb_leaves;
static float *cb_quant;
static void *get_leaves(void *ctx, uint32_t width, uint32_t n_leaves, uint32_t *bytes) {
    (void)ctx;
    (void)n_leaves;
    free(cb_leaves);
    *bytes = cb_max_leaves * width;
    cb_leaves = malloc(*bytes ? *bytes : 1);
    return cb_leaves;
}
static float *get_quant(void *ctx, uint32_t n) {
    (void)ctx;
    free(cb_quant);
    cb_quant = malloc(2 * n * sizeof(float));
    return cb_quant;
}

static int16_t quantize(float x, float scale, float offset) {
    float u = (x - offset) * scale;
    float q;
    if (u != u) return 0;
    q = floorf(u + 0.5f);
    if (q < -32768.0f) return -32768;
    if (q > 32767.0f) return 32767;
    return (int16_t)q;
}

#define CHECK(c) do { if (!(c)) { printf("selftest failed line %d: %s\n", __LINE__, #c); return 1; } } while (0)
/* API misuse: NULL pointers, misaligned leaves, sticky errors, feed after finish, finish twice. */
static int selftest(void) {
    static int32_t thr[4]; static uint16_t feat[4]; static int16_t ch[8], roots[2];
    static uint32_t leaves_words[8];
    static const char good[] = "v,1\nk,0\nf,1\no,2\nl,0\nl,1\nr,0\nn,0,5,-1,-2\n";
    emlc_load_dest_t d;
    emlc_load_t st;
    emlc_trees_t m;
    float x[1] = {7.0f};
    int32_t cls = -1;
    memset(&d, 0, sizeof(d));
    d.thresholds = thr; d.features = feat; d.children = ch; d.roots = roots;
    d.max_nodes = 4; d.max_trees = 2; d.leaves = leaves_words; d.leaves_bytes = sizeof(leaves_words);
    CHECK(emlc_load_init(NULL, &d) == EMLC_ERR_NULL);
    CHECK(emlc_load_init(&st, NULL) == EMLC_ERR_NULL);
    CHECK(emlc_load_feed(NULL, (const uint8_t *)good, 3) == EMLC_ERR_NULL);
    d.leaves = (uint8_t *)leaves_words + 1;
    CHECK(emlc_load_init(&st, &d) == EMLC_ERR_SIZE);
    d.leaves = NULL;
    CHECK(emlc_load_init(&st, &d) == EMLC_ERR_NULL);
    d.leaves = leaves_words;
    d.roots = NULL;
    CHECK(emlc_load_init(&st, &d) == EMLC_ERR_NULL);
    d.roots = roots;
    /* a good load, then misuse */
    CHECK(emlc_load_init(&st, &d) == EMLC_OK);
    CHECK(emlc_load_feed(&st, NULL, 0) == EMLC_OK);
    CHECK(emlc_load_feed(&st, (const uint8_t *)good, sizeof(good) - 1) == EMLC_OK);
    CHECK(emlc_load_finish(&st, &m) == EMLC_OK);
    CHECK(emlc_trees_predict(&m, x, &cls) == EMLC_OK && cls == 1);
    CHECK(emlc_load_feed(&st, (const uint8_t *)good, 1) == EMLC_ERR_STATE);
    CHECK(emlc_load_finish(&st, &m) == EMLC_ERR_STATE);
    CHECK(m.n_trees == 0 && m.roots == NULL && emlc_trees_validate(&m) != EMLC_OK);
    /* sticky error; model cleared */
    CHECK(emlc_load_init(&st, &d) == EMLC_OK);
    CHECK(emlc_load_feed(&st, NULL, 5) == EMLC_ERR_NULL);
    CHECK(emlc_load_feed(&st, (const uint8_t *)good, sizeof(good) - 1) == EMLC_ERR_NULL);
    CHECK(emlc_load_finish(&st, &m) == EMLC_ERR_NULL && m.roots == NULL);
    CHECK(emlc_load_init(&st, &d) == EMLC_OK);
    CHECK(emlc_load_feed(&st, (const uint8_t *)"v,2\n", 4) == EMLC_ERR_VERSION);
    CHECK(emlc_load_feed(&st, (const uint8_t *)good, sizeof(good) - 1) == EMLC_ERR_VERSION);
    CHECK(st.where == 1 && st.reason != NULL);
    CHECK(emlc_load_finish(&st, &m) == EMLC_ERR_VERSION && m.n_trees == 0);
    CHECK(emlc_load_finish(NULL, &m) == EMLC_ERR_NULL);
    CHECK(emlc_load_finish(&st, NULL) == EMLC_ERR_NULL);
    CHECK(emlc_load_parse_f32(NULL, 1, NULL) == EMLC_ERR_NULL);
    printf("selftest ok\n");
    return 0;
}

int main(int argc, char **argv) {
    long chunk = 256, caps[4] = {32767, 4096, 1 << 20, 4096};
    int use_cb = 0, dump = 0, i, a = 1;
    const char *xpath = NULL;
    float *xs = NULL;
    size_t nx = 0;
    if (argc == 2 && !strcmp(argv[1], "-selftest")) {
        return selftest();
    }
    while (a < argc && argv[a][0] == '-') {
        if (!strcmp(argv[a], "-c")) { chunk = atol(argv[a + 1]); a += 2; }
        else if (!strcmp(argv[a], "-x")) { xpath = argv[a + 1]; a += 2; }
        else if (!strcmp(argv[a], "-cap")) {
            for (i = 0; i < 4; i++) caps[i] = atol(argv[a + 1 + i]);
            a += 5;
        }
        else if (!strcmp(argv[a], "-cb")) { use_cb = 1; a++; }
        else if (!strcmp(argv[a], "-d")) { dump = 1; a++; }
        else { fprintf(stderr, "bad option %s\n", argv[a]); return 2; }
    }
    if (xpath) {
        FILE *f = fopen(xpath, "rb");
        long n;
        if (!f) { perror(xpath); return 2; }
        fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
        xs = malloc(n ? (size_t)n : 1);
        nx = fread(xs, 1, (size_t)n, f) / sizeof(float);
        fclose(f);
    }
    for (; a < argc; a++) {
        emlc_load_dest_t d;
        emlc_load_t st;
        emlc_trees_t m;
        emlc_err_t e;
        FILE *f = fopen(argv[a], "rb");
        unsigned char *buf;
        size_t n, pos = 0;
        uint32_t rng = 12345u + (uint32_t)a * 7919u;
        if (!f) { perror(argv[a]); return 2; }
        fseek(f, 0, SEEK_END); n = (size_t)ftell(f); fseek(f, 0, SEEK_SET);
        buf = malloc(n ? n : 1);
        if (fread(buf, 1, n, f) != n) { return 2; }
        fclose(f);
        memset(&d, 0, sizeof(d));
        d.max_nodes = (uint16_t)caps[0];
        d.max_trees = (uint16_t)caps[1];
        d.thresholds = caps[0] ? malloc((size_t)caps[0] * 4) : NULL;
        d.features = caps[0] ? malloc((size_t)caps[0] * 2) : NULL;
        d.children = caps[0] ? malloc((size_t)caps[0] * 4) : NULL;
        d.roots = caps[1] ? malloc((size_t)caps[1] * 2) : NULL;
        if (use_cb) {
            cb_max_leaves = (uint32_t)caps[2];
            d.get_leaves = get_leaves;
            d.get_quant = get_quant;
        } else {
            d.leaves_bytes = (uint32_t)caps[2];
            d.leaves = caps[2] ? malloc((size_t)caps[2]) : NULL;
            d.max_features = (uint16_t)caps[3];
            d.scale = caps[3] ? malloc((size_t)caps[3] * 4) : NULL;
            d.offset = caps[3] ? malloc((size_t)caps[3] * 4) : NULL;
        }
        e = emlc_load_init(&st, &d);
        /* feed in chunks: fixed size, or pseudo-random sizes 1..97 when chunk == 0 */
        while (e == EMLC_OK && pos < n) {
            size_t k;
            if (chunk > 0) {
                k = (size_t)chunk;
            } else {
                rng = rng * 1103515245u + 12345u;
                k = 1 + (rng >> 16) % 97;
            }
            if (k > n - pos) k = n - pos;
            e = emlc_load_feed(&st, buf + pos, k);
            pos += k;
        }
        if (e == EMLC_OK) e = emlc_load_finish(&st, &m);
        if (e != EMLC_OK) {
            printf("err %d %lu %s\n", (int)e, (unsigned long)st.where, st.reason);
        } else {
            size_t nf = m.n_features, s, ns = nf ? nx / nf : 0;
            const float *scale = use_cb ? cb_quant : d.scale;
            const float *offset = use_cb ? cb_quant + nf : d.offset;
            printf("ok %u %u %u %u %u %u %u", m.input, m.leaf_kind, m.n_features, m.n_outputs,
                   m.n_trees, m.n_nodes, m.n_leaves);
            if (dump) {
                uint32_t j, lb;
                const unsigned char *lv = m.leaves;
                for (j = 0; j < m.n_nodes; j++) printf(" T%d", (int)m.thresholds[j]);
                for (j = 0; j < m.n_nodes; j++) printf(" F%u", m.features[j]);
                for (j = 0; j < 2u * m.n_nodes; j++) printf(" C%d", m.children[j]);
                for (j = 0; j < m.n_trees; j++) printf(" R%d", m.roots[j]);
                lb = m.n_leaves * (m.leaf_kind == 0 ? 1u : m.leaf_kind == 2 ? 4u :
                                   m.leaf_kind == 1 ? 4u * m.n_outputs : m.n_outputs);
                printf(" L");
                for (j = 0; j < lb; j++) printf("%02x", lv[j]);
                if (m.input == EMLC_INPUT_I16) {
                    for (j = 0; j < nf; j++) printf(" Q%08x/%08x", fbits(scale[j]), fbits(offset[j]));
                }
            }
            if (ns) printf(" |");
            for (s = 0; s < ns; s++) {
                const float *x = xs + s * nf;
                int16_t *xq = malloc(nf * 2 + 2);
                const void *in = x;
                size_t j;
                if (m.input == EMLC_INPUT_I16) {
                    for (j = 0; j < nf; j++) xq[j] = quantize(x[j], scale[j], offset[j]);
                    in = xq;
                }
                if (m.leaf_kind == EMLC_LEAF_VALUE) {
                    float v = 0;
                    e = emlc_trees_regress(&m, in, &v);
                    printf(" v%08x", e == EMLC_OK ? fbits(v) : 0xffffffffu);
                } else {
                    int32_t c = -1;
                    float *p = malloc(m.n_outputs * sizeof(float));
                    e = emlc_trees_predict(&m, in, &c);
                    printf(" c%d:", e == EMLC_OK ? (int)c : -100);
                    e = emlc_trees_proba(&m, in, p, m.n_outputs);
                    for (j = 0; j < m.n_outputs; j++) printf("%s%08x", j ? "," : "", e == EMLC_OK ? fbits(p[j]) : 0u);
                    free(p);
                }
                free(xq);
            }
            printf("\n");
        }
        free(buf);
        free(d.thresholds); free(d.features); free(d.children); free(d.roots);
        if (!use_cb) { free(d.leaves); free(d.scale); free(d.offset); }
        free(cb_leaves); cb_leaves = NULL;
        free(cb_quant); cb_quant = NULL;
    }
    free(xs);
    return 0;
}
"""


class CompileError(RuntimeError):
    pass


def selftest(flavour: str = "asan") -> str:
    """Run the driver's API-misuse checks; returns its output ("selftest ok" on success)."""
    res = subprocess.run([str(build(flavour)), "-selftest"], capture_output=True, text=True, timeout=60)
    return (res.stdout + res.stderr).strip() + ("" if res.returncode == 0 else f" (rc={res.returncode})")


def build(flavour: str = "asan") -> Path:
    """Compile the driver with the load/trees/common cores (cached); return the executable."""
    flags = FLAGS + FLAVOURS[flavour]
    h = hashlib.sha256((CC + " ".join(flags) + DRIVER).encode())
    for name in SOURCES + ["emlc_load.h", "emlc_trees.h", "emlc_common.h"]:
        h.update(name.encode() + b"\0" + (CORES / name).read_bytes())
    out = BUILD / f"load_driver-{flavour}-{h.hexdigest()[:16]}"
    if out.exists():
        return out
    BUILD.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD) as td:
        src = Path(td) / "load_driver.c"
        src.write_text(DRIVER)
        tmp = Path(td) / "load_driver"
        cmd = [CC, *flags, "-I", str(CORES), str(src), *[str(CORES / s) for s in SOURCES], "-lm",
               "-o", str(tmp)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise CompileError(f"{' '.join(cmd)}\n{res.stdout}{res.stderr}")
        os.replace(tmp, out)
    return out


@dataclass
class Result:
    ok: bool
    code: int = 0
    where: int = 0
    reason: str = ""
    shape: tuple = ()
    arrays: dict = field(default_factory=dict)
    preds: List[str] = field(default_factory=list)


def parse_line(line: str) -> Result:
    if line.startswith("err "):
        _, code, where, reason = line.split(" ", 3)
        return Result(False, int(code), int(where), reason)
    head, _, preds = line.partition(" |")
    toks = head.split()
    assert toks[0] == "ok", line
    shape = tuple(int(t) for t in toks[1:8])
    arrays: dict = {"T": [], "F": [], "C": [], "R": [], "L": b"", "Q": []}
    for t in toks[8:]:
        if t[0] == "L":
            arrays["L"] = bytes.fromhex(t[1:])
        elif t[0] == "Q":
            s, o = t[1:].split("/")
            arrays["Q"].append((int(s, 16), int(o, 16)))
        else:
            arrays[t[0]].append(int(t[1:]))
    return Result(True, shape=shape, arrays=arrays, preds=preds.split())


def run(files: Sequence[os.PathLike], chunk: int = 256, x: Optional[np.ndarray] = None,
        caps: Sequence[int] = (32767, 4096, 1 << 20, 4096), callbacks: bool = False,
        dump: bool = False, flavour: str = "asan", timeout: float = 60.0,
        workdir: Optional[Path] = None) -> List[Result]:
    """Load every file with the driver; one Result per file. Fails on a crash/sanitizer report."""
    exe = build(flavour)
    cmd = [str(exe), "-c", str(chunk), "-cap", *[str(int(c)) for c in caps]]
    if callbacks:
        cmd.append("-cb")
    if dump:
        cmd.append("-d")
    with tempfile.TemporaryDirectory(dir=workdir) as td:
        if x is not None:
            xp = Path(td) / "x.f32"
            np.ascontiguousarray(x, dtype=np.float32).tofile(xp)
            cmd += ["-x", str(xp)]
        cmd += [str(f) for f in files]
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if res.returncode != 0 or res.stderr:
        raise AssertionError(f"driver failed (rc={res.returncode}):\n{res.stderr[-4000:]}")
    lines = res.stdout.splitlines()
    assert len(lines) == len(files), (len(lines), len(files))
    return [parse_line(s) for s in lines]


def decode_preds(r: Result) -> tuple:
    """(classes, proba) for a classifier, (values, None) for a regressor, as numpy arrays."""
    if r.preds and r.preds[0].startswith("v"):
        bits = np.array([int(p[1:], 16) for p in r.preds], dtype=np.uint32)
        return bits.view(np.float32), None
    classes, probas = [], []
    for p in r.preds:
        c, _, rest = p[1:].partition(":")
        classes.append(int(c))
        probas.append([int(v, 16) for v in rest.split(",")])
    return np.array(classes), np.array(probas, dtype=np.uint32).view(np.float32)


def lib() -> "ctypes.CDLL":
    """The three cores as a plain shared library (for ctypes calls such as emlc_load_parse_f32)."""
    import ctypes
    flags = FLAGS + ["-O2", "-fPIC", "-shared"]
    h = hashlib.sha256((CC + " ".join(flags)).encode())
    for name in SOURCES + ["emlc_load.h", "emlc_trees.h", "emlc_common.h"]:
        h.update(name.encode() + b"\0" + (CORES / name).read_bytes())
    out = BUILD / f"libemlc_load-{h.hexdigest()[:16]}.so"
    if not out.exists():
        BUILD.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=BUILD)
        os.close(fd)
        cmd = [CC, *flags, "-I", str(CORES), *[str(CORES / s) for s in SOURCES], "-o", tmp]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            os.unlink(tmp)
            raise CompileError(f"{' '.join(cmd)}\n{res.stdout}{res.stderr}")
        os.replace(tmp, out)
    so = ctypes.CDLL(str(out))
    so.emlc_load_parse_f32.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint32)]
    so.emlc_load_parse_f32.restype = ctypes.c_int
    return so


def parse_f32(so: "ctypes.CDLL", text: str) -> tuple:
    """(error code, float32 bits) from emlc_load_parse_f32."""
    import ctypes
    b = text.encode()
    out = ctypes.c_uint32(0xDEADBEEF)
    err = so.emlc_load_parse_f32(b, len(b), ctypes.byref(out))
    return err, out.value
