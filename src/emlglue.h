/* emlglue.h: argument helpers and error messages shared by the module glue.
 *
 * Every public function checks its arguments with these before touching the cores, so a wrong
 * typecode is a TypeError and a wrong length or range a ValueError, each naming the argument.
 * Each message is one complete static string written at the call site (it names the argument and
 * what it must be; a static string lives in the module's code, as long as the module): nothing is
 * formatted at run time, so no number printing and no division is linked. The helpers are out of
 * line (noinline; "unused" keeps a module that does not call one warning-free), so each module
 * holds one copy however often it checks.
 */
#ifndef EMLGLUE_H
#define EMLGLUE_H

#include "py/dynruntime.h"
#include "emlc_common.h"

/* The compiler's float32 add, subtract and multiply helpers, on the chips whose compiler calls
 * them for + - * on floats (no FPU: armv6m, armv7m, rv32imc, xtensa, xtensawin; they come from
 * cores/emlc_common_sf.c, libgcc or the Xtensa runtime). A base module that links them gives their
 * addresses to its optional module through the model (emlkmeans -> emlkmeans_fit, emlneighbors ->
 * emlneighbors_load), which defines these names as calls through those addresses instead of
 * linking a second copy. Floats travel as their bit patterns (soft float: integer registers). */
#if defined(__arm__) && defined(__SOFTFP__)
#define EMLG_SF_ADD __aeabi_fadd
#define EMLG_SF_SUB __aeabi_fsub
#define EMLG_SF_MUL __aeabi_fmul
#elif (defined(__riscv) && !defined(__riscv_flen)) || defined(__XTENSA_SOFT_FLOAT__)
#define EMLG_SF_ADD __addsf3
#define EMLG_SF_SUB __subsf3
#define EMLG_SF_MUL __mulsf3
#endif
#ifdef EMLG_SF_ADD
typedef uint32_t (*emlg_sf_fn_t)(uint32_t a, uint32_t b);
uint32_t EMLG_SF_ADD(uint32_t a, uint32_t b);
uint32_t EMLG_SF_SUB(uint32_t a, uint32_t b);
uint32_t EMLG_SF_MUL(uint32_t a, uint32_t b);
#endif

/* Raise exception class `exc` (MP_QSTR_ValueError, MP_QSTR_TypeError, ...) with the static
 * message `msg`. */
static __attribute__((noinline, noreturn, unused)) void emlg_fail(qstr exc, const char *msg) {
    mp_raise_msg((const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(exc)), msg);
}

/* ValueError(fmt % (where, reason)) for a bad model file, where fmt is "offset %d: %s" (binary
 * files) or "line %d: %s" (CSV): the one formatted message, by the firmware's own %. Every loader
 * calls it through one wrapper of its own (emltrees, emltrees_csv, emlneighbors_load); use the macro. */
#define EMLG_FAIL_AT(fmt, where, reason) emlg_fail_at(fmt, sizeof(fmt) - 1, where, reason)
static __attribute__((noreturn, unused)) void emlg_fail_at(const char *fmt, size_t fmt_len, uint32_t where,
                                                            const char *reason) {
    size_t len = 0;
    mp_obj_t items[2], msg;
    while (reason[len] != '\0') {
        len++;
    }
    items[0] = mp_obj_new_int_from_uint(where);
    items[1] = mp_obj_new_str(reason, len);
    msg = mp_binary_op(MP_BINARY_OP_MODULO, mp_obj_new_str(fmt, fmt_len), mp_obj_new_tuple(2, items));
    nlr_raise(mp_call_function_n_kw(mp_load_global(MP_QSTR_ValueError), 1, 0, &msg));
}

/* ValueError(msg) when a core call failed. The glue checks arguments first, so this is a
 * safety net: the message names the call. */
static inline void emlg_ok(int err, const char *msg) {
    if (err != EMLC_OK) {
        emlg_fail(MP_QSTR_ValueError, msg);
    }
}

/* `obj` as an array of typecode tc ('f' or 'h'), writable if asked; returns the element count.
 * TypeError(msg) for a non-buffer or another typecode. */
