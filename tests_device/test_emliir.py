# emliir on the device: output equals scipy.signal.sosfilt (host), streamed in chunks.
import array

import emliir
from dtest import check, done, raises, read_floats

sos = array.array("f", read_floats("iir_sos.csv"))
x = read_floats("iir_x.csv")
y = read_floats("iir_y.csv")
peak = max(abs(v) for v in y)

f = emliir.new(sos)
out = []
pos = 0
for n in (1, 7, 64, 128, 300):  # uneven chunks, state kept across calls
    buf = array.array("f", x[pos:pos + n])
    f.run(buf)
    out.extend(buf)
    pos += n
worst = max(abs(a - b) for a, b in zip(out, y))
check("sosfilt in chunks", len(out) == len(y) and worst <= 1e-5 * peak, "max err %g" % worst)

f.reset()
buf = array.array("f", x)
f.run(buf)
worst = max(abs(a - b) for a, b in zip(buf, y))
check("reset then one call", worst <= 1e-5 * peak, "max err %g" % worst)

raises("wrong coefficient count", ValueError, emliir.new, array.array("f", [1.0] * 7))
raises("a0 != 1", ValueError, emliir.new, array.array("f", [1, 0, 0, 2, 0, 0]))
raises("wrong typecode", TypeError, f.run, array.array("d", [0.0]))
raises("coefficients typecode", TypeError, emliir.new, array.array("d", [1, 0, 0, 1, 0, 0]))
done()
