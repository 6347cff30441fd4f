/* emlc_common_sf.c: float32 add, subtract, multiply, divide and int32 <-> float32 conversions for
 * chips without an FPU, small enough to matter in a native module (whose machine code is copied
 * into RAM).
 *
 * On Thumb-1 soft-float ARM (armv6m) and RISC-V without F (rv32imc) this file defines the
 * compiler's helper functions for these operations (__aeabi_fadd/fsub/fmul/fdiv/i2f/f2iz, or
 * __addsf3/__subsf3/__mulsf3/__divsf3/__floatsisf/__fixsfsi), so a module that links it uses them
 * instead of libgcc's. Sizes (gcc 12 -Os, as the modules build them), ours vs libgcc's:
 *   armv6m:  add + sub + mul 536 vs 2,212; div 232 vs 700; i2f 92 vs 152; f2iz 52 vs 64, and
 *            libgcc's div and i2f also pull __clzsi2 (60): 912 bytes in all vs 3,188;
 *   rv32imc: add + sub + mul 594 vs 3,184; div 274 vs 888; i2f 104 vs 280; f2iz 76 vs 112, and
 *            libgcc's __clzsi2 (76) with its 256-byte table (libgcc's rv32imc helpers come from the
 *            uncompressed rv32im multilib): 1,048 bytes in all vs 4,796.
 * On a Cortex-M0 most are also faster (instructions per call on ordinary operands: multiply ~86 vs
 * ~119, divide ~232 vs ~377, i2f 34-42 vs 42-72, f2iz ~19 vs ~23; add ~72 vs ~66; IIR and FFT in
 * benchmarks/cores). Elsewhere the file is empty: hardware float, the host, Xtensa (its own
 * runtime), and armv7m, whose libgcc helpers are hand-written Thumb-2 assembly, only ~0.26 KB
 * larger and faster than these (a multiply there takes ~35 instructions, these ~53). With
 * EMLC_SF_TEST defined the file defines emlc_sf_add/sub/mul/div/i2f/f2iz for the host tests
 * (tests_host/test_cores_sf.py). The cores never name these functions: the compiler calls them for
 * float + - * /, (float)i and (int32_t)f on those chips.
 *
 * Results are IEEE-754 binary32, round to nearest even, bit-identical to hardware float32 for every
 * non-NaN result, subnormals included (no flush to zero). A NaN operand gives that NaN made quiet
 * (if both are NaN: for add the one with the larger magnitude bits, for multiply and divide a's);
 * an invalid operation (inf - inf, 0 * inf, 0 / 0, inf / inf) gives 0x7fc00000; x / 0 is an
 * infinity for x != 0. float -> int32 truncates toward zero; out of range (infinities and NaN
 * included), where C leaves the result undefined, it gives 0x7fffffff for a clear sign bit and
 * 0x80000000 for a set one, as libgcc's helper does on both chips (nothing in the project relies on
 * it: emltrees converts only values it has clamped to the int16 range). Floats are handled as their
 * bit patterns (uint32_t, passed in the same registers as a soft-float float), with integer
 * operations only: no division instruction (division is restoring shift-and-subtract, one quotient
 * bit a step), no call to any other helper (the one 32 x 32 -> 64-bit multiply is a single
 * instruction where the chip has one and 16-bit halves on Thumb-1).
 *
 * Layout used inside: a mantissa m with its leading (implicit) bit at bit 26 and three extra low
 * bits (guard, round, sticky), and a biased exponent e >= 1; e == 1 with m < 2^26 is a subnormal.
 */
#include "emlc_common.h"

#if defined(EMLC_SF_TEST)
#define EMLC_SF_ON 1
#define EMLC_SF_ADD emlc_sf_add
#define EMLC_SF_SUB emlc_sf_sub
#define EMLC_SF_MUL emlc_sf_mul
#define EMLC_SF_DIV emlc_sf_div
#define EMLC_SF_I2F emlc_sf_i2f
#define EMLC_SF_F2I emlc_sf_f2iz
#elif defined(__arm__) && defined(__SOFTFP__) && !defined(__thumb2__)
#define EMLC_SF_ON 1
#define EMLC_SF_ADD __aeabi_fadd
#define EMLC_SF_SUB __aeabi_fsub
#define EMLC_SF_MUL __aeabi_fmul
#define EMLC_SF_DIV __aeabi_fdiv
#define EMLC_SF_I2F __aeabi_i2f
#define EMLC_SF_F2I __aeabi_f2iz
#elif defined(__riscv) && !defined(__riscv_flen)
#define EMLC_SF_ON 1
#define EMLC_SF_ADD __addsf3
#define EMLC_SF_SUB __subsf3
#define EMLC_SF_MUL __mulsf3
#define EMLC_SF_DIV __divsf3
#define EMLC_SF_I2F __floatsisf
#define EMLC_SF_F2I __fixsfsi
#endif

