/* xtrt: shared rounding and widening-multiply primitives (see xtrt.h). */
#include "xtrt.h"

uint32_t xrt_shr_sticky(uint32_t m, int32_t n) {
    if (n <= 0) {
        return m;
    }
    if (n >= 32) {
        return m != 0;
    }
    return (m >> n) | ((m & ((1u << n) - 1u)) != 0);
}

uint32_t xrt_round_pack(uint32_t sign, int32_t e, uint32_t m) {
    uint32_t rnd = m & 7u;
    uint32_t r;
    m >>= 3;
    if (rnd > 4u || (rnd == 4u && (m & 1u))) {
        m++;
    }
    if (e >= 255) {
        return sign | 0x7f800000u;
    }
    /* (e - 1) << 23 plus the significand with its implicit bit: a carry out of the
     * significand (m == 1 << 24) or a subnormal rounding up to 1 << 23 bumps the
     * exponent field exactly as IEEE requires. */
    r = ((uint32_t)(e - 1) << 23) + m;
    if (r >= 0x7f800000u) {
        return sign | 0x7f800000u;
    }
    return sign | r;
}

void xrt_mul32(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
    uint32_t a0 = a & 0xffffu, a1 = a >> 16, b0 = b & 0xffffu, b1 = b >> 16;
    uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint32_t mid = p01 + (p00 >> 16);          /* < 2^32: (2^16-1)^2 + 2^16 - 1 */
    uint32_t mid2 = p10 + (mid & 0xffffu);     /* < 2^32 likewise */
    *lo = (mid2 << 16) | (p00 & 0xffffu);
    *hi = p11 + (mid >> 16) + (mid2 >> 16);
}
