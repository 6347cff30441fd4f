/*
 * dynruntime.h -- the native-module ABI of MicroPython 1.23 .. 1.29 (.mpy 6.3),
 * written for this project's own toolchain (mpyld).
 *
 * A dynamic native module is position-independent machine code with no access
 * to firmware symbols except through one table, mp_fun_table, whose address
 * the loader patches in.  Everything below either describes a firmware data
 * layout (struct offsets are ABI) or wraps a table slot.  Public names follow
 * MicroPython's native-module API so existing natmod sources build unchanged.
 *
 * Freestanding: only stdint/stddef/stdbool/stdarg/limits/float headers.
 *
 * One file on purpose (over 1,000 lines): the whole ABI a module sees, so that every layout and
 * slot is checked against one source (tests_host/test_toolchain_abi.py); the thin headers that
 * natmod sources include (py/runtime.h, py/stream.h, ...) all include this one.
 *
 * Invariants a module relies on:
 *  - objects use MicroPython's "REPR_A" small-int tag (bit 0 set), but
 *    qstr objects, None/True/False and floats are only ever built or tested
 *    through mp_fun_table, so the same code runs on REPR_C firmware (ESP8266);
 *  - floats cross the firmware boundary through memory (slots 70/71 with the
 *    'f'/'d' typecode), never in registers, so the firmware float ABI
 *    (soft, softfp, hard) does not matter;
 *  - qstr numbers come from the generated per-module header (MP_CONFIGFILE,
 *    made by `python -m mpyld qstrs`): static qstrs are constants, others are
 *    read from mp_native_qstr_table at run time.
 */
#ifndef MPYLD_PY_DYNRUNTIME_H
#define MPYLD_PY_DYNRUNTIME_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>
#include <limits.h>

#define MICROPY_ENABLE_DYNRUNTIME (1)

#ifdef MP_CONFIGFILE
#include MP_CONFIGFILE
#endif

/* Static qstrs this header uses (fixed numbers in every firmware 1.23+); the
   generated per-module header defines the same values. */
#ifndef MP_QSTR_int
#define MP_QSTR_int (94)
#endif
#ifndef MP_QSTR_bytes
#define MP_QSTR_bytes (66)
#endif
#ifndef MP_QSTR_bytearray
#define MP_QSTR_bytearray (64)
#endif
#ifndef MP_QSTR_BaseException
#define MP_QSTR_BaseException (33)
#endif
#ifndef MP_QSTR_AssertionError
#define MP_QSTR_AssertionError (31)
#endif
#ifndef MP_QSTR_AttributeError
#define MP_QSTR_AttributeError (32)
#endif
#ifndef MP_QSTR_EOFError
#define MP_QSTR_EOFError (34)
#endif
#ifndef MP_QSTR_IndexError
#define MP_QSTR_IndexError (40)
#endif
#ifndef MP_QSTR_KeyError
#define MP_QSTR_KeyError (41)
#endif
#ifndef MP_QSTR_MemoryError
#define MP_QSTR_MemoryError (44)
#endif
#ifndef MP_QSTR_NotImplementedError
#define MP_QSTR_NotImplementedError (47)
#endif
#ifndef MP_QSTR_OSError
#define MP_QSTR_OSError (48)
#endif
#ifndef MP_QSTR_OverflowError
#define MP_QSTR_OverflowError (49)
#endif
#ifndef MP_QSTR_RuntimeError
#define MP_QSTR_RuntimeError (50)
#endif
#ifndef MP_QSTR_StopIteration
#define MP_QSTR_StopIteration (51)
#endif
#ifndef MP_QSTR_TypeError
#define MP_QSTR_TypeError (54)
#endif
#ifndef MP_QSTR_ValueError
#define MP_QSTR_ValueError (55)
#endif
#ifndef MP_QSTR_ZeroDivisionError
#define MP_QSTR_ZeroDivisionError (56)
#endif

/* ---------------------------------------------------------------------- */
/* Configuration                                                           */

#define MICROPY_FLOAT_IMPL_NONE (0)
#define MICROPY_FLOAT_IMPL_FLOAT (1)
#define MICROPY_FLOAT_IMPL_DOUBLE (2)

#ifndef MICROPY_FLOAT_IMPL
#if defined(__x86_64__) || defined(__i386__)
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_DOUBLE)
#else
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#endif
#endif

#if MICROPY_FLOAT_IMPL == MICROPY_FLOAT_IMPL_DOUBLE
typedef double mp_float_t;
#define MP_FLOAT_TYPECODE 'd'
#define MICROPY_PY_BUILTINS_FLOAT (1)
#elif MICROPY_FLOAT_IMPL == MICROPY_FLOAT_IMPL_FLOAT
typedef float mp_float_t;
#define MP_FLOAT_TYPECODE 'f'
#define MICROPY_PY_BUILTINS_FLOAT (1)
#else
#define MICROPY_PY_BUILTINS_FLOAT (0)
#endif

/* The bits of an mp_float_t (py/misc.h): IEEE 754 binary64 or binary32, little-endian, so
   the fraction is the low field.  Bit-fields wider than int are a GCC/clang extension. */
#if MICROPY_PY_BUILTINS_FLOAT
#if MICROPY_FLOAT_IMPL == MICROPY_FLOAT_IMPL_DOUBLE
#define MP_FLOAT_EXP_BITS (11)
#define MP_FLOAT_EXP_OFFSET (1023)
#define MP_FLOAT_FRAC_BITS (52)
typedef uint64_t mp_float_uint_t;
#else
#define MP_FLOAT_EXP_BITS (8)
#define MP_FLOAT_EXP_OFFSET (127)
#define MP_FLOAT_FRAC_BITS (23)
typedef uint32_t mp_float_uint_t;
#endif
#define MP_FLOAT_EXP_BIAS ((1 << (MP_FLOAT_EXP_BITS - 1)) - 1)
__extension__ typedef union _mp_float_union_t {
    mp_float_t f;
    struct {
        mp_float_uint_t frc : MP_FLOAT_FRAC_BITS;
        mp_float_uint_t exp : MP_FLOAT_EXP_BITS;
        mp_float_uint_t sgn : 1;
    } p;
    mp_float_uint_t i;
} mp_float_union_t;
#endif

#define MICROPY_ERROR_REPORTING_NONE (0)
#define MICROPY_ERROR_REPORTING_TERSE (1)
#define MICROPY_ERROR_REPORTING_NORMAL (2)
#define MICROPY_ERROR_REPORTING_DETAILED (3)
#ifndef MICROPY_ERROR_REPORTING
#define MICROPY_ERROR_REPORTING (MICROPY_ERROR_REPORTING_NORMAL)
#endif

/* ---------------------------------------------------------------------- */
/* Basic types and helpers                                                 */

typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef uintptr_t mp_off_t;
typedef unsigned char byte;
typedef size_t qstr;
typedef uint16_t qstr_short_t;
typedef void *mp_obj_t;
typedef const void *mp_const_obj_t;
typedef mp_const_obj_t mp_rom_obj_t;
typedef const char *mp_rom_error_text_t;

#define BYTES_PER_WORD (sizeof(mp_uint_t))
#define MP_BITS_PER_BYTE (8)
#define MP_SMALL_INT_BITS (sizeof(mp_int_t) * 8 - 1)

#ifndef NORETURN
#define NORETURN __attribute__((noreturn))
#endif
#ifndef MP_UNLIKELY
#define MP_UNLIKELY(x) __builtin_expect((x), 0)
#endif
#ifndef MP_LIKELY
#define MP_LIKELY(x) __builtin_expect((x), 1)
#endif
#ifndef MP_INLINE
#define MP_INLINE inline
#endif
#ifndef STATIC
#define STATIC static
#endif
#define MP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(x, y) ((x) < (y) ? (x) : (y))
#endif
#ifndef MAX
#define MAX(x, y) ((x) > (y) ? (x) : (y))
#endif
#define MP_ERROR_TEXT(x) (x)

/* Compiler and helper macros of py/mpconfig.h and py/misc.h (same meaning, GCC/clang forms). */
typedef unsigned int uint;
#ifndef MP_NORETURN
#define MP_NORETURN __attribute__((noreturn))
#endif
#ifndef MP_WEAK
#define MP_WEAK __attribute__((weak))
#endif
#ifndef MP_NOINLINE
#define MP_NOINLINE __attribute__((noinline))
#endif
#ifndef MP_ALWAYSINLINE
#define MP_ALWAYSINLINE __attribute__((always_inline))
#endif
#ifndef MP_UNREACHABLE
#define MP_UNREACHABLE __builtin_unreachable();
#endif
/* A `case` that falls into the next one on purpose (keeps -Wimplicit-fallthrough quiet). */
#ifndef MP_FALLTHROUGH
#if defined(__GNUC__) && __GNUC__ >= 7
#define MP_FALLTHROUGH __attribute__((fallthrough));
#else
#define MP_FALLTHROUGH
#endif
#endif
#define MP_STRINGIFY_HELPER(x) #x
#define MP_STRINGIFY(x) MP_STRINGIFY_HELPER(x)
#define MP_STATIC_ASSERT(cond) ((void)sizeof(char[1 - 2 * !(cond)]))
#define MP_CEIL_DIVIDE(a, b) (((a) + (b) - 1) / (b))
#define MP_ROUND_DIVIDE(a, b) (((a) + (b) / 2) / (b))
#define MP_BYTES_PER_OBJ_WORD (sizeof(mp_uint_t))
#define MP_OBJ_WORD_MSBIT_HIGH (((mp_uint_t)1) << (MP_BYTES_PER_OBJ_WORD * MP_BITS_PER_BYTE - 1))
/* Every arch this kit builds for is little-endian. */
#define MP_ENDIANNESS_LITTLE (1)
#define MP_ENDIANNESS_BIG (0)
#define MP_INT_MAX INTPTR_MAX
#define MP_INT_MIN INTPTR_MIN
#define MP_SSIZE_MAX ((mp_int_t)(((mp_uint_t)-1) >> 1))

