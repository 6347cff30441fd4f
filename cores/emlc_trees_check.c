/* emlc_trees_check.c: the layout of a tree model's block and its validation
 * (docs/model-format.md §1-§2): section sizes and binding, the counts, and every element (nodes,
 * roots, payloads, values, quantization), whole or one at a time. Prediction (emlc_trees.c)
 * relies on what is checked here and checks nothing per node.
 */
#include "emlc_trees.h"

/* ---------------------------------------------------------------- layout */

static uint32_t pad4(uint32_t n) {
    return (n + 3u) & ~3u;
}

uint32_t emlc_trees_layout(const emlc_trees_t *m, uint32_t size[EMLC_TREES_SECTIONS]) {
    uint32_t total = 0, s, proba = m->leaf_kind == EMLC_LEAF_PROBA, quant = m->input == EMLC_INPUT_I16;
    size[EMLC_SEC_NODES] = (uint32_t)m->n_nodes * 8u;
    size[EMLC_SEC_ROOTS] = (uint32_t)m->n_trees * 2u;
    size[EMLC_SEC_OFFSETS] = proba ? (uint32_t)m->n_payloads * 2u : 0;
    size[EMLC_SEC_PAYLOAD] = proba ? m->payload_bytes : 0;
    size[EMLC_SEC_VALUES] = m->leaf_kind == EMLC_LEAF_VALUE ? (uint32_t)m->n_payloads * 4u : 0;
    size[EMLC_SEC_SCALE] = size[EMLC_SEC_OFFSET] = quant ? (uint32_t)m->n_features * 4u : 0;
    size[EMLC_SEC_LABELS] = m->has_labels ? (uint32_t)m->n_outputs * 4u : 0;
    for (s = 0; s < EMLC_TREES_SECTIONS; s++) {
        total += pad4(size[s]);
    }
    return total;
}

void emlc_trees_bind(emlc_trees_t *m, void *block) {
    uint32_t size[EMLC_TREES_SECTIONS], s;
    const uint8_t *at[EMLC_TREES_SECTIONS];
    const uint8_t *p = (const uint8_t *)block;
    emlc_trees_layout(m, size);
    for (s = 0; s < EMLC_TREES_SECTIONS; s++) {
        at[s] = size[s] ? p : NULL;
        p += pad4(size[s]);
    }
    m->nodes = (const emlc_node_t *)(const void *)at[EMLC_SEC_NODES];
    m->roots = (const int16_t *)(const void *)at[EMLC_SEC_ROOTS];
    m->offsets = (const uint16_t *)(const void *)at[EMLC_SEC_OFFSETS];
    m->payload = at[EMLC_SEC_PAYLOAD];
    m->values = (const float *)(const void *)at[EMLC_SEC_VALUES];
    m->scale = (const float *)(const void *)at[EMLC_SEC_SCALE];
    m->offset = (const float *)(const void *)at[EMLC_SEC_OFFSET];
    m->labels = (const int32_t *)(const void *)at[EMLC_SEC_LABELS];
}

/* ---------------------------------------------------------------- validation */

/* Number of leaf references a node or root may use. */
static uint32_t n_refs(const emlc_trees_t *m) {
    switch (m->leaf_kind) {
        case EMLC_LEAF_CLASS: return m->n_outputs;
        case EMLC_LEAF_PROBA: return (uint32_t)m->n_outputs + m->n_payloads;
        default: return m->n_payloads;
    }
}

static int finite_bits(const float *v) {
    emlc_bits_t b;
    b.f = *v;
    return (b.u & 0x7f800000u) != 0x7f800000u;
}

/* 0 < *v < inf, by its bits (no float comparison: no soft-float routine on FPU-less chips) */
static int positive_bits(const float *v) {
    emlc_bits_t b;
    b.f = *v;
    return b.u - 1u < 0x7f7fffffu;
}

