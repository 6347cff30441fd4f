/* xtrt: float32 add/subtract/negate (__addsf3, __subsf3, __negsf2). */
#include "xtrt.h"

uint32_t XRT(__addsf3)(uint32_t a, uint32_t b);
uint32_t XRT(__subsf3)(uint32_t a, uint32_t b);
uint32_t XRT(__negsf2)(uint32_t a);

uint32_t XRT(__addsf3)(uint32_t a, uint32_t b) {
    uint32_t sign, ma, mb, m, t;
    int32_t ea, eb, d;
    if (XRT_ISNAN(a) || XRT_ISNAN(b)) {
        return XRT_QNAN;
    }
    if (XRT_ABS(a) < XRT_ABS(b)) { /* make |a| >= |b| */
        t = a;
        a = b;
        b = t;
    }
    if (XRT_ABS(a) == 0x7f800000u) {
        return (XRT_ABS(b) == 0x7f800000u && ((a ^ b) & XRT_SIGN)) ? XRT_QNAN : a;
    }
    if (XRT_ABS(a) == 0u) { /* both zero: -0 only when both are -0 */
        return a & b;
    }
    sign = a & XRT_SIGN;
    ea = (int32_t)((a >> 23) & 0xffu);
    eb = (int32_t)((b >> 23) & 0xffu);
    ma = a & 0x7fffffu;
    mb = b & 0x7fffffu;
    if (ea != 0) { ma |= 0x800000u; } else { ea = 1; }
    if (eb != 0) { mb |= 0x800000u; } else { eb = 1; }
    ma <<= 3;
    mb <<= 3;
    d = ea - eb; /* >= 0 because |a| >= |b| */
    mb = xrt_shr_sticky(mb, d);
    if (((a ^ b) & XRT_SIGN) == 0u) {
        m = ma + mb;
        if (m & (1u << 27)) {
            m = (m >> 1) | (m & 1u);
            ea++;
        }
    } else {
        m = ma - mb;
        if (m == 0u) {
            return 0u; /* x - x = +0 in round-to-nearest */
        }
        while (!(m & (1u << 26)) && ea > 1) {
            m <<= 1;
            ea--;
        }
    }
    return xrt_round_pack(sign, ea, m);
}

uint32_t XRT(__subsf3)(uint32_t a, uint32_t b) {
    if (XRT_ISNAN(b)) {
        return XRT_QNAN;
    }
    return XRT(__addsf3)(a, b ^ XRT_SIGN);
}

uint32_t XRT(__negsf2)(uint32_t a) {
    return a ^ XRT_SIGN;
}
