/*
 * compatmod: the names MicroPython's natmod sources use beyond py/dynruntime.h, reached through
 * the thin py/ headers only (no direct #include "py/dynruntime.h").  One function per API
 * area; tests_host/test_toolchain_compat.py runs it on the unix port and builds it for every arch.
 */
#include "py/runtime.h"
#include "py/obj.h"
#include "py/objtype.h"
#include "py/objarray.h"
#include "py/objstr.h"
#include "py/stream.h"
#include "py/binary.h"
#include "py/mperrno.h"
#include "py/misc.h"
#include "py/mpconfig.h"

/* ---- mp_obj_cast_to_native_base: a native type, a native type derived from it ---- */
typedef struct _base_obj_t {
    mp_obj_base_t base;
    mp_int_t value;
} base_obj_t;

typedef struct _derived_obj_t {
    base_obj_t parent;
    mp_int_t extra;
} derived_obj_t;

/* Not static: bss is reached through the GOT. */
mp_obj_full_type_t compat_base_type;
mp_obj_full_type_t compat_derived_type;

static mp_obj_t base_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 1, false);
    base_obj_t *self;
    if (type == (const mp_obj_type_t *)&compat_derived_type) {
        derived_obj_t *d = mp_obj_malloc(derived_obj_t, type);
        d->extra = 1;
        self = &d->parent;
    } else {
        self = mp_obj_malloc(base_obj_t, (const mp_obj_type_t *)&compat_base_type);
    }
    self->value = n_args ? mp_obj_get_int(args[0]) : 0;
    return MP_OBJ_FROM_PTR(self);
}

/* Whether `o` is a Base (or derives from it), as MicroPython's cast decides. */
static mp_obj_t is_base(mp_obj_t o) {
    return mp_obj_new_bool(mp_obj_cast_to_native_base(o, MP_OBJ_FROM_PTR(&compat_base_type)) != MP_OBJ_NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_1(is_base_obj, is_base);

/* The C-level value of the Base behind `o`; TypeError for anything else. */
static mp_obj_t base_value(mp_obj_t o) {
    mp_obj_t native = mp_obj_cast_to_native_base(o, MP_OBJ_FROM_PTR(&compat_base_type));
    if (native == MP_OBJ_NULL) {
        mp_raise_TypeError(MP_ERROR_TEXT("not a Base"));
    }
    base_obj_t *self = MP_OBJ_TO_PTR(native);
    return mp_obj_new_int(self->value);
}
static MP_DEFINE_CONST_FUN_OBJ_1(base_value_obj, base_value);

/* ---- streams: MP_STREAM_CLOSE, mp_stream_close, MP_EINVAL ---- */
typedef struct _closer_obj_t {
    mp_obj_base_t base;
    mp_int_t closed;
} closer_obj_t;

mp_obj_full_type_t compat_closer_type;

static mp_uint_t closer_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    (void)arg;
    closer_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (request == MP_STREAM_CLOSE) {
        self->closed += 1;
        return 0;
    }
    *errcode = MP_EINVAL;
    return MP_STREAM_ERROR;
}
static const mp_stream_p_t closer_stream_p = {NULL, NULL, closer_ioctl, 0};

static mp_obj_t closer_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    (void)args;
    mp_arg_check_num(n_args, n_kw, 0, 0, false);
    closer_obj_t *self = mp_obj_malloc(closer_obj_t, type);
    self->closed = 0;
    return MP_OBJ_FROM_PTR(self);
}

MP_DYNRUNTIME_DEFINE_STREAM_CLOSE;

static mp_obj_t closed_count(mp_obj_t self_in) {
    closer_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int(self->closed);
}
static MP_DEFINE_CONST_FUN_OBJ_1(closed_count_obj, closed_count);

