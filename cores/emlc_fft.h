/* emlc_fft.h: radix-2 FFT on float32, complex (split real/imag arrays) and real-input.
 *
 * One caller-owned twiddle table built once by emlc_fft_init for a maximum length n_max serves
 * every power-of-two length up to n_max (complex FFT of length <= n_max, real FFT of length
 * <= n_max). The table is a sine table T[k] = sin(2*pi*k/n_max) for 0 <= k < 3*n_max/4; cosines are
 * read from T + n_max/4 (cos x = sin(x + pi/2)), so the table costs 3*n_max/4 floats
 * (n_max = 4096: 12 KiB).
 * The table is computed without libm: octant reduction in integers, then short Taylor
 * polynomials for sin and cos on [0, pi/4] evaluated in float (truncation < 2e-9, so entries are
 * within a few float32 ulps of the exact values). Transforms use no division and no libm;
 * index arithmetic is shifts and masks.
 *
 * Conventions match numpy.fft: forward X[k] = sum_m x[m] exp(-2i*pi*k*m/n); inverse scaled by 1/n
 * (multiplication by an exact power of two); rfft returns bins 0..n/2 (n/2+1 of them).
 * Limits: n_max is a power of two with 4 <= n_max <= 2^24 (EMLC_FFT_MAX_N).
 * No allocation, no global state. C99.
 */
#ifndef EMLC_FFT_H
#define EMLC_FFT_H

#include "emlc_common.h"

#define EMLC_FFT_MAX_N ((size_t)1 << 24)
/* Floats needed for the twiddle table of a given n_max (n_max >= 4, power of two). */
#define EMLC_FFT_TABLE_LEN(n_max) ((size_t)3 * ((size_t)(n_max) >> 2))

/* Invariants after a successful init: sin_t has EMLC_FFT_TABLE_LEN(n) valid entries,
 * n == 1 << log2n, 4 <= n <= EMLC_FFT_MAX_N. */
typedef struct emlc_fft {
    const float *sin_t;
    size_t n;
    unsigned log2n;
} emlc_fft_t;

/* Build the table for lengths up to n_max into table (table_len floats).
 * Errors: NULL (f, table), SIZE (n_max not a power of two, < 4 or > EMLC_FFT_MAX_N),
 * CAPACITY (table_len < EMLC_FFT_TABLE_LEN(n_max)). */
emlc_err_t emlc_fft_init(emlc_fft_t *f, float *table, size_t table_len, size_t n_max);

/* In-place complex FFT of length n (power of two, 1 <= n <= f->n) on re[0..n-1], im[0..n-1]
 * (distinct, non-overlapping arrays). Errors: NULL, SIZE. */
emlc_err_t emlc_fft_forward(const emlc_fft_t *f, float *re, float *im, size_t n);

/* In-place inverse, scaled by 1/n (numpy.fft.ifft). Errors: NULL, SIZE. */
emlc_err_t emlc_fft_inverse(const emlc_fft_t *f, float *re, float *im, size_t n);

/* Real-input FFT of x[0..n-1] (n a power of two, 2 <= n <= f->n) through one complex FFT of n/2
 * points. Writes bins 0..n/2 to re[] and im[] (out_len >= n/2+1 each; im[0] and im[n/2] are 0).
 * x may be the same array as re (in place; re must then hold n floats); otherwise x, re, im must
 * not overlap. Errors: NULL, SIZE (n), CAPACITY (out_len < n/2+1). */
emlc_err_t emlc_fft_rfft(const emlc_fft_t *f, const float *x, size_t n, float *re, float *im, size_t out_len);

#endif /* EMLC_FFT_H */
