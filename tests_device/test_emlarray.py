# emlarray on the device: window features of an interleaved x, y, z int16 recording (one axis per
# strided view) and of a float32 signal equal numpy's float64 values within float32 rounding and
# the host model's (emlmpy.arrays) bits; linear maps counts -> g and float -> int16 likewise;
# bad input raises and writes nothing.
import array

import emlarray
from dtest import check, done, load, raises

xyz = load("array_xyz.i16", "h")  # 128 samples of x, y, z
sig = load("array_sig.f32", "f")
ref = load("array_feat.f32", "f")
bits = load("array_feat_bits.f32", "f")
out = array.array("f", [0] * 6)
views = ((xyz, 0, 3), (xyz, 1, 3), (xyz, 2, 3), (xyz, 0, 1), (sig, 0, 1), (sig, 1, 2))
for i in range(len(views)):
    src, start, step = views[i]
    emlarray.features(src, out, start, step)
    row = ref[6 * i:6 * i + 6]
    worst = 0.0
    for j in range(6):
        # mean, std, rms: float32 rounding of numpy's float64 value (float32 sums: a few more)
        tol = (2e-7 if src is xyz else 2e-6) * max(abs(row[j]), 1e-30) + (1e-6 if j in (0, 1) and src is sig else 0)
        worst = max(worst, abs(out[j] - row[j]) - tol)
    check("features %d vs numpy" % i, worst <= 0, "off by %r" % worst)
    check("features %d bits" % i, bytes(out) == bytes(bits[6 * i:6 * i + 6]))

g = array.array("f", [0] * 128)
emlarray.linear_map(xyz, g, -32768, 32768, -8, 8, 0, 3)
want = load("array_map_g.f32", "f")
check("counts -> g vs numpy", all(g[i] == want[i] for i in range(128)))  # exact: powers of two
check("counts -> g bits", bytes(g) == bytes(load("array_map_g_bits.f32", "f")))
q = array.array("h", [0] * len(sig))
emlarray.linear_map(sig, q, -10, 10, -32767, 32767)
want = load("array_map_q.f32", "f")
check("float -> int16 vs numpy", max(abs(q[i] - want[i]) for i in range(len(q))) <= 0.51)
check("float -> int16 bits", bytes(q) == bytes(load("array_map_q.i16", "h")))

# inf - inf: the host model's bits except a NaN result's sign and payload (docs/emlarray.md)
inf = float("inf")
emlarray.features(array.array("f", [1, inf, -inf, 2, 3]), out)
want = load("array_inf_bits.f32", "f")
same = all((out[j] != out[j]) if want[j] != want[j] else bytes(out)[4 * j:4 * j + 4] == bytes(want)[4 * j:4 * j + 4]
           for j in range(6))
check("inf features == host but NaN bits", same, "%r vs %r" % (list(out), list(want)))

# bad input: clear errors, nothing written
o = array.array("f", [7] * 6)
raises("empty window", ValueError, emlarray.features, array.array("h"), o)
raises("start past the end", ValueError, emlarray.features, xyz, o, 384)
raises("step 0", ValueError, emlarray.features, xyz, o, 0, 0)
raises("int32 src", TypeError, emlarray.features, array.array("i", [1, 2]), o)
raises("out of 5", ValueError, emlarray.features, xyz, array.array("f", [0] * 5))
raises("in_min == in_max", ValueError, emlarray.linear_map, sig, q, 1, 1, 0, 1)
raises("length mismatch", ValueError, emlarray.linear_map, sig, g, 0, 1, 0, 1)
raises("NaN bound", ValueError, emlarray.linear_map, sig, q, float("nan"), 1, 0, 1)
d = array.array("h", [7, 7])
raises("NaN into int16", ValueError, emlarray.linear_map, array.array("f", [1, float("nan")]), d, 0, 1, 0, 1)
check("nothing written", list(o) == [7] * 6 and list(d) == [7, 7])
done()
