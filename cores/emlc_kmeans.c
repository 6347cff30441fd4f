/* emlc_kmeans.c: k-means clustering. See emlc_kmeans.h for the contract.
 *
 * Floats are compared by their bits: every distance, sum of distances and tolerance compared here
 * is a non-negative finite float (the inputs are bounded), and such floats order like their bit
 * patterns as uint32, so no soft-float compare is needed on chips without an FPU.
 */
#include "emlc_kmeans.h"

#define KM_LIMIT_BITS 0x53800000u /* the bits of 2^40 (EMLC_KMEANS_LIMIT) */

/* Sample value i of X as a float: uint8 and int16 exactly, through the float 2^23 + 2^15 + v
 * (its bits are 0x4b008000 + v), minus 2^23 + 2^15: one subtraction, no int-to-float helper. */
static float km_at(const void *X, uint8_t dtype, size_t i) {
    emlc_bits_t b;
    if (dtype == EMLC_KMEANS_F32) {
        return ((const float *)X)[i];
    }
    b.u = 0x4b008000u + (uint32_t)(dtype == EMLC_KMEANS_U8 ? (int32_t)((const uint8_t *)X)[i]
                                                             : (int32_t)((const int16_t *)X)[i]);
    return b.f - 8421376.0f;
}

static uint32_t km_bits(float f) {
    emlc_bits_t b;
    b.f = f;
    return b.u;
}

float emlc_kmeans_recip(uint32_t n) {
    emlc_bits_t b;
    uint32_t e = 0, q = 1, rem;
    int i;
    if (n == 0 || (n >> 31) != 0) {
        return 0.0f;
    }
    while ((n >> e) > 1) { /* 2^e <= n < 2^(e+1) */
        e++;
    }
    /* 2^(e+1) / n = q + rem / n with q = 1; then 23 more quotient bits, restoring division. */
    rem = (2u << e) - n;
    for (i = 0; i < 23; i++) {
        rem <<= 1;
        q <<= 1;
        if (rem >= n) {
            rem -= n;
            q++;
        }
    }
    /* q = floor(2^(e+24) / n) in [2^23, 2^24); round to nearest (a tie needs n a power of two,
     * where rem == n throughout, q ends at 2^24 - 1 and rounds up to 2^24: the exact 2^-e). */
    q += (rem << 1) >= n;
    /* 1/n = q * 2^-(e+24): exponent field 126 - e; adding q (hidden bit included) carries into it. */
    b.u = ((125u - e) << 23) + q;
    return b.f;
}

emlc_err_t emlc_kmeans_init(emlc_kmeans_t *m, emlc_kmeans_dtype_t dtype, size_t n_clusters, size_t n_features,
                            float *centers, size_t centers_len) {
    if (!m || !centers) {
        return EMLC_ERR_NULL;
    }
    if ((unsigned)dtype > EMLC_KMEANS_F32) {
        return EMLC_ERR_KIND;
    }
    if (n_clusters - 1 > 65534u || n_features - 1 > 65534u) { /* 1..65535 each (0 wraps around) */
        return EMLC_ERR_SIZE;
    }
    if (centers_len < (size_t)((uint32_t)n_clusters * (uint32_t)n_features)) { /* < 2^32: no overflow */
        return EMLC_ERR_CAPACITY;
    }
    m->centers = centers;
    m->n_clusters = (uint16_t)n_clusters;
    m->n_features = (uint16_t)n_features;
    m->dtype = (uint8_t)dtype;
    return EMLC_OK;
}

emlc_err_t emlc_kmeans_check(const void *x, emlc_kmeans_dtype_t dtype, size_t n) {
    if ((unsigned)dtype > EMLC_KMEANS_F32) {
        return EMLC_ERR_KIND;
    }
    if (!x && n) {
        return EMLC_ERR_NULL;
    }
    if (dtype == EMLC_KMEANS_F32) {
        const float *v = (const float *)x;
        for (size_t i = 0; i < n; i++) {
            if ((km_bits(v[i]) & 0x7fffffffu) >= KM_LIMIT_BITS) { /* NaN and inf too */
                return EMLC_ERR_VALUE;
            }
        }
    }
    return EMLC_OK;
}

/* What the passes below share: the samples, and the centers they are compared with. */
typedef struct km_ctx {
    const void *X;   /* n samples of nf values of dtype, row-major */
    const float *c;  /* nc centers of nf floats */
    size_t n, nc, nf;
    uint8_t dtype;
} km_ctx_t;

