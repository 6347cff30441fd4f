/* emlc_trees.h: inference for tree ensembles (decision tree, random forest, extra trees).
 *
 * The model lives in caller-owned arrays laid out as in docs/model-format.md §1 (struct of
 * arrays, 10 bytes per decision node). Nothing here allocates; the only stack buffer is the
 * per-class accumulator of the classify/regress functions (EMLC_TREES_MAX_OUTPUTS × 4 bytes).
 *
 * Contract:
 *  - Call emlc_trees_validate() once after filling the struct. Every prediction function assumes
 *    a model that passed it; on such a model no prediction reads outside the arrays or loops
 *    forever (each step goes to a strictly larger node index or ends at a leaf).
 *  - The sample `x` is `float[n_features]` when input == EMLC_INPUT_F32 and
 *    `int16_t[n_features]` when input == EMLC_INPUT_I16 (already quantized by the caller).
 *  - Per visited node the work is one integer compare (key(x[f]) <= thresholds[i]); no
 *    floating-point maths happens on the path from root to leaf, even for float input.
 *  - Class ties go to the lowest class index.
 */
#ifndef EMLC_TREES_H
#define EMLC_TREES_H

#include "emlc_common.h"

#define EMLC_INPUT_F32 0
#define EMLC_INPUT_I16 1

#define EMLC_LEAF_CLASS 0  /* uint8_t class index per leaf (hard vote) */
#define EMLC_LEAF_PROBA 1  /* float32 x n_outputs per leaf (soft vote) */
#define EMLC_LEAF_VALUE 2  /* float32 per leaf (regression, n_outputs == 1) */
#define EMLC_LEAF_PROBA8 3 /* uint8_t x n_outputs per leaf, proportion * 255 (soft vote) */

#define EMLC_TREES_MAX_NODES 32767
#define EMLC_TREES_MAX_LEAVES 32768
/* Largest n_outputs the validator accepts: bounds the classify accumulator on the stack. */
#ifndef EMLC_TREES_MAX_OUTPUTS
#define EMLC_TREES_MAX_OUTPUTS 256
#endif

typedef struct emlc_trees {
    uint16_t n_features, n_outputs, n_trees;
    uint8_t input;     /* EMLC_INPUT_* */
    uint8_t leaf_kind; /* EMLC_LEAF_* */
    uint16_t n_nodes;  /* decision nodes, <= 32767 */
    uint16_t n_leaves; /* 1 ..= 32768 */
    const int32_t *thresholds; /* [n_nodes], key space */
    const uint16_t *features;  /* [n_nodes] */
    const int16_t *children;   /* [2 * n_nodes]: left, right child references */
    const int16_t *roots;      /* [n_trees]: child references */
    const void *leaves;        /* [n_leaves * leaf width], type per leaf_kind */
} emlc_trees_t;

/* Check everything prediction relies on. Returns the first problem found:
 *  EMLC_ERR_NULL     model or a needed array is NULL (node arrays may be NULL iff n_nodes == 0)
 *  EMLC_ERR_KIND     input or leaf_kind unknown
 *  EMLC_ERR_SIZE     n_features/n_outputs/n_trees/n_leaves zero, n_nodes or n_outputs too large,
 *                    n_outputs != 1 for VALUE leaves
 *  EMLC_ERR_FEATURE  features[i] >= n_features
 *  EMLC_ERR_CHILD    a child reference names a node >= n_nodes or a leaf >= n_leaves
 *  EMLC_ERR_CYCLE    a child node index is <= its parent's index. Rule: nodes are numbered so
 *                    that every child node comes after its parent (pre-order, as scikit-learn
 *                    builds them). This makes every root-to-leaf walk strictly increasing, so it
 *                    ends within n_nodes steps; it is checked in O(n_nodes) with no memory.
 *  EMLC_ERR_ROOT     a root names a node >= n_nodes or a leaf >= n_leaves
 *  EMLC_ERR_CLASS    a CLASS leaf holds a class >= n_outputs
 * Node checks run in node order (feature, then left child, then right child), then roots,
 * then leaves. */
emlc_err_t emlc_trees_validate(const emlc_trees_t *m);

/* The key of a float32 (docs/model-format.md §1): its bits as int32, with the magnitude bits
 * flipped for negative numbers. Strictly increasing over all non-NaN floats. */
int32_t emlc_trees_key_f32(float x);

/* Leaf number (0 ..= n_leaves-1) that tree `tree` sends sample x to. */
emlc_err_t emlc_trees_leaf(const emlc_trees_t *m, uint16_t tree, const void *x, int32_t *out_leaf);

/* Class index (0 ..= n_outputs-1) for one sample. Leaf kinds CLASS (majority of the trees'
 * classes, integer only), PROBA and PROBA8 (first argmax of the float32 sums);
 * VALUE gives EMLC_ERR_KIND. */
emlc_err_t emlc_trees_predict(const emlc_trees_t *m, const void *x, int32_t *out_class);

/* Class probabilities for one sample into out[0 .. n_outputs-1] (n_out >= n_outputs, else
 * EMLC_ERR_SIZE): CLASS: (float)votes / n_trees; PROBA: float32 sum of the leaf proportions in
 * tree order / n_trees; PROBA8: the same with (float)byte / 255.0f (docs/model-format.md
 * "Aggregation", bit for bit). VALUE gives EMLC_ERR_KIND. */
emlc_err_t emlc_trees_proba(const emlc_trees_t *m, const void *x, float *out, size_t n_out);

/* Both in one walk: the probabilities as emlc_trees_proba() and, if out_class is not NULL, the class
 * emlc_trees_predict() gives (the argmax is taken before dividing, so the two always agree). */
emlc_err_t emlc_trees_predict_proba(const emlc_trees_t *m, const void *x, float *out, size_t n_out,
                                    int32_t *out_class);

/* Regression value for one sample: mean of the trees' VALUE leaves (other kinds: EMLC_ERR_KIND). */
emlc_err_t emlc_trees_regress(const emlc_trees_t *m, const void *x, float *out_value);

/* The same for n samples stored row-major in x (n * n_features elements of the input type).
 * n == 0 is allowed and writes nothing. */
emlc_err_t emlc_trees_predict_many(const emlc_trees_t *m, const void *x, size_t n, int32_t *out);
emlc_err_t emlc_trees_regress_many(const emlc_trees_t *m, const void *x, size_t n, float *out);

#endif /* EMLC_TREES_H */
