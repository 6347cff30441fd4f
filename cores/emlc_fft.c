/* emlc_fft.c: radix-2 decimation-in-time FFT and real FFT. See emlc_fft.h. */
#include "emlc_fft.h"

/* sin(pi/4 * u) and cos(pi/4 * u) for u in [0, 1]: Taylor polynomials in u (coefficients are
 * (+-)(pi/4)^j / j!). Truncation error <= (pi/4)^11/11! = 1.8e-9 (sin), (pi/4)^12/12! = 1.2e-10
 * (cos), far below float32 rounding of the results (<= 6e-8). */
static float emlc_fft_sin8(float u) {
    const float u2 = u * u;
    return u * (7.853981634e-01f +
                u2 * (-8.074551219e-02f + u2 * (2.490394570e-03f + u2 * (-3.657620418e-05f + u2 * 3.133616890e-07f))));
}

static float emlc_fft_cos8(float u) {
    const float u2 = u * u;
    return 1.0f + u2 * (-3.084251375e-01f +
                        u2 * (1.585434424e-02f +
                              u2 * (-3.259918869e-04f + u2 * (3.590860449e-06f + u2 * -2.461136950e-08f))));
}

emlc_err_t emlc_fft_init(emlc_fft_t *f, float *table, size_t table_len, size_t n_max) {
    if (!f || !table) {
        return EMLC_ERR_NULL;
    }
    const int l = emlc_log2_pow2(n_max);
    if (l < 2 || n_max > EMLC_FFT_MAX_N) {
        return EMLC_ERR_SIZE;
    }
    const size_t len = EMLC_FFT_TABLE_LEN(n_max);
    if (table_len < len) {
        return EMLC_ERR_CAPACITY;
    }
    /* step = 8/n_max exactly (a power of two), built by halving: no division. */
    float step = 8.0f;
    for (int i = 0; i < l; i++) {
        step *= 0.5f;
    }
    float u = 0.0f;
    for (size_t k = 0; k < len; k++) {
        /* angle = 2*pi*k/n_max = (pi/4) * (8k/n_max) = (pi/4) * (oct + u), u = rem/n_max in [0, 1). */
        const size_t p = k << 3; /* < 6 * n_max <= 6 * 2^24: no overflow */
        const size_t oct = p >> l;
        const size_t rem = p & (n_max - 1);
        /* u = rem/n_max, kept by adding step (no int-to-float conversion): every partial sum is a
         * multiple of 1/n_max below 1, exactly representable (n_max <= 2^24), so each add is exact. */
        if (rem == 0) {
            u = 0.0f;
        }
        const float g = 1.0f - u; /* exact for the same reason */
        /* Octants 0..5 of [0, 3pi/2): with a = (pi/4)(oct + u),
         *   0: sin(pi/4 u)   1: cos(pi/4 (1-u))   2: cos(pi/4 u)   3: sin(pi/4 (1-u)),
         *   4, 5: minus octants 0, 1 (sin(a + pi) = -sin a).
         * Odd octants use 1-u; octants 1, 2, 5 use cos. "0 -" keeps sin(pi) = +0. */
        const float w = (oct & 1u) ? g : u;
        float v = (((oct + 1u) >> 1) & 1u) ? emlc_fft_cos8(w) : emlc_fft_sin8(w);
        if (oct >= 4u) {
            v = 0.0f - v;
        }
        table[k] = v;
        u += step;
    }
    f->sin_t = table;
    f->n = n_max;
    f->log2n = (unsigned)l;
    return EMLC_OK;
}