/* Release-build sentinels (not valid objects). */
#define MP_OBJ_NULL ((mp_obj_t)(void *)0)
#define MP_OBJ_STOP_ITERATION ((mp_obj_t)(void *)0)
#define MP_OBJ_SENTINEL ((mp_obj_t)(void *)4)

/* Small ints: value << 1 | 1 (identical on REPR_A and REPR_C). */
#define mp_obj_is_small_int(o) ((((mp_int_t)(o)) & 1) != 0)
#define MP_OBJ_SMALL_INT_VALUE(o) (((mp_int_t)(o)) >> 1)
#define MP_OBJ_NEW_SMALL_INT(v) ((mp_obj_t)((((mp_uint_t)(v)) << 1) | 1))
/* n fits if its top two bits are equal (unsigned arithmetic: no undefined shifts). */
#define MP_SMALL_INT_FITS(n) \
    (((((mp_uint_t)(n)) ^ (((mp_uint_t)(n)) << 1)) & ((mp_uint_t)1 << (sizeof(mp_uint_t) * 8 - 1))) == 0)
/* Heap object pointers have the two low bits clear (REPR_A and REPR_C). */
#define mp_obj_is_obj(o) ((((mp_int_t)(o)) & 3) == 0)

#define MP_OBJ_TO_PTR(o) ((void *)(o))
#define MP_OBJ_FROM_PTR(p) ((mp_obj_t)(p))
#define MP_ROM_INT(i) MP_OBJ_NEW_SMALL_INT(i)
#define MP_ROM_PTR(p) (p)
/* A qstr object's value is only known at run time: not usable in static data. */
#define MP_ROM_QSTR(q) MP_OBJ_NEW_QSTR(q)

extern const uint16_t mp_native_qstr_table[];
extern const mp_obj_t mp_native_obj_table[];

/* ---------------------------------------------------------------------- */
/* Object and type layouts (ABI)                                           */

typedef struct _mp_obj_type_t mp_obj_type_t;

typedef struct _mp_obj_base_t {
    const mp_obj_type_t *type;
} mp_obj_base_t;

typedef struct _mp_print_t mp_print_t;
typedef void (*mp_print_strn_t)(void *data, const char *str, size_t len);
struct _mp_print_t {
    void *data;
    mp_print_strn_t print_strn;
};

typedef enum {
    PRINT_STR = 0,
    PRINT_REPR = 1,
    PRINT_EXC = 2,
    PRINT_JSON = 3,
    PRINT_RAW = 4,
    PRINT_EXC_SUBCLASS = 0x80,
} mp_print_kind_t;

typedef struct _mp_map_elem_t {
    mp_obj_t key;
    mp_obj_t value;
} mp_map_elem_t;

typedef struct _mp_rom_map_elem_t {
    mp_rom_obj_t key;
    mp_rom_obj_t value;
} mp_rom_map_elem_t;

/*
 * mp_map_t: the first word is a bit-field {all_keys_are_qstrs:1, is_fixed:1,
 * is_ordered:1, used:rest} in the firmware; it is kept as one word here
 * (ISO C99 has no size_t bit-fields) with accessor macros.
 */
typedef struct _mp_map_t {
    size_t info;
    size_t alloc;
    mp_map_elem_t *table;
} mp_map_t;
#define MP_MAP_INFO(used, qstr_keys, fixed, ordered) \
    ((((size_t)(used)) << 3) | ((ordered) ? 4u : 0u) | ((fixed) ? 2u : 0u) | ((qstr_keys) ? 1u : 0u))
#define mp_map_used(m) ((m)->info >> 3)

typedef struct _mp_obj_dict_t {
    mp_obj_base_t base;
    mp_map_t map;
} mp_obj_dict_t;

typedef struct _mp_obj_module_t {
    mp_obj_base_t base;
    mp_obj_dict_t *globals;
} mp_obj_module_t;

typedef struct _mp_module_constants_t {
    qstr_short_t *qstr_table;
    mp_obj_t *obj_table;
} mp_module_constants_t;

typedef struct _mp_module_context_t {
    mp_obj_module_t module;
    mp_module_constants_t constants;
} mp_module_context_t;

typedef struct _mp_obj_fun_bc_t {
    mp_obj_base_t base;
    const mp_module_context_t *context;
    void *const *child_table;
    const byte *bytecode;
} mp_obj_fun_bc_t;

/* What MP_DYNRUNTIME_MAKE_FUNCTION hands to make_function_from_proto_fun. */
typedef struct _mp_raw_code_truncated_t {
    uint8_t proto_fun_indicator[2]; /* must be 0, 0 */
    uint8_t kind;                   /* MP_CODE_NATIVE_VIPER */
    uint8_t is_generator;
    const void *fun_data;
    void *children;
} mp_raw_code_truncated_t;
#define MP_CODE_NATIVE_VIPER (4)

typedef struct _mp_obj_tuple_t {
    mp_obj_base_t base;
    size_t len;
    mp_obj_t items[];
} mp_obj_tuple_t;

typedef struct _mp_obj_list_t {
    mp_obj_base_t base;
    size_t alloc;
    size_t len;
    mp_obj_t *items;
} mp_obj_list_t;

typedef struct _mp_obj_str_t {
    mp_obj_base_t base;
    size_t hash;
    size_t len;
    const byte *data;
} mp_obj_str_t;

typedef struct _mp_obj_iter_buf_t {
    mp_obj_base_t base;
    mp_obj_t buf[3];
} mp_obj_iter_buf_t;

typedef struct _mp_buffer_info_t {
    void *buf;
    size_t len;
    int typecode;
} mp_buffer_info_t;
#define MP_BUFFER_READ (1)
#define MP_BUFFER_WRITE (2)
#define MP_BUFFER_RW (MP_BUFFER_READ | MP_BUFFER_WRITE)
#define MP_BUFFER_RAISE_IF_UNSUPPORTED (4)
#define BYTEARRAY_TYPECODE (1)

typedef mp_obj_t (*mp_fun_0_t)(void);
typedef mp_obj_t (*mp_fun_1_t)(mp_obj_t);
typedef mp_obj_t (*mp_fun_2_t)(mp_obj_t, mp_obj_t);
typedef mp_obj_t (*mp_fun_3_t)(mp_obj_t, mp_obj_t, mp_obj_t);
typedef mp_obj_t (*mp_fun_var_t)(size_t n, const mp_obj_t *);
typedef mp_obj_t (*mp_fun_kw_t)(size_t n, const mp_obj_t *, mp_map_t *);

typedef mp_obj_t (*mp_make_new_fun_t)(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args);
typedef void (*mp_print_fun_t)(const mp_print_t *print, mp_obj_t o, mp_print_kind_t kind);
typedef mp_obj_t (*mp_call_fun_t)(mp_obj_t fun, size_t n_args, size_t n_kw, const mp_obj_t *args);
typedef mp_obj_t (*mp_unary_op_fun_t)(int op, mp_obj_t);
typedef mp_obj_t (*mp_binary_op_fun_t)(int op, mp_obj_t, mp_obj_t);
typedef void (*mp_attr_fun_t)(mp_obj_t self_in, qstr attr, mp_obj_t *dest);
typedef mp_obj_t (*mp_subscr_fun_t)(mp_obj_t self_in, mp_obj_t index, mp_obj_t value);
typedef mp_obj_t (*mp_getiter_fun_t)(mp_obj_t self_in, mp_obj_iter_buf_t *iter_buf);
typedef mp_obj_t (*mp_fun_iternext_t)(mp_obj_t self_in);
typedef mp_int_t (*mp_buffer_fun_t)(mp_obj_t obj, mp_buffer_info_t *bufinfo, mp_uint_t flags);

typedef struct _mp_getiter_iternext_custom_t {
    mp_getiter_fun_t getiter;
    mp_fun_iternext_t iternext;
} mp_getiter_iternext_custom_t;

