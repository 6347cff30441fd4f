/* xtrt: 32-bit integer division and remainder (ESP8266 and our ESP32 build have no
 * divide instruction in use).  x / 0 and x % 0 return 0. */
#include "xtrt.h"

uint32_t XRT(__udivsi3)(uint32_t n, uint32_t d);
uint32_t XRT(__umodsi3)(uint32_t n, uint32_t d);
int32_t XRT(__divsi3)(int32_t n, int32_t d);
int32_t XRT(__modsi3)(int32_t n, int32_t d);

static uint32_t udivmod(uint32_t n, uint32_t d, uint32_t *rem) {
    uint32_t q = 0u, r = 0u, carry;
    int32_t i;
    if (d == 0u) {
        *rem = 0u;
        return 0u;
    }
    /* Long division; invariant: r < d at the top of each step (r may need 33 bits
     * after the shift, hence `carry`). */
    for (i = 31; i >= 0; i--) {
        carry = r >> 31;
        r = (r << 1) | ((n >> i) & 1u);
        if (carry || r >= d) {
            r -= d;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t XRT(__udivsi3)(uint32_t n, uint32_t d) {
    uint32_t r;
    return udivmod(n, d, &r);
}

uint32_t XRT(__umodsi3)(uint32_t n, uint32_t d) {
    uint32_t r;
    (void)udivmod(n, d, &r);
    return r;
}

int32_t XRT(__divsi3)(int32_t n, int32_t d) {
    uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t r, q = udivmod(un, ud, &r);
    return (int32_t)(((n < 0) != (d < 0)) ? 0u - q : q);
}

int32_t XRT(__modsi3)(int32_t n, int32_t d) {
    uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t r;
    (void)udivmod(un, ud, &r);
    return (int32_t)(n < 0 ? 0u - r : r);
}
