/* emlc_load_csv.c: the CSV tree-model file (docs/model-format.md §3) read as a stream into the
 * same block the binary file fills (emlc_load.h).
 *
 * Integers only: floats travel as their IEEE-754 bits, so there is no decimal conversion. Bytes
 * are consumed one at a time; a field is accumulated straight into an integer (no text buffer)
 * and acted on when it ends, so lines of any length (long `p` lines) need no memory. The counts
 * on the `s` line size the block (the caller allocates it); every later line writes its section.
 * The finished model goes through emlc_load_check() like a binary one; its errors name the last
 * line. Work per byte is bounded, and so is the length (EMLC_CSV_MAX_BYTES): a stream that never ends stops.
 */
#include "emlc_load.h"

/* Line kinds: a code from up to two letters (27 * first + second, a = 1), in the §3 order. */
enum { K_V, K_D, K_K, K_F, K_O, K_S, K_Q, K_R, K_N, K_P, K_LV, K_CL, K_UNKNOWN };
#define CODE1(a) ((a) - 'a' + 1)
#define CODE2(a, b) (27 * CODE1(a) + CODE1(b))
static const uint16_t kind_codes[K_UNKNOWN] = {CODE1('v'), CODE1('d'), CODE1('k'), CODE1('f'), CODE1('o'),
                                               CODE1('s'), CODE1('q'), CODE1('r'), CODE1('n'), CODE1('p'),
                                               CODE2('l', 'v'), CODE2('c', 'l')};
/* Integer fields after the kind; 0: a `p` line (w then class, count pairs). */
static const uint8_t kind_fields[K_UNKNOWN] = {1, 1, 1, 1, 1, 5, 2, 1, 5, 0, 1, 1};
#define HEADER_LINES 6

static emlc_err_t fail(emlc_csv_t *c, emlc_err_t err, const char *reason) {
    if (c->err == EMLC_OK) {
        c->err = err;
        c->reason = reason;
    }
    return (emlc_err_t)c->err;
}

/* Field f (1-based) of the current line within lo..hi (lo <= 0 <= hi). */
static int in_range(const emlc_csv_t *c, uint32_t f, int32_t lo, uint32_t hi) {
    uint32_t v = c->val[f - 1];
    return (c->neg >> f) & 1u ? 0u - v <= 0u - (uint32_t)lo : v <= hi;
}

/* (count * 65536 + w / 2) / w by shift and subtract (no division helper); w in 2..65535. */
static uint32_t q_of(uint32_t count, uint32_t w) {
    uint32_t n = count * 65536u + (w >> 1), q = 0, r = 0;
    int32_t i;
    for (i = 31; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1u);
        if (r >= w) {
            r -= w;
            q |= 1u << i;
        }
    }
    return q;
}

/* After the `s` line: the counts are complete; check them and the caller's limits, allocate and
 * bind the block. */
static void begin(emlc_csv_t *c) {
    emlc_trees_t *m = &c->m;
    uint32_t size[EMLC_TREES_SECTIONS], f;
    m->n_trees = (uint16_t)c->val[0];
    m->n_nodes = (uint16_t)c->val[1];
    m->n_payloads = (uint16_t)c->val[2];
    m->payload_bytes = c->val[3];
    m->has_labels = (uint8_t)c->val[4];
    if (!in_range(c, 1, 0, 0xffff) || !in_range(c, 2, 0, 0xffff) || !in_range(c, 3, 0, 0xffff)
        || !in_range(c, 5, 0, 0xff) || emlc_trees_check_counts(m, &f) != EMLC_OK) {
        fail(c, EMLC_ERR_SIZE, "counts out of range");
    } else if (m->n_trees > c->lim[0] || m->n_nodes > c->lim[1]
               || (m->leaf_kind != EMLC_LEAF_CLASS && m->n_payloads > c->lim[2])) {
        fail(c, EMLC_ERR_CAPACITY, "model larger than the capacity given to new()");
    } else {
        c->block_bytes = emlc_trees_layout(m, size);
        c->block = (uint8_t *)c->alloc(c->ctx, c->block_bytes);
        for (f = 0; f < c->block_bytes; f++) { /* padding stays 0; every array gets written */
            c->block[f] = 0;
        }
        emlc_trees_bind(m, c->block);
    }
}

