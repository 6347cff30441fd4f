/* emlc_kmeans.h: k-means clustering over caller-owned centers: nearest-center prediction and
 * Lloyd's algorithm with a k-means++ start, as scikit-learn's KMeans(algorithm='lloyd').
 *
 * Inputs (samples) are float32, uint8 or int16 (the dtype, fixed at init): uint8 for pixels (the
 * anchor project's use, colour quantization), int16 for sensor samples. Centers are always float32,
 * as scikit-learn's cluster_centers_ are (means, not data values): an integer sample is converted
 * to float32 exactly, and every distance, sum and mean is float32 whatever the dtype, so one code
 * path serves all three and a center fitted on the host is used unchanged. Accepted values:
 * finite with |v| < 2^40 (EMLC_KMEANS_LIMIT); within that bound no float32 sum below overflows.
 *
 * Rules (scikit-learn's, see docs/emlkmeans.md for where the two can differ):
 *  - distance: squared euclidean, computed as the float32 sum, in feature order, of float32 squared
 *    differences (x[f] - c[f]) * (x[f] - c[f]) (no FMA). Nearest center: the smallest distance,
 *    ties to the lowest center index (KMeans.predict's rule).
 *  - fit (emlc_kmeans_fit): Lloyd iterations from the current centers. One iteration assigns every
 *    sample to its nearest center, relocates empty clusters (below), sets each center to the mean
 *    of its samples (the float32 sum in sample order times the float32 reciprocal of the count,
 *    scikit-learn's `centers *= 1 / weight`), and adds the squared shifts of all centers. It stops
 *    after the iteration whose total squared shift is <= tol * mean over features of the
 *    population variance of X (scikit-learn's `_tolerance`: np.mean(np.var(X, axis=0)) * tol; 0
 *    when tol is 0), or after max_iter iterations. scikit-learn also stops when the labels did not
 *    change; then the centers did not change either (shift 0), so that stop is the same one.
 *    n_iter: the iterations run (1..max_iter). inertia: the float32 sum, in sample order, of every
 *    sample's distance to its nearest final center (scikit-learn's inertia_).
 *  - empty clusters (scikit-learn's `_relocate_empty_clusters_dense`): when an iteration leaves
 *    clusters without samples and some sample is not exactly on its center, each empty cluster in
 *    index order takes the next sample farthest from its current center (distance descending, ties
 *    to the lower sample index), which leaves its old cluster. A cluster still empty afterwards
 *    (every sample on its center, i.e. fewer distinct samples than clusters) keeps its center.
 *  - k-means++ start (emlc_kmeans_init_plusplus): the first center is a sample drawn uniformly,
 *    each next one a sample drawn with probability proportional to its distance to the nearest
 *    center chosen so far (one draw per center: "vanilla" k-means++; scikit-learn's greedy variant
 *    tries 2 + ln k candidates, and its random numbers differ, so the centers differ from its own).
 *    Draws use xorshift32 (x ^= x << 13; x ^= x >> 17; x ^= x << 5) from state 2 * seed + 1
 *    (mod 2^32); see emlc_kmeans.c for the exact procedure (tests_host/test_cores_kmeans.py repeats
 *    it in numpy). Samples at distance 0 from a chosen center are never drawn unless all are.
 *
 * No allocation, no global state, no libm, no division: reciprocals by integer long division.
 */
#ifndef EMLC_KMEANS_H
#define EMLC_KMEANS_H

#include "emlc_common.h"

/* Sample dtypes; the value is log2 of the element size. */
typedef enum emlc_kmeans_dtype {
    EMLC_KMEANS_U8 = 0,  /* uint8_t */
    EMLC_KMEANS_I16 = 1, /* int16_t */
    EMLC_KMEANS_F32 = 2  /* float */
} emlc_kmeans_dtype_t;

/* Accepted values: finite with magnitude below this (2^40, about 1.1e12). */
#define EMLC_KMEANS_LIMIT 1099511627776.0f

/* The model. Invariants after a successful init: centers non-NULL and holds
 * n_clusters * n_features floats (row-major), 1 <= n_clusters, n_features <= 65535. */
typedef struct emlc_kmeans {
    float *centers;
    uint16_t n_clusters;
    uint16_t n_features;
    uint8_t dtype; /* emlc_kmeans_dtype_t */
} emlc_kmeans_t;

/* Set up a model over caller-owned centers (centers_len >= n_clusters * n_features floats; their
 * values are not read here). Errors: NULL, KIND (dtype), SIZE (n_clusters or n_features 0 or
 * > 65535), CAPACITY (centers_len too small). */
emlc_err_t emlc_kmeans_init(emlc_kmeans_t *m, emlc_kmeans_dtype_t dtype, size_t n_clusters, size_t n_features,
                            float *centers, size_t centers_len);

/* VALUE if one of the n values is NaN, infinite or |v| >= EMLC_KMEANS_LIMIT (uint8 and int16
 * values always pass). Errors: NULL (x NULL with n > 0), KIND. */
emlc_err_t emlc_kmeans_check(const void *x, emlc_kmeans_dtype_t dtype, size_t n);

/* The nearest center to the sample x (n_features values of the model's dtype) into *label, its
 * squared distance into *dist (dist may be NULL). The centers are assumed checked (as fit and
 * emlc_kmeans_check leave them). Errors: NULL, SIZE (n_features mismatch), VALUE (x not accepted). */
emlc_err_t emlc_kmeans_predict(const emlc_kmeans_t *m, const void *x, size_t n_features, uint16_t *label,
                               float *dist);

/* Choose the centers by k-means++ from the n_samples samples of X (row-major, model's dtype).
 * Errors: NULL, SIZE (n_samples < n_clusters or >= 2^31), VALUE (X not accepted); the centers
 * are written only on success. */
emlc_err_t emlc_kmeans_init_plusplus(emlc_kmeans_t *m, const void *X, size_t n_samples, uint32_t seed);

/* Lloyd iterations from the current centers (see above). sums (>= n_clusters * n_features floats)
 * and counts (>= n_clusters) are caller-owned scratch. *n_iter and *inertia receive the results.
 * Errors (centers untouched): NULL; SIZE (n_samples < n_clusters or >= 2^31); CAPACITY (scratch too
 * small); VALUE (X or the current centers not accepted, max_iter 0, tol negative or not finite). */
emlc_err_t emlc_kmeans_fit(emlc_kmeans_t *m, const void *X, size_t n_samples, uint32_t max_iter, float tol,
                           float *sums, size_t sums_len, uint32_t *counts, size_t counts_len, uint32_t *n_iter,
                           float *inertia);

/* 1/n rounded to the nearest float32, for 1 <= n < 2^31 (0 for n == 0), without a division. */
float emlc_kmeans_recip(uint32_t n);

#endif /* EMLC_KMEANS_H */
