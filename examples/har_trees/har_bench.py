# Device side: time the per-axis statistics and counts -> g scaling of har_run.py, the way it was
# written in Python before emlarray and with emlarray, on the held-out windows (har_test.bin).
# Needs emlarray.mpy and har_test.bin (har_train.py); prints microseconds per window for each and
# says whether both give the same float32 bits (on the unix port they do; on a single-precision
# port the Python way's float32 arithmetic does not round like the host's, emlarray's does).
import array
import math
import time

import emlarray

WINDOW = 128
AXES = 3
INV_G = 1.0 / 4096
SCALE = WINDOW * 4096
REPEAT = 3

raw = array.array('h', bytes(2 * WINDOW * AXES))
x = array.array('f', bytes(4 * WINDOW))
feat = array.array('f', bytes(4 * 2 * AXES))
stats = array.array('f', bytes(4 * 6))


def python_way(raw, feat):  # har_run.py before emlarray
    for axis in range(AXES):
        s = 0
        ss = 0
        for i in range(WINDOW):
            v = raw[AXES * i + axis]
            s += v
            ss += v * v
            x[i] = v * INV_G
        feat[2 * axis] = s / SCALE
        feat[2 * axis + 1] = math.sqrt(WINDOW * ss - s * s) / SCALE


def emlarray_way(raw, feat):  # har_run.py now
    for axis in range(AXES):
        emlarray.features(raw, stats, axis, AXES)
        feat[2 * axis] = stats[0] * INV_G
        feat[2 * axis + 1] = stats[1] * INV_G
        emlarray.linear_map(raw, x, -32768, 32768, -8, 8, axis, AXES)


def features_only(raw, feat):  # the parts of emlarray_way, for the breakdown
    for axis in range(AXES):
        emlarray.features(raw, stats, axis, AXES)


def linear_map_only(raw, feat):
    for axis in range(AXES):
        emlarray.linear_map(raw, x, -32768, 32768, -8, 8, axis, AXES)


windows = []
with open('har_test.bin', 'rb') as f:
    while len(windows) < 40 and f.readinto(raw) == 2 * len(raw):
        windows.append(bytes(raw))
same = True
us = {}
for name, fn in (('python', python_way), ('emlarray', emlarray_way), ('features', features_only),
                 ('linear_map', linear_map_only)):
    t0 = time.ticks_us()
    for _ in range(REPEAT):
        for w in windows:
            raw[:] = array.array('h', w)
            fn(raw, feat)
    us[name] = time.ticks_diff(time.ticks_us(), t0) / (REPEAT * len(windows))
for w in windows:  # same bits, window by window
    raw[:] = array.array('h', w)
    python_way(raw, feat)
    a, xa = bytes(feat), bytes(x)
    emlarray_way(raw, feat)
    same = same and a == bytes(feat) and xa == bytes(x)
print('python   us per window %.1f' % us['python'])
print('emlarray us per window %.1f' % us['emlarray'])
print('  of which features %.1f, linear_map %.1f' % (us['features'], us['linear_map']))
print('speed-up %.1fx, same bits %s' % (us['python'] / us['emlarray'], same))