#ifdef EMLC_SF_ON

#define SF_SIGN 0x80000000u
#define SF_INF 0x7f800000u
#define SF_QNAN 0x7fc00000u
#define SF_ONE (1u << 26) /* the leading bit of an unpacked mantissa */

uint32_t EMLC_SF_ADD(uint32_t a, uint32_t b);
uint32_t EMLC_SF_SUB(uint32_t a, uint32_t b);
uint32_t EMLC_SF_MUL(uint32_t a, uint32_t b);
uint32_t EMLC_SF_DIV(uint32_t a, uint32_t b);
uint32_t EMLC_SF_I2F(int32_t i);
int32_t EMLC_SF_F2I(uint32_t a);

/* Called by add, multiply and divide. Out of line on Thumb-1, where that saves about 40 bytes
 * over three copies (for 1 instruction per add or multiply); inlined on RISC-V, where a call costs
 * more bytes than the function saves (gcc 12 -Os). */
#if defined(__riscv)
#define SF_SHR_ATTR inline __attribute__((always_inline))
#else
#define SF_SHR_ATTR __attribute__((noinline))
#endif

/* m >> s with the bits shifted out ORed into bit 0 (sticky); s >= 1. */
static SF_SHR_ATTR uint32_t emlc_sf_shr(uint32_t m, uint32_t s) {
    return s >= 27u ? (m != 0u) : (m >> s) | ((m << (32u - s)) != 0u);
}

/* Round m (leading bit at 26 or below, 3 extra bits) to nearest even and pack with sign and
 * exponent e >= 1. The exponent field is (e - 1) plus the leading bit, so a subnormal (e == 1,
 * m < 2^26) packs as itself and a carry out of rounding moves into the exponent (up to inf).
 * Rounding: adding 3 + (the last kept bit) carries into the kept bits exactly when the 3 extra
 * bits are above half, or exactly half with an odd last bit. Inlined: it is on every hot path. */
static inline __attribute__((always_inline)) uint32_t emlc_sf_pack(uint32_t sign, int32_t e, uint32_t m) {
    if (e >= 255) {
        return sign | SF_INF;
    }
    m = (m + 3u + ((m >> 3) & 1u)) >> 3;
    return sign | ((((uint32_t)e - 1u) << 23) + m);
}

uint32_t EMLC_SF_ADD(uint32_t a, uint32_t b) {
    if ((a << 1) < (b << 1)) { /* |a| >= |b| from here on (a NaN is "larger" than anything) */
        const uint32_t t = a;
        a = b;
        b = t;
    }
    int32_t ea = (int32_t)((a >> 23) & 0xffu);
    int32_t eb = (int32_t)((b >> 23) & 0xffu);
    if (ea == 255) {
        if (a << 9) {
            return a | 0x00400000u; /* NaN */
        }
        return (eb == 255 && ((a ^ b) & SF_SIGN)) ? SF_QNAN : a; /* inf - inf; inf + x */
    }
    uint32_t ma = (a & 0x7fffffu) << 3, mb = (b & 0x7fffffu) << 3;
    if (ea) {
        ma |= SF_ONE;
    } else {
        ea = 1;
    }
    if (eb) {
        mb |= SF_ONE;
    } else {
        eb = 1;
    }
    if (ea != eb) {
        mb = emlc_sf_shr(mb, (uint32_t)(ea - eb));
    }
    if ((a ^ b) & SF_SIGN) {
        ma -= mb;
        if (ma == 0u) {
            return 0u; /* x - x is +0 */
        }
        while (ma < SF_ONE) { /* normalise: exact (one bit at most when the shift above was >= 2) */
            ma <<= 1;
            ea--;
        }
        if (ea < 1) { /* subnormal: undo the shifts below exponent 1 (they shifted in zeros) */
            ma >>= 1 - ea;
            ea = 1;
        }
    } else {
        ma += mb;
        if (ma >= 2u * SF_ONE) {
            ma = (ma >> 1) | (ma & 1u);
            ea++;
        }
    }
    return emlc_sf_pack(a & SF_SIGN, ea, ma);
}

