/* emlc_array.c: linear map and window features (rules in emlc_array.h).
 *
 * Floats are compared by their bits: key(f) is an int32 that orders all non-NaN floats like
 * their values (-0.0 just below +0.0), so no soft-float compare helper is linked. Every division
 * and square root is emlc_array_ratio: restoring long division in 64-bit integers to 25 quotient
 * bits (or 49..50 bits, then a bitwise integer square root to 25 bits), a sticky bit for what is
 * left, then one round to nearest even.
 */
#include "emlc_array.h"

#define SIGN 0x80000000u
#define INF 0x7f800000u

static int32_t key(uint32_t b) {
    return (int32_t)(b ^ ((0u - (b >> 31)) & 0x7fffffffu));
}

static int is_nan(uint32_t b) {
    return (b & 0x7fffffffu) > INF;
}

float emlc_array_ratio(int64_t p, uint32_t q, int32_t e, int root) {
    emlc_bits_t out;
    uint64_t r = (uint64_t)(p < 0 ? -p : p), d = q, m = 0;
    int nb = 25;
    uint32_t sticky, mant, round;
    out.u = 0;
    if (r != 0 && q != 0) {
        /* invariant after alignment: d <= r < 2d, value = (r / d) * 2^e */
        while (d <= r >> 1) {
            d <<= 1;
            e++;
        }
        while (d > r) {
            r <<= 1;
            e--;
        }
        if (root) { /* an even exponent: value = N * 2^-48 * 2^e with N of 49 or 50 bits */
            nb = 49 + (e & 1);
            e = (e - (e & 1)) / 2;
        }
        while (nb-- > 0) { /* r < 2d < 2^64 */
            m <<= 1;
            if (r >= d) {
                r -= d;
                m |= 1;
            }
            r <<= 1;
        }
        sticky = r != 0;
        if (root) { /* m = isqrt(N), the remainder into sticky; N < 2^50 */
            uint64_t x = m, bit = (uint64_t)1 << 48;
            m = 0;
            for (; bit != 0; bit >>= 2) {
                if (x >= m + bit) {
                    x -= m + bit;
                    m = (m >> 1) + bit;
                } else {
                    m >>= 1;
                }
            }
            sticky |= x != 0;
        }
        /* m: 25 bits, the leading one (2^e) at bit 24, the round bit at bit 0 */
        mant = (uint32_t)m;
        if (e > 127) {
            out.u = INF;
        } else {
            if (e < -126) { /* subnormal: fewer significand bits */
                uint32_t sh = (uint32_t)(-126 - e);
                if (sh > 25) {
                    sh = 25;
                }
                sticky |= (mant & ((1u << sh) - 1u)) != 0;
                mant >>= sh;
                e = -126;
            }
            round = mant & 1u;
            mant >>= 1;
            if (round && (sticky || (mant & 1u))) {
                mant++;
            }
            /* the leading one of mant adds 1 to the exponent field; a carry to 2^24 adds 2 */
            out.u = ((uint32_t)(e + 126) << 23) + mant;
        }
    }
    if (p < 0) {
        out.u |= SIGN;
    }
    return out.f;
}

/* f = *m * 2^*e with *m the signed significand, for emlc_array_ratio: returns 1, or 0 (nothing
 * set) when f is zero, infinite or NaN. */
static int split(float f, int64_t *m, int32_t *e) {
    emlc_bits_t b;
    uint32_t ex;
    b.f = f;
    ex = (b.u >> 23) & 0xffu;
    if (ex == 0xffu || (b.u & 0x7fffffffu) == 0) {
        return 0;
    }
    *m = (int64_t)((b.u & 0x7fffffu) | (ex ? 0x800000u : 0u));
    *e = (int32_t)(ex ? ex : 1) - 150;
    if (b.u & SIGN) {
        *m = -*m;
    }
    return 1;
}

/* f / n (root 0) or sqrt(f / n) (root 1), correctly rounded; zero, inf and NaN as they are. */
static float div_n(float f, uint32_t n, int root) {
    int64_t m;
    int32_t e;
    return split(f, &m, &e) ? emlc_array_ratio(m, n, e, root) : f;
}

/* b clamped to [lo, hi] by keys (lo <= hi) */
static uint32_t clamp(uint32_t b, uint32_t lo, uint32_t hi) {
    return key(b) < key(lo) ? lo : key(b) > key(hi) ? hi : b;
}