/* The nearest of the nc centers to the sample starting at element `at`: its index (ties: the
 * lowest), its distance into *dist. */
static uint32_t km_nearest(const km_ctx_t *x, size_t at, float *dist) {
    const float *c = x->c;
    uint32_t best = 0;
    emlc_bits_t bd;
    bd.u = 0xffffffffu; /* above every distance's bits */
    for (size_t j = 0; j < x->nc; j++) {
        float s = 0.0f;
        for (size_t f = 0; f < x->nf; f++) {
            float d = km_at(x->X, x->dtype, at + f) - *c++;
            s += d * d;
        }
        if (km_bits(s) < bd.u) {
            bd.f = s;
            best = (uint32_t)j;
        }
    }
    *dist = bd.f;
    return best;
}

emlc_err_t emlc_kmeans_predict(const emlc_kmeans_t *m, const void *x, size_t n_features, uint16_t *label,
                               float *dist) {
    km_ctx_t c;
    float d;
    emlc_err_t err;
    if (!m || !x || !m->centers || !label) {
        return EMLC_ERR_NULL;
    }
    if (n_features != m->n_features) {
        return EMLC_ERR_SIZE;
    }
    err = emlc_kmeans_check(x, (emlc_kmeans_dtype_t)m->dtype, n_features);
    if (err != EMLC_OK) {
        return err;
    }
    c.X = x;
    c.c = m->centers;
    c.nc = m->n_clusters;
    c.nf = n_features;
    c.dtype = m->dtype;
    *label = (uint16_t)km_nearest(&c, 0, &d);
    if (dist) {
        *dist = d;
    }
    return EMLC_OK;
}

/* Checks shared by init_plusplus and fit (pointers, n_samples, X's values); fills the context
 * with X and the model's centers. */
static emlc_err_t km_start(km_ctx_t *c, const emlc_kmeans_t *m, const void *X, size_t n_samples) {
    if (!m || !X || !m->centers) {
        return EMLC_ERR_NULL;
    }
    if (n_samples < m->n_clusters || (n_samples >> 31) != 0) {
        return EMLC_ERR_SIZE;
    }
    c->X = X;
    c->c = m->centers;
    c->n = n_samples;
    c->nc = m->n_clusters;
    c->nf = m->n_features;
    c->dtype = m->dtype;
    /* X holds n_samples * n_features values (the caller's buffer: the product fits a size_t) */
    return emlc_kmeans_check(X, (emlc_kmeans_dtype_t)m->dtype, n_samples * c->nf);
}

emlc_err_t emlc_kmeans_init_plusplus(emlc_kmeans_t *m, const void *X, size_t n_samples, uint32_t seed) {
    km_ctx_t c;
    emlc_err_t err = km_start(&c, m, X, n_samples);
    uint32_t s = 2 * seed + 1; /* xorshift32 state, never 0 */
    size_t j, i, f, at;
    if (err != EMLC_OK) {
        return err;
    }
    for (j = 0; j < m->n_clusters; j++) {
        /* One pass, weighted reservoir of one: sample i (weight w > 0) replaces the pick with
         * probability w / total-so-far, i.e. when u * total <= w for a uniform u in [0, 1). The
         * weight is 1 for the first center, else the distance to the nearest chosen center. */
        float total = 0.0f, w = 1.0f;
        size_t pick = 0;
        c.nc = j; /* the centers chosen so far */
        for (i = 0, at = 0; i < n_samples; i++, at += c.nf) {
            if (j) {
                km_nearest(&c, at, &w);
            }
            if (km_bits(w) != 0) {
                emlc_bits_t u;
                total += w;
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                u.u = 0x3f800000u | (s >> 9); /* [1, 2) from the top 23 bits */
                if (km_bits((u.f - 1.0f) * total) <= km_bits(w)) {
                    pick = at;
                }
            }
        }
        for (f = 0; f < c.nf; f++) {
            m->centers[j * c.nf + f] = km_at(X, c.dtype, pick + f);
        }
    }
    return EMLC_OK;
}

/* Give each empty cluster (counts 0) the next sample farthest from its nearest current center,
 * taken out of that center's cluster (scikit-learn's rule; see emlc_kmeans.h). Nothing moves when
 * every sample is on its center. */