emlc_err_t emlc_trees_check_counts(const emlc_trees_t *m, uint32_t *field) {
    uint32_t f, kind = m->leaf_kind, refs = n_refs(m);
    /* one condition per field, in header order; the first that fails is reported */
    const int bad[] = {
        m->input > EMLC_INPUT_I16,
        kind > EMLC_LEAF_VALUE,
        m->n_features == 0 || m->n_features > EMLC_TREES_MAX_FEATURES,
        m->n_outputs == 0 || m->n_outputs > EMLC_TREES_MAX_OUTPUTS || (kind == EMLC_LEAF_VALUE && m->n_outputs != 1),
        m->n_trees == 0 || m->n_trees > EMLC_TREES_MAX_NODES,
        m->n_nodes > EMLC_TREES_MAX_NODES,
        (kind == EMLC_LEAF_CLASS && m->n_payloads != 0) || refs == 0 || refs > EMLC_TREES_MAX_REFS,
        m->has_labels > 1 || (m->has_labels && kind == EMLC_LEAF_VALUE),
        kind == EMLC_LEAF_PROBA ? m->payload_bytes > EMLC_TREES_MAX_PAYLOAD : m->payload_bytes != 0,
    };
    for (f = 0; f < sizeof(bad) / sizeof(bad[0]); f++) {
        if (bad[f]) {
            if (field != NULL) {
                *field = f;
            }
            return f <= EMLC_FIELD_LEAF_KIND || f == EMLC_FIELD_FLAGS ? EMLC_ERR_KIND : EMLC_ERR_SIZE;
        }
    }
    return EMLC_OK;
}

/* Node i: EMLC_ERR_FEATURE, EMLC_ERR_VALUE (a float model's key outside key(-inf)..key(+inf),
 * where NaN would not follow missing_left; the pass-through key INT32_MAX with missing_left set is
 * allowed), EMLC_ERR_CHILD (a node child i + 1 or i + c out of range, c == 0 in shape 0),
 * EMLC_ERR_CLASS (a leaf reference out of range). */
static emlc_err_t check_node(const emlc_trees_t *m, uint32_t i, uint32_t refs) {
    const emlc_node_t *n = &m->nodes[i];
    uint32_t fk = n->fk, c = n->c, leaves = fk & (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF);
    int32_t key = n->key;
    if ((fk >> EMLC_FK_FEATURE_SHIFT) >= m->n_features) {
        return EMLC_ERR_FEATURE;
    }
    if (m->input == EMLC_INPUT_F32 && (key < -0x7f800001
        || (key > 0x7f800000 && !(key == INT32_MAX && (fk & EMLC_FK_MISSING_LEFT))))) {
        return EMLC_ERR_VALUE;
    }
    if (leaves != (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF) && i + 1 >= m->n_nodes) {
        return EMLC_ERR_CHILD;
    }
    if (leaves == 0) {
        return c == 0 || i + c >= m->n_nodes ? EMLC_ERR_CHILD : EMLC_OK;
    }
    if (leaves == (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF)) {
        c = (c & 0xffu) > (c >> 8) ? c & 0xffu : c >> 8;
    }
    return c >= refs ? EMLC_ERR_CLASS : EMLC_OK;
}

/* PROBA payload p (docs/model-format.md §1); *byte gets the offending byte's index. */
static emlc_err_t check_payload(const emlc_trees_t *m, uint32_t p, uint32_t *byte) {
    const uint8_t *b = m->payload;
    uint32_t o = m->offsets[p], end = m->payload_bytes, n, w, j, at = o;
    if (o + 3 > end) {
        goto bad;
    }
    n = b[o];
    w = emlc_trees_u16le(b + o + 1);
    if (n == 0 || n > m->n_outputs || w < 2 || o + 3 + 3 * n > end) {
        goto bad;
    }
    for (j = 0; j < n; j++) {
        uint32_t cls = b[at + 3], q = emlc_trees_u16le(b + at + 4), count = (q * w + 32768u) >> 16;
        at += 3; /* the term's class byte */
        if (cls >= m->n_outputs || (j > 0 && cls <= b[at - 3])) { /* classes increase */
            goto bad;
        }
        /* count in 1..w-1; q canonical: 0 <= count * 65536 + w/2 - q * w < w (a negative
         * difference wraps to a huge unsigned value); located at q */
        if (count == 0 || count >= w || count * 65536u + (w >> 1) - q * w >= w) {
            at += 1;
            goto bad;
        }
    }
    return EMLC_OK;
bad:
    *byte = at;
    return EMLC_ERR_VALUE;
}

