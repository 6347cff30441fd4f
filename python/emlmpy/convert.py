"""Convert fitted scikit-learn estimators into TreeModel (format version 2) / KnnModel / KMeansModel / LinearModel.
Imports: math, fractions, numpy, errors, keys, layout, encode, trees, neighbors, kmeans, linear; scikit-learn when
convert() is first called (importing it takes seconds, and reading model files does not need it)."""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Iterator, List, Optional, Tuple, Union

import numpy as np

from . import keys as K
from .encode import Leaf, SourceForest, encode
from .errors import ConversionError, ModelProblem
from .keys import quiet
from .kmeans import KMeansModel
from .linear import LinearModel
from .layout import (KNN_MAX, KNN_MAX_CLASSES, KNN_MAX_ELEMENTS, LEAF_CLASS, LEAF_PROBA, LEAF_VALUE,
                     MAX_FEATURES, MAX_OUTPUTS, pack_payload)
from .neighbors import KnnModel
from .trees import TreeModel

TREE_CLASSIFIERS = ("DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier")
TREE_REGRESSORS = ("DecisionTreeRegressor", "RandomForestRegressor", "ExtraTreesRegressor")
CLUSTERERS = ("KMeans", "MiniBatchKMeans")
LINEAR_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor")
LINEAR_CLASSIFIERS = ("LogisticRegression", "LinearSVC", "SGDClassifier", "RidgeClassifier", "Perceptron")
LINEAR = LINEAR_REGRESSORS + LINEAR_CLASSIFIERS
SUPPORTED = TREE_CLASSIFIERS + TREE_REGRESSORS + ("KNeighborsClassifier",) + CLUSTERERS + LINEAR
MAX_W = 65535      # w is a uint16 in a payload
PROBA8_W = 255

Model = Union[TreeModel, KnnModel, KMeansModel, LinearModel]


def normalize_dtype(dtype: Optional[str]) -> str:
    if dtype is None or dtype in ("float", "float32", "f"):
        return "float"
    if dtype in ("int16", "int16_t", "h"):
        return "int16"
    raise ConversionError(f"unsupported dtype {dtype!r}: use 'float' or 'int16'")


def _kind_of(estimator: Any) -> str:
    """The supported scikit-learn class this estimator is (or derives from)."""
    from sklearn import cluster, ensemble, linear_model, neighbors, svm, tree  # third-party, on first use
    for name in SUPPORTED:
        module = (tree if name.startswith("Decision") else neighbors if name.startswith("KNeighbors") else
                  cluster if name in CLUSTERERS else svm if name == "LinearSVC" else
                  linear_model if name in LINEAR else ensemble)
        if isinstance(estimator, getattr(module, name)):
            return name
    raise ConversionError(
        f"unsupported estimator {type(estimator).__name__}; supported: {', '.join(SUPPORTED)}")


@quiet
def convert(estimator: Any, method: str = "inline", dtype: str = "float",
            leaf_bits: Optional[int] = None) -> Model:
    """Convert a fitted estimator. `method` ('inline'/'loadable') is accepted for compatibility.

    Tree classifiers: leaf_bits None/32 (default) exact class proportions (PROBA), 8 proportions
    rounded to counts over 255 (PROBA), 0 the leaf's class (CLASS). Regressors: float32 values.
    KMeans/MiniBatchKMeans: the float32 cluster centers (KMeansModel), whatever the device's input
    dtype (dtype must stay 'float': the device converts uint8/int16 samples to float32 itself).
    Linear models (LINEAR): float32 coef_/intercept_ (LinearModel) with the kind that gives
    scikit-learn's predict/predict_proba: 'regressor', 'logistic' (LogisticRegression: sigmoid or
    softmax), 'ovr' (SGDClassifier(loss='log_loss'): normalized sigmoids), 'classifier' (no
    probabilities); dtype must stay 'float' (the device takes float32 or int16 inputs as they are)."""
    if method not in ("inline", "loadable", None):
        raise ConversionError(f"unsupported method {method!r}: use 'inline' or 'loadable'")
    kind = _kind_of(estimator)
    dt = normalize_dtype(dtype)
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        raise ConversionError(f"{kind} is not fitted: call .fit(X, y) before convert()") from None
    if kind in CLUSTERERS:
        return _convert_kmeans(estimator, kind, dt, leaf_bits)
    if kind in LINEAR:
        return _convert_linear(estimator, kind, dt, leaf_bits)
    if kind == "KNeighborsClassifier":
        if leaf_bits is not None:
            raise ConversionError("leaf_bits applies to tree models only")
        model: Model = _convert_knn(estimator, dt)
    else:
        model = _convert_trees(estimator, kind, dt, leaf_bits)
    try:
        model.check()
    except ModelProblem as p:
        raise ConversionError(f"cannot convert {kind}: {p.message}") from None
    return model


