/* emltrees: tree-ensemble inference (glue over cores/emlc_trees and cores/emlc_load).
 *
 * A model file (docs/model-format.md §2) is a 32-byte header and then exactly the model's arrays,
 * so load_model() reads the header, allocates one GC block of the size the header gives, reads the
 * rest of the file straight into it (readinto, short reads looped) and validates it. Nothing is
 * reserved before a file says what it needs: new()'s capacities are limits, and load() makes a
 * model of exactly the file's size. On any error the model is left empty and ValueError names
 * the byte offset and the reason. See stubs/emltrees.pyi.
 *
 * Invariant: state == TREES_LOADED implies model passed emlc_trees_validate() and its arrays point into
 * `block`, a GC block this object holds.
 */
#include "emlglue.h"
#include "emlc_trees.h"
#include "emlc_load.h"
#include "emlc_quant.h"
#include "trees_obj.h"

mp_obj_full_type_t trees_type;

/* The checks emltrees_csv uses (trees_obj.h). */
static const trees_checks_t trees_checks = {emlc_trees_check_counts, emlc_trees_layout, emlc_trees_bind,
                                            emlc_trees_check_one, emlc_load_check, emlc_load_reason};

static mp_obj_t trees_make(mp_int_t max_trees, mp_int_t max_nodes, mp_int_t max_payloads) {
    trees_obj_t *self = mp_obj_malloc(trees_obj_t, (mp_obj_type_t *)&trees_type);
    self->checks = &trees_checks;
    self->block = NULL;
    self->block_bytes = 0;
    self->max_trees = (uint16_t)max_trees;
    self->max_nodes = (uint16_t)max_nodes;
    self->max_payloads = (uint16_t)max_payloads;
    self->state = TREES_EMPTY;
    return MP_OBJ_FROM_PTR(self);
}

/* new(max_trees, max_nodes, max_leaves=None): by position or keyword. */
static mp_obj_t trees_new(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    const qstr names[3] = {MP_QSTR_max_trees, MP_QSTR_max_nodes, MP_QSTR_max_leaves};
    mp_obj_t args[3];
    emlg_args(n_args, pos, kw, names, 3, args);
    if (args[0] == MP_OBJ_NULL || args[1] == MP_OBJ_NULL) {
        emlg_fail(MP_QSTR_TypeError, "max_trees and max_nodes are required");
    }
    return trees_make(emlg_int_in(args[0], 1, EMLC_TREES_MAX_NODES, "max_trees must be 1..32767"),
                      emlg_int_in(args[1], 0, EMLC_TREES_MAX_NODES, "max_nodes must be 0..32767"),
                      args[2] != MP_OBJ_NULL && args[2] != mp_const_none
                          ? emlg_int_in(args[2], 0, EMLC_TREES_MAX_REFS, "max_leaves must be 0..32768")
                          : EMLC_TREES_MAX_REFS);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(trees_new_obj, 0, trees_new);
EMLG_MAKE_NEW_VIA(trees_make_new, trees_new_obj)

/* ValueError("offset <where>: <reason>") (emlglue.h). */
static NORETURN void trees_load_error(uint32_t where, const char *reason) {
    EMLG_FAIL_AT("offset %d: %s", where, reason);
}

/* A CSV file (docs/model-format.md §3) is read by the separate module emltrees_csv, imported the
 * first time a CSV file is loaded: a board that loads binary files never holds its code. It stays
 * imported (MicroPython never frees a native module's code: dropping it from sys.modules would
 * only make the next import load it again). `first` is the byte read to tell the format. */
static void trees_load_csv(mp_obj_t self, mp_obj_t stream, uint8_t first) {
    mp_obj_t mod, args[3];
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mod = mp_import_name(MP_QSTR_emltrees_csv, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
    } else {
        emlg_fail(MP_QSTR_ValueError, "CSV needs emltrees_csv.mpy (or use a .bin file)");
    }
    args[0] = self;
    args[1] = stream;
    args[2] = MP_OBJ_NEW_SMALL_INT(first);
    mp_call_function_n_kw(mp_load_attr(mod, MP_QSTR_read), 3, 0, args);
}

/* The load itself; raises on any problem (the caller empties the model). */
static void trees_load_body(mp_obj_t self_in, mp_obj_t stream) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint8_t hdr[EMLC_LOAD_HEADER];
    emlc_trees_t model;
    emlc_load_error_t e;
    uint32_t file_bytes, got = emlg_read(stream, hdr, 1);
    if (got == 1 && hdr[0] != 'E') {
        trees_load_csv(self_in, stream, hdr[0]);
        return;
    }
    got += emlg_read(stream, hdr + got, sizeof(hdr) - got);
    if (got < sizeof(hdr)) {
        trees_load_error(got, "truncated file");
    }
    if (emlc_load_header(hdr, &model, &file_bytes, &e) != EMLC_OK) {
        trees_load_error(e.where, e.reason);
    }
    if (model.n_trees > self->max_trees || model.n_nodes > self->max_nodes
        || (model.leaf_kind != EMLC_LEAF_CLASS && model.n_payloads > self->max_payloads)) {
        trees_load_error(model.n_trees > self->max_trees ? 12 : model.n_nodes > self->max_nodes ? 14 : 16,
                         "model larger than new()'s capacity");
    }
    self->block_bytes = file_bytes - EMLC_LOAD_HEADER;
    self->block = m_malloc(self->block_bytes);
    got = emlg_read(stream, self->block, self->block_bytes);
    if (got < self->block_bytes) {
        trees_load_error(EMLC_LOAD_HEADER + got, "truncated file");
    }
    if (emlg_read(stream, hdr, 1) != 0) {
        trees_load_error(file_bytes, "data after the model");
    }
    emlc_trees_bind(&model, self->block);
    if (emlc_load_check(&model, self->block, &e) != EMLC_OK) {
        trees_load_error(e.where, e.reason);
    }
    self->model = model;
}

