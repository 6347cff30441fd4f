# emliir_q15 on the device: output equals emlmpy.IirQ15 (host) bit for bit, streamed in chunks, and
# stays within the documented bound of scipy.signal.sosfilt (float64).
import array

import emliir_q15
from dtest import check, done, fill, load, raises

coef = load("iirq15_sos.i16", "h")  # (12,): 2 sections of B0 B1 B2 T A1 A2
f = emliir_q15.new(coef)

# uneven chunks read straight from the files, state kept across calls
same = True
worst = 0.0
count = 0
with open("iirq15_x.i16", "rb") as fx, open("iirq15_y.i16", "rb") as fy, open("iirq15_sosfilt.f32", "rb") as fr:
    for n in (1, 7, 64, 128, 300):
        buf = array.array("h", bytes(2 * n))
        want = array.array("h", bytes(2 * n))
        ref = array.array("f", bytes(4 * n))
        if fill(fx, buf, 2 * n) != 2 * n or fill(fy, want, 2 * n) != 2 * n or fill(fr, ref, 4 * n) != 4 * n:
            break
        f.run(buf)
        same = same and buf == want
        for a, b in zip(buf, ref):
            worst = max(worst, abs(a - b))
        count += n
    ended = fx.read(1) == b"" and fy.read(1) == b""
buf = want = ref = None
check("IirQ15 bit for bit in chunks", count == 500 and ended and same)
check("within 11 LSB of sosfilt (order 4)", worst <= 11, "max err %g" % worst)

f.reset()
x = load("iirq15_x.i16", "h")
f.run(x)
check("reset then one call", x == load("iirq15_y.i16", "h"))
x = array.array("h")
f.run(x)
check("empty array", len(x) == 0)

raises("wrong coefficient count", ValueError, emliir_q15.new, array.array("h", [1] * 7))
raises("T out of range", ValueError, emliir_q15.new, array.array("h", [1, 0, 0, 32, 0, 0]))
raises("numerator too large", ValueError, emliir_q15.new, array.array("h", [30000, 30000, 0, 0, 0, 0]))
raises("wrong typecode", TypeError, f.run, array.array("f", [0.0]))
raises("coefficients typecode", TypeError, emliir_q15.new, array.array("f", [1, 0, 0, 1, 0, 0]))
check("IIR(c) is new(c)", type(emliir_q15.IIR(coef)) is type(f))
done()
