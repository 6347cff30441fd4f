/* emlc_iir_q15.h: IIR filter as a cascade of second-order sections on int16 (Q15) samples, in
 * integer arithmetic only (for chips without an FPU: no float operation anywhere).
 *
 * Coefficients: one row of 6 int16 per section, in the position of scipy's `sos` row
 * b0 b1 b2 a0 a1 a2, holding
 *     B0 B1 B2 T A1 A2    with  Bi = round(bi * 2^(11+T)),  Ai = round(ai * 2^14)  (a0 == 1 implied)
 * T (0..31) is the section's b shift, in a0's slot: it gives small numerator gains (scipy puts the
 * whole filter's gain, often 1e-4 or less, into the first section) up to 15 significant bits, and
 * numerators as large as sum|bi| < 28 room at T = 0. emlmpy.iir_coefficients_q15(sos) chooses T.
 * The feedback coefficients are Q14: a stable section has |a1| < 2, |a2| < 1.
 *
 * Each section runs in direct form I on int16 values (input history x1 x2, output history y1 y2):
 *     accb = B0*x + B1*x1 + B2*x2                      (int32)
 *     acca = A1*y1 + A2*y2                              (int32)
 *     acc  = (accb >> T) - (acca >> 3)                  (Q11: 11 bits below the output's LSB)
 *     y    = saturate_int16((acc + 1024) >> 11)         (round half up)
 * (>> is an arithmetic shift, i.e. floor division by a power of two.) No sum can overflow int32:
 * init requires sum|Bi| <= EMLC_IIR_Q15_MAX_BSUM (57343) and |Ai| <= 32767, so
 * |accb| <= 57343 * 32768 and |acca >> 3| <= 65534 * 32768 / 8, together < 2^31 - 1024.
 * The output of a section saturates to int16 (the next section's input): a cascade whose partial
 * gains exceed 1 at some frequency needs headroom in the input (docs/emliir_q15.md).
 * The state (4 int16 per section, caller-owned) persists across calls, so a chunked stream gives
 * the same output as one call. No allocation, no division, no float. C99.
 */
#ifndef EMLC_IIR_Q15_H
#define EMLC_IIR_Q15_H

#include "emlc_common.h"

#define EMLC_IIR_Q15_MAX_BSUM 57343 /* largest sum |B0| + |B1| + |B2| of a section */
#define EMLC_IIR_Q15_MAX_SHIFT 31   /* largest T */

/* Invariants after a successful init: sos has 6*n_sections int16 obeying the limits above;
 * state has 4*n_sections int16; n_sections >= 1. */
typedef struct emlc_iir_q15 {
    const int16_t *sos;
    int16_t *state;
    size_t n_sections;
} emlc_iir_q15_t;

/* Set up a filter and zero its state. sos_len (int16 values) must be 6*n_sections; state_len must be
 * >= 4*n_sections. Errors: NULL (f, sos, state), SIZE (n_sections == 0 or sos_len != 6*n_sections),
 * CAPACITY (state_len too small), VALUE (a T outside 0..31, sum|Bi| > 57343, or an Ai == -32768). */
emlc_err_t emlc_iir_q15_init(emlc_iir_q15_t *f, const int16_t *sos, size_t sos_len, size_t n_sections,
                             int16_t *state, size_t state_len);

/* Zero the state. Errors: NULL. */
emlc_err_t emlc_iir_q15_reset(emlc_iir_q15_t *f);

/* Filter n samples from in to out (in == out allowed; otherwise they must not overlap). n == 0 does
 * nothing. Errors: NULL (f, in, out, or f not set up). */
emlc_err_t emlc_iir_q15_process(emlc_iir_q15_t *f, const int16_t *in, int16_t *out, size_t n);

#endif /* EMLC_IIR_Q15_H */
