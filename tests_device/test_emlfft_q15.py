# emlfft_q15 on the device: results equal emlmpy's fft_q15/ifft_q15/rfft_q15 (host) bit for bit and
# numpy.fft.fft(x)/n within the documented bound ((log2 n + 1)/2 LSB).
import array

import emlfft_q15
from dtest import check, done, load, raises

re0 = load("fftq15_re.i16", "h")
im0 = load("fftq15_im.i16", "h")
n = len(re0)

fft = emlfft_q15.FFT(n)
re = array.array("h", re0)
im = array.array("h", im0)
fft.run(re, im)
want = load("fftq15_fwd.i16", "h")
check("fft_q15 bit for bit", re == want[:n] and im == want[n:])
want = None
ref = load("fftq15_numpy.f32", "f")
worst = 0.0
for k in range(n):
    worst = max(worst, abs(complex(re[k], im[k]) - complex(ref[k], ref[n + k])))
ref = None
check("within 4.5 LSB of numpy.fft/n (n=256)", worst <= 4.5, "max err %g" % worst)

re = array.array("h", re0)
im = array.array("h", im0)
emlfft_q15.new(n).inverse(re, im)
want = load("fftq15_inv.i16", "h")
check("ifft_q15 bit for bit", re == want[:n] and im == want[n:])

h = n // 2 + 1
r = array.array("h", bytes(2 * h))
i = array.array("h", bytes(2 * h))
fft.rfft(re0, r, i)
want = load("fftq15_rfft.i16", "h")
check("rfft_q15 bit for bit", r == want[:h] and i == want[h:])
want = None

raises("not a power of two", ValueError, emlfft_q15.FFT, 100)
raises("zero", ValueError, emlfft_q15.new, 0)
raises("too large", ValueError, emlfft_q15.new, 65536)
raises("length mismatch", ValueError, fft.run, array.array("h", [0] * n), array.array("h", [0] * (n - 1)))
raises("typecode", TypeError, fft.run, array.array("f", [0.0] * n), array.array("f", [0.0] * n))
a = array.array("h", [0] * n)
raises("real and imag the same array", ValueError, fft.run, a, a)
raises("rfft outputs the same array", ValueError, fft.rfft, a, r, r)
check("FFT(n) is new(n)", type(emlfft_q15.FFT(8)) is type(emlfft_q15.new(8)))
done()
