/* emlarray: array helpers (glue over cores/emlc_array).
 *
 * linear_map(src, dst, in_min, in_max, out_min, out_max, start=0, step=1) and
 * features(src, out, start=0, step=1); arguments by position. src is array('h') or array('f')
 * (a memoryview of one too); the view is src[start::step]. See stubs/emlarray.pyi and
 * docs/emlarray.md for the rules; the maths is cores/emlc_array.c.
 */
#include "emlglue.h"
#include "emlc_array.h"

/* An array argument as (data, dtype, number of elements), readable or (flags MP_BUFFER_RW)
 * writable; TypeError unless array('h') or array('f') (or a memoryview of one). */
static size_t ea_src(mp_obj_t obj, const uint8_t **data, int *dtype, int flags) {
    mp_buffer_info_t bi;
    if (!mp_get_buffer(obj, &bi, flags) || (bi.typecode != 'h' && bi.typecode != 'f')) {
        emlg_fail(MP_QSTR_TypeError, "arrays must be array('h') or array('f')");
    }
    *data = bi.buf;
    *dtype = bi.typecode == 'f';
    return bi.len >> (1 + *dtype);
}

/* start, step (args[0], args[1] when given) over len elements: the view's first element in
 * *first and its element count; *step the stride. */
static size_t ea_view(size_t n_args, const mp_obj_t *args, size_t len, size_t *first, size_t *step) {
    size_t i, n = 0;
    *first = n_args > 0 ? (size_t)emlg_int_in(args[0], 0, 0x3fffffff, "start: 0..2**30-1, step: 1..2**30-1") : 0;
    *step = n_args > 1 ? (size_t)emlg_int_in(args[1], 1, 0x3fffffff, "start: 0..2**30-1, step: 1..2**30-1") : 1;
    for (i = *first; i < len; i += *step) { /* the count, without a division helper */
        n++;
    }
    return n;
}

/* A float argument as float32, rounded as array('f') stores it. */
static float ea_float(mp_obj_t obj) {
    float v = 0.0f;
    mp_fun_table.binary_set_val_array('f', &v, 0, obj);
    return v;
}

static mp_obj_t ea_linear_map(size_t n_args, const mp_obj_t *args) {
    const uint8_t *src;
    uint8_t *dst;
    int st, dt;
    size_t i, first, step, n, len = ea_src(args[0], &src, &st, MP_BUFFER_READ);
    size_t dlen = ea_src(args[1], (const uint8_t **)&dst, &dt, MP_BUFFER_RW);
    float range[4];
    n = ea_view(n_args - 6, args + 6, len, &first, &step);
    if (n != dlen) {
        emlg_fail(MP_QSTR_ValueError, "len(dst) must equal len(src[start::step])");
    }
    /* dst may be src itself (same type, whole array) but may not overlap it otherwise */
    if (dst < src + (len << (1 + st)) && src < dst + (dlen << (1 + dt)) &&
        !(dst == src && st == dt && first == 0 && step == 1)) {
        emlg_fail(MP_QSTR_ValueError, "dst overlaps src");
    }
    for (i = 0; i < 4; i++) {
        range[i] = ea_float(args[2 + i]);
    }
    if (n != 0 && emlc_array_linear_map(src + (first << (1 + st)), st, step, dst, dt, n, range) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "bounds must be finite, in_min != in_max, out_min != out_max; "
                                      "no NaN into array('h')");
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ea_linear_map_obj, 6, 8, ea_linear_map);

static mp_obj_t ea_features(size_t n_args, const mp_obj_t *args) {
    const uint8_t *src, *out;
    int st, ot;
    size_t first, step, n, len = ea_src(args[0], &src, &st, MP_BUFFER_READ);
    if (ea_src(args[1], &out, &ot, MP_BUFFER_RW) != EMLC_ARRAY_N_FEATURES || !ot) {
        emlg_fail(ot ? MP_QSTR_ValueError : MP_QSTR_TypeError, "out must be array('f') of 6");
    }
    n = ea_view(n_args - 2, args + 2, len, &first, &step);
    if (n == 0 || n > EMLC_ARRAY_MAX_N) {
        emlg_fail(MP_QSTR_ValueError, "src[start::step] must have 1..65535 elements");
    }
    emlg_ok(emlc_array_features(src + (first << (1 + st)), st, n, step, (float *)out), "internal error");
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ea_features_obj, 2, 4, ea_features);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    mp_store_global(MP_QSTR_linear_map, MP_OBJ_FROM_PTR(&ea_linear_map_obj));
    mp_store_global(MP_QSTR_features, MP_OBJ_FROM_PTR(&ea_features_obj));

    MP_DYNRUNTIME_INIT_EXIT
}
