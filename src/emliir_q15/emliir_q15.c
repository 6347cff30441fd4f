/* emliir_q15: IIR filter on int16 (Q15) samples, integer only (glue over cores/emlc_iir_q15).
 *
 * new(coefficients) -> IIR; IIR.run(values) filters array('h') in place, state kept across calls;
 * IIR.reset(). Coefficients: array('h') of emlmpy.iir_coefficients_q15(sos), 6 per section
 * (B0 B1 B2 T A1 A2), copied into a GC block the object owns. Separate from emliir so that a board
 * that filters in Q15 carries no float code.
 */
#include "emlglue.h"
#include "emlc_iir_q15.h"

typedef struct iir_obj {
    mp_obj_base_t base;
    emlc_iir_q15_t iir; /* iir.sos is a GC block head holding the coefficients then the state */
} iir_obj_t;

mp_obj_full_type_t iir_type;

static mp_obj_t iir_new(mp_obj_t coeff_in) {
    int16_t *coeff;
    size_t n = emlg_buf(coeff_in, 'h', false, "coefficients must be array('h')", (void **)&coeff);
    size_t n_sections = 0;
    for (size_t rest = n; rest >= 6; rest -= 6) { /* n / 6 without a division helper */
        n_sections++;
    }
    if (n == 0 || n != 6 * n_sections) {
        emlg_fail(MP_QSTR_ValueError, "coefficients must hold 6 values (B0 B1 B2 T A1 A2) per section");
    }
    iir_obj_t *self = mp_obj_malloc(iir_obj_t, (mp_obj_type_t *)&iir_type);
    self->iir.sos = NULL;
    int16_t *mem = m_malloc(sizeof(int16_t) * 10 * n_sections); /* 6 coefficients + 4 state per section */
    memcpy(mem, coeff, sizeof(int16_t) * n);
    /* the only error left after the checks above: EMLC_ERR_VALUE */
    emlg_ok(emlc_iir_q15_init(&self->iir, mem, n, n_sections, mem + n, 4 * n_sections),
            "coefficients outside the Q15 limits (T in 0..31, sum |B| <= 57343, A > -32768): "
            "use emlmpy.iir_coefficients_q15");
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(iir_new_obj, iir_new);
EMLG_MAKE_NEW_VIA(iir_make_new, iir_new_obj)

static mp_obj_t iir_run(mp_obj_t self_in, mp_obj_t values) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    int16_t *x;
    size_t n = emlg_buf(values, 'h', true, "values must be array('h')", (void **)&x);
    if (n) { /* an empty array may have no buffer at all; filtering it does nothing */
        emlg_ok(emlc_iir_q15_process(&self->iir, x, x, n), "internal error");
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(iir_run_obj, iir_run);

static mp_obj_t iir_reset(mp_obj_t self_in) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    emlc_iir_q15_reset(&self->iir); /* cannot fail on a made object (state is set) */
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(iir_reset_obj, iir_reset);

mp_map_elem_t iir_locals_table[2];
static MP_DEFINE_CONST_DICT(iir_locals, iir_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&iir_type, MP_QSTR_IIR);
    emlg_method(&iir_locals_table[0], MP_QSTR_run, &iir_run_obj);
    emlg_method(&iir_locals_table[1], MP_QSTR_reset, &iir_reset_obj);
    MP_OBJ_TYPE_SET_SLOT(&iir_type, make_new, iir_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&iir_type, locals_dict, (void *)&iir_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&iir_new_obj));
    mp_store_global(MP_QSTR_IIR, MP_OBJ_FROM_PTR(&iir_type));

    MP_DYNRUNTIME_INIT_EXIT
}
