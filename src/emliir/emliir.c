/* emliir: IIR filter, cascade of second-order sections (glue over cores/emlc_iir).
 *
 * new(coefficients) -> IIR; IIR.run(values) filters array('f') in place, state kept across
 * calls; IIR.reset(). Coefficients are copied into a GC block owned by the object, so the
 * caller's array may change or die afterwards.
 */
#include "emlglue.h"
#include "emlc_iir.h"

#define IIR_ELEM float
#define IIR_TC 'f'
#define IIR_ARRAY "array('f')"
#define IIR_ROW "b0 b1 b2 a0 a1 a2"
#define IIR_STATE 2
#define IIR_CORE_T emlc_iir_t
#define IIR_INIT emlc_iir_init
#define IIR_PROCESS emlc_iir_process
#define IIR_RESET emlc_iir_reset
#define IIR_COEFF_MSG "every a0 must be 1 and all coefficients finite"
#include "emliir/iir_glue.h"