/* Type flags. */
#define MP_TYPE_FLAG_NONE (0x0000)
#define MP_TYPE_FLAG_IS_SUBCLASSED (0x0001)
#define MP_TYPE_FLAG_HAS_SPECIAL_ACCESSORS (0x0002)
#define MP_TYPE_FLAG_EQ_NOT_REFLEXIVE (0x0004)
#define MP_TYPE_FLAG_EQ_CHECKS_OTHER_TYPE (0x0008)
#define MP_TYPE_FLAG_EQ_HAS_NEQ_TEST (0x0010)
#define MP_TYPE_FLAG_BINDS_SELF (0x0020)
#define MP_TYPE_FLAG_BUILTIN_FUN (0x0040)
#define MP_TYPE_FLAG_ITER_IS_GETITER (0x0000)
#define MP_TYPE_FLAG_ITER_IS_ITERNEXT (0x0080)
#define MP_TYPE_FLAG_ITER_IS_CUSTOM (0x0100)
#define MP_TYPE_FLAG_ITER_IS_STREAM (MP_TYPE_FLAG_ITER_IS_ITERNEXT | MP_TYPE_FLAG_ITER_IS_CUSTOM)
#define MP_TYPE_FLAG_INSTANCE_TYPE (0x0200)
#define MP_TYPE_FLAG_SUBSCR_ALLOWS_STACK_SLICE (0x0400)

/*
 * A type: a header with one byte per optional slot kind holding "index + 1"
 * of the pointer in slots[] (0 = absent), then the slots themselves.
 */
#define MP_OBJ_TYPE_HEADER \
    mp_obj_base_t base; \
    uint16_t flags; \
    uint16_t name; \
    uint8_t slot_index_make_new; \
    uint8_t slot_index_print; \
    uint8_t slot_index_call; \
    uint8_t slot_index_unary_op; \
    uint8_t slot_index_binary_op; \
    uint8_t slot_index_attr; \
    uint8_t slot_index_subscr; \
    uint8_t slot_index_iter; \
    uint8_t slot_index_buffer; \
    uint8_t slot_index_protocol; \
    uint8_t slot_index_parent; \
    uint8_t slot_index_locals_dict;

struct _mp_obj_type_t {
    MP_OBJ_TYPE_HEADER
    const void *slots[];
};

/* Room for every slot kind but one, as in the firmware. */
typedef struct _mp_obj_full_type_t {
    MP_OBJ_TYPE_HEADER
    const void *slots[11];
} mp_obj_full_type_t;

#define MP_OBJ_TYPE_HAS_SLOT(t, f) ((t)->slot_index_##f != 0)
#define MP_OBJ_TYPE_GET_SLOT(t, f) ((t)->slots[(t)->slot_index_##f - 1])
#define MP_OBJ_TYPE_GET_SLOT_OR_NULL(t, f) (MP_OBJ_TYPE_HAS_SLOT(t, f) ? MP_OBJ_TYPE_GET_SLOT(t, f) : NULL)
/* __extension__: storing a function pointer in a void* slot is what the ABI does. */
#define MP_OBJ_TYPE_SET_SLOT(t, f, v, n) ((t)->slot_index_##f = (uint8_t)((n) + 1), (t)->slots[(n)] = __extension__(const void *)(v))
#define MP_OBJ_TYPE_OFFSETOF_SLOT(f) (offsetof(mp_obj_type_t, slot_index_##f))

/* Builtin function objects. */
typedef struct _mp_obj_fun_builtin_fixed_t {
    mp_obj_base_t base;
    union {
        mp_fun_0_t _0;
        mp_fun_1_t _1;
        mp_fun_2_t _2;
        mp_fun_3_t _3;
    } fun;
} mp_obj_fun_builtin_fixed_t;

typedef struct _mp_obj_fun_builtin_var_t {
    mp_obj_base_t base;
    uint32_t sig; /* (n_args_min << 17) | (n_args_max << 1) | takes_kw */
    union {
        mp_fun_var_t var;
        mp_fun_kw_t kw;
    } fun;
} mp_obj_fun_builtin_var_t;

#define MP_OBJ_FUN_ARGS_MAX (0xffff)
#define MP_OBJ_FUN_MAKE_SIG(n_args_min, n_args_max, takes_kw) \
    ((uint32_t)((((uint32_t)(n_args_min)) << 17) | (((uint32_t)(n_args_max)) << 1) | ((takes_kw) ? 1 : 0)))

/* Streams. */
typedef struct _mp_stream_p_t {
    mp_uint_t (*read)(mp_obj_t obj, void *buf, mp_uint_t size, int *errcode);
    mp_uint_t (*write)(mp_obj_t obj, const void *buf, mp_uint_t size, int *errcode);
    mp_uint_t (*ioctl)(mp_obj_t obj, mp_uint_t request, uintptr_t arg, int *errcode);
    mp_uint_t is_text; /* bit 0 */
} mp_stream_p_t;
#define MP_STREAM_ERROR ((mp_uint_t)-1)
#define MP_STREAM_OP_READ (1)
#define MP_STREAM_OP_WRITE (2)
#define MP_STREAM_OP_IOCTL (4)
/* ioctl requests (py/stream.h); the firmware passes these numbers to a stream's ioctl. */
#define MP_STREAM_FLUSH (1)
#define MP_STREAM_SEEK (2)
#define MP_STREAM_POLL (3)
#define MP_STREAM_CLOSE (4)
#define MP_STREAM_TIMEOUT (5)
#define MP_STREAM_GET_OPTS (6)
#define MP_STREAM_SET_OPTS (7)
#define MP_STREAM_GET_DATA_OPTS (8)
#define MP_STREAM_SET_DATA_OPTS (9)
#define MP_STREAM_GET_FILENO (10)
#define MP_STREAM_GET_BUFFER_SIZE (11)
#define MP_STREAM_POLL_RD (0x0001)
#define MP_STREAM_POLL_WR (0x0004)
#define MP_STREAM_POLL_ERR (0x0008)
#define MP_STREAM_POLL_HUP (0x0010)
#define MP_STREAM_POLL_NVAL (0x0020)
/* The argument of MP_STREAM_SEEK: offset in, new position out; whence as in lseek. */
struct mp_stream_seek_t {
    mp_off_t offset;
    int whence;
};
#define MP_SEEK_SET (0)
#define MP_SEEK_CUR (1)
#define MP_SEEK_END (2)

/* Argument parsing. */
typedef enum {
    MP_ARG_BOOL = 0x001,
    MP_ARG_INT = 0x002,
    MP_ARG_OBJ = 0x003,
    MP_ARG_KIND_MASK = 0x0ff,
    MP_ARG_REQUIRED = 0x100,
    MP_ARG_KW_ONLY = 0x200,
} mp_arg_flag_t;

typedef union _mp_arg_val_t {
    bool u_bool;
    mp_int_t u_int;
    mp_obj_t u_obj;
    mp_rom_obj_t u_rom_obj;
} mp_arg_val_t;

typedef struct _mp_arg_t {
    uint16_t qst;
    uint16_t flags;
    mp_arg_val_t defval;
} mp_arg_t;

/* Exception-unwinding buffer.  regs[] is large enough for every native nlr
   flavour and for the jmp_buf of setjmp-based firmware (slot 49). */
#ifndef MPYLD_NLR_REGS_WORDS
#define MPYLD_NLR_REGS_WORDS (40)
#endif
typedef struct _nlr_buf_t nlr_buf_t;
struct _nlr_buf_t {
    nlr_buf_t *prev;
    void *ret_val;
    void *regs[MPYLD_NLR_REGS_WORDS];
};

/* Operators. */
typedef enum {
    MP_UNARY_OP_POSITIVE,
    MP_UNARY_OP_NEGATIVE,
    MP_UNARY_OP_INVERT,
    MP_UNARY_OP_NOT,
    MP_UNARY_OP_BOOL,
    MP_UNARY_OP_LEN,
    MP_UNARY_OP_HASH,
    MP_UNARY_OP_ABS,
    MP_UNARY_OP_INT_MAYBE,
    MP_UNARY_OP_FLOAT_MAYBE,
    MP_UNARY_OP_COMPLEX_MAYBE,
    MP_UNARY_OP_SIZEOF,
} mp_unary_op_t;

typedef enum {
    MP_BINARY_OP_LESS,
    MP_BINARY_OP_MORE,
    MP_BINARY_OP_EQUAL,
    MP_BINARY_OP_LESS_EQUAL,
    MP_BINARY_OP_MORE_EQUAL,
    MP_BINARY_OP_NOT_EQUAL,
    MP_BINARY_OP_IN,
    MP_BINARY_OP_IS,
    MP_BINARY_OP_EXCEPTION_MATCH,
    MP_BINARY_OP_INPLACE_OR,
    MP_BINARY_OP_INPLACE_XOR,
    MP_BINARY_OP_INPLACE_AND,
    MP_BINARY_OP_INPLACE_LSHIFT,
    MP_BINARY_OP_INPLACE_RSHIFT,
    MP_BINARY_OP_INPLACE_ADD,
    MP_BINARY_OP_INPLACE_SUBTRACT,
    MP_BINARY_OP_INPLACE_MULTIPLY,
    MP_BINARY_OP_INPLACE_MAT_MULTIPLY,
    MP_BINARY_OP_INPLACE_FLOOR_DIVIDE,
    MP_BINARY_OP_INPLACE_TRUE_DIVIDE,
    MP_BINARY_OP_INPLACE_MODULO,
    MP_BINARY_OP_INPLACE_POWER,
    MP_BINARY_OP_OR,
    MP_BINARY_OP_XOR,
    MP_BINARY_OP_AND,
    MP_BINARY_OP_LSHIFT,
    MP_BINARY_OP_RSHIFT,
    MP_BINARY_OP_ADD,
    MP_BINARY_OP_SUBTRACT,
    MP_BINARY_OP_MULTIPLY,
    MP_BINARY_OP_MAT_MULTIPLY,
    MP_BINARY_OP_FLOOR_DIVIDE,
    MP_BINARY_OP_TRUE_DIVIDE,
    MP_BINARY_OP_MODULO,
    MP_BINARY_OP_POWER,
    MP_BINARY_OP_DIVMOD,
    MP_BINARY_OP_CONTAINS,
} mp_binary_op_t;

