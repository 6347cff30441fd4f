"""The k-means rules of cores/emlc_kmeans.h transcribed in numpy, float32 operation for operation
(ref_plusplus, ref_tol, ref_step, ref_fit: bit-identical to the core, which test_cores_kmeans.py
checks), and `lockstep`, scikit-learn's Lloyd in float64 run beside them to tell which fits may
legitimately differ from scikit-learn's. Used by test_cores_kmeans.py and test_modules_kmeans.py."""
from __future__ import annotations

import numpy as np

U = 2.0 ** -24


def f32(x) -> np.float32:
    return np.float32(x)


def dist32(X: np.ndarray, C32: np.ndarray) -> np.ndarray:
    """(n, k) float32 distances, summed in feature order (the core's and emlmpy's rule)."""
    acc = np.zeros((len(X), len(C32)), np.float32)
    for f in range(X.shape[1]):
        e = X[:, f, None] - C32[None, :, f]
        acc += e * e
    return acc


def seqsum(v: np.ndarray) -> np.float32:
    """float32 sum in order (np.cumsum adds sequentially)."""
    return np.cumsum(np.asarray(v, np.float32), dtype=np.float32)[-1] if len(v) else f32(0)


def ref_plusplus(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means++ as cores/emlc_kmeans.c draws it (xorshift32 from 2*seed+1, one weighted reservoir
    pass per center: a sample of weight w > 0 replaces the pick when (u - 1) * total <= w)."""
    X = X.astype(np.float32)
    s = (2 * seed + 1) & 0xFFFFFFFF
    centers = np.zeros((k, X.shape[1]), np.float32)
    for j in range(k):
        w = np.ones(len(X), np.float32) if j == 0 else dist32(X, centers[:j]).min(axis=1)
        total, pick = f32(0), 0
        for i in np.flatnonzero(w > 0):
            total = f32(total + w[i])
            s ^= (s << 13) & 0xFFFFFFFF
            s ^= s >> 17
            s ^= (s << 5) & 0xFFFFFFFF
            u = np.array([0x3F800000 | (s >> 9)], np.uint32).view(np.float32)[0]
            if f32(f32(u - f32(1)) * total) <= w[i]:
                pick = i
        centers[j] = X[pick]
    return centers


def ref_tol(X: np.ndarray, tol: float) -> np.float32:
    """tol * mean variance as the core computes it: (sum over samples of |x - mean|^2) / n / n_features."""
    if tol == 0:
        return f32(0)
    n, nf = X.shape
    rn = f32(1) / f32(n)
    mean = np.array([seqsum(X[:, f]) for f in range(nf)], np.float32) * rn
    return f32(tol) * f32(f32(seqsum(dist32(X, mean[None])[:, 0]) * rn) * (f32(1) / f32(nf)))


def ref_step(X: np.ndarray, c: np.ndarray):
    """One Lloyd iteration of the core, float32 operation for operation (cores/emlc_kmeans.h):
    (distances, labels, new centers, total squared shift)."""
    n, nf = X.shape
    k = len(c)
    d = dist32(X, c)
    lab = np.argmin(d, axis=1)
    dmin = d[np.arange(n), lab]
    sums = np.zeros((k, nf), np.float32)
    np.add.at(sums, lab, X)  # in sample order, float32
    counts = np.bincount(lab, minlength=k).astype(np.int64)
    # empty clusters: the next farthest sample (distance descending, then lower index)
    order = sorted(range(n), key=lambda i: (-int(dmin[i].view(np.uint32)), i)) if (counts == 0).any() else []
    taken = 0
    for j in range(k):
        if counts[j]:
            continue
        far = order[taken]
        if taken == 0 and dmin[far] == 0:
            break
        taken += 1
        counts[lab[far]] -= 1
        counts[j] = 1
        sums[lab[far]] -= X[far]
        sums[j] = X[far]
    new = c.copy()
    terms = []
    for j in range(k):
        if counts[j]:
            v = sums[j] * (f32(1) / f32(counts[j]))
            terms.extend((v - c[j]) * (v - c[j]))
            new[j] = v
    return d, lab, new, seqsum(np.array(terms, np.float32))


def ref_fit(X: np.ndarray, init: np.ndarray, max_iter: int = 300, tol: float = 1e-4):
    """The core's fit in numpy: (centers, n_iter, inertia), bit for bit."""
    X = X.astype(np.float32)
    c = init.astype(np.float32).copy()
    tol_abs = ref_tol(X, tol)
    for it in range(1, max_iter + 1):
        _, _, c, shift = ref_step(X, c)
        if shift <= tol_abs:
            break
    return c, it, seqsum(dist32(X, c).min(axis=1))


def lockstep(X: np.ndarray, init: np.ndarray, max_iter: int = 300, tol: float = 1e-4) -> tuple[str, int]:
    """scikit-learn's Lloyd in float64 and the core's (ref_step) side by side. Returns ("ambiguous",
    iteration) as soon as an iteration may legitimately differ (test_cores_kmeans.py says why), ("empty", it) at an
    empty cluster (not simulated), ("mismatch", it) if the labels or the stop differ where they
    cannot, else ("same", n_iter of both).

    Bounds, with D = max over centers of |c32 - c64| (the float32 trajectory's measured rounding):
    a sample is ambiguous when d2 - d1 <= 2 (nf + 3) u d2 + 2 sqrt(d2) D + D^2 + 1e-12 |x|^2 (exact ties
    included: scikit-learn's fit subtracts the data's mean first, so it breaks them by rounding); a
    stop is ambiguous when
    |shift64 - tol64| <= 2 (kf + 2) u shift64 + sum over centers of (2 |e| Dj + Dj^2) + |tol32 - tol64|
    (not when the labels repeat the previous iteration's: then both shifts are exactly 0)."""
    X32 = X.astype(np.float32)
    X64 = X.astype(np.float64)
    c64, c32 = init.astype(np.float64), init.astype(np.float32)
    n, nf = X.shape
    k = len(init)
    tol64 = np.mean(np.var(X64, axis=0)) * tol
    tol32 = ref_tol(X32, tol)
    xx = (X64 ** 2).sum(axis=1)
    prev = None
    for it in range(1, max_iter + 1):
        d64 = ((X64[:, None, :] - c64[None]) ** 2).sum(-1)
        lab64 = d64.argmin(axis=1)
        d32, lab32, new32, shift32 = ref_step(X32, c32)
        D = np.sqrt(((c32.astype(np.float64) - c64) ** 2).sum(axis=1)).max()
        ds = np.sort(d64, axis=1)
        bound = 2 * (nf + 3) * U * ds[:, 1] + 2 * np.sqrt(ds[:, 1]) * D + D * D + 1e-12 * xx
        if np.any(ds[:, 1] - ds[:, 0] <= bound):
            return "ambiguous", it
        if not np.array_equal(lab64, lab32):
            return "mismatch", it
        if len(np.unique(lab64)) < k:
            return "empty", it
        new64 = np.array([X64[lab64 == j].mean(axis=0) for j in range(k)])
        shift64 = ((new64 - c64) ** 2).sum()
        Dj = np.sqrt(((new32.astype(np.float64) - new64) ** 2).sum(axis=1)) + np.sqrt(
            ((c32.astype(np.float64) - c64) ** 2).sum(axis=1))
        e = np.sqrt(((new64 - c64) ** 2).sum(axis=1))
        err = 2 * (k * nf + 2) * U * shift64 + (2 * e * Dj + Dj * Dj).sum() + abs(float(tol32) - tol64)
        if np.array_equal(lab64, prev):  # same sums, same centers: both shifts are exactly 0
            assert shift64 == 0 and shift32 == 0
        elif abs(shift64 - tol64) <= err:
            return "ambiguous", it
        prev = lab64
        if (shift64 <= tol64) != (shift32 <= tol32):
            return "mismatch", it
        c64, c32 = new64, new32
        if shift64 <= tol64:
            break
    return "same", it