/* A header line (v d k f o s), in that order, d optional. */
static void header_line(emlc_csv_t *c) {
    uint32_t h = c->kind;
    if (h < c->stage || (h > c->stage && !(h == K_K && c->stage == K_D))) {
        fail(c, EMLC_ERR_FORMAT, c->stage ? "header line repeated or out of order"
                                          : "no v,2 line first (emlearn's CSV? convert it with emlmpy)");
        return;
    }
    c->stage = (uint8_t)(h + 1);
    if (h != K_S && !in_range(c, 1, 0, 0xffff)) {
        fail(c, EMLC_ERR_SIZE, "count out of range");
    } else if (h == K_V) {
        if (c->val[0] != 2) {
            fail(c, EMLC_ERR_VERSION, c->val[0] == 1 ? "format version 1: re-save it with emlmpy" : "version");
        }
    } else if (h == K_D) {
        c->m.input = c->val[0] > 255 ? 255 : (uint8_t)c->val[0];
    } else if (h == K_K) {
        c->m.leaf_kind = c->val[0] > 255 ? 255 : (uint8_t)c->val[0];
    } else if (h == K_F) {
        c->m.n_features = (uint16_t)c->val[0];
    } else if (h == K_O) {
        c->m.n_outputs = (uint16_t)c->val[0];
    } else {
        begin(c);
    }
    if (c->err == EMLC_OK && h != K_V && h != K_S) {
        emlc_trees_t t = c->m; /* the counts so far, the rest valid stand-ins: the first bad field is this line's */
        t.n_features = c->stage > K_F ? t.n_features : 1;
        t.n_outputs = c->stage > K_O ? t.n_outputs : 1;
        t.n_trees = 1;
        t.n_payloads = t.leaf_kind != EMLC_LEAF_CLASS;
        if (emlc_trees_check_counts(&t, NULL) != EMLC_OK) {
            fail(c, EMLC_ERR_SIZE, "count out of range");
        }
    }
}

/* A node line: the child pair becomes one of the four shapes of docs/model-format.md §1. */
static void node_line(emlc_csv_t *c, uint32_t i) {
    emlc_node_t *n = (emlc_node_t *)c->m.nodes + i;
    int32_t l = (int32_t)c->val[2], r = (int32_t)c->val[3];
    uint32_t shape = 0, cc;
    if (!in_range(c, 1, 0, 0x1fff) || !in_range(c, 3, -32768, 32767) || !in_range(c, 4, -32768, 32767)
        || !in_range(c, 5, 0, 1) || (!in_range(c, 2, INT32_MIN, 0x7fffffff))) {
        fail(c, EMLC_ERR_VALUE, "node field out of range");
        return;
    }
    if (l < 0) {
        shape |= EMLC_FK_LEFT_LEAF;
    }
    if (r < 0) {
        shape |= EMLC_FK_RIGHT_LEAF;
    }
    cc = shape == 3 ? (uint32_t)(-1 - l) | ((uint32_t)(-1 - r) << 8)
       : shape == 1 ? (uint32_t)(-1 - l) : shape == 2 ? (uint32_t)(-1 - r) : (uint32_t)r - i;
    if ((l >= 0 && (uint32_t)l != i + 1) || (shape == 1 && (uint32_t)r != i + 1)
        || (shape == 0 && (uint32_t)r <= i) || (shape == 3 && (-1 - l > 255 || -1 - r > 255))) {
        fail(c, EMLC_ERR_CHILD, "children not in a pre-order shape");
        return;
    }
    n->key = (int32_t)c->val[1];
    n->fk = (uint16_t)((c->val[0] << EMLC_FK_FEATURE_SHIFT) | shape | (c->val[4] << 2));
    n->c = (uint16_t)cc;
}

/* Which section line kind k fills and how many lines of it the counts allow. */
static uint32_t kind_limit(const emlc_trees_t *m, uint32_t k) {
    switch (k) {
        case K_Q: return m->input == EMLC_INPUT_I16 ? m->n_features : 0;
        case K_R: return m->n_trees;
        case K_N: return m->n_nodes;
        case K_P: return m->leaf_kind == EMLC_LEAF_PROBA ? m->n_payloads : 0;
        case K_LV: return m->leaf_kind == EMLC_LEAF_VALUE ? m->n_payloads : 0;
        default: return m->has_labels ? m->n_outputs : 0; /* K_CL */
    }
}

/* The index of the current data line among the lines of its kind, checking it may come. */
static int data_index(emlc_csv_t *c, uint32_t *i) {
    uint32_t limit = kind_limit(&c->m, c->kind);
    *i = c->count[c->kind - K_Q];
    if (c->stage < HEADER_LINES) {
        fail(c, EMLC_ERR_FORMAT, c->stage ? "data line before the s line"
                                          : "no v,2 line first (emlearn's CSV? convert it with emlmpy)");
    } else if (*i >= limit) {
        fail(c, EMLC_ERR_SIZE, limit ? "more lines of this kind than the s line says" : "line kind not used by this model");
    }
    return c->err == EMLC_OK;
}

