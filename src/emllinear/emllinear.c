/* emllinear: linear models, inference and SGD training (glue over cores/emlc_linear).
 *
 * LinearModel(n_features, n_outputs=1, kind='regressor') (also new(...)), load(stream);
 * .predict(x, out=None), .decision_function(x, out=None), .predict_proba(x, out), .coef(out),
 * .set_coef(a), .intercept(out), .set_intercept(a); training is the optional module emllinear_train.
 * See stubs/emllinear.pyi and docs/emllinear.md.
 * The weights live in one GC block held by the object: coef (n_outputs * n_features floats), then
 * intercept (n_outputs floats), then the class labels (n_classes int32) of a classifier: the layout
 * of the model file's payload, which load reads straight into it. */
#include "emllinear.h"

mp_obj_full_type_t lin_type;

/* A new model with its block allocated (weights zero, classes 0..n_classes-1). */
static lin_obj_t *lin_alloc(emlc_linear_kind_t kind, size_t nf, size_t no) {
    lin_obj_t *self = mp_obj_malloc(lin_obj_t, (mp_obj_type_t *)&lin_type);
    /* nf, no <= 65535 and nf * no <= 2^26 (checked by the callers): the byte count fits */
    size_t nw = nf * no + no, nc = kind == EMLC_LINEAR_REGRESSOR ? 0 : no == 1 ? 2 : no;
    float *block = m_malloc((nw + nc) * 4);
    int32_t *classes = (int32_t *)(block + nw);
    memset(block, 0, nw * 4);
    for (size_t i = 0; i < nc; i++) {
        classes[i] = (int32_t)i;
    }
    self->t = 1;
    if (emlc_linear_init(&self->m, kind, nf, no, block, block + nw - no, classes) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "classifier: n_outputs 1 or >= 3");
    }
    return self;
}

/* new(n_features, n_outputs=1, kind='regressor'): kind 'regressor', 'classifier', 'logistic', 'ovr' */
static mp_obj_t lin_new(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    static const char kinds[4][12] = {"regressor", "classifier", "logistic", "ovr"};
    const qstr names[3] = {MP_QSTR_n_features, MP_QSTR_n_outputs, MP_QSTR_kind};
    mp_obj_t args[3];
    size_t kind = 0;
    emlg_args(n_args, pos, kw, names, 3, args);
    if (args[0] == MP_OBJ_NULL) {
        emlg_fail(MP_QSTR_TypeError, "n_features required");
    }
    size_t nf = emlg_int_in(args[0], 1, 65535, "n_features, n_outputs: 1..65535");
    size_t no = args[1] ? emlg_int_in(args[1], 1, 65535, "n_features, n_outputs: 1..65535") : 1;
    if (nf * no > (1u << 26)) {
        emlg_fail(MP_QSTR_ValueError, "model too large");
    }
    if (args[2] != MP_OBJ_NULL) {
        size_t len = 0, i;
        const char *s = mp_obj_is_str(args[2]) ? mp_obj_str_get_data(args[2], &len) : NULL;
        if (!s) {
            emlg_fail(MP_QSTR_TypeError, "kind: 'regressor', 'classifier', 'logistic' or 'ovr'");
        }
        for (kind = 0; kind < 4; kind++) {
            for (i = 0; i < len && kinds[kind][i] == s[i]; i++) {
            }
            if (i == len && kinds[kind][i] == '\0') {
                break;
            }
        }
        if (kind == 4) {
            emlg_fail(MP_QSTR_ValueError, "kind: 'regressor', 'classifier', 'logistic' or 'ovr'");
        }
    }
    return MP_OBJ_FROM_PTR(lin_alloc((emlc_linear_kind_t)kind, nf, no));
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lin_new_obj, 0, lin_new);
EMLG_MAKE_NEW_VIA(lin_make_new, lin_new_obj)

/* ValueError "offset N: reason" for a bad model file */
static __attribute__((noreturn)) void lin_bad(uint32_t where, const char *reason) {
    EMLG_FAIL_AT("offset %d: %s", where, reason);
}

