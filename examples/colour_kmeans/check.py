"""Run the example end to end on the unix port. Asserts: with scikit-learn's palette the device labels
every pixel as emlmpy's host predictor and as scikit-learn's KMeans.predict do; the device's own fit
(k-means++ and Lloyd on uint8 pixels) is within 5 % of scikit-learn's best-of-4 inertia; the
quantized picture it wrote is that palette applied to those labels."""
import sys
import tempfile
from pathlib import Path

import numpy as np
from unixport import run_device_script  # tools/unixport.py (PYTHONPATH)

import colour_host as host

HERE = Path(__file__).resolve().parent

with tempfile.TemporaryDirectory() as tmp:
    ref = host.main(tmp)
    stdout = run_device_script(HERE / "colour_run.py", tmp)
    labels = np.frombuffer((Path(tmp) / "labels_host.bin").read_bytes(), np.uint8)
    quant = host.read_ppm(Path(tmp) / "quantized.ppm").reshape(-1, 3).astype(np.float64)

px, sk, model = ref["pixels"], ref["sklearn"], ref["model"]
errors = []
if not np.array_equal(labels, model.predict(px)):
    errors.append("device labels with the host palette differ from emlmpy's host predictor")
sk.cluster_centers_ = model.cluster_centers_.astype(np.float64)  # the float32 centers the device holds
want = sk.predict(px.astype(np.float64))
if not np.array_equal(labels, want):
    errors.append(f"{int((labels != want).sum())} pixels labelled unlike scikit-learn's KMeans.predict")
fit_line = next(ln for ln in stdout.splitlines() if ln.startswith("fit:"))
inertia = float(fit_line.split("inertia ")[1].split(",")[0])
if inertia > 1.05 * sk.inertia_:
    errors.append(f"device fit inertia {inertia:.0f} > 1.05 x scikit-learn's {sk.inertia_:.0f}")
# the quantized picture: every pixel is a palette colour, and its squared error is about the inertia
# (palette rounded to 8 bits: within 0.25 per channel per pixel on average)
mse = float(((quant - px) ** 2).sum(axis=1).mean())
if abs(mse * len(px) - inertia) > 0.75 * len(px) + 1e-3 * inertia:
    errors.append(f"quantized.ppm's squared error {mse * len(px):.0f} does not match the inertia {inertia:.0f}")
if errors:
    sys.exit("colour_kmeans FAILED:\n  " + "\n  ".join(errors))
psnr = 10 * np.log10(255 ** 2 / mse)
print(f"colour_kmeans: {len(px)} pixels labelled as scikit-learn's predict with its palette; device fit "
      f"inertia {inertia:.0f} vs scikit-learn's best of 4 {sk.inertia_:.0f} ({inertia / sk.inertia_:.3f}x); "
      f"quantized picture PSNR {psnr:.1f} dB")
