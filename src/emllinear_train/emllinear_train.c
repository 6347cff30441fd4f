/* emllinear_train: optional on-device training for emllinear's LinearModel (glue over
 * cores/emlc_linear_sgd.c): step(model, X, y, ...), train(model, X, y, epochs=1000, ...),
 * score_mse(model, X, y). A separate module so that a board that only predicts does not carry it
 * (docs/emllinear.md). Training allocates its scratch for the call: the L1 state q (n_features
 * floats) and a copy of coef and intercept, restored when training diverges.
 */
#include "emllinear/emllinear.h"

/* The model argument: a LinearModel (recognised by its type's name: emllinear's type object is
 * made at run time, so this module cannot refer to it). */
static lin_obj_t *lin_model(mp_obj_t obj) {
    if (mp_obj_get_type(obj)->name != MP_QSTR_LinearModel) {
        emlg_fail(MP_QSTR_TypeError, "model must be an emllinear.LinearModel");
    }
    return MP_OBJ_TO_PTR(obj);
}

/* X (samples) and y (array('f') of one target per sample) of a regressor with one output. */
static size_t lin_xy(lin_obj_t *self, mp_obj_t X_in, mp_obj_t y_in, const void **X, int *i16, const float **y) {
    size_t n;
    if (self->m.kind != EMLC_LINEAR_REGRESSOR || self->m.n_outputs != 1) {
        emlg_fail(MP_QSTR_ValueError, "needs a regressor with one output");
    }
    n = lin_samples(self, X_in, X, i16);
    *y = lin_floats(y_in, n, false, "y: array('f'), one per sample");
    if (n == 0) {
        emlg_fail(MP_QSTR_ValueError, "X must have at least one sample");
    }
    return n;
}

/* A float argument as float32 (the firmware's own conversion, as array('f') stores it). */
static float lin_arg_float(mp_obj_t obj, float dflt, bool positive, const char *msg) {
    float v = dflt;
    if (obj != MP_OBJ_NULL) {
        mp_fun_table.binary_set_val_array('f', &v, 0, obj);
    }
    /* finite and >= 0 (> 0 when positive) */
    if (emlc_linear_check(&v, 1) != EMLC_OK || emlc_linear_key(v) < (int32_t)positive) {
        emlg_fail(MP_QSTR_ValueError, msg);
    }
    return v;
}

/* step(model, X, y, ...) -> the mean loss of the pass; train(model, X, y, epochs=1000, ...) -> epochs run.
 * Keywords: learning_rate='invscaling' ('constant'), eta0=0.01, power_t=0.25, alpha=0.0001,
 * l1_ratio=0.0, tol=1e-3 (None: no stopping rule), n_iter_no_change=5 (train only). */
