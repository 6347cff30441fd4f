"""The tree-ensemble core (cores/emlc_trees.c) built for xtensa and xtensawin with our
toolchain and run on QEMU's Xtensa CPUs predicts exactly like the host build, and its
class predictions equal scikit-learn's.

The model arrays (from tests_host/treeconv.py, the same converter the host core tests
use) are packed into one arena together with an ``emlc_trees_t`` whose pointer fields
hold arena offsets; the harness turns them into pointers and calls
``emlc_trees_validate``, ``emlc_trees_predict_many`` and ``emlc_trees_proba``.  Soft-float
probability sums on Xtensa must equal the host's bit for bit.
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_xtensa_qemu as xq  # noqa: E402
import treeconv as tc  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORES = ROOT / "cores"

TREES_MAIN_C = r"""
#include <stdint.h>
#include <stddef.h>
#include "emlc_trees.h"
long xsys(long nr, long a, long b, long c);
#define ARENA (1L << 18)
static uint64_t arena64[ARENA / 8];
static int32_t outc[4096];
static float outp[4096];

static long io(long nr, void *p, long n) {
    long done = 0, k;
    while (done < n && (k = xsys(nr, nr == 12 ? 0 : 1, (long)((char *)p + done), n - done)) > 0) {
        done += k;
    }
    return done;
}

/* Request: u32 arena_len, n_rows, row_bytes, x_offset, n_out; then the arena.
 * The arena starts with an emlc_trees_t whose 5 pointers are arena offsets.
 * Reply: i32 validate, i32 predict_many, i32 classes[n_rows],
 *        then per row: i32 proba error, float proba[n_out]. */
int mpy_init(void) {
    uint32_t h[5];
    uint8_t *arena = (uint8_t *)arena64;
    if (io(12, h, sizeof h) != (long)sizeof h || h[0] > ARENA || h[1] > 4096 || h[4] > 64) {
        return 2;
    }
    io(12, arena, (long)h[0]);
    emlc_trees_t *m = (emlc_trees_t *)arena;
    m->thresholds = (const int32_t *)(arena + (uintptr_t)m->thresholds);
    m->features = (const uint16_t *)(arena + (uintptr_t)m->features);
    m->children = (const int16_t *)(arena + (uintptr_t)m->children);
    m->roots = (const int16_t *)(arena + (uintptr_t)m->roots);
    m->leaves = (const void *)(arena + (uintptr_t)m->leaves);
    const uint8_t *x = arena + h[3];
    int32_t err[2];
    err[0] = emlc_trees_validate(m);
    err[1] = emlc_trees_predict_many(m, x, h[1], outc);
    io(13, err, sizeof err);
    io(13, outc, 4 * (long)h[1]);
    for (uint32_t i = 0; i < h[1] && h[4] > 0; i++) {
        int32_t e = emlc_trees_proba(m, x + i * h[2], outp, h[4]);
        io(13, &e, 4);
        io(13, outp, 4 * (long)h[4]);
    }
    return 0;
}
"""


def _align(b: bytearray, a: int = 8) -> None:
    b.extend(bytes(-len(b) % a))


def request(m: tc.TreeArrays, xs: np.ndarray, n_out: int) -> bytes:
    arena = bytearray(64)  # room for the struct (written last)
    offs = []
    for a in (m.thresholds, m.features, m.children, m.roots, m.leaves):
        _align(arena)
        offs.append(len(arena))
        arena.extend(np.ascontiguousarray(a).tobytes())
    _align(arena)
    x_off = len(arena)
    arena.extend(np.ascontiguousarray(xs).tobytes())
    head = struct.pack("<3H2B2H5I", m.n_features, m.n_outputs, m.n_trees, m.input, m.leaf_kind,
                       m.n_nodes, m.n_leaves, *offs)
    arena[0:len(head)] = head
    return struct.pack("<5I", len(arena), len(xs), xs[0].nbytes, x_off, n_out) + bytes(arena)


@pytest.fixture(scope="module", params=list(xq.CPU))
def trees_elf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    arch = request.param
    work = tmp_path_factory.mktemp(f"trees_{arch}")
    mpy = xq.build_program(arch, work, "trees", TREES_MAIN_C, [CORES / "emlc_trees.c", CORES / "emlc_common.c"],
                           [f"-I{CORES}"])
    elf = work / f"trees_{arch}.elf"
    elf.write_bytes(xq.mpy_to_elf(mpy, arch))
    elf.chmod(0o755)
    return arch, elf


@pytest.fixture(scope="module")
def forest():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    X, y = load_digits(return_X_y=True)
    est = RandomForestClassifier(n_estimators=8, max_leaf_nodes=80, random_state=0).fit(X[::2], y[::2])
    return est, X[1::2][:80].astype(np.float32)


@pytest.mark.parametrize("kind,inp", [(tc.LEAF_CLASS, tc.INPUT_F32), (tc.LEAF_CLASS, tc.INPUT_I16),
                                      (tc.LEAF_PROBA, tc.INPUT_F32), (tc.LEAF_PROBA8, tc.INPUT_F32)])
def test_trees_on_xtensa_predict_like_host(trees_elf: tuple[str, Path], forest, kind: int, inp: int) -> None:
    from test_cores_trees import Core
    arch, elf = trees_elf
    est, X = forest
    m = tc.convert(est, kind, input=inp)
    host = Core(m)
    xs = tc.quantize(X) if inp == tc.INPUT_I16 else X
    n_out = m.n_outputs if kind in (tc.LEAF_PROBA, tc.LEAF_PROBA8) else 0
    out = xq.run_elf(elf, arch, request(m, xs, n_out))
    v_err, p_err = struct.unpack_from("<2i", out, 0)
    assert (v_err, p_err) == (0, 0)
    got = np.frombuffer(out, np.int32, len(xs), 8)
    np.testing.assert_array_equal(got, host.predict_many(xs))
    if kind == tc.LEAF_PROBA:
        np.testing.assert_array_equal(est.classes_[got], est.predict(X))
    pos = 8 + 4 * len(xs)
    for row in xs[:n_out and len(xs)]:
        assert struct.unpack_from("<i", out, pos)[0] == 0
        p = np.frombuffer(out, np.float32, n_out, pos + 4)
        np.testing.assert_array_equal(p, host.proba(row))
        pos += 4 + 4 * n_out
    assert pos == len(out)
