# emliir on the device: output equals scipy.signal.sosfilt (host), streamed in chunks.
import array

import emliir
from dtest import check, done, fill, load, raises, rows

sos = load("iir_sos.f32", "f")  # (12,): 2 sections of b0 b1 b2 a0 a1 a2
f = emliir.new(sos)

# uneven chunks read straight from iir_x.f32 and iir_y.f32 (500,), state kept across calls
worst = peak = 0.0
count = 0
with open("iir_x.f32", "rb") as fx, open("iir_y.f32", "rb") as fy:
    for n in (1, 7, 64, 128, 300):
        buf = array.array("f", bytes(4 * n))
        ref = array.array("f", bytes(4 * n))
        if fill(fx, buf, 4 * n) != 4 * n or fill(fy, ref, 4 * n) != 4 * n:
            break
        f.run(buf)
        for a, b in zip(buf, ref):
            worst = max(worst, abs(a - b))
            peak = max(peak, abs(b))
        count += n
    ended = fx.read(1) == b"" and fy.read(1) == b""  # x and y hold exactly those 500 samples
buf = ref = None
check("sosfilt in chunks", count == 500 and ended and worst <= 1e-5 * peak, "max err %g" % worst)

f.reset()
x = load("iir_x.f32", "f")
f.run(x)
worst = 0.0
i = 0
for ref in rows("iir_y.f32", "f", 50):
    for b in ref:
        worst = max(worst, abs(x[i] - b))
        i += 1
check("reset then one call", i == len(x) and worst <= 1e-5 * peak, "max err %g" % worst)

raises("wrong coefficient count", ValueError, emliir.new, array.array("f", [1.0] * 7))
raises("a0 != 1", ValueError, emliir.new, array.array("f", [1, 0, 0, 2, 0, 0]))
raises("wrong typecode", TypeError, f.run, array.array("d", [0.0]))
raises("coefficients typecode", TypeError, emliir.new, array.array("d", [1, 0, 0, 1, 0, 0]))
done()
