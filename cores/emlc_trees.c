/* emlc_trees.c: tree-ensemble inference over the arrays of docs/model-format.md §1 (version 2).
 *
 * Hot path: walk — per node one 8-byte node (key, fk, c), one input load (float: 3 integer
 * ops for the key and a one-sided NaN test), one signed compare and the shape's step. Aggregation
 * follows docs/model-format.md "Aggregation" to the bit: integer votes and fixed-point sums, and
 * float32 only for probabilities, regression values and PROBA near-ties.
 */
#include "emlc_trees.h"
#include "emlc_f64.h"

#if defined(__GNUC__)
#define EMLC_NOINLINE __attribute__((noinline))
#else
#define EMLC_NOINLINE
#endif


static inline int32_t key_f32(float x) {
    emlc_bits_t b;
    b.f = x;
    /* negative: flip the 31 magnitude bits so that larger magnitude gives a smaller key */
    b.u ^= (0u - (b.u >> 31)) >> 1;
    return b.i;
}

int32_t emlc_trees_key_f32(float x) {
    return key_f32(x);
}

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

static uint32_t u16le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
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
    w = u16le(b + o + 1);
    if (n == 0 || n > m->n_outputs || w < 2 || o + 3 + 3 * n > end) {
        goto bad;
    }
    for (j = 0; j < n; j++) {
        uint32_t cls = b[at + 3], q = u16le(b + at + 4), count = (q * w + 32768u) >> 16;
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

/* ---------------------------------------------------------------- the walk */

/* walk(m, x, t, t_end, out, mode) follows trees t .. t_end - 1 (t < t_end), in order, from their
 * roots to their leaves. EMLC_VOTES: out is uint32_t votes[n_outputs], votes[ref] += 1 per tree
 * (CLASS leaves); EMLC_REFS: out is uint16_t refs[t_end - t], refs[i] = the leaf reference of
 * tree t + i.
 * Invariant (emlc_trees_validate): every node child has a larger index than its parent and is
 * < n_nodes, so each walk ends within n_nodes steps. fk bit 0 set: the left child is a leaf
 * (reference c, or c & 0xff when bit 1 is set too); bit 1: the right child is (c, or c >> 8).
 * A node child is i + 1, except the right child of shape 0 (i + c). A float NaN goes the way of
 * missing_left (fk bit 2): a positive NaN's key is above every threshold, a negative NaN's below,
 * so each side tests only for the NaN that lands on it (that rare case first), then the bit. */
#define EMLC_VOTES 0u
#define EMLC_REFS 1u

#if defined(__GNUC__) && !defined(__clang__) && defined(__ARM_ARCH_6M__) && defined(__thumb__) \
    && !defined(EMLC_NO_ASM)
#define EMLC_WALK_THUMB1 1
#endif

#if defined(EMLC_WALK_THUMB1)
/* Cortex-M0 (armv6m, Thumb-1): the C walk below, by hand. GCC's Thumb-1 code for the C keeps
 * bit masks in registers and spills the tree loop to the stack (on make bench-cores' float forest
 * about 17.8 instructions per node and 35 per tree, 0.55x emlearn's instructions); this takes 15
 * per float node to the left and 17-18 to the right (int16: 10 and 12-13) and about 19 per tree.
 * tests_host/test_cores_armv6m.py runs this and the C (-DEMLC_NO_ASM) on an emulated Cortex-M0
 * against the host build and the format's rule, NaN routing included.
 * Flags come from shifts, not masks: fk << 31 puts bit 0 (left leaf) in N; fk << 30 sets Z for
 * shape 0 and puts bit 1 (right leaf) in N; fk << 29 puts missing_left in N. One register holds
 * the NaN bound 0x7f800001: k >= it (cmp) is a positive NaN, k < -it (cmn) a negative one; 0
 * there selects the int16 loop. out carries the mode in bit 0 (set: refs, which are 2-aligned).
 * ip holds the nodes, lr the end of the roots. GCC only: clang keeps r7 for the frame pointer and
 * cannot give the asm the 8 low registers it takes. */
static EMLC_NOINLINE void walk(const emlc_trees_t *m, const void *x, uint32_t t, uint32_t t_end, void *out,
                               uint32_t mode) {
    const int16_t *root = m->roots + t;
    uintptr_t o = (uintptr_t)out | mode;
    uintptr_t n = (uintptr_t)m->nodes, tmp = (uintptr_t)(m->roots + t_end);
    uint32_t fk, k;
    int32_t nan = (int32_t)((m->input - 1u) & 0x7f800001u); /* input: 0 float, 1 int16 */
    __asm__ volatile(
        ".syntax unified\n"
        "     mov   ip, %[n]\n"                /* the nodes */
        "     mov   lr, %[t]\n"                /* the end of the roots */
        /* per tree: the root r, a node or leaf -1 - r */
        "0:   ldrh  %[n], [%[root]]\n"
        "     adds  %[root], #2\n"
        "     lsls  %[n], %[n], #16\n"
        "     bmi   9f\n"
        "     lsrs  %[n], %[n], #13\n"
        "     add   %[n], ip\n"
        "     cmp   %[nan], #0\n"
        "     bne   2f\n"
        "     b     20f\n"
        /* float: left of the threshold (key(x) <= key) */
        "1:   cmn   %[k], %[nan]\n"          /* a negative NaN: missing_left decides */
        "     blt   5f\n"
        "3:   lsls  %[t], %[fk], #31\n"
        "     bmi   7f\n"
        "     adds  %[n], #8\n"
        "2:   ldrh  %[fk], [%[n], #4]\n"
        "     lsrs  %[t], %[fk], #3\n"
        "     lsls  %[t], %[t], #2\n"
        "     ldr   %[k], [%[x], %[t]]\n"
        "     asrs  %[t], %[k], #31\n"      /* key: flip the magnitude bits when negative */
        "     lsrs  %[t], %[t], #1\n"
        "     eors  %[k], %[t]\n"
        "     ldr   %[t], [%[n]]\n"
        "     cmp   %[k], %[t]\n"
        "     ble   1b\n"
        /* float: right of the threshold */
        "     cmp   %[k], %[nan]\n"          /* a positive NaN: missing_left decides */
        "     bge   5f\n"
        "4:   lsls  %[t], %[fk], #30\n"
        "     bne   6f\n"
        "     ldrh  %[t], [%[n], #6]\n"      /* shape 0: node i + c */
        "     lsls  %[t], %[t], #3\n"
        "     adds  %[n], %[t]\n"
        "     b     2b\n"
        "6:   bmi   8f\n"
        "     adds  %[n], #8\n"              /* shape 1: node i + 1 */
        "     b     2b\n"
        "5:   lsls  %[t], %[fk], #29\n"      /* NaN: left if missing_left */
        "     bmi   3b\n"
        "     b     4b\n"
        /* int16 */
        "21:  lsls  %[t], %[fk], #31\n"
        "     bmi   7f\n"
        "     adds  %[n], #8\n"
        "20:  ldrh  %[fk], [%[n], #4]\n"
        "     lsrs  %[t], %[fk], #3\n"
        "     lsls  %[t], %[t], #1\n"
        "     ldrsh %[k], [%[x], %[t]]\n"
        "     ldr   %[t], [%[n]]\n"
        "     cmp   %[k], %[t]\n"
        "     ble   21b\n"
        "     lsls  %[t], %[fk], #30\n"
        "     bne   22f\n"
        "     ldrh  %[t], [%[n], #6]\n"
        "     lsls  %[t], %[t], #3\n"
        "     adds  %[n], %[t]\n"
        "     b     20b\n"
        "22:  bmi   8f\n"
        "     adds  %[n], #8\n"
        "     b     20b\n"
        "12:  subs  %[t], %[out], #1\n"      /* *refs++ = ref */
        "     strh  %[k], [%[t]]\n"
        "     adds  %[out], #2\n"
        "     b     11f\n"
        /* the leaf reference: left c (shape 3: c & 0xff), right c (shape 3: c >> 8) */
        "7:   ldrh  %[k], [%[n], #6]\n"
        "     lsls  %[t], %[fk], #30\n"
        "     bpl   10f\n"
        "     uxtb  %[k], %[k]\n"
        "     b     10f\n"
        "8:   ldrh  %[k], [%[n], #6]\n"
        "     lsls  %[t], %[fk], #31\n"
        "     bpl   10f\n"
        "     lsrs  %[k], %[k], #8\n"
        "     b     10f\n"
        "9:   asrs  %[n], %[n], #16\n"
        "     mvns  %[k], %[n]\n"
        "10:  lsrs  %[t], %[out], #1\n"
        "     bcs   12b\n"
        "     lsls  %[t], %[k], #2\n"        /* votes[ref] += 1 */
        "     ldr   %[n], [%[out], %[t]]\n"
        "     adds  %[n], #1\n"
        "     str   %[n], [%[out], %[t]]\n"
        "11:  cmp   %[root], lr\n"
        "     bcc   0b\n"
        : [n] "+l"(n), [fk] "=&l"(fk), [k] "=&l"(k), [t] "+l"(tmp), [root] "+l"(root), [out] "+l"(o)
        : [x] "l"(x), [nan] "l"(nan)
        : "cc", "memory", "ip", "lr");
}
#else
/* The leaf reference of the tree whose root node is n. */
static inline uint32_t leaf_i16(const emlc_node_t *n, const int16_t *x) {
    for (;;) {
        uint32_t fk = n->fk;
        if (x[fk >> EMLC_FK_FEATURE_SHIFT] <= n->key) {
            if (fk & EMLC_FK_LEFT_LEAF) {
                return fk & EMLC_FK_RIGHT_LEAF ? n->c & 0xffu : n->c;
            }
            n += 1;
        } else if (!(fk & (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF))) {
            n += n->c;
        } else if (fk & EMLC_FK_RIGHT_LEAF) {
            return fk & EMLC_FK_LEFT_LEAF ? (uint32_t)n->c >> 8 : n->c;
        } else {
            n += 1;
        }
    }
}

static inline uint32_t leaf_f32(const emlc_node_t *n, const float *x) {
    for (;;) {
        uint32_t fk = n->fk;
        int32_t k = key_f32(x[fk >> EMLC_FK_FEATURE_SHIFT]);
        if (k <= n->key) {
            if (k < -0x7f800001 && !(fk & EMLC_FK_MISSING_LEFT)) { /* a negative NaN */
                goto right;
            }
        left:
            if (fk & EMLC_FK_LEFT_LEAF) {
                return fk & EMLC_FK_RIGHT_LEAF ? n->c & 0xffu : n->c;
            }
            n += 1;
        } else {
            if (k > 0x7f800000 && (fk & EMLC_FK_MISSING_LEFT)) { /* a positive NaN */
                goto left;
            }
        right:
            if (!(fk & (EMLC_FK_LEFT_LEAF | EMLC_FK_RIGHT_LEAF))) {
                n += n->c;
            } else if (fk & EMLC_FK_RIGHT_LEAF) {
                return fk & EMLC_FK_LEFT_LEAF ? (uint32_t)n->c >> 8 : n->c;
            } else {
                n += 1;
            }
        }
    }
}

/* Compiled at -O2 where GCC allows: at -Os it reloads the loop's constants on every node. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O2")))
#endif
static EMLC_NOINLINE void walk(const emlc_trees_t *m, const void *x, uint32_t t, uint32_t t_end, void *out,
                               uint32_t mode) {
    for (; t < t_end; t++) {
        int32_t r = m->roots[t];
        uint32_t ref;
        if (r < 0) {
            ref = (uint32_t)(-1 - r);
        } else if (m->input == EMLC_INPUT_I16) {
            ref = leaf_i16(m->nodes + r, (const int16_t *)x);
        } else {
            ref = leaf_f32(m->nodes + r, (const float *)x);
        }
        if (mode == EMLC_REFS) {
            *(uint16_t *)out = (uint16_t)ref;
            out = (uint16_t *)out + 1;
        } else {
            ((uint32_t *)out)[ref] += 1;
        }
    }
}
#endif

/* The leaf reference tree t sends x to. */
static uint32_t leaf_of(const emlc_trees_t *m, uint32_t t, const void *x) {
    uint16_t ref;
    walk(m, x, t, t + 1, &ref, EMLC_REFS);
    return ref;
}

emlc_err_t emlc_trees_leaf(const emlc_trees_t *m, uint16_t tree, const void *x, uint32_t *out_ref) {
    if (m == NULL || x == NULL || out_ref == NULL || m->roots == NULL) {
        return EMLC_ERR_NULL;
    }
    if (tree >= m->n_trees) {
        return EMLC_ERR_SIZE;
    }
    *out_ref = leaf_of(m, tree, x);
    return EMLC_OK;
}

/* ---------------------------------------------------------------- aggregation */

static uint32_t argmax_u32(const uint32_t *a, uint32_t n) {
    uint32_t j, best = 0, top = a[0];
    for (j = 1; j < n; j++) {
        if (a[j] > top) {
            top = a[j];
            best = j;
        }
    }
    return best;
}

/* CLASS: votes per class (integer). */
static void vote(const emlc_trees_t *m, const void *x, uint32_t *acc) {
    uint32_t j;
    for (j = 0; j < m->n_outputs; j++) {
        acc[j] = 0;
    }
    walk(m, x, 0, m->n_trees, acc, EMLC_VOTES);
}

/* One walk over the trees for PROBA / VALUE leaves (docs/model-format.md "Aggregation"):
 *  S (if not NULL): S[c] = sum of 65536 for a pure leaf's class and of q for each payload term;
 *  F (if not NULL): float32 sums in tree order, F[c] += 1.0f (pure) or (float)count / (float)w
 *  (payload term), VALUE F[0] += values[r]; zero proportions are not added.
 * Returns U, the number of trees that reached a payload. */
#define EMLC_CHUNK 16 /* leaf references per walk() in sums() */
static uint32_t sums(const emlc_trees_t *m, const void *x, uint32_t *S, float *F) {
    uint16_t refs[EMLC_CHUNK];
    uint32_t i, j, t, c, u = 0, n_out = m->n_outputs;
    for (j = 0; j < n_out; j++) {
        if (S != NULL) {
            S[j] = 0;
        }
        if (F != NULL) {
            F[j] = 0.0f;
        }
    }
    for (t = 0; t < m->n_trees; t += c) {
        c = m->n_trees - t < EMLC_CHUNK ? m->n_trees - t : EMLC_CHUNK;
        walk(m, x, t, t + c, refs, EMLC_REFS);
        for (i = 0; i < c; i++) {
            uint32_t r = refs[i];
            if (m->leaf_kind == EMLC_LEAF_VALUE) {
                F[0] += m->values[r];
            } else if (r < n_out) {
                if (S != NULL) {
                    S[r] += 65536u;
                }
                if (F != NULL) {
                    F[r] += 1.0f;
                }
            } else {
                const uint8_t *p = m->payload + m->offsets[r - n_out];
                const uint8_t *term = p + 3, *end = term + 3 * (uint32_t)p[0];
                uint32_t w = u16le(p + 1);
                for (; term < end; term += 3) {
                    uint32_t q = u16le(term + 1);
                    if (S != NULL) {
                        S[term[0]] += q;
                    }
                    if (F != NULL) {
                        F[term[0]] += (float)(int32_t)((q * w + 32768u) >> 16) / (float)(int32_t)w;
                    }
                }
                u++;
            }
        }
    }
    return u;
}

/* The first argmax b of the fixed-point sums S when it is certain: S[b] beats every other class
 * by more than u (each q is within 1/2 of count/w * 65536, and u trees added a q to a class at
 * most once each). -1 for an exact or near tie. */
static EMLC_NOINLINE int32_t certain_argmax(const uint32_t *S, uint32_t n_out, uint32_t u) {
    uint32_t j, b = 0, top = S[0], second = 0; /* the largest S[j], j != b (0 if none) */
    for (j = 1; j < n_out; j++) {
        uint32_t s = S[j];
        if (s > top) {
            second = top;
            top = s;
            b = j;
        } else if (s > second) {
            second = s;
        }
    }
    return top - second > u ? (int32_t)b : -1;
}

/* The proportion of class c in leaf r (PROBA) as a double: 1 or 0 for a pure leaf, count/w. */
static uint64_t proportion(const emlc_trees_t *m, uint32_t r, uint32_t c) {
    const uint8_t *p, *term, *end;
    if (r < m->n_outputs) {
        return r == c ? (uint64_t)1023 << 52 : 0;
    }
    p = m->payload + m->offsets[r - m->n_outputs];
    for (term = p + 3, end = term + 3 * (uint32_t)p[0]; term < end; term += 3) {
        if (term[0] == c) {
            uint32_t w = u16le(p + 1);
            return emlc_f64_ratio((u16le(term + 1) * w + 32768u) >> 16, 0, w);
        }
    }
    return 0;
}

/* scikit-learn's forest vote, exactly, among the classes that can win (S within u of the best):
 * the first argmax over classes of fl64(0 + p_1c + ... + p_Tc) / T, the float64 proportions
 * added in tree order (docs/model-format.md "Aggregation"). One walk of the forest per such
 * class; used only at exact and near ties. */
static int32_t exact_argmax(const emlc_trees_t *m, const void *x, const uint32_t *S, uint32_t u) {
    uint32_t c, t, b = argmax_u32(S, m->n_outputs);
    uint64_t top = 0;
    int32_t best = -1;
    for (c = 0; c < m->n_outputs; c++) {
        uint64_t s = 0;
        if (S[b] - S[c] > u) {
            continue;
        }
        for (t = 0; t < m->n_trees; t++) {
            s = emlc_f64_add(s, proportion(m, leaf_of(m, t, x), c));
        }
        s = emlc_f64_div_int(s, m->n_trees);
        if (best < 0 || s > top) {
            top = s;
            best = (int32_t)c;
        }
    }
    return best;
}

typedef struct emlc_acc {
    uint32_t n[EMLC_TREES_MAX_OUTPUTS];
} emlc_acc_t;

emlc_err_t emlc_trees_predict(const emlc_trees_t *m, const void *x, float *out, size_t n_out, int32_t *out_class) {
    emlc_acc_t acc;
    uint32_t j, n_outputs;
    int32_t cls = 0;
    if (m == NULL || x == NULL || m->roots == NULL) {
        return EMLC_ERR_NULL;
    }
    n_outputs = m->n_outputs;
    if (m->n_trees == 0 || n_outputs == 0 || n_outputs > EMLC_TREES_MAX_OUTPUTS || (out != NULL && n_out < n_outputs)) {
        return EMLC_ERR_SIZE;
    }
    if (m->leaf_kind == EMLC_LEAF_CLASS) {
        vote(m, x, acc.n);
        cls = (int32_t)argmax_u32(acc.n, n_outputs);
        for (j = 0; out != NULL && j < n_outputs; j++) {
            out[j] = (float)(int32_t)acc.n[j];
        }
    } else if (m->leaf_kind == EMLC_LEAF_PROBA) {
        uint32_t u = sums(m, x, acc.n, out);
        cls = certain_argmax(acc.n, n_outputs, u);
        if (cls < 0) { /* an exact or near tie: scikit-learn's float64 sums decide */
            cls = exact_argmax(m, x, acc.n, u);
        }
    } else if (out != NULL) {
        sums(m, x, NULL, out);
    } else {
        return EMLC_ERR_SIZE; /* a regression value needs out */
    }
    for (j = 0; out != NULL && j < n_outputs; j++) {
        out[j] = out[j] / (float)(int32_t)m->n_trees;
    }
    if (out_class != NULL) {
        *out_class = cls;
    }
    return EMLC_OK;
}
