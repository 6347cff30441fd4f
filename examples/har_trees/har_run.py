# Device side: classify accelerometer windows with features computed here and a random forest.
# Needs emltrees.mpy, emlfft.mpy, emlarray.mpy, har_model.bin, har_test.bin, har_labels.bin (from har_train.py).
import array
import time

import emlarray
import emlfft
import emltrees

WINDOW = 128           # samples per window (2.56 s at 50 Hz)
AXES = 3               # x, y, z interleaved, int16 counts
INV_G = 1.0 / 4096     # g per count (+-8 g range): a power of two, exact
BANDS = ((1, 3), (3, 6), (6, 11), (11, 21), (21, 65))  # rfft bins [lo, hi), 0.39 Hz apart
CLASSES = ('still', 'walking', 'running', 'stairs')
PER_AXIS = 2 + len(BANDS)

model = emltrees.new(10, 400)  # up to 10 trees, 400 decision nodes
with open('har_model.bin', 'rb') as f:
    emltrees.load_model(model, f)

fft = emlfft.FFT(WINDOW)
raw = array.array('h', bytes(2 * WINDOW * AXES))
x = array.array('f', bytes(4 * WINDOW))
re = array.array('f', bytes(4 * (WINDOW // 2 + 1)))
im = array.array('f', bytes(4 * (WINDOW // 2 + 1)))
feat = array.array('f', bytes(4 * AXES * PER_AXIS))
stats = array.array('f', bytes(4 * 6))  # emlarray.features: mean, std, min, max, rms, zero crossings


def compute_features(raw, feat):
    for axis in range(AXES):
        # one axis of the interleaved window: raw[axis::AXES]; mean and std in counts from exact
        # integer sums, each correctly rounded to float32; times 2**-12 stays exact
        emlarray.features(raw, stats, axis, AXES)
        col = axis * PER_AXIS
        feat[col] = stats[0] * INV_G                                # mean, g
        feat[col + 1] = stats[1] * INV_G                            # standard deviation, g
        # counts -> g: (v + 32768) * 2**-12 - 8, every step exact in float32
        emlarray.linear_map(raw, x, -32768, 32768, -8, 8, axis, AXES)
        fft.rfft(x, re, im)
        for j in range(len(BANDS)):
            lo, hi = BANDS[j]
            e = 0.0
            for k in range(lo, hi):
                e += re[k] * re[k] + im[k] * im[k]
            feat[col + 2 + j] = e / 8192                           # band energy, g^2


with open('har_labels.bin', 'rb') as f:
    labels = f.read()
preds = []
correct = 0
t0 = time.ticks_ms()
with open('har_test.bin', 'rb') as f, open('har_device_features.bin', 'wb') as out:
    while f.readinto(raw) == 2 * len(raw):
        compute_features(raw, feat)
        out.write(feat)
        p = model.predict(feat)
        correct += p == labels[len(preds)]
        preds.append(p)
dt = time.ticks_diff(time.ticks_ms(), t0)
n = len(preds)
print('windows', n, 'ms per window', dt / n)
print('predictions', ''.join(str(p) for p in preds))
for c in range(len(CLASSES)):
    total = sum(1 for i in range(n) if labels[i] == c)
    hits = sum(1 for i in range(n) if labels[i] == c and preds[i] == c)
    print('  %-8s %d/%d' % (CLASSES[c], hits, total))
print('accuracy %.4f (%d/%d)' % (correct / n, correct, n))