/* load(stream): a model file (docs/model-format.md, linear models): the 12-byte header
 * "EMLL", version 1, kind, n_features, n_outputs (uint16 LE), 0 (uint16); then coef, intercept
 * (float32 LE, finite) and, for a classifier, the class labels (int32 LE); nothing after. */
static mp_obj_t lin_load(mp_obj_t stream) {
    uint8_t h[12];
    size_t got = emlg_read(stream, h, 12), i;
    if (got < 12) {
        lin_bad(got, "file too short");
    }
    if (h[0] != 'E' || h[1] != 'M' || h[2] != 'L' || h[3] != 'L') {
        lin_bad(0, "bad magic (not EMLL)");
    }
    if (h[4] != 1) {
        lin_bad(4, "bad version");
    }
    if (h[5] > EMLC_LINEAR_OVR) {
        lin_bad(5, "bad kind");
    }
    size_t nf = h[6] | (size_t)h[7] << 8, no = h[8] | (size_t)h[9] << 8;
    if (nf == 0) {
        lin_bad(6, "bad n_features");
    }
    if (no == 0 || (h[5] != EMLC_LINEAR_REGRESSOR && no == 2)) {
        lin_bad(8, "bad n_outputs");
    }
    if (nf * no > (1u << 26)) {
        lin_bad(6, "model too large");
    }
    if (h[10] | h[11]) {
        lin_bad(10, "reserved not 0");
    }
    lin_obj_t *self = lin_alloc((emlc_linear_kind_t)h[5], nf, no);
    size_t nw = nf * no + no, n = (nw + emlc_linear_n_classes(&self->m)) * 4;
    got = emlg_read(stream, (uint8_t *)self->m.coef, n);
    if (got < n) {
        lin_bad(12 + got, "file too short");
    }
    for (i = 0; i < nw; i++) {
        if (emlc_linear_check(self->m.coef + i, 1) != EMLC_OK) {
            lin_bad(12 + 4 * i, "not finite");
        }
    }
    if (emlg_read(stream, h, 1) != 0) {
        lin_bad(12 + n, "data after the end");
    }
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(lin_load_obj, lin_load);

/* The scores of one sample x into the caller's n_outputs floats; `out` (out_bytes long: the
 * caller's out array, if any) must not share memory with x. */
static void lin_scores(lin_obj_t *self, mp_obj_t x_in, float *scores, const void *out, size_t out_bytes) {
    const void *x;
    int i16;
    if (lin_samples(self, x_in, &x, &i16) != 1) {
        emlg_fail(MP_QSTR_ValueError, "x: n_features values");
    }
    emlg_apart(x, (size_t)self->m.n_features << (i16 ? 1 : 2), out, out_bytes, "out must not share memory with x");
    if (emlc_linear_decision(&self->m, x, i16, scores) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "score overflow");
    }
}

/* decision_function(x, out=None) and predict(x, out=None): with out (array('f') of n_outputs) the
 * scores (a regressor's predictions) are written there; without, one score is returned as a float
 * (n_outputs 1) and a classifier's predict returns its class label. */
static mp_obj_t lin_run(size_t n_args, const mp_obj_t *args, bool predict) {
    lin_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    const size_t no = self->m.n_outputs;
    float one, *scores = &one;
    bool cls = predict && self->m.kind != EMLC_LINEAR_REGRESSOR;
    if (n_args > 2 && args[2] != mp_const_none) {
        if (cls) {
            emlg_fail(MP_QSTR_TypeError, "classifier: no out");
        }
        scores = lin_floats(args[2], no, true, "out: array('f') of n_outputs");
    } else if (no != 1 && !cls) {
        emlg_fail(MP_QSTR_TypeError, "out: array('f') of n_outputs");
    }
    if (cls && no != 1) {
        scores = m_malloc(no * 4);
    }
    lin_scores(self, args[1], scores, scores, scores == &one ? 0 : no * 4);
    if (cls) {
        mp_obj_t label = mp_obj_new_int(self->m.classes[emlc_linear_class(&self->m, scores)]);
        if (scores != &one) {
            m_free(scores);
        }
        return label;
    }
    return scores == &one ? lin_float(one) : mp_const_none;
}

