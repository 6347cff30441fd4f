/* emlc_array.h: array helpers that are slow in Python: a clipped linear map between int16 and
 * float32 arrays, and window features (mean, std, min, max, RMS, zero crossings) over a strided
 * view of an int16 or float32 array (every `stride`-th element: one axis of interleaved x, y, z).
 *
 * Exactness (docs/emlarray.md; the host model is emlmpy.arrays, bit for bit except a NaN
 * result's sign and payload, which IEEE 754 leaves open and CPUs set differently):
 *  - int16 windows: the sums are exact integers (s in int32, sum of squares in uint64), and
 *    mean = s / n, std = sqrt(n*ss - s*s) / n (population, numpy.std's default) and
 *    rms = sqrt(ss / n) are each the correctly rounded (nearest, ties to even) float32 of the exact
 *    real value; min, max and the zero-crossing count are exact.
 *  - float32 windows: s is the float32 sum in view order (first to last element, no FMA); mean is
 *    the correctly rounded float32 of s / n; std is the correctly rounded float32 of
 *    sqrt(d / n) with d the float32 sum in view order of (x - mean) * (x - mean) (two passes);
 *    rms the correctly rounded float32 of sqrt(q / n) with q the float32 sum of x * x. NaN
 *    anywhere: mean, std, min, max and rms are NaN; infinities follow float32 arithmetic.
 *  - zero crossings: the number of neighbouring pairs (x[i], x[i+1]) of the view where exactly one
 *    of the two is < 0 (a zero, -0.0 and NaN count as not negative: librosa's zero_pos=True).
 *  - linear map: y = (x - in_min) * k + out_min in float32 (that order, no FMA) with
 *    k = (out_max - out_min) / (in_max - in_min) correctly rounded from the float32 differences;
 *    y is then clipped to [min(out_min, out_max), max(out_min, out_max)]; an int16 destination
 *    also clips to -32768..32767 and rounds to nearest, ties to even (numpy.rint). NaN stays NaN
 *    into float32; into int16 it is an error before anything is written.
 * No allocation, no global state, no libm, no division instruction or helper (long division in
 * integers); float work is + - * only (soft float on chips without an FPU).
 */
#ifndef EMLC_ARRAY_H
#define EMLC_ARRAY_H

#include "emlc_common.h"

/* Element types. */
#define EMLC_ARRAY_I16 0 /* int16_t */
#define EMLC_ARRAY_F32 1 /* float */

/* Window features, in this order in the output. */
#define EMLC_ARRAY_MEAN 0
#define EMLC_ARRAY_STD 1
#define EMLC_ARRAY_MIN 2
#define EMLC_ARRAY_MAX 3
#define EMLC_ARRAY_RMS 4
#define EMLC_ARRAY_ZERO_CROSSINGS 5
#define EMLC_ARRAY_N_FEATURES 6

/* Longest window: the int16 sums stay exact in 64 bits (n * ss < 2^62). */
#define EMLC_ARRAY_MAX_N 65535u

/* The correctly rounded float32 of p / q * 2^e (root 0) or of its square root (root 1; p >= 0).
 * p: |p| < 2^63; q >= 1 (q == 0 or p == 0 gives 0); -300 < e < 300. Results past the float32 range
 * are +-inf; below it subnormal or zero (round to nearest even throughout). */
float emlc_array_ratio(int64_t p, uint32_t q, int32_t e, int root);

/* The six features of x[0], x[stride], ..., x[(n-1) * stride] (dtype EMLC_ARRAY_I16 or _F32) into
 * out[0..5]. EMLC_ERR_SIZE unless 1 <= n <= EMLC_ARRAY_MAX_N and stride >= 1; EMLC_ERR_KIND for
 * another dtype; EMLC_ERR_NULL for NULL pointers. */
emlc_err_t emlc_array_features(const void *x, int dtype, size_t n, size_t stride, float *out);

/* dst[i] = map(src[i * stride]) for i < n (rules above). range: in_min, in_max, out_min, out_max.
 * EMLC_ERR_VALUE (nothing written) when a bound is not finite, in_min == in_max, out_min ==
 * out_max, k is not a normal float32, or an int16 dst gets a NaN; EMLC_ERR_SIZE for stride 0;
 * EMLC_ERR_KIND, EMLC_ERR_NULL as above. In place (dst == src, same dtype, stride 1) is fine;
 * other overlaps are the caller's to refuse. */
emlc_err_t emlc_array_linear_map(const void *src, int src_dtype, size_t stride, void *dst, int dst_dtype,
                                 size_t n, const float *range);

#endif /* EMLC_ARRAY_H */