emlc_err_t emlc_array_features(const void *x, int dtype, size_t n, size_t stride, float *out) {
    const int16_t *vh = (const int16_t *)x;
    const float *vf = (const float *)x;
    size_t i, j;
    uint32_t zc = 0, neg, prev = 0, nan = 0;
    int32_t s = 0, k, lo = INT32_MAX, hi = INT32_MIN; /* lo, hi: int16 values or float keys */
    uint64_t ss = 0;
    float fs = 0.0f, d = 0.0f, q = 0.0f, mean;
    emlc_bits_t b;
    if (x == NULL || out == NULL) {
        return EMLC_ERR_NULL;
    }
    if (n == 0 || n > EMLC_ARRAY_MAX_N || stride == 0) {
        return EMLC_ERR_SIZE;
    }
    if ((unsigned)dtype > EMLC_ARRAY_F32) {
        return EMLC_ERR_KIND;
    }
    for (i = 0, j = 0; i < n; i++, j += stride) {
        if (dtype == EMLC_ARRAY_I16) {
            k = vh[j];
            s += k;
            ss += (uint32_t)(k * k);
            neg = k < 0;
        } else {
            b.f = vf[j];
            fs += b.f;
            k = key(b.u);
            /* x < 0: the sign bit on a magnitude in 1 .. INF (not -0.0, not NaN) */
            neg = (b.u >> 31) & ((b.u & 0x7fffffffu) - 1u < INF);
            nan |= is_nan(b.u);
        }
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
        zc += i != 0 && neg != prev;
        prev = neg;
    }
    if (dtype == EMLC_ARRAY_I16) {
        /* |s| < 2^31, ss < 2^46, n <= 65535: n * ss and s * s < 2^62, n * n < 2^32 */
        out[EMLC_ARRAY_MEAN] = emlc_array_ratio(s, (uint32_t)n, 0, 0);
        out[EMLC_ARRAY_STD] = emlc_array_ratio((int64_t)(n * ss - (uint64_t)((int64_t)s * s)),
                                               (uint32_t)(n * n), 0, 1);
        out[EMLC_ARRAY_MIN] = (float)lo; /* exact: |lo|, |hi| <= 32768 */
        out[EMLC_ARRAY_MAX] = (float)hi;
        out[EMLC_ARRAY_RMS] = emlc_array_ratio((int64_t)ss, (uint32_t)n, 0, 1);
    } else {
        mean = div_n(fs, (uint32_t)n, 0);
        for (i = 0, j = 0; i < n; i++, j += stride) {
            float a = vf[j], c = a - mean;
            d += c * c;
            q += a * a;
        }
        out[EMLC_ARRAY_MEAN] = mean;
        out[EMLC_ARRAY_STD] = div_n(d, (uint32_t)n, 1);
        out[EMLC_ARRAY_RMS] = div_n(q, (uint32_t)n, 1);
        /* key() is its own inverse: the keys back to bits */
        b.u = nan ? INF | 0x400000u : (uint32_t)key((uint32_t)lo);
        out[EMLC_ARRAY_MIN] = b.f;
        b.u = nan ? INF | 0x400000u : (uint32_t)key((uint32_t)hi);
        out[EMLC_ARRAY_MAX] = b.f;
    }
    out[EMLC_ARRAY_ZERO_CROSSINGS] = (float)(int32_t)zc; /* exact: zc < 65535 */
    return EMLC_OK;
}

emlc_err_t emlc_array_linear_map(const void *src, int src_dtype, size_t stride, void *dst, int dst_dtype,
                                 size_t n, const float *range) {
    const float in_min = range[0], out_min = range[2];
    int64_t mu, md;
    int32_t eu, ed;
    emlc_bits_t k, lo, hi, y;
    size_t i, j;
    if (src == NULL || dst == NULL || range == NULL) {
        return EMLC_ERR_NULL;
    }
    if ((src_dtype | dst_dtype) & ~1) {
        return EMLC_ERR_KIND;
    }
    if (stride == 0) {
        return EMLC_ERR_SIZE;
    }
    /* both spans non-zero and finite (so every bound is finite: a NaN or inf bound makes its span
     * NaN or inf) */
    if (!split(range[3] - out_min, &mu, &eu) || !split(range[1] - in_min, &md, &ed)) {
        return EMLC_ERR_VALUE;
    }
    k.f = emlc_array_ratio(md < 0 ? -mu : mu, (uint32_t)(md < 0 ? -md : md), eu - ed, 0);
    if (((k.u >> 23) & 0xffu) - 1u >= 0xfeu) { /* zero, subnormal or inf */
        return EMLC_ERR_VALUE;
    }
    lo.f = out_min;
    hi.f = range[3];
    if (key(lo.u) > key(hi.u)) {
        y = lo;
        lo = hi;
        hi = y;
    }
    if (dst_dtype == EMLC_ARRAY_I16) {
        emlc_bits_t a, z;
        a.f = -32768.0f;
        z.f = 32767.0f;
        lo.u = clamp(lo.u, a.u, z.u);
        hi.u = clamp(hi.u, a.u, z.u);
        if (src_dtype == EMLC_ARRAY_F32) {
            for (i = 0, j = 0; i < n; i++, j += stride) {
                y.f = ((const float *)src)[j];
                if (is_nan(y.u)) {
                    return EMLC_ERR_VALUE;
                }
            }
        }
    }
    for (i = 0, j = 0; i < n; i++, j += stride) {
        y.f = src_dtype == EMLC_ARRAY_I16 ? (float)((const int16_t *)src)[j] : ((const float *)src)[j];
        y.f = (y.f - in_min) * k.f + out_min;
        if (!is_nan(y.u)) {
            y.u = clamp(y.u, lo.u, hi.u);
        }
        if (dst_dtype == EMLC_ARRAY_I16) {
            /* |y| <= 32768: adding 1.5 * 2^23 rounds to an integer (nearest, ties to even) held
             * in the low significand bits, offset by 2^22 */
            y.f += 12582912.0f;
            ((int16_t *)dst)[i] = (int16_t)((int32_t)(y.u & 0x7fffffu) - 0x400000);
        } else {
            ((float *)dst)[i] = y.f;
        }
    }
    return EMLC_OK;
}
