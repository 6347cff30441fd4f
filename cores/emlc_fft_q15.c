/* emlc_fft_q15.c: Q15 radix-2 decimation-in-time FFT with per-stage halving. See emlc_fft_q15.h. */
#include "emlc_fft_q15.h"

/* sin(pi/4 * u) and cos(pi/4 * u) in Q16 for u = v / 2^16, 0 <= v <= 2^16. Unsigned Horner steps,
 * each product < 2^32 (v * v is the one that could reach it: v == 2^16 is taken apart) and each
 * bracket positive (the terms shrink), rounded at every >> 16. The constants are
 * round(2^16 * (pi/4)^j / j!). */
static uint32_t emlc_fft_q15_mul16(uint32_t a, uint32_t b) {
    return (a * b + 32768u) >> 16;
}

static uint32_t emlc_fft_q15_sq16(uint32_t v) {
    return v > 65535u ? 65536u : emlc_fft_q15_mul16(v, v);
}

static uint32_t emlc_fft_q15_sin8(uint32_t v) {
    const uint32_t v2 = emlc_fft_q15_sq16(v);
    uint32_t p = 163u - emlc_fft_q15_mul16(v2, 2u);      /* (pi/4)^5/5!, (pi/4)^7/7! */
    p = 5292u - emlc_fft_q15_mul16(v2, p);               /* (pi/4)^3/3! */
    p = 51472u - emlc_fft_q15_mul16(v2, p);              /* pi/4 */
    return emlc_fft_q15_mul16(v, p);
}

static uint32_t emlc_fft_q15_cos8(uint32_t v) {
    const uint32_t v2 = emlc_fft_q15_sq16(v);
    uint32_t p = 1039u - emlc_fft_q15_mul16(v2, 21u);   /* (pi/4)^4/4!, (pi/4)^6/6! */
    p = 20213u - emlc_fft_q15_mul16(v2, p);              /* (pi/4)^2/2! */
    return 65536u - emlc_fft_q15_mul16(v2, p);
}

/* v clamped to int16: one unsigned compare on the common path; out of range, (v >> 31) ^ 0x7fff is
 * 32767 for v > 0 and -32768 for v < 0. Inline: it runs four times per butterfly. */
static inline __attribute__((always_inline)) int16_t emlc_fft_q15_sat(int32_t v) {
    if ((uint32_t)v + 32768u > 65535u) {
        v = (v >> 31) ^ 0x7fff;
    }
    return (int16_t)v;
}

emlc_err_t emlc_fft_q15_init(emlc_fft_q15_t *f, int16_t *table, size_t table_len, size_t n_max) {
    if (!f || !table) {
        return EMLC_ERR_NULL;
    }
    const int l = emlc_log2_pow2(n_max);
    if (l < 2 || n_max > EMLC_FFT_Q15_MAX_N) {
        return EMLC_ERR_SIZE;
    }
    const size_t len = EMLC_FFT_Q15_TABLE_LEN(n_max);
    if (table_len < len) {
        return EMLC_ERR_CAPACITY;
    }
    for (size_t k = 0; k < len; k++) {
        /* angle = (pi/4) * (oct + u), u = rem / n_max = v / 2^16 exactly (n_max <= 2^15). */
        const size_t p = k << 3;
        const size_t oct = p >> l;
        const uint32_t v = (uint32_t)(p & (n_max - 1)) << (16 - l);
        /* octants 0..5 as in emlc_fft.c: odd ones use 1-u, octants 1, 2, 5 the cosine, 4, 5 negate */
        const uint32_t w = (oct & 1u) ? 65536u - v : v;
        uint32_t q = (((oct + 1u) >> 1) & 1u) ? emlc_fft_q15_cos8(w) : emlc_fft_q15_sin8(w);
        q = (q + 1u) >> 1; /* Q16 -> Q15, rounded */
        if (q > 32767u) {
            q = 32767u;
        }
        table[k] = (int16_t)(oct >= 4u ? -(int32_t)q : (int32_t)q);
    }
    f->sin_t = table;
    f->n = n_max;
    f->log2n = (unsigned)l;
    return EMLC_OK;
}