# ---- trees -----------------------------------------------------------------------------------
def _leaf_kind(is_classifier: bool, leaf_bits: Optional[int]) -> int:
    if is_classifier:
        if leaf_bits not in (None, 32, 0, 8):
            raise ConversionError(f"leaf_bits={leaf_bits!r} unsupported for classifiers: use None/32, 8 or 0")
        return LEAF_CLASS if leaf_bits == 0 else LEAF_PROBA
    if leaf_bits not in (None, 32):
        raise ConversionError(f"leaf_bits={leaf_bits!r} unsupported for regressors: use None or 32")
    return LEAF_VALUE


def _convert_trees(estimator: Any, kind: str, dtype: str, leaf_bits: Optional[int]) -> TreeModel:
    is_classifier = kind in TREE_CLASSIFIERS
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise ConversionError("multi-output estimators are not supported (n_outputs_ must be 1)")
    n_features = int(estimator.n_features_in_)
    if n_features > MAX_FEATURES:
        raise ConversionError(f"{n_features} features: the model format holds at most {MAX_FEATURES}")
    n_classes = int(estimator.n_classes_) if is_classifier else 0
    if n_classes > MAX_OUTPUTS:
        raise ConversionError(f"{n_classes} classes: the device supports at most {MAX_OUTPUTS}")
    leaf_kind = _leaf_kind(is_classifier, leaf_bits)
    trees = [e.tree_ for e in getattr(estimator, "estimators_", [estimator])]

    scale = offset = None
    if dtype == "int16":
        per_feature: List[list] = [[] for _ in range(n_features)]
        for t in trees:
            inner = t.children_left != -1
            for f, th in zip(t.feature[inner], t.threshold[inner]):
                per_feature[int(f)].append(float(th))
        scale, offset = K.choose_quantization(per_feature, n_features)

    src = _source_forest(trees, leaf_kind, leaf_bits, dtype, scale, offset)
    try:
        arrays = encode(src, dtype, leaf_kind, n_features, max(n_classes, 1), scale, offset)
    except ModelProblem as p:
        raise ConversionError(f"cannot convert {kind}: {p.message}") from None
    classes = np.asarray(estimator.classes_) if is_classifier else None
    arrays.labels = _integer_labels(classes)
    return TreeModel.from_arrays(arrays, classes)


def _integer_labels(classes: Optional[np.ndarray]) -> Optional[np.ndarray]:
    """scikit-learn's classes_ as the file's class labels (§1, §4): when they are integers that fit
    int32 and are not simply 0..n-1 (then the index is the label and nothing is stored). String
    labels stay on the host model (`classes`); the device returns their index."""
    if classes is None or not np.issubdtype(classes.dtype, np.integer):
        return None
    if np.array_equal(classes, np.arange(len(classes))):
        return None
    if classes.min() < -2 ** 31 or classes.max() > 2 ** 31 - 1:
        return None
    return classes.astype(np.int32)


