/* emlc_knn.c: k-nearest-neighbours store and vote. See emlc_knn.h for the contract. */
#include "emlc_knn.h"

emlc_err_t emlc_knn_init(emlc_knn_t *m, emlc_knn_dtype_t dtype, size_t n_features, size_t max_items,
                         void *data, size_t data_len, int16_t *labels, size_t labels_len) {
    if (!m || !data || !labels) {
        return EMLC_ERR_NULL;
    }
    if (dtype != EMLC_KNN_F32 && dtype != EMLC_KNN_I16) {
        return EMLC_ERR_KIND;
    }
    if (n_features == 0 || n_features > 65535u || max_items == 0 ||
        ((max_items >> 16) >> 16) != 0) { /* max_items must fit uint32_t */
        return EMLC_ERR_SIZE;
    }
    if (labels_len < max_items) {
        return EMLC_ERR_CAPACITY;
    }
    /* data_len >= n_features * max_items, checked by repeated subtraction: no overflow and no
     * division helper (n_features <= 65535 steps, init only). */
    size_t rest = data_len;
    for (size_t f = 0; f < n_features; f++) {
        if (rest < max_items) {
            return EMLC_ERR_CAPACITY;
        }
        rest -= max_items;
    }
    m->data = data;
    m->labels = labels;
    m->max_items = (uint32_t)max_items;
    m->n_items = 0;
    m->n_features = (uint16_t)n_features;
    m->dtype = (uint8_t)dtype;
    return EMLC_OK;
}

emlc_err_t emlc_knn_clear(emlc_knn_t *m) {
    if (!m) {
        return EMLC_ERR_NULL;
    }
    m->n_items = 0;
    return EMLC_OK;
}

/* Common argument checks for add/kneighbors. */
static emlc_err_t emlc_knn_check(const emlc_knn_t *m, const void *x, size_t n_features, uint8_t dtype) {
    if (!m || !x || !m->data || !m->labels) {
        return EMLC_ERR_NULL;
    }
    if (m->dtype != dtype) {
        return EMLC_ERR_KIND;
    }
    if (n_features != m->n_features) {
        return EMLC_ERR_SIZE;
    }
    return EMLC_OK;
}

/* Append: the store's own dtype decides the element size (2 or 4 bytes). */
static emlc_err_t emlc_knn_add_as(emlc_knn_t *m, const void *x, size_t n_features, int16_t label, uint8_t dtype) {
    emlc_err_t err = emlc_knn_check(m, x, n_features, dtype);
    if (err != EMLC_OK) {
        return err;
    }
    if (m->n_items >= m->max_items) {
        return EMLC_ERR_CAPACITY;
    }
    /* copied as 16-bit halves (float items are 4-byte aligned, so 2-byte aligned too) */
    const size_t n16 = dtype == EMLC_KNN_I16 ? n_features : 2 * n_features;
    const uint16_t *src = (const uint16_t *)x;
    uint16_t *dst = (uint16_t *)m->data + (size_t)m->n_items * n16;
    for (size_t i = 0; i < n16; i++) {
        dst[i] = src[i];
    }
    m->labels[m->n_items++] = label;
    return EMLC_OK;
}

emlc_err_t emlc_knn_add(emlc_knn_t *m, const void *x, size_t n_features, int16_t label) {
    return emlc_knn_add_as(m, x, n_features, label, m ? m->dtype : 0);
}

emlc_err_t emlc_knn_add_i16(emlc_knn_t *m, const int16_t *x, size_t n_features, int16_t label) {
    return emlc_knn_add_as(m, x, n_features, label, EMLC_KNN_I16);
}

emlc_err_t emlc_knn_add_f32(emlc_knn_t *m, const float *x, size_t n_features, int16_t label) {
    return emlc_knn_add_as(m, x, n_features, label, EMLC_KNN_F32);
}

/* Offer item (dist, index) to results[0..*count-1], kept sorted by (dist, index). Items arrive in
 * increasing index order, so an equal distance goes after the ones already there. */
static void emlc_knn_offer(emlc_knn_result_t *results, size_t k, size_t *count, uint64_t dist,
                           uint32_t index, int16_t label) {
    size_t j = *count;
    if (j == k) {
        if (dist >= results[k - 1].dist) {
            return;
        }
        j = k - 1; /* the last one drops out */
    } else {
        *count = j + 1;
    }
    while (j > 0 && results[j - 1].dist > dist) {
        results[j] = results[j - 1];
        j--;
    }
    results[j].dist = dist;
    results[j].index = index;
    results[j].label = label;
}

static emlc_err_t emlc_knn_check_query(const emlc_knn_t *m, size_t k, const emlc_knn_result_t *results) {
    if (!results) {
        return EMLC_ERR_NULL;
    }
    if (m->n_items == 0) {
        return EMLC_ERR_STATE;
    }
    if (k == 0 || k > m->n_items) {
        return EMLC_ERR_SIZE;
    }
    return EMLC_OK;
}

