"""The project's float32 cores (IIR filter, FFT) built for xtensa and xtensawin with our
toolchain, run on QEMU's Xtensa CPUs, give bit-identical output to the host build of
the same C -- and the host output matches scipy/numpy.

Bit-identity is the right expectation: the cores use only IEEE single-precision
+ - * / (no libm, no contraction), which the host does in hardware and our Xtensa
runtime does in software, both rounding to nearest-even.  Any difference would point
at a compiler, runtime, linker or loader-relocation fault on Xtensa.  The programs
are linked into .mpy files by mpyld and loaded by the same loader simulation as
test_xtensa_qemu.py (helpers imported from there).
"""
from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy import signal
import toolreg

import test_xtensa_qemu as xq

ROOT = Path(__file__).resolve().parents[1]
CORES = ROOT / "cores"

# One request loop for the float and the Q15 cores (test_xtensa_q15_qemu.py builds the Q15 one):
# dsp_main_c() defines the element type, the state per section and the core names, then this.
DSP_MAIN_C = r"""
#include <stdint.h>
#include <stddef.h>
#include IIR_H
#include FFT_H
""" + xq.XSYS_IO_C + r"""
typedef ELEM elem_t;
#define MAXN 4096
static elem_t in0[MAXN], in1[MAXN], out0[MAXN], out1[MAXN];
static elem_t sos[6 * 8], state[STATE * 8];
static elem_t table[3 * (MAXN / 4)];

/* Requests on stdin: u32 op, u32 a, u32 b, u32 reserved, then elem_t payload.
 * 1 = IIR (a sections, b samples: sos[6a], x[b]) -> err, y[b]
 * 2 = complex FFT (a = n: re[n], im[n]) -> err, re[n], im[n]
 * 3 = real FFT (a = n: x[n]) -> err, re[n/2+1], im[n/2+1]
 * The reply's arrays are written only when err is 0; an unknown op gets err -100 alone.
 * The FFT table is built for max(n, 4): the Q15 core's smallest table serves n = 2. */
int mpy_init(void) {
    uint32_t h[4];
    const long es = (long)sizeof(elem_t);
    while (io(12, h, sizeof h) == (long)sizeof h) {
        int32_t err = -100;
        long n_out = 0;
        elem_t *r0 = out0, *r1 = out1;
        if (h[0] == 1 && h[1] <= 8 && h[2] <= MAXN) {
            IIR(t) f;
            io(12, sos, 6 * es * (long)h[1]);
            io(12, in0, es * (long)h[2]);
            err = IIR(init)(&f, sos, 6 * h[1], h[1], state, STATE * 8);
            if (err == 0) {
                err = IIR(process)(&f, in0, out0, h[2]);
            }
            n_out = (long)h[2];
            r1 = NULL;
        } else if ((h[0] == 2 || h[0] == 3) && h[1] <= MAXN) {
            FFT(t) f;
            io(12, in0, es * (long)h[1]);
            if (h[0] == 2) {
                io(12, in1, es * (long)h[1]);
            }
            err = FFT(init)(&f, table, sizeof table / sizeof table[0], h[1] < 4 ? 4 : h[1]);
            if (err == 0 && h[0] == 2) {
                err = FFT(forward)(&f, in0, in1, h[1]);
                n_out = (long)h[1];
                r0 = in0;
                r1 = in1;
            } else if (err == 0) {
                err = FFT(rfft)(&f, in0, h[1], out0, out1, h[1] / 2 + 1);
                n_out = (long)(h[1] / 2 + 1);
            }
        }
        io(13, &err, 4);
        if (err == 0) {
            io(13, r0, es * n_out);
            if (r1 != NULL) {
                io(13, r1, es * n_out);
            }
        }
    }
    return 0;
}
"""


def dsp_main_c(q15: bool) -> str:
    """DSP_MAIN_C for the Q15 cores (int16, 4 state values per section) or the float ones (2)."""
    q = "_q15" if q15 else ""
    return (f'#define IIR_H "emlc_iir{q}.h"\n#define FFT_H "emlc_fft{q}.h"\n'
            f"#define IIR(name) emlc_iir{q}_##name\n#define FFT(name) emlc_fft{q}_##name\n"
            f"#define ELEM {'int16_t' if q15 else 'float'}\n#define STATE {4 if q15 else 2}\n" + DSP_MAIN_C)


