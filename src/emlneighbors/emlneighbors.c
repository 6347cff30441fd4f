/* emlneighbors: k-nearest-neighbours classifier (glue over cores/emlc_knn).
 *
 * Model(max_items, n_features, k, dtype='h') (also new(...)); .add_item(values, label),
 * .predict(values), .get_result(i), .get_item(i, out), .n_items(), and emlearn-micropython's
 * names additem, getresult, getitem for the same methods; load(stream) and
 * load_model(model, stream) read a binary k-NN file (docs/model-format.md §4) written by emlmpy.
 * See stubs/emlneighbors.pyi. The Model object: knn_obj.h.
 *
 * Files are read by the separate module emlneighbors_load (src/emlneighbors_load), imported by the
 * first load: a board that only collects items with add_item never holds the loader's code. It
 * stays imported (MicroPython never frees a native module's code: dropping it from sys.modules
 * would only make the next load import it again). What predict needs of a loaded model stays
 * here: the class-label lookup; the quantization of array('f') inputs to an int16 model is the
 * loader's code, reached through the model's `quantize` hook.
 */
#include "emlglue.h"
#include "emlc_knn.h"
#include "knn_obj.h"

mp_obj_full_type_t knn_type;

#ifdef EMLG_SF_ADD
/* The float helpers emlneighbors_load's quantization calls (knn_obj.h, emlglue.h). */
static const emlg_sf_fn_t knn_sf[2] = {EMLG_SF_ADD, EMLG_SF_MUL};
#endif

/* The values argument (or getitem's out, writable) as a pointer to exactly n_features elements
 * of the store's type; float values read are finite (NaN or inf: ValueError, as scikit-learn's
 * "Input contains NaN"). */
static void *knn_values(const knn_obj_t *self, mp_obj_t values, bool writable) {
    void *data;
    const bool f32 = self->knn.dtype == EMLC_KNN_F32;
    size_t n = emlg_buf(values, f32 ? 'f' : 'h', writable,
                        writable ? (f32 ? "out must be array('f')" : "out must be array('h')")
                                 : (f32 ? "values must be array('f')" : "values must be array('h')"),
                        &data);
    if (n != self->knn.n_features) {
        emlg_fail(MP_QSTR_ValueError, writable ? "out must have n_features elements" : "values must have n_features elements");
    }
    if (f32 && !writable) {
        emlg_finite(data, n, "values must be finite");
    }
    return data;
}

/* Number of significant bits of v (0 for 0). */
static unsigned knn_bits(size_t v) {
    unsigned n = 0;
    while (v) {
        v >>= 1;
        n++;
    }
    return n;
}

/* An empty store of new()'s size (the cap_ limits, checked by new()): the model as new() made
 * it. Used by new() and, as the model's `store` hook (knn_obj.h), by emlneighbors_load after a
 * failed load_model. */
static __attribute__((noinline)) void knn_store(knn_obj_t *self) {
    const size_t n_elem = (size_t)self->cap_items * self->cap_features;
    const size_t data_bytes = n_elem << (self->cap_dtype == EMLC_KNN_I16 ? 1 : 2);
    /* results (8-byte entries first: aligned), then data (4-byte aligned), then labels */
    uint8_t *block = m_malloc(self->cap_k * sizeof(emlc_knn_result_t) + data_bytes + self->cap_items * sizeof(int16_t));
    self->results = (emlc_knn_result_t *)block;
    self->k = self->cap_k;
    block += self->cap_k * sizeof(emlc_knn_result_t);
    emlg_ok(emlc_knn_init(&self->knn, (emlc_knn_dtype_t)self->cap_dtype, self->cap_features, self->cap_items, block,
                          n_elem, (int16_t *)(block + data_bytes), self->cap_items), "internal error");
}

/* An empty model object without a store (results NULL) and with load_model's limits; new() then
 * gives it its store (emlc_knn_init sets knn), load() a file. Not inlined: new() and load() share it. */
static __attribute__((noinline)) knn_obj_t *knn_make(uint32_t cap_items, size_t cap_features, size_t cap_k,
                                                     uint8_t cap_dtype) {
    knn_obj_t *self = mp_obj_malloc(knn_obj_t, (mp_obj_type_t *)&knn_type);
    self->results = NULL;
    knn_obj_empty(self);
    self->cap_items = cap_items;
    self->cap_features = (uint16_t)cap_features;
    self->k = self->cap_k = (uint16_t)cap_k;
    self->cap_dtype = cap_dtype;
    self->loading = 0;
    self->store = knn_store;
#ifdef EMLG_SF_ADD
    self->sf = knn_sf;
#endif
    return self;
}

