/* emliir: IIR filter, cascade of second-order sections (glue over cores/emlc_iir).
 *
 * new(coefficients) -> IIR; IIR.run(values) filters array('f') in place, state kept across
 * calls; IIR.reset(). Coefficients are copied into a GC block owned by the object, so the
 * caller's array may change or die afterwards.
 */
#include "emlglue.h"
#include "emlc_iir.h"

typedef struct iir_obj {
    mp_obj_base_t base;
    emlc_iir_t iir;  /* iir.sos is a GC block head holding sos then state */
} iir_obj_t;

mp_obj_full_type_t iir_type;

static mp_obj_t iir_new(mp_obj_t coeff_in) {
    float *coeff;
    size_t n = emlg_buf(coeff_in, 'f', false, "coefficients must be array('f')", (void **)&coeff);
    size_t n_sections = 0;
    for (size_t rest = n; rest >= 6; rest -= 6) { /* n / 6 without a division helper */
        n_sections++;
    }
    if (n == 0 || n != 6 * n_sections) {
        emlg_fail(MP_QSTR_ValueError, "coefficients must hold 6 values (b0 b1 b2 a0 a1 a2) per section");
    }
    iir_obj_t *self = mp_obj_malloc(iir_obj_t, (mp_obj_type_t *)&iir_type);
    self->iir.sos = NULL;
    float *mem = m_malloc(sizeof(float) * 8 * n_sections); /* 6 coefficients + 2 state per section */
    memcpy(mem, coeff, sizeof(float) * n);
    /* the only error left after the checks above: EMLC_ERR_VALUE */
    emlg_ok(emlc_iir_init(&self->iir, mem, n, n_sections, mem + n, 2 * n_sections),
            "every a0 must be 1 and all coefficients finite");
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(iir_new_obj, iir_new);
EMLG_MAKE_NEW_VIA(iir_make_new, iir_new_obj)

static mp_obj_t iir_run(mp_obj_t self_in, mp_obj_t values) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    float *x;
    size_t n = emlg_buf(values, 'f', true, "values must be array('f')", (void **)&x);
    if (n) { /* an empty array may have no buffer at all; filtering it does nothing */
        emlg_ok(emlc_iir_process(&self->iir, x, x, n), "internal error");
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(iir_run_obj, iir_run);

static mp_obj_t iir_reset(mp_obj_t self_in) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    emlc_iir_reset(&self->iir); /* cannot fail on a made object (state is set) */
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
