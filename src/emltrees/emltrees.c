/* emltrees: tree-ensemble inference (glue over cores/emlc_trees and cores/emlc_load).
 *
 * new(max_trees, max_nodes, max_leaves=None) -> Model reserves the node and root arrays at once;
 * leaf storage (whose width depends on the model: 1 byte for class leaves, 4 x n_outputs for
 * proportions) is sized for max_leaves leaves during load_model, as soon as the file says its
 * leaf kind. load_model(model, stream) feeds the file to the core parser in CHUNK-byte pieces
 * (never the whole file in RAM); on any error the model is left empty and ValueError names the
 * line (CSV) or byte offset (binary). See stubs/emltrees.pyi.
 *
 * Invariant: self->loaded implies self->model passed emlc_trees_validate(), and every array the
 * model points into is a GC block whose head pointer this object holds.
 */
#include "emlglue.h"
#include "emlc_trees.h"
#include "emlc_load.h"

#define CHUNK 256

typedef struct trees_obj {
    mp_obj_base_t base;
    emlc_trees_t model;
    bool loaded;
    uint16_t max_trees, max_nodes;
    uint32_t max_leaves;
    /* GC block heads */
    int32_t *thresholds;
    uint16_t *features;
    int16_t *children;
    int16_t *roots;
    void *leaves;
    size_t leaves_bytes;
    float *quant;          /* scale[n] then offset[n] of the loaded int16 model */
    size_t quant_features;
    void *scratch;         /* one converted sample: n_features x 4 bytes */
    size_t scratch_features;
} trees_obj_t;

mp_obj_full_type_t trees_type;

static size_t trees_memory(const trees_obj_t *self) {
    return sizeof(trees_obj_t) + (size_t)self->max_nodes * (4 + 2 + 4) + (size_t)self->max_trees * 2
        + self->leaves_bytes + self->quant_features * 8 + self->scratch_features * 4;
}

