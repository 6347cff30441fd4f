/* emlc_linear.h: linear models over caller-owned weights: scikit-learn's LinearRegression, Ridge,
 * Lasso, ElasticNet, SGDRegressor (regression), LogisticRegression, LinearSVC, SGDClassifier
 * (classification), and on-device training by stochastic gradient descent (SGDRegressor's).
 *
 * A model has n_outputs rows of n_features float32 coefficients (scikit-learn's coef_, row-major),
 * n_outputs float32 intercepts and, for classifiers, n_classes int32 class labels (classes_):
 * n_classes is 2 when n_outputs is 1 (binary) and n_outputs otherwise. Inputs are float32 or int16
 * (the int16 value converted to float32 exactly). Accepted input values: finite; weights: finite.
 *
 * Rules (every operation float32, round to nearest, no FMA; python/emlmpy/linear.py repeats them):
 *  - decision (emlc_linear_decision): score[k] = (sum over f in feature order, from 0, of
 *    coef[k][f] * x[f]) + intercept[k]. A score that is not finite (overflow) is an error (VALUE):
 *    nothing below ever sees inf or NaN.
 *  - class (emlc_linear_class): binary: index 1 when score[0] > 0, else 0 (scikit-learn's
 *    `scores > 0`); otherwise the index of the largest score, ties to the lowest index (argmax).
 *    The label is classes[index].
 *  - probabilities (emlc_linear_proba), by kind: LOGISTIC binary: p = 1 / (1 + exp(-s)),
 *    proba = [1 - p, p]; LOGISTIC multiclass (multinomial): m = max score, e[k] = exp(s[k] - m),
 *    proba[k] = e[k] / (sum of e in index order); OVR (one-vs-rest: liblinear, SGDClassifier's
 *    log loss): p[k] = 1 / (1 + exp(-s[k])), proba[k] = p[k] / (sum of p in index order); when
 *    that sum is below FLT_MIN (0 or subnormal: every score very negative) the multinomial formula
 *    instead (the limit of the normalized sigmoids), so never NaN for finite scores (binary as
 *    LOGISTIC). REGRESSOR and CLASSIFIER (LinearSVC, hinge) have none (KIND).
 *  - exp (emlc_linear_exp): x clamped to [-104, 89], k = x * log2(e) rounded half away from zero
 *    to an integer, r = (x - k * LN2_HI) - k * LN2_LO, p = Horner's degree-6 Taylor polynomial of
 *    exp(r) (1/720, 1/120, 1/24, 1/6, 1/2, 1, 1 as float32), result p * 2^(k/2) * 2^(k - k/2)
 *    (k/2 truncated toward zero). Within 3 ulp of exp in the normal range; 0 below ~ -103.3.
 *
 * Training (emlc_linear_sgd_epoch, one output, squared loss): scikit-learn's _plain_sgd (1.9) for
 * SGDRegressor(shuffle=False, fit_intercept=True, average=False, early_stopping=False), in float32.
 * Per sample, in order:
 *    p = decision(x) (as above), with sq = sum of coef[f]^2 and l1n = sum of |coef[f]| (feature order);
 *    eta = eta0 (constant) or eta0 * exp(-power_t * ln t) (invscaling);
 *    loss += 0.5 * (p - y)^2;  objective += that + alpha * ((1 - l1_ratio) * 0.5 * sq + l1_ratio * l1n);
 *    d = p - y clipped to +-1e12;  update = -eta * d;
 *    if alpha * (1 - l1_ratio) > 0: coef[f] *= max(0, 1 - eta * (1 - l1_ratio) * alpha) for all f;
 *    if update != 0: coef[f] += update * x[f] for all f; intercept += update;
 *    if l1_ratio * alpha > 0: u += eta * (l1_ratio * alpha), then the truncated-gradient L1 step
 *      (Tsuruoka et al. 2009): for each f, z = coef[f]; coef[f] = max(0, z - (u + q[f])) if z > 0,
 *      min(0, z + (u - q[f])) if z < 0; q[f] += coef[f] - z;
 *    t += 1.
 * u and q (n_features floats) start at 0 for each call of the caller's train/step (as scikit-learn's
 * fit and partial_fit do); t is the model's sample counter across calls (t_ in scikit-learn),
 * starting at 1. A coefficient, intercept or objective that is not finite after an epoch is an
 * error (VALUE): the caller restores the weights it saved. The sums are float32 in sample order.
 * Stopping (emlc_linear_stop, scikit-learn 1.9's rule without early_stopping): after each epoch,
 * mean = objective / n_samples; an epoch with mean > best - tol counts as no improvement (else the
 * count restarts at 0); best = min(best, mean); training stops when the count reaches
 * n_iter_no_change, or after max_iter epochs. tol < 0 disables it.
 *
 * No allocation, no global state, no libm. exp and ln are our own (float32), as above.
 */
