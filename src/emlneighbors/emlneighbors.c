/* emlneighbors: k-nearest-neighbours classifier (glue over cores/emlc_knn, emlc_knn_load and
 * emlc_quant).
 *
 * Model(max_items, n_features, k, dtype='h') (also new(...)); .add_item(values, label),
 * .predict(values), .get_result(i), .get_item(i, out), .n_items(), and emlearn-micropython's
 * names additem, getresult, getitem for the same methods; load(stream) and
 * load_model(model, stream) read a binary k-NN file (docs/model-format.md §4) written by emlmpy.
 * See stubs/emlneighbors.pyi.
 * The k results, the item storage and the labels live in one GC-heap block, in that order: its
 * head is `results`, held by the model object (so it lives exactly as long as the model). A model
 * from a file has the file's body in that block after the results (items, labels, quantization,
 * class labels: the file is read straight into it, then validated); its store is full (n_items ==
 * max_items). On any load error the block is freed and the model is empty (no items, no room).
 */
#include "emlglue.h"
#include "emlc_knn.h"
#include "emlc_quant.h"

typedef struct knn_obj {
    mp_obj_base_t base;
    emlc_knn_t knn;             /* knn.data and knn.labels point into the block of `results` */
    emlc_knn_result_t *results; /* k entries at the head of the GC block; NULL after a failed load */
    const float *scale;         /* an int16 model from a file: its quantization, else NULL */
    const float *offset;
    const int32_t *classes;     /* the file's class labels (labels are indices into it), else NULL */
    uint32_t cap_items;         /* load_model's limits: new()'s max_items, n_features, k, dtype */
    uint16_t cap_features, cap_k;
    uint8_t cap_dtype;          /* KNN_ANY_DTYPE for a model made by load() */
    uint8_t loading;            /* inside load_model (the stream's own methods run meanwhile) */
    uint16_t k;
    uint16_t n_results;         /* valid results of the last predict (0 before any) */
} knn_obj_t;

#define KNN_ANY_DTYPE 0xff

mp_obj_full_type_t knn_type;

/* The values argument (or getitem's out, writable) as a pointer to exactly n_features elements
 * of the store's type. */
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

/* Empty: no items, no room, no quantization or class labels; `drop`: the block is freed too. */
static void knn_empty(knn_obj_t *self, bool drop) {
    self->knn.n_items = self->knn.max_items = 0;
    self->n_results = 0;
    self->scale = self->offset = NULL;
    self->classes = NULL;
    if (drop && self->results != NULL) {
        m_free(self->results);
        self->results = NULL;
    }
}