static mp_obj_t trees_new(size_t n_args, const mp_obj_t *args) {
    size_t max_trees = emlg_size(args[0], 1, 32767, "max_trees");
    size_t max_nodes = emlg_size(args[1], 0, EMLC_TREES_MAX_NODES, "max_nodes");
    size_t max_leaves = max_nodes + max_trees; /* the most leaves binary trees of that size have */
    if (n_args > 2 && args[2] != mp_const_none) {
        max_leaves = emlg_size(args[2], 1, EMLC_TREES_MAX_LEAVES, "max_leaves");
    }
    if (max_leaves > EMLC_TREES_MAX_LEAVES) {
        max_leaves = EMLC_TREES_MAX_LEAVES;
    }
    trees_obj_t *self = mp_obj_malloc(trees_obj_t, (mp_obj_type_t *)&trees_type);
    self->loaded = false;
    self->max_trees = (uint16_t)max_trees;
    self->max_nodes = (uint16_t)max_nodes;
    self->max_leaves = (uint32_t)max_leaves;
    self->thresholds = NULL;
    self->features = NULL;
    self->children = NULL;
    self->leaves = NULL;
    self->leaves_bytes = 0;
    self->quant = NULL;
    self->quant_features = 0;
    self->scratch = NULL;
    self->scratch_features = 0;
    self->roots = m_malloc(max_trees * sizeof(int16_t));
    if (max_nodes) {
        self->thresholds = m_malloc(max_nodes * sizeof(int32_t));
        self->features = m_malloc(max_nodes * sizeof(uint16_t));
        self->children = m_malloc(max_nodes * 2 * sizeof(int16_t));
    }
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(trees_new_obj, 2, 3, trees_new);

/* Loader callback: leaf storage of leaf_width bytes per leaf, for the n_leaves the file declares
 * (capped by max_leaves; the parser refuses more) or for max_leaves when it declares none. May raise
 * MemoryError, which unwinds through the parser: it holds no resources. */
static void *trees_leaves(void *ctx, uint32_t leaf_width, uint32_t n_leaves, uint32_t *bytes) {
    trees_obj_t *self = ctx;
    size_t count = n_leaves && n_leaves < self->max_leaves ? n_leaves : self->max_leaves;
    size_t need = (count * leaf_width + 3) & ~(size_t)3;
    if (self->leaves_bytes < need) {
        if (self->leaves) {
            m_free(self->leaves);
        }
        self->leaves = NULL;
        self->leaves_bytes = 0;
        self->leaves = m_malloc(need);
        self->leaves_bytes = need;
    }
    *bytes = (uint32_t)need;
    return self->leaves;
}

/* Loader callback: the quantization table of an int16 model, scale[n] then offset[n]. */
static float *trees_quant(void *ctx, uint32_t n_features) {
    trees_obj_t *self = ctx;
    if (self->quant_features < n_features) {
        if (self->quant) {
            m_free(self->quant);
        }
        self->quant = NULL;
        self->quant_features = 0;
        self->quant = m_malloc((size_t)n_features * 2 * sizeof(float));
        self->quant_features = n_features;
    }
    return self->quant;
}

/* Reads up to `cap` bytes from `stream` into buf via readinto (preferred) or read. */
static size_t trees_read(mp_obj_t stream, mp_obj_t buf_obj, uint8_t *buf, size_t cap) {
    mp_obj_t call[3];
    mp_load_method_maybe(stream, MP_QSTR_readinto, call);
    if (call[0] != MP_OBJ_NULL) {
        call[2] = buf_obj;
        mp_obj_t r = mp_call_method_n_kw(1, 0, call);
        if (r == mp_const_none) {
            return 0;
        }
        mp_int_t n = mp_obj_get_int(r);
        return n < 0 ? 0 : ((size_t)n > cap ? cap : (size_t)n);
    }
    mp_load_method(stream, MP_QSTR_read, call);
    call[2] = MP_OBJ_NEW_SMALL_INT(cap);
    mp_obj_t data = mp_call_method_n_kw(1, 0, call);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(data, &bi, MP_BUFFER_READ);
    size_t n = bi.len > cap ? cap : bi.len;
    memcpy(buf, bi.buf, n);
    return n;
}

static void trees_load_error(const emlc_load_t *st) {
    emlg_msg_t m = {{0}, 0};
    emlg_str(&m, st->fmt == 2 ? "offset " : "line ");
    emlg_int(&m, (long)st->where);
    emlg_str(&m, ": ");
    emlg_str(&m, st->reason);
    emlg_str(&m, " (");
    emlg_str(&m, emlc_strerror(st->err));
    emlg_str(&m, ")");
    emlg_raise(&mp_type_ValueError, &m);
}

static mp_obj_t trees_load_model(mp_obj_t self_in, mp_obj_t stream) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (mp_obj_get_type(self_in) != (const mp_obj_type_t *)&trees_type) {
        mp_raise_TypeError(MP_ERROR_TEXT("load_model needs a model made by emltrees.new()"));
    }
    self->loaded = false;
    /* Parser state and chunk buffer live on the GC heap for the duration of the load. */
    emlc_load_t *st = m_malloc(sizeof(emlc_load_t));
    uint8_t *buf = m_malloc(CHUNK);
    mp_obj_t buf_obj = mp_obj_new_bytearray_by_ref(CHUNK, buf);
    emlc_load_dest_t dest;
    memset(&dest, 0, sizeof(dest));
    dest.thresholds = self->thresholds;
    dest.features = self->features;
    dest.children = self->children;
    dest.roots = self->roots;
    dest.max_nodes = self->max_nodes;
    dest.max_trees = self->max_trees;
    dest.get_leaves = trees_leaves;
    dest.get_quant = trees_quant;
    dest.ctx = self;
    emlg_check(emlc_load_init(st, &dest), "load_model");
    for (;;) {
        size_t n = trees_read(stream, buf_obj, buf, CHUNK);
        if (n == 0) {
            break;
        }
        if (emlc_load_feed(st, buf, n) != EMLC_OK) {
            trees_load_error(st);
        }
    }
    emlc_trees_t model;
    if (emlc_load_finish(st, &model) != EMLC_OK) {
        trees_load_error(st);
    }
    /* scratch for one converted sample */
    if (self->scratch_features < model.n_features) {
        if (self->scratch) {
            m_free(self->scratch);
        }
        self->scratch = NULL;
        self->scratch_features = 0;
        self->scratch = m_malloc((size_t)model.n_features * 4);
        self->scratch_features = model.n_features;
    }
    m_free(st);
    self->model = model;
    self->loaded = true;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(trees_load_model_obj, trees_load_model);

static trees_obj_t *trees_ready(mp_obj_t self_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->loaded) {
        mp_raise_ValueError(MP_ERROR_TEXT("no model loaded: call emltrees.load_model first"));
    }
    return self;
}

