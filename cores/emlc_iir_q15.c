/* emlc_iir_q15.c: Q15 biquad cascade, direct form I, integer only. See emlc_iir_q15.h. */
#include "emlc_iir_q15.h"

emlc_err_t emlc_iir_q15_init(emlc_iir_q15_t *f, const int16_t *sos, size_t sos_len, size_t n_sections,
                             int16_t *state, size_t state_len) {
    if (!f || !sos || !state) {
        return EMLC_ERR_NULL;
    }
    /* n_sections bounded first so 6 * n_sections cannot wrap. */
    if (n_sections == 0 || n_sections > ((size_t)-1 >> 3) || sos_len != 6u * n_sections) {
        return EMLC_ERR_SIZE;
    }
    if (state_len < 4u * n_sections) {
        return EMLC_ERR_CAPACITY;
    }
    for (size_t s = 0; s < n_sections; s++) {
        const int16_t *c = sos + 6 * s;
        int32_t bsum = 0;
        for (int i = 0; i < 3; i++) {
            bsum += c[i] < 0 ? -(int32_t)c[i] : c[i];
        }
        if (c[3] < 0 || c[3] > EMLC_IIR_Q15_MAX_SHIFT || bsum > EMLC_IIR_Q15_MAX_BSUM || c[4] == INT16_MIN ||
            c[5] == INT16_MIN) {
            return EMLC_ERR_VALUE;
        }
    }
    f->sos = sos;
    f->state = state;
    f->n_sections = n_sections;
    return emlc_iir_q15_reset(f);
}

emlc_err_t emlc_iir_q15_reset(emlc_iir_q15_t *f) {
    if (!f || !f->state) {
        return EMLC_ERR_NULL;
    }
    for (size_t i = 0; i < 4 * f->n_sections; i++) {
        f->state[i] = 0;
    }
    return EMLC_OK;
}

emlc_err_t emlc_iir_q15_process(emlc_iir_q15_t *f, const int16_t *in, int16_t *out, size_t n) {
    if (!f || !in || !out || !f->sos || !f->state) {
        return EMLC_ERR_NULL;
    }
    /* Section-major, as emlc_iir.c: the chunk passes section 0 (in -> out), later sections work in
     * place on out. Each section keeps its own input history, so the order gives the same result as
     * a sample-by-sample cascade. */
    const int16_t *src = in;
    for (size_t s = 0; s < f->n_sections; s++) {
        const int16_t *c = f->sos + 6 * s;
        int16_t *st = f->state + 4 * s;
        const int32_t b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[4], a2 = c[5];
        const unsigned t = (unsigned)c[3];
        int32_t x1 = st[0], x2 = st[1], y1 = st[2], y2 = st[3];
        for (size_t i = 0; i < n; i++) {
            const int32_t x = src[i];
            /* Bounds in emlc_iir_q15.h: neither sum overflows int32. Right shifts of negative values
             * are arithmetic on every compiler the project uses (gcc, clang). */
            int32_t acc = ((b0 * x + b1 * x1 + b2 * x2) >> t) - ((a1 * y1 + a2 * y2) >> 3);
            acc = (acc + 1024) >> 11;
            if (acc > INT16_MAX) {
                acc = INT16_MAX;
            } else if (acc < INT16_MIN) {
                acc = INT16_MIN;
            }
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = acc;
            out[i] = (int16_t)acc;
        }
        st[0] = (int16_t)x1;
        st[1] = (int16_t)x2;
        st[2] = (int16_t)y1;
        st[3] = (int16_t)y2;
        src = out;
    }
    return EMLC_OK;
}