/* A field of a `p` line ended (f >= 1): w, then class/count pairs written as they come. */
static void payload_field(emlc_csv_t *c, uint32_t f, uint32_t v, uint32_t neg) {
    uint8_t *b = (uint8_t *)c->m.payload;
    uint32_t i;
    if ((f == 1 && !data_index(c, &i)) || c->err) {
        return;
    }
    if (neg || (f == 1 ? v < 2 || v > 0xffff : f & 1 ? v == 0 || v >= c->w : v > 255)) {
        fail(c, EMLC_ERR_VALUE, "payload w, class or count out of range");
        return;
    }
    if (!(f & 1) || f == 1) { /* w or a class: a new 3-byte cell */
        if (c->pay_at + 3 > c->m.payload_bytes || f > 2 * 255) {
            fail(c, EMLC_ERR_SIZE, "more payload bytes than the s line says");
            return;
        }
        if (f == 1) {
            c->pay_start = c->pay_at;
            c->w = v;
            b[c->pay_at++] = 0; /* n, set when the line ends */
        }
        b[c->pay_at++] = (uint8_t)v;
        if (f == 1) {
            b[c->pay_at++] = (uint8_t)(v >> 8);
        }
        return;
    }
    v = q_of(v, c->w); /* a count: its q */
    b[c->pay_at++] = (uint8_t)v;
    b[c->pay_at++] = (uint8_t)(v >> 8);
}

static void data_line(emlc_csv_t *c) {
    emlc_trees_t *m = &c->m;
    uint32_t i, sec = EMLC_SEC_LABELS; /* the section whose element i this line completes */
    emlc_err_t err;
    if (c->kind == K_P) {
        i = c->count[K_P - K_Q];
        if (c->fields < 4 || (c->fields & 1)) {
            fail(c, EMLC_ERR_FORMAT, "a p line needs w and class,count pairs");
            return;
        }
        ((uint8_t *)m->payload)[c->pay_start] = (uint8_t)((c->fields - 2) / 2);
        ((uint16_t *)m->offsets)[i] = (uint16_t)c->pay_start;
        sec = EMLC_SEC_OFFSETS;
    } else if (!data_index(c, &i)) {
        return;
    } else if (c->kind == K_N) {
        node_line(c, i);
        sec = EMLC_SEC_NODES;
    } else if (c->kind == K_R) {
        sec = EMLC_SEC_ROOTS;
        if (!in_range(c, 1, -32768, 32767)) {
            fail(c, EMLC_ERR_ROOT, "root out of range");
        }
        ((int16_t *)m->roots)[i] = (int16_t)c->val[0];
    } else if (c->kind == K_CL) {
        if (!in_range(c, 1, INT32_MIN, 0x7fffffff)) {
            fail(c, EMLC_ERR_VALUE, "class label out of range");
        }
        ((int32_t *)m->labels)[i] = (int32_t)c->val[0];
    } else { /* float bits: q (scale, offset) or lv */
        if ((c->neg & 6u) != 0) {
            fail(c, EMLC_ERR_VALUE, "float bits out of range");
        }
        if (c->kind == K_Q) {
            ((uint32_t *)m->scale)[i] = c->val[0];
            ((uint32_t *)m->offset)[i] = c->val[1];
            sec = EMLC_SEC_SCALE;
        } else {
            ((uint32_t *)m->values)[i] = c->val[0];
            sec = EMLC_SEC_VALUES;
        }
    }
    /* each element is checked on its own line, so an error names that line */
    if (c->err == EMLC_OK && sec != EMLC_SEC_LABELS && (err = emlc_trees_check_one(m, sec, i, NULL)) != EMLC_OK) {
        fail(c, err, emlc_load_reason(err));
    }
    c->count[c->kind - K_Q]++;
}

/* The current field ended (a ',' or the line end). */
static void end_field(emlc_csv_t *c) {
    uint32_t f = c->fields++;
    if (f == 0) { /* the kind */
        uint32_t k = 0;
        while (k < K_UNKNOWN && (c->len > 2 || kind_codes[k] != c->num)) {
            k++;
        }
        if (c->len == 0) {
            fail(c, EMLC_ERR_FORMAT, "bad line kind");
        }
        c->kind = (uint8_t)k;
        c->skip = k == K_UNKNOWN;
    } else if (!c->digits) {
        fail(c, EMLC_ERR_FORMAT, "expected an integer");
    } else if (c->kind == K_P) {
        payload_field(c, f, c->num, c->sign);
    } else if (f > kind_fields[c->kind]) {
        fail(c, EMLC_ERR_FORMAT, "too many fields");
    } else {
        c->val[f - 1] = c->sign ? 0u - c->num : c->num;
        c->neg = (uint8_t)(c->neg | (c->sign << f));
    }
    c->num = 0;
    c->len = c->digits = c->sign = c->space = 0;
}