uint32_t EMLC_SF_SUB(uint32_t a, uint32_t b) {
    return EMLC_SF_ADD(a, b ^ SF_SIGN);
}

/* A subnormal's mantissa m (non-zero, < 2^23) shifted to its leading bit at 23, and the matching
 * exponent (1 minus the shift) in *e. */
static uint32_t emlc_sf_norm(uint32_t m, int32_t *e) {
    int32_t x = 1;
    while (!(m & (1u << 23))) {
        m <<= 1;
        x--;
    }
    *e = x;
    return m;
}

uint32_t EMLC_SF_MUL(uint32_t a, uint32_t b) {
    const uint32_t sign = (a ^ b) & SF_SIGN;
    const uint32_t aa = a << 1, bb = b << 1;
    if (aa >= (SF_INF << 1) || bb >= (SF_INF << 1)) {
        if (aa > (SF_INF << 1)) {
            return a | 0x00400000u; /* NaN */
        }
        if (bb > (SF_INF << 1)) {
            return b | 0x00400000u;
        }
        return (aa == 0u || bb == 0u) ? SF_QNAN : (sign | SF_INF); /* 0 * inf; inf * x */
    }
    if (aa == 0u || bb == 0u) {
        return sign;
    }
    int32_t ea = (int32_t)(aa >> 24), eb = (int32_t)(bb >> 24);
    uint32_t ma = a & 0x7fffffu, mb = b & 0x7fffffu;
    if (ea) {
        ma |= 1u << 23;
    } else {
        ma = emlc_sf_norm(ma, &ea);
    }
    if (eb) {
        mb |= 1u << 23;
    } else {
        mb = emlc_sf_norm(mb, &eb);
    }
    /* 24 x 24 -> 48-bit product p = hi * 2^32 + lo (hi < 2^16). */
#if (defined(__thumb__) && !defined(__thumb2__)) || defined(EMLC_SF_HALVES)
    /* Thumb-1 has only a 32-bit multiply (a 64-bit one would call a helper): 16-bit halves. */
    const uint32_t al = ma & 0xffffu, ah = ma >> 16, bl = mb & 0xffffu, bh = mb >> 16;
    const uint32_t mid = ah * bl + al * bh; /* < 2^25 */
    const uint32_t lo0 = al * bl;
    const uint32_t lo = lo0 + (mid << 16);
    const uint32_t hi = ah * bh + (mid >> 16) + (lo < lo0);
#else
    const uint64_t p = (uint64_t)ma * mb; /* one widening multiply (umull, mul + mulhu) */
    const uint32_t lo = (uint32_t)p, hi = (uint32_t)(p >> 32);
#endif
    /* p in [2^46, 2^48): p >> 20 has its leading bit at 26 or 27; the rest is sticky. */
    uint32_t m = (hi << 12) | (lo >> 20) | ((lo & 0xfffffu) != 0u);
    int32_t e = ea + eb - 127;
    if (m >= 2u * SF_ONE) {
        m = (m >> 1) | (m & 1u);
        e++;
    }
    if (e < 1) { /* subnormal result (or underflow to zero after rounding) */
        m = emlc_sf_shr(m, (uint32_t)(1 - e));
        e = 1;
    }
    return emlc_sf_pack(sign, e, m);
}

/* Zero, infinite or NaN: x << 1 is 0 or >= inf << 1 (one unsigned compare). */
#define SF_SPECIAL(xx) ((xx) - 1u >= (SF_INF << 1) - 1u)