/* new(max_items, n_features, k, dtype='h'): by position or keyword. */
static mp_obj_t knn_new(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    const qstr names[4] = {MP_QSTR_max_items, MP_QSTR_n_features, MP_QSTR_k, MP_QSTR_dtype};
    mp_obj_t args[4];
    emlg_args(n_args, pos, kw, names, 4, args);
    if (args[0] == MP_OBJ_NULL || args[1] == MP_OBJ_NULL || args[2] == MP_OBJ_NULL) {
        emlg_fail(MP_QSTR_TypeError, "max_items, n_features and k are required");
    }
    size_t max_items = emlg_int_in(args[0], 1, 0x3fffffff, "max_items must be 1..2**30-1");
    size_t n_features = emlg_int_in(args[1], 1, 65535, "n_features must be 1..65535");
    size_t k = emlg_int_in(args[2], 1, 0xffff, "k must be 1..65535");
    /* dtype: the array typecode of the items, 'h' (default, also for None) or 'f' */
    emlc_knn_dtype_t dtype = EMLC_KNN_I16;
    if (args[3] != MP_OBJ_NULL && args[3] != mp_const_none) {
        size_t len = 0;
        const char *s = mp_obj_is_str(args[3]) ? mp_obj_str_get_data(args[3], &len) : NULL;
        if (len != 1 || (s[0] != 'h' && s[0] != 'f')) {
            emlg_fail(s == NULL ? MP_QSTR_TypeError : MP_QSTR_ValueError, "dtype must be 'h' or 'f'");
        }
        dtype = s[0] == 'f' ? EMLC_KNN_F32 : EMLC_KNN_I16;
    }
    if (k > max_items) {
        emlg_fail(MP_QSTR_ValueError, "k must be <= max_items");
    }
    /* Below 2^28 elements (checked by bit length, no division; no board has that much memory), the
     * block size k*16 + elements*4 + max_items*2 < 2^31 cannot overflow. */
    if (knn_bits(max_items) + knn_bits(n_features) > 28) {
        emlg_fail(MP_QSTR_MemoryError, "max_items * n_features too large");
    }
    knn_obj_t *self = knn_make((uint32_t)max_items, n_features, k, (uint8_t)dtype);
    knn_store(self);
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(knn_new_obj, 0, knn_new);
EMLG_MAKE_NEW_VIA(knn_make_new, knn_new_obj)

/* load_model(model, stream): the model's items become the file's (within new()'s limits), read by
 * emlneighbors_load's load_model (imported here on the first load, see the top). Without that
 * module: ValueError naming it, and the model and the stream are untouched (items added with
 * add_item stay); any other error importing it (no memory for its code, say) is raised as is.
 * A failed load leaves a model made by new() empty with new()'s store again (the loader calls the
 * model's `store` hook, knn_store: add_item works up to max_items); if that store cannot be
 * allocated, the MemoryError is raised instead. */
static mp_obj_t knn_load_model(mp_obj_t self_in, mp_obj_t stream) {
    mp_obj_t mod, args[2];
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mod = mp_import_name(MP_QSTR_emlneighbors_load, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
    } else {
        if (mp_obj_get_type(MP_OBJ_FROM_PTR(nlr.ret_val)) != MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_ImportError))) {
            nlr_raise(MP_OBJ_FROM_PTR(nlr.ret_val));
        }
        emlg_fail(MP_QSTR_ValueError, "k-NN files need emlneighbors_load.mpy");
    }
    args[0] = self_in;
    args[1] = stream;
    return mp_call_function_n_kw(mp_load_attr(mod, MP_QSTR_load_model), 2, 0, args);
}
static MP_DEFINE_CONST_FUN_OBJ_2(knn_load_model_obj, knn_load_model);