def _source_forest(trees: list, leaf_kind: int, leaf_bits: Optional[int], dtype: str,
                   scale: Optional[np.ndarray], offset: Optional[np.ndarray]) -> SourceForest:
    """All trees' decision nodes in one table (scikit-learn's order per tree, which has children
    after parents) with key-space thresholds, and their leaves."""
    feature, thr, ml, left, right, roots = [], [], [], [], [], []
    leaves: List[Leaf] = []
    n_nodes = 0
    for t in trees:
        is_leaf = t.children_left == -1
        inner = np.flatnonzero(~is_leaf)
        ref = np.empty(t.node_count, dtype=np.int64)
        ref[inner] = n_nodes + np.arange(inner.size)
        leaf_ids = np.flatnonzero(is_leaf)
        ref[leaf_ids] = -1 - (len(leaves) + np.arange(leaf_ids.size))
        for node in leaf_ids:
            leaves.append(_leaf(t, int(node), leaf_kind, leaf_bits))
        feature.append(t.feature[inner].astype(np.int64))
        thr.append(t.threshold[inner].astype(np.float64))
        mgl = getattr(t, "missing_go_to_left", None)
        ml.append(np.zeros(inner.size, bool) if mgl is None or dtype == "int16" else
                  np.asarray(mgl)[inner].astype(bool))
        left.append(ref[t.children_left[inner]])
        right.append(ref[t.children_right[inner]])
        roots.append(int(ref[0]))
        n_nodes += inner.size
    feat = np.concatenate(feature) if feature else np.zeros(0, np.int64)
    thr64 = np.concatenate(thr) if thr else np.zeros(0)
    if scale is None or offset is None:
        keys = K.sklearn_threshold_keys(thr64)
    else:
        keys = K.quantized_threshold(thr64, scale[feat], offset[feat]) if feat.size else np.zeros(0, np.int32)
    return SourceForest(feature=feat, key=np.asarray(keys, dtype=np.int64), missing_left=np.concatenate(ml),
                        left=np.concatenate(left), right=np.concatenate(right), roots=roots, leaves=leaves)


def _leaf(t: Any, node: int, leaf_kind: int, leaf_bits: Optional[int]) -> Leaf:
    v = np.asarray(t.value[node, 0, :], dtype=np.float64)
    if leaf_kind == LEAF_VALUE:
        x = np.float32(v[0])
        if not np.isfinite(x):
            raise ConversionError(f"leaf value {float(v[0])!r} does not fit a float32")
        return x.astype("<f4").tobytes()
    if leaf_kind == LEAF_CLASS:
        return int(np.argmax(v))
    if leaf_bits == 8:
        return _proba8_leaf(v)
    w, counts = exact_counts(v, float(t.weighted_n_node_samples[node]))
    if w == 1:
        return int(np.argmax(counts))
    return pack_payload(w, [(c, n) for c, n in enumerate(counts) if n])


def _proba8_leaf(v: np.ndarray) -> Leaf:
    """leaf_bits=8: counts rint(p x 255) over w = 255; a count of 255 is a pure leaf."""
    total = v.sum()
    if not total > 0:
        raise ConversionError("a leaf has no weight (all class values 0): cannot store proportions")
    counts = np.rint(v / total * PROBA8_W).astype(np.int64)
    if counts.max() == PROBA8_W:
        return int(np.argmax(counts))
    return pack_payload(PROBA8_W, [(int(c), int(n)) for c, n in enumerate(counts) if n])


def exact_counts(value: np.ndarray, weighted_n: float) -> Tuple[int, List[int]]:
    """Integer counts c and w, in lowest terms, with c / w == value exactly in float64 for every
    class (scikit-learn >= 1.4 stores a classifier leaf's weighted class counts over its weighted
    sample count; older versions the counts themselves). w comes from the leaf's weighted sample
    count, else from the fractions' denominators; (1, one-hot) for a pure leaf. Raises
    ConversionError naming leaf_bits=8 when value holds no such ratios (e.g. fractional sample
    weights) or w exceeds 65535."""
    for w, counts in _candidates(value, weighted_n):
        if w >= 1 and np.all(counts >= 0) and counts.sum() == w:
            g = math.gcd(int(w), *(int(c) for c in counts))
            if w // g <= MAX_W:
                return int(w) // g, [int(c) // g for c in counts]
    raise ConversionError(
        f"a leaf's class proportions {value.tolist()} are not exact ratios of integer counts over "
        f"w <= {MAX_W} (fractional sample weights or class_weight?): convert with leaf_bits=8 "
        "(proportions rounded to 1/255) or leaf_bits=0 (class leaves)")


def _candidates(value: np.ndarray, weighted_n: float) -> Iterator[Tuple[float, np.ndarray]]:
    """(w, counts) pairs that reproduce `value` exactly: over the weighted sample count, over the
    least common multiple of the fractions' denominators, or value itself when it holds counts."""
    if not np.all(np.isfinite(value)) or np.any(value < 0):
        return
    if np.all(value == np.rint(value)) and value.sum() == weighted_n and weighted_n < 2 ** 53:
        yield weighted_n, value.copy()  # scikit-learn < 1.4: the counts
    ws: List[float] = []
    if np.isfinite(weighted_n) and 1 <= weighted_n < 2 ** 53 and weighted_n == np.rint(weighted_n):
        ws.append(weighted_n)
    lcm = 1
    for v in value:
        d = Fraction(float(v)).limit_denominator(MAX_W).denominator
        lcm = lcm * d // math.gcd(lcm, d)
        if lcm > MAX_W:
            break
    else:
        ws.append(float(lcm))
    for w in ws:
        counts = np.rint(value * w)
        if np.all(counts / w == value):
            yield w, counts


