/* emlc_trees.c: tree-ensemble inference over the arrays of docs/model-format.md §1.
 *
 * Hot path: walk_f32 / walk_i16 — per node one feature load, (float: 3 integer ops for the key),
 * one threshold load, one signed compare, one child load. The class-index path for CLASS and
 * PROBA8 leaves is integer-only end to end; float adds appear only where probabilities or
 * regression values are summed (once per tree, never per node).
 */
#include "emlc_trees.h"

/* Keep the integer-only classification path in a function of its own, so that a soft-float
 * build can show (nm/objdump) that it calls no float routine. Plain C99 otherwise. */
#if defined(__GNUC__)
#define EMLC_NOINLINE __attribute__((noinline))
#else
#define EMLC_NOINLINE
#endif

/* C99 allows reading a union member other than the one last stored (type punning); int32_t
 * and uint32_t are exact-width two's complement types, so the bit patterns are well defined. */
typedef union emlc_bits {
    float f;
    uint32_t u;
    int32_t i;
} emlc_bits_t;

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

/* Walks from child reference c down to a leaf and returns the leaf number.
 * Invariant (emlc_trees_validate): c < n_nodes and every child node index > its parent's, so
 * the loop runs at most n_nodes times and every index stays in range. */
static inline int32_t walk_f32(const emlc_trees_t *m, int32_t c, const float *x) {
    const int32_t *thr = m->thresholds;
    const uint16_t *feat = m->features;
    const int16_t *ch = m->children;
    while (c >= 0) {
        int32_t k = key_f32(x[feat[c]]);
        c = ch[2 * c + (k > thr[c])];
    }
    return -1 - c;
}

static inline int32_t walk_i16(const emlc_trees_t *m, int32_t c, const int16_t *x) {
    const int32_t *thr = m->thresholds;
    const uint16_t *feat = m->features;
    const int16_t *ch = m->children;
    while (c >= 0) {
        int32_t k = x[feat[c]];
        c = ch[2 * c + (k > thr[c])];
    }
    return -1 - c;
}

static inline int32_t leaf_of(const emlc_trees_t *m, uint16_t tree, const void *x) {
    if (m->input == EMLC_INPUT_I16) {
        return walk_i16(m, m->roots[tree], (const int16_t *)x);
    }
    return walk_f32(m, m->roots[tree], (const float *)x);
}

/* Cheap header checks every prediction entry point repeats (they keep the stack accumulator
 * in bounds even on a model that skipped validation; the node arrays are not rechecked). */
static emlc_err_t check_head(const emlc_trees_t *m, const void *x, const void *out) {
    if (m == NULL || x == NULL || out == NULL || m->roots == NULL || m->leaves == NULL) {
        return EMLC_ERR_NULL;
    }
    if (m->input > EMLC_INPUT_I16 || m->leaf_kind > EMLC_LEAF_PROBA8) {
        return EMLC_ERR_KIND;
    }
    if (m->n_trees == 0 || m->n_outputs == 0 || m->n_outputs > EMLC_TREES_MAX_OUTPUTS) {
        return EMLC_ERR_SIZE;
    }
    return EMLC_OK;
}

static size_t row_bytes(const emlc_trees_t *m) {
    return (size_t)m->n_features * (m->input == EMLC_INPUT_I16 ? sizeof(int16_t) : sizeof(float));
}

emlc_err_t emlc_trees_validate(const emlc_trees_t *m) {
    uint32_t i, n_nodes, n_leaves;
    if (m == NULL) {
        return EMLC_ERR_NULL;
    }
    n_nodes = m->n_nodes;
    n_leaves = m->n_leaves;
    if (m->roots == NULL || m->leaves == NULL ||
        (n_nodes > 0 && (m->thresholds == NULL || m->features == NULL || m->children == NULL))) {
        return EMLC_ERR_NULL;
    }
    if (m->input > EMLC_INPUT_I16 || m->leaf_kind > EMLC_LEAF_PROBA8) {
        return EMLC_ERR_KIND;
    }
    if (m->n_features == 0 || m->n_trees == 0 || m->n_outputs == 0 ||
        m->n_outputs > EMLC_TREES_MAX_OUTPUTS || n_leaves == 0 ||
        n_leaves > EMLC_TREES_MAX_LEAVES || n_nodes > EMLC_TREES_MAX_NODES ||
        (m->leaf_kind == EMLC_LEAF_VALUE && m->n_outputs != 1)) {
        return EMLC_ERR_SIZE;
    }
    for (i = 0; i < n_nodes; i++) {
        uint32_t side;
        if (m->features[i] >= m->n_features) {
            return EMLC_ERR_FEATURE;
        }
        for (side = 0; side < 2; side++) {
            int32_t c = m->children[2 * i + side];
            if (c >= 0) {
                if ((uint32_t)c >= n_nodes) {
                    return EMLC_ERR_CHILD;
                }
                if ((uint32_t)c <= i) {
                    return EMLC_ERR_CYCLE;
                }
            } else if ((uint32_t)(-1 - c) >= n_leaves) {
                return EMLC_ERR_CHILD;
            }
        }
    }
    for (i = 0; i < m->n_trees; i++) {
        int32_t r = m->roots[i];
        if (r >= 0 ? (uint32_t)r >= n_nodes : (uint32_t)(-1 - r) >= n_leaves) {
            return EMLC_ERR_ROOT;
        }
    }
    if (m->leaf_kind == EMLC_LEAF_CLASS) {
        const uint8_t *cls = (const uint8_t *)m->leaves;
        for (i = 0; i < n_leaves; i++) {
            if (cls[i] >= m->n_outputs) {
                return EMLC_ERR_CLASS;
            }
        }
    }
    return EMLC_OK;
}

