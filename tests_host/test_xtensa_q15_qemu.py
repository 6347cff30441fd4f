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
import test_xtensa_cores_qemu as xc
import test_xtensa_qemu as xq

ROOT = Path(__file__).resolve().parents[1]
CORES = ROOT / "cores"

MAIN_C = xc.dsp_main_c(q15=True)

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
    elf = xq.build_elf(arch, tmp_path, "q15", MAIN_C, CORE_SRCS, [f"-I{CORES}"])
    stdin, want = requests()
    xq.assert_same_bytes(arch, xq.run_elf(elf, arch, stdin), want)
