/* emlkmeans_fit: the fit of emlkmeans' KMeans (k-means++ start and Lloyd iterations over
 * cores/emlc_kmeans), a module of its own.
 *
 * KMeans.fit imports it on the first fit and calls fit(model, X, max_iter=300, tol=1e-4,
 * init=None, random_state=0) with its own arguments, so a board that only predicts with centers
 * fitted elsewhere (set_cluster_centers) never holds this code (from the first fit on: MicroPython
 * keeps a native module's code for good). fit checks the model's type, then the arguments with
 * emlkmeans' own checks (the model's glue, src/emlkmeans/km_obj.h), allocates the scratch for the
 * call, fits the model's centers and frees the scratch. Not meant to be called directly (it is
 * safe: the model's type is checked first).
 */
#include "emlglue.h"
#include "../emlkmeans/km_obj.h"

#ifdef EMLG_SF_ADD
/* The float helpers the core's fit calls, as calls of emlkmeans' own (emlglue.h, km_obj.h): the
 * model's, set by fit before the first float operation. Global, not static: bss is reached
 * through the GOT. */
const emlg_sf_fn_t *fit_sf;

uint32_t EMLG_SF_ADD(uint32_t a, uint32_t b) {
    return fit_sf[0](a, b);
}
uint32_t EMLG_SF_SUB(uint32_t a, uint32_t b) {
    return fit_sf[1](a, b);
}
uint32_t EMLG_SF_MUL(uint32_t a, uint32_t b) {
    return fit_sf[2](a, b);
}
#endif

/* A float argument as float32 (through the firmware's own conversion, as array('f') stores it). */
static float fit_float(mp_obj_t obj) {
    float v = 0.0f;
    mp_fun_table.binary_set_val_array('f', &v, 0, obj);
    return v;
}

/* fit(model, X, max_iter=300, tol=1e-4, init=None, random_state=0) -> model */
static mp_obj_t fit_fit(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    const qstr names[5] = {MP_QSTR_X, MP_QSTR_max_iter, MP_QSTR_tol, MP_QSTR_init, MP_QSTR_random_state};
    mp_obj_t args[5];
    mp_obj_t type = mp_load_attr(mp_import_name(MP_QSTR_emlkmeans, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)),
                                 MP_QSTR_KMeans);
    km_obj_t *self = MP_OBJ_TO_PTR(pos[0]);
    emlc_kmeans_t *km = &self->km;
    const void *X;
    const float *init = NULL;
    if (mp_obj_get_type(pos[0]) != MP_OBJ_TO_PTR(type)) {
        emlg_fail(MP_QSTR_TypeError, "fit needs an emlkmeans model");
    }
#ifdef EMLG_SF_ADD
    fit_sf = self->glue->sf;
#endif
    emlg_args(n_args - 1, pos + 1, kw, names, 5, args);
    size_t n_samples = self->glue->samples(self, args[0], &X);
    if (n_samples < km->n_clusters) {
        emlg_fail(MP_QSTR_ValueError, "n_samples must be >= n_clusters");
    }
    uint32_t max_iter = args[1] ? emlg_int_in(args[1], 1, 0x3fffffff, "max_iter must be 1..2**30-1") : 300;
    float tol = args[2] ? fit_float(args[2]) : 1e-4f;
    emlc_bits_t b;
    b.f = tol;
    if (b.u >= 0x7f800000u && b.u != 0x80000000u) {
        emlg_fail(MP_QSTR_ValueError, "tol must be >= 0");
    }
    if (args[3] && args[3] != mp_const_none) {
        init = self->glue->centers(self, args[3], false);
    }
    uint32_t seed = args[4] ? emlg_int_in(args[4], 0, 0x3fffffff, "random_state must be 0..2**30-1") : 0;
    /* scratch before any change: a MemoryError here leaves the model as it was */
    const size_t kf = (size_t)km->n_clusters * km->n_features;
    float *sums = m_malloc((kf + km->n_clusters) * sizeof(float));
    if (init) {
        memcpy(km->centers, init, kf * sizeof(float));
    } else {
        emlg_ok(emlc_kmeans_init_plusplus(km, X, n_samples, seed), "internal error");
    }
    emlg_ok(emlc_kmeans_fit(km, X, n_samples, max_iter, tol, sums, kf, (uint32_t *)(sums + kf), km->n_clusters,
                            &self->n_iter, &self->inertia), "internal error");
    m_free(sums);
    self->ready = true;
    return pos[0];
}
static MP_DEFINE_CONST_FUN_OBJ_KW(fit_fit_obj, 2, fit_fit);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_fit, MP_OBJ_FROM_PTR(&fit_fit_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
