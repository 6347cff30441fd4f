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
    size_t n = emlg_array(coeff_in, 'f', false, "coefficients", (void **)&coeff);
    if (n == 0 || n % 6 != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("coefficients must hold 6 values (b0 b1 b2 a0 a1 a2) per section"));
    }
    size_t n_sections = n / 6;
    iir_obj_t *self = mp_obj_malloc(iir_obj_t, (mp_obj_type_t *)&iir_type);
    self->iir.sos = NULL;
    float *mem = m_malloc(sizeof(float) * 8 * n_sections); /* 6 coefficients + 2 state per section */
    memcpy(mem, coeff, sizeof(float) * n);
    int err = emlc_iir_init(&self->iir, mem, n, n_sections, mem + n, 2 * n_sections);
    if (err == EMLC_ERR_VALUE) {
        mp_raise_ValueError(MP_ERROR_TEXT("every a0 must be 1 and all coefficients finite"));
    }
    emlg_check(err, "new");
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(iir_new_obj, iir_new);

static mp_obj_t iir_run(mp_obj_t self_in, mp_obj_t values) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    float *x;
    size_t n = emlg_array(values, 'f', true, "values", (void **)&x);
    emlg_check(emlc_iir_process(&self->iir, x, x, n), "run");
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(iir_run_obj, iir_run);

static mp_obj_t iir_reset(mp_obj_t self_in) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    emlg_check(emlc_iir_reset(&self->iir), "reset");
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
    MP_OBJ_TYPE_SET_SLOT(&iir_type, locals_dict, (void *)&iir_locals, 0);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&iir_new_obj));
    mp_store_global(MP_QSTR_IIR, MP_OBJ_FROM_PTR(&iir_type));

    MP_DYNRUNTIME_INIT_EXIT
}