/* Native value kinds for slots 3/4. */
#define MP_NATIVE_TYPE_OBJ (0x00)
#define MP_NATIVE_TYPE_BOOL (0x01)
#define MP_NATIVE_TYPE_INT (0x02)
#define MP_NATIVE_TYPE_UINT (0x03)
#define MP_NATIVE_TYPE_PTR (0x04)
#define MP_NATIVE_TYPE_PTR8 (0x05)
#define MP_NATIVE_TYPE_PTR16 (0x06)
#define MP_NATIVE_TYPE_PTR32 (0x07)
#define MP_NATIVE_TYPE_QSTR (0x08)

/* ---------------------------------------------------------------------- */
/* mp_fun_table: 87 pointer-sized entries, order is ABI (py/nativeglue.h). */

typedef struct _mp_fun_table_t {
    mp_const_obj_t const_none;                                                            /* 0 */
    mp_const_obj_t const_false;                                                           /* 1 */
    mp_const_obj_t const_true;                                                            /* 2 */
    mp_uint_t (*native_from_obj)(mp_obj_t obj, mp_uint_t type);                           /* 3 */
    mp_obj_t (*native_to_obj)(mp_uint_t val, mp_uint_t type);                             /* 4 */
    mp_obj_dict_t *(*swap_globals)(mp_obj_dict_t *new_globals);                           /* 5 */
    mp_obj_t (*load_name)(qstr qst);                                                      /* 6 */
    mp_obj_t (*load_global)(qstr qst);                                                    /* 7 */
    mp_obj_t (*load_build_class)(void);                                                   /* 8 */
    mp_obj_t (*load_attr)(mp_obj_t base, qstr attr);                                      /* 9 */
    void (*load_method)(mp_obj_t base, qstr attr, mp_obj_t *dest);                        /* 10 */
    void (*load_super_method)(qstr attr, mp_obj_t *dest);                                 /* 11 */
    void (*store_name)(qstr qst, mp_obj_t obj);                                           /* 12 */
    void (*store_global)(qstr qst, mp_obj_t obj);                                         /* 13 */
    void (*store_attr)(mp_obj_t base, qstr attr, mp_obj_t val);                           /* 14 */
    mp_obj_t (*obj_subscr)(mp_obj_t base, mp_obj_t index, mp_obj_t val);                  /* 15 */
    bool (*obj_is_true)(mp_obj_t arg);                                                    /* 16 */
    mp_obj_t (*unary_op)(mp_unary_op_t op, mp_obj_t arg);                                 /* 17 */
    mp_obj_t (*binary_op)(mp_binary_op_t op, mp_obj_t lhs, mp_obj_t rhs);                 /* 18 */
    mp_obj_t (*new_tuple)(size_t n, const mp_obj_t *items);                               /* 19 */
    mp_obj_t (*new_list)(size_t n, mp_obj_t *items);                                      /* 20 */
    mp_obj_t (*new_dict)(size_t n_args);                                                  /* 21 */
    mp_obj_t (*new_set)(size_t n_args, mp_obj_t *items);                                  /* 22 */
    void (*set_store)(mp_obj_t self_in, mp_obj_t item);                                   /* 23 */
    mp_obj_t (*list_append)(mp_obj_t self_in, mp_obj_t arg);                              /* 24 */
    mp_obj_t (*dict_store)(mp_obj_t self_in, mp_obj_t key, mp_obj_t value);               /* 25 */
    mp_obj_t (*make_function_from_proto_fun)(const void *proto_fun,
        const mp_module_context_t *cm, const mp_obj_t *def_args);                         /* 26 */
    mp_obj_t (*call_function_n_kw)(mp_obj_t fun_in, size_t n_args_kw, const mp_obj_t *args); /* 27 */
    mp_obj_t (*call_method_n_kw)(size_t n_args, size_t n_kw, const mp_obj_t *args);       /* 28 */
    mp_obj_t (*call_method_n_kw_var)(bool have_self, size_t n_args_n_kw, const mp_obj_t *args); /* 29 */
    mp_obj_t (*getiter)(mp_obj_t obj, mp_obj_iter_buf_t *iter);                           /* 30 */
    mp_obj_t (*iternext)(mp_obj_iter_buf_t *iter);                                        /* 31 */
    unsigned int (*nlr_push)(nlr_buf_t *);                                                /* 32 */
    void (*nlr_pop)(void);                                                                /* 33 */
    void (*raise)(mp_obj_t o);                                                            /* 34 */
    mp_obj_t (*import_name)(qstr name, mp_obj_t fromlist, mp_obj_t level);                /* 35 */
    mp_obj_t (*import_from)(mp_obj_t module, qstr name);                                  /* 36 */
    void (*import_all)(mp_obj_t module);                                                  /* 37 */
    mp_obj_t (*new_slice)(mp_obj_t start, mp_obj_t stop, mp_obj_t step);                  /* 38 */
    void (*unpack_sequence)(mp_obj_t seq, size_t num, mp_obj_t *items);                   /* 39 */
    void (*unpack_ex)(mp_obj_t seq, size_t num, mp_obj_t *items);                         /* 40 */
    void (*delete_name)(qstr qst);                                                        /* 41 */
    void (*delete_global)(qstr qst);                                                      /* 42 */
    mp_obj_t (*new_closure)(mp_obj_t fun, size_t n_closed_over, const mp_obj_t *closed);  /* 43 */
    void (*arg_check_num_sig)(size_t n_args, size_t n_kw, uint32_t sig);                  /* 44 */
    void (*setup_code_state_native)(void *code_state, size_t n_args, size_t n_kw,
        const mp_obj_t *args);                                                            /* 45 */
    mp_int_t (*small_int_floor_divide)(mp_int_t num, mp_int_t denom);                     /* 46 */
    mp_int_t (*small_int_modulo)(mp_int_t dividend, mp_int_t divisor);                    /* 47 */
    bool (*yield_from)(mp_obj_t gen, mp_obj_t send_value, mp_obj_t *ret_value);           /* 48 */
    int (*setjmp_)(void *env); /* NULL unless the firmware's nlr is setjmp-based */          /* 49 */
    void *(*memset_)(void *s, int c, size_t n);                                           /* 50 */
    void *(*memmove_)(void *dest, const void *src, size_t n);                             /* 51 */
    void *(*realloc_)(void *ptr, size_t n_bytes, bool allow_move);                        /* 52 */
    int (*printf_)(const mp_print_t *print, const char *fmt, ...);                        /* 53 */
    int (*vprintf_)(const mp_print_t *print, const char *fmt, va_list args);              /* 54 */
    void (*raise_msg)(const mp_obj_type_t *exc_type, mp_rom_error_text_t msg);            /* 55 */
    const mp_obj_type_t *(*obj_get_type)(mp_const_obj_t o_in);                            /* 56 */
    mp_obj_t (*obj_new_str)(const char *data, size_t len);                                /* 57 */
    mp_obj_t (*obj_new_bytes)(const byte *data, size_t len);                              /* 58 */
    mp_obj_t (*obj_new_bytearray_by_ref)(size_t n, void *items);                          /* 59 */
    mp_obj_t (*obj_new_float_from_f)(float f);                                            /* 60 */
    mp_obj_t (*obj_new_float_from_d)(double d);                                           /* 61 */
    float (*obj_get_float_to_f)(mp_obj_t o);                                              /* 62 */
    double (*obj_get_float_to_d)(mp_obj_t o);                                             /* 63 */
    void (*load_method_maybe)(mp_obj_t base, qstr attr, mp_obj_t *dest);                  /* 64 */
    bool (*get_buffer)(mp_obj_t obj, mp_buffer_info_t *bufinfo, mp_uint_t flags);         /* 65 */
    const mp_stream_p_t *(*get_stream_raise)(mp_obj_t self_in, int flags);                /* 66 */
    void (*arg_parse_all)(size_t n_pos, const mp_obj_t *pos, mp_map_t *kws, size_t n_allowed,
        const mp_arg_t *allowed, mp_arg_val_t *out_vals);                                 /* 67 */
    void (*arg_parse_all_kw_array)(size_t n_pos, size_t n_kw, const mp_obj_t *args,
        size_t n_allowed, const mp_arg_t *allowed, mp_arg_val_t *out_vals);               /* 68 */
    size_t (*binary_get_size)(char struct_type, char val_type, size_t *palign);           /* 69 */
    mp_obj_t (*binary_get_val_array)(char typecode, void *p, size_t index);               /* 70 */
    void (*binary_set_val_array)(char typecode, void *p, size_t index, mp_obj_t val_in);  /* 71 */
    const mp_print_t *plat_print;                                                         /* 72 */
    const mp_obj_type_t *type_type;                                                       /* 73 */
    const mp_obj_type_t *type_str;                                                        /* 74 */
    const mp_obj_type_t *type_list;                                                       /* 75 */
    const mp_obj_type_t *type_dict;                                                       /* 76 */
    const mp_obj_type_t *type_fun_builtin_0;                                              /* 77 */
    const mp_obj_type_t *type_fun_builtin_1;                                              /* 78 */
    const mp_obj_type_t *type_fun_builtin_2;                                              /* 79 */
    const mp_obj_type_t *type_fun_builtin_3;                                              /* 80 */
    const mp_obj_type_t *type_fun_builtin_var;                                            /* 81 */
    const mp_obj_type_t *type_Exception;                                                  /* 82 */
    const mp_obj_fun_builtin_var_t *stream_read_obj;                                      /* 83 */
    const mp_obj_fun_builtin_var_t *stream_readinto_obj;                                  /* 84 */
    const mp_obj_fun_builtin_var_t *stream_unbuffered_readline_obj;                       /* 85 */
    const mp_obj_fun_builtin_var_t *stream_write_obj;                                     /* 86 */
} mp_fun_table_t;

