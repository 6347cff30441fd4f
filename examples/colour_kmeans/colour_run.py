# Device side: colour quantization of image.ppm with emlkmeans: an 8-colour palette fitted on the
# device (k-means++ start, uint8 pixels), the picture redrawn with it (quantized.ppm), and the
# host's palette (palette.bin, scikit-learn) applied to the same pixels (labels_host.bin).
# Needs emlkmeans.mpy, image.ppm and palette.bin (from colour_host.py).
import array
import time

import emlkmeans

COLOURS = 8

with open("image.ppm", "rb") as f:
    head = f.read(32)                        # b"P6\n64 48\n255\n" (as colour_host.py writes it) + pixels
    magic, w, h, maxval = head.split(None, 4)[:4]
    if magic != b"P6" or maxval != b"255":
        raise ValueError("need a binary PPM (P6) with maxval 255")
    w, h = int(w), int(h)
    start = len(b"P6\n%d %d\n255\n" % (w, h))
    f.seek(start)
    pixels = bytearray(3 * w * h)            # R, G, B per pixel: the samples, 3 features each
    f.readinto(pixels)

q = emlkmeans.KMeans(COLOURS, 3, "B")
t0 = time.ticks_ms()
q.fit(pixels, random_state=1)
print("fit: %d iterations, inertia %.0f, %d ms" % (q.n_iter(), q.inertia(), time.ticks_diff(time.ticks_ms(), t0)))
palette = array.array("f", bytes(4 * 3 * COLOURS))
q.cluster_centers(palette)
rgb = bytes(min(255, int(v + 0.5)) for v in palette)   # the palette as 8-bit colours
print("palette", " ".join("#%02x%02x%02x" % (rgb[3 * j], rgb[3 * j + 1], rgb[3 * j + 2]) for j in range(COLOURS)))

labels = bytearray(w * h)                     # one palette index per pixel
q.predict_many(pixels, labels)
with open("quantized.ppm", "wb") as f:
    f.write(b"P6\n%d %d\n255\n" % (w, h))
    row = bytearray(3 * w)
    for y in range(h):
        for x in range(w):
            j = 3 * labels[y * w + x]
            row[3 * x:3 * x + 3] = rgb[j:j + 3]
        f.write(row)

# the host's palette (scikit-learn, converted by emlmpy): the same pixels' labels with it
host = emlkmeans.KMeans(COLOURS, 3, "B")
centers = array.array("f", bytes(4 * 3 * COLOURS))
with open("palette.bin", "rb") as f:
    f.readinto(centers)
host.set_cluster_centers(centers)
host.predict_many(pixels, labels)
with open("labels_host.bin", "wb") as f:
    f.write(labels)
print("wrote quantized.ppm and labels_host.bin")
