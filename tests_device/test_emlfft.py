# emlfft on the device: results equal numpy.fft (host).
import array

import emlfft
from dtest import check, done, load, raises

# the FFT needs the whole signal: 256 float32 values, one 1 KiB array per file
x = load("fft_x.f32", "f")
re_ref = load("fft_re.f32", "f")  # numpy.fft.fft(x) in float64, stored as float32
im_ref = load("fft_im.f32", "f")
n = len(x)
peak = max(max(abs(v) for v in re_ref), max(abs(v) for v in im_ref))
tol = 1e-5 * peak * 8  # float32 accuracy, log2(n) stages

fft = emlfft.FFT(n)
re = array.array("f", x)
im = array.array("f", [0.0] * n)
fft.run(re, im)
worst = max(max(abs(a - b) for a, b in zip(re, re_ref)), max(abs(a - b) for a, b in zip(im, im_ref)))
check("fft == numpy", worst <= tol, "max err %g" % worst)

fft.inverse(re, im)
worst = max(abs(a - b) for a, b in zip(re, x))
check("inverse(fft(x)) == x", worst <= 1e-5 * 8, "max err %g" % worst)

r = array.array("f", [0.0] * (n // 2 + 1))
i = array.array("f", [0.0] * (n // 2 + 1))
emlfft.new(n).rfft(array.array("f", x), r, i)
worst = max(max(abs(a - b) for a, b in zip(r, re_ref)), max(abs(a - b) for a, b in zip(i, im_ref)))
check("rfft == numpy", worst <= tol, "max err %g" % worst)

raises("not a power of two", ValueError, emlfft.FFT, 100)
raises("zero", ValueError, emlfft.new, 0)
raises("length mismatch", ValueError, fft.run, array.array("f", [0.0] * n), array.array("f", [0.0] * (n - 1)))
raises("typecode", TypeError, fft.run, array.array("d", [0.0] * n), array.array("d", [0.0] * n))
a = array.array("f", [0.0] * n)
raises("real and imag the same array", ValueError, fft.run, a, a)
raises("real and imag overlapping", ValueError, fft.inverse, a, memoryview(a))
h = array.array("f", [0.0] * (n // 2 + 1))
raises("rfft outputs the same array", ValueError, fft.rfft, a, h, h)
raises("table larger than the heap", MemoryError, emlfft.FFT, 1 << 24)
check("FFT(n) is new(n)", type(emlfft.FFT(8)) is type(emlfft.new(8)))
done()