extern const mp_fun_table_t mp_fun_table;

/*
 * Firmware objects a module may take the address of, also in static data.
 * mpyld resolves these symbols to the value of the matching table slot
 * (73..86), so &mp_type_type is the real type object.
 */
extern const mp_obj_type_t mp_type_type;
extern const mp_obj_type_t mp_type_str;
extern const mp_obj_type_t mp_type_list;
extern const mp_obj_type_t mp_type_dict;
extern const mp_obj_type_t mp_type_fun_builtin_0;
extern const mp_obj_type_t mp_type_fun_builtin_1;
extern const mp_obj_type_t mp_type_fun_builtin_2;
extern const mp_obj_type_t mp_type_fun_builtin_3;
extern const mp_obj_type_t mp_type_fun_builtin_var;
extern const mp_obj_type_t mp_type_Exception;
extern const mp_obj_fun_builtin_var_t mp_stream_read_obj;
extern const mp_obj_fun_builtin_var_t mp_stream_readinto_obj;
extern const mp_obj_fun_builtin_var_t mp_stream_unbuffered_readline_obj;
extern const mp_obj_fun_builtin_var_t mp_stream_write_obj;

/* Byte functions: calls are resolved by mpyld to slots 50/51 unless the
   module defines them itself. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dest, const void *src, size_t n);
void *memmove(void *dest, const void *src, size_t n);

/* Start of the module's bss/rodata block (defined by mpyld). */
extern char mpyld_data_start[];

/* ---------------------------------------------------------------------- */
/* Constants and object construction                                       */

#define mp_const_none ((mp_obj_t)mp_fun_table.const_none)
#define mp_const_false ((mp_obj_t)mp_fun_table.const_false)
#define mp_const_true ((mp_obj_t)mp_fun_table.const_true)
#define mp_const_empty_tuple (mp_fun_table.new_tuple(0, NULL))
#define mp_const_empty_bytes (mp_fun_table.obj_new_bytes((const byte *)"", 0))
#define mp_obj_new_bool(b) ((b) ? mp_const_true : mp_const_false)

#define MP_OBJ_NEW_QSTR(qst) (mp_fun_table.native_to_obj((mp_uint_t)(qst), MP_NATIVE_TYPE_QSTR))
#define mp_obj_new_int(i) (mp_fun_table.native_to_obj((mp_uint_t)(i), MP_NATIVE_TYPE_INT))
#define mp_obj_new_int_from_uint(i) (mp_fun_table.native_to_obj((mp_uint_t)(i), MP_NATIVE_TYPE_UINT))
#define mp_obj_new_str(data, len) (mp_fun_table.obj_new_str((data), (len)))
#define mp_obj_new_str_of_type(t, data, len) ((t) == &mp_type_bytes \
    ? mp_fun_table.obj_new_bytes((const byte *)(data), (len)) : mp_fun_table.obj_new_str((const char *)(data), (len)))
#define mp_obj_new_bytes(data, len) (mp_fun_table.obj_new_bytes((data), (len)))
#define mp_obj_new_bytearray_by_ref(n, i) (mp_fun_table.obj_new_bytearray_by_ref((n), (i)))
#define mp_obj_new_tuple(n, items) (mp_fun_table.new_tuple((n), (items)))
#define mp_obj_new_list(n, items) (mp_fun_table.new_list((n), (items)))
#define mp_obj_new_dict(n) (mp_fun_table.new_dict((n)))
#define mp_obj_list_append(l, o) (mp_fun_table.list_append((l), (o)))
#define mp_obj_dict_store(d, k, v) (mp_fun_table.dict_store((d), (k), (v)))

#define mp_obj_get_type(o) (mp_fun_table.obj_get_type((o)))
#define mp_obj_get_int(o) ((mp_int_t)mp_fun_table.native_from_obj((o), MP_NATIVE_TYPE_INT))
#define mp_obj_get_int_truncated(o) ((mp_int_t)mp_fun_table.native_from_obj((o), MP_NATIVE_TYPE_UINT))
#define mp_obj_is_true(o) (mp_fun_table.obj_is_true((o)))
#define mp_obj_len(o) (mp_fun_table.unary_op(MP_UNARY_OP_LEN, (o)))
#define mp_obj_subscr(base, index, val) (mp_fun_table.obj_subscr((base), (index), (val)))
#define mp_obj_is_type(o, t) (mp_obj_is_obj(o) && (((const mp_obj_base_t *)MP_OBJ_TO_PTR(o))->type == (t)))
#define mp_obj_is_exact_type(o, t) mp_obj_is_type((o), (t))
#define mp_obj_is_int(o) (mp_obj_is_small_int(o) || mp_obj_is_type((o), &mp_type_int))
#define mp_obj_is_str(o) (mp_obj_get_type((o)) == &mp_type_str)
/* The native object behind `o` if its type is native type `t` or derives from it, else NULL:
   for an instance of a Python subclass of `t` that is the instance's native base object
   (mp_obj_cast_to_native_base_dyn, below). */
#define mp_obj_cast_to_native_base(o, t) (mp_obj_cast_to_native_base_dyn((o), (t)))

#define mp_unary_op(op, o) (mp_fun_table.unary_op((op), (o)))
#define mp_binary_op(op, l, r) (mp_fun_table.binary_op((op), (l), (r)))

/* Firmware types without a table slot: found by name at run time. */
#define mp_type_NoneType (*mp_fun_table.obj_get_type(mp_const_none))
#define mp_type_bool (*mp_fun_table.obj_get_type(mp_const_false))
#define mp_type_int (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_int)))
#define mp_type_bytes (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_bytes)))
#define mp_type_bytearray (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_bytearray)))
#define mp_type_tuple (*mp_fun_table.obj_get_type(mp_const_empty_tuple))
#define mp_type_float (*mp_fun_table.obj_get_type(mp_obj_new_float(0)))
#define mp_type_BaseException (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_BaseException)))
#define mp_type_AssertionError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_AssertionError)))
#define mp_type_AttributeError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_AttributeError)))
#define mp_type_EOFError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_EOFError)))
#define mp_type_IndexError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_IndexError)))
#define mp_type_KeyError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_KeyError)))
#define mp_type_MemoryError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_MemoryError)))
#define mp_type_NotImplementedError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_NotImplementedError)))
#define mp_type_OSError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_OSError)))
#define mp_type_OverflowError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_OverflowError)))
#define mp_type_RuntimeError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_RuntimeError)))
#define mp_type_StopIteration (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_StopIteration)))
#define mp_type_TypeError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_TypeError)))
#define mp_type_ValueError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_ValueError)))
#define mp_type_ZeroDivisionError (*(const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_ZeroDivisionError)))

/* Floats go through memory: correct for any firmware float ABI. */
#if MICROPY_PY_BUILTINS_FLOAT
static inline mp_obj_t mp_obj_new_float(mp_float_t f) {
    mp_float_t tmp = f;
    return mp_fun_table.binary_get_val_array(MP_FLOAT_TYPECODE, &tmp, 0);
}
static inline mp_float_t mp_obj_get_float(mp_obj_t o) {
    mp_float_t tmp = 0;
    mp_fun_table.binary_set_val_array(MP_FLOAT_TYPECODE, &tmp, 0, o);
    return tmp;
}
#define mp_obj_new_float_from_f(f) (mp_obj_new_float((mp_float_t)(f)))
#define mp_obj_new_float_from_d(d) (mp_obj_new_float((mp_float_t)(d)))
#define mp_obj_get_float_to_f(o) ((float)mp_obj_get_float((o)))
#define mp_obj_get_float_to_d(o) ((double)mp_obj_get_float((o)))
#define mp_obj_is_float(o) (mp_obj_get_type((o)) == &mp_type_float)
#endif

/* ---------------------------------------------------------------------- */
/* Names, attributes, calls                                                */