/* int16 quantization of docs/model-format.md §1, in float32 as the host's emlmpy quantize():
 * u = (x - offset) * scale; q = floor(u + 0.5f), clamped to int16; NaN -> 0. */
static int16_t trees_quantize(float x, float scale, float offset) {
    float v = (x - offset) * scale + 0.5f;
    if (v != v) {
        return 0;
    }
    if (v <= -32768.0f) {
        return -32768;
    }
    if (v >= 32767.0f) {
        return 32767;
    }
    int32_t i = (int32_t)v; /* truncates toward zero; |v| < 2^15 here */
    if ((float)i > v) {
        i -= 1;
    }
    return (int16_t)i;
}

/* Sample i of `data` (typecode tc, n_features per sample) as the model's input type. */
static const void *trees_sample(trees_obj_t *self, const void *data, char tc, size_t i) {
    size_t nf = self->model.n_features;
    if (self->model.input == EMLC_INPUT_F32) {
        if (tc == 'f') {
            return (const float *)data + i * nf;
        }
        const int16_t *src = (const int16_t *)data + i * nf;
        float *dst = self->scratch;
        for (size_t j = 0; j < nf; j++) {
            dst[j] = (float)src[j];
        }
        return dst;
    }
    if (tc == 'h') {
        return (const int16_t *)data + i * nf;
    }
    const float *src = (const float *)data + i * nf;
    int16_t *dst = self->scratch;
    const float *scale = self->quant, *offset = self->quant + nf;
    for (size_t j = 0; j < nf; j++) {
        dst[j] = trees_quantize(src[j], scale[j], offset[j]);
    }
    return dst;
}

/* Input samples: array('f') or array('h'); returns the element count and typecode. */
static size_t trees_input(mp_obj_t obj, const void **data, char *tc) {
    mp_buffer_info_t bi;
    if (!mp_get_buffer(obj, &bi, MP_BUFFER_READ) || (bi.typecode != 'f' && bi.typecode != 'h')) {
        mp_raise_TypeError(MP_ERROR_TEXT("input must be array('f') or array('h')"));
    }
    *data = bi.buf;
    *tc = (char)bi.typecode;
    return bi.len / (bi.typecode == 'f' ? 4 : 2);
}

