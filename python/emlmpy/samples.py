"""Shape check shared by every host model's predict: X as scikit-learn takes it."""
from __future__ import annotations

import numpy as np


def as_samples(X: np.ndarray, n_features: int) -> np.ndarray:
    """X as a 2-D array (n_samples, n_features); one 1-D sample becomes one row.

    Raises ValueError naming the expected and the given shape."""
    X = np.asarray(X)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"expected X with {n_features} features, got shape {X.shape}")
    return X