#define mp_load_name(qst) (mp_fun_table.load_name((qst)))
#define mp_load_global(qst) (mp_fun_table.load_global((qst)))
#define mp_load_attr(base, attr) (mp_fun_table.load_attr((base), (attr)))
#define mp_load_method(base, attr, dest) (mp_fun_table.load_method((base), (attr), (dest)))
#define mp_load_method_maybe(base, attr, dest) (mp_fun_table.load_method_maybe((base), (attr), (dest)))
#define mp_load_super_method(attr, dest) (mp_fun_table.load_super_method((attr), (dest)))
#define mp_store_name(qst, obj) (mp_fun_table.store_name((qst), (obj)))
#define mp_store_global(qst, obj) (mp_fun_table.store_global((qst), (obj)))
#define mp_store_attr(base, attr, val) (mp_fun_table.store_attr((base), (attr), (val)))
#define mp_import_name(name, fromlist, level) (mp_fun_table.import_name((name), (fromlist), (level)))
#define mp_import_from(module, name) (mp_fun_table.import_from((module), (name)))

#define mp_call_function_n_kw(fun, n_args, n_kw, args) \
    (mp_fun_table.call_function_n_kw((fun), (n_args) | ((n_kw) << 8), (args)))
/* args = [method, self, positional..., kw pairs...] as filled by mp_load_method. */
#define mp_call_method_n_kw(n_args, n_kw, args) (mp_fun_table.call_method_n_kw((n_args), (n_kw), (args)))
#define mp_call_method_n_kw_var(have_self, n_args_n_kw, args) \
    (mp_fun_table.call_method_n_kw_var((have_self), (n_args_n_kw), (args)))

static inline mp_obj_t mp_call_function_0(mp_obj_t fun) {
    return mp_fun_table.call_function_n_kw(fun, 0, NULL);
}
static inline mp_obj_t mp_call_function_1(mp_obj_t fun, mp_obj_t arg) {
    return mp_fun_table.call_function_n_kw(fun, 1, &arg);
}
static inline mp_obj_t mp_call_function_2(mp_obj_t fun, mp_obj_t arg1, mp_obj_t arg2) {
    mp_obj_t args[2];
    args[0] = arg1;
    args[1] = arg2;
    return mp_fun_table.call_function_n_kw(fun, 2, args);
}

/* Iteration needs a caller-provided buffer (the returned handle points into it). */
static inline mp_obj_t mp_getiter(mp_obj_t o, mp_obj_iter_buf_t *iter_buf) {
    mp_fun_table.getiter(o, iter_buf);
    return MP_OBJ_FROM_PTR(iter_buf);
}
#define mp_iternext(it) (mp_fun_table.iternext((mp_obj_iter_buf_t *)MP_OBJ_TO_PTR(it)))

/* ---------------------------------------------------------------------- */
/* Buffers, streams, printing, arguments                                   */

#define mp_get_buffer(o, bufinfo, fl) (mp_fun_table.get_buffer((o), (bufinfo), (fl)))
#define mp_get_buffer_raise(o, bufinfo, fl) \
    ((void)mp_fun_table.get_buffer((o), (bufinfo), (fl) | MP_BUFFER_RAISE_IF_UNSUPPORTED))
#define mp_get_stream_raise(s, flags) (mp_fun_table.get_stream_raise((s), (flags)))
#define mp_get_stream(s) ((const mp_stream_p_t *)MP_OBJ_TYPE_GET_SLOT(mp_obj_get_type(s), protocol))

#define mp_plat_print (*mp_fun_table.plat_print)
#define mp_printf(p, ...) (mp_fun_table.printf_((p), __VA_ARGS__))
#define mp_vprintf(p, fmt, args) (mp_fun_table.vprintf_((p), (fmt), (args)))
#define mp_print_str(p, s) (mp_fun_table.printf_((p), "%s", (s)))

#define mp_arg_check_num_sig(n_args, n_kw, sig) (mp_fun_table.arg_check_num_sig((n_args), (n_kw), (sig)))
#define mp_arg_check_num(n_args, n_kw, n_args_min, n_args_max, takes_kw) \
    (mp_fun_table.arg_check_num_sig((n_args), (n_kw), MP_OBJ_FUN_MAKE_SIG((n_args_min), (n_args_max), (takes_kw))))
#define mp_arg_parse_all(n_pos, pos, kws, n_allowed, allowed, out_vals) \
    (mp_fun_table.arg_parse_all((n_pos), (pos), (kws), (n_allowed), (allowed), (out_vals)))
#define mp_arg_parse_all_kw_array(n_pos, n_kw, args, n_allowed, allowed, out_vals) \
    (mp_fun_table.arg_parse_all_kw_array((n_pos), (n_kw), (args), (n_allowed), (allowed), (out_vals)))

#define mp_binary_get_size(struct_type, val_type, palign) (mp_fun_table.binary_get_size((struct_type), (val_type), (palign)))
#define mp_binary_get_val_array(typecode, p, index) (mp_fun_table.binary_get_val_array((typecode), (p), (index)))
#define mp_binary_set_val_array(typecode, p, index, val_in) (mp_fun_table.binary_set_val_array((typecode), (p), (index), (val_in)))

/* ---------------------------------------------------------------------- */
/* Exceptions                                                              */

#define nlr_pop() (mp_fun_table.nlr_pop())
/* setjmp-based firmware (slot 49 non-NULL): link the buffer, then setjmp in
   the caller's frame; otherwise the firmware's nlr_push saves registers. */
#define nlr_push(buf) \
    (mp_fun_table.setjmp_ != NULL \
    ? ((void)mp_fun_table.nlr_push((buf)), mp_fun_table.setjmp_((void *)(buf)->regs)) \
    : (int)mp_fun_table.nlr_push((buf)))

static inline NORETURN void nlr_raise(mp_obj_t o) {
    mp_fun_table.raise(o);
    __builtin_unreachable();
}

static inline NORETURN void mp_raise_msg(const mp_obj_type_t *exc_type, mp_rom_error_text_t msg) {
    if (msg == NULL || mp_fun_table.raise_msg == NULL) {
        /* raising a class instantiates it without arguments */
        mp_fun_table.raise(MP_OBJ_FROM_PTR(exc_type));
    } else {
        mp_fun_table.raise_msg(exc_type, msg);
    }
    __builtin_unreachable();
}

#define mp_raise_type(exc_type) (mp_raise_msg((exc_type), NULL))
#define mp_raise_ValueError(msg) (mp_raise_msg(&mp_type_ValueError, (msg)))
#define mp_raise_TypeError(msg) (mp_raise_msg(&mp_type_TypeError, (msg)))
#define mp_raise_NotImplementedError(msg) (mp_raise_msg(&mp_type_NotImplementedError, (msg)))
#define mp_raise_RuntimeError(msg) (mp_raise_msg(&mp_type_RuntimeError, (msg)))
#define mp_raise_IndexError(msg) (mp_raise_msg(&mp_type_IndexError, (msg)))
#define mp_raise_MemoryError() (mp_raise_msg(&mp_type_MemoryError, NULL))

/* Exception objects: calling the class with one argument makes the instance. */
#define mp_obj_new_exception(exc_type) (MP_OBJ_FROM_PTR(exc_type))
static inline mp_obj_t mp_obj_new_exception_arg1(const mp_obj_type_t *exc_type, mp_obj_t arg) {
    return mp_fun_table.call_function_n_kw(MP_OBJ_FROM_PTR(exc_type), 1, &arg);
}
static inline NORETURN void mp_raise_type_arg(const mp_obj_type_t *exc_type, mp_obj_t arg) {
    nlr_raise(mp_obj_new_exception_arg1(exc_type, arg));
}

static inline NORETURN void mp_raise_OSError(int errno_) {
    mp_obj_t arg = MP_OBJ_NEW_SMALL_INT(errno_);
    nlr_raise(mp_fun_table.call_function_n_kw(mp_load_global(MP_QSTR_OSError), 1, &arg));
}

/* ---------------------------------------------------------------------- */
/* Memory (GC heap).  Keep a pointer to the *start* of every block in      */
/* GC-scanned memory (heap objects or bss) or the block will be freed.     */

/* One out-of-line raise for every allocation site, with the firmware's own words (its m_malloc
 * adds the size; a module keeps one short static string instead). */
