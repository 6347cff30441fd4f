"""Convert fitted scikit-learn estimators into TreeModel / KnnModel."""
from __future__ import annotations

from typing import Dict, List, Optional, Union

import numpy as np

from . import keys as K
from .keys import quiet
from .errors import ConversionError
from .neighbors import KnnModel
from .trees import (LEAF_CLASS, LEAF_PROBA, LEAF_PROBA8, LEAF_VALUE, MAX_LEAVES, MAX_NODES,
                    MAX_OUTPUTS, TreeModel)

TREE_CLASSIFIERS = ("DecisionTreeClassifier", "RandomForestClassifier", "ExtraTreesClassifier")
TREE_REGRESSORS = ("DecisionTreeRegressor", "RandomForestRegressor", "ExtraTreesRegressor")
SUPPORTED = TREE_CLASSIFIERS + TREE_REGRESSORS + ("KNeighborsClassifier",)

Model = Union[TreeModel, KnnModel]


def normalize_dtype(dtype: Optional[str]) -> str:
    if dtype is None or dtype in ("float", "float32", "f"):
        return "float"
    if dtype in ("int16", "int16_t", "h"):
        return "int16"
    raise ConversionError(f"unsupported dtype {dtype!r}: use 'float' or 'int16'")


def _kind_of(estimator: object) -> str:
    """The supported sklearn class this estimator is (or derives from)."""
    from sklearn import ensemble, neighbors, tree
    classes = {
        "DecisionTreeClassifier": tree.DecisionTreeClassifier,
        "DecisionTreeRegressor": tree.DecisionTreeRegressor,
        "RandomForestClassifier": ensemble.RandomForestClassifier,
        "RandomForestRegressor": ensemble.RandomForestRegressor,
        "ExtraTreesClassifier": ensemble.ExtraTreesClassifier,
        "ExtraTreesRegressor": ensemble.ExtraTreesRegressor,
        "KNeighborsClassifier": neighbors.KNeighborsClassifier,
    }
    for name, cls in classes.items():
        if isinstance(estimator, cls):
            return name
    raise ConversionError(
        f"unsupported estimator {type(estimator).__name__}; supported: {', '.join(SUPPORTED)}")


@quiet
def convert(estimator: object, method: str = "inline", dtype: str = "float",
            leaf_bits: Optional[int] = None) -> Model:
    """Convert a fitted estimator. `method` ('inline'/'loadable') is accepted for compatibility."""
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
    if kind == "KNeighborsClassifier":
        if leaf_bits is not None:
            raise ConversionError("leaf_bits applies to tree models only")
        return _convert_knn(estimator, dt)
    return _convert_trees(estimator, kind, dt, leaf_bits)


# ---- trees -----------------------------------------------------------------------------------
def _leaf_kind(is_classifier: bool, leaf_bits: Optional[int]) -> int:
    if is_classifier:
        table = {None: LEAF_PROBA, 32: LEAF_PROBA, 0: LEAF_CLASS, 8: LEAF_PROBA8}
        if leaf_bits not in table:
            raise ConversionError(f"leaf_bits={leaf_bits!r} unsupported for classifiers: use None/32, 8 or 0")
        return table[leaf_bits]
    if leaf_bits not in (None, 32):
        raise ConversionError(f"leaf_bits={leaf_bits!r} unsupported for regressors: use None or 32")
    return LEAF_VALUE


