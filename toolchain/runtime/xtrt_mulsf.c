/* xtrt: float32 multiply and divide (__mulsf3, __divsf3). */
#include "xtrt.h"

uint32_t XRT(__mulsf3)(uint32_t a, uint32_t b);
uint32_t XRT(__divsf3)(uint32_t a, uint32_t b);

/* Unpack a finite nonzero float into a significand with bit 23 set and an unbiased
 * exponent (subnormals are normalised, so the exponent may go below -126). */
static uint32_t unpack(uint32_t a, int32_t *e) {
    uint32_t m = a & 0x7fffffu;
    int32_t ex = (int32_t)((a >> 23) & 0xffu);
    if (ex == 0) {
        ex = 1;
        while (!(m & 0x800000u)) {
            m <<= 1;
            ex--;
        }
    } else {
        m |= 0x800000u;
    }
    *e = ex - 127;
    return m;
}

/* Pack significand m (implicit bit at 26, 3 round bits) with unbiased exponent e. */
static uint32_t finish(uint32_t sign, int32_t e, uint32_t m) {
    int32_t be = e + 127;
    if (be < 1) {
        m = xrt_shr_sticky(m, 1 - be);
        be = 1;
    }
    return xrt_round_pack(sign, be, m);
}

uint32_t XRT(__mulsf3)(uint32_t a, uint32_t b) {
    uint32_t sign = (a ^ b) & XRT_SIGN, ma, mb, hi, lo, m;
    int32_t ea, eb, e;
    if (XRT_ISNAN(a) || XRT_ISNAN(b)) {
        return XRT_QNAN;
    }
    if (XRT_ABS(a) == 0x7f800000u || XRT_ABS(b) == 0x7f800000u) {
        return (XRT_ABS(a) == 0u || XRT_ABS(b) == 0u) ? XRT_QNAN : (sign | 0x7f800000u);
    }
    if (XRT_ABS(a) == 0u || XRT_ABS(b) == 0u) {
        return sign;
    }
    ma = unpack(a, &ea);
    mb = unpack(b, &eb);
    e = ea + eb;
    xrt_mul32(ma, mb, &hi, &lo); /* product in [2^46, 2^48) */
    m = (hi << 12) | (lo >> 20);
    m |= (lo & 0xfffffu) != 0u;
    if (m & (1u << 27)) {
        m = (m >> 1) | (m & 1u);
        e++;
    }
    return finish(sign, e, m);
}

uint32_t XRT(__divsf3)(uint32_t a, uint32_t b) {
    uint32_t sign = (a ^ b) & XRT_SIGN, ma, mb, q = 0u;
    int32_t ea, eb, e, i;
    if (XRT_ISNAN(a) || XRT_ISNAN(b)) {
        return XRT_QNAN;
    }
    if (XRT_ABS(a) == 0x7f800000u) {
        return XRT_ABS(b) == 0x7f800000u ? XRT_QNAN : (sign | 0x7f800000u);
    }
    if (XRT_ABS(b) == 0x7f800000u) {
        return sign;
    }
    if (XRT_ABS(b) == 0u) {
        return XRT_ABS(a) == 0u ? XRT_QNAN : (sign | 0x7f800000u);
    }
    if (XRT_ABS(a) == 0u) {
        return sign;
    }
    ma = unpack(a, &ea);
    mb = unpack(b, &eb);
    e = ea - eb;
    if (ma < mb) {
        ma <<= 1;
        e--;
    }
    /* Restoring division: 27 quotient bits, the first one is always 1.
     * Invariant: ma < 2 * mb < 2^25 at the top of each step. */
    for (i = 0; i < 27; i++) {
        q <<= 1;
        if (ma >= mb) {
            ma -= mb;
            q |= 1u;
        }
        ma <<= 1;
    }
    q |= ma != 0u;
    return finish(sign, e, q);
}
