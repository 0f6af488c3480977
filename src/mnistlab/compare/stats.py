"""Statistics for comparing classifiers on the same samples: bootstrap, McNemar, Holm.

Every function takes arrays and returns arrays. The bootstrap resamples *samples* (test
images): :func:`bootstrap_weights` draws the resampled indices once and turns them into a
``(B, N)`` matrix of multiplicities, and every statistic of a replicate is then a weighted
sum over samples (a matrix product), so one draw serves every metric, every variant and
every model, and two models are always compared on the same resampled images (a paired
bootstrap).

Examples
--------
>>> import numpy as np
>>> w = bootstrap_weights(4, n_boot=3, seed=0)
>>> w.shape, w.sum(axis=1).tolist()
((3, 4), [4.0, 4.0, 4.0])
>>> mcnemar_pvalue(0, 0), round(float(mcnemar_pvalue(8, 1)), 6)
(1.0, 0.039062)
>>> holm([0.01, 0.04, 0.03]).tolist()
[0.03, 0.06, 0.06]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError

__all__ = [
    "bootstrap_indices",
    "bootstrap_weights",
    "holm",
    "mcnemar_counts",
    "mcnemar_pvalue",
    "percentile_ci",
    "weighted_mean",
]


def _check_boot(n: Any, n_boot: Any, seed: Any) -> None:
    for name, value, low in (("n", n, 1), ("n_boot", n_boot, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise MnistlabError(f"{name} must be an integer >= {low}, got {value!r}")


def bootstrap_indices(n: int, n_boot: int = 1000, seed: int = 0) -> NDArray[np.int64]:
    """``(n_boot, n)`` indices drawn with replacement: row ``b`` is bootstrap replicate ``b``.

    Drawn by ``numpy.random.default_rng(seed).integers(0, n, size=(n_boot, n))``, so a
    replicate depends only on ``(seed, n, n_boot)``.

    Examples
    --------
    >>> bootstrap_indices(3, n_boot=2, seed=0).shape
    (2, 3)
    """
    _check_boot(n, n_boot, seed)
    rng = np.random.default_rng(int(seed))
    return rng.integers(0, int(n), size=(int(n_boot), int(n)), dtype=np.int64)


def bootstrap_weights(
    n: int, n_boot: int = 1000, seed: int = 0, indices: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Multiplicity of each sample in each replicate, ``float64 (n_boot, n)``.

    ``weights[b, i]`` is how often sample ``i`` was drawn in replicate ``b`` (each row sums
    to ``n``), from :func:`bootstrap_indices` or the given ``indices``. A statistic that
    is a mean over samples is ``weights @ values / n`` for every replicate at once.

    Examples
    --------
    >>> bootstrap_weights(3, indices=[[0, 0, 2]]).tolist()
    [[2.0, 0.0, 1.0]]
    """
    if indices is None:
        idx = bootstrap_indices(n, n_boot, seed)
    else:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 2 or (idx.size and (idx.min() < 0 or idx.max() >= n)):
            raise MnistlabError(
                f"indices must be a 2-D array of values in [0, {n}), got {idx.shape}"
            )
    rows = idx.shape[0]
    flat = idx + (np.arange(rows, dtype=np.int64) * n)[:, None]
    counts = np.bincount(flat.ravel(), minlength=rows * n)
    return counts.reshape(rows, n).astype(np.float64)


def weighted_mean(values: ArrayLike, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean over samples of ``values (..., N)`` in every replicate: ``(B, ...)``.

    Examples
    --------
    >>> weighted_mean([1.0, 0.0, 1.0], np.array([[1.0, 1.0, 1.0], [3.0, 0.0, 0.0]])).tolist()
    [0.6666666666666666, 1.0]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.shape[-1] != weights.shape[1]:
        raise MnistlabError(f"values have {v.shape[-1]} samples but the weights {weights.shape[1]}")
    flat = v.reshape(-1, v.shape[-1])
    out = (weights @ flat.T) / weights.shape[1]
    return out.reshape((weights.shape[0], *v.shape[:-1]))


def percentile_ci(
    replicates: ArrayLike, level: float = 0.95, axis: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile bootstrap interval: the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles.

    Quantiles by :func:`numpy.nanpercentile` (linear interpolation); replicates that are
    NaN (an undefined statistic) are ignored, all-NaN gives NaN.

    Examples
    --------
    >>> lo, hi = percentile_ci(np.arange(101.0))
    >>> round(float(lo), 6), round(float(hi), 6)
    (2.5, 97.5)
    """
    if not 0.0 < float(level) < 1.0:
        raise MnistlabError(f"level must be in (0, 1), got {level!r}")
    reps = np.asarray(replicates, dtype=np.float64)
    q = [50 * (1 - level), 50 * (1 + level)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": NaN is the answer
        lo, hi = np.nanpercentile(reps, q, axis=axis)
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


def mcnemar_counts(
    correct_a: ArrayLike, correct_b: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Discordant counts along the last axis: ``b`` = A right and B wrong, ``c`` = A wrong, B right.

    Examples
    --------
    >>> b, c = mcnemar_counts([1, 1, 0, 0], [1, 0, 1, 0])
    >>> int(b), int(c)
    (1, 1)
    """
    a = np.asarray(correct_a).astype(bool)
    b = np.asarray(correct_b).astype(bool)
    if a.shape != b.shape:
        raise MnistlabError(f"correct_a {a.shape} and correct_b {b.shape} differ in shape")
    return (a & ~b).sum(axis=-1), (~a & b).sum(axis=-1)


def mcnemar_pvalue(b: ArrayLike, c: ArrayLike) -> Any:
    """Exact (binomial) McNemar test: two-sided p-value of ``b`` successes in ``b + c`` at 1/2.

    ``scipy.stats.binomtest(b, b + c, 0.5).pvalue`` for every pair of counts, and exactly 1
    where there is no discordant sample (``b + c = 0``). Scalars in, a float out; arrays in,
    an array of the same shape out.

    Examples
    --------
    >>> mcnemar_pvalue(3, 3)
    1.0
    """
    from scipy.stats import binomtest

    bb = np.asarray(b, dtype=np.int64)
    cc = np.asarray(c, dtype=np.int64)
    if bb.shape != cc.shape or (bb.size and (bb.min() < 0 or cc.min() < 0)):
        raise MnistlabError("b and c must be non-negative counts of the same shape")
    flat_b, flat_c = bb.ravel(), cc.ravel()
    out = np.ones(flat_b.shape, dtype=np.float64)
    for i in np.flatnonzero(flat_b + flat_c):
        out[i] = binomtest(int(flat_b[i]), int(flat_b[i] + flat_c[i]), 0.5).pvalue
    return float(out[0]) if bb.ndim == 0 else out.reshape(bb.shape)


def holm(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Holm-Bonferroni adjusted p-values (step-down; NaN entries are left out and stay NaN).

    With ``m`` tests sorted ``p_(1) <= ... <= p_(m)``, the adjusted value of ``p_(k)`` is
    ``min(1, max_{j <= k} (m - j + 1) p_(j))``; reject at level alpha where it is ``<= alpha``.

    Examples
    --------
    >>> holm([0.01, 0.02, 0.5]).tolist()
    [0.03, 0.04, 0.5]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(flat))
    if ok.size:
        if flat[ok].min() < 0 or flat[ok].max() > 1:
            raise MnistlabError("p-values must lie in [0, 1]")
        m = ok.size
        order = ok[np.argsort(flat[ok], kind="stable")]
        scaled = (m - np.arange(m)) * flat[order]
        out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out.reshape(p.shape)
