/* The FFT module's glue, shared by emlfft (float32) and emlfft_q15 (int16, Q15): one source for two
 * modules that stay separate binaries, so that a board carries only the kind it uses.
 *
 * Not a header to include anywhere else: a module's one .c file defines, then includes it once:
 *   FFT_ELEM       element type of the arrays (float, int16_t)
 *   FFT_TC         their array typecode ('f', 'h'); FFT_ARRAY its name in messages ("array('f')")
 *   FFT_CORE_T     the core's transform type; FFT_MAX_N its largest n; FFT_N_MSG the message for n
 *   FFT_TABLE_LEN  the core's table length for n_max; FFT_INIT, FFT_FORWARD, FFT_INVERSE, FFT_RFFT
 *                  its functions (same signatures in both cores, only the element type differs)
 * It defines the FFT type (FFT(n) / new(n): table built at once; run, inverse, rfft) and mpy_init.
 */
typedef struct fft_obj {
    mp_obj_base_t base;
    FFT_CORE_T fft; /* fft.sin_t is a GC block head */
    size_t n;       /* transform length (the table may serve a larger one: n_max >= 4) */
} fft_obj_t;

mp_obj_full_type_t fft_type;

static mp_obj_t fft_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    (void)type;
    mp_arg_check_num(n_args, n_kw, 1, 1, false); /* TypeError unless exactly one positional argument */
    mp_int_t n = emlg_int_in(args[0], 2, (mp_int_t)FFT_MAX_N, FFT_N_MSG);
    if ((n & (n - 1)) != 0) {
        emlg_fail(MP_QSTR_ValueError, FFT_N_MSG);
    }
    size_t n_max = n < 4 ? 4 : (size_t)n;
    fft_obj_t *self = mp_obj_malloc(fft_obj_t, (mp_obj_type_t *)&fft_type);
    self->fft.sin_t = NULL;
    self->n = (size_t)n;
    size_t len = FFT_TABLE_LEN(n_max);
    FFT_ELEM *table = m_malloc(len * sizeof(FFT_ELEM));
    emlg_ok(FFT_INIT(&self->fft, table, len, n_max), "internal error");
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t fft_new(mp_obj_t n_in) {
    return fft_make_new(NULL, 1, 0, &n_in);
}
static MP_DEFINE_CONST_FUN_OBJ_1(fft_new_obj, fft_new);

/* real/imag arrays of exactly `n` values each, not overlapping (message: what n is). */
static void fft_pair(mp_obj_t re_in, mp_obj_t im_in, FFT_ELEM **re, FFT_ELEM **im, size_t n, const char *msg) {
    size_t nr = emlg_buf(re_in, FFT_TC, true, "real must be " FFT_ARRAY, (void **)re);
    size_t ni = emlg_buf(im_in, FFT_TC, true, "imag must be " FFT_ARRAY, (void **)im);
    if (nr != n || ni != n) {
        emlg_fail(MP_QSTR_ValueError, msg);
    }
    if (*re < *im + n && *im < *re + n) {
        emlg_fail(MP_QSTR_ValueError, "real and imag must not share memory");
    }
}

/* run and inverse: in-place complex transforms of length n. */
static mp_obj_t fft_complex(mp_obj_t self_in, mp_obj_t re_in, mp_obj_t im_in, bool inverse) {
    fft_obj_t *self = MP_OBJ_TO_PTR(self_in);
    FFT_ELEM *re, *im;
    fft_pair(re_in, im_in, &re, &im, self->n, "real and imag must have n elements");
    emlg_ok((inverse ? FFT_INVERSE : FFT_FORWARD)(&self->fft, re, im, self->n), "internal error");
    return mp_const_none;
}

static mp_obj_t fft_run(mp_obj_t self_in, mp_obj_t re_in, mp_obj_t im_in) {
    return fft_complex(self_in, re_in, im_in, false);
}
static MP_DEFINE_CONST_FUN_OBJ_3(fft_run_obj, fft_run);

static mp_obj_t fft_inverse(mp_obj_t self_in, mp_obj_t re_in, mp_obj_t im_in) {
    return fft_complex(self_in, re_in, im_in, true);
}
static MP_DEFINE_CONST_FUN_OBJ_3(fft_inverse_obj, fft_inverse);

static mp_obj_t fft_rfft(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    fft_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    FFT_ELEM *x, *re, *im;
    size_t nx = emlg_buf(args[1], FFT_TC, false, "x must be " FFT_ARRAY, (void **)&x);
    if (nx != self->n) {
        emlg_fail(MP_QSTR_ValueError, "x must have n elements");
    }
    size_t half = self->n / 2 + 1;
    fft_pair(args[2], args[3], &re, &im, half, "outputs must have n/2+1 elements");
    if ((x < re + half && re < x + nx) || (x < im + half && im < x + nx)) {
        emlg_fail(MP_QSTR_ValueError, "x must not share memory with the outputs");
    }
    emlg_ok(FFT_RFFT(&self->fft, x, self->n, re, im, half), "internal error");
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(fft_rfft_obj, 4, 4, fft_rfft);

mp_map_elem_t fft_locals_table[3];
static MP_DEFINE_CONST_DICT(fft_locals, fft_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&fft_type, MP_QSTR_FFT);
    emlg_method(&fft_locals_table[0], MP_QSTR_run, &fft_run_obj);
    emlg_method(&fft_locals_table[1], MP_QSTR_inverse, &fft_inverse_obj);
    emlg_method(&fft_locals_table[2], MP_QSTR_rfft, &fft_rfft_obj);
    MP_OBJ_TYPE_SET_SLOT(&fft_type, make_new, fft_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&fft_type, locals_dict, (void *)&fft_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&fft_new_obj));
    mp_store_global(MP_QSTR_FFT, MP_OBJ_FROM_PTR(&fft_type));

    MP_DYNRUNTIME_INIT_EXIT
}
