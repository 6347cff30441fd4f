"""The Q15 cores (emlc_iir_q15, emlc_fft_q15) built for xtensa (ESP8266) and xtensawin (ESP32) with our
toolchain, run on QEMU's Xtensa CPUs (the loader simulation of test_xtensa_qemu.py): every output
equals emlmpy's host models (IirQ15, fft_q15, rfft_q15) bit for bit. Integer-only code, so no runtime
helper is involved; a difference would point at the compiler, linker or loader on Xtensa."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

import emlmpy
import test_xtensa_qemu as xq

ROOT = Path(__file__).resolve().parents[1]
CORES = ROOT / "cores"

MAIN_C = r"""
#include <stdint.h>
#include <stddef.h>
#include "emlc_iir_q15.h"
#include "emlc_fft_q15.h"
long xsys(long nr, long a, long b, long c);
#define MAXN 1024
static int16_t in0[MAXN], in1[MAXN], out0[MAXN], out1[MAXN];
static int16_t sos[6 * 8], state[4 * 8];
static int16_t table[3 * (MAXN / 4)];

static long io(long nr, void *p, long n) {
    long done = 0, k;
    while (done < n && (k = xsys(nr, nr == 12 ? 0 : 1, (long)((char *)p + done), n - done)) > 0) {
        done += k;
    }
    return done;
}

/* Requests on stdin: u32 op, u32 a, u32 b, u32 reserved, then int16 payload.
 * 1 = IIR (a sections, b samples: sos[6a], x[b]) -> err, y[b]
 * 2 = complex FFT (a = n: re[n], im[n]) -> err, re[n], im[n]
 * 3 = real FFT (a = n: x[n]) -> err, re[n/2+1], im[n/2+1] */
int mpy_init(void) {
    uint32_t h[4];
    while (io(12, h, sizeof h) == (long)sizeof h) {
        int32_t err = -100;
        long n = 0;
        if (h[0] == 1 && h[1] <= 8 && h[2] <= MAXN) {
            emlc_iir_q15_t f;
            io(12, sos, 12 * (long)h[1]);
            io(12, in0, 2 * (long)h[2]);
            err = emlc_iir_q15_init(&f, sos, 6 * h[1], h[1], state, 4 * 8);
            if (err == 0) {
                err = emlc_iir_q15_process(&f, in0, out0, h[2]);
            }
            io(13, &err, 4);
            io(13, out0, 2 * (long)h[2]);
        } else if ((h[0] == 2 || h[0] == 3) && h[1] <= MAXN) {
            emlc_fft_q15_t f;
            io(12, in0, 2 * (long)h[1]);
            if (h[0] == 2) {
                io(12, in1, 2 * (long)h[1]);
            }
            err = emlc_fft_q15_init(&f, table, sizeof table / sizeof table[0], h[1] < 4 ? 4 : h[1]);
            if (err == 0 && h[0] == 2) {
                err = emlc_fft_q15_forward(&f, in0, in1, h[1]);
                n = (long)h[1];
                io(13, &err, 4);
                io(13, in0, 2 * n);
                io(13, in1, 2 * n);
            } else {
                if (err == 0) {
                    err = emlc_fft_q15_rfft(&f, in0, h[1], out0, out1, h[1] / 2 + 1);
                }
                n = (long)(h[1] / 2 + 1);
                io(13, &err, 4);
                io(13, out0, 2 * n);
                io(13, out1, 2 * n);
            }
        }
    }
    return 0;
}
"""

CORE_SRCS = [CORES / "emlc_iir_q15.c", CORES / "emlc_fft_q15.c", CORES / "emlc_common.c"]


def requests() -> tuple[bytes, bytes]:
    """A batch of requests and the host models' answer, byte for byte."""
    rng = np.random.default_rng(21)
    ask, want = [], []
    for sos in (signal.butter(4, 0.2, output="sos"), signal.ellip(8, 0.5, 50, 0.3, output="sos"),
                signal.cheby1(3, 1, [0.1, 0.4], btype="band", output="sos")):
        c = emlmpy.iir_coefficients_q15(sos)
        x = rng.integers(-32768, 32768, 700).astype(np.int16)
        ask.append(struct.pack("<4I", 1, c.size // 6, x.size, 0) + c.tobytes() + x.tobytes())
        want.append(struct.pack("<i", 0) + emlmpy.IirQ15(c).run(x).tobytes())
    for n in (2, 8, 256, 1024):
        re = rng.integers(-32768, 32768, n).astype(np.int16)
        im = (rng.integers(-32768, 32768, n) // 2).astype(np.int16)
        ask.append(struct.pack("<4I", 2, n, 0, 0) + re.tobytes() + im.tobytes())
        want.append(struct.pack("<i", 0) + b"".join(v.tobytes() for v in emlmpy.fft_q15(re, im)))
        ask.append(struct.pack("<4I", 3, n, 0, 0) + re.tobytes())
        want.append(struct.pack("<i", 0) + b"".join(v.tobytes() for v in emlmpy.rfft_q15(re)))
    return b"".join(ask), b"".join(want)


@pytest.mark.parametrize("arch", list(xq.CPU))
def test_xtensa_q15_bit_identical_to_host_models(arch: str, tmp_path: Path) -> None:
    mpy = xq.build_program(arch, tmp_path, "q15", MAIN_C, CORE_SRCS, [f"-I{CORES}"])
    elf = tmp_path / f"q15_{arch}.elf"
    elf.write_bytes(xq.mpy_to_elf(mpy, arch))
    elf.chmod(0o755)
    stdin, want = requests()
    out = xq.run_elf(elf, arch, stdin)
    assert len(out) == len(want)
    diff = np.nonzero(np.frombuffer(out, np.uint8) != np.frombuffer(want, np.uint8))[0]
    assert diff.size == 0, f"{arch}: first differing byte at {diff[0]} of {len(out)}"
