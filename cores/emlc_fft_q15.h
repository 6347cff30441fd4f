/* emlc_fft_q15.h: radix-2 FFT on int16 (Q15) data, integer only (no float operation), with the
 * scaling by 1/2 in every stage: forward results are numpy.fft.fft(x) / n, the inverse is
 * numpy.fft.ifft exactly (no further scaling), the real FFT gives numpy.fft.rfft(x) / n.
 * Halving at each of the log2(n) stages keeps every value inside int16 without any input
 * scaling (the convention of CMSIS-DSP's arm_cfft_q15); the price is precision: the output keeps
 * 15 bits relative to the input's full scale divided by n.
 *
 * Twiddles: one caller-owned int16 table built by emlc_fft_q15_init for a maximum length n_max
 * serves every power-of-two length up to n_max. T[k] = sin(2*pi*k/n_max) in Q15 for
 * 0 <= k < 3*n_max/4 (cosines are read from T + n_max/4), computed in integers: octant reduction,
 * then Taylor polynomials for sin/cos on [0, pi/4] in unsigned Q16 (u^7 and u^6 terms), rounded
 * to Q15 and clamped to +-32767 (|T[k] - 32768 sin| < 1.2, tests_host/test_cores_fft_q15.py).
 *
 * Butterfly (a, b complex int16, w = c - i s from the table, arithmetic >> = floor):
 *     t  = w b:  tr = c*br + s*bi,  ti = c*bi - s*br          (int32, |.| <= 32768 * 46341)
 *     a' = sat((a*2^14 + (t >> 1) + 2^14) >> 15)             (= (a + w b) / 2, rounded)
 *     b' = sat((a*2^14 - (t >> 1) + 2^14) >> 15)             (= (a - w b) / 2)
 * and for w = 1 (the first butterfly of each group) a' = sat((a + b + 1) >> 1),
 * b' = sat((a - b + 1) >> 1). sat clamps to int16; it acts only on inputs whose complex magnitude
 * exceeds 32767 (e.g. re = im = -32768), never on real input. No intermediate overflows int32.
 * Limits: n_max a power of two, 4 <= n_max <= 32768 (EMLC_FFT_Q15_MAX_N). No allocation. C99.
 */
#ifndef EMLC_FFT_Q15_H
#define EMLC_FFT_Q15_H

#include "emlc_common.h"

#define EMLC_FFT_Q15_MAX_N ((size_t)1 << 15)
/* int16 entries of the twiddle table for n_max (n_max >= 4, power of two). */
#define EMLC_FFT_Q15_TABLE_LEN(n_max) ((size_t)3 * ((size_t)(n_max) >> 2))

/* Invariants after a successful init: sin_t has EMLC_FFT_Q15_TABLE_LEN(n) entries, n == 1 << log2n,
 * 4 <= n <= EMLC_FFT_Q15_MAX_N. */
typedef struct emlc_fft_q15 {
    const int16_t *sin_t;
    size_t n;
    unsigned log2n;
} emlc_fft_q15_t;

/* Build the table for lengths up to n_max into table (table_len int16).
 * Errors: NULL, SIZE (n_max not a power of two, < 4 or > EMLC_FFT_Q15_MAX_N), CAPACITY. */
emlc_err_t emlc_fft_q15_init(emlc_fft_q15_t *f, int16_t *table, size_t table_len, size_t n_max);

/* In place: (re, im) <- fft(re + i im) / n, n a power of two, 1 <= n <= f->n; re and im distinct,
 * not overlapping. Errors: NULL, SIZE. */
emlc_err_t emlc_fft_q15_forward(const emlc_fft_q15_t *f, int16_t *re, int16_t *im, size_t n);

/* In place: (re, im) <- ifft(re + i im) (numpy's, which includes the 1/n). Errors: NULL, SIZE. */
emlc_err_t emlc_fft_q15_inverse(const emlc_fft_q15_t *f, int16_t *re, int16_t *im, size_t n);

/* rfft(x)/n of x[0..n-1] (n a power of two, 2 <= n <= f->n) through one complex FFT of n/2 points:
 * bins 0..n/2 into re[], im[] (out_len >= n/2+1 each; im[0] = im[n/2] = 0). x may be re (then re
 * holds n values); otherwise x, re, im must not overlap. Errors: NULL, SIZE, CAPACITY. */
emlc_err_t emlc_fft_q15_rfft(const emlc_fft_q15_t *f, const int16_t *x, size_t n, int16_t *re, int16_t *im,
                             size_t out_len);

#endif /* EMLC_FFT_Q15_H */
