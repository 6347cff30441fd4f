/* emlkmeans: k-means clustering (glue over cores/emlc_kmeans).
 *
 * KMeans(n_clusters, n_features, dtype='f') (also new(...)); .fit(X, max_iter=300, tol=1e-4,
 * init=None, random_state=0) -> self, .predict(x), .predict_many(X, out), .cluster_centers(out),
 * .set_cluster_centers(centers), .inertia(), .n_iter(). See stubs/emlkmeans.pyi.
 * The centers live in one GC block held by the object (km_obj.h). fit (k-means++, Lloyd, their
 * scratch) is the separate module emlkmeans_fit, imported by the first fit: a board that only
 * predicts with centers fitted elsewhere never holds its code (MicroPython never frees a native
 * module's code: dropping it from sys.modules would only make the next fit import it again).
 */
#include "emlglue.h"
#include "km_obj.h"

mp_obj_full_type_t km_type;

/* Samples of the model's dtype (array('f'), array('B') or bytearray, array('h')) as a pointer
 * and their number: a flat array of n_samples * n_features values, checked (finite, < 2**40). */
static size_t km_samples(const km_obj_t *self, mp_obj_t obj, const void **data) {
    mp_buffer_info_t bi;
    const uint8_t dtype = self->km.dtype;
    const char tc = "Bhf"[dtype];
    size_t n, n_samples = 0;
    if (!mp_get_buffer(obj, &bi, MP_BUFFER_READ) ||
        (bi.typecode != tc && !(tc == 'B' && bi.typecode == BYTEARRAY_TYPECODE))) {
        emlg_fail(MP_QSTR_TypeError, "X must be array of the dtype");
    }
    n = bi.len >> dtype;
    for (; n >= self->km.n_features; n -= self->km.n_features) { /* n / n_features, no division helper */
        n_samples++;
    }
    if (n != 0) {
        emlg_fail(MP_QSTR_ValueError, "X length must be n * n_features");
    }
    if (emlc_kmeans_check(bi.buf, (emlc_kmeans_dtype_t)dtype, bi.len >> dtype) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "values must be finite, |v| < 2**40");
    }
    *data = bi.buf;
    return n_samples;
}

/* Centers argument: array('f') of n_clusters * n_features values, checked unless written. */
static float *km_centers(const km_obj_t *self, mp_obj_t obj, bool writable) {
    void *data;
    size_t n = emlg_buf(obj, 'f', writable, "centers and init: array('f') of n_clusters * n_features", &data);
    if (n != (size_t)self->km.n_clusters * self->km.n_features) {
        emlg_fail(MP_QSTR_ValueError, "centers and init: array('f') of n_clusters * n_features");
    }
    if (!writable && emlc_kmeans_check(data, EMLC_KMEANS_F32, n) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "values must be finite, |v| < 2**40");
    }
    return (float *)data;
}

/* The checks emlkmeans_fit uses (km_obj.h). */
static const km_glue_t km_glue = {km_samples, km_centers
#ifdef EMLG_SF_ADD
                                   , {EMLG_SF_ADD, EMLG_SF_SUB, EMLG_SF_MUL}
#endif
};

/* The model, if its centers are set. */
static km_obj_t *km_ready(mp_obj_t self_in) {
    km_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->ready) {
        emlg_fail(MP_QSTR_ValueError, "no centers: fit or set_cluster_centers first");
    }
    return self;
}

