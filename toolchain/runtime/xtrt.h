/* xtrt: freestanding compiler-helper routines for the Xtensa natmod targets.
 *
 * GCC turns some C operations into calls to helper functions (libgcc names).  No
 * libgcc exists here for the ESP32 windowed ABI, and the ESP8266 libgcc lacks most
 * single-precision and 32/64-bit division helpers (the ESP8266 firmware takes them
 * from its ROM), so this folder provides our own implementations, compiled for each
 * Xtensa flavour and linked into a module only when referenced.
 *
 * Floats are passed as their IEEE-754 binary32 bit pattern in a uint32_t: on Xtensa
 * a float argument or result travels in an address register exactly like a 32-bit
 * integer, so the helpers are ABI-compatible with GCC's calls and never do float
 * arithmetic themselves (which would recurse into the helpers).
 *
 * Invariants: round-to-nearest-even everywhere; subnormals supported; any NaN result
 * is the quiet NaN 0x7fc00000; no 64-bit multiply, divide or variable shift is used
 * inside the helpers (those would call the helpers themselves).  Division by zero
 * of integers returns 0 (C leaves it undefined).  float->int conversions truncate
 * and saturate out-of-range values (NaN gives 0).
 *
 * XRT(name) gives the exported symbol name; host tests build with
 * -DXRT_HOST_PREFIX so the names do not clash with the host's own libgcc.
 */
#ifndef XTRT_H
#define XTRT_H

#include <stdint.h>

#ifdef XRT_HOST_PREFIX
#define XRT(name) xrt_##name
#else
#define XRT(name) name
#endif

#define XRT_QNAN 0x7fc00000u
#define XRT_SIGN 0x80000000u
#define XRT_ABS(x) ((x) & 0x7fffffffu)
#define XRT_ISNAN(x) (XRT_ABS(x) > 0x7f800000u)

/* Round and pack a float: m holds the significand with 3 extra low bits
 * (implicit bit at bit 26 for normal numbers), e >= 1 is the biased exponent.
 * e == 1 with bit 26 clear encodes a subnormal. */
uint32_t xrt_round_pack(uint32_t sign, int32_t e, uint32_t m);
/* Shift right by n keeping a sticky bit (n >= 0). */
uint32_t xrt_shr_sticky(uint32_t m, int32_t n);
/* Full 32x32 -> 64 unsigned product as hi/lo words, using 16-bit halves. */
void xrt_mul32(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo);

#endif