# ---- k-NN ------------------------------------------------------------------------------------
def _convert_knn(est: Any, dtype: str) -> KnnModel:
    if est.weights != "uniform":
        raise ConversionError("KNeighborsClassifier: only weights='uniform' is supported")
    if getattr(est, "effective_metric_", None) != "euclidean":
        raise ConversionError("KNeighborsClassifier: only the euclidean metric is supported")
    if np.asarray(est._y).ndim != 1:
        raise ConversionError("multi-output KNeighborsClassifier is not supported")
    X = np.asarray(est._fit_X, dtype=np.float64)
    n_items, n_features = X.shape
    classes = np.asarray(est.classes_)
    if len(classes) > KNN_MAX_CLASSES:
        raise ConversionError(f"{len(classes)} classes: a k-NN file holds at most {KNN_MAX_CLASSES}")
    if n_features > KNN_MAX:
        raise ConversionError(f"{n_features} features: a k-NN file holds at most {KNN_MAX}")
    if int(est.n_neighbors) > KNN_MAX:
        raise ConversionError(f"n_neighbors {est.n_neighbors}: at most {KNN_MAX}")
    if int(est.n_neighbors) > n_items:  # scikit-learn's predict refuses it too
        raise ConversionError(f"n_neighbors {est.n_neighbors} > {n_items} training samples")
    if n_items * n_features > KNN_MAX_ELEMENTS:
        raise ConversionError(f"{n_items} samples x {n_features} features: a k-NN file holds at most 2^28 values")
    labels = np.asarray(est._y).astype(np.uint16)
    scale = offset = None
    if dtype == "float":
        items = X.astype(np.float32)
        if not np.all(np.isfinite(items)):
            raise ConversionError("KNeighborsClassifier: training values do not fit a float32")
    else:
        scale, offset = K.choose_quantization([X[:, f] for f in range(n_features)], n_features,
                                              common_scale=True)
        items = K.quantize(X, scale, offset)
    return KnnModel(dtype=dtype, k=int(est.n_neighbors), n_features=n_features, n_classes=len(classes),
                    items=items, labels=labels, scale=scale, offset=offset,
                    class_labels=_integer_labels(classes), classes=classes)


# ---- k-means ---------------------------------------------------------------------------------
def _convert_kmeans(est: Any, kind: str, dtype: str, leaf_bits: Optional[int]) -> KMeansModel:
    if leaf_bits is not None:
        raise ConversionError("leaf_bits applies to tree models only")
    if dtype != "float":
        raise ConversionError(f"{kind}: the centers are float32 whatever the samples' dtype; convert with "
                              "the default dtype and pick the samples' dtype on the device "
                              "(emlkmeans.KMeans(n_clusters, n_features, 'B' or 'h'))")
    try:
        return KMeansModel(np.asarray(est.cluster_centers_, dtype=np.float64))
    except ValueError as e:
        raise ConversionError(f"cannot convert {kind}: {e}") from None


# ---- linear models -----------------------------------------------------------------------------
def _convert_linear(est: Any, kind: str, dtype: str, leaf_bits: Optional[int]) -> LinearModel:
    if leaf_bits is not None:
        raise ConversionError("leaf_bits applies to tree models only")
    if dtype != "float":
        raise ConversionError(f"{kind}: the weights are float32 whatever the inputs' dtype; convert with the "
                              "default dtype (the device takes array('f') or array('h') inputs)")
    if kind in LINEAR_REGRESSORS:
        lkind, classes = "regressor", None
    else:
        classes = np.asarray(est.classes_)
        if kind == "LogisticRegression":
            lkind = "logistic"
        elif kind == "SGDClassifier" and est.loss == "log_loss":
            lkind = "ovr"
        else:
            lkind = "classifier"
    try:
        return LinearModel(np.asarray(est.coef_, dtype=np.float64), np.asarray(est.intercept_, dtype=np.float64),
                           lkind, classes)
    except ValueError as e:
        raise ConversionError(f"cannot convert {kind}: {e}") from None
