/* emllinear.h: what the two linear-model modules share: the model object (made by emllinear,
 * trained by the optional emllinear_train) and the sample argument check. Each module compiles
 * its own copy of lin_samples.
 */
#ifndef EMLLINEAR_H
#define EMLLINEAR_H

#include "emlglue.h"
#include "emlc_linear.h"

/* LinearModel. Invariant: m.coef is one GC block of n_outputs * n_features floats, then
 * n_outputs intercepts (m.intercept), then the class labels of a classifier (m.classes). */
typedef struct lin_obj {
    mp_obj_base_t base;
    emlc_linear_t m;
    uint32_t t; /* the training schedule's sample counter, from 1 (scikit-learn's t_) */
} lin_obj_t;

/* Samples: array('f') or array('h') of n * n_features finite values; returns n, sets *i16. */
static __attribute__((noinline, unused)) size_t lin_samples(const lin_obj_t *self, mp_obj_t obj,
                                                            const void **data, int *i16) {
    mp_buffer_info_t bi;
    size_t n, count = 0;
    if (!mp_get_buffer(obj, &bi, MP_BUFFER_READ) || (bi.typecode != 'f' && bi.typecode != 'h')) {
        emlg_fail(MP_QSTR_TypeError, "x, X: array('f') or array('h')");
    }
    *i16 = bi.typecode == 'h';
    n = bi.len >> (*i16 ? 1 : 2);
    for (; n >= self->m.n_features; n -= self->m.n_features) { /* n / n_features, no division helper */
        count++;
    }
    if (n != 0) {
        emlg_fail(MP_QSTR_ValueError, "x, X: length not a multiple of n_features");
    }
    if (!*i16 && emlc_linear_check(bi.buf, bi.len >> 2) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "inputs must be finite");
    }
    *data = bi.buf;
    return count;
}

/* An array('f') of exactly n items (writable if asked), checked finite when read. */
static __attribute__((noinline, unused)) float *lin_floats(mp_obj_t obj, size_t n, bool writable,
                                                           const char *msg) {
    void *data;
    if (emlg_buf(obj, 'f', writable, msg, &data) != n) {
        emlg_fail(MP_QSTR_ValueError, msg);
    }
    if (!writable && emlc_linear_check(data, n) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "values must be finite");
    }
    return data;
}

static inline mp_obj_t lin_float(float v) {
    return mp_fun_table.binary_get_val_array('f', &v, 0);
}

#endif /* EMLLINEAR_H */
