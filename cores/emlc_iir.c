/* emlc_iir.c: biquad cascade, transposed direct form II. See emlc_iir.h. */
#include "emlc_iir.h"

/* IEEE-754 bit pattern of a float (integer tests: no libm, no soft-float compare). */
static uint32_t emlc_iir_bits(float v) {
    emlc_bits_t b;
    b.f = v;
    return b.u;
}

/* True if the float is finite (exponent bits not all ones). */
static int emlc_iir_finite(float v) {
    return (emlc_iir_bits(v) & 0x7f800000u) != 0x7f800000u;
}

emlc_err_t emlc_iir_init(emlc_iir_t *f, const float *sos, size_t sos_len, size_t n_sections, float *state,
                         size_t state_len) {
    if (!f || !sos || !state) {
        return EMLC_ERR_NULL;
    }
    /* n_sections bounded first so 6 * n_sections cannot wrap (and no division is needed). */
    if (n_sections == 0 || n_sections > ((size_t)-1 >> 3) || sos_len != 6u * n_sections) {
        return EMLC_ERR_SIZE;
    }
    if (state_len < 2u * n_sections) {
        return EMLC_ERR_CAPACITY;
    }
    for (size_t i = 0; i < sos_len; i++) {
        if (!emlc_iir_finite(sos[i])) {
            return EMLC_ERR_VALUE;
        }
    }
    for (size_t s = 0; s < n_sections; s++) {
        if (emlc_iir_bits(sos[6 * s + 3]) != 0x3f800000u) { /* a0 must be exactly 1.0f */
            return EMLC_ERR_VALUE;
        }
    }
    f->sos = sos;
    f->state = state;
    f->n_sections = n_sections;
    return emlc_iir_reset(f);
}

emlc_err_t emlc_iir_reset(emlc_iir_t *f) {
    if (!f || !f->state) {
        return EMLC_ERR_NULL;
    }
    for (size_t i = 0; i < 2 * f->n_sections; i++) {
        f->state[i] = 0.0f;
    }
    return EMLC_OK;
}

emlc_err_t emlc_iir_process(emlc_iir_t *f, const float *in, float *out, size_t n) {
    if (!f || !in || !out || !f->sos || !f->state) {
        return EMLC_ERR_NULL;
    }
    /* Section-major: the whole chunk passes section 0 (in -> out), then each later section
     * works in place on out. Each sample sees the same operations in the same order as a
     * sample-by-sample cascade, so results are identical; coefficients stay in registers. */
    const float *src = in;
    for (size_t s = 0; s < f->n_sections; s++) {
        const float *c = f->sos + 6 * s;
        const float b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[4], a2 = c[5];
        float z0 = f->state[2 * s], z1 = f->state[2 * s + 1];
        for (size_t i = 0; i < n; i++) {
            const float x = src[i];
            const float y = b0 * x + z0;
            z0 = b1 * x - a1 * y + z1;
            z1 = b2 * x - a2 * y;
            out[i] = y;
        }
        f->state[2 * s] = z0;
        f->state[2 * s + 1] = z1;
        src = out;
    }
    return EMLC_OK;
}
