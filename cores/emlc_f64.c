/* emlc_f64.c: exact non-negative double arithmetic in integers (see emlc_f64.h).
 *
 * Internal form: a value is q * 2^e with q in [2^55, 2^56) -- 53 mantissa bits and 3 guard bits --
 * plus a sticky flag for non-zero bits below q. pack() rounds that to the nearest double, ties to
 * even: the biased exponent of q * 2^e is e + 1078 (q >> 3 is 1.f * 2^52).
 */
#include "emlc_f64.h"

#define FRAC ((uint64_t)1 << 52)
#define TOP ((uint64_t)1 << 56)
#define LOW ((uint64_t)1 << 55)

static uint64_t pack(uint64_t q, int32_t e, uint32_t sticky) {
    uint64_t mant;
    uint32_t low;
    while (q >= TOP) { /* at most one step for a sum, never for a ratio */
        sticky |= (uint32_t)q & 1u;
        q >>= 1;
        e++;
    }
    while (q < LOW) { /* only with sticky == 0: a ratio with few quotient bits so far */
        q <<= 1;
        e--;
    }
    mant = q >> 3;
    low = (uint32_t)q & 7u;
    if (low > 4u || (low == 4u && (sticky || (mant & 1u)))) {
        mant++;
        if (mant == FRAC << 1) {
            mant >>= 1;
            e++;
        }
    }
    return ((uint64_t)(uint32_t)(e + 1078) << 52) | (mant & (FRAC - 1));
}

uint64_t emlc_f64_ratio(uint64_t m, int32_t e, uint32_t d) {
    uint64_t q = 0, r = 0;
    int32_t bit;
    if (m == 0) {
        return 0;
    }
    /* long division one bit at a time: the 64 bits of m, then zeros (each one more halving of the
     * result) until the quotient has 56 bits; the remainder becomes the sticky flag */
    for (bit = 63; bit >= 0 || q < LOW; bit--) {
        r = (r << 1) | (bit >= 0 ? (m >> bit) & 1u : 0u);
        q <<= 1;
        if (r >= d) {
            r -= d;
            q |= 1u;
        }
        if (bit < 0) {
            e--;
        }
    }
    return pack(q, e, r != 0);
}

uint64_t emlc_f64_add(uint64_t a, uint64_t b) {
    uint64_t ma, mb, t;
    int32_t sh;
    uint32_t sticky = 0;
    if (a < b) { /* non-negative doubles order like their bit patterns */
        t = a;
        a = b;
        b = t;
    }
    if (b == 0) {
        return a;
    }
    ma = ((a & (FRAC - 1)) | FRAC) << 3;
    mb = ((b & (FRAC - 1)) | FRAC) << 3;
    sh = (int32_t)(a >> 52) - (int32_t)(b >> 52);
    if (sh > 60) {
        sticky = 1;
        mb = 0;
    } else if (sh > 0) {
        sticky = (mb & (((uint64_t)1 << sh) - 1)) != 0;
        mb >>= sh;
    }
    return pack(ma + mb, (int32_t)(a >> 52) - 1078, sticky);
}

uint64_t emlc_f64_div_int(uint64_t a, uint32_t d) {
    if (a == 0) {
        return 0;
    }
    return emlc_f64_ratio((a & (FRAC - 1)) | FRAC, (int32_t)(a >> 52) - 1075, d);
}
