/* emlc_linear_sgd.c: on-device training of a linear regressor by stochastic gradient descent
 * (scikit-learn's SGDRegressor procedure in float32), its stopping rule, and float32 ln. See
 * emlc_linear.h for the contract. Floats are compared through emlc_linear_key (no soft-float
 * compare).
 */
#include "emlc_linear.h"

float emlc_linear_ln(float x) {
    emlc_bits_t b;
    int32_t e;
    float s, s2, p;
    b.f = x;
    e = (int32_t)(b.u >> 23) - 127;
    b.u = (b.u & 0x007fffffu) | 0x3f800000u; /* the mantissa, in [1, 2) */
    if (b.u > 0x3fb504f3u) {                  /* above sqrt(2): halve it, so m is in [0.707, 1.414] */
        b.u -= 0x00800000u;
        e++;
    }
    /* ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: odd series to s^9 */
    s = (b.f - 1.0f) / (b.f + 1.0f);
    s2 = s * s;
    p = 1.0f / 9;
    p = p * s2 + 1.0f / 7;
    p = p * s2 + 0.2f;
    p = p * s2 + 1.0f / 3;
    p = p * s2 + 1.0f;
    return (float)e * 0.693147182f + 2.0f * s * p;
}

emlc_err_t emlc_linear_sgd_epoch(emlc_linear_t *m, const emlc_linear_sgd_t *s, const void *X, int i16,
                                 const float *y, size_t n, float *q, float *u, uint32_t *t, float *loss,
                                 float *objective) {
    const size_t nf = m->n_features;
    const float l2 = (1.0f - s->l1_ratio) * s->alpha, l1 = s->l1_ratio * s->alpha;
    float *w = m->coef, sum = 0.0f, obj = 0.0f;
    size_t i, f;
    if (!X || !y || !q || !u || !t || !loss || !objective) {
        return EMLC_ERR_NULL;
    }
    if (m->n_outputs != 1 || n == 0) {
        return EMLC_ERR_SIZE;
    }
    if ((!i16 && emlc_linear_check((const float *)X, n * nf) != EMLC_OK) || emlc_linear_check(y, n) != EMLC_OK) {
        return EMLC_ERR_VALUE;
    }
    for (i = 0; i < n; i++) {
        const size_t at = i * nf;
        float p = 0.0f, d, eta = s->eta0, update, sq = 0.0f, l1n = 0.0f;
        for (f = 0; f < nf; f++) {
            emlc_bits_t a;
            a.f = w[f];
            a.u &= 0x7fffffffu; /* |w[f]| */
            p += w[f] * emlc_linear_at(X, i16, at + f);
            sq += w[f] * w[f];
            l1n += a.f;
        }
        p += m->intercept[0];
        if (s->invscaling) {
            eta = eta * emlc_linear_exp(-s->power_t * emlc_linear_ln((float)*t));
        }
        d = p - y[i];
        d = 0.5f * d * d;
        sum += d;
        obj += d + s->alpha * ((1.0f - s->l1_ratio) * 0.5f * sq + s->l1_ratio * l1n);
        d = p - y[i];
        if (emlc_linear_key(d) > emlc_linear_key(1e12f)) {
            d = 1e12f;
        } else if (emlc_linear_key(d) < emlc_linear_key(-1e12f)) {
            d = -1e12f;
        }
        update = -eta * d;
        if (emlc_linear_key(l2) > 0) {
            float scale = 1.0f - eta * l2;
            if (emlc_linear_key(scale) < 0) {
                scale = 0.0f;
            }
            for (f = 0; f < nf; f++) {
                w[f] = w[f] * scale;
            }
        }
        if (emlc_linear_key(update) != 0) {
            for (f = 0; f < nf; f++) {
                w[f] += update * emlc_linear_at(X, i16, at + f);
            }
            m->intercept[0] += update;
        }
        if (emlc_linear_key(l1) > 0) {
            *u += eta * l1;
            for (f = 0; f < nf; f++) {
                float z = w[f], v;
                if (emlc_linear_key(z) > 0) {
                    v = z - (*u + q[f]);
                    w[f] = emlc_linear_key(v) < 0 ? 0.0f : v;
                } else if (emlc_linear_key(z) < 0) {
                    v = z + (*u - q[f]);
                    w[f] = emlc_linear_key(v) > 0 ? 0.0f : v;
                }
                q[f] += w[f] - z;
            }
        }
        (*t)++;
    }
    *loss = sum;
    *objective = obj;
    if (emlc_linear_check(w, nf) != EMLC_OK || emlc_linear_check(m->intercept, 1) != EMLC_OK ||
        emlc_linear_check(&obj, 1) != EMLC_OK) {
        return EMLC_ERR_VALUE;
    }
    return EMLC_OK;
}

int emlc_linear_stop(float objective, float tol, size_t n_samples, uint32_t n_iter_no_change, float *best,
                     uint32_t *count) {
    const float mean = objective / (float)(int32_t)n_samples;
    if (emlc_linear_key(tol) < 0) {
        return 0;
    }
    if (emlc_linear_key(mean) > emlc_linear_key(*best - tol)) {
        (*count)++;
    } else {
        *count = 0;
    }
    if (emlc_linear_key(mean) < emlc_linear_key(*best)) {
        *best = mean;
    }
    return *count >= n_iter_no_change;
}
