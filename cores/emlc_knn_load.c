/* emlc_knn_load.c: header and block checks of the binary k-NN file (docs/model-format.md §4,
 * version 2). See emlc_knn.h. */
#include "emlc_knn.h"

/* the header struct is the file's first 32 bytes, field for field */
typedef char emlc_knn_header_is_32_bytes[sizeof(emlc_knn_header_t) == EMLC_KNN_HEADER ? 1 : -1];

static emlc_err_t fail(emlc_load_error_t *e, emlc_err_t err, uint32_t where, const char *reason) {
    e->where = where;
    e->reason = reason;
    return err;
}

emlc_err_t emlc_knn_load_header(emlc_knn_file_t *f, emlc_load_error_t *e) {
    const emlc_knn_header_t *h = &f->h;
    uint32_t rest = EMLC_KNN_MAX_ELEMENTS, at = 0, s, i, where = 0;
    const char *why = NULL;
    /* n_items * n_features <= 2^28 by repeated subtraction: exact, no overflow, no 64-bit
     * multiply; at most 65535 steps, once per load */
    for (i = 0; i < h->n_features && rest >= h->n_items; i++) {
        rest -= h->n_items;
    }
    /* the sections: < 2^30 + 2^29 + 2^19 + 2^17 bytes together, no overflow */
    f->size[EMLC_KNN_SEC_ITEMS] = (EMLC_KNN_MAX_ELEMENTS - rest) << (h->dtype == EMLC_KNN_I16 ? 1 : 2);
    f->size[EMLC_KNN_SEC_LABELS] = h->n_items * 2u;
    f->size[EMLC_KNN_SEC_SCALE] = f->size[EMLC_KNN_SEC_OFFSET] = h->dtype == EMLC_KNN_I16 ? h->n_features * 4u : 0u;
    f->size[EMLC_KNN_SEC_CLASSES] = h->flags & EMLC_KNN_FLAG_CLASSES ? h->n_classes * 4u : 0u;
    for (s = 0; s < EMLC_KNN_SECTIONS; s++) {
        f->at[s] = at;
        at += (f->size[s] + 3u) & ~3u;
    }
    /* the checks, in the order of emlmpy's reader */
    if (h->magic[0] != 'E' || h->magic[1] != 'M' || h->magic[2] != 'L' || h->magic[3] != 'K') {
        why = h->magic[3] == 'T' ? "a tree model (use emltrees)" : "not a k-NN file";
    } else if (h->version != 2) {
        where = 4;
        why = h->version == 1 ? "version 1: re-save it with emlmpy" : "unknown version";
    } else if (h->dtype > EMLC_KNN_I16) {
        where = 6;
        why = "unknown dtype";
    } else if (h->reserved7 != 0 || h->reserved20 != 0 || h->reserved28 != 0) {
        where = h->reserved7 != 0 ? 7 : h->reserved20 != 0 ? 20 : 28;
        why = "reserved field not 0";
    } else if (h->flags & ~EMLC_KNN_FLAG_CLASSES) {
        where = 14;
        why = "unknown flags";
    } else if (h->n_features == 0) {
        where = 8;
        why = "n_features is 0";
    } else if (h->n_classes - 1u >= EMLC_KNN_MAX_CLASSES) { /* 0 wraps around */
        where = 10;
        why = "n_classes not 1..32768";
    } else if (h->k == 0) {
        where = 12;
        why = "k is 0";
    } else if (h->n_items == 0 || i < h->n_features) {
        where = 16;
        why = "n_items 0 or too large";
    } else if (h->k > h->n_items) {
        where = 12;
        why = "k > n_items";
    } else if (h->file_bytes != EMLC_KNN_HEADER + at) {
        where = 24;
        why = "size does not match the counts";
    }
    return why != NULL ? fail(e, EMLC_ERR_FORMAT, where, why) : EMLC_OK;
}

emlc_err_t emlc_knn_load_check(const emlc_knn_file_t *f, uint8_t *body, emlc_knn_t *m, emlc_load_error_t *e) {
    uint32_t s, i, at, u, bad = 0;
    for (s = 0; s < EMLC_KNN_SECTIONS; s++) {
        for (i = f->size[s]; i & 3u; i++) {
            if (body[f->at[s] + i] != 0) {
                return fail(e, EMLC_ERR_FORMAT, EMLC_KNN_HEADER + f->at[s] + i, "padding byte not 0");
            }
        }
    }
    /* the elements in file order: float items finite, labels < n_classes, scales finite and > 0,
     * offsets finite (a float with all exponent bits set is infinite or NaN) */
    for (s = f->h.dtype == EMLC_KNN_F32 ? EMLC_KNN_SEC_ITEMS : EMLC_KNN_SEC_LABELS; s < EMLC_KNN_SEC_CLASSES; s++) {
        at = f->at[s];
        for (i = 0; i < f->size[s]; i += s == EMLC_KNN_SEC_LABELS ? 2u : 4u) {
            if (s == EMLC_KNN_SEC_LABELS) {
                bad = *(const uint16_t *)(const void *)(body + at + i) >= f->h.n_classes;
            } else {
                u = *(const uint32_t *)(const void *)(body + at + i);
                bad = s == EMLC_KNN_SEC_SCALE ? u - 1u >= 0x7f7fffffu /* not 1..0x7f7fffff */
                                              : (u & 0x7f800000u) == 0x7f800000u;
            }
            if (bad) {
                return fail(e, EMLC_ERR_VALUE, EMLC_KNN_HEADER + at + i,
                            s == EMLC_KNN_SEC_ITEMS ? "item not finite" : s == EMLC_KNN_SEC_LABELS ? "label >= n_classes"
                            : s == EMLC_KNN_SEC_SCALE ? "scale not finite and > 0" : "offset not finite");
            }
        }
    }
    m->data = body;
    m->labels = (int16_t *)(void *)(body + f->at[EMLC_KNN_SEC_LABELS]);
    m->max_items = m->n_items = f->h.n_items;
    m->n_features = f->h.n_features;
    m->dtype = f->h.dtype;
    return EMLC_OK;
}