static mp_obj_t lin_fit(size_t n_args, const mp_obj_t *pos, mp_map_t *kw, bool train) {
    const qstr names[10] = {MP_QSTR_X, MP_QSTR_y, MP_QSTR_learning_rate, MP_QSTR_eta0, MP_QSTR_power_t,
                            MP_QSTR_alpha, MP_QSTR_l1_ratio, MP_QSTR_epochs, MP_QSTR_tol,
                            MP_QSTR_n_iter_no_change};
    mp_obj_t a[10];
    lin_obj_t *self = lin_model(pos[0]);
    emlc_linear_sgd_t s;
    const void *X;
    const float *y;
    int i16;
    emlg_args(n_args - 1, pos + 1, kw, names, train ? 10 : 7, a);
    if (a[0] == MP_OBJ_NULL || a[1] == MP_OBJ_NULL) {
        emlg_fail(MP_QSTR_TypeError, "X and y required");
    }
    size_t n = lin_xy(self, a[0], a[1], &X, &i16, &y), nf = self->m.n_features;
    s.invscaling = 1;
    if (a[2] != MP_OBJ_NULL) {
        /* whole-string equality (str == str); anything else, a bytes too, is refused */
        s.invscaling = mp_binary_op(MP_BINARY_OP_EQUAL, a[2], MP_OBJ_NEW_QSTR(MP_QSTR_invscaling)) == mp_const_true;
        if (!s.invscaling &&
            mp_binary_op(MP_BINARY_OP_EQUAL, a[2], MP_OBJ_NEW_QSTR(MP_QSTR_constant)) != mp_const_true) {
            emlg_fail(MP_QSTR_ValueError, "learning_rate must be 'invscaling' or 'constant'");
        }
    }
    s.eta0 = lin_arg_float(a[3], 0.01f, true, "eta0 must be > 0");
    s.power_t = lin_arg_float(a[4], 0.25f, false, "power_t must be >= 0");
    s.alpha = lin_arg_float(a[5], 0.0001f, false, "alpha must be >= 0");
    s.l1_ratio = lin_arg_float(a[6], 0.0f, false, "l1_ratio must be 0..1");
    if (emlc_linear_key(s.l1_ratio) > emlc_linear_key(1.0f)) {
        emlg_fail(MP_QSTR_ValueError, "l1_ratio must be 0..1");
    }
    uint32_t epochs = 1, count = 0, iter_no_change = 5, e;
    float tol = 1e-3f, best, loss = 0.0f, obj = 0.0f, u = 0.0f;
    if (train) {
        epochs = a[7] ? emlg_int_in(a[7], 1, 0x3fffffff, "epochs must be 1..2**30-1") : 1000;
        if (a[8] == mp_const_none) {
            tol = -1.0f;
        } else if (a[8]) {
            tol = lin_arg_float(a[8], 0.0f, false, "tol must be >= 0 or None");
        }
        if (a[9]) {
            iter_no_change = emlg_int_in(a[9], 1, 0x3fffffff, "n_iter_no_change must be 1..2**30-1");
        }
    }
    emlc_bits_t inf;
    inf.u = 0x7f800000u;
    best = inf.f;
    /* scratch: q (nf), then a copy of coef and intercept (nf + 1) */
    float *q = m_malloc((2 * nf + 1) * 4);
    memset(q, 0, nf * 4);
    memcpy(q + nf, self->m.coef, (nf + 1) * 4); /* coef then intercept: adjacent in the block */
    const uint32_t t0 = self->t;
    for (e = 0; e < epochs; e++) {
        if (emlc_linear_sgd_epoch(&self->m, &s, X, i16, y, n, q, &u, &self->t, &loss, &obj) != EMLC_OK) {
            memcpy(self->m.coef, q + nf, (nf + 1) * 4);
            self->t = t0;
            m_free(q);
            emlg_fail(MP_QSTR_ValueError, "diverged (float32 overflow); weights restored: lower eta0 or scale X");
        }
        if (train && emlc_linear_stop(obj, tol, n, iter_no_change, &best, &count)) {
            e++;
            break;
        }
    }
    m_free(q);
    if (train) {
        return mp_obj_new_int_from_uint(e);
    }
    return lin_float(loss / (float)(int32_t)n);
}

static mp_obj_t lin_step(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    return lin_fit(n_args, pos, kw, false);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lin_step_obj, 1, lin_step);

static mp_obj_t lin_train(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    return lin_fit(n_args, pos, kw, true);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(lin_train_obj, 1, lin_train);

/* score_mse(model, X, y): the float32 mean, (sum in sample order of (p - y)^2) / n */
static mp_obj_t lin_score_mse(mp_obj_t self_in, mp_obj_t X_in, mp_obj_t y_in) {
    lin_obj_t *self = lin_model(self_in);
    const void *X;
    const float *y;
    int i16;
    size_t n = lin_xy(self, X_in, y_in, &X, &i16, &y), i;
    float sum = 0.0f;
    for (i = 0; i < n; i++) {
        float p;
        const size_t at = i * self->m.n_features;
        if (emlc_linear_decision(&self->m, i16 ? (const void *)((const int16_t *)X + at)
                                               : (const void *)((const float *)X + at), i16, &p) != EMLC_OK) {
            emlg_fail(MP_QSTR_ValueError, "score overflow");
        }
        p = p - y[i];
        sum += p * p;
    }
    /* the squares' sum can overflow though every score is finite: the same error as a score */
    if (emlc_linear_check(&sum, 1) != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, "score overflow");
    }
    return lin_float(sum / (float)(int32_t)n);
}
static MP_DEFINE_CONST_FUN_OBJ_3(lin_score_mse_obj, lin_score_mse);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    mp_store_global(MP_QSTR_step, MP_OBJ_FROM_PTR(&lin_step_obj));
    mp_store_global(MP_QSTR_train, MP_OBJ_FROM_PTR(&lin_train_obj));
    mp_store_global(MP_QSTR_score_mse, MP_OBJ_FROM_PTR(&lin_score_mse_obj));

    MP_DYNRUNTIME_INIT_EXIT
}