static mp_obj_t trees_predict(size_t n_args, const mp_obj_t *args) {
    trees_obj_t *self = trees_ready(args[0]);
    const void *data;
    char tc;
    size_t n = trees_input(args[1], &data, &tc);
    if (n != self->model.n_features) {
        emlg_msg_t m = {{0}, 0};
        emlg_str(&m, "input must have n_features=");
        emlg_int(&m, self->model.n_features);
        emlg_str(&m, " elements, not ");
        emlg_int(&m, (long)n);
        emlg_raise(&mp_type_ValueError, &m);
    }
    const void *x = trees_sample(self, data, tc, 0);
    if (self->model.leaf_kind == EMLC_LEAF_VALUE) {
        float v;
        emlg_check(emlc_trees_regress(&self->model, x, &v), "predict");
        return mp_obj_new_float(v);
    }
    if (n_args > 2 && args[2] != mp_const_none) {
        float *out;
        size_t n_out = emlg_array(args[2], 'f', true, "out", (void **)&out);
        if (n_out < self->model.n_outputs) {
            mp_raise_ValueError(MP_ERROR_TEXT("out must have at least outputs() elements"));
        }
        int32_t cls;
        emlg_check(emlc_trees_predict_proba(&self->model, x, out, n_out, &cls), "predict");
        return mp_obj_new_int(cls);
    }
    int32_t cls;
    emlg_check(emlc_trees_predict(&self->model, x, &cls), "predict");
    return mp_obj_new_int(cls);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(trees_predict_obj, 2, 3, trees_predict);

static mp_obj_t trees_predict_many(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    trees_obj_t *self = trees_ready(self_in);
    const void *data;
    char tc;
    size_t n = trees_input(x_in, &data, &tc);
    size_t nf = self->model.n_features;
    if (n % nf != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("X length must be a multiple of n_features"));
    }
    size_t n_samples = n / nf;
    mp_buffer_info_t bo;
    if (!mp_get_buffer(out_in, &bo, MP_BUFFER_WRITE)
        || (bo.typecode != 'f' && bo.typecode != 'i' && bo.typecode != 'h')) {
        mp_raise_TypeError(MP_ERROR_TEXT("out must be array('f'), array('i') or array('h')"));
    }
    size_t n_out = bo.len / emlg_itemsize(bo.typecode);
    if (n_out != n_samples) {
        mp_raise_ValueError(MP_ERROR_TEXT("out must have one element per sample"));
    }
    bool regress = self->model.leaf_kind == EMLC_LEAF_VALUE;
    for (size_t i = 0; i < n_samples; i++) {
        const void *x = trees_sample(self, data, tc, i);
        int32_t cls = 0;
        float v = 0.0f;
        int err = regress ? emlc_trees_regress(&self->model, x, &v) : emlc_trees_predict(&self->model, x, &cls);
        emlg_check(err, "predict_many");
        if (!regress) {
            v = (float)cls;
        } else {
            cls = (int32_t)v;
        }
        if (bo.typecode == 'f') {
            ((float *)bo.buf)[i] = v;
        } else if (bo.typecode == 'i') {
            ((int32_t *)bo.buf)[i] = cls;
        } else {
            ((int16_t *)bo.buf)[i] = (int16_t)cls;
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(trees_predict_many_obj, trees_predict_many);

static mp_obj_t trees_outputs(mp_obj_t self_in) {
    return mp_obj_new_int(trees_ready(self_in)->model.n_outputs);
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_outputs_obj, trees_outputs);

static mp_obj_t trees_n_features(mp_obj_t self_in) {
    return mp_obj_new_int(trees_ready(self_in)->model.n_features);
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_n_features_obj, trees_n_features);

static mp_obj_t trees_memory_fn(mp_obj_t self_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(trees_memory(self));
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_memory_obj, trees_memory_fn);

mp_map_elem_t trees_locals_table[5];
static MP_DEFINE_CONST_DICT(trees_locals, trees_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&trees_type, MP_QSTR_Model);
    emlg_method(&trees_locals_table[0], MP_QSTR_predict, &trees_predict_obj);
    emlg_method(&trees_locals_table[1], MP_QSTR_predict_many, &trees_predict_many_obj);
    emlg_method(&trees_locals_table[2], MP_QSTR_outputs, &trees_outputs_obj);
    emlg_method(&trees_locals_table[3], MP_QSTR_n_features, &trees_n_features_obj);
    emlg_method(&trees_locals_table[4], MP_QSTR_memory, &trees_memory_obj);
    MP_OBJ_TYPE_SET_SLOT(&trees_type, locals_dict, (void *)&trees_locals, 0);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&trees_new_obj));
    mp_store_global(MP_QSTR_load_model, MP_OBJ_FROM_PTR(&trees_load_model_obj));
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(&trees_type));

    MP_DYNRUNTIME_INIT_EXIT
}
