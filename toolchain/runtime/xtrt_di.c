/* xtrt: 64-bit integer multiply, divide, remainder, shifts and compares.
 * Only constant shifts of 64-bit values are used (GCC inlines those). */
#include "xtrt.h"

int64_t XRT(__muldi3)(int64_t a, int64_t b);
uint64_t XRT(__udivdi3)(uint64_t n, uint64_t d);
uint64_t XRT(__umoddi3)(uint64_t n, uint64_t d);
int64_t XRT(__divdi3)(int64_t n, int64_t d);
int64_t XRT(__moddi3)(int64_t n, int64_t d);
uint64_t XRT(__ashldi3)(uint64_t a, int32_t s);
uint64_t XRT(__lshrdi3)(uint64_t a, int32_t s);
int64_t XRT(__ashrdi3)(int64_t a, int32_t s);
int64_t XRT(__negdi2)(int64_t a);
int32_t XRT(__cmpdi2)(int64_t a, int64_t b);
int32_t XRT(__ucmpdi2)(uint64_t a, uint64_t b);

#define HI(x) ((uint32_t)((x) >> 32))
#define LO(x) ((uint32_t)(x))
#define MK(h, l) (((uint64_t)(h) << 32) | (uint64_t)(l))

int64_t XRT(__muldi3)(int64_t a, int64_t b) {
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    uint32_t hi, lo;
    xrt_mul32(LO(ua), LO(ub), &hi, &lo);
    hi += LO(ua) * HI(ub) + HI(ua) * LO(ub);
    return (int64_t)MK(hi, lo);
}

static uint64_t udivmod(uint64_t n, uint64_t d, uint64_t *rem) {
    uint64_t q = 0u, r = 0u;
    uint32_t carry;
    int32_t i;
    if (d == 0u) {
        *rem = 0u;
        return 0u;
    }
    /* Long division, one bit per step; invariant: r < d before each shift. */
    for (i = 0; i < 64; i++) {
        carry = HI(r) >> 31;
        r = (r << 1) | (n >> 63);
        n <<= 1;
        q <<= 1;
        if (carry || r >= d) {
            r -= d;
            q |= 1u;
        }
    }
    *rem = r;
    return q;
}

uint64_t XRT(__udivdi3)(uint64_t n, uint64_t d) {
    uint64_t r;
    return udivmod(n, d, &r);
}

uint64_t XRT(__umoddi3)(uint64_t n, uint64_t d) {
    uint64_t r;
    (void)udivmod(n, d, &r);
    return r;
}

int64_t XRT(__divdi3)(int64_t n, int64_t d) {
    uint64_t un = n < 0 ? 0u - (uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? 0u - (uint64_t)d : (uint64_t)d;
    uint64_t r, q = udivmod(un, ud, &r);
    return (int64_t)(((n < 0) != (d < 0)) ? 0u - q : q);
}

int64_t XRT(__moddi3)(int64_t n, int64_t d) {
    uint64_t un = n < 0 ? 0u - (uint64_t)n : (uint64_t)n;
    uint64_t ud = d < 0 ? 0u - (uint64_t)d : (uint64_t)d;
    uint64_t r;
    (void)udivmod(un, ud, &r);
    return (int64_t)(n < 0 ? 0u - r : r);
}

/* Shift counts outside 0..63 are undefined in C; they are masked to 0..63 here. */
uint64_t XRT(__ashldi3)(uint64_t a, int32_t s) {
    uint32_t hi = HI(a), lo = LO(a);
    s &= 63;
    if (s == 0) {
        return a;
    }
    if (s >= 32) {
        return MK(lo << (s - 32), 0u);
    }
    return MK((hi << s) | (lo >> (32 - s)), lo << s);
}

uint64_t XRT(__lshrdi3)(uint64_t a, int32_t s) {
    uint32_t hi = HI(a), lo = LO(a);
    s &= 63;
    if (s == 0) {
        return a;
    }
    if (s >= 32) {
        return MK(0u, hi >> (s - 32));
    }
    return MK(hi >> s, (lo >> s) | (hi << (32 - s)));
}

int64_t XRT(__ashrdi3)(int64_t a, int32_t s) {
    uint64_t u = (uint64_t)a;
    uint32_t fill = (HI(u) & 0x80000000u) ? 0xffffffffu : 0u;
    uint64_t r;
    s &= 63;
    r = XRT(__lshrdi3)(u, s);
    if (s != 0) {
        r |= XRT(__ashldi3)(MK(fill, fill), 64 - s);
    }
    return (int64_t)r;
}

int64_t XRT(__negdi2)(int64_t a) { return (int64_t)(0u - (uint64_t)a); }

int32_t XRT(__cmpdi2)(int64_t a, int64_t b) { return a < b ? 0 : (a > b ? 2 : 1); }

int32_t XRT(__ucmpdi2)(uint64_t a, uint64_t b) { return a < b ? 0 : (a > b ? 2 : 1); }
