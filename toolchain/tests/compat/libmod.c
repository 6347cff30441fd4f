/*
 * libmod: a module that asks the kit for its runtime libraries (`m c`, see toolchain/libc):
 * maths from libm, string and number functions from the C library, errno.  Built for every arch
 * that has them (x64: musl; ARM: newlib; rv32imc: picolibc); xtensa/xtensawin refuse it.
 */
#include "py/dynruntime.h"
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>

/* (sqrtf, expf, sinf, roundf, atan2f, fmodf, hypotf, atanf) of one argument, as float32. */
static mp_obj_t maths(mp_obj_t x_in) {
    float x = (float)mp_obj_get_float(x_in);
    float r[8] = {sqrtf(x), expf(x), sinf(x), roundf(x), atan2f(x, 2.0f), fmodf(x, 0.75f), hypotf(x, 1.5f),
                  atanf(x)};
    mp_obj_t items[8];
    for (int i = 0; i < 8; i++) {
        items[i] = mp_obj_new_float(r[i]);
    }
    return mp_obj_new_tuple(8, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(maths_obj, maths);

/* sqrt and floor in double precision (the module's float is double on x64 only). */
static mp_obj_t maths_d(mp_obj_t x_in) {
    double x = (double)mp_obj_get_float(x_in);
    mp_obj_t items[2] = {mp_obj_new_float((mp_float_t)sqrt(x)), mp_obj_new_float((mp_float_t)floor(x * 3.5))};
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(maths_d_obj, maths_d);

/* More of libm: (powf(x, y), logf, log10f, log2f, exp2f, cbrtf, coshf; exp, sin, cos, log, pow(x, y),
   atan2(x, y) in double precision), as the module's float. */
static mp_obj_t maths2(mp_obj_t x_in, mp_obj_t y_in) {
    float x = (float)mp_obj_get_float(x_in);
    float y = (float)mp_obj_get_float(y_in);
    double xd = (double)mp_obj_get_float(x_in);
    double yd = (double)mp_obj_get_float(y_in);
    mp_float_t r[13] = {powf(x, y), logf(x), log10f(x), log2f(x), exp2f(x), cbrtf(x), coshf(x),
                        (mp_float_t)exp(xd), (mp_float_t)sin(xd), (mp_float_t)cos(xd), (mp_float_t)log(xd),
                        (mp_float_t)pow(xd, yd), (mp_float_t)atan2(xd, yd)};
    mp_obj_t items[13];
    for (int i = 0; i < 13; i++) {
        items[i] = mp_obj_new_float(r[i]);
    }
    return mp_obj_new_tuple(13, items);
}
static MP_DEFINE_CONST_FUN_OBJ_2(maths2_obj, maths2);

/* (strlen, index of strchr(s, 'x') or -1, sign of memcmp(s, t), strtol(s, 0) (None on rv32imc), errno) */
static mp_obj_t strings(mp_obj_t s_in, mp_obj_t t_in) {
    size_t n, m;
    const char *s = mp_obj_str_get_data(s_in, &n);
    const char *t = mp_obj_str_get_data(t_in, &m);
    const char *c = strchr(s, 'x');
    int cmp = memcmp(s, t, n < m ? n : m);
    errno = 0;
#if defined(__riscv)
    /* picolibc's strtol sets its own errno, which is thread-local: not linkable into a module. */
    mp_obj_t v = mp_const_none;
#else
    mp_obj_t v = mp_obj_new_int(strtol(s, NULL, 0));
#endif
    mp_obj_t items[5] = {mp_obj_new_int_from_uint(strlen(s)), mp_obj_new_int(c ? (mp_int_t)(c - s) : -1),
                         mp_obj_new_int(cmp < 0 ? -1 : cmp > 0), v, mp_obj_new_int(errno)};
    return mp_obj_new_tuple(5, items);
}
static MP_DEFINE_CONST_FUN_OBJ_2(strings_obj, strings);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_maths, MP_OBJ_FROM_PTR(&maths_obj));
    mp_store_global(MP_QSTR_maths_d, MP_OBJ_FROM_PTR(&maths_d_obj));
    mp_store_global(MP_QSTR_maths2, MP_OBJ_FROM_PTR(&maths2_obj));
    mp_store_global(MP_QSTR_strings, MP_OBJ_FROM_PTR(&strings_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
