/* emlc_linear.c: linear model inference (scores, class, probabilities) and float32 exp. See
 * emlc_linear.h for the contract.
 *
 * Floats are compared through emlc_linear_key, an int32 that orders like the float (finite values
 * and infinities; -0 and +0 give the same key), so no soft-float compare is linked on chips
 * without an FPU.
 */
#include "emlc_linear.h"

int32_t emlc_linear_key(float f) {
    emlc_bits_t b;
    b.f = f;
    /* sign-magnitude to two's complement: negative floats order backwards as ints */
    return b.i < 0 ? (int32_t)(0x80000000u - b.u) : b.i;
}

/* Value i of a float32 or int16 array as a float: int16 exactly, through the float 2^23 + 2^15 + v
 * (bits 0x4b008000 + v) minus 2^23 + 2^15: one subtraction, no int-to-float helper. */
float emlc_linear_at(const void *X, int i16, size_t i) {
    emlc_bits_t b;
    if (!i16) {
        return ((const float *)X)[i];
    }
    b.u = 0x4b008000u + (uint32_t)(int32_t)((const int16_t *)X)[i];
    return b.f - 8421376.0f;
}

emlc_err_t emlc_linear_init(emlc_linear_t *m, emlc_linear_kind_t kind, size_t n_features, size_t n_outputs,
                            float *coef, float *intercept, const int32_t *classes) {
    if (!m || !coef || !intercept || (kind != EMLC_LINEAR_REGRESSOR && !classes)) {
        return EMLC_ERR_NULL;
    }
    if ((unsigned)kind > EMLC_LINEAR_OVR) {
        return EMLC_ERR_KIND;
    }
    if (n_features - 1 > 65534u || n_outputs - 1 > 65534u || (kind != EMLC_LINEAR_REGRESSOR && n_outputs == 2)) {
        return EMLC_ERR_SIZE;
    }
    m->coef = coef;
    m->intercept = intercept;
    m->classes = kind == EMLC_LINEAR_REGRESSOR ? NULL : classes;
    m->n_features = (uint16_t)n_features;
    m->n_outputs = (uint16_t)n_outputs;
    m->kind = (uint8_t)kind;
    return EMLC_OK;
}

size_t emlc_linear_n_classes(const emlc_linear_t *m) {
    return m->kind == EMLC_LINEAR_REGRESSOR ? 0 : m->n_outputs == 1 ? 2 : m->n_outputs;
}

emlc_err_t emlc_linear_check(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        emlc_bits_t b;
        b.f = v[i];
        if ((b.u & 0x7f800000u) == 0x7f800000u) { /* exponent all ones: inf or NaN */
            return EMLC_ERR_VALUE;
        }
    }
    return EMLC_OK;
}

emlc_err_t emlc_linear_decision(const emlc_linear_t *m, const void *x, int i16, float *scores) {
    const float *c;
    size_t k, f;
    if (!m || !x || !scores) {
        return EMLC_ERR_NULL;
    }
    if (!i16 && emlc_linear_check((const float *)x, m->n_features) != EMLC_OK) {
        return EMLC_ERR_VALUE;
    }
    c = m->coef;
    for (k = 0; k < m->n_outputs; k++) {
        float s = 0.0f;
        for (f = 0; f < m->n_features; f++) {
            s += *c++ * emlc_linear_at(x, i16, f);
        }
        scores[k] = s + m->intercept[k];
    }
    return emlc_linear_check(scores, m->n_outputs);
}

size_t emlc_linear_class(const emlc_linear_t *m, const float *scores) {
    size_t k, best = 0;
    if (m->n_outputs == 1) {
        return emlc_linear_key(scores[0]) > 0;
    }
    for (k = 1; k < m->n_outputs; k++) {
        if (emlc_linear_key(scores[k]) > emlc_linear_key(scores[best])) {
            best = k;
        }
    }
    return best;
}

/* float32 bits for 2^e, -126 <= e <= 127 */
static float lin_pow2(int32_t e) {
    emlc_bits_t b;
    b.u = (uint32_t)(e + 127) << 23;
    return b.f;
}

float emlc_linear_exp(float x) {
    int32_t k;
    float r, p;
    /* clamp to [-104, 89]: below, the result is 0; above, it overflows to inf */
    if (emlc_linear_key(x) < emlc_linear_key(-104.0f)) {
        x = -104.0f;
    } else if (emlc_linear_key(x) > emlc_linear_key(89.0f)) {
        x = 89.0f;
    }
    r = x * 1.44269502f;
    k = (int32_t)(r + (emlc_linear_key(r) < 0 ? -0.5f : 0.5f)); /* -150..129 */
    r = (x - (float)k * 0.693145752f) - (float)k * 1.42860677e-06f;
    p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * lin_pow2(k / 2) * lin_pow2(k - k / 2);
}

/* 1 / (1 + exp(-s)) */
static float lin_sigmoid(float s) {
    return 1.0f / (1.0f + emlc_linear_exp(-s));
}

emlc_err_t emlc_linear_proba(const emlc_linear_t *m, const float *scores, float *proba) {
    size_t k, n = m->n_outputs;
    float sum, top = scores[0];
    int soft;
    if (m->kind < EMLC_LINEAR_LOGISTIC) {
        return EMLC_ERR_KIND;
    }
    if (n == 1) {
        proba[1] = lin_sigmoid(scores[0]);
        proba[0] = 1.0f - proba[1];
        return EMLC_OK;
    }
    for (k = 1; k < n; k++) {
        if (emlc_linear_key(scores[k]) > emlc_linear_key(top)) {
            top = scores[k];
        }
    }
    soft = m->kind == EMLC_LINEAR_LOGISTIC;
again:
    sum = 0.0f;
    for (k = 0; k < n; k++) {
        proba[k] = soft ? emlc_linear_exp(scores[k] - top) : lin_sigmoid(scores[k]);
        sum += proba[k];
    }
    /* ovr: when every score is very negative the sigmoids underflow (sum 0 gives 0/0 = NaN, a
     * subnormal sum loses precision); their normalized limit is the softmax, so use it. The
     * softmax's sum is >= 1 (the top score's term is exp(0) = 1), so this runs at most once.
     * 0x00800000 is the key of FLT_MIN, the smallest normal float. */
    if (emlc_linear_key(sum) < 0x00800000) {
        soft = 1;
        goto again;
    }
    for (k = 0; k < n; k++) {
        proba[k] = proba[k] / sum;
    }
    return EMLC_OK;
}
