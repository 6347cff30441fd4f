/* emlfft: radix-2 FFT on array('f') (glue over cores/emlc_fft).
 *
 * FFT(n) / new(n) for a power-of-two n >= 2 builds the twiddle table at once (no set-up call);
 * .run(real, imag) and .inverse(real, imag) work in place; .rfft(x, real_out, imag_out) gives
 * the n/2+1 bins of a real signal. The table is a GC block whose head the object holds.
 */
#include "emlglue.h"
#include "emlc_fft.h"

typedef struct fft_obj {
    mp_obj_base_t base;
    emlc_fft_t fft; /* fft.sin_t is a GC block head */
    size_t n;       /* transform length (the table may serve a larger one: n_max >= 4) */
} fft_obj_t;

mp_obj_full_type_t fft_type;

static mp_obj_t fft_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    (void)type;
    mp_arg_check_num(n_args, n_kw, 1, 1, false); /* TypeError unless exactly one positional argument */
    mp_int_t n = emlg_int_in(args[0], 2, (mp_int_t)EMLC_FFT_MAX_N, "n must be a power of two, 2..2**24");
    if ((n & (n - 1)) != 0) {
        emlg_fail(MP_QSTR_ValueError, "n must be a power of two, 2..2**24");
    }
    size_t n_max = n < 4 ? 4 : (size_t)n;
    fft_obj_t *self = mp_obj_malloc(fft_obj_t, (mp_obj_type_t *)&fft_type);
    self->fft.sin_t = NULL;
    self->n = (size_t)n;
    size_t len = EMLC_FFT_TABLE_LEN(n_max);
    float *table = m_malloc(len * sizeof(float));
    emlg_ok(emlc_fft_init(&self->fft, table, len, n_max), "internal error");
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t fft_new(mp_obj_t n_in) {
    return fft_make_new(NULL, 1, 0, &n_in);
}
static MP_DEFINE_CONST_FUN_OBJ_1(fft_new_obj, fft_new);

/* real/imag arrays of exactly `n` floats each, not overlapping (message: what n is). */
static void fft_pair(mp_obj_t re_in, mp_obj_t im_in, float **re, float **im, size_t n, const char *msg) {
    size_t nr = emlg_buf(re_in, 'f', true, "real must be array('f')", (void **)re);
    size_t ni = emlg_buf(im_in, 'f', true, "imag must be array('f')", (void **)im);
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
    float *re, *im;
    fft_pair(re_in, im_in, &re, &im, self->n, "real and imag must have n elements");
    emlg_ok((inverse ? emlc_fft_inverse : emlc_fft_forward)(&self->fft, re, im, self->n), "internal error");
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
    float *x, *re, *im;
    size_t nx = emlg_buf(args[1], 'f', false, "x must be array('f')", (void **)&x);
    if (nx != self->n) {
        emlg_fail(MP_QSTR_ValueError, "x must have n elements");
    }
    size_t half = self->n / 2 + 1;
    fft_pair(args[2], args[3], &re, &im, half, "outputs must have n/2+1 elements");
    if ((x < re + half && re < x + nx) || (x < im + half && im < x + nx)) {
        emlg_fail(MP_QSTR_ValueError, "x must not share memory with the outputs");
    }
    emlg_ok(emlc_fft_rfft(&self->fft, x, self->n, re, im, half), "internal error");
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