#ifndef EMLC_LINEAR_H
#define EMLC_LINEAR_H

#include "emlc_common.h"

typedef enum emlc_linear_kind {
    EMLC_LINEAR_REGRESSOR = 0,  /* predict: the scores */
    EMLC_LINEAR_CLASSIFIER = 1, /* predict: a class; no probabilities (LinearSVC, hinge SGD) */
    EMLC_LINEAR_LOGISTIC = 2,   /* a class; probabilities: sigmoid (binary) or softmax */
    EMLC_LINEAR_OVR = 3         /* a class; probabilities: normalized sigmoids (one-vs-rest) */
} emlc_linear_kind_t;

/* The model. Invariants after a successful init: coef holds n_outputs * n_features floats,
 * intercept n_outputs, classes (classifier kinds) n_classes int32; 1 <= n_features, n_outputs <= 65535;
 * a classifier has n_outputs == 1 or >= 3 (two outputs would be an ambiguous binary model). */
typedef struct emlc_linear {
    float *coef;
    float *intercept;
    const int32_t *classes; /* NULL for a regressor */
    uint16_t n_features;
    uint16_t n_outputs;
    uint8_t kind; /* emlc_linear_kind_t */
} emlc_linear_t;

/* Errors: NULL (a pointer, or classes NULL for a classifier kind), KIND, SIZE. */
emlc_err_t emlc_linear_init(emlc_linear_t *m, emlc_linear_kind_t kind, size_t n_features, size_t n_outputs,
                            float *coef, float *intercept, const int32_t *classes);

/* The number of class labels (0 for a regressor). */
size_t emlc_linear_n_classes(const emlc_linear_t *m);

/* VALUE if one of the n floats is NaN or infinite. */
emlc_err_t emlc_linear_check(const float *v, size_t n);

/* Scores of the sample x (n_features float32 values, or int16 when i16 is nonzero) into
 * scores[n_outputs]. Errors: NULL, VALUE (x not finite, or a score overflowed). */
emlc_err_t emlc_linear_decision(const emlc_linear_t *m, const void *x, int i16, float *scores);

/* The class index of the scores (see above), 0..n_classes-1. */
size_t emlc_linear_class(const emlc_linear_t *m, const float *scores);

/* Probabilities of the n_classes classes from the (finite) scores. Errors: KIND (no probabilities). */
emlc_err_t emlc_linear_proba(const emlc_linear_t *m, const float *scores, float *proba);

/* An int32 that orders like the float f (-0 and +0 equal); for finite values and infinities. */
int32_t emlc_linear_key(float f);

/* Value i of X (float32, or int16 when i16 is nonzero) as a float32. */
float emlc_linear_at(const void *X, int i16, size_t i);

/* exp(x) in float32 (see above); x finite. */
float emlc_linear_exp(float x);

/* ln(x) in float32 for x >= 1 (the learning-rate schedule's sample counter); see emlc_linear_sgd.c. */
float emlc_linear_ln(float x);

/* Training settings (see above). Invariants checked by the caller: eta0 > 0 finite, power_t finite,
 * alpha >= 0 finite, 0 <= l1_ratio <= 1. */
typedef struct emlc_linear_sgd {
    float eta0, power_t, alpha, l1_ratio;
    uint8_t invscaling; /* 0: constant learning rate */
} emlc_linear_sgd_t;

/* One pass over the n samples of X (row-major, float32 or int16) with targets y: updates coef[0..],
 * intercept[0], *t; q is n_features floats of state, *u the L1 total (both zero at the first epoch
 * of a call); *loss and *objective receive the epoch's sums (see above).
 * Errors: NULL, SIZE (not one output, n 0), VALUE (X or y not finite, or the weights or objective
 * overflowed: the weights are then left as they are). */
emlc_err_t emlc_linear_sgd_epoch(emlc_linear_t *m, const emlc_linear_sgd_t *s, const void *X, int i16,
                                 const float *y, size_t n, float *q, float *u, uint32_t *t, float *loss,
                                 float *objective);

/* The stopping rule after an epoch with objective sum `objective` over n_samples (1..2^31-1; see
 * above): returns 1 to stop. *best starts at +inf, *count at 0. */
int emlc_linear_stop(float objective, float tol, size_t n_samples, uint32_t n_iter_no_change, float *best,
                     uint32_t *count);

#endif /* EMLC_LINEAR_H */