/* A model object without a store (results NULL, no items) and load_model's limits. */
static knn_obj_t *knn_make(uint32_t cap_items, size_t cap_features, size_t cap_k, uint8_t cap_dtype) {
    knn_obj_t *self = mp_obj_malloc(knn_obj_t, (mp_obj_type_t *)&knn_type);
    self->results = NULL;
    knn_empty(self, false);
    self->knn.n_features = (uint16_t)cap_features;
    self->knn.dtype = cap_dtype;
    self->cap_items = cap_items;
    self->cap_features = (uint16_t)cap_features;
    self->k = self->cap_k = (uint16_t)cap_k;
    self->cap_dtype = cap_dtype;
    self->loading = 0;
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
    size_t max_items = emlg_int_in(args[0], 1, 0x7fffffff, "max_items must be >= 1");
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
    const size_t n_elem = max_items * n_features;
    const size_t data_bytes = n_elem << (dtype == EMLC_KNN_I16 ? 1 : 2);
    knn_obj_t *self = knn_make((uint32_t)max_items, n_features, k, (uint8_t)dtype);
    /* results (8-byte entries first: aligned), then data (4-byte aligned), then labels */
    uint8_t *block = m_malloc(k * sizeof(emlc_knn_result_t) + data_bytes + max_items * sizeof(int16_t));
    self->results = (emlc_knn_result_t *)block;
    block += k * sizeof(emlc_knn_result_t);
    emlg_ok(emlc_knn_init(&self->knn, dtype, n_features, max_items, block, n_elem, (int16_t *)(block + data_bytes),
                          max_items), "internal error");
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(knn_new_obj, 0, knn_new);
EMLG_MAKE_NEW_VIA(knn_make_new, knn_new_obj)

/* ValueError("offset <where>: <reason>") (emlglue.h). */
static NORETURN void knn_load_error(uint32_t where, const char *reason) {
    EMLG_FAIL_AT("offset %d: %s", where, reason);
}

/* The load itself (docs/model-format.md §4): the header, the limits, one block of exactly the
 * file's size (plus the k results), the rest of the file read straight into it, the checks.
 * Raises on any problem (the caller empties the model). */
static void knn_load_body(knn_obj_t *self, mp_obj_t stream) {
    emlc_knn_file_t f;
    emlc_load_error_t e;
    uint8_t *hdr = (uint8_t *)&f.h, *body, extra;
    uint32_t got = emlg_read(stream, hdr, 1);
    if (got == 1 && hdr[0] != 'E') {
        knn_load_error(0, "k-NN CSV files are host-only: convert to .bin with emlmpy");
    }
    got += emlg_read(stream, hdr + got, EMLC_KNN_HEADER - got);
    if (got < EMLC_KNN_HEADER) {
        knn_load_error(got, "truncated file");
    }
    if (emlc_knn_load_header(&f, &e) != EMLC_OK) {
        knn_load_error(e.where, e.reason);
    }
    if (f.h.n_items > self->cap_items || f.h.n_features > self->cap_features || f.h.k > self->cap_k) {
        knn_load_error(f.h.n_items > self->cap_items ? 16 : f.h.n_features > self->cap_features ? 8 : 12,
                       "larger than the Model");
    }
    if (self->cap_dtype != KNN_ANY_DTYPE && f.h.dtype != self->cap_dtype) {
        knn_load_error(6, "dtype differs from the Model's");
    }
    knn_empty(self, true); /* the old store goes just before the new one is allocated */
    self->results = m_malloc(f.h.k * sizeof(emlc_knn_result_t) + f.h.file_bytes - EMLC_KNN_HEADER);
    body = (uint8_t *)(self->results + f.h.k);
    got = emlg_read(stream, body, f.h.file_bytes - EMLC_KNN_HEADER);
    if (got < f.h.file_bytes - EMLC_KNN_HEADER) {
        knn_load_error(EMLC_KNN_HEADER + got, "truncated file");
    }
    if (emlg_read(stream, &extra, 1) != 0) {
        knn_load_error(f.h.file_bytes, "data after the model");
    }
    if (emlc_knn_load_check(&f, body, &self->knn, &e) != EMLC_OK) {
        knn_load_error(e.where, e.reason);
    }
    self->k = f.h.k;
    if (f.size[EMLC_KNN_SEC_SCALE] != 0) {
        self->scale = (const float *)(void *)(body + f.at[EMLC_KNN_SEC_SCALE]);
        self->offset = (const float *)(void *)(body + f.at[EMLC_KNN_SEC_OFFSET]);
    }
    if (f.size[EMLC_KNN_SEC_CLASSES] != 0) {
        self->classes = (const int32_t *)(void *)(body + f.at[EMLC_KNN_SEC_CLASSES]);
    }
}

/* load_model(model, stream): the model's items become the file's (within new()'s limits). */
static mp_obj_t knn_load_model(mp_obj_t self_in, mp_obj_t stream) {
    knn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    nlr_buf_t nlr;
    if (mp_obj_get_type(self_in) != (const mp_obj_type_t *)&knn_type) {
        emlg_fail(MP_QSTR_TypeError, "load_model needs an emlneighbors model");
    }
    if (self->loading) { /* called again from the stream's own readinto */
        emlg_fail(MP_QSTR_ValueError, "this model is already loading");
    }
    knn_empty(self, false); /* empty from here on (its block is freed once the header passed) */
    self->loading = 1;
    if (nlr_push(&nlr) == 0) {
        knn_load_body(self, stream);
        nlr_pop();
        self->loading = 0;
        return mp_const_none;
    }
    self->loading = 0;
    knn_empty(self, true);
    nlr_raise(MP_OBJ_FROM_PTR(nlr.ret_val));
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
    mp_buffer_info_t bi;
    /* array('f') for an int16 model from a file: quantized with the file's scale and offset */
    if (self->scale != NULL && mp_get_buffer(values, &bi, MP_BUFFER_READ) && bi.typecode == 'f') {
        if (bi.len >> 2 != self->knn.n_features) {
            emlg_fail(MP_QSTR_ValueError, "values must have n_features elements");
        }
        q = m_malloc((size_t)self->knn.n_features * sizeof(int16_t));
        emlc_quantize_row(bi.buf, self->scale, self->offset, self->knn.n_features, q);
        x = q;
    } else {
        x = knn_values(self, values, false);
    }
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

mp_map_elem_t knn_locals_table[8];
static MP_DEFINE_CONST_DICT(knn_locals, knn_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&knn_type, MP_QSTR_Model);
    emlg_method(&knn_locals_table[0], MP_QSTR_add_item, &knn_add_item_obj);
    emlg_method(&knn_locals_table[1], MP_QSTR_predict, &knn_predict_obj);
    emlg_method(&knn_locals_table[2], MP_QSTR_get_result, &knn_get_result_obj);
    emlg_method(&knn_locals_table[3], MP_QSTR_get_item, &knn_get_item_obj);
    emlg_method(&knn_locals_table[4], MP_QSTR_n_items, &knn_n_items_obj);
    /* emlearn-micropython's names, kept so its users' code runs unchanged */
    emlg_method(&knn_locals_table[5], MP_QSTR_additem, &knn_add_item_obj);
    emlg_method(&knn_locals_table[6], MP_QSTR_getresult, &knn_get_result_obj);
    emlg_method(&knn_locals_table[7], MP_QSTR_getitem, &knn_get_item_obj);
    MP_OBJ_TYPE_SET_SLOT(&knn_type, make_new, knn_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&knn_type, locals_dict, (void *)&knn_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&knn_new_obj));
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&knn_load_obj));
    mp_store_global(MP_QSTR_load_model, MP_OBJ_FROM_PTR(&knn_load_model_obj));
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(&knn_type));

    MP_DYNRUNTIME_INIT_EXIT
}