static NORETURN __attribute__((noinline, unused)) void m_malloc_fail_dyn(void) {
    mp_raise_msg(&mp_type_MemoryError, "memory allocation failed");
}
static inline void *m_malloc(size_t n) {
    void *p = mp_fun_table.realloc_(NULL, n, false);
    if (p == NULL && n != 0) {
        m_malloc_fail_dyn();
    }
    return p;
}
static inline void *m_malloc0(size_t n) {
    void *p = m_malloc(n);
    mp_fun_table.memset_(p, 0, n);
    return p;
}
static inline void *m_malloc_maybe(size_t n) {
    return mp_fun_table.realloc_(NULL, n, false);
}
static inline void *m_realloc(void *ptr, size_t n) {
    void *p = mp_fun_table.realloc_(ptr, n, true);
    if (p == NULL && n != 0) {
        m_malloc_fail_dyn();
    }
    return p;
}
static inline void m_free(void *ptr) {
    (void)mp_fun_table.realloc_(ptr, 0, false);
}
#define m_new(type, num) ((type *)(m_malloc(sizeof(type) * (num))))
#define m_new0(type, num) ((type *)(m_malloc0(sizeof(type) * (num))))
#define m_new_maybe(type, num) ((type *)(m_malloc_maybe(sizeof(type) * (num))))
#define m_new_obj(type) (m_new(type, 1))
#define m_renew(type, ptr, old_num, new_num) ((type *)(m_realloc((ptr), sizeof(type) * (new_num))))
#define m_del(type, ptr, num) ((void)(num), m_free(ptr))
#define m_del_obj(type, ptr) (m_del(type, ptr, 1))
#define m_new_obj_maybe(type) (m_new_maybe(type, 1))
#define m_renew_maybe(type, ptr, old_num, new_num, allow_move) \
    ((type *)(mp_fun_table.realloc_((ptr), sizeof(type) * (new_num), (allow_move))))
#define m_realloc_maybe(ptr, n, allow_move) (mp_fun_table.realloc_((ptr), (n), (allow_move)))
/* An object with a flexible array member: the fixed part up to var_field, then var_num items. */
#define m_new_obj_var(obj_type, var_field, var_type, var_num) \
    ((obj_type *)m_malloc(offsetof(obj_type, var_field) + sizeof(var_type) * (var_num)))
#define m_new_obj_var0(obj_type, var_field, var_type, var_num) \
    ((obj_type *)m_malloc0(offsetof(obj_type, var_field) + sizeof(var_type) * (var_num)))
#define m_new_obj_var_maybe(obj_type, var_field, var_type, var_num) \
    ((obj_type *)m_malloc_maybe(offsetof(obj_type, var_field) + sizeof(var_type) * (var_num)))
#define m_del_var(obj_type, var_field, var_type, var_num, ptr) ((void)(var_num), m_free(ptr))

/* Scratch memory for one C call (py/pystack.h without MICROPY_ENABLE_PYSTACK): the C stack. */
#define mp_local_alloc(n_bytes) __builtin_alloca(n_bytes)
static inline void mp_local_free(void *ptr) {
    (void)ptr;
}
static inline void *mp_nonlocal_alloc(size_t n_bytes) {
    return m_malloc(n_bytes);
}
static inline void *mp_nonlocal_realloc(void *ptr, size_t old_n_bytes, size_t new_n_bytes) {
    (void)old_n_bytes;
    return m_realloc(ptr, new_n_bytes);
}
static inline void mp_nonlocal_free(void *ptr, size_t n_bytes) {
    (void)n_bytes;
    m_free(ptr);
}

static inline void *mp_obj_malloc_helper(size_t num_bytes, const mp_obj_type_t *type) {
    mp_obj_base_t *base = (mp_obj_base_t *)m_malloc(num_bytes);
    base->type = type;
    return base;
}
#define mp_obj_malloc(struct_type, obj_type) ((struct_type *)mp_obj_malloc_helper(sizeof(struct_type), (obj_type)))
#define mp_obj_malloc_var(struct_type, var_field, var_type, var_num, obj_type) \
    ((struct_type *)mp_obj_malloc_helper(offsetof(struct_type, var_field) + sizeof(var_type) * (var_num), (obj_type)))

/* An exception class made at run time: `base` as parent, constructor,
   printing and attributes of the firmware's Exception type. */
static inline void mp_obj_exception_init(mp_obj_full_type_t *exc, qstr name, const mp_obj_type_t *base) {
    exc->base.type = &mp_type_type;
    exc->flags = MP_TYPE_FLAG_NONE;
    exc->name = (uint16_t)name;
    MP_OBJ_TYPE_SET_SLOT(exc, make_new, MP_OBJ_TYPE_GET_SLOT(&mp_type_Exception, make_new), 0);
    MP_OBJ_TYPE_SET_SLOT(exc, print, MP_OBJ_TYPE_GET_SLOT(&mp_type_Exception, print), 1);
    MP_OBJ_TYPE_SET_SLOT(exc, attr, MP_OBJ_TYPE_GET_SLOT(&mp_type_Exception, attr), 2);
    MP_OBJ_TYPE_SET_SLOT(exc, parent, base, 3);
}

/* ---------------------------------------------------------------------- */
/* Strings and sequences                                                   */

static inline const char *mp_obj_str_get_data(mp_obj_t o, size_t *len) {
    mp_buffer_info_t bufinfo;
    mp_fun_table.get_buffer(o, &bufinfo, MP_BUFFER_READ | MP_BUFFER_RAISE_IF_UNSUPPORTED);
    *len = bufinfo.len;
    return (const char *)bufinfo.buf;
}
static inline const char *mp_obj_str_get_str(mp_obj_t o) {
    size_t len;
    return mp_obj_str_get_data(o, &len);
}

/* Items of a tuple or list (raises TypeError for anything else). */
static inline void mp_obj_get_array(mp_obj_t o, size_t *len, mp_obj_t **items) {
    const mp_obj_type_t *t = mp_obj_get_type(o);
    if (t == &mp_type_list) {
        mp_obj_list_t *l = (mp_obj_list_t *)MP_OBJ_TO_PTR(o);
        *len = l->len;
        *items = l->items;
    } else if (t == &mp_type_tuple) {
        mp_obj_tuple_t *tu = (mp_obj_tuple_t *)MP_OBJ_TO_PTR(o);
        *len = tu->len;
        *items = tu->items;
    } else {
        mp_raise_TypeError(MP_ERROR_TEXT("expected tuple/list"));
    }
}
static inline void mp_obj_get_array_fixed_n(mp_obj_t o, size_t n, mp_obj_t **items) {
    size_t len;
    mp_obj_get_array(o, &len, items);
    if (len != n) {
        mp_raise_ValueError(MP_ERROR_TEXT("tuple/list has wrong length"));
    }
}

/* ---------------------------------------------------------------------- */
/* Static function objects and dicts                                       */

#define MP_DEFINE_CONST_FUN_OBJ_0(obj_name, fun_name) \
    const mp_obj_fun_builtin_fixed_t obj_name = {{&mp_type_fun_builtin_0}, {._0 = fun_name}}
#define MP_DEFINE_CONST_FUN_OBJ_1(obj_name, fun_name) \
    const mp_obj_fun_builtin_fixed_t obj_name = {{&mp_type_fun_builtin_1}, {._1 = fun_name}}
#define MP_DEFINE_CONST_FUN_OBJ_2(obj_name, fun_name) \
    const mp_obj_fun_builtin_fixed_t obj_name = {{&mp_type_fun_builtin_2}, {._2 = fun_name}}
#define MP_DEFINE_CONST_FUN_OBJ_3(obj_name, fun_name) \
    const mp_obj_fun_builtin_fixed_t obj_name = {{&mp_type_fun_builtin_3}, {._3 = fun_name}}
#define MP_DEFINE_CONST_FUN_OBJ_VAR(obj_name, n_args_min, fun_name) \
    const mp_obj_fun_builtin_var_t obj_name = {{&mp_type_fun_builtin_var}, \
        MP_OBJ_FUN_MAKE_SIG(n_args_min, MP_OBJ_FUN_ARGS_MAX, false), {.var = fun_name}}
#define MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(obj_name, n_args_min, n_args_max, fun_name) \
    const mp_obj_fun_builtin_var_t obj_name = {{&mp_type_fun_builtin_var}, \
        MP_OBJ_FUN_MAKE_SIG(n_args_min, n_args_max, false), {.var = fun_name}}
#define MP_DEFINE_CONST_FUN_OBJ_KW(obj_name, n_args_min, fun_name) \
    const mp_obj_fun_builtin_var_t obj_name = {{&mp_type_fun_builtin_var}, \
        MP_OBJ_FUN_MAKE_SIG(n_args_min, MP_OBJ_FUN_ARGS_MAX, true), {.kw = fun_name}}

/* A fixed, ordered dict over a table of (qstr object, value) pairs that the
   module fills at run time (qstr objects are not link-time constants). */
#define MP_DEFINE_CONST_DICT_WITH_SIZE(dict_name, table_name, n) \
    const mp_obj_dict_t dict_name = { \
        {&mp_type_dict}, \
        {MP_MAP_INFO((n), 1, 1, 1), (n), (mp_map_elem_t *)(mp_rom_map_elem_t *)table_name}}
#define MP_DEFINE_CONST_DICT(dict_name, table_name) \
    MP_DEFINE_CONST_DICT_WITH_SIZE(dict_name, table_name, MP_ARRAY_SIZE(table_name))

#define MP_REGISTER_MODULE(module_name, obj_module)
#define MP_REGISTER_ROOT_POINTER(x)

