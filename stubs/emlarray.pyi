"""Array helpers that are slow in Python: a clipped linear map between int16 and float32 arrays,
and window features over a strided view (docs/emlarray.md).

Arrays are array('h') (int16) or array('f') (float32), or a memoryview of one (a window of a
longer buffer: ``memoryview(buf)[a:b]``). The view src[start::step] picks one axis of interleaved
data (x, y, z accelerometer samples: start = axis, step = 3). Arguments are positional. Every bad
argument raises TypeError (wrong type or typecode) or ValueError (length, range, value) before
anything is written. Nothing is allocated."""
from array import array

Buffer = array | memoryview


def features(src: Buffer, out: array, start: int = 0, step: int = 1) -> None:
    """Write into ``out`` (array('f') of 6) the features of the view src[start::step] (1..65535
    elements):

    ``out[0]`` mean, ``out[1]`` standard deviation (population, numpy.std's default),
    ``out[2]`` min, ``out[3]`` max, ``out[4]`` root mean square, ``out[5]`` zero crossings (the
    number of neighbouring pairs where exactly one value is < 0; 0, -0.0 and NaN count as not
    negative).

    int16: exact integer sums; mean, std and rms are the float32 nearest to the exact values.
    float32: float32 sums in view order (std from a second pass around the mean), then a correctly
    rounded division and square root; NaN anywhere gives NaN for all but the crossings."""


def linear_map(src: Buffer, dst: Buffer, in_min: float, in_max: float, out_min: float, out_max: float,
               start: int = 0, step: int = 1) -> None:
    """dst[i] = out_min + (src[start + i * step] - in_min) * k, k = (out_max - out_min) /
    (in_max - in_min), in float32; clipped to the output range [min(out_min, out_max),
    max(out_min, out_max)]. An array('h') dst is also clipped to -32768..32767 and rounded to
    nearest, ties to even. len(dst) must equal len(src[start::step]); any src/dst typecode pair;
    dst may be src itself (in place, whole array) but may not overlap it otherwise.

    ValueError: a bound not finite, in_min == in_max, out_min == out_max, k out of float32's
    normal range, a NaN in src with an array('h') dst (nothing is written). NaN into array('f')
    stays NaN; +-inf clip to the ends."""