emlc_err_t emlc_trees_leaf(const emlc_trees_t *m, uint16_t tree, const void *x, int32_t *out_leaf) {
    emlc_err_t err = check_head(m, x, out_leaf);
    if (err != EMLC_OK) {
        return err;
    }
    if (tree >= m->n_trees) {
        return EMLC_ERR_SIZE;
    }
    *out_leaf = leaf_of(m, tree, x);
    return EMLC_OK;
}

/* Class index for CLASS and PROBA8 leaves: integer votes / byte sums, then the first argmax.
 * acc has n_outputs entries. Sums fit: 255 * 65535 < 2^32. */
static EMLC_NOINLINE int32_t classify_int(const emlc_trees_t *m, const void *x, uint32_t *acc) {
    const uint8_t *leaves = (const uint8_t *)m->leaves;
    uint32_t n_out = m->n_outputs, j, best;
    uint16_t t;
    for (j = 0; j < n_out; j++) {
        acc[j] = 0;
    }
    if (m->leaf_kind == EMLC_LEAF_CLASS) {
        for (t = 0; t < m->n_trees; t++) {
            acc[leaves[leaf_of(m, t, x)]] += 1;
        }
    } else {
        for (t = 0; t < m->n_trees; t++) {
            const uint8_t *p = leaves + (uint32_t)leaf_of(m, t, x) * n_out;
            for (j = 0; j < n_out; j++) {
                acc[j] += p[j];
            }
        }
    }
    best = 0;
    for (j = 1; j < n_out; j++) {
        if (acc[j] > acc[best]) {
            best = j;
        }
    }
    return (int32_t)best;
}

/* Sums the PROBA (n_outputs floats) or VALUE (1 float) leaves of all trees into acc. */
static void sum_float(const emlc_trees_t *m, const void *x, float *acc) {
    const float *leaves = (const float *)m->leaves;
    uint32_t n_out = m->n_outputs, j;
    uint16_t t;
    for (j = 0; j < n_out; j++) {
        acc[j] = 0.0f;
    }
    for (t = 0; t < m->n_trees; t++) {
        const float *p = leaves + (uint32_t)leaf_of(m, t, x) * n_out;
        for (j = 0; j < n_out; j++) {
            acc[j] += p[j];
        }
    }
}

static int32_t classify_float(const emlc_trees_t *m, const void *x, float *acc) {
    uint32_t j, best = 0;
    sum_float(m, x, acc);
    for (j = 1; j < m->n_outputs; j++) {
        if (acc[j] > acc[best]) {
            best = j;
        }
    }
    return (int32_t)best;
}

typedef union emlc_acc {
    uint32_t n[EMLC_TREES_MAX_OUTPUTS];
    float f[EMLC_TREES_MAX_OUTPUTS];
} emlc_acc_t;

emlc_err_t emlc_trees_predict_many(const emlc_trees_t *m, const void *x, size_t n, int32_t *out) {
    emlc_acc_t acc;
    const unsigned char *row = (const unsigned char *)x;
    size_t i, step;
    emlc_err_t err = check_head(m, x, out);
    if (err != EMLC_OK) {
        return err;
    }
    if (m->leaf_kind == EMLC_LEAF_VALUE) {
        return EMLC_ERR_KIND;
    }
    step = row_bytes(m);
    for (i = 0; i < n; i++, row += step) {
        out[i] = m->leaf_kind == EMLC_LEAF_PROBA ? classify_float(m, row, acc.f)
                                                 : classify_int(m, row, acc.n);
    }
    return EMLC_OK;
}

emlc_err_t emlc_trees_predict(const emlc_trees_t *m, const void *x, int32_t *out_class) {
    return emlc_trees_predict_many(m, x, 1, out_class);
}

emlc_err_t emlc_trees_proba(const emlc_trees_t *m, const void *x, float *out, size_t n_out) {
    uint32_t j, n_outputs;
    emlc_err_t err = check_head(m, x, out);
    if (err != EMLC_OK) {
        return err;
    }
    n_outputs = m->n_outputs;
    if (n_out < n_outputs) {
        return EMLC_ERR_SIZE;
    }
    if (m->leaf_kind == EMLC_LEAF_PROBA) {
        sum_float(m, x, out);
        for (j = 0; j < n_outputs; j++) {
            out[j] = out[j] / (float)m->n_trees;
        }
        return EMLC_OK;
    }
    if (m->leaf_kind == EMLC_LEAF_VALUE) {
        return EMLC_ERR_KIND;
    }
    {
        emlc_acc_t acc;
        float denom = (float)m->n_trees * (m->leaf_kind == EMLC_LEAF_PROBA8 ? 255.0f : 1.0f);
        (void)classify_int(m, x, acc.n);
        for (j = 0; j < n_outputs; j++) {
            out[j] = (float)acc.n[j] / denom;
        }
    }
    return EMLC_OK;
}

emlc_err_t emlc_trees_regress_many(const emlc_trees_t *m, const void *x, size_t n, float *out) {
    const unsigned char *row = (const unsigned char *)x;
    size_t i, step;
    emlc_err_t err = check_head(m, x, out);
    if (err != EMLC_OK) {
        return err;
    }
    if (m->leaf_kind != EMLC_LEAF_VALUE || m->n_outputs != 1) {
        return EMLC_ERR_KIND;
    }
    step = row_bytes(m);
    for (i = 0; i < n; i++, row += step) {
        float sum;
        sum_float(m, row, &sum);
        out[i] = sum / (float)m->n_trees;
    }
    return EMLC_OK;
}

emlc_err_t emlc_trees_regress(const emlc_trees_t *m, const void *x, float *out_value) {
    return emlc_trees_regress_many(m, x, 1, out_value);
}