uint32_t EMLC_SF_DIV(uint32_t a, uint32_t b) {
    const uint32_t sign = (a ^ b) & SF_SIGN;
    const uint32_t aa = a << 1, bb = b << 1;
    if (SF_SPECIAL(aa) || SF_SPECIAL(bb)) {
        if (aa > (SF_INF << 1)) {
            return a | 0x00400000u; /* NaN */
        }
        if (bb > (SF_INF << 1)) {
            return b | 0x00400000u;
        }
        /* Each of a, b is zero, finite or infinite, one at least zero or infinite: the larger
         * magnitude class wins (inf / x and x / 0 are inf, 0 / x and x / inf are 0); two of the
         * same class (0 / 0, inf / inf) are invalid. */
        return aa == bb ? SF_QNAN : aa > bb ? (sign | SF_INF) : sign;
    }
    int32_t e = (int32_t)(aa >> 24) - (int32_t)(bb >> 24) + 127;
    uint32_t ma = a & 0x7fffffu, mb = b & 0x7fffffu;
    if (aa >= (1u << 24)) {
        ma |= 1u << 23;
    } else {
        e++; /* a subnormal's exponent is that of the smallest normal */
    }
    if (bb >= (1u << 24)) {
        mb |= 1u << 23;
    } else {
        e--;
    }
    while (mb < (1u << 23)) { /* subnormal divisor: leading bit to 23 */
        mb <<= 1;
        e++;
    }
    while (ma < mb) { /* ma / mb in [1, 2) from here on (a subnormal dividend takes several steps) */
        ma <<= 1;
        e--;
    }
    /* Restoring division, one quotient bit a step: q = floor(ma / mb * 2^24), leading bit at 24
     * (known to be 1: q starts there and its bit marks the end of the loop); ma ends as the
     * remainder, non-zero exactly when the quotient is inexact. */
    uint32_t q = 1u;
    ma -= mb;
    do {
        ma <<= 1;
        q <<= 1;
        if (ma >= mb) {
            ma -= mb;
            q++;
        }
    } while (q < (1u << 24));
    /* Two extra bits below the guard bit (a zero round bit and the sticky bit) round correctly,
     * here and after a subnormal shift: every halfway point has its bits above bit 1 exact. */
    uint32_t m = (q << 2) | (ma != 0u);
    if (e < 1) {
        m = emlc_sf_shr(m, (uint32_t)(1 - e));
        e = 1;
    }
    return emlc_sf_pack(sign, e, m);
}

uint32_t EMLC_SF_I2F(int32_t i) {
    uint32_t sign = 0u, u = (uint32_t)i;
    if (i < 0) {
        sign = SF_SIGN;
        u = 0u - u; /* INT32_MIN gives 2^31, right as unsigned */
    }
    if (u == 0u) {
        return 0u;
    }
    uint32_t e = 157u; /* the exponent field of 2^31, minus the leading bit that m adds */
    if (!(u >> 16)) { /* leading bit to bit 31 in five steps */
        u <<= 16;
        e -= 16u;
    }
    if (!(u >> 24)) {
        u <<= 8;
        e -= 8u;
    }
    if (!(u >> 28)) {
        u <<= 4;
        e -= 4u;
    }
    if (!(u >> 30)) {
        u <<= 2;
        e -= 2u;
    }
    if (!(u >> 31)) {
        u <<= 1;
        e -= 1u;
    }
    /* Keep 24 bits; round up when the 8 dropped bits are above half, or half with m odd. */
    uint32_t m = u >> 8;
    if ((u << 24) + (m & 1u) > SF_SIGN) {
        m++;
    }
    return sign | ((e << 23) + m);
}

/* float -> int32 truncated toward zero (C's conversion). Out of range (|x| >= 2^31 except -2^31,
 * infinities, NaN) C leaves the result undefined; this returns 0x7fffffff for a clear sign bit
 * and 0x80000000 for a set one, as libgcc's helper does on armv6m and rv32imc. */
int32_t EMLC_SF_F2I(uint32_t a) {
    const uint32_t e = (a << 1) >> 24;
    if (e < 127u) {
        return 0; /* |x| < 1 */
    }
    if (e >= 158u) {
        return (int32_t)(0x7fffffffu + (a >> 31));
    }
    const uint32_t m = ((a << 8) | SF_SIGN) >> (158u - e);
    return (int32_t)((a & SF_SIGN) ? 0u - m : m);
}

#else
typedef int emlc_common_sf_empty_t; /* ISO C: a translation unit must not be empty */
#endif
