/* emlc_quant.h: the int16 input quantization of docs/model-format.md §1, shared by the tree and
 * k-NN models loaded from files (what emlmpy's quantize() computes on the host, bit for bit):
 *
 *   u = (x - offset) * scale   (two float32 operations)
 *   q = floor(u + 0.5f)        (float32 add), clamped to -32768..32767; NaN -> 0
 *
 * x - offset is computed as x + (-offset), the same IEEE operation; the comparisons and the floor
 * are integer operations on the bit patterns, so on chips without an FPU only float add and
 * multiply helpers are called (no compare, subtract or conversion routine). No FMA: compile with
 * -ffp-contract=off (the natmod and host builds do; -Os never contracts here either).
 */
#ifndef EMLC_QUANT_H
#define EMLC_QUANT_H

#include "emlc_common.h"

/* One value. */
int16_t emlc_quantize(float x, float scale, float offset);

/* n values: out[f] = emlc_quantize(x[f], scale[f], offset[f]). */
void emlc_quantize_row(const float *x, const float *scale, const float *offset, size_t n, int16_t *out);

#endif /* EMLC_QUANT_H */
