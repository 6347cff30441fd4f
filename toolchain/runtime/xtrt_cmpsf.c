/* xtrt: float32 comparisons with libgcc's return conventions. */
#include "xtrt.h"

int32_t XRT(__eqsf2)(uint32_t a, uint32_t b);
int32_t XRT(__nesf2)(uint32_t a, uint32_t b);
int32_t XRT(__ltsf2)(uint32_t a, uint32_t b);
int32_t XRT(__lesf2)(uint32_t a, uint32_t b);
int32_t XRT(__gtsf2)(uint32_t a, uint32_t b);
int32_t XRT(__gesf2)(uint32_t a, uint32_t b);
int32_t XRT(__unordsf2)(uint32_t a, uint32_t b);

/* -1, 0, 1 for a <, ==, > b; `unord` when either is NaN. */
static int32_t cmp(uint32_t a, uint32_t b, int32_t unord) {
    int32_t ka, kb;
    if (XRT_ISNAN(a) || XRT_ISNAN(b)) {
        return unord;
    }
    /* Map sign-magnitude to a monotonic signed key; +0 and -0 both map to 0. */
    ka = (a & XRT_SIGN) ? -(int32_t)XRT_ABS(a) : (int32_t)a;
    kb = (b & XRT_SIGN) ? -(int32_t)XRT_ABS(b) : (int32_t)b;
    return (ka > kb) - (ka < kb);
}

int32_t XRT(__eqsf2)(uint32_t a, uint32_t b) { return cmp(a, b, 1); }
int32_t XRT(__nesf2)(uint32_t a, uint32_t b) { return cmp(a, b, 1); }
int32_t XRT(__ltsf2)(uint32_t a, uint32_t b) { return cmp(a, b, 1); }
int32_t XRT(__lesf2)(uint32_t a, uint32_t b) { return cmp(a, b, 1); }
int32_t XRT(__gtsf2)(uint32_t a, uint32_t b) { return cmp(a, b, -1); }
int32_t XRT(__gesf2)(uint32_t a, uint32_t b) { return cmp(a, b, -1); }
int32_t XRT(__unordsf2)(uint32_t a, uint32_t b) { return XRT_ISNAN(a) || XRT_ISNAN(b); }
