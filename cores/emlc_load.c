/* emlc_load.c: header and block checks of the binary tree-model file (docs/model-format.md §2). */
#include "emlc_load.h"

static uint32_t rd16(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p) {
    return rd16(p) | (rd16(p + 2) << 16);
}

static emlc_err_t fail(emlc_load_error_t *e, emlc_err_t err, uint32_t where, const char *reason) {
    e->where = where;
    e->reason = reason;
    return err;
}

/* Header field offsets, indexed by EMLC_FIELD_* (emlc_trees_check_counts). */
static const uint8_t field_at[] = {6, 7, 8, 10, 12, 14, 16, 18, 20};

emlc_err_t emlc_load_header(const uint8_t hdr[EMLC_LOAD_HEADER], emlc_trees_t *m, uint32_t *file_bytes,
                            emlc_load_error_t *e) {
    uint32_t size[EMLC_TREES_SECTIONS], field, version = rd16(hdr + 4);
    emlc_trees_t empty = {0};
    emlc_err_t err;
    *m = empty;
    if (hdr[0] != 'E' || hdr[1] != 'M' || hdr[2] != 'L' || (hdr[3] != 'T' && hdr[3] != 'K')) {
        return fail(e, EMLC_ERR_FORMAT, 0, "not a binary model (CSV? convert it with emlmpy)");
    }
    if (hdr[3] == 'K') {
        return fail(e, EMLC_ERR_KIND, 3, "a k-NN model");
    }
    if (version != 2) {
        return fail(e, EMLC_ERR_VERSION, 4, version == 1 ? "format version 1: re-save it with emlmpy" : "version");
    }
    if (rd32(hdr + 28) != 0) {
        return fail(e, EMLC_ERR_FORMAT, 28, "reserved field not 0");
    }
    m->input = hdr[6];
    m->leaf_kind = hdr[7];
    m->n_features = (uint16_t)rd16(hdr + 8);
    m->n_outputs = (uint16_t)rd16(hdr + 10);
    m->n_trees = (uint16_t)rd16(hdr + 12);
    m->n_nodes = (uint16_t)rd16(hdr + 14);
    m->n_payloads = (uint16_t)rd16(hdr + 16);
    m->has_labels = rd16(hdr + 18) > 255 ? 255 : (uint8_t)rd16(hdr + 18);
    m->payload_bytes = rd32(hdr + 20);
    err = emlc_trees_check_counts(m, &field);
    if (err != EMLC_OK) {
        return fail(e, err, field_at[field], "header");
    }
    *file_bytes = EMLC_LOAD_HEADER + emlc_trees_layout(m, size);
    if (rd32(hdr + 24) != *file_bytes) {
        return fail(e, EMLC_ERR_SIZE, 24, "file size does not match the counts");
    }
    return EMLC_OK;
}

emlc_err_t emlc_load_check(const emlc_trees_t *m, const uint8_t *block, emlc_load_error_t *e) {
    static const uint8_t elem[EMLC_TREES_SECTIONS] = {8, 2, 2, 1, 4, 4, 4, 4};
    uint32_t size[EMLC_TREES_SECTIONS], start[EMLC_TREES_SECTIONS], s, i, at = 0;
    emlc_trees_where_t w;
    emlc_err_t err;
    emlc_trees_layout(m, size);
    for (s = 0; s < EMLC_TREES_SECTIONS; s++) {
        start[s] = at;
        for (i = size[s]; i & 3u; i++) {
            if (block[at + i] != 0) {
                return fail(e, EMLC_ERR_FORMAT, EMLC_LOAD_HEADER + at + i, "padding byte not 0");
            }
        }
        at += (size[s] + 3u) & ~3u;
    }
    err = emlc_trees_validate(m, &w);
    if (err != EMLC_OK) { /* the header passed: only element errors are left */
        return fail(e, err, EMLC_LOAD_HEADER + start[w.section] + w.index * elem[w.section], emlc_load_reason(err));
    }
    return EMLC_OK;
}

const char *emlc_load_reason(emlc_err_t err) {
    return err == EMLC_ERR_FEATURE ? "feature index out of range"
         : err == EMLC_ERR_CHILD ? "node child out of range"
         : err == EMLC_ERR_CLASS ? "leaf reference out of range"
         : err == EMLC_ERR_ROOT ? "root out of range" : "bad threshold, payload, value or scale";
}
