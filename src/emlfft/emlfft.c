/* emlfft: radix-2 FFT on array('f') (glue over cores/emlc_fft).
 *
 * FFT(n) / new(n) for a power-of-two n >= 2 builds the twiddle table at once (no set-up call);
 * .run(real, imag) and .inverse(real, imag) work in place; .rfft(x, real_out, imag_out) gives
 * the n/2+1 bins of a real signal. The table is a GC block whose head the object holds.
 */
#include "emlglue.h"
#include "emlc_fft.h"

#define FFT_ELEM float
#define FFT_TC 'f'
#define FFT_ARRAY "array('f')"
#define FFT_CORE_T emlc_fft_t
#define FFT_MAX_N EMLC_FFT_MAX_N
#define FFT_N_MSG "n must be a power of two, 2..2**24"
#define FFT_TABLE_LEN EMLC_FFT_TABLE_LEN
#define FFT_INIT emlc_fft_init
#define FFT_FORWARD emlc_fft_forward
#define FFT_INVERSE emlc_fft_inverse
#define FFT_RFFT emlc_fft_rfft
#include "emlfft/fft_glue.h"