static __attribute__((noinline, unused)) size_t emlg_buf(mp_obj_t obj, char tc, bool writable, const char *msg,
                                                       void **data) {
    mp_buffer_info_t bi;
    if (!mp_get_buffer(obj, &bi, writable ? MP_BUFFER_RW : MP_BUFFER_READ) || bi.typecode != tc) {
        emlg_fail(MP_QSTR_TypeError, msg);
    }
    *data = bi.buf;
    return bi.len >> (tc == 'h' ? 1 : 2);
}

/* An int argument in min..max, else exception `exc` (ValueError, IndexError) with msg; a non-int
 * is a TypeError. The kit's mp_obj_get_int truncates a big int to a machine word (2**64 + 7 would
 * read as 7), so only small ints (and bools) are taken: every range the modules accept is far
 * inside the small-int range, and a big int is out of range. */
static __attribute__((noinline, unused)) mp_int_t emlg_int_range(mp_obj_t obj, mp_int_t min, mp_int_t max,
                                                               qstr exc, const char *msg) {
    mp_int_t v = mp_obj_get_int(obj);
    if ((!mp_obj_is_small_int(obj) && obj != mp_const_true && obj != mp_const_false) || v < min || v > max) {
        emlg_fail(exc, msg);
    }
    return v;
}

/* An int argument in min..max, else ValueError(msg) (see emlg_int_range). */
static inline mp_int_t emlg_int_in(mp_obj_t obj, mp_int_t min, mp_int_t max, const char *msg) {
    return emlg_int_range(obj, min, max, MP_QSTR_ValueError, msg);
}

/* Read exactly n bytes from `stream` into buf (its readinto preferred, else read); returns the
 * bytes read, fewer only at the end of the stream (readinto/read returning 0 or None). A stream
 * that returns more than asked is an error (ValueError), never silently cut.
 * The stream never sees buf (the model's memory): readinto gets a scratch bytearray of at most
 * EMLG_CHUNK bytes (a GC block of its own, allocated once per call and again only for a shorter
 * last chunk or when the stream resized it), whose contents are copied into buf after each call.
 * Its buffer is fetched again after the call (the stream may have resized it), so a stream that
 * resizes or keeps it can neither crash the interpreter nor change a model after it was read.
 * Heap cost: that chunk (<= EMLG_CHUNK bytes, freed by the GC). */
#define EMLG_CHUNK 256
static __attribute__((noinline, unused)) size_t emlg_read(mp_obj_t stream, uint8_t *buf, size_t n) {
    mp_obj_t call[3], chunk = MP_OBJ_NULL, r;
    mp_buffer_info_t bi;
    size_t got = 0, have = 0; /* have: the chunk's length after the last call (0: no chunk yet) */
    while (got < n) {
        size_t k, ask = n - got < EMLG_CHUNK ? n - got : EMLG_CHUNK;
        mp_load_method_maybe(stream, MP_QSTR_readinto, call);
        if (call[0] != MP_OBJ_NULL) {
            if (have != ask) {
                chunk = mp_obj_new_bytearray_by_ref(ask, m_malloc(ask));
            }
            call[2] = chunk;
            r = mp_call_method_n_kw(1, 0, call);
            k = r == mp_const_none ? 0 : (size_t)mp_obj_get_int(r);
            mp_get_buffer_raise(chunk, &bi, MP_BUFFER_READ);
            have = bi.len;
        } else {
            mp_load_method(stream, MP_QSTR_read, call);
            call[2] = MP_OBJ_NEW_SMALL_INT(ask);
            r = mp_call_method_n_kw(1, 0, call);
            if (r == mp_const_none) { /* no data (a non-blocking stream): the end, as for readinto */
                break;
            }
            mp_get_buffer_raise(r, &bi, MP_BUFFER_READ);
            k = bi.len;
        }
        if (k == 0) {
            break;
        }
        if (k > ask || k > bi.len) {
            emlg_fail(MP_QSTR_ValueError, "the stream returned more bytes than asked");
        }
        memcpy(buf + got, bi.buf, k);
        got += k;
    }
    return got;
}

/* ValueError(msg) when the byte ranges a[0:na] and b[0:nb] share memory (an out array over its
 * input: the results would overwrite inputs not yet read). */
