/* emlc_knn.h: k-nearest-neighbours classifier over a caller-owned item store.
 *
 * A store holds up to max_items items of n_features features each, either int16 or float32
 * (chosen at init, fixed afterwards), each with an int16 label. Items are appended with
 * emlc_knn_add_*; prediction is a majority vote among the k nearest items by squared
 * euclidean distance.
 *
 * Determinism (chosen to agree with scikit-learn's KNeighborsClassifier(algorithm='brute',
 * weights='uniform')):
 *  - Neighbours are the k smallest items by the pair (distance, item index): among equal
 *    distances the lower (earlier added) index wins. scikit-learn's brute-force heap keeps the
 *    first-seen item on equal distance, which is the same rule when it scans items in order (its
 *    threaded "parallel on Y" strategy may merge per-thread heaps in another order).
 *  - Vote ties: among labels with the same (maximal) count, the lowest label wins, as
 *    scikit-learn's predict does (argmax over sorted classes_ in predict_proba).
 *  Remaining disagreements with scikit-learn come only from float rounding: scikit-learn
 *  computes distances in float64 via |x|^2 - 2 x.y + |y|^2, this core in float32 as a sum of
 *  squared differences, so two items at (nearly) equal distance may be ordered differently.
 *  For int16 stores distances are exact integers, so that cannot happen when scikit-learn's
 *  float64 arithmetic is exact too (|values| small enough that all partial sums stay < 2^53).
 *
 * Distances (emlc_knn_result_t.dist):
 *  - int16 store: the exact squared distance, sum of (a-b)^2 with each term < 2^32 and the sum in
 *    uint64 (n_features <= 65535, so the sum < 2^48): no overflow for any int16 input.
 *  - float32 store: the IEEE-754 bit pattern of the float32 squared distance (computed as a float32
 *    sum of float32 squared differences, in feature order), zero-extended. For non-negative floats
 *    the bit pattern orders like the value, so selection is integer-only. A sum beyond float32
 *    (inputs around 1e19 and more) is computed again on the inputs scaled by 2^-96 (exact) and
 *    stored as 2^32 + that pattern: such items sort after every finite distance and among
 *    themselves by size, as scikit-learn's float64 distances do. NaN distances (from NaN inputs)
 *    are stored as 2^33 + their pattern: farther than everything else.
 *    Use emlc_knn_dist_f32() to read it back as a float (+inf for a sum beyond float32).
 *
 * No allocation, no global state, no libm. C99.
 */
#ifndef EMLC_KNN_H
#define EMLC_KNN_H

#include "emlc_common.h"

typedef enum emlc_knn_dtype {
    EMLC_KNN_F32 = 0, /* features are float */
    EMLC_KNN_I16 = 1  /* features are int16_t */
} emlc_knn_dtype_t;

/* The store. Invariants after a successful init: data and labels non-NULL, data holds
 * max_items * n_features elements of dtype, labels holds max_items, n_items <= max_items,
 * 1 <= n_features <= 65535, max_items >= 1. Items 0..n_items-1 are valid, row-major. */
typedef struct emlc_knn {
    void *data;
    int16_t *labels;
    uint32_t max_items;
    uint32_t n_items;
    uint16_t n_features;
    uint8_t dtype; /* emlc_knn_dtype_t */
} emlc_knn_t;

/* One neighbour. */
typedef struct emlc_knn_result {
    uint64_t dist;   /* squared distance, see the encoding above */
    uint32_t index;  /* item index in the store */
    int16_t label;   /* that item's label */
} emlc_knn_result_t;

/* Set up an empty store over caller-owned memory.
 * data: max_items * n_features elements (int16_t or float per dtype), given as data_len elements;
 * labels: labels_len >= max_items.
 * Errors: NULL (m, data, labels), KIND (bad dtype), SIZE (n_features == 0 or > 65535, max_items == 0),
 * CAPACITY (data_len < max_items * n_features or labels_len < max_items). */
emlc_err_t emlc_knn_init(emlc_knn_t *m, emlc_knn_dtype_t dtype, size_t n_features, size_t max_items,
                         void *data, size_t data_len, int16_t *labels, size_t labels_len);

/* Forget all items (n_items = 0). Errors: NULL. */
emlc_err_t emlc_knn_clear(emlc_knn_t *m);

/* Append one item of n_features values (must equal the store's n_features).
 * Errors: NULL, KIND (store has the other dtype), SIZE (n_features mismatch),
 * CAPACITY (store full). */
emlc_err_t emlc_knn_add_i16(emlc_knn_t *m, const int16_t *x, size_t n_features, int16_t label);
emlc_err_t emlc_knn_add_f32(emlc_knn_t *m, const float *x, size_t n_features, int16_t label);

/* The same for an x of the store's own dtype (int16_t or float, as set at init): what a caller
 * holding untyped buffers (the MicroPython glue) uses. Errors as above (m == NULL: NULL). */
emlc_err_t emlc_knn_add(emlc_knn_t *m, const void *x, size_t n_features, int16_t label);

/* The k nearest items to x, written to results[0..k-1] sorted by (dist, index) ascending.
 * Errors: NULL, KIND, SIZE (n_features mismatch, k == 0, k > n_items), STATE (store empty). */
