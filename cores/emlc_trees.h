/* emlc_trees.h: inference for tree ensembles (decision tree, random forest, extra trees).
 *
 * The model lives in caller-owned arrays laid out as in docs/model-format.md §1 (version 2):
 * 8-byte decision nodes in pre-order, class leaves inside the nodes, proportions as exact
 * count/w payloads. Nothing here allocates; the only stack buffer is the per-class accumulator
 * (EMLC_TREES_MAX_OUTPUTS × 4 bytes).
 *
 * Contract:
 *  - Call emlc_trees_validate() once after filling the struct. Every prediction function assumes
 *    a model that passed it; on such a model no prediction reads outside the arrays or loops
 *    forever (each step goes to a strictly larger node index or ends at a leaf).
 *  - The sample `x` is `float[n_features]` when input == EMLC_INPUT_F32 and
 *    `int16_t[n_features]` when input == EMLC_INPUT_I16 (already quantized by the caller).
 *  - Per visited node the work is one integer compare (key(x[f]) <= key); no floating-point maths
 *    happens on the path from root to leaf, nor in predict() for CLASS leaves and, outside exact
 *    and near ties, for PROBA leaves (docs/model-format.md "Aggregation").
 */
#ifndef EMLC_TREES_H
#define EMLC_TREES_H

#include "emlc_common.h"

#define EMLC_INPUT_F32 0
#define EMLC_INPUT_I16 1

#define EMLC_LEAF_CLASS 0 /* the reference is the class (hard vote) */
#define EMLC_LEAF_PROBA 1 /* pure class, or a count/w payload (soft vote) */
#define EMLC_LEAF_VALUE 2 /* index into values (regression, n_outputs == 1) */

#define EMLC_TREES_MAX_NODES 32767
#define EMLC_TREES_MAX_REFS 32768     /* leaf references 0..32767 (roots hold -1 - ref) */
#define EMLC_TREES_MAX_FEATURES 8191  /* 13 bits of emlc_node_t.fk */
#define EMLC_TREES_MAX_PAYLOAD 65535  /* payload bytes: offsets are uint16_t */
/* Largest n_outputs the validator accepts: bounds the accumulator on the stack. */
#define EMLC_TREES_MAX_OUTPUTS 256

/* fk: bit 0 the left child is a leaf, bit 1 the right child is a leaf (together: the shape),
 * bit 2 missing_left, bits 3..15 the feature index (fk >> 3). The shape bits come first so that
 * one shift moves each into the carry flag on Thumb. */
#define EMLC_FK_LEFT_LEAF 1u
#define EMLC_FK_RIGHT_LEAF 2u
#define EMLC_FK_MISSING_LEFT 4u
#define EMLC_FK_FEATURE_SHIFT 3

/* A decision node (docs/model-format.md §1). Shape = fk & 3:
 *   0: left node i+1, right node i+c     1: left leaf c, right node i+1
 *   2: left node i+1, right leaf c        3: left leaf c & 0xff, right leaf c >> 8 */
typedef struct emlc_node {
    int32_t key;
    uint16_t fk;
    uint16_t c;
} emlc_node_t;

typedef struct emlc_trees {
    uint16_t n_features, n_outputs, n_trees, n_nodes;
    uint16_t n_payloads;    /* PROBA: payloads; VALUE: values; CLASS: 0 */
    uint8_t input;          /* EMLC_INPUT_* */
    uint8_t leaf_kind;      /* EMLC_LEAF_* */
    uint8_t has_labels;     /* classifiers: labels[] present */
    uint32_t payload_bytes; /* PROBA: bytes of payload */
    const emlc_node_t *nodes;  /* [n_nodes] */
    const int16_t *roots;      /* [n_trees]: node index, or -1 - ref */
    const uint16_t *offsets;   /* PROBA [n_payloads]: byte offset of each payload */
    const uint8_t *payload;    /* PROBA [payload_bytes] */
    const float *values;       /* VALUE [n_payloads] */
    const float *scale;        /* int16 input [n_features], then offset */
    const float *offset;
    const int32_t *labels;     /* has_labels: the class labels [n_outputs] (predict gives an index) */
} emlc_trees_t;

