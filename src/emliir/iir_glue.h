/* The IIR module's glue, shared by emliir (float32) and emliir_q15 (int16, Q15): one source for two
 * modules that stay separate binaries, so that a board carries only the kind it uses.
 *
 * Not a header to include anywhere else: a module's one .c file defines, then includes it once:
 *   IIR_ELEM       element type of coefficients, state and samples (float, int16_t)
 *   IIR_TC         their array typecode ('f', 'h'); IIR_ARRAY its name in messages ("array('f')")
 *   IIR_ROW        the 6 coefficients of a section, as messages name them ("b0 b1 b2 a0 a1 a2")
 *   IIR_STATE      state values per section the core needs
 *   IIR_CORE_T     the core's filter type; IIR_INIT, IIR_PROCESS, IIR_RESET its functions (same
 *                  signatures in both cores, only the element type differs)
 *   IIR_COEFF_MSG  the message when the core refuses the coefficients (its only error after the checks)
 * It defines the IIR type (IIR(coefficients) / new(coefficients); run, reset) and mpy_init.
 */
typedef struct iir_obj {
    mp_obj_base_t base;
    IIR_CORE_T iir; /* iir.sos is a GC block head holding the coefficients then the state */
} iir_obj_t;

mp_obj_full_type_t iir_type;

static mp_obj_t iir_new(mp_obj_t coeff_in) {
    IIR_ELEM *coeff;
    size_t n = emlg_buf(coeff_in, IIR_TC, false, "coefficients must be " IIR_ARRAY, (void **)&coeff);
    size_t n_sections = 0;
    for (size_t rest = n; rest >= 6; rest -= 6) { /* n / 6 without a division helper */
        n_sections++;
    }
    if (n == 0 || n != 6 * n_sections) {
        emlg_fail(MP_QSTR_ValueError, "coefficients must hold 6 values (" IIR_ROW ") per section");
    }
    iir_obj_t *self = mp_obj_malloc(iir_obj_t, (mp_obj_type_t *)&iir_type);
    self->iir.sos = NULL;
    IIR_ELEM *mem = m_malloc(sizeof(IIR_ELEM) * (6 + IIR_STATE) * n_sections); /* coefficients, then state */
    memcpy(mem, coeff, sizeof(IIR_ELEM) * n);
    /* the only error left after the checks above: EMLC_ERR_VALUE */
    emlg_ok(IIR_INIT(&self->iir, mem, n, n_sections, mem + n, IIR_STATE * n_sections), IIR_COEFF_MSG);
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(iir_new_obj, iir_new);
EMLG_MAKE_NEW_VIA(iir_make_new, iir_new_obj)

static mp_obj_t iir_run(mp_obj_t self_in, mp_obj_t values) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    IIR_ELEM *x;
    size_t n = emlg_buf(values, IIR_TC, true, "values must be " IIR_ARRAY, (void **)&x);
    if (n) { /* an empty array may have no buffer at all; filtering it does nothing */
        emlg_ok(IIR_PROCESS(&self->iir, x, x, n), "internal error");
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(iir_run_obj, iir_run);

static mp_obj_t iir_reset(mp_obj_t self_in) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    IIR_RESET(&self->iir); /* cannot fail on a made object (state is set) */
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
