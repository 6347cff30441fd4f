/* emlfft_q15: radix-2 FFT on int16 (Q15) arrays, integer only (glue over cores/emlc_fft_q15).
 *
 * FFT(n) / new(n) for a power-of-two n >= 2 builds the twiddle table at once (no set-up call);
 * .run(real, imag) gives fft/n and .inverse(real, imag) numpy's ifft, in place (each stage halves);
 * .rfft(x, real_out, imag_out) gives the n/2+1 bins of rfft(x)/n. array('h') throughout. The Q15
 * table (3n/4 int16) is a GC block whose head the object holds. Separate from emlfft so that a
 * board that transforms in Q15 carries no float code.
 */
#include "emlglue.h"
#include "emlc_fft_q15.h"

#define FFT_ELEM int16_t
#define FFT_TC 'h'
#define FFT_ARRAY "array('h')"
#define FFT_CORE_T emlc_fft_q15_t
#define FFT_MAX_N EMLC_FFT_Q15_MAX_N
#define FFT_N_MSG "n must be a power of two, 2..32768"
#define FFT_TABLE_LEN EMLC_FFT_Q15_TABLE_LEN
#define FFT_INIT emlc_fft_q15_init
#define FFT_FORWARD emlc_fft_q15_forward
#define FFT_INVERSE emlc_fft_q15_inverse
#define FFT_RFFT emlc_fft_q15_rfft
#include "emlfft/fft_glue.h"