/* The arrays of a model in one block, in the order and alignment of docs/model-format.md §2
 * (which is also the binary file's order after its header). */
#define EMLC_TREES_SECTIONS 8
enum { EMLC_SEC_NODES, EMLC_SEC_ROOTS, EMLC_SEC_OFFSETS, EMLC_SEC_PAYLOAD, EMLC_SEC_VALUES,
       EMLC_SEC_SCALE, EMLC_SEC_OFFSET, EMLC_SEC_LABELS };

/* Byte size of each section (unpadded) for the counts in m; returns the padded total (each
 * section rounded up to 4 bytes). Counts are not checked here. */
uint32_t emlc_trees_layout(const emlc_trees_t *m, uint32_t size[EMLC_TREES_SECTIONS]);

/* A little-endian uint16 of a payload (its bytes need not be aligned); for the core's own files. */
static inline uint32_t emlc_trees_u16le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

/* Point m's arrays into `block` (4-byte aligned, at least emlc_trees_layout() bytes). */
void emlc_trees_bind(emlc_trees_t *m, void *block);

/* Where emlc_trees_validate() found its problem: section (EMLC_SEC_*) and element index
 * (byte index within the payload for EMLC_SEC_PAYLOAD; 0 for header problems, EMLC_SEC_NODES). */
typedef struct emlc_trees_where {
    uint8_t section;
    uint32_t index;
} emlc_trees_where_t;

/* The counts of a model in header order (binary header fields, CSV header lines). */
enum { EMLC_FIELD_INPUT, EMLC_FIELD_LEAF_KIND, EMLC_FIELD_N_FEATURES, EMLC_FIELD_N_OUTPUTS,
       EMLC_FIELD_N_TREES, EMLC_FIELD_N_NODES, EMLC_FIELD_N_PAYLOADS, EMLC_FIELD_FLAGS,
       EMLC_FIELD_PAYLOAD_BYTES };

/* Check the counts of m against docs/model-format.md §1 limits and each other: EMLC_ERR_KIND
 * (input, leaf_kind or flags unknown: labels on a regressor) or EMLC_ERR_SIZE; *field (may be
 * NULL) gets the first bad field. */
emlc_err_t emlc_trees_check_counts(const emlc_trees_t *m, uint32_t *field);

/* Everything prediction relies on: NULL arrays (EMLC_ERR_NULL), the counts, then every node,
 * root, payload (or value) and quantization entry in that order; the first problem is returned
 * and, if where is not NULL, located. */
emlc_err_t emlc_trees_validate(const emlc_trees_t *m, emlc_trees_where_t *where);

/* One element as emlc_trees_validate() checks it, for a reader that checks each element as it
 * arrives (the CSV reader, which then names the line): sec EMLC_SEC_NODES (node i), _ROOTS,
 * _OFFSETS (PROBA payload i: its offset and bytes), _VALUES, _SCALE (scale and offset i). The
 * counts must have passed emlc_trees_check_counts() and element i must be written. */
emlc_err_t emlc_trees_check_one(const emlc_trees_t *m, uint32_t sec, uint32_t i, emlc_trees_where_t *where);

/* The key of a float32 (docs/model-format.md §1): its bits as int32, with the magnitude bits
 * flipped for negative numbers. Strictly increasing over all non-NaN floats. */
int32_t emlc_trees_key_f32(float x);

/* Leaf reference (docs/model-format.md §1) that tree `tree` sends sample x to. */
emlc_err_t emlc_trees_leaf(const emlc_trees_t *m, uint16_t tree, const void *x, uint32_t *out_ref);

/* One sample. out_class (may be NULL): the class index (CLASS, PROBA; 0 for VALUE). out (may be
 * NULL; n_out >= n_outputs, else EMLC_ERR_SIZE): the class probabilities (CLASS, PROBA) or the
 * regression value (VALUE, which needs out). One walk, except at PROBA near-ties without out. */
emlc_err_t emlc_trees_predict(const emlc_trees_t *m, const void *x, float *out, size_t n_out, int32_t *out_class);

#endif /* EMLC_TREES_H */
