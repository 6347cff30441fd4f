/* emlc_quant.c: int16 input quantization (docs/model-format.md §1). See emlc_quant.h. */
#include "emlc_quant.h"

typedef union {
    float f;
    uint32_t u;
} emlc_quant_bits_t;

/* The order-preserving integer key of a float's bits (docs/model-format.md §1, key space). */
static int32_t emlc_quant_key(uint32_t u) {
    return (int32_t)(u ^ ((0u - (u >> 31)) >> 1));
}

int16_t emlc_quantize(float x, float scale, float offset) {
    emlc_quant_bits_t b;
    uint32_t e, m, frac;
    int32_t k, i;
    b.f = offset;
    b.u ^= 0x80000000u; /* -offset, exactly, by its sign bit */
    b.f = (x + b.f) * scale + 0.5f;
    k = emlc_quant_key(b.u);
    if ((uint32_t)k - 0x7f800001u <= 0x00fffffdu) { /* NaN */
        return 0;
    }
    if (k <= -0x47000001) { /* key(-32768.0f): bits 0xc7000000 ^ 0x7fffffff */
        return -32768;
    }
    if (k >= 0x46fffe00) { /* key(32767.0f): its bits */
        return 32767;
    }
    /* floor of a finite v with |v| < 2^15, from its bits: truncate the magnitude, then a negative
     * v with a fractional part goes one lower. */
    e = (b.u >> 23) & 0xffu;
    if (e < 127u) { /* |v| < 1 */
        i = 0;
        frac = (b.u & 0x7fffffffu) != 0u;
    } else {
        m = (b.u & 0x7fffffu) | 0x800000u;
        e = 150u - e; /* 9..23: the bits below the binary point */
        i = (int32_t)(m >> e);
        frac = (m & ((1u << e) - 1u)) != 0u;
    }
    if (b.u >> 31) {
        i = -i - (int32_t)frac;
    }
    return (int16_t)i;
}

void emlc_quantize_row(const float *x, const float *scale, const float *offset, size_t n, int16_t *out) {
    for (size_t f = 0; f < n; f++) {
        out[f] = emlc_quantize(x[f], scale[f], offset[f]);
    }
}
