/* emliir_q15: IIR filter on int16 (Q15) samples, integer only (glue over cores/emlc_iir_q15).
 *
 * new(coefficients) -> IIR; IIR.run(values) filters array('h') in place, state kept across calls;
 * IIR.reset(). Coefficients: array('h') of emlmpy.iir_coefficients_q15(sos), 6 per section
 * (B0 B1 B2 T A1 A2), copied into a GC block the object owns. Separate from emliir so that a board
 * that filters in Q15 carries no float code.
 */
#include "emlglue.h"
#include "emlc_iir_q15.h"

#define IIR_ELEM int16_t
#define IIR_TC 'h'
#define IIR_ARRAY "array('h')"
#define IIR_ROW "B0 B1 B2 T A1 A2"
#define IIR_STATE 4
#define IIR_CORE_T emlc_iir_q15_t
#define IIR_INIT emlc_iir_q15_init
#define IIR_PROCESS emlc_iir_q15_process
#define IIR_RESET emlc_iir_q15_reset
#define IIR_COEFF_MSG "coefficients outside the Q15 limits (T in 0..31, sum |B| <= 57343, A > -32768): " \
                      "use emlmpy.iir_coefficients_q15"
#include "emliir/iir_glue.h"