static void trees_empty(trees_obj_t *self) {
    if (self->block != NULL) {
        m_free(self->block);
    }
    self->block = NULL;
    self->block_bytes = 0;
}

static mp_obj_t trees_load_model(mp_obj_t self_in, mp_obj_t stream) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    nlr_buf_t nlr;
    if (mp_obj_get_type(self_in) != (const mp_obj_type_t *)&trees_type) {
        emlg_fail(MP_QSTR_TypeError, "load_model needs an emltrees model");
    }
    if (self->state == TREES_LOADING) { /* called again from the stream's own readinto */
        emlg_fail(MP_QSTR_ValueError, "this model is already loading");
    }
    trees_empty(self); /* the old model goes first: a failed load leaves the model empty */
    self->state = TREES_LOADING;
    if (nlr_push(&nlr) == 0) {
        trees_load_body(self_in, stream);
        nlr_pop();
        self->state = TREES_LOADED;
        return mp_const_none;
    }
    trees_empty(self);
    self->state = TREES_EMPTY;
    nlr_raise(MP_OBJ_FROM_PTR(nlr.ret_val));
}
static MP_DEFINE_CONST_FUN_OBJ_2(trees_load_model_obj, trees_load_model);

/* load(stream) -> Model: a model of exactly the size of the file. */
static mp_obj_t trees_load(mp_obj_t stream) {
    mp_obj_t self = trees_make(EMLC_TREES_MAX_NODES, EMLC_TREES_MAX_NODES, EMLC_TREES_MAX_REFS);
    trees_load_model(self, stream);
    return self;
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_load_obj, trees_load);

static trees_obj_t *trees_ready(mp_obj_t self_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->state != TREES_LOADED) {
        emlg_fail(MP_QSTR_ValueError, "no model loaded");
    }
    return self;
}

/* X: samples of n_features values, array('f') or array('h'), converted to the model's input type
 * when the typecode differs (float -> int16 by the model's quantization, int16 -> float). */
typedef struct trees_x {
    const uint8_t *data;
    size_t n;       /* elements */
    size_t step;    /* bytes per sample */
    void *tmp;      /* one converted sample (GC block) or NULL */
    bool f32;       /* data is float */
} trees_x_t;

static void trees_input(const trees_obj_t *self, mp_obj_t obj, trees_x_t *x) {
    mp_buffer_info_t bi;
    if (!mp_get_buffer(obj, &bi, MP_BUFFER_READ) || (bi.typecode != 'f' && bi.typecode != 'h')) {
        emlg_fail(MP_QSTR_TypeError, "x must be array('f') or array('h')");
    }
    x->data = bi.buf;
    x->f32 = bi.typecode == 'f';
    x->n = bi.len >> (x->f32 ? 2 : 1);
    x->step = (size_t)self->model.n_features << (x->f32 ? 2 : 1);
    x->tmp = x->f32 == (self->model.input == EMLC_INPUT_F32) ? NULL : m_malloc((size_t)self->model.n_features * 4);
}

static const void *trees_sample(const trees_obj_t *self, const trees_x_t *x, size_t i) {
    const emlc_trees_t *m = &self->model;
    const uint8_t *row = x->data + i * x->step;
    size_t j;
    if (x->tmp == NULL) {
        return row;
    }
    if (x->f32) { /* docs/model-format.md §1, as the host's quantize() */
        emlc_quantize_row((const float *)row, m->scale, m->offset, m->n_features, x->tmp);
        return x->tmp;
    }
    for (j = 0; j < m->n_features; j++) {
        ((float *)x->tmp)[j] = (float)((const int16_t *)row)[j];
    }
    return x->tmp;
}

