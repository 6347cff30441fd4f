"""The tree-ensemble core (cores/emlc_trees.c, emlc_trees_check.c, emlc_f64.c, emlc_load.c) built for xtensa and
xtensawin with our toolchain and run on QEMU's Xtensa CPUs predicts exactly like the host build,
and its class predictions equal scikit-learn's.

The harness receives a binary model file (docs/model-format.md §2, written by
tests_host/treeconv.py, the converter the host core tests use) and loads it with the same calls
the device glue makes: emlc_load_header, emlc_trees_bind, emlc_load_check; then it predicts every
row with probabilities (or the value). Soft-float sums and the exact-tie float64 arithmetic on
Xtensa must equal the host's bit for bit.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

import test_xtensa_qemu as xq
import treeconv as tc

ROOT = Path(__file__).resolve().parents[1]
CORES = ROOT / "cores"

TREES_MAIN_C = r"""
#include <stdint.h>
#include <stddef.h>
#include "emlc_load.h"
""" + xq.XSYS_IO_C + r"""
#define ARENA (1L << 18)
static uint64_t arena64[ARENA / 8];
static float outp[256];

/* Request: u32 file_len, n_rows, row_bytes, x_offset; then the file and the rows.
 * Reply: i32 header error, i32 check error, then per row: i32 error, i32 class, float out[n_out]. */
int mpy_init(void) {
    uint32_t h[4], file_bytes, i;
    uint8_t *arena = (uint8_t *)arena64;
    emlc_trees_t m;
    emlc_load_error_t e;
    int32_t err[2];
    if (io(12, h, sizeof h) != (long)sizeof h || h[0] > ARENA || h[1] > 4096) {
        return 2;
    }
    io(12, arena, (long)h[0]);
    err[0] = emlc_load_header(arena, &m, &file_bytes, &e);
    err[1] = -99;
    if (err[0] == 0) {
        emlc_trees_bind(&m, arena + EMLC_LOAD_HEADER);
        err[1] = emlc_load_check(&m, arena + EMLC_LOAD_HEADER, &e);
    }
    io(13, err, sizeof err);
    for (i = 0; err[1] == 0 && i < h[1]; i++) {
        int32_t r[2];
        r[0] = emlc_trees_predict(&m, arena + h[3] + i * h[2], outp, 256, &r[1]);
        io(13, r, sizeof r);
        io(13, outp, 4 * (long)m.n_outputs);
    }
    return 0;
}
"""


def request(m: tc.TreeV2, xs: np.ndarray) -> bytes:
    blob = bytearray(m.blob())
    blob.extend(bytes(-len(blob) % 8))
    x_off = len(blob)
    blob.extend(np.ascontiguousarray(xs).tobytes())
    return struct.pack("<4I", len(blob), len(xs), xs[0].nbytes, x_off) + bytes(blob)


@pytest.fixture(scope="module", params=list(xq.CPU))
def trees_elf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    arch = request.param
    work = tmp_path_factory.mktemp(f"trees_{arch}")
    return arch, xq.build_elf(arch, work, "trees", TREES_MAIN_C, [CORES / "emlc_trees.c", CORES / "emlc_trees_check.c",
                                                              CORES / "emlc_f64.c", CORES / "emlc_load.c"], [f"-I{CORES}"])


@pytest.fixture(scope="module")
def forest():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    X, y = load_digits(return_X_y=True)
    est = RandomForestClassifier(n_estimators=8, max_leaf_nodes=80, random_state=0).fit(X[::2], y[::2])
    reg = RandomForestRegressor(n_estimators=4, max_leaf_nodes=60, random_state=0).fit(X[::2], y[::2] * 1.5)
    return est, reg, X[1::2][:80].astype(np.float32)


@pytest.mark.parametrize("kind,inp", [(tc.LEAF_CLASS, tc.INPUT_F32), (tc.LEAF_CLASS, tc.INPUT_I16),
                                      (tc.LEAF_PROBA, tc.INPUT_F32), (tc.LEAF_PROBA, tc.INPUT_I16),
                                      (tc.LEAF_VALUE, tc.INPUT_F32)])
def test_trees_on_xtensa_predict_like_host(trees_elf: tuple[str, Path], forest, kind: int, inp: int) -> None:
    from test_cores_trees import Core
    arch, elf = trees_elf
    est, reg, X = forest
    m = tc.convert(reg if kind == tc.LEAF_VALUE else est, kind, input=inp)
    host = Core(m.blob())
    xs = tc.quantize(X) if inp == tc.INPUT_I16 else X
    out = xq.run_elf(elf, arch, request(m, xs))
    assert struct.unpack_from("<2i", out, 0) == (0, 0)
    pos, got = 8, []
    for row in xs:
        err, cls = struct.unpack_from("<2i", out, pos)
        p = np.frombuffer(out, np.float32, m.n_outputs, pos + 8)
        hcls, hp = host.predict(row, with_out=True)
        assert err == 0 and cls == hcls
        np.testing.assert_array_equal(p, hp)
        got.append(cls)
        pos += 8 + 4 * m.n_outputs
    assert pos == len(out)
    if kind == tc.LEAF_PROBA and inp == tc.INPUT_F32:
        np.testing.assert_array_equal(est.classes_[got], est.predict(X))
