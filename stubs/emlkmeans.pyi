"""k-means clustering on the device: fit (k-means++ start, Lloyd iterations) and nearest-center
prediction, with scikit-learn's KMeans rules (docs/emlkmeans.md).

Samples are a flat array of n_samples * n_features values of the model's dtype: array('f')
(float32), array('B') / bytearray / bytes (uint8, e.g. RGB pixels) or array('h') (int16). Centers
are always float32 (array('f'), n_clusters * n_features values, row-major), as scikit-learn's
cluster_centers_. Accepted values: finite with |v| < 2**40. Every bad argument raises TypeError
(wrong type or typecode) or ValueError (wrong length, range or value) before anything changes."""
from array import array

Samples = array | bytearray | bytes | memoryview


class KMeans:
    def __init__(self, n_clusters: int, n_features: int, dtype: str | None = "f") -> None:
        """Same as :func:`new`."""

    def fit(self, X: Samples, max_iter: int = 300, tol: float = 1e-4, init: array | None = None,
            random_state: int = 0) -> "KMeans":
        """Cluster X (n_samples >= n_clusters). Starts from ``init`` (array('f') of initial centers,
        scikit-learn's ``init=<array>``) or, when None, from k-means++ draws seeded by
        ``random_state`` (0 .. 2**30 - 1); then Lloyd iterations until the centers move less than
        ``tol`` (>= 0) times the mean variance of X's features (scikit-learn's rule) or after
        ``max_iter`` (>= 1) iterations. Empty clusters take the samples farthest from their centers
        (scikit-learn's rule). Returns the model. Allocates n_clusters * (n_features + 1) * 4 bytes of
        scratch for the call (MemoryError if that does not fit: the model is unchanged).

        The fit is the optional module emlkmeans_fit (emlkmeans_fit.mpy beside emlkmeans.mpy), which
        the first fit imports; without it fit raises the firmware's ImportError naming it and the
        model is unchanged. Predicting with centers fitted elsewhere does not need it."""

    def predict(self, x: Samples) -> int:
        """Index of the center nearest to the sample x (n_features values): squared euclidean
        distance, ties to the lowest index (scikit-learn's KMeans.predict). ValueError before any
        centers are set."""

    def predict_many(self, X: Samples, out: array | bytearray) -> None:
        """predict for each sample of X into ``out`` (one item per sample): array('h'), or
        array('B') / bytearray when n_clusters <= 256. ``out`` must not overlap X. Nothing is written
        when X holds a refused value."""

    def cluster_centers(self, out: array) -> None:
        """Copy the centers into ``out`` (array('f') of n_clusters * n_features), scikit-learn's
        cluster_centers_."""

    def set_cluster_centers(self, centers: array) -> None:
        """Set the centers (array('f') of n_clusters * n_features; copied), e.g. read from the file
        ``emlmpy.convert(KMeans).save(file=...)`` writes. n_iter() and inertia() become None."""

    def inertia(self) -> float | None:
        """Sum of the samples' squared distances to their nearest center after the last fit
        (float32, scikit-learn's inertia_); None before a fit or after set_cluster_centers."""

    def n_iter(self) -> int | None:
        """Iterations the last fit ran (scikit-learn's n_iter_); None before a fit or after
        set_cluster_centers."""


def new(n_clusters: int, n_features: int, dtype: str | None = "f") -> KMeans:
    """A model of ``n_clusters`` centers (1..32767) of ``n_features`` values (1..32767) for samples
    of array typecode ``dtype``: 'f' (float32, the default, also for None), 'B' (uint8) or 'h'
    (int16). Positional or keyword arguments. Allocates the centers (n_clusters * n_features * 4
    bytes; MemoryError when they do not fit)."""