emlc_err_t emlc_knn_kneighbors_i16(const emlc_knn_t *m, const int16_t *x, size_t n_features, size_t k,
                                   emlc_knn_result_t *results);
emlc_err_t emlc_knn_kneighbors_f32(const emlc_knn_t *m, const float *x, size_t n_features, size_t k,
                                   emlc_knn_result_t *results);

/* kneighbors, then the majority label among the k results into *label (vote ties: lowest label).
 * results (k entries) is caller-owned scratch and holds the neighbours afterwards. */
emlc_err_t emlc_knn_predict_i16(const emlc_knn_t *m, const int16_t *x, size_t n_features, size_t k,
                                emlc_knn_result_t *results, int16_t *label);
emlc_err_t emlc_knn_predict_f32(const emlc_knn_t *m, const float *x, size_t n_features, size_t k,
                                emlc_knn_result_t *results, int16_t *label);

/* predict for an x of the store's own dtype (see emlc_knn_add). */
emlc_err_t emlc_knn_predict(const emlc_knn_t *m, const void *x, size_t n_features, size_t k,
                            emlc_knn_result_t *results, int16_t *label);

/* Majority label of n results (vote ties: lowest label). Errors: NULL, SIZE (n == 0). */
emlc_err_t emlc_knn_vote(const emlc_knn_result_t *results, size_t n, int16_t *label);

/* The float32 squared distance of a result from a float32 store. */
float emlc_knn_dist_f32(const emlc_knn_result_t *r);

/* ---- model files (docs/model-format.md §4, version 2; emlc_knn_load.c) ----------------------
 * After its 32-byte header a binary k-NN file is the store itself: items, labels (class indices),
 * for int16 items the quantization (scale, offset), and optionally the class labels, each section
 * padded with zeros to 4 bytes. A loader reads the header, checks it (emlc_knn_load_header),
 * allocates the file's size minus the header, reads the rest of the file straight into it and
 * checks that (emlc_knn_load_check), which also binds the store to it. Nothing is allocated here.
 * Errors come with a static reason and the byte offset in the file: of the header field for header
 * errors, of the offending element or padding byte otherwise. The checks and their order are
 * those of emlmpy's reader (python/emlmpy/binformat.py read_knn), which accepts and refuses
 * exactly the same files. */
#define EMLC_KNN_HEADER 32
#define EMLC_KNN_MAX_CLASSES 32768             /* class indices fit the store's int16 labels */
#define EMLC_KNN_MAX_ELEMENTS (1ul << 28)      /* n_items * n_features */
#define EMLC_KNN_FLAG_CLASSES 1u               /* header flags bit 0: the class labels follow */

enum { EMLC_KNN_SEC_ITEMS, EMLC_KNN_SEC_LABELS, EMLC_KNN_SEC_SCALE, EMLC_KNN_SEC_OFFSET, EMLC_KNN_SEC_CLASSES,
       EMLC_KNN_SECTIONS };

/* The header as it lies in the file (every field at its natural alignment, so this struct has no
 * padding: read the file's first 32 bytes straight into it; little-endian targets only, as the
 * rest of the file). */
typedef struct emlc_knn_header {
    uint8_t magic[4];      /* "EMLK" */
    uint16_t version;      /* 2 */
    uint8_t dtype;         /* emlc_knn_dtype_t */
    uint8_t reserved7;
    uint16_t n_features;   /* 1..65535 */
    uint16_t n_classes;    /* 1..32768 */
    uint16_t k;            /* 1..n_items */
    uint16_t flags;        /* EMLC_KNN_FLAG_* */
    uint32_t n_items;      /* >= 1, n_items * n_features <= 2^28 */
    uint32_t reserved20;
    uint32_t file_bytes;   /* the whole file, header included */
    uint32_t reserved28;
} emlc_knn_header_t;

typedef struct emlc_knn_file {
    emlc_knn_header_t h;
    uint32_t at[EMLC_KNN_SECTIONS];   /* byte offset of each section after the header (4-aligned) */
    uint32_t size[EMLC_KNN_SECTIONS]; /* its bytes without padding; 0 for an absent section */
} emlc_knn_file_t;

/* Check the header f->h (the file's first 32 bytes); fill f->at and f->size. Any problem:
 * EMLC_ERR_FORMAT, *e says where and why. */
emlc_err_t emlc_knn_load_header(emlc_knn_file_t *f, emlc_load_error_t *e);

/* body (4-byte aligned, f->h.file_bytes - EMLC_KNN_HEADER bytes) holds the rest of the file: check
 * every padding byte is 0, then float items finite, labels < n_classes, int16 scales finite and
 * > 0, offsets finite; then bind *m to it (n_items = max_items = the file's). The quantization
 * and class labels are at body + f->at[EMLC_KNN_SEC_SCALE / _OFFSET / _CLASSES] when their size
 * is not 0. EMLC_ERR_FORMAT (padding), EMLC_ERR_VALUE (an element); *e says where and why. */
emlc_err_t emlc_knn_load_check(const emlc_knn_file_t *f, uint8_t *body, emlc_knn_t *m, emlc_load_error_t *e);

#endif /* EMLC_KNN_H */