static mp_obj_t lin_predict(size_t n_args, const mp_obj_t *args) {
    return lin_run(n_args, args, true);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lin_predict_obj, 2, 3, lin_predict);

static mp_obj_t lin_decision(size_t n_args, const mp_obj_t *args) {
    return lin_run(n_args, args, false);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(lin_decision_obj, 2, 3, lin_decision);

/* predict_proba(x, out): out array('f') of n_classes */
static mp_obj_t lin_predict_proba(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    lin_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->m.kind < EMLC_LINEAR_LOGISTIC) {
        emlg_fail(MP_QSTR_TypeError, "no predict_proba for this kind");
    }
    float *proba = lin_floats(out_in, emlc_linear_n_classes(&self->m), true, "out: array('f') of n_classes");
    float *scores = m_malloc(self->m.n_outputs * 4);
    lin_scores(self, x_in, scores, proba, emlc_linear_n_classes(&self->m) * 4);
    emlc_linear_proba(&self->m, scores, proba);
    m_free(scores);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(lin_predict_proba_obj, lin_predict_proba);

/* coef(out), intercept(out), set_coef(a), set_intercept(a): copies between the weights and an
 * array('f') of n_outputs * n_features (coef) or n_outputs (intercept) */
static mp_obj_t lin_copy(mp_obj_t self_in, mp_obj_t arr, bool coef, bool set) {
    lin_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t n = self->m.n_outputs * (coef ? self->m.n_features : 1);
    float *w = coef ? self->m.coef : self->m.intercept;
    float *a = lin_floats(arr, n, !set, coef ? "coef: array('f'), n_outputs*n_features"
                                             : "intercept: array('f'), n_outputs");
    memcpy(set ? w : a, set ? a : w, n * 4);
    return mp_const_none;
}
static mp_obj_t lin_coef(mp_obj_t s, mp_obj_t a) {
    return lin_copy(s, a, true, false);
}
static MP_DEFINE_CONST_FUN_OBJ_2(lin_coef_obj, lin_coef);
static mp_obj_t lin_set_coef(mp_obj_t s, mp_obj_t a) {
    return lin_copy(s, a, true, true);
}
static MP_DEFINE_CONST_FUN_OBJ_2(lin_set_coef_obj, lin_set_coef);
static mp_obj_t lin_intercept(mp_obj_t s, mp_obj_t a) {
    return lin_copy(s, a, false, false);
}
static MP_DEFINE_CONST_FUN_OBJ_2(lin_intercept_obj, lin_intercept);
static mp_obj_t lin_set_intercept(mp_obj_t s, mp_obj_t a) {
    return lin_copy(s, a, false, true);
}
static MP_DEFINE_CONST_FUN_OBJ_2(lin_set_intercept_obj, lin_set_intercept);

static const emlg_def_t lin_methods[7] = {
    {&MP_QSTR_predict, &lin_predict_obj}, {&MP_QSTR_decision_function, &lin_decision_obj},
    {&MP_QSTR_predict_proba, &lin_predict_proba_obj}, {&MP_QSTR_coef, &lin_coef_obj},
    {&MP_QSTR_set_coef, &lin_set_coef_obj}, {&MP_QSTR_intercept, &lin_intercept_obj},
    {&MP_QSTR_set_intercept, &lin_set_intercept_obj}};
mp_map_elem_t lin_locals_table[7];
static MP_DEFINE_CONST_DICT(lin_locals, lin_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    emlg_type(&lin_type, MP_QSTR_LinearModel);
    emlg_methods(lin_locals_table, lin_methods, 7);
    MP_OBJ_TYPE_SET_SLOT(&lin_type, make_new, lin_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&lin_type, locals_dict, (void *)&lin_locals, 1);

    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&lin_new_obj));
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&lin_load_obj));
    mp_store_global(MP_QSTR_LinearModel, MP_OBJ_FROM_PTR(&lin_type));

    MP_DYNRUNTIME_INIT_EXIT
}