static mp_obj_t trees_predict(size_t n_args, const mp_obj_t *args) {
    trees_obj_t *self = trees_ready(args[0]);
    const emlc_trees_t *m = &self->model;
    trees_x_t x;
    float *out = NULL, value;
    size_t n_out = 1;
    int32_t cls;
    trees_input(self, args[1], &x);
    if (x.n != m->n_features) {
        emlg_fail(MP_QSTR_ValueError, "x must have n_features() elements");
    }
    if (m->leaf_kind == EMLC_LEAF_VALUE) {
        out = &value;
    } else if (n_args > 2 && args[2] != mp_const_none) {
        n_out = emlg_buf(args[2], 'f', true, "out must be array('f')", (void **)&out);
        if (n_out < m->n_outputs) {
            emlg_fail(MP_QSTR_ValueError, "out must have at least outputs() elements");
        }
        emlg_apart(out, n_out * 4, x.data, x.n << (x.f32 ? 2 : 1), "out must not share memory with x");
    }
    emlg_ok(emlc_trees_predict(m, trees_sample(self, &x, 0), out, n_out, &cls), "internal error");
    if (x.tmp != NULL) {
        m_free(x.tmp);
    }
    if (m->leaf_kind == EMLC_LEAF_VALUE) {
        return mp_obj_new_float(value);
    }
    return mp_obj_new_int(m->has_labels ? m->labels[cls] : cls);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(trees_predict_obj, 2, 3, trees_predict);

static mp_obj_t trees_predict_many(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    trees_obj_t *self = trees_ready(self_in);
    const emlc_trees_t *m = &self->model;
    bool regress = m->leaf_kind == EMLC_LEAF_VALUE;
    mp_buffer_info_t bo;
    trees_x_t x;
    size_t i, n_samples = 0, nf = m->n_features;
    trees_input(self, x_in, &x);
    for (i = x.n; i >= nf; i -= nf) { /* x.n / nf without a division helper */
        n_samples++;
    }
    if (i != 0) {
        emlg_fail(MP_QSTR_ValueError, "X length must be a multiple of n_features()");
    }
    if (!mp_get_buffer(out_in, &bo, MP_BUFFER_WRITE)
        || (bo.typecode != 'f' && (regress || (bo.typecode != 'i' && bo.typecode != 'h')))) {
        emlg_fail(MP_QSTR_TypeError, regress ? "out must be array('f') for a regressor"
                                             : "out must be array('f'), array('i') or array('h')");
    }
    if (bo.len >> (bo.typecode == 'h' ? 1 : 2) != n_samples) {
        emlg_fail(MP_QSTR_ValueError, "out must have one element per sample");
    }
    emlg_apart(bo.buf, bo.len, x.data, x.n << (x.f32 ? 2 : 1), "out must not share memory with x");
    for (i = 0; i < n_samples; i++) {
        float v;
        int32_t cls;
        emlg_ok(emlc_trees_predict(m, trees_sample(self, &x, i), regress ? &v : NULL, 1, &cls), "internal error");
        cls = m->has_labels ? m->labels[cls] : cls;
        if (bo.typecode == 'f') {
            ((float *)bo.buf)[i] = regress ? v : (float)cls;
        } else if (bo.typecode == 'i') {
            ((int32_t *)bo.buf)[i] = cls;
        } else if ((int16_t)cls == cls) {
            ((int16_t *)bo.buf)[i] = (int16_t)cls;
        } else {
            emlg_fail(MP_QSTR_ValueError, "label does not fit array('h'): use 'i'");
        }
    }
    if (x.tmp != NULL) {
        m_free(x.tmp);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(trees_predict_many_obj, trees_predict_many);

static mp_obj_t trees_outputs(mp_obj_t self_in) {
    return MP_OBJ_NEW_SMALL_INT(trees_ready(self_in)->model.n_outputs);
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_outputs_obj, trees_outputs);

static mp_obj_t trees_n_features(mp_obj_t self_in) {
    return MP_OBJ_NEW_SMALL_INT(trees_ready(self_in)->model.n_features);
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_n_features_obj, trees_n_features);

static mp_obj_t trees_memory(mp_obj_t self_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(sizeof(trees_obj_t) + self->block_bytes);
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_memory_obj, trees_memory);

static const emlg_def_t trees_methods[5] = {
    {&MP_QSTR_predict, &trees_predict_obj}, {&MP_QSTR_predict_many, &trees_predict_many_obj},
    {&MP_QSTR_outputs, &trees_outputs_obj}, {&MP_QSTR_n_features, &trees_n_features_obj},
    {&MP_QSTR_memory, &trees_memory_obj}};
mp_map_elem_t trees_locals_table[5];
static MP_DEFINE_CONST_DICT(trees_locals, trees_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&trees_type, MP_QSTR_Model);
    emlg_methods(trees_locals_table, trees_methods, 5);
    MP_OBJ_TYPE_SET_SLOT(&trees_type, make_new, trees_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&trees_type, locals_dict, (void *)&trees_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&trees_new_obj));
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&trees_load_obj));
    mp_store_global(MP_QSTR_load_model, MP_OBJ_FROM_PTR(&trees_load_model_obj));
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(&trees_type));

    MP_DYNRUNTIME_INIT_EXIT
}