/* The k nearest items, for a query of the given dtype (checked against the store's). */
static emlc_err_t emlc_knn_kneighbors_as(const emlc_knn_t *m, const void *x, size_t n_features, size_t k,
                                         emlc_knn_result_t *results, uint8_t dtype) {
    emlc_err_t err = emlc_knn_check(m, x, n_features, dtype);
    if (err == EMLC_OK) {
        err = emlc_knn_check_query(m, k, results);
    }
    if (err != EMLC_OK) {
        return err;
    }
    size_t count = 0;
    if (dtype == EMLC_KNN_I16) {
        const int16_t *xi = (const int16_t *)x, *item = (const int16_t *)m->data;
        for (uint32_t i = 0; i < m->n_items; i++, item += n_features) {
            uint64_t dist = 0;
            for (size_t f = 0; f < n_features; f++) {
                /* |d| <= 65535, so d*d < 2^32 fits uint32 (computed mod 2^32, exact); sum < 2^48. */
                uint32_t d = (uint32_t)((int32_t)xi[f] - (int32_t)item[f]);
                dist += d * d;
            }
            emlc_knn_offer(results, k, &count, dist, i, m->labels[i]);
        }
    } else {
        const float *xf = (const float *)x, *item = (const float *)m->data;
        for (uint32_t i = 0; i < m->n_items; i++, item += n_features) {
            emlc_bits_t s;
            uint64_t dist;
            s.f = 0.0f;
            for (size_t f = 0; f < n_features; f++) {
                float d = xf[f] - item[f];
                s.f += d * d;
            }
            /* s.f >= 0 or NaN; a sum of squares cannot be -0.0, so the pattern orders like the value. */
            dist = s.u;
            if (s.u == 0x7f800000u) { /* beyond float32: the same sum on inputs scaled by 2^-96 (exact) */
                s.f = 0.0f;
                for (size_t f = 0; f < n_features; f++) {
                    float d = xf[f] * 0x1p-96f - item[f] * 0x1p-96f;
                    s.f += d * d;
                }
                dist = ((uint64_t)1 << 32) | s.u;
            } else if (s.u > 0x7f800000u) { /* NaN: after every number */
                dist = ((uint64_t)2 << 32) | s.u;
            }
            emlc_knn_offer(results, k, &count, dist, i, m->labels[i]);
        }
    }
    return EMLC_OK;
}

emlc_err_t emlc_knn_kneighbors_i16(const emlc_knn_t *m, const int16_t *x, size_t n_features, size_t k,
                                   emlc_knn_result_t *results) {
    return emlc_knn_kneighbors_as(m, x, n_features, k, results, EMLC_KNN_I16);
}

emlc_err_t emlc_knn_kneighbors_f32(const emlc_knn_t *m, const float *x, size_t n_features, size_t k,
                                   emlc_knn_result_t *results) {
    return emlc_knn_kneighbors_as(m, x, n_features, k, results, EMLC_KNN_F32);
}

emlc_err_t emlc_knn_vote(const emlc_knn_result_t *results, size_t n, int16_t *label) {
    if (!results || !label) {
        return EMLC_ERR_NULL;
    }
    if (n == 0) {
        return EMLC_ERR_SIZE;
    }
    /* O(n^2) counting: no scratch memory, labels need not be small. */
    size_t best_count = 0;
    int16_t best = 0;
    for (size_t i = 0; i < n; i++) {
        int16_t l = results[i].label;
        size_t c = 0;
        for (size_t j = 0; j < n; j++) {
            c += (results[j].label == l);
        }
        if (c > best_count || (c == best_count && l < best)) {
            best_count = c;
            best = l;
        }
    }
    *label = best;
    return EMLC_OK;
}

static emlc_err_t emlc_knn_predict_as(const emlc_knn_t *m, const void *x, size_t n_features, size_t k,
                                      emlc_knn_result_t *results, int16_t *label, uint8_t dtype) {
    if (!label) {
        return EMLC_ERR_NULL;
    }
    emlc_err_t err = emlc_knn_kneighbors_as(m, x, n_features, k, results, dtype);
    return err != EMLC_OK ? err : emlc_knn_vote(results, k, label);
}

emlc_err_t emlc_knn_predict(const emlc_knn_t *m, const void *x, size_t n_features, size_t k,
                            emlc_knn_result_t *results, int16_t *label) {
    return emlc_knn_predict_as(m, x, n_features, k, results, label, m ? m->dtype : 0);
}

emlc_err_t emlc_knn_predict_i16(const emlc_knn_t *m, const int16_t *x, size_t n_features, size_t k,
                                emlc_knn_result_t *results, int16_t *label) {
    return emlc_knn_predict_as(m, x, n_features, k, results, label, EMLC_KNN_I16);
}

emlc_err_t emlc_knn_predict_f32(const emlc_knn_t *m, const float *x, size_t n_features, size_t k,
                                emlc_knn_result_t *results, int16_t *label) {
    return emlc_knn_predict_as(m, x, n_features, k, results, label, EMLC_KNN_F32);
}

float emlc_knn_dist_f32(const emlc_knn_result_t *r) {
    emlc_bits_t s;
    s.u = r ? (r->dist >> 32 == 1 ? 0x7f800000u : (uint32_t)r->dist) : 0u;
    return s.f;
}
