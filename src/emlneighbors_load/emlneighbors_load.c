/* emlneighbors_load: the k-NN file loader of emlneighbors (glue over cores/emlc_knn_load and
 * cores/emlc_quant), a module of its own.
 *
 * emlneighbors.load() and load_model() import it on the first load and call its load_model(model,
 * stream), so only a board that loads k-NN files ever holds this code (from the first load on:
 * MicroPython keeps a native module's code for good). load_model fills the emlneighbors Model it
 * is given (src/emlneighbors/knn_obj.h): the header, the limits, one block of exactly the file's
 * size (plus the k results), the rest of the file read straight into it, the checks
 * (docs/model-format.md §4). On error it raises ValueError("offset N: reason") and leaves the
 * model empty. An int16 model gets this module's quantizer as its `quantize` hook, which
 * emlneighbors' predict calls for array('f') inputs. Not meant to be called directly (it is safe:
 * the model's type is checked).
 */
#include "emlglue.h"
#include "emlc_knn.h"
#include "emlc_quant.h"
#include "../emlneighbors/knn_obj.h"

#ifdef EMLG_SF_ADD
/* The float helpers the quantization calls, as calls of emlneighbors' own (knn_obj.h, emlglue.h):
 * the model's, set before each quantization. Global, not static: bss is reached through the GOT. */
const emlg_sf_fn_t *load_sf;

uint32_t EMLG_SF_ADD(uint32_t a, uint32_t b) {
    return load_sf[0](a, b);
}
uint32_t EMLG_SF_MUL(uint32_t a, uint32_t b) {
    return load_sf[1](a, b);
}
#endif

/* The model's `quantize` hook (knn_obj.h): array('f') values quantized with the file's scale and
 * offset, as emlmpy's quantize() on the host; NULL for any other values (predict checks them). */
static int16_t *load_quantize(const knn_obj_t *self, mp_obj_t values) {
    mp_buffer_info_t bi;
    int16_t *q;
    if (!mp_get_buffer(values, &bi, MP_BUFFER_READ) || bi.typecode != 'f') {
        return NULL;
    }
    if (bi.len >> 2 != self->knn.n_features) {
        emlg_fail(MP_QSTR_ValueError, "values must have n_features elements");
    }
    emlg_finite(bi.buf, self->knn.n_features, "values must be finite");
    q = m_malloc((size_t)self->knn.n_features * sizeof(int16_t));
#ifdef EMLG_SF_ADD
    load_sf = self->sf;
#endif
    emlc_quantize_row(bi.buf, self->scale, self->offset, self->knn.n_features, q);
    return q;
}

/* Empty, and the block freed. */
static void load_drop(knn_obj_t *self) {
    knn_obj_empty(self);
    if (self->results != NULL) {
        m_free(self->results);
        self->results = NULL;
    }
}

/* ValueError("offset <where>: <reason>") (emlglue.h). */
static NORETURN void load_error(uint32_t where, const char *reason) {
    EMLG_FAIL_AT("offset %d: %s", where, reason);
}

/* The load itself; raises on any problem (the caller empties the model). */
static void load_body(knn_obj_t *self, mp_obj_t stream) {
    emlc_knn_file_t f;
    emlc_load_error_t e;
    uint8_t *hdr = (uint8_t *)&f.h, *body, extra;
    uint32_t got = emlg_read(stream, hdr, 1);
    if (got == 1 && hdr[0] != 'E') {
        load_error(0, "k-NN CSV files are host-only: convert to .bin with emlmpy");
    }
    got += emlg_read(stream, hdr + got, EMLC_KNN_HEADER - got);
    if (got < EMLC_KNN_HEADER) {
        load_error(got, "truncated file");
    }
    if (emlc_knn_load_header(&f, &e) != EMLC_OK) {
        load_error(e.where, e.reason);
    }
    if (f.h.n_items > self->cap_items || f.h.n_features > self->cap_features || f.h.k > self->cap_k) {
        load_error(f.h.n_items > self->cap_items ? 16 : f.h.n_features > self->cap_features ? 8 : 12,
                   "larger than the Model");
    }
    if (self->cap_dtype != KNN_ANY_DTYPE && f.h.dtype != self->cap_dtype) {
        load_error(6, "dtype differs from the Model's");
    }
    load_drop(self); /* the old store goes just before the new one is allocated */
    self->results = m_malloc(f.h.k * sizeof(emlc_knn_result_t) + f.h.file_bytes - EMLC_KNN_HEADER);
    body = (uint8_t *)(self->results + f.h.k);
    got = emlg_read(stream, body, f.h.file_bytes - EMLC_KNN_HEADER);
    if (got < f.h.file_bytes - EMLC_KNN_HEADER) {
        load_error(EMLC_KNN_HEADER + got, "truncated file");
    }
    if (emlg_read(stream, &extra, 1) != 0) {
        load_error(f.h.file_bytes, "data after the model");
    }
    if (emlc_knn_load_check(&f, body, &self->knn, &e) != EMLC_OK) {
        load_error(e.where, e.reason);
    }
    self->k = f.h.k;
    if (f.size[EMLC_KNN_SEC_SCALE] != 0) {
        self->scale = (const float *)(void *)(body + f.at[EMLC_KNN_SEC_SCALE]);
        self->offset = (const float *)(void *)(body + f.at[EMLC_KNN_SEC_OFFSET]);
        self->quantize = load_quantize;
    }
    if (f.size[EMLC_KNN_SEC_CLASSES] != 0) {
        self->classes = (const int32_t *)(void *)(body + f.at[EMLC_KNN_SEC_CLASSES]);
    }
}

/* load_model(model, stream): what emlneighbors.load_model does once this module is imported. */
static mp_obj_t load_load_model(mp_obj_t self_in, mp_obj_t stream) {
    mp_obj_t type = mp_load_attr(mp_import_name(MP_QSTR_emlneighbors, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)),
                                 MP_QSTR_Model);
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    nlr_buf_t nlr;
    if (mp_obj_get_type(self_in) != MP_OBJ_TO_PTR(type)) {
        emlg_fail(MP_QSTR_TypeError, "load_model needs an emlneighbors model");
    }
#ifdef EMLG_SF_ADD
    load_sf = self->sf;
#endif
    if (self->loading) { /* called again from the stream's own readinto */
        emlg_fail(MP_QSTR_ValueError, "this model is already loading");
    }
    knn_obj_empty(self); /* empty from here on (its block is freed once the header passed) */
    self->loading = 1;
    if (nlr_push(&nlr) == 0) {
        load_body(self, stream);
        nlr_pop();
        self->loading = 0;
        return mp_const_none;
    }
    self->loading = 0;
    load_drop(self);
    if (self->cap_dtype != KNN_ANY_DTYPE) { /* made by new(): its empty store back (MemoryError if none) */
        self->store(self);
    }
    nlr_raise(MP_OBJ_FROM_PTR(nlr.ret_val));
}
static MP_DEFINE_CONST_FUN_OBJ_2(load_load_model_obj, load_load_model);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    mp_store_global(MP_QSTR_load_model, MP_OBJ_FROM_PTR(&load_load_model_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