static void put_where(emlc_trees_where_t *where, uint32_t sec, uint32_t at) {
    if (where != NULL) {
        where->section = (uint8_t)sec;
        where->index = at;
    }
}

emlc_err_t emlc_trees_check_one(const emlc_trees_t *m, uint32_t sec, uint32_t i, emlc_trees_where_t *where) {
    uint32_t at = i, refs = n_refs(m);
    emlc_err_t err = EMLC_OK;
    if (sec == EMLC_SEC_NODES) {
        err = check_node(m, i, refs);
    } else if (sec == EMLC_SEC_ROOTS) {
        int32_t r = m->roots[i];
        err = (r >= 0 ? (uint32_t)r >= m->n_nodes : (uint32_t)(-1 - r) >= refs) ? EMLC_ERR_ROOT : EMLC_OK;
    } else if (sec == EMLC_SEC_OFFSETS) {
        if (check_payload(m, i, &at) != EMLC_OK) {
            err = EMLC_ERR_VALUE;
            /* an offset beyond the payload is located at the offset, else at the bad byte */
            if (m->offsets[i] + 3u <= m->payload_bytes) {
                sec = EMLC_SEC_PAYLOAD;
            } else {
                at = i;
            }
        }
    } else if (sec == EMLC_SEC_VALUES) {
        err = finite_bits(&m->values[i]) ? EMLC_OK : EMLC_ERR_VALUE;
    } else if (!positive_bits(&m->scale[i])) { /* EMLC_SEC_SCALE: scale and offset i */
        err = EMLC_ERR_VALUE;
    } else if (!finite_bits(&m->offset[i])) {
        err = EMLC_ERR_VALUE;
        sec = EMLC_SEC_OFFSET;
    }
    if (err != EMLC_OK) {
        put_where(where, sec, at);
    }
    return err;
}

emlc_err_t emlc_trees_validate(const emlc_trees_t *m, emlc_trees_where_t *where) {
    emlc_err_t err;
    uint32_t s, i, n, proba, quant;
    static const uint8_t secs[5] = {EMLC_SEC_NODES, EMLC_SEC_ROOTS, EMLC_SEC_OFFSETS, EMLC_SEC_VALUES,
                                    EMLC_SEC_SCALE};
    if (m == NULL) {
        return EMLC_ERR_NULL;
    }
    err = emlc_trees_check_counts(m, NULL);
    proba = m->leaf_kind == EMLC_LEAF_PROBA;
    quant = m->input == EMLC_INPUT_I16;
    if (err == EMLC_OK && (m->roots == NULL || (m->n_nodes && m->nodes == NULL)
        || (proba && m->n_payloads && (m->offsets == NULL || m->payload == NULL))
        || (m->leaf_kind == EMLC_LEAF_VALUE && m->values == NULL)
        || (quant && (m->scale == NULL || m->offset == NULL)) || (m->has_labels && m->labels == NULL))) {
        err = EMLC_ERR_NULL;
    }
    if (err != EMLC_OK) {
        put_where(where, EMLC_SEC_NODES, 0);
        return err;
    }
    for (s = 0; s < 5; s++) {
        n = s == 0 ? m->n_nodes : s == 1 ? m->n_trees : s == 2 ? (proba ? m->n_payloads : 0)
          : s == 3 ? (m->leaf_kind == EMLC_LEAF_VALUE ? m->n_payloads : 0) : (quant ? m->n_features : 0);
        for (i = 0; i < n; i++) {
            err = emlc_trees_check_one(m, secs[s], i, where);
            if (err != EMLC_OK) {
                return err;
            }
        }
    }
    return EMLC_OK;
}