static void km_relocate(const km_ctx_t *c, float *sums, uint32_t *counts) {
    uint64_t prev = ~(uint64_t)0; /* the previous pick's key: (distance bits, ~index) */
    for (size_t j = 0; j < c->nc; j++) {
        uint64_t best = 0;
        size_t at = 0, far = 0, i, f;
        uint32_t from = 0;
        if (counts[j]) {
            continue;
        }
        for (i = 0; i < c->n; i++, at += c->nf) {
            float d;
            uint32_t near = km_nearest(c, at, &d);
            uint64_t key = ((uint64_t)km_bits(d) << 32) | (uint32_t)~(uint32_t)i; /* farther, then lower i */
            if (key < prev && key > best) {
                best = key;
                far = at;
                from = near;
            }
        }
        if (prev == ~(uint64_t)0 && (best >> 32) == 0) {
            return; /* the farthest sample is on its center: nothing to move */
        }
        prev = best;
        counts[from]--;
        counts[j] = 1;
        for (f = 0; f < c->nf; f++) {
            float v = km_at(c->X, c->dtype, far + f);
            sums[from * c->nf + f] -= v;
            sums[j * c->nf + f] = v;
        }
    }
}

/* One pass over the samples: each is assigned to its nearest center; when sums is given, its
 * values are added to its center's row of sums (in sample order) and counted in counts (both
 * zeroed first). Returns the float32 sum, in sample order, of the samples' distances. */
static float km_pass(const km_ctx_t *c, float *sums, uint32_t *counts) {
    float total = 0.0f, d;
    size_t i, f, at;
    if (sums) {
        for (i = 0; i < c->nc * c->nf; i++) {
            sums[i] = 0.0f;
        }
        for (i = 0; i < c->nc; i++) {
            counts[i] = 0;
        }
    }
    for (i = 0, at = 0; i < c->n; i++, at += c->nf) {
        uint32_t j = km_nearest(c, at, &d);
        total += d;
        if (sums) {
            counts[j]++;
            for (f = 0; f < c->nf; f++) {
                sums[j * c->nf + f] += km_at(c->X, c->dtype, at + f);
            }
        }
    }
    return total;
}

emlc_err_t emlc_kmeans_fit(emlc_kmeans_t *m, const void *X, size_t n_samples, uint32_t max_iter, float tol,
                           float *sums, size_t sums_len, uint32_t *counts, size_t counts_len, uint32_t *n_iter,
                           float *inertia) {
    km_ctx_t c;
    emlc_err_t err = km_start(&c, m, X, n_samples);
    size_t k, nf, j, f;
    uint32_t it, tol_bits = km_bits(tol);
    float tol_abs = 0.0f, *cj;
    if (err != EMLC_OK) {
        return err;
    }
    if (!sums || !counts || !n_iter || !inertia) {
        return EMLC_ERR_NULL;
    }
    k = c.nc;
    nf = c.nf;
    if (sums_len < k * nf || counts_len < k) { /* k * nf < 2^32: init checked */
        return EMLC_ERR_CAPACITY;
    }
    if (emlc_kmeans_check(m->centers, EMLC_KMEANS_F32, k * nf) != EMLC_OK || max_iter == 0 ||
        (tol_bits >= 0x7f800000u && tol_bits != 0x80000000u)) { /* tol: +-0 or positive and finite */
        return EMLC_ERR_VALUE;
    }
    if ((tol_bits << 1) != 0) {
        /* tol * the mean over features of the population variance, computed as
         * (sum over samples of |x - mean|^2) / n_samples / n_features: the mean is the one
         * center of a pass (into sums[0..nf)), the sum the distance total of a second pass. */
        const float rn = emlc_kmeans_recip((uint32_t)n_samples);
        c.nc = 1;
        km_pass(&c, sums, counts);
        for (f = 0; f < nf; f++) {
            sums[f] *= rn;
        }
        c.c = sums;
        tol_abs = tol * (km_pass(&c, NULL, NULL) * rn * emlc_kmeans_recip((uint32_t)nf));
        c.c = m->centers;
        c.nc = k;
    }
    for (it = 1;; it++) {
        float shift = 0.0f;
        km_pass(&c, sums, counts);
        km_relocate(&c, sums, counts);
        for (j = 0, cj = m->centers; j < k; j++, cj += nf) {
            float r = emlc_kmeans_recip(counts[j]);
            if (!counts[j]) {
                continue; /* still empty: keeps its center */
            }
            for (f = 0; f < nf; f++) {
                float v = sums[j * nf + f] * r, e = v - cj[f];
                shift += e * e;
                cj[f] = v;
            }
        }
        if (km_bits(shift) <= km_bits(tol_abs) || it == max_iter) {
            break;
        }
    }
    *n_iter = it;
    *inertia = km_pass(&c, NULL, NULL);
    return EMLC_OK;
}
