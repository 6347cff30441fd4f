/* xtrt: float32 <-> integer conversions (32- and 64-bit, truncating). */
#include "xtrt.h"

uint32_t XRT(__floatsisf)(int32_t i);
uint32_t XRT(__floatunsisf)(uint32_t u);
uint32_t XRT(__floatdisf)(int64_t i);
uint32_t XRT(__floatundisf)(uint64_t u);
int32_t XRT(__fixsfsi)(uint32_t f);
uint32_t XRT(__fixunssfsi)(uint32_t f);
int64_t XRT(__fixsfdi)(uint32_t f);
uint64_t XRT(__fixunssfdi)(uint32_t f);

static int32_t top_bit(uint32_t u) { /* u != 0 */
    int32_t p = 31;
    while (!(u & 0x80000000u)) {
        u <<= 1;
        p--;
    }
    return p;
}

/* Float of the 64-bit magnitude hi:lo with the given sign. */
static uint32_t from_u64(uint32_t sign, uint32_t hi, uint32_t lo) {
    int32_t p, s;
    uint32_t m;
    if (hi == 0u) {
        if (lo == 0u) {
            return 0u;
        }
        p = top_bit(lo);
        m = p <= 26 ? lo << (26 - p) : xrt_shr_sticky(lo, p - 26);
        return xrt_round_pack(sign, 127 + p, m);
    }
    p = 32 + top_bit(hi);
    s = p - 26; /* 6..37 */
    if (s >= 32) {
        m = xrt_shr_sticky(hi, s - 32) | (lo != 0u);
    } else {
        m = (lo >> s) | (hi << (32 - s)) | ((lo & ((1u << s) - 1u)) != 0u);
    }
    return xrt_round_pack(sign, 127 + p, m);
}

uint32_t XRT(__floatsisf)(int32_t i) {
    uint32_t u = (uint32_t)i;
    return i < 0 ? from_u64(XRT_SIGN, 0u, 0u - u) : from_u64(0u, 0u, u);
}

uint32_t XRT(__floatunsisf)(uint32_t u) { return from_u64(0u, 0u, u); }

uint32_t XRT(__floatundisf)(uint64_t u) { return from_u64(0u, (uint32_t)(u >> 32), (uint32_t)u); }

uint32_t XRT(__floatdisf)(int64_t i) {
    uint64_t u = (uint64_t)i;
    if (i < 0) {
        u = 0u - u;
        return from_u64(XRT_SIGN, (uint32_t)(u >> 32), (uint32_t)u);
    }
    return from_u64(0u, (uint32_t)(u >> 32), (uint32_t)u);
}

/* |f| truncated to an integer as hi:lo; returns 0 when |f| >= 2^limit (too big),
 * 1 otherwise.  NaN counts as too big; the caller decides. */
static int32_t to_u64(uint32_t f, int32_t limit, uint32_t *hi, uint32_t *lo) {
    int32_t k = (int32_t)((f >> 23) & 0xffu) - 127;
    uint32_t m = (f & 0x7fffffu) | 0x800000u;
    *hi = 0u;
    *lo = 0u;
    if (k < 0) {
        return 1;
    }
    if (k >= limit) {
        return 0;
    }
    if (k <= 23) {
        *lo = m >> (23 - k);
    } else if (k - 23 < 32) {
        *lo = m << (k - 23);
        *hi = (k - 23 > 8) ? m >> (55 - k) : 0u; /* bits shifted out of the low word */
    } else {
        *hi = m << (k - 55);
    }
    return 1;
}

int32_t XRT(__fixsfsi)(uint32_t f) {
    uint32_t hi, lo;
    if (XRT_ISNAN(f)) {
        return 0;
    }
    if (!to_u64(f, 31, &hi, &lo)) {
        return (f & XRT_SIGN) ? (int32_t)0x80000000u : 0x7fffffff;
    }
    return (f & XRT_SIGN) ? -(int32_t)lo : (int32_t)lo;
}

uint32_t XRT(__fixunssfsi)(uint32_t f) {
    uint32_t hi, lo;
    if (XRT_ISNAN(f) || (f & XRT_SIGN)) {
        return 0u;
    }
    return to_u64(f, 32, &hi, &lo) ? lo : 0xffffffffu;
}

int64_t XRT(__fixsfdi)(uint32_t f) {
    uint32_t hi, lo;
    uint64_t u;
    if (XRT_ISNAN(f)) {
        return 0;
    }
    if (!to_u64(f, 63, &hi, &lo)) {
        return (f & XRT_SIGN) ? (int64_t)(((uint64_t)1u) << 63) : (int64_t)((((uint64_t)1u) << 63) - 1u);
    }
    u = ((uint64_t)hi << 32) | lo;
    return (f & XRT_SIGN) ? -(int64_t)u : (int64_t)u;
}

uint64_t XRT(__fixunssfdi)(uint32_t f) {
    uint32_t hi, lo;
    if (XRT_ISNAN(f) || (f & XRT_SIGN)) {
        return 0u;
    }
    if (!to_u64(f, 64, &hi, &lo)) {
        return ~(uint64_t)0u;
    }
    return ((uint64_t)hi << 32) | lo;
}