/* fft / n of length n = 2^log2n <= f->n; arguments already checked. */
static void emlc_fft_q15_run(const emlc_fft_q15_t *f, int16_t *re, int16_t *im, size_t n, unsigned log2n) {
    size_t j = 0;
    for (size_t i = 0; i + 1 < n; i++) { /* bit-reversal permutation */
        if (i < j) {
            int16_t t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
        size_t m = n >> 1;
        while (j & m) {
            j ^= m;
            m >>= 1;
        }
        j |= m;
    }
    const int16_t *sin_t = f->sin_t;
    const int16_t *cos_t = f->sin_t + (f->n >> 2);
    for (unsigned s = 1; s <= log2n; s++) {
        const size_t half = (size_t)1 << (s - 1);
        const size_t size = half << 1;
        const unsigned shift = f->log2n - s;
        for (size_t a = 0; a < n; a += size) { /* w = 1 */
            const int32_t ar = re[a], ai = im[a], br = re[a + half], bi = im[a + half];
            re[a] = emlc_fft_q15_sat((ar + br + 1) >> 1);
            im[a] = emlc_fft_q15_sat((ai + bi + 1) >> 1);
            re[a + half] = emlc_fft_q15_sat((ar - br + 1) >> 1);
            im[a + half] = emlc_fft_q15_sat((ai - bi + 1) >> 1);
        }
        for (size_t jj = 1; jj < half; jj++) {
            const int32_t c = cos_t[jj << shift], sn = sin_t[jj << shift];
            for (size_t a = jj; a < n; a += size) {
                const size_t b = a + half;
                const int32_t br = re[b], bi = im[b];
                const int32_t tr = (c * br + sn * bi) >> 1, ti = (c * bi - sn * br) >> 1;
                const int32_t ar = re[a] * 16384 + 16384, ai = im[a] * 16384 + 16384;
                re[a] = emlc_fft_q15_sat((ar + tr) >> 15);
                im[a] = emlc_fft_q15_sat((ai + ti) >> 15);
                re[b] = emlc_fft_q15_sat((ar - tr) >> 15);
                im[b] = emlc_fft_q15_sat((ai - ti) >> 15);
            }
        }
    }
}

static int emlc_fft_q15_check(const emlc_fft_q15_t *f, const int16_t *re, const int16_t *im, size_t n) {
    if (!f || !re || !im || !f->sin_t) {
        return EMLC_ERR_NULL;
    }
    const int l = emlc_log2_pow2(n);
    if (l < 0 || n > f->n) {
        return EMLC_ERR_SIZE;
    }
    return l;
}

emlc_err_t emlc_fft_q15_forward(const emlc_fft_q15_t *f, int16_t *re, int16_t *im, size_t n) {
    const int l = emlc_fft_q15_check(f, re, im, n);
    if (l < 0) {
        return (emlc_err_t)l;
    }
    emlc_fft_q15_run(f, re, im, n, (unsigned)l);
    return EMLC_OK;
}

emlc_err_t emlc_fft_q15_inverse(const emlc_fft_q15_t *f, int16_t *re, int16_t *im, size_t n) {
    const int l = emlc_fft_q15_check(f, re, im, n);
    if (l < 0) {
        return (emlc_err_t)l;
    }
    /* ifft(x) = swap(fft(swap(x))) / n, swap(a + ib) = b + ia; the run already divides by n. */
    emlc_fft_q15_run(f, im, re, n, (unsigned)l);
    return EMLC_OK;
}

emlc_err_t emlc_fft_q15_rfft(const emlc_fft_q15_t *f, const int16_t *x, size_t n, int16_t *re, int16_t *im,
                             size_t out_len) {
    if (!f || !x || !re || !im || !f->sin_t) {
        return EMLC_ERR_NULL;
    }
    const int l = emlc_log2_pow2(n);
    if (l < 1 || n > f->n) {
        return EMLC_ERR_SIZE;
    }
    const size_t half = n >> 1;
    if (out_len < half + 1) {
        return EMLC_ERR_CAPACITY;
    }
    /* z[m] = x[2m] + i x[2m+1] (safe in place when x == re, as in emlc_fft.c), Z = fft(z) / M. */
    for (size_t m = 0; m < half; m++) {
        const int16_t odd = x[2 * m + 1];
        re[m] = x[2 * m];
        im[m] = odd;
    }
    emlc_fft_q15_run(f, re, im, half, (unsigned)(l - 1));
    /* With A = Z[k], B = Z[M-k] (scaled by 1/M = 2/n), 2E = A + conj B, 2O = (A - conj B)/i,
     * rfft(x)[k]/n = (2E + w^k 2O)/4 and rfft(x)[M-k]/n = conj(2E - w^k 2O)/4, w = exp(-2i pi/n).
     * In Q15 units: out = (2E * 2^13 + (w 2O)/2 + 2^14) >> 15, with w 2O computed as two halved
     * products (each |c * 2O| < 2^31; their sum of halves < 32768 * 2 * 46341 / 2). */
    const int32_t z0r = re[0], z0i = im[0];
    re[0] = emlc_fft_q15_sat((z0r + z0i + 1) >> 1);
    im[0] = 0;
    re[half] = emlc_fft_q15_sat((z0r - z0i + 1) >> 1);
    im[half] = 0;
    const int16_t *sin_t = f->sin_t;
    const int16_t *cos_t = f->sin_t + (f->n >> 2);
    const unsigned shift = f->log2n - (unsigned)l;
    for (size_t k = 1; k <= (half >> 1); k++) {
        const size_t mk = half - k;
        const int32_t ar = re[k], ai = im[k], br = re[mk], bi = im[mk];
        const int32_t er = (ar + br) * 8192 + 16384, ei = (ai - bi) * 8192;
        const int32_t or_ = ai + bi, oi = br - ar;
        const int32_t c = cos_t[k << shift], sn = sin_t[k << shift];
        const int32_t tr = (((c * or_) >> 1) + ((sn * oi) >> 1)) >> 1;
        const int32_t ti = (((c * oi) >> 1) - ((sn * or_) >> 1)) >> 1;
        re[k] = emlc_fft_q15_sat((er + tr) >> 15);
        im[k] = emlc_fft_q15_sat((ei + ti + 16384) >> 15);
        if (mk != k) {
            re[mk] = emlc_fft_q15_sat((er - tr) >> 15);
            im[mk] = emlc_fft_q15_sat((ti - ei + 16384) >> 15);
        }
    }
    return EMLC_OK;
}
