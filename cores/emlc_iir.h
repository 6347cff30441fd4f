/* emlc_iir.h: IIR filter as a cascade of second-order sections (biquads), float32.
 *
 * Coefficients use scipy.signal's `sos` layout: one row of 6 floats per section,
 * b0 b1 b2 a0 a1 a2, with a0 == 1 exactly (as scipy.signal.sosfilt requires; init rejects any
 * other a0 with EMLC_ERR_VALUE rather than normalising, so the numbers used are exactly the
 * caller's). Each section runs in transposed direct form II:
 *     y  = b0*x + z0
 *     z0 = b1*x - a1*y + z1
 *     z1 = b2*x - a2*y
 * The state (z0, z1 per section, 2 floats per section, caller-owned) persists across calls,
 * so filtering a signal in chunks gives exactly the same output as one call (streaming).
 * No allocation, no libm, no division. C99.
 */
#ifndef EMLC_IIR_H
#define EMLC_IIR_H

#include "emlc_common.h"

/* Invariants after a successful init: sos has 6*n_sections floats with every a0 == 1 and all
 * coefficients finite; state has 2*n_sections floats; n_sections >= 1. */
typedef struct emlc_iir {
    const float *sos;
    float *state;
    size_t n_sections;
} emlc_iir_t;

/* Set up a filter and zero its state. sos_len (floats) must be 6*n_sections;
 * state_len (floats) must be >= 2*n_sections.
 * Errors: NULL (f, sos, state), SIZE (n_sections == 0 or sos_len != 6*n_sections),
 * CAPACITY (state_len too small), VALUE (an a0 != 1, or a non-finite coefficient). */
emlc_err_t emlc_iir_init(emlc_iir_t *f, const float *sos, size_t sos_len, size_t n_sections, float *state,
                         size_t state_len);

/* Zero the state (as if no sample had been seen). Errors: NULL. */
emlc_err_t emlc_iir_reset(emlc_iir_t *f);

/* Filter n samples from in to out (in == out allowed; otherwise they must not overlap).
 * n == 0 is a valid empty chunk and does nothing. Errors: NULL (f, in, out, or f not set up). */
emlc_err_t emlc_iir_process(emlc_iir_t *f, const float *in, float *out, size_t n);

#endif /* EMLC_IIR_H */
