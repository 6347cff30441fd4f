/*
 * pymod, C half: a module that is C plus Python (pymod.py, merged into the same .mpy by the kit,
 * as MicroPython's `SRC += module.py`).  mpy_init runs first; the Python half's top-level code
 * then runs in the same module namespace and calls what is stored here.
 */
#include "py/dynruntime.h"

/* _dot(a, b): the dot product of two float32 buffers (array('f'), bytes of float32). */
static mp_obj_t dot(mp_obj_t a_in, mp_obj_t b_in) {
    mp_buffer_info_t a, b;
    mp_get_buffer_raise(a_in, &a, MP_BUFFER_READ);
    mp_get_buffer_raise(b_in, &b, MP_BUFFER_READ);
    if (a.len != b.len || a.len % sizeof(float)) {
        mp_raise_ValueError(MP_ERROR_TEXT("buffers of different length"));
    }
    const float *x = a.buf, *y = b.buf;
    float s = 0.0f;
    for (size_t i = 0; i < a.len / sizeof(float); i++) {
        s += x[i] * y[i];
    }
    return mp_obj_new_float(s);
}
static MP_DEFINE_CONST_FUN_OBJ_2(dot_obj, dot);

/* _clip(x, lo, hi): an int clipped to [lo, hi]. */
static mp_obj_t clip(mp_obj_t x_in, mp_obj_t lo_in, mp_obj_t hi_in) {
    mp_int_t x = mp_obj_get_int(x_in), lo = mp_obj_get_int(lo_in), hi = mp_obj_get_int(hi_in);
    return mp_obj_new_int(x < lo ? lo : x > hi ? hi : x);
}
static MP_DEFINE_CONST_FUN_OBJ_3(clip_obj, clip);

/* Acc: a native type the Python half subclasses; add(x) and value(). */
typedef struct _acc_obj_t {
    mp_obj_base_t base;
    mp_int_t total;
} acc_obj_t;

mp_obj_full_type_t pymod_acc_type; /* not static: bss is reached through the GOT */
mp_map_elem_t pymod_acc_locals_table[2];
static MP_DEFINE_CONST_DICT(pymod_acc_locals, pymod_acc_locals_table);

static mp_obj_t acc_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    acc_obj_t *self = mp_obj_malloc(acc_obj_t, type);
    self->total = n_args ? mp_obj_get_int(args[0]) : 0;
    return MP_OBJ_FROM_PTR(self);
}

/* The Acc inside `self` (also when it is an instance of a Python subclass). */
static acc_obj_t *acc_of(mp_obj_t self_in) {
    mp_obj_t native = mp_obj_cast_to_native_base(self_in, MP_OBJ_FROM_PTR(&pymod_acc_type));
    if (native == MP_OBJ_NULL) {
        mp_raise_TypeError(MP_ERROR_TEXT("not an Acc"));
    }
    return MP_OBJ_TO_PTR(native);
}

static mp_obj_t acc_add(mp_obj_t self_in, mp_obj_t x_in) {
    acc_of(self_in)->total += mp_obj_get_int(x_in);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(acc_add_obj, acc_add);

static mp_obj_t acc_value(mp_obj_t self_in) {
    return mp_obj_new_int(acc_of(self_in)->total);
}
static MP_DEFINE_CONST_FUN_OBJ_1(acc_value_obj, acc_value);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    pymod_acc_type.base.type = &mp_type_type;
    pymod_acc_type.name = MP_QSTR_Acc;
    MP_OBJ_TYPE_SET_SLOT(&pymod_acc_type, make_new, acc_make_new, 0);
    pymod_acc_locals_table[0] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_add), MP_OBJ_FROM_PTR(&acc_add_obj)};
    pymod_acc_locals_table[1] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_value), MP_OBJ_FROM_PTR(&acc_value_obj)};
    MP_OBJ_TYPE_SET_SLOT(&pymod_acc_type, locals_dict, &pymod_acc_locals, 1);
    mp_store_global(MP_QSTR_Acc, MP_OBJ_FROM_PTR(&pymod_acc_type));

    mp_store_global(MP_QSTR__dot, MP_OBJ_FROM_PTR(&dot_obj));
    mp_store_global(MP_QSTR__clip, MP_OBJ_FROM_PTR(&clip_obj));
    mp_store_global(MP_QSTR_C_VERSION, mp_obj_new_int(3));
    /* The Python half replaces this: it runs after mpy_init. */
    mp_store_global(MP_QSTR_who, MP_OBJ_NEW_QSTR(MP_QSTR_c));

    MP_DYNRUNTIME_INIT_EXIT
}