/* load(stream) -> Model: a model of exactly the file's size. */
static mp_obj_t knn_load(mp_obj_t stream) {
    knn_obj_t *self = knn_make(0xffffffffu, 65535, 65535, KNN_ANY_DTYPE);
    knn_load_model(MP_OBJ_FROM_PTR(self), stream);
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(knn_load_obj, knn_load);

/* A stored label as returned to Python: the file's class label when it has them. */
static mp_obj_t knn_label(const knn_obj_t *self, int16_t label) {
    return mp_obj_new_int(self->classes != NULL ? self->classes[label] : label);
}

static mp_obj_t knn_add_item(mp_obj_t self_in, mp_obj_t values, mp_obj_t label_in) {
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const void *x = knn_values(self, values, false);
    mp_int_t label = emlg_int_in(label_in, -32768, 32767, "label must fit in int16");
    if (self->knn.n_items >= self->knn.max_items) {
        emlg_fail(MP_QSTR_ValueError, "capacity exceeded (max_items)");
    }
    emlg_ok(emlc_knn_add(&self->knn, x, self->knn.n_features, (int16_t)label), "internal error");
    return mp_obj_new_int(self->knn.n_items - 1);
}
static MP_DEFINE_CONST_FUN_OBJ_3(knn_add_item_obj, knn_add_item);

static mp_obj_t knn_predict(mp_obj_t self_in, mp_obj_t values) {
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const void *x;
    int16_t *q = NULL;
    /* array('f') for an int16 model from a file: quantized by the loader's code (knn_obj.h) */
    if (self->quantize != NULL) {
        q = self->quantize(self, values);
    }
    x = q != NULL ? q : knn_values(self, values, false);
    if (self->knn.n_items == 0) {
        emlg_fail(MP_QSTR_ValueError, "no items: call add_item first");
    }
    size_t k = self->k < self->knn.n_items ? self->k : self->knn.n_items;
    int16_t label = 0;
    self->n_results = 0;
    emlg_ok(emlc_knn_predict(&self->knn, x, self->knn.n_features, k, self->results, &label), "internal error");
    self->n_results = (uint16_t)k;
    if (q != NULL) {
        m_free(q);
    }
    return knn_label(self, label);
}
static MP_DEFINE_CONST_FUN_OBJ_2(knn_predict_obj, knn_predict);

/* A uint64 as an int object (distances of int16 stores may exceed a small int). */
static mp_obj_t knn_u64(uint64_t v) {
    uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
    mp_obj_t o = mp_obj_new_int_from_uint(lo);
    if (hi) {
        mp_obj_t h = mp_binary_op(MP_BINARY_OP_LSHIFT, mp_obj_new_int_from_uint(hi), MP_OBJ_NEW_SMALL_INT(32));
        o = mp_binary_op(MP_BINARY_OP_ADD, h, o);
    }
    return o;
}

/* An index argument in 0..n-1, else IndexError(msg). */
static size_t knn_index(mp_obj_t i_in, size_t n, const char *msg) {
    return (size_t)emlg_int_range(i_in, 0, (mp_int_t)n - 1, MP_QSTR_IndexError, msg);
}

static mp_obj_t knn_get_result(mp_obj_t self_in, mp_obj_t i_in) {
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const emlc_knn_result_t *r =
        &self->results[knn_index(i_in, self->n_results, "result index out of range")];
    mp_obj_t t[3];
    t[0] = mp_obj_new_int_from_uint(r->index);
    t[1] = self->knn.dtype == EMLC_KNN_I16 ? knn_u64(r->dist) : mp_obj_new_float(emlc_knn_dist_f32(r));
    t[2] = knn_label(self, r->label);
    return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_2(knn_get_result_obj, knn_get_result);

static mp_obj_t knn_get_item(mp_obj_t self_in, mp_obj_t i_in, mp_obj_t out) {
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t i = knn_index(i_in, self->knn.n_items, "item index out of range");
    void *dst = knn_values(self, out, true);
    size_t bytes = (size_t)self->knn.n_features << (self->knn.dtype == EMLC_KNN_I16 ? 1 : 2);
    memcpy(dst, (const uint8_t *)self->knn.data + i * bytes, bytes);
    return knn_label(self, self->knn.labels[i]);
}
static MP_DEFINE_CONST_FUN_OBJ_3(knn_get_item_obj, knn_get_item);

static mp_obj_t knn_n_items(mp_obj_t self_in) {
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(self->knn.n_items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(knn_n_items_obj, knn_n_items);

/* emlearn-micropython's names additem, getresult, getitem are kept so its users' code runs unchanged */
static const emlg_def_t knn_methods[8] = {
    {&MP_QSTR_add_item, &knn_add_item_obj}, {&MP_QSTR_predict, &knn_predict_obj},
    {&MP_QSTR_get_result, &knn_get_result_obj}, {&MP_QSTR_get_item, &knn_get_item_obj},
    {&MP_QSTR_n_items, &knn_n_items_obj}, {&MP_QSTR_additem, &knn_add_item_obj},
    {&MP_QSTR_getresult, &knn_get_result_obj}, {&MP_QSTR_getitem, &knn_get_item_obj}};
mp_map_elem_t knn_locals_table[8];
static MP_DEFINE_CONST_DICT(knn_locals, knn_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&knn_type, MP_QSTR_Model);
    emlg_methods(knn_locals_table, knn_methods, 8);
    MP_OBJ_TYPE_SET_SLOT(&knn_type, make_new, knn_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&knn_type, locals_dict, (void *)&knn_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&knn_new_obj));
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&knn_load_obj));
    mp_store_global(MP_QSTR_load_model, MP_OBJ_FROM_PTR(&knn_load_model_obj));
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(&knn_type));

    MP_DYNRUNTIME_INIT_EXIT
}