def _convert_trees(estimator: object, kind: str, dtype: str, leaf_bits: Optional[int]) -> TreeModel:
    is_classifier = kind in TREE_CLASSIFIERS
    sub = list(getattr(estimator, "estimators_", [estimator]))
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise ConversionError("multi-output estimators are not supported (n_outputs_ must be 1)")
    n_features = int(estimator.n_features_in_)
    n_classes = int(estimator.n_classes_) if is_classifier else 0
    leaf_kind = _leaf_kind(is_classifier, leaf_bits)
    if n_classes > MAX_OUTPUTS:
        raise ConversionError(f"{n_classes} classes: the device supports at most {MAX_OUTPUTS}")
    trees = [e.tree_ for e in sub]

    scale = offset = None
    if dtype == "int16":
        per_feature: List[list] = [[] for _ in range(n_features)]
        for t in trees:
            inner = t.children_left != -1
            for f, th in zip(t.feature[inner], t.threshold[inner]):
                per_feature[int(f)].append(float(th))
        scale, offset = K.choose_quantization(per_feature, n_features)

    thresholds: List[np.ndarray] = []
    features: List[int] = []
    children: List[int] = []
    roots: List[int] = []
    leaf_index: Dict[bytes, int] = {}
    leaf_rows: List[np.ndarray] = []

    def add_leaf(tree, node: int) -> int:
        v = np.asarray(tree.value[node, 0, :], dtype=np.float64)
        if leaf_kind == LEAF_VALUE:
            row = np.array([v[0]], dtype=np.float32)
        else:
            total = v.sum()
            p = v / total if total > 0 else v
            if leaf_kind == LEAF_CLASS:
                row = np.array([int(np.argmax(p))], dtype=np.uint8)
            elif leaf_kind == LEAF_PROBA:
                row = p.astype(np.float32)
            else:
                row = np.clip(np.rint(p * 255.0), 0, 255).astype(np.uint8)
        key = row.tobytes()
        if key not in leaf_index:
            leaf_index[key] = len(leaf_rows)
            leaf_rows.append(row)
        return -1 - leaf_index[key]

    node_thr: List[float] = []
    for tree in trees:
        left, right = tree.children_left, tree.children_right
        # Pre-order: a node gets its index before its subtrees, so children > parent.
        new_index: Dict[int, int] = {}
        order: List[int] = []
        stack = [0]
        while stack:
            n = stack.pop()
            if left[n] == -1:
                continue
            new_index[n] = len(features) + len(order)
            order.append(n)
            stack.append(int(right[n]))
            stack.append(int(left[n]))

        def ref(n: int) -> int:
            return new_index[n] if left[n] != -1 else add_leaf(tree, n)

        roots.append(ref(0))
        for n in order:
            features.append(int(tree.feature[n]))
            node_thr.append(float(tree.threshold[n]))
            children.append(ref(int(left[n])))
            children.append(ref(int(right[n])))
        if len(features) > MAX_NODES:
            raise ConversionError(f"model has more than {MAX_NODES} decision nodes; reduce trees or depth")
        if len(leaf_rows) > MAX_LEAVES:
            raise ConversionError(f"model has more than {MAX_LEAVES} distinct leaves")

    feat = np.array(features, dtype=np.uint16)
    thr64 = np.array(node_thr, dtype=np.float64)
    if dtype == "float":
        thr = K.sklearn_threshold_keys(thr64)
    else:
        thr = K.quantized_threshold(thr64, scale[feat], offset[feat]) if feat.size else np.zeros(0, np.int32)
    width = leaf_rows[0].shape[0]
    model = TreeModel(
        dtype=dtype, leaf_kind=leaf_kind, n_features=n_features, n_classes=n_classes,
        thresholds=np.asarray(thr, dtype=np.int32), features=feat,
        children=np.array(children, dtype=np.int16), roots=np.array(roots, dtype=np.int16),
        leaves=np.stack(leaf_rows).reshape(len(leaf_rows), width),
        scale=scale, offset=offset,
        classes=np.asarray(estimator.classes_) if is_classifier else None,
    )
    model.check()
    return model


# ---- k-NN ------------------------------------------------------------------------------------
def _convert_knn(est: object, dtype: str) -> KnnModel:
    if est.weights != "uniform":
        raise ConversionError("KNeighborsClassifier: only weights='uniform' is supported")
    if getattr(est, "effective_metric_", None) != "euclidean":
        raise ConversionError("KNeighborsClassifier: only the euclidean metric is supported")
    if np.asarray(est._y).ndim != 1:
        raise ConversionError("multi-output KNeighborsClassifier is not supported")
    X = np.asarray(est._fit_X, dtype=np.float64)
    n_features = X.shape[1]
    labels = np.asarray(est._y, dtype=np.uint16)
    classes = np.asarray(est.classes_)
    scale = offset = None
    if dtype == "float":
        items = X.astype(np.float32)
    else:
        scale, offset = K.choose_quantization([X[:, f] for f in range(n_features)], n_features,
                                              common_scale=True)
        items = K.quantize(X, scale, offset)
    model = KnnModel(dtype=dtype, k=int(est.n_neighbors), n_features=n_features,
                     n_classes=len(classes), items=items, labels=labels, scale=scale, offset=offset,
                     classes=classes)
    model.check()
    return model
