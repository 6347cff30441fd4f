/* emlglue.h: argument helpers and error messages shared by the module glue.
 *
 * Every public function checks its arguments with these before touching the cores, so a wrong
 * typecode is a TypeError and a wrong length a ValueError, each naming the argument.
 *
 * Two families:
 *  - emlg_fail / emlg_buf / emlg_int_in / emlg_ok (emlneighbors, emliir, emlfft): each message is
 *    one complete static string written at the call site (it names the argument and what it must
 *    be); nothing is formatted at run time, so no number printing and no division is linked. They
 *    are out of line (noinline; "unused" keeps emltrees, which does not call them, warning-free),
 *    so each module holds one copy however often it checks.
 *  - emlg_msg_t / emlg_str / emlg_int / emlg_raise / emlg_check / emlg_array / emlg_size
 *    (emltrees): messages built in a small stack buffer, with numbers, and copied into a new str
 *    object before raising (an exception must never point at stack memory).
 * A static string may be the message itself: it lives in the module's code, which lives as long
 * as the module.
 */
#ifndef EMLGLUE_H
#define EMLGLUE_H

#include "py/dynruntime.h"
#include "emlc_common.h"

/* ---- The formatting family (emltrees) ------------------------------------------------------ */

#define EMLG_MSG_MAX 96

typedef struct emlg_msg {
    char buf[EMLG_MSG_MAX];
    size_t len;
} emlg_msg_t;

static inline void emlg_str(emlg_msg_t *m, const char *s) {
    while (*s && m->len < EMLG_MSG_MAX) {
        m->buf[m->len++] = *s++;
    }
}

static inline void emlg_int(emlg_msg_t *m, long v) {
    char tmp[12];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && n < 11);
    if (v < 0 && m->len < EMLG_MSG_MAX) {
        m->buf[m->len++] = '-';
    }
    while (n && m->len < EMLG_MSG_MAX) {
        m->buf[m->len++] = tmp[--n];
    }
}

/* Raise exc_type(message). */
static inline void emlg_raise(const mp_obj_type_t *exc_type, const emlg_msg_t *m) {
    mp_obj_t arg = mp_obj_new_str(m->buf, m->len);
    nlr_raise(mp_call_function_n_kw(MP_OBJ_FROM_PTR(exc_type), 1, 0, &arg));
}

/* Raise exc_type("<a><b>") for two static strings. */
static inline void emlg_raise2(const mp_obj_type_t *exc_type, const char *a, const char *b) {
    emlg_msg_t m = {{0}, 0};
    emlg_str(&m, a);
    emlg_str(&m, b);
    emlg_raise(exc_type, &m);
}

/* Element size of an array typecode we accept, 0 for others. */
static inline size_t emlg_itemsize(int tc) {
    switch (tc) {
        case 'f': case 'i': case 'I': return 4;
        case 'h': case 'H': return 2;
        case 'b': case 'B': return 1;
        default: return 0;
    }
}

/* Buffer of `obj`, which must be an array of typecode `tc`; returns the element count.
 * TypeError naming `what` for a non-buffer or another typecode. */
static inline size_t emlg_array(mp_obj_t obj, char tc, bool writable, const char *what, void **data) {
    mp_buffer_info_t bi;
    if (!mp_get_buffer(obj, &bi, writable ? MP_BUFFER_RW : MP_BUFFER_READ) || bi.typecode != tc) {
        emlg_msg_t m = {{0}, 0};
        emlg_str(&m, what);
        emlg_str(&m, " must be array('");
        m.buf[m.len++] = tc;
        emlg_str(&m, "')");
        emlg_raise(&mp_type_TypeError, &m);
    }
    *data = bi.buf;
    return bi.len / emlg_itemsize(tc);
}

/* Raise ValueError "<what>: <core error name>" for a failed core call. */
static inline void emlg_check(int err, const char *what) {
    if (err != EMLC_OK) {
        emlg_msg_t m = {{0}, 0};
        emlg_str(&m, what);
        emlg_str(&m, ": ");
        emlg_str(&m, emlc_strerror(err));
        emlg_raise(&mp_type_ValueError, &m);
    }
}

/* An int argument in min..max, else ValueError naming it. */
static inline size_t emlg_size(mp_obj_t obj, size_t min, size_t max, const char *what) {
    mp_int_t v = mp_obj_get_int(obj);
    if (v < (mp_int_t)min || (size_t)v > max) {
        emlg_msg_t m = {{0}, 0};
        emlg_str(&m, what);
        emlg_str(&m, " must be ");
        emlg_int(&m, (long)min);
        emlg_str(&m, "..");
        emlg_int(&m, (long)max);
        emlg_raise(&mp_type_ValueError, &m);
    }
    return (size_t)v;
}

/* ---- The lean family ---------------------------------------------------------------------- */

/* Raise exception class `exc` (MP_QSTR_ValueError, MP_QSTR_TypeError, ...) with the static
 * message `msg`. */
static __attribute__((noinline, noreturn, unused)) void emlg_fail(qstr exc, const char *msg) {
    mp_raise_msg((const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(exc)), msg);
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

/* An int argument in min..max, else ValueError(msg). */
static __attribute__((noinline, unused)) mp_int_t emlg_int_in(mp_obj_t obj, mp_int_t min, mp_int_t max,
                                                            const char *msg) {
    mp_int_t v = mp_obj_get_int(obj);
    if (v < min || v > max) {
        emlg_fail(MP_QSTR_ValueError, msg);
    }
    return v;
}

/* ---- Both families ------------------------------------------------------------------------ */

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

#endif /* EMLGLUE_H */
