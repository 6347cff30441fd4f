"""Run the example end to end on the unix port; assert the device's levels match scipy and that
the filter A-weights (tone levels relative to 1 kHz against the IEC 61672-1 formula)."""
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import signal
from unixport import run_device_script  # tools/unixport.py (PYTHONPATH)

import soundlevel_host as host

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as tmp:
    ref = host.main(tmp)
    stdout = run_device_script(HERE / "soundlevel_run.py", tmp)

dev = np.array([float(ln.split()[2]) for ln in stdout.splitlines() if ln.startswith("level ")])
want = ref["levels"]
errors = []
if dev.shape != want.shape:
    sys.exit(f"device printed {dev.size} levels, expected {want.size}")
worst = float(np.max(np.abs(dev - want)))
if worst > 0.01:
    errors.append(f"device levels differ from scipy.signal.sosfilt by up to {worst:.4f} dB (> 0.01 dB)")

# Steady windows of each 1 s part: skip the first and last (fades, filter settling).
per_part = host.SEGMENT // host.WINDOW
steady = [float(np.mean(dev[i * per_part + 1:(i + 1) * per_part - 1]))
          for i in range(len(host.PARTS))]
ref_1k = steady[0]
print(f"{'part':14s} {'device dB(A)':>12s} {'re 1 kHz':>9s} {'filter':>7s} {'formula':>8s}")
for (name, freq, amp), level in zip(host.PARTS, steady):
    rel = level - ref_1k
    if not freq:
        print(f"{name:14s} {level:12.2f}")
        continue
    _, h = signal.sosfreqz(ref["sos"], worN=[freq], fs=host.RATE)
    filt = 20 * np.log10(abs(h[0])) + 20 * np.log10(amp / host.PARTS[0][2])
    formula = float(host.a_weighting_db(freq)) + 20 * np.log10(amp / host.PARTS[0][2])
    print(f"{name:14s} {level:12.2f} {rel:9.2f} {filt:7.2f} {formula:8.2f}")
    if abs(rel - filt) > 0.05:
        errors.append(f"{name}: level re 1 kHz {rel:.3f} dB, the digital filter's response "
                      f"says {filt:.3f} dB")
    if freq <= 1000 and abs(rel - formula) > 0.1:
        errors.append(f"{name}: level re 1 kHz {rel:.3f} dB, the A-weighting formula says {formula:.3f} dB")
if errors:
    sys.exit("soundlevel_iir FAILED:\n  " + "\n  ".join(errors))
print(f"soundlevel_iir: {dev.size} device levels == scipy sosfilt within {worst:.4f} dB; "
      f"100 Hz is {steady[1] - ref_1k:.2f} dB re 1 kHz "
      f"(A-weighting formula {float(host.a_weighting_db(100.0)):.2f} dB)")