CORES_MAIN_C = dsp_main_c(q15=False)

HOST_SHIM_C = r"""
#define _DEFAULT_SOURCE
#include <unistd.h>
int mpy_init(void);
long xsys(long nr, long a, long b, long c) {
    return nr == 12 ? (long)read((int)a, (void *)b, (size_t)c) : (long)write((int)a, (const void *)b, (size_t)c);
}
int main(void) { return mpy_init(); }
"""

CORE_SRCS = [CORES / "emlc_iir.c", CORES / "emlc_fft.c", CORES / "emlc_common.c"]


def requests() -> tuple[bytes, list[tuple[str, object]]]:
    """A batch of IIR and FFT requests, and what each is (for the reference check)."""
    rng = np.random.default_rng(11)
    parts, meta = [], []
    for order, kind in ((4, "low"), (6, "band"), (8, "high")):
        wn = [0.1, 0.3] if kind == "band" else 0.2
        sos = signal.butter(order, wn, btype=kind, output="sos").astype(np.float32)
        x = rng.standard_normal(1000).astype(np.float32)
        parts.append(struct.pack("<4I", 1, len(sos), len(x), 0) + sos.tobytes() + x.tobytes())
        meta.append(("iir", (sos, x)))
    for n in (8, 256, 1024):
        re = rng.standard_normal(n).astype(np.float32)
        im = rng.standard_normal(n).astype(np.float32)
        parts.append(struct.pack("<4I", 2, n, 0, 0) + re.tobytes() + im.tobytes())
        meta.append(("fft", (re, im)))
    for n in (16, 512):
        x = rng.standard_normal(n).astype(np.float32)
        parts.append(struct.pack("<4I", 3, n, 0, 0) + x.tobytes())
        meta.append(("rfft", x))
    return b"".join(parts), meta


@pytest.fixture(scope="module")
def host_output(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    cc = toolreg.which("gcc")
    work = tmp_path_factory.mktemp("cores_host")
    (work / "main.c").write_text(CORES_MAIN_C)
    (work / "shim.c").write_text(HOST_SHIM_C)
    exe = work / "cores_host"
    subprocess.run([cc, "-std=c99", "-O2", "-ffp-contract=off", "-I", str(CORES), "-o", str(exe),
                    str(work / "main.c"), str(work / "shim.c"), *map(str, CORE_SRCS)], check=True)
    stdin, _ = requests()
    return subprocess.run([str(exe)], input=stdin, capture_output=True, check=True).stdout


def test_host_build_matches_scipy(host_output: bytes) -> None:
    _, meta = requests()
    pos = 0
    for kind, data in meta:
        err = struct.unpack_from("<i", host_output, pos)[0]
        pos += 4
        assert err == 0, (kind, err)
        if kind == "iir":
            sos, x = data
            y = np.frombuffer(host_output, np.float32, len(x), pos)
            pos += 4 * len(x)
            np.testing.assert_allclose(y, signal.sosfilt(sos.astype(np.float64), x.astype(np.float64)),
                                       rtol=1e-3, atol=1e-4)
        elif kind == "fft":
            re, im = data
            n = len(re)
            got = np.frombuffer(host_output, np.float32, n, pos) + 1j * np.frombuffer(host_output, np.float32, n,
                                                                                    pos + 4 * n)
            pos += 8 * n
            ref = np.fft.fft(re.astype(np.float64) + 1j * im.astype(np.float64))
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4 * np.sqrt(n) * np.abs(ref).max())
        else:
            x = data
            m = len(x) // 2 + 1
            got = np.frombuffer(host_output, np.float32, m, pos) + 1j * np.frombuffer(host_output, np.float32, m,
                                                                                    pos + 4 * m)
            pos += 8 * m
            ref = np.fft.rfft(x.astype(np.float64))
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4 * np.sqrt(len(x)) * np.abs(ref).max())
    assert pos == len(host_output)


@pytest.mark.parametrize("arch", list(xq.CPU))
def test_xtensa_build_is_bit_identical_to_host(arch: str, host_output: bytes, tmp_path: Path) -> None:
    elf = xq.build_elf(arch, tmp_path, "cores", CORES_MAIN_C, CORE_SRCS, [f"-I{CORES}"])
    stdin, _ = requests()
    xq.assert_same_bytes(arch, xq.run_elf(elf, arch, stdin), host_output)