static __attribute__((noinline, unused)) void emlg_apart(const void *a, size_t na, const void *b, size_t nb,
                                                        const char *msg) {
    if ((const uint8_t *)a < (const uint8_t *)b + nb && (const uint8_t *)b < (const uint8_t *)a + na) {
        emlg_fail(MP_QSTR_ValueError, msg);
    }
}

/* ValueError(msg) if one of the n floats at v is NaN or infinite (read by its bits: no float code). */
static __attribute__((noinline, unused)) void emlg_finite(const void *v, size_t n, const char *msg) {
    const uint32_t *u = (const uint32_t *)v;
    for (; n > 0; n--, u++) {
        if ((*u & 0x7f800000u) == 0x7f800000u) {
            emlg_fail(MP_QSTR_ValueError, msg);
        }
    }
}

/* Arguments by position or keyword: out[i] gets the i-th positional argument or the keyword
 * names[i] (MP_OBJ_NULL when neither is given). The firmware's own parser (mp_arg_parse_all)
 * does the work, so a positional argument too many, a keyword that is not in names or one that
 * repeats a positional argument is its TypeError, as in Python, and a module holds no parser or
 * messages of its own. The parser's tables are sized by n_names (variable-length arrays: any
 * caller's count fits; with a constant count the compiler makes them fixed). For functions defined
 * with MP_DEFINE_CONST_FUN_OBJ_KW (MicroPython has checked that n_pos is at least the minimum). */
static __attribute__((noinline, unused)) void emlg_args(size_t n_pos, const mp_obj_t *pos, mp_map_t *kw,
                                                       const qstr *names, size_t n_names, mp_obj_t *out) {
    mp_arg_t allowed[n_names];
    mp_arg_val_t vals[n_names];
    size_t i;
    for (i = 0; i < n_names; i++) {
        allowed[i].qst = (uint16_t)names[i];
        allowed[i].flags = MP_ARG_OBJ;
        allowed[i].defval.u_obj = MP_OBJ_NULL;
    }
    mp_arg_parse_all(n_pos, pos, kw, n_names, allowed, vals);
    for (i = 0; i < n_names; i++) {
        out[i] = vals[i].u_obj;
    }
}

/* Type(...) as the module's new(...): positional and keyword arguments passed on unchanged, so
 * both spellings take the same arguments and raise the same errors. */
#define EMLG_MAKE_NEW_VIA(name, new_obj) \
    static mp_obj_t name(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) { \
        (void)type; \
        return mp_call_function_n_kw(MP_OBJ_FROM_PTR(&(new_obj)), n_args, n_kw, args); \
    }

/* Start a class made at run time (natmods cannot have initialised type objects): its base type,
 * flags and name; the caller then sets slots and methods. */
static inline void emlg_type(mp_obj_full_type_t *t, qstr name) {
    t->base.type = (void *)&mp_type_type;
    t->flags = MP_TYPE_FLAG_NONE;
    t->name = name;
}

/* Add `name` -> `fun` to a locals-dict table built at run time (natmods cannot have initialised
 * qstr keys). */
static inline void emlg_method(mp_map_elem_t *slot, qstr name, const void *fun) {
    slot->key = MP_OBJ_NEW_QSTR(name);
    slot->value = MP_OBJ_FROM_PTR(fun);
}

/* One method of a class made at run time, for emlg_methods: the address of its name in the
 * module's qstr table (&MP_QSTR_name: a module's own names are entries of mp_native_qstr_table,
 * which the loader fills) and its function object; a constant table, fixed up at load. */
typedef struct emlg_def {
    const uint16_t *name;
    const void *fun;
} emlg_def_t;

/* Fill a locals-dict table built at run time with the n methods of defs: one loop instead of an
 * emlg_method call per method, 8 bytes a method instead of ~18 on armv6m. Measured to pay from
 * 5 methods on on the 32-bit arches (x64, with 8-byte pointers, grows a little); emliir and
 * emlfft, with 2 and 3 methods, keep emlg_method. */
static __attribute__((noinline, unused)) void emlg_methods(mp_map_elem_t *slot, const emlg_def_t *defs, size_t n) {
    for (; n > 0; n--, slot++, defs++) {
        slot->key = MP_OBJ_NEW_QSTR(*defs->name);
        slot->value = MP_OBJ_FROM_PTR(defs->fun);
    }
}

#endif /* EMLGLUE_H */
