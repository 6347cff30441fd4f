"""Host side: design an A-weighting filter, make a test WAV, compute the reference levels.

Writes into `outdir`:
  aweighting.bin   the filter for emliir: float32, 6 values per second-order section
  test.wav         16 kHz, 16-bit mono: tones at several frequencies and levels, then noise
"""
from __future__ import annotations

import sys
import wave
from pathlib import Path

import numpy as np
from scipy import signal

import emlmpy

RATE = 16000
WINDOW = RATE // 8          # 125 ms ("fast" sound level meter time weighting, as blocks)
SEGMENT = RATE              # each part of the test signal lasts 1 s = 8 windows
# (name, frequency in Hz or 0 for white noise, peak amplitude relative to full scale)
PARTS = (("1 kHz", 1000.0, 0.1), ("100 Hz", 100.0, 0.1), ("40 Hz", 40.0, 0.1),
         ("4 kHz", 4000.0, 0.1), ("1 kHz -20 dB", 1000.0, 0.01), ("noise", 0.0, 0.05))

# Poles of the analog A-weighting filter in Hz (IEC 61672-1); it has four zeros at s = 0.
F1, F2, F3, F4 = 20.598997, 107.65265, 737.86223, 12194.217


def a_weighting_db(f: np.ndarray | float) -> np.ndarray:
    """The IEC 61672-1 A-weighting formula in dB (0 dB at 1 kHz)."""
    f2 = np.asarray(f, dtype=np.float64) ** 2
    ra = (F4 ** 2 * f2 ** 2) / ((f2 + F1 ** 2) * np.sqrt((f2 + F2 ** 2) * (f2 + F3 ** 2)) * (f2 + F4 ** 2))
    return 20 * np.log10(ra) + 2.0


def design_a_weighting(fs: int = RATE) -> np.ndarray:
    """Digital A-weighting as second-order sections: analog zpk -> bilinear -> sos, 0 dB at 1 kHz."""
    z = np.zeros(4)
    p = -2 * np.pi * np.array([F1, F1, F4, F4, F2, F3])
    zd, pd, kd = signal.bilinear_zpk(z, p, 1.0, fs)
    _, h = signal.freqz_zpk(zd, pd, kd, worN=[1000.0], fs=fs)
    return signal.zpk2sos(zd, pd, kd / abs(h[0]))


def make_signal(seed: int = 3) -> np.ndarray:
    """The test signal as int16 samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(SEGMENT) / RATE
    fade = np.ones(SEGMENT)
    ramp = int(0.005 * RATE)                       # 5 ms raised-cosine fades: no clicks
    fade[:ramp] = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    fade[-ramp:] = fade[:ramp][::-1]
    parts = []
    for _, freq, amp in PARTS:
        if freq:
            parts.append(amp * fade * np.sin(2 * np.pi * freq * t))
        else:
            parts.append(amp * fade * rng.standard_normal(SEGMENT))
    x = np.concatenate(parts) + 1e-4 * rng.standard_normal(len(PARTS) * SEGMENT)  # -80 dBFS floor
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def reference_levels(sos: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """scipy.signal.sosfilt over the whole signal, then RMS per window -> dB (re full scale)."""
    y = signal.sosfilt(sos, samples.astype(np.float64) / 32768.0)
    n = len(y) // WINDOW
    ms = np.mean(y[:n * WINDOW].reshape(n, WINDOW) ** 2, axis=1)
    return 10 * np.log10(ms)


def main(outdir: str = ".") -> dict:
    out = Path(outdir)
    sos = design_a_weighting()
    emlmpy.iir_coefficients(sos).tofile(out / "aweighting.bin")
    samples = make_signal()
    write_wav(out / "test.wav", samples)
    print(f"host: A-weighting at {RATE} Hz as {len(sos)} second-order sections; "
          f"test.wav {len(samples) / RATE:.0f} s, {len(samples) // WINDOW} windows of 125 ms")
    return {"sos": sos, "samples": samples, "levels": reference_levels(sos, samples)}


if __name__ == "__main__":
    main(*sys.argv[1:])
