"""Host side: a small synthetic RGB picture, scikit-learn's 8-colour palette for it, the reference.

Writes into `outdir`:
  image.ppm     64 x 48 pixels, binary PPM (P6): a sky gradient, a sun, hills, a house, noise
  palette.bin   scikit-learn's KMeans(8) cluster centers for the device: 8 x 3 float32 (emlmpy.convert)
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans

import emlmpy

WIDTH, HEIGHT, COLOURS = 64, 48, 8


def make_image(seed: int = 7) -> np.ndarray:
    """(HEIGHT, WIDTH, 3) uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    img = np.zeros((HEIGHT, WIDTH, 3))
    t = y[..., None] / HEIGHT
    img[:] = (1 - t) * np.array([40, 90, 200]) + t * np.array([170, 210, 250])           # sky
    img[(x - 50) ** 2 + (y - 10) ** 2 < 36] = (250, 220, 60)                              # sun
    hills = y > 30 + 6 * np.sin(x / 9.0)
    img[hills] = (60, 150, 60)
    img[hills & (y > 40)] = (40, 110, 40)
    img[(x >= 12) & (x < 26) & (y >= 26) & (y < 40)] = (200, 60, 50)                      # house
    img[(x >= 17) & (x < 21) & (y >= 33) & (y < 40)] = (90, 50, 30)                       # door
    img += rng.normal(0, 4, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def write_ppm(path: Path, img: np.ndarray) -> None:
    h, w, _ = img.shape
    path.write_bytes(b"P6\n%d %d\n255\n" % (w, h) + img.tobytes())


def read_ppm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    magic, w, h, maxval, body = data.split(maxsplit=4)
    assert magic == b"P6" and maxval == b"255"
    return np.frombuffer(body, np.uint8).reshape(int(h), int(w), 3)


def main(outdir: str) -> dict:
    out = Path(outdir)
    img = make_image()
    write_ppm(out / "image.ppm", img)
    px = img.reshape(-1, 3)
    sk = KMeans(COLOURS, n_init=4, random_state=0).fit(px.astype(np.float64))
    model = emlmpy.convert(sk)                  # float32 centers; the device reads uint8 pixels itself
    model.save(file=str(out / "palette.bin"))
    print(f"host: {WIDTH}x{HEIGHT} image, {len(np.unique(px, axis=0))} distinct colours; scikit-learn "
          f"KMeans({COLOURS}, n_init=4) inertia {sk.inertia_:.0f}, palette.bin {model.device_bytes} bytes")
    return {"pixels": px, "sklearn": sk, "model": model}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
