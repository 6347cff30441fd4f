/*
 * testmod: exercises the native-module ABI of toolchain/include/py/dynruntime.h
 * (ints, floats, buffers, a class, exceptions, GC memory, streams, nlr,
 * static const data, bss globals, implicit memset/memcpy) for the toolchain
 * tests.  Built for every arch; run on the unix port for x64.
 */
#include "py/dynruntime.h"

/* ---- ints ---- */
static mp_obj_t add_ints(mp_obj_t a_in, mp_obj_t b_in) {
    return mp_obj_new_int(mp_obj_get_int(a_in) + mp_obj_get_int(b_in));
}
static MP_DEFINE_CONST_FUN_OBJ_2(add_ints_obj, add_ints);

/* Division with a C-level check: raises ValueError on zero (and uses the
   compiler's division helper on cores without a divide instruction). */
static mp_obj_t int_div(mp_obj_t a_in, mp_obj_t b_in) {
    mp_int_t a = mp_obj_get_int(a_in);
    mp_int_t b = mp_obj_get_int(b_in);
    if (b == 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("testmod: divide by zero"));
    }
    mp_obj_t items[2];
    items[0] = mp_obj_new_int(a / b);
    items[1] = mp_obj_new_int(a % b);
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_2(int_div_obj, int_div);

/* ---- floats ---- */
static mp_obj_t fmadd(mp_obj_t a_in, mp_obj_t b_in, mp_obj_t c_in) {
    mp_float_t a = mp_obj_get_float(a_in);
    mp_float_t b = mp_obj_get_float(b_in);
    mp_float_t c = mp_obj_get_float(c_in);
    return mp_obj_new_float(a * b + c);
}
static MP_DEFINE_CONST_FUN_OBJ_3(fmadd_obj, fmadd);

static mp_obj_t fdiv(mp_obj_t a_in, mp_obj_t b_in) {
    return mp_obj_new_float(mp_obj_get_float(a_in) / mp_obj_get_float(b_in));
}
static MP_DEFINE_CONST_FUN_OBJ_2(fdiv_obj, fdiv);

/* ---- buffers ---- */
/* Sum of the bytes of any object with the buffer protocol. */
static mp_obj_t buf_sum(mp_obj_t buf_in) {
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(buf_in, &bufinfo, MP_BUFFER_READ);
    const uint8_t *p = (const uint8_t *)bufinfo.buf;
    mp_uint_t sum = 0;
    for (size_t i = 0; i < bufinfo.len; i++) {
        sum += p[i];
    }
    return mp_obj_new_int_from_uint(sum);
}
static MP_DEFINE_CONST_FUN_OBJ_1(buf_sum_obj, buf_sum);

/* Multiply an array('f') in place by k; returns the number of elements. */
static mp_obj_t scale_f32(mp_obj_t buf_in, mp_obj_t k_in) {
    mp_buffer_info_t bufinfo;
    mp_get_buffer_raise(buf_in, &bufinfo, MP_BUFFER_RW);
    if (bufinfo.typecode != 'f') {
        mp_raise_TypeError(MP_ERROR_TEXT("expected array('f')"));
    }
    float k = (float)mp_obj_get_float(k_in);
    float *x = (float *)bufinfo.buf;
    size_t n = bufinfo.len / sizeof(float);
    for (size_t i = 0; i < n; i++) {
        x[i] = x[i] * k;
    }
    return mp_obj_new_int_from_uint(n);
}
static MP_DEFINE_CONST_FUN_OBJ_2(scale_f32_obj, scale_f32);

/* ---- static const data (rodata) and a bss global ---- */
static const int16_t squares[8] = {0, 1, 4, 9, 16, 25, 36, 49};
static mp_obj_t lookup(mp_obj_t i_in) {
    mp_int_t i = mp_obj_get_int(i_in);
    if (i < 0 || i >= (mp_int_t)MP_ARRAY_SIZE(squares)) {
        mp_raise_msg(&mp_type_IndexError, MP_ERROR_TEXT("testmod: index out of range"));
    }
    return mp_obj_new_int(squares[i]);
}
static MP_DEFINE_CONST_FUN_OBJ_1(lookup_obj, lookup);

int testmod_counter; /* bss, reached through the GOT */
static mp_obj_t bump(void) {
    testmod_counter += 1;
    return mp_obj_new_int(testmod_counter);
}
static MP_DEFINE_CONST_FUN_OBJ_0(bump_obj, bump);