#define MP_DECLARE_CONST_FUN_OBJ_0(obj_name) extern const mp_obj_fun_builtin_fixed_t obj_name
#define MP_DECLARE_CONST_FUN_OBJ_1(obj_name) extern const mp_obj_fun_builtin_fixed_t obj_name
#define MP_DECLARE_CONST_FUN_OBJ_2(obj_name) extern const mp_obj_fun_builtin_fixed_t obj_name
#define MP_DECLARE_CONST_FUN_OBJ_3(obj_name) extern const mp_obj_fun_builtin_fixed_t obj_name
#define MP_DECLARE_CONST_FUN_OBJ_VAR(obj_name) extern const mp_obj_fun_builtin_var_t obj_name
#define MP_DECLARE_CONST_FUN_OBJ_KW(obj_name) extern const mp_obj_fun_builtin_var_t obj_name

/* ---------------------------------------------------------------------- */
/* Errno numbers (py/mperrno.h)                                            */

/* MicroPython's own numbering (Linux values), which bare-metal firmware uses and which equals
   the unix port's; mp_raise_OSError(MP_EINVAL) gives the OSError the firmware itself raises. */
#define MP_EPERM (1)
#define MP_ENOENT (2)
#define MP_ESRCH (3)
#define MP_EINTR (4)
#define MP_EIO (5)
#define MP_ENXIO (6)
#define MP_E2BIG (7)
#define MP_ENOEXEC (8)
#define MP_EBADF (9)
#define MP_ECHILD (10)
#define MP_EAGAIN (11)
#define MP_ENOMEM (12)
#define MP_EACCES (13)
#define MP_EFAULT (14)
#define MP_ENOTBLK (15)
#define MP_EBUSY (16)
#define MP_EEXIST (17)
#define MP_EXDEV (18)
#define MP_ENODEV (19)
#define MP_ENOTDIR (20)
#define MP_EISDIR (21)
#define MP_EINVAL (22)
#define MP_ENFILE (23)
#define MP_EMFILE (24)
#define MP_ENOTTY (25)
#define MP_ETXTBSY (26)
#define MP_EFBIG (27)
#define MP_ENOSPC (28)
#define MP_ESPIPE (29)
#define MP_EROFS (30)
#define MP_EMLINK (31)
#define MP_EPIPE (32)
#define MP_EDOM (33)
#define MP_ERANGE (34)
#define MP_EWOULDBLOCK MP_EAGAIN
#define MP_EOPNOTSUPP (95)
#define MP_EAFNOSUPPORT (97)
#define MP_EADDRINUSE (98)
#define MP_ECONNABORTED (103)
#define MP_ECONNRESET (104)
#define MP_ENOBUFS (105)
#define MP_EISCONN (106)
#define MP_ENOTCONN (107)
#define MP_ETIMEDOUT (110)
#define MP_ECONNREFUSED (111)
#define MP_EHOSTUNREACH (113)
#define MP_EALREADY (114)
#define MP_EINPROGRESS (115)
#define MP_ECANCELED (125)

/* ---------------------------------------------------------------------- */
/* Instances of Python classes, native bases                               */

/* An instance of a class defined in Python (py/objtype.h): attribute map, then one slot
   per native base; a Python subclass of a native type keeps that type's object in subobj[0]. */
typedef struct _mp_obj_instance_t {
    mp_obj_base_t base;
    mp_map_t members;
    mp_obj_t subobj[];
} mp_obj_instance_t;
#define mp_obj_is_instance_type(type) ((type)->flags & MP_TYPE_FLAG_INSTANCE_TYPE)
#define mp_obj_is_native_type(type) (!((type)->flags & MP_TYPE_FLAG_INSTANCE_TYPE))

/* Whether type `t` is `base` or has it among its ancestors.  The parent slot holds one type, or
   a tuple of types for a class with several bases (followed depth-first, as the firmware does). */
static inline bool mpyld_type_derives_from(const mp_obj_type_t *t, mp_const_obj_t base) {
    while ((mp_const_obj_t)t != base) {
        if (!MP_OBJ_TYPE_HAS_SLOT(t, parent)) {
            return false;
        }
        const mp_obj_base_t *parent = (const mp_obj_base_t *)MP_OBJ_TYPE_GET_SLOT(t, parent);
        if (parent == NULL) {
            return false;
        }
        if (parent->type == &mp_type_tuple) {
            const mp_obj_tuple_t *bases = (const mp_obj_tuple_t *)parent;
            for (size_t i = 0; i < bases->len; i++) {
                if (mpyld_type_derives_from((const mp_obj_type_t *)MP_OBJ_TO_PTR(bases->items[i]), base)) {
                    return true;
                }
            }
            return false;
        }
        t = (const mp_obj_type_t *)parent;
    }
    return true;
}

static inline mp_obj_t mp_obj_cast_to_native_base_dyn(mp_obj_t self_in, mp_const_obj_t native_type) {
    const mp_obj_type_t *self_type = mp_obj_get_type(self_in);
    if ((mp_const_obj_t)self_type == native_type) {
        return self_in;
    }
    if (!mpyld_type_derives_from(self_type, native_type)) {
        return MP_OBJ_NULL;
    }
    if (mp_obj_is_instance_type(self_type)) {
        /* a class defined in Python: its native base object */
        return ((mp_obj_instance_t *)MP_OBJ_TO_PTR(self_in))->subobj[0];
    }
    /* a native type whose parent chain holds native_type: the object itself */
    return self_in;
}

/* ---------------------------------------------------------------------- */
/* Arrays (py/objarray.h): bytearray, array.array, memoryview               */

/* First word after the base: typecode in the low 8 bits, `free` (unused elements; for a
   memoryview, its offset in elements) above.  Bit-fields of size_t are a GCC/clang extension. */
#define MP_OBJ_ARRAY_TYPECODE_FLAG_RW (0x80)
#define MP_OBJ_ARRAY_FREE_SIZE_BITS (8 * sizeof(size_t) - 8)
__extension__ typedef struct _mp_obj_array_t {
    mp_obj_base_t base;
    size_t typecode : 8;
    size_t free : MP_OBJ_ARRAY_FREE_SIZE_BITS;
    size_t len;
    void *items;
} mp_obj_array_t;

/* ---------------------------------------------------------------------- */
/* Streams: close                                                          */

/*
 * mp_stream_close (py/stream.h) is firmware code that mp_fun_table does not export, so a module
 * that uses it carries its own copy.  Declared here, like MicroPython's header does, so modules
 * that define it (MicroPython's deflate example) build unchanged; a module that only uses it
 * writes MP_DYNRUNTIME_DEFINE_STREAM_CLOSE once at file scope to get this kit's definition.
 */
mp_obj_t mp_stream_close(mp_obj_t stream);
MP_DECLARE_CONST_FUN_OBJ_1(mp_stream_close_obj);
static inline mp_obj_t mpyld_stream_close(mp_obj_t stream) {
    const mp_stream_p_t *stream_p = mp_get_stream_raise(stream, MP_STREAM_OP_IOCTL);
    int error;
    mp_uint_t res = stream_p->ioctl(stream, MP_STREAM_CLOSE, 0, &error);
    if (res == MP_STREAM_ERROR) {
        mp_raise_OSError(error);
    }
    return mp_const_none;
}
#define MP_DYNRUNTIME_DEFINE_STREAM_CLOSE \
    mp_obj_t mp_stream_close(mp_obj_t stream) { \
        return mpyld_stream_close(stream); \
    } \
    MP_DEFINE_CONST_FUN_OBJ_1(mp_stream_close_obj, mp_stream_close)
/* self -> self, the usual __enter__ (py/obj.h declares it; a module defines it when used). */
mp_obj_t mp_identity(mp_obj_t self);
MP_DECLARE_CONST_FUN_OBJ_1(mp_identity_obj);

/* ---------------------------------------------------------------------- */
/* Module entry                                                            */

/*
 * mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args)
 * is the first thing the loader runs (mpyld puts a jump to it at text offset
 * 0).  INIT_ENTRY also stores a zero-length bytearray over the module's
 * bss/rodata block in the module globals: that keeps the block alive on
 * firmware (1.23, text outside the GC heap) that does not track it itself.
 */
#define MP_DYNRUNTIME_INIT_ENTRY \
    mp_obj_dict_t *mpyld_old_globals_ = mp_fun_table.swap_globals(self->context->module.globals); \
    mp_raw_code_truncated_t mpyld_rc_; \
    mpyld_rc_.proto_fun_indicator[0] = 0; \
    mpyld_rc_.proto_fun_indicator[1] = 0; \
    mpyld_rc_.kind = MP_CODE_NATIVE_VIPER; \
    mpyld_rc_.is_generator = 0; \
    mpyld_rc_.fun_data = NULL; \
    mpyld_rc_.children = NULL; \
    (void)mpyld_rc_; \
    (void)n_args; \
    (void)n_kw; \
    (void)args; \
    mp_fun_table.store_global(MP_QSTR___mpyld_data__, \
    mp_fun_table.obj_new_bytearray_by_ref(0, mpyld_data_start));

#define MP_DYNRUNTIME_INIT_EXIT \
    mp_fun_table.swap_globals(mpyld_old_globals_); \
    return mp_const_none;

#define MP_DYNRUNTIME_MAKE_FUNCTION(f) \
    (mpyld_rc_.fun_data = __extension__(const void *)(f), \
    mp_fun_table.make_function_from_proto_fun(&mpyld_rc_, self->context, NULL))

#endif /* MPYLD_PY_DYNRUNTIME_H */