/* new(n_clusters, n_features, dtype='f'): by position or keyword. */
static mp_obj_t km_new(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    const qstr names[3] = {MP_QSTR_n_clusters, MP_QSTR_n_features, MP_QSTR_dtype};
    mp_obj_t args[3];
    emlg_args(n_args, pos, kw, names, 3, args);
    if (args[0] == MP_OBJ_NULL || args[1] == MP_OBJ_NULL) {
        emlg_fail(MP_QSTR_TypeError, "n_clusters, n_features required");
    }
    size_t k = emlg_int_in(args[0], 1, 32767, "n_clusters must be 1..32767");
    size_t nf = emlg_int_in(args[1], 1, 32767, "n_features must be 1..32767");
    /* dtype: the array typecode of the samples, 'f' (default, also for None), 'B' or 'h' */
    emlc_kmeans_dtype_t dtype = EMLC_KMEANS_F32;
    if (args[2] != MP_OBJ_NULL && args[2] != mp_const_none) {
        size_t len = 0;
        const char *s = mp_obj_is_str(args[2]) ? mp_obj_str_get_data(args[2], &len) : NULL;
        if (len != 1 || (s[0] != 'f' && s[0] != 'B' && s[0] != 'h')) {
            emlg_fail(s == NULL ? MP_QSTR_TypeError : MP_QSTR_ValueError, "dtype must be 'f', 'B' or 'h'");
        }
        dtype = s[0] == 'B' ? EMLC_KMEANS_U8 : s[0] == 'h' ? EMLC_KMEANS_I16 : EMLC_KMEANS_F32;
    }
    km_obj_t *self = mp_obj_malloc(km_obj_t, (mp_obj_type_t *)&km_type);
    self->ready = false;
    self->glue = &km_glue;
    self->n_iter = 0;
    /* k * nf < 2^30: the byte count fits a size_t; m_malloc raises MemoryError when it does not fit */
    float *centers = m_malloc(k * nf * sizeof(float));
    emlg_ok(emlc_kmeans_init(&self->km, dtype, k, nf, centers, k * nf), "internal error");
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(km_new_obj, 0, km_new);
EMLG_MAKE_NEW_VIA(km_make_new, km_new_obj)

/* fit(X, max_iter=300, tol=1e-4, init=None, random_state=0) -> self: emlkmeans_fit's fit, imported
 * here on the first fit (see the top; without that module the firmware's ImportError names it and
 * the model is untouched), called with this call's own arguments: it is a keyword function of the
 * firmware's kind, whose C function takes them as they are. */
static mp_obj_t km_fit(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    mp_obj_t f = mp_load_attr(mp_import_name(MP_QSTR_emlkmeans_fit, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)),
                              MP_QSTR_fit);
    const mp_obj_fun_builtin_var_t *fit = MP_OBJ_TO_PTR(f);
    if (mp_obj_get_type(f) != mp_fun_table.type_fun_builtin_var || !(fit->sig & 1)) {
        emlg_fail(MP_QSTR_TypeError, "emlkmeans_fit is not emlkmeans' own");
    }
    return fit->fun.kw(n_args, pos, kw);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(km_fit_obj, 2, km_fit);

static mp_obj_t km_predict(mp_obj_t self_in, mp_obj_t x_in) {
    km_obj_t *self = km_ready(self_in);
    const void *x;
    uint16_t label = 0;
    if (km_samples(self, x_in, &x) != 1) {
        emlg_fail(MP_QSTR_ValueError, "x must have n_features values");
    }
    emlg_ok(emlc_kmeans_predict(&self->km, x, self->km.n_features, &label, NULL), "internal error");
    return MP_OBJ_NEW_SMALL_INT(label);
}
static MP_DEFINE_CONST_FUN_OBJ_2(km_predict_obj, km_predict);

static mp_obj_t km_predict_many(mp_obj_t self_in, mp_obj_t X_in, mp_obj_t out_in) {
    km_obj_t *self = km_ready(self_in);
    const uint8_t *X;
    mp_buffer_info_t bo;
    size_t i, n_samples = km_samples(self, X_in, (const void **)&X);
    const size_t row = (size_t)self->km.n_features << self->km.dtype; /* bytes per sample */
    bool wide;
    if (!mp_get_buffer(out_in, &bo, MP_BUFFER_WRITE) || !((wide = bo.typecode == 'h') ||
        ((bo.typecode == 'B' || bo.typecode == BYTEARRAY_TYPECODE) && self->km.n_clusters <= 256))) {
        emlg_fail(MP_QSTR_TypeError, "out must be array('h') (or 'B': <= 256 clusters)");
    }
    if (bo.len >> wide != n_samples || /* one label per sample, not in X's memory */
        ((const uint8_t *)bo.buf < X + n_samples * row && X < (const uint8_t *)bo.buf + bo.len)) {
        emlg_fail(MP_QSTR_ValueError, "out must have n_samples items, apart from X");
    }
    for (i = 0; i < n_samples; i++) {
        uint16_t label = 0;
        emlg_ok(emlc_kmeans_predict(&self->km, X + i * row, self->km.n_features, &label, NULL), "internal error");
        if (wide) {
            ((int16_t *)bo.buf)[i] = (int16_t)label;
        } else {
            ((uint8_t *)bo.buf)[i] = (uint8_t)label;
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(km_predict_many_obj, km_predict_many);

static mp_obj_t km_cluster_centers(mp_obj_t self_in, mp_obj_t out) {
    km_obj_t *self = km_ready(self_in);
    memcpy(km_centers(self, out, true), self->km.centers,
           (size_t)self->km.n_clusters * self->km.n_features * sizeof(float));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(km_cluster_centers_obj, km_cluster_centers);

static mp_obj_t km_set_cluster_centers(mp_obj_t self_in, mp_obj_t centers) {
    km_obj_t *self = MP_OBJ_TO_PTR(self_in);
    memcpy(self->km.centers, km_centers(self, centers, false),
           (size_t)self->km.n_clusters * self->km.n_features * sizeof(float));
    self->ready = true;
    self->n_iter = 0;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(km_set_cluster_centers_obj, km_set_cluster_centers);

static mp_obj_t km_inertia(mp_obj_t self_in) {
    km_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return self->n_iter ? mp_fun_table.binary_get_val_array('f', &self->inertia, 0) : mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(km_inertia_obj, km_inertia);

static mp_obj_t km_n_iter(mp_obj_t self_in) {
    km_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return self->n_iter ? mp_obj_new_int_from_uint(self->n_iter) : mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(km_n_iter_obj, km_n_iter);

static const emlg_def_t km_methods[7] = {
    {&MP_QSTR_fit, &km_fit_obj}, {&MP_QSTR_predict, &km_predict_obj},
    {&MP_QSTR_predict_many, &km_predict_many_obj}, {&MP_QSTR_cluster_centers, &km_cluster_centers_obj},
    {&MP_QSTR_set_cluster_centers, &km_set_cluster_centers_obj}, {&MP_QSTR_inertia, &km_inertia_obj},
    {&MP_QSTR_n_iter, &km_n_iter_obj}};
mp_map_elem_t km_locals_table[7];
static MP_DEFINE_CONST_DICT(km_locals, km_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&km_type, MP_QSTR_KMeans);
    emlg_methods(km_locals_table, km_methods, 7);
    MP_OBJ_TYPE_SET_SLOT(&km_type, make_new, km_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&km_type, locals_dict, (void *)&km_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&km_new_obj));
    mp_store_global(MP_QSTR_KMeans, MP_OBJ_FROM_PTR(&km_type));

    MP_DYNRUNTIME_INIT_EXIT
}