static void end_line(emlc_csv_t *c) {
    if (c->fields || c->len) { /* blank lines are skipped */
        c->last_line = c->line;
        if (!c->skip) {
            end_field(c);
        }
        if (!c->skip && c->err == EMLC_OK) {
            if (c->kind != K_P && c->fields != kind_fields[c->kind] + 1u) {
                fail(c, EMLC_ERR_FORMAT, "wrong number of fields");
            } else if (c->kind <= K_S) {
                header_line(c);
            } else {
                data_line(c);
            }
        }
    }
    if (c->err == EMLC_OK) {
        c->line++;
    }
    c->fields = c->neg = c->skip = 0;
    c->len = c->digits = c->sign = c->space = 0;
    c->num = 0;
}

void emlc_csv_init(emlc_csv_t *c, const uint16_t lim[3], emlc_load_alloc_t alloc, void *ctx) {
    uint8_t *p = (uint8_t *)c;
    size_t i;
    for (i = 0; i < sizeof(*c); i++) {
        p[i] = 0;
    }
    c->line = 1;
    c->reason = "ok";
    c->lim[0] = lim[0];
    c->lim[1] = lim[1];
    c->lim[2] = lim[2];
    c->alloc = alloc;
    c->ctx = ctx;
}

emlc_err_t emlc_csv_feed(emlc_csv_t *c, const uint8_t *data, size_t len) {
    for (; len > 0 && c->err == EMLC_OK; len--) {
        uint32_t b = *data++;
        if (c->bom < 3) { /* a UTF-8 byte-order mark (editors on Windows write one) is skipped */
            if (b == (c->bom == 0 ? 0xefu : c->bom == 1 ? 0xbbu : 0xbfu)) {
                c->bom++;
                continue;
            }
            if (c->bom != 0) {
                return fail(c, EMLC_ERR_FORMAT, "bad byte-order mark");
            }
            c->bom = 3;
        }
        if (++c->bytes > EMLC_CSV_MAX_BYTES(c->block_bytes)) {
            return fail(c, EMLC_ERR_SIZE, "file too long for the model it declares");
        }
        if (c->cr && b != '\n') {
            return fail(c, EMLC_ERR_FORMAT, "carriage return not followed by a line feed");
        }
        c->cr = b == '\r';
        if (b == '\r') {
            continue;
        }
        if (b == '\n') {
            end_line(c);
        } else if (c->skip) {
            continue;
        } else if (b == ',') {
            end_field(c);
        } else if (b == ' ' || b == '\t') {
            c->space = c->len > 0;
        } else if (c->space || c->len >= 16) {
            return fail(c, EMLC_ERR_FORMAT, c->space ? "space inside a field" : "field too long");
        } else if (c->fields == 0) { /* the kind: lower-case letters, the first two coded */
            if (b < 'a' || b > 'z') {
                return fail(c, EMLC_ERR_FORMAT, "bad line kind");
            }
            c->num = c->len < 2 ? c->num * 27 + (b - 'a' + 1) : c->num;
            c->len++;
        } else {
            if ((b == '-' || b == '+') && c->len == 0) {
                c->sign = b == '-';
            } else if (b - '0' > 9u || c->num > 429496729u || (c->num == 429496729u && b > '5')) {
                return fail(c, b - '0' > 9u ? EMLC_ERR_FORMAT : EMLC_ERR_VALUE,
                            b - '0' > 9u ? "expected an integer" : "number out of range");
            } else {
                c->num = c->num * 10 + (b - '0');
                c->digits = 1;
            }
            c->len++;
        }
    }
    return (emlc_err_t)c->err;
}

emlc_err_t emlc_csv_finish(emlc_csv_t *c) {
    emlc_trees_t *m = &c->m;
    emlc_load_error_t e;
    uint32_t k;
    if (c->err == EMLC_OK) {
        end_line(c); /* a last line without a line end (or cut after the \r of its \r\n) */
    }
    if (c->err != EMLC_OK) {
        return (emlc_err_t)c->err;
    }
    c->line = c->last_line; /* errors below name the last line that had content */
    if (c->stage < HEADER_LINES) {
        return fail(c, EMLC_ERR_FORMAT, c->stage ? "missing header lines"
                                                 : "no v,2 line first (emlearn's CSV? convert it with emlmpy)");
    }
    for (k = K_Q; k <= K_CL; k++) {
        if (c->count[k - K_Q] != kind_limit(m, k)) {
            return fail(c, EMLC_ERR_SIZE, "fewer lines than the s line says (truncated file?)");
        }
    }
    if (c->pay_at != m->payload_bytes) {
        return fail(c, EMLC_ERR_SIZE, "fewer payload bytes than the s line says");
    }
    if (emlc_load_check(m, c->block, &e) != EMLC_OK) {
        return fail(c, EMLC_ERR_VALUE, e.reason);
    }
    return EMLC_OK;
}