/* An ioctl the stream refuses: the OSError carries its errno. */
static mp_obj_t flush(mp_obj_t stream) {
    const mp_stream_p_t *p = mp_get_stream(stream);
    int err = 0;
    if (p->ioctl(stream, MP_STREAM_FLUSH, 0, &err) == MP_STREAM_ERROR) {
        mp_raise_OSError(err);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(flush_obj, flush);

static mp_obj_t errnos(void) {
    mp_obj_t items[4] = {MP_OBJ_NEW_SMALL_INT(MP_EINVAL), MP_OBJ_NEW_SMALL_INT(MP_ENOENT),
                         MP_OBJ_NEW_SMALL_INT(MP_EAGAIN), MP_OBJ_NEW_SMALL_INT(MP_ETIMEDOUT)};
    return mp_obj_new_tuple(4, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(errnos_obj, errnos);

/* ---- exceptions: mp_raise_type_arg, mp_obj_new_exception_arg1 ---- */
static mp_obj_t raise_key(mp_obj_t key) {
    mp_raise_type_arg(&mp_type_KeyError, key);
}
static MP_DEFINE_CONST_FUN_OBJ_1(raise_key_obj, raise_key);

static mp_obj_t make_value_error(mp_obj_t arg) {
    return mp_obj_new_exception_arg1(&mp_type_ValueError, arg);
}
static MP_DEFINE_CONST_FUN_OBJ_1(make_value_error_obj, make_value_error);

/* ---- memory: m_new_obj_var / m_del_var, mp_local_alloc / mp_local_free ---- */
typedef struct _squares_t {
    mp_int_t n;
    int32_t items[];
} squares_t;

static mp_obj_t var_squares(mp_obj_t n_in) {
    mp_int_t n = mp_obj_get_int(n_in);
    squares_t *sq = m_new_obj_var(squares_t, items, int32_t, n);
    sq->n = n;
    for (mp_int_t i = 0; i < n; i++) {
        sq->items[i] = (int32_t)(i * i);
    }
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (mp_int_t i = 0; i < sq->n; i++) {
        mp_obj_list_append(list, mp_obj_new_int(sq->items[i]));
    }
    m_del_var(squares_t, items, int32_t, n, sq);
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_1(var_squares_obj, var_squares);

/* Reverses a bytes-like object through a scratch buffer on the C stack. */
static mp_obj_t local_reverse(mp_obj_t data_in) {
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(data_in, &bufinfo, MP_BUFFER_READ);
    byte *tmp = mp_local_alloc(bufinfo.len + 1);
    for (size_t i = 0; i < bufinfo.len; i++) {
        tmp[i] = ((const byte *)bufinfo.buf)[bufinfo.len - 1 - i];
    }
    mp_obj_t out = mp_obj_new_bytes(tmp, bufinfo.len);
    mp_local_free(tmp);
    return out;
}
static MP_DEFINE_CONST_FUN_OBJ_1(local_reverse_obj, local_reverse);

/* ---- floats: mp_float_union_t, MP_FLOAT_EXP_BITS / MP_FLOAT_FRAC_BITS ---- */
static mp_obj_t float_parts(mp_obj_t x_in) {
    mp_float_union_t u = {mp_obj_get_float(x_in)};
    mp_obj_t items[5] = {
        mp_obj_new_int(u.p.sgn), mp_obj_new_int((mp_int_t)u.p.exp),
        mp_obj_new_int_from_uint((mp_uint_t)(u.p.frc >> (MP_FLOAT_FRAC_BITS > 32 ? 21 : 0))),
        MP_OBJ_NEW_SMALL_INT(MP_FLOAT_EXP_BITS), MP_OBJ_NEW_SMALL_INT(MP_FLOAT_FRAC_BITS),
    };
    return mp_obj_new_tuple(5, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(float_parts_obj, float_parts);

/* ---- misc: uint, MP_FALLTHROUGH, arrays (py/objarray.h) ---- */
/* Duff-style count: n % 4 + ... via fall-through cases. */
static mp_obj_t fall(mp_obj_t n_in) {
    uint n = (uint)mp_obj_get_int(n_in);
    uint steps = 0;
    switch (n & 3) {
        case 3:
            steps += 100;
            MP_FALLTHROUGH
        case 2:
            steps += 10;
            MP_FALLTHROUGH
        case 1:
            steps += 1;
            break;
        default:
            break;
    }
    return mp_obj_new_int_from_uint(steps);
}
static MP_DEFINE_CONST_FUN_OBJ_1(fall_obj, fall);

/* (typecode, len, free) of an array.array or bytearray, read from the object itself. */
static mp_obj_t array_fields(mp_obj_t a_in) {
    const mp_obj_type_t *t = mp_obj_get_type(a_in);
    if (t != &mp_type_bytearray && t != (const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_attr(
            mp_import_name(MP_QSTR_array, mp_const_none, MP_OBJ_NEW_SMALL_INT(0)), MP_QSTR_array))) {
        mp_raise_TypeError(MP_ERROR_TEXT("expected array or bytearray"));
    }
    mp_obj_array_t *a = MP_OBJ_TO_PTR(a_in);
    mp_obj_t items[3] = {mp_obj_new_int(a->typecode), mp_obj_new_int_from_uint(a->len),
                         mp_obj_new_int_from_uint(a->free)};
    return mp_obj_new_tuple(3, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(array_fields_obj, array_fields);

mp_map_elem_t compat_closer_locals_table[2];
static MP_DEFINE_CONST_DICT(compat_closer_locals, compat_closer_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    compat_base_type.base.type = &mp_type_type;
    compat_base_type.name = MP_QSTR_Base;
    MP_OBJ_TYPE_SET_SLOT(&compat_base_type, make_new, base_make_new, 0);
    mp_store_global(MP_QSTR_Base, MP_OBJ_FROM_PTR(&compat_base_type));

    /* A native type whose parent is Base: its objects start with a Base. */
    compat_derived_type.base.type = &mp_type_type;
    compat_derived_type.name = MP_QSTR_Derived;
    MP_OBJ_TYPE_SET_SLOT(&compat_derived_type, make_new, base_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&compat_derived_type, parent, &compat_base_type, 1);
    mp_store_global(MP_QSTR_Derived, MP_OBJ_FROM_PTR(&compat_derived_type));

    compat_closer_type.base.type = &mp_type_type;
    compat_closer_type.name = MP_QSTR_Closer;
    MP_OBJ_TYPE_SET_SLOT(&compat_closer_type, make_new, closer_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&compat_closer_type, protocol, &closer_stream_p, 1);
    compat_closer_locals_table[0] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_close), MP_OBJ_FROM_PTR(&mp_stream_close_obj)};
    compat_closer_locals_table[1] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_closed), MP_OBJ_FROM_PTR(&closed_count_obj)};
    MP_OBJ_TYPE_SET_SLOT(&compat_closer_type, locals_dict, &compat_closer_locals, 2);
    mp_store_global(MP_QSTR_Closer, MP_OBJ_FROM_PTR(&compat_closer_type));

    mp_store_global(MP_QSTR_is_base, MP_OBJ_FROM_PTR(&is_base_obj));
    mp_store_global(MP_QSTR_base_value, MP_OBJ_FROM_PTR(&base_value_obj));
    mp_store_global(MP_QSTR_stream_close, MP_OBJ_FROM_PTR(&mp_stream_close_obj));
    mp_store_global(MP_QSTR_flush, MP_OBJ_FROM_PTR(&flush_obj));
    mp_store_global(MP_QSTR_errnos, MP_OBJ_FROM_PTR(&errnos_obj));
    mp_store_global(MP_QSTR_raise_key, MP_OBJ_FROM_PTR(&raise_key_obj));
    mp_store_global(MP_QSTR_make_value_error, MP_OBJ_FROM_PTR(&make_value_error_obj));
    mp_store_global(MP_QSTR_var_squares, MP_OBJ_FROM_PTR(&var_squares_obj));
    mp_store_global(MP_QSTR_local_reverse, MP_OBJ_FROM_PTR(&local_reverse_obj));
    mp_store_global(MP_QSTR_float_parts, MP_OBJ_FROM_PTR(&float_parts_obj));
    mp_store_global(MP_QSTR_fall, MP_OBJ_FROM_PTR(&fall_obj));
    mp_store_global(MP_QSTR_array_fields, MP_OBJ_FROM_PTR(&array_fields_obj));

    MP_DYNRUNTIME_INIT_EXIT
}