/* Unnormalised forward transform of length n = 2^log2n <= f->n; arguments already checked. */
static void emlc_fft_run(const emlc_fft_t *f, float *re, float *im, size_t n, unsigned log2n) {
    /* Bit-reversal permutation, reversed counter j updated incrementally. */
    size_t j = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (i < j) {
            float t = re[i];
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
    const float *sin_t = f->sin_t;
    const float *cos_t = f->sin_t + (f->n >> 2);
    for (unsigned s = 1; s <= log2n; s++) {
        const size_t half = (size_t)1 << (s - 1);
        const size_t size = half << 1;
        const unsigned shift = f->log2n - s; /* table index of w^jj is jj << shift */
        /* jj = 0: twiddle 1, no multiplications. */
        for (size_t a = 0; a < n; a += size) {
            const size_t b = a + half;
            const float tr = re[b], ti = im[b];
            re[b] = re[a] - tr;
            im[b] = im[a] - ti;
            re[a] += tr;
            im[a] += ti;
        }
        for (size_t jj = 1; jj < half; jj++) {
            const size_t idx = jj << shift;
            const float c = cos_t[idx], sn = sin_t[idx];
            if (jj << 1 == half) {
                /* twiddle exactly -i (c == 0, sn == 1 in the table): t = -i * x[b] */
                for (size_t a = jj; a < n; a += size) {
                    const size_t b = a + half;
                    const float tr = im[b], ti = -re[b];
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
                continue;
            }
            for (size_t a = jj; a < n; a += size) {
                const size_t b = a + half;
                /* t = (c - i sn) * x[b] */
                const float tr = re[b] * c + im[b] * sn;
                const float ti = im[b] * c - re[b] * sn;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
    }
}

/* Checks shared by forward/inverse; returns log2(n) or a negative error. */
static int emlc_fft_check(const emlc_fft_t *f, const float *re, const float *im, size_t n) {
    if (!f || !re || !im || !f->sin_t) {
        return EMLC_ERR_NULL;
    }
    const int l = emlc_log2_pow2(n);
    if (l < 0 || n > f->n) {
        return EMLC_ERR_SIZE;
    }
    return l;
}

emlc_err_t emlc_fft_forward(const emlc_fft_t *f, float *re, float *im, size_t n) {
    const int l = emlc_fft_check(f, re, im, n);
    if (l < 0) {
        return (emlc_err_t)l;
    }
    emlc_fft_run(f, re, im, n, (unsigned)l);
    return EMLC_OK;
}

emlc_err_t emlc_fft_inverse(const emlc_fft_t *f, float *re, float *im, size_t n) {
    const int l = emlc_fft_check(f, re, im, n);
    if (l < 0) {
        return (emlc_err_t)l;
    }
    /* ifft(x) = swap(fft(swap(x))) / n with swap(a + ib) = b + ia: run with re/im exchanged. */
    emlc_fft_run(f, im, re, n, (unsigned)l);
    float inv = 1.0f;
    for (int i = 0; i < l; i++) {
        inv *= 0.5f;
    }
    for (size_t i = 0; i < n; i++) {
        re[i] *= inv;
        im[i] *= inv;
    }
    return EMLC_OK;
}

emlc_err_t emlc_fft_rfft(const emlc_fft_t *f, const float *x, size_t n, float *re, float *im, size_t out_len) {
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
    /* z[m] = x[2m] + i x[2m+1]. Safe when x == re: step m writes re[m], im[m] and later steps
     * read x[2m'], x[2m'+1] with m' > m, i.e. at positions >= 2m+2 > m. */
    for (size_t m = 0; m < half; m++) {
        const float odd = x[2 * m + 1];
        re[m] = x[2 * m];
        im[m] = odd;
    }
    emlc_fft_run(f, re, im, half, (unsigned)(l - 1));
    /* Split Z (length M = n/2) into the spectrum: with A = Z[k], B = Z[M-k],
     *   E = (A + conj B)/2, O = (A - conj B)/(2i), T = w^k O with w = exp(-2i*pi/n),
     *   X[k] = E + T, X[M-k] = conj(E - T); X[0] = Re Z0 + Im Z0, X[M] = Re Z0 - Im Z0. */
    const float z0r = re[0], z0i = im[0];
    re[0] = z0r + z0i;
    im[0] = 0.0f;
    re[half] = z0r - z0i;
    im[half] = 0.0f;
    const float *sin_t = f->sin_t;
    const float *cos_t = f->sin_t + (f->n >> 2);
    const unsigned shift = f->log2n - (unsigned)l;
    for (size_t k = 1; k <= (half >> 1); k++) {
        const size_t mk = half - k;
        const float ar = re[k], ai = im[k], br = re[mk], bi = im[mk];
        const float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
        const float or_ = 0.5f * (ai + bi), oi = 0.5f * (br - ar);
        const size_t idx = k << shift;
        const float c = cos_t[idx], sn = sin_t[idx];
        const float tr = c * or_ + sn * oi, ti = c * oi - sn * or_;
        re[k] = er + tr;
        im[k] = ei + ti;
        re[mk] = er - tr; /* when k == M-k this rewrites the same values */
        im[mk] = ti - ei;
    }
    return EMLC_OK;
}
