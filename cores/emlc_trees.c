/* emlc_trees.c: tree-ensemble inference over the arrays of docs/model-format.md §1.
 *
 * Hot path: leaf_of — per node one feature load, one input load (float: 3 integer ops for the
 * key), one threshold load, one signed compare, one child load. The class-index path for CLASS
 * leaves is integer-only end to end; float adds appear only where probabilities or regression
 * values are summed (per tree and non-zero term, never per node). Aggregation follows
 * docs/model-format.md "Aggregation" to the bit.
 */
#include "emlc_trees.h"

/* Used on two functions: leaf_of (out of line, its pointers stay in registers on armv6m) and
 * classify_int (its own symbol, so tests can show from the object's call graph that the
 * CLASS path calls no soft-float routine). Expands to nothing for non-GNU compilers. */
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

static inline uint32_t bits_f32(float x) {
    emlc_bits_t b;
    b.f = x;
    return b.u;
}

int32_t emlc_trees_key_f32(float x) {
    return key_f32(x);
}

/* Walks tree t from its root down to a leaf and returns the leaf number.
 * Invariant (emlc_trees_validate): every node reached has index < n_nodes and each step goes to
 * a strictly larger node index or to a leaf, so the walk ends within n_nodes steps.
 * The loops work on byte offsets: u = 4*c addresses thresholds[c] and children[2c], u/2
 * addresses features[c], and going right adds 2 (children[2c+1]). Kept out of line so that
 * on armv6m all pointers stay in registers: 15 instructions per node for float input (of which
 * 3 make the key), 12 for int16 (arm-none-eabi-gcc 12 -Os). */
static EMLC_NOINLINE int32_t leaf_of(const emlc_trees_t *m, uint32_t t, const void *x) {
    const unsigned char *thr = (const unsigned char *)m->thresholds;
    const unsigned char *feat = (const unsigned char *)m->features;
    const unsigned char *ch = (const unsigned char *)m->children;
    int32_t c = m->roots[t];
    if (c < 0) {
        return -1 - c;
    }
    if (m->input == EMLC_INPUT_I16) {
        const int16_t *xi = (const int16_t *)x;
        do {
            uint32_t u = (uint32_t)c << 2;
            int32_t k = xi[*(const uint16_t *)(const void *)(feat + (u >> 1))];
            if (k > *(const int32_t *)(const void *)(thr + u)) {
                u += 2;
            }
            c = *(const int16_t *)(const void *)(ch + u);
        } while (c >= 0);
    } else {
        const float *xf = (const float *)x;
        do {
            uint32_t u = (uint32_t)c << 2;
            int32_t k = key_f32(xf[*(const uint16_t *)(const void *)(feat + (u >> 1))]);
            if (k > *(const int32_t *)(const void *)(thr + u)) {
                u += 2;
            }
            c = *(const int16_t *)(const void *)(ch + u);
        } while (c >= 0);
    }
    return -1 - c;
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

/* Class index for CLASS leaves: integer votes, then the first argmax. acc has n_outputs
 * entries and is initialised from tree 0 (n_trees >= 1; this also avoids a memset call). */
static EMLC_NOINLINE int32_t classify_int(const emlc_trees_t *m, const void *x, uint32_t *acc) {
    const uint8_t *leaves = (const uint8_t *)m->leaves;
    uint32_t n_out = m->n_outputs, n_trees = m->n_trees, j, best, t, top;
    uint32_t first = leaves[leaf_of(m, 0, x)];
    for (j = 0; j < n_out; j++) {
        acc[j] = (j == first);
    }
    for (t = 1; t < n_trees; t++) {
        acc[leaves[leaf_of(m, t, x)]] += 1;
    }
    best = 0;
    top = acc[0];
    for (j = 1; j < n_out; j++) {
        if (acc[j] > top) {
            top = acc[j];
            best = j;
        }
    }
    return (int32_t)best;
}

/* Float sums of the PROBA / PROBA8 / VALUE leaves over all trees, exactly as
 * docs/model-format.md "Aggregation" defines them: acc[c] = 0.0f, then acc[c] += term in tree
 * order, where term is the float leaf value or (float)byte / 255.0f.
 * Terms equal to +-0.0 are skipped (an integer test, no soft-float call): this changes no
 * result, because acc starts at +0.0, can never become -0.0, and a + (+-0.0) == a otherwise.
 * Class proportions are mostly zeros, so this saves most adds on FPU-less chips. The first
 * tree stores instead of adding (0.0f + v == v), which also avoids a memset call. */
static void sum_float(const emlc_trees_t *m, const void *x, float *acc) {
    uint32_t n_out = m->n_outputs, n_trees = m->n_trees, j, t;
    for (t = 0; t < n_trees; t++) {
        uint32_t base = (uint32_t)leaf_of(m, t, x) * n_out;
        if (m->leaf_kind == EMLC_LEAF_PROBA8) {
            const uint8_t *p = (const uint8_t *)m->leaves + base;
            for (j = 0; j < n_out; j++) {
                if (p[j] != 0) {
                    float v = (float)p[j] / 255.0f;
                    acc[j] = t == 0 ? v : acc[j] + v;
                } else if (t == 0) {
                    acc[j] = 0.0f;
                }
            }
        } else {
            const float *p = (const float *)m->leaves + base;
            for (j = 0; j < n_out; j++) {
                if ((bits_f32(p[j]) << 1) != 0) {
                    acc[j] = t == 0 ? p[j] : acc[j] + p[j];
                } else if (t == 0) {
                    acc[j] = 0.0f;
                }
            }
        }
    }
}

/* Class index for PROBA / PROBA8 leaves: first argmax of the float sums (before dividing). */
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
        out[i] = m->leaf_kind == EMLC_LEAF_CLASS ? classify_int(m, row, acc.n)
                                                 : classify_float(m, row, acc.f);
    }
    return EMLC_OK;
}

emlc_err_t emlc_trees_predict(const emlc_trees_t *m, const void *x, int32_t *out_class) {
    return emlc_trees_predict_many(m, x, 1, out_class);
}

emlc_err_t emlc_trees_predict_proba(const emlc_trees_t *m, const void *x, float *out, size_t n_out,
                                    int32_t *out_class) {
    uint32_t j, n_outputs;
    int32_t cls;
    emlc_err_t err = check_head(m, x, out);
    if (err != EMLC_OK) {
        return err;
    }
    n_outputs = m->n_outputs;
    if (n_out < n_outputs) {
        return EMLC_ERR_SIZE;
    }
    if (m->leaf_kind == EMLC_LEAF_VALUE) {
        return EMLC_ERR_KIND;
    }
    if (m->leaf_kind == EMLC_LEAF_CLASS) {
        emlc_acc_t acc;
        cls = classify_int(m, x, acc.n);
        for (j = 0; j < n_outputs; j++) {
            out[j] = (float)acc.n[j] / (float)m->n_trees;
        }
    } else {
        cls = classify_float(m, x, out); /* argmax of the sums, before dividing: as predict */
        for (j = 0; j < n_outputs; j++) {
            out[j] = out[j] / (float)m->n_trees;
        }
    }
    if (out_class != NULL) {
        *out_class = cls;
    }
    return EMLC_OK;
}

emlc_err_t emlc_trees_proba(const emlc_trees_t *m, const void *x, float *out, size_t n_out) {
    return emlc_trees_predict_proba(m, x, out, n_out, NULL);
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
