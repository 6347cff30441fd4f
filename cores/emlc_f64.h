/* emlc_f64.h: exact IEEE-754 double arithmetic on non-negative values, in integers.
 *
 * For the rare paths that must reproduce a host's float64 result bit for bit (scikit-learn's
 * forest vote at exact ties, emlc_trees.c) on chips without a double-precision FPU, without
 * linking a soft-double library. Values are the 64-bit patterns of non-negative, finite, normal
 * doubles (or +0). Results are correctly rounded (to nearest, ties to even), as IEEE-754 and
 * numpy compute them; no subnormal, infinite or NaN result can arise from the inputs the callers
 * give (counts and sums far from the double range limits).
 */
#ifndef EMLC_F64_H
#define EMLC_F64_H

#include <stdint.h>

/* m * 2^e / d, correctly rounded. m < 2^63, d >= 1. */
uint64_t emlc_f64_ratio(uint64_t m, int32_t e, uint32_t d);

/* a + b, correctly rounded. */
uint64_t emlc_f64_add(uint64_t a, uint64_t b);

/* a / d for an integer d >= 1, correctly rounded. */
uint64_t emlc_f64_div_int(uint64_t a, uint32_t d);

#endif /* EMLC_F64_H */