/* Struct copy and zeroing: the compiler may emit memcpy/memset calls. */
typedef struct {
    int32_t v[24];
} big_t;
static mp_obj_t copy_fill(mp_obj_t n_in) {
    big_t a;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 24; i++) {
        a.v[i] = (int32_t)(i * mp_obj_get_int(n_in));
    }
    big_t b = a;
    int32_t s = 0;
    for (int i = 0; i < 24; i++) {
        s += b.v[i];
    }
    return mp_obj_new_int(s);
}
static MP_DEFINE_CONST_FUN_OBJ_1(copy_fill_obj, copy_fill);

/* ---- variable args and kw ---- */
static mp_obj_t sum_args(size_t n, const mp_obj_t *args) {
    mp_int_t s = 0;
    for (size_t i = 0; i < n; i++) {
        s += mp_obj_get_int(args[i]);
    }
    return mp_obj_new_int(s);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(sum_args_obj, 1, 4, sum_args);

/* ---- nlr: call f(), return (True, result) or (False, exception) ---- */
static mp_obj_t try_call(mp_obj_t f) {
    nlr_buf_t nlr;
    mp_obj_t items[2];
    if (nlr_push(&nlr) == 0) {
        mp_obj_t r = mp_call_function_0(f);
        nlr_pop();
        items[0] = mp_const_true;
        items[1] = r;
    } else {
        items[0] = mp_const_false;
        items[1] = MP_OBJ_FROM_PTR(nlr.ret_val);
    }
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_1(try_call_obj, try_call);

/* ---- stream: call stream.readinto(buf) from C, return (n, byte sum) ---- */
static mp_obj_t read_sum(mp_obj_t stream, mp_obj_t n_in) {
    mp_int_t n = mp_obj_get_int(n_in);
    uint8_t *mem = m_new(uint8_t, n);
    mp_obj_t buf = mp_obj_new_bytearray_by_ref(n, mem);
    mp_obj_t dest[3];
    mp_load_method(stream, MP_QSTR_readinto, dest);
    dest[2] = buf;
    mp_obj_t got = mp_call_method_n_kw(1, 0, dest);
    mp_int_t k = (got == mp_const_none) ? 0 : mp_obj_get_int(got);
    mp_uint_t sum = 0;
    for (mp_int_t i = 0; i < k; i++) {
        sum += mem[i];
    }
    mp_obj_t items[2];
    items[0] = mp_obj_new_int(k);
    items[1] = mp_obj_new_int_from_uint(sum);
    return mp_obj_new_tuple(2, items);
}
static MP_DEFINE_CONST_FUN_OBJ_2(read_sum_obj, read_sum);

/* ---- run-time exception class, constant objects, a viper function ---- */
mp_obj_full_type_t testmod_error_type;
static mp_obj_t fail(mp_obj_t code_in) {
    (void)code_in;
    mp_raise_msg((const mp_obj_type_t *)&testmod_error_type, MP_ERROR_TEXT("testmod failure"));
}
static MP_DEFINE_CONST_FUN_OBJ_1(fail_obj, fail);

static mp_obj_t consts(void) {
    mp_obj_t items[3];
    items[0] = mp_const_empty_bytes;
    items[1] = mp_const_empty_tuple;
    items[2] = mp_obj_new_bool(mp_obj_is_true(MP_OBJ_NEW_SMALL_INT(5)));
    return mp_obj_new_tuple(3, items);
}
static MP_DEFINE_CONST_FUN_OBJ_0(consts_obj, consts);

/* viper calling convention: (self, n_args, n_kw, args), no argument checking */
static mp_obj_t twice(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    (void)self;
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    return mp_obj_new_int(2 * mp_obj_get_int(args[0]));
}

/* ---- a class: Accum(n) owns a GC buffer of n int32 ---- */
typedef struct {
    mp_obj_base_t base;
    size_t n;
    int32_t *data; /* head pointer of a GC block: keeps it alive */
} accum_obj_t;

mp_obj_full_type_t accum_type;
mp_map_elem_t accum_locals_table[4];
static MP_DEFINE_CONST_DICT(accum_locals, accum_locals_table);

static mp_obj_t accum_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    mp_int_t n = mp_obj_get_int(args[0]);
    if (n <= 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("Accum: n must be positive"));
    }
    accum_obj_t *self = mp_obj_malloc(accum_obj_t, type);
    self->n = (size_t)n;
    self->data = m_new(int32_t, n);
    for (mp_int_t i = 0; i < n; i++) {
        self->data[i] = 0;
    }
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t accum_add(mp_obj_t self_in, mp_obj_t i_in, mp_obj_t v_in) {
    accum_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t i = mp_obj_get_int(i_in);
    if (i < 0 || (size_t)i >= self->n) {
        mp_raise_ValueError(MP_ERROR_TEXT("Accum: index out of range"));
    }
    self->data[i] += (int32_t)mp_obj_get_int(v_in);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(accum_add_obj, accum_add);

static mp_obj_t accum_get(mp_obj_t self_in, mp_obj_t i_in) {
    accum_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t i = mp_obj_get_int(i_in);
    if (i < 0 || (size_t)i >= self->n) {
        mp_raise_ValueError(MP_ERROR_TEXT("Accum: index out of range"));
    }
    return mp_obj_new_int(self->data[i]);
}
static MP_DEFINE_CONST_FUN_OBJ_2(accum_get_obj, accum_get);

static mp_obj_t accum_total(mp_obj_t self_in) {
    accum_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t s = 0;
    for (size_t i = 0; i < self->n; i++) {
        s += self->data[i];
    }
    return mp_obj_new_int(s);
}
static MP_DEFINE_CONST_FUN_OBJ_1(accum_total_obj, accum_total);

static mp_obj_t accum_len(mp_obj_t self_in) {
    accum_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(self->n);
}
static MP_DEFINE_CONST_FUN_OBJ_1(accum_len_obj, accum_len);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    mp_store_global(MP_QSTR_add_ints, MP_OBJ_FROM_PTR(&add_ints_obj));
    mp_store_global(MP_QSTR_int_div, MP_OBJ_FROM_PTR(&int_div_obj));
    mp_store_global(MP_QSTR_fmadd, MP_OBJ_FROM_PTR(&fmadd_obj));
    mp_store_global(MP_QSTR_fdiv, MP_OBJ_FROM_PTR(&fdiv_obj));
    mp_store_global(MP_QSTR_buf_sum, MP_OBJ_FROM_PTR(&buf_sum_obj));
    mp_store_global(MP_QSTR_scale_f32, MP_OBJ_FROM_PTR(&scale_f32_obj));
    mp_store_global(MP_QSTR_lookup, MP_OBJ_FROM_PTR(&lookup_obj));
    mp_store_global(MP_QSTR_bump, MP_OBJ_FROM_PTR(&bump_obj));
    mp_store_global(MP_QSTR_copy_fill, MP_OBJ_FROM_PTR(&copy_fill_obj));
    mp_store_global(MP_QSTR_sum_args, MP_OBJ_FROM_PTR(&sum_args_obj));
    mp_store_global(MP_QSTR_try_call, MP_OBJ_FROM_PTR(&try_call_obj));
    mp_store_global(MP_QSTR_read_sum, MP_OBJ_FROM_PTR(&read_sum_obj));
    mp_store_global(MP_QSTR_fail, MP_OBJ_FROM_PTR(&fail_obj));
    mp_store_global(MP_QSTR_consts, MP_OBJ_FROM_PTR(&consts_obj));
    mp_store_global(MP_QSTR_twice, MP_DYNRUNTIME_MAKE_FUNCTION(twice));
    mp_obj_exception_init(&testmod_error_type, MP_QSTR_TestError, &mp_type_ValueError);
    mp_store_global(MP_QSTR_TestError, MP_OBJ_FROM_PTR(&testmod_error_type));
    mp_store_global(MP_QSTR_pi_ish, mp_obj_new_float((mp_float_t)3.25));

    accum_type.base.type = &mp_type_type;
    accum_type.flags = MP_TYPE_FLAG_NONE;
    accum_type.name = MP_QSTR_Accum;
    MP_OBJ_TYPE_SET_SLOT(&accum_type, make_new, accum_make_new, 0);
    accum_locals_table[0] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_add), MP_OBJ_FROM_PTR(&accum_add_obj)};
    accum_locals_table[1] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_get), MP_OBJ_FROM_PTR(&accum_get_obj)};
    accum_locals_table[2] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_total), MP_OBJ_FROM_PTR(&accum_total_obj)};
    accum_locals_table[3] = (mp_map_elem_t){MP_OBJ_NEW_QSTR(MP_QSTR_size), MP_OBJ_FROM_PTR(&accum_len_obj)};
    MP_OBJ_TYPE_SET_SLOT(&accum_type, locals_dict, (void *)&accum_locals, 1);
    mp_store_global(MP_QSTR_Accum, MP_OBJ_FROM_PTR(&accum_type));

    MP_DYNRUNTIME_INIT_EXIT
}
