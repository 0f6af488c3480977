"""How good is a ranking at putting misclassified samples first?

``scores`` are any hardness scores (higher = examined first) and ``faults`` a boolean array
(True = misclassified). All functions are vectorised.

APFD (Average Percentage of Faults Detected, as used for DNN test prioritisation by Feng et al.
2020, DeepGini)::

    APFD = 1 - sum_i TF_i / (k n) + 1 / (2 n)

with ``n`` samples, ``k`` faults and ``TF_i`` the 1-based position of the i-th fault in the
order of decreasing score. Range ``(0, 1]``; a random order has expected APFD 0.5 and the
ideal order ``1 - k / (2n)``. Conventions (documented, tested):

* no fault (``k = 0``): APFD is undefined, returned as ``NaN``;
* every sample a fault (``k = n``): every order gives exactly 0.5;
* ties (``ties="average"``, default): tied samples get the mean of the positions they
  occupy, which is the *expected* APFD over random tie-breaking, so a constant score gives
  exactly 0.5 whatever the data order; ``ties="stable"`` keeps the input order among ties.

AUROC and AUPR (average precision) treat the score as a detector of misclassification
(scikit-learn's definitions, computed exactly from the same sort); AUROC is ``NaN`` when
``faults`` has a single class, AUPR when there is no fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError

__all__ = [
    "TIES",
    "apfd",
    "aupr",
    "auroc",
    "evaluate_ranking",
    "faults_found_curve",
    "faults_in_top_k",
    "ranks",
]

TIES = ("average", "stable")


def _inputs(scores: ArrayLike, faults: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    s = np.asarray(scores, dtype=np.float64)
    f = np.asarray(faults)
    if s.ndim != 1:
        raise MnistlabError(f"scores: expected shape (N,), got {s.shape}")
    if f.shape != s.shape:
        raise MnistlabError(f"faults: expected shape {s.shape}, got {f.shape}")
    if f.dtype != np.bool_:
        if f.size and not np.isin(f, (0, 1)).all():
            raise MnistlabError("faults: expected booleans (True = misclassified)")
        f = f.astype(bool)
    if np.isnan(s).any():
        raise MnistlabError("scores: contains NaN")
    return s, f


def ranks(scores: ArrayLike, ties: str = "average") -> NDArray[np.float64]:
    """1-based positions in the order of decreasing score (see the module docstring for ties)."""
    s = np.asarray(scores, dtype=np.float64)
    if ties == "average":
        from scipy.stats import rankdata

        return np.asarray(rankdata(-s, method="average"), dtype=np.float64)
    if ties == "stable":
        order = np.argsort(-s, kind="stable")
        r = np.empty(s.size, dtype=np.float64)
        r[order] = np.arange(1, s.size + 1)
        return r
    raise MnistlabError(f"ties: expected one of {TIES}, got {ties!r}")


class _Ranked:
    """One stable sort by decreasing score, and the groups of tied scores in it.

    Every metric below is read off this one sort (a study evaluates ~900 rankings per model):
    ``fault_sorted`` are the faults in rank order, and per group of equal scores its size,
    its faults and the faults ranked before it. All counts are integers, so the metrics are
    exact rationals with one final rounding, whatever the summation order.
    """

    def __init__(self, s: NDArray[np.float64], f: NDArray[np.bool_]) -> None:
        order = np.argsort(-s, kind="stable")
        ss = s[order]
        self.n = int(s.size)
        self.fault_sorted = f[order]
        starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]]) if s.size else np.zeros(0, int)
        self.start = starts.astype(np.int64)
        self.size = np.diff(np.r_[starts, s.size]).astype(np.int64)
        self.faults = (
            np.add.reduceat(self.fault_sorted.astype(np.int64), starts)
            if s.size
            else np.zeros(0, np.int64)
        )
        self.k = int(self.faults.sum())
        self.faults_before = np.cumsum(self.faults) - self.faults

    def apfd(self) -> float:
        if self.n == 0 or self.k == 0:
            return float("nan")
        # Twice each group's mean 1-based position: 2 * start + size + 1 (an integer).
        tf2 = int(np.dot(self.faults, 2 * self.start + self.size + 1))
        return float(1.0 - tf2 / (2 * self.k * self.n) + 1.0 / (2 * self.n))

    def auroc(self) -> float:
        negatives = self.n - self.k
        if self.k == 0 or negatives == 0:
            return float("nan")
        neg = self.size - self.faults
        # Trapezoids of the ROC curve: each group adds neg/N x (TP before + its faults / 2)/P.
        area2 = int(np.dot(neg, 2 * self.faults_before + self.faults))
        return float(area2 / (2 * self.k * negatives))

    def aupr(self) -> float:
        if self.k == 0:
            return float("nan")
        tp = self.faults_before + self.faults  # true positives at each threshold
        seen = self.start + self.size
        return float(np.sum(self.faults * (tp / seen)) / self.k)

    def found(self, k: int) -> int:
        return int(self.fault_sorted[: max(k, 0)].sum())


def apfd(scores: ArrayLike, faults: ArrayLike, ties: str = "average") -> float:
    """APFD of the order of decreasing ``scores``; NaN when there is no fault.

    Examples
    --------
    >>> apfd([0.9, 0.1, 0.5], [True, False, False])  # the fault comes first
    0.8333333333333334
    >>> apfd([1.0, 1.0], [True, False])  # a tie: expected value over tie-breaks
    0.5
    """
    s, f = _inputs(scores, faults)
    if ties == "average":
        return _Ranked(s, f).apfd()
    n, k = s.size, int(f.sum())
    if n == 0 or k == 0:
        return float("nan")
    tf = ranks(s, ties)[f].sum()
    return float(1.0 - tf / (k * n) + 1.0 / (2 * n))


def auroc(scores: ArrayLike, faults: ArrayLike) -> float:
    """Area under the ROC curve of ``scores`` detecting ``faults``; NaN with one class only.

    The trapezoidal area of the ROC curve over the distinct scores (scikit-learn's
    ``roc_auc_score``, to rounding), computed exactly from one sort.

    >>> auroc([0.9, 0.1, 0.5, 0.5], [True, False, True, False])
    0.875
    """
    s, f = _inputs(scores, faults)
    return _Ranked(s, f).auroc()


def aupr(scores: ArrayLike, faults: ArrayLike) -> float:
    """Average precision (area under precision-recall) for ``faults``; NaN without faults.

    scikit-learn's ``average_precision_score`` (precision at each distinct score, weighted by
    the recall it adds), to rounding.

    >>> aupr([0.9, 0.1, 0.5, 0.5], [True, False, True, False])
    0.8333333333333333
    """
    s, f = _inputs(scores, faults)
    return _Ranked(s, f).aupr()


def faults_in_top_k(scores: ArrayLike, faults: ArrayLike, k: int) -> int:
    """Number of faults among the ``k`` highest scores (stable order among ties).

    >>> faults_in_top_k([0.9, 0.1, 0.5], [True, False, True], 2)
    2
    """
    s, f = _inputs(scores, faults)
    if k < 0:
        raise MnistlabError(f"k: must be >= 0, got {k}")
    return _Ranked(s, f).found(int(k))


def evaluate_ranking(
    scores: ArrayLike, faults: ArrayLike, k: Sequence[int] = (100,)
) -> dict[str, Any]:
    """Every ranking metric at once: n, faults, APFD, AUROC, AUPR, faults found in the top k.

    Returns a dict with keys ``n, faults, apfd, auroc, aupr`` and, for each ``k``,
    ``found@k`` (faults in the top k) and ``recall@k`` (their share of all faults). One sort
    serves every metric; each equals its own function above to the bit.

    >>> r = evaluate_ranking([0.9, 0.1, 0.5], [True, False, True], k=(1,))
    >>> r["apfd"], r["found@1"], r["recall@1"]
    (0.6666666666666666, 1, 0.5)
    """
    s, f = _inputs(scores, faults)
    for kk in k:
        if int(kk) < 0:
            raise MnistlabError(f"k: must be >= 0, got {kk}")
    r = _Ranked(s, f)
    out: dict[str, Any] = {
        "n": r.n,
        "faults": r.k,
        "apfd": r.apfd(),
        "auroc": r.auroc(),
        "aupr": r.aupr(),
    }
    for kk in k:
        found = r.found(int(kk))
        out[f"found@{kk}"] = found
        out[f"recall@{kk}"] = found / r.k if r.k else float("nan")
    return out


def faults_found_curve(
    scores: Any, faults: Any, points: int = 201
) -> tuple[np.ndarray, np.ndarray]:
    """Share of faults found after inspecting each share of samples, by decreasing score.

    Ties are broken by sample order (stable sort), as a tester working down the list would.

    Parameters
    ----------
    scores : array-like of float, shape (N,)
        Higher = inspected first.
    faults : array-like of bool, shape (N,)
        True where the sample is misclassified.
    points : int
        Number of points of the returned curve (at least 2).

    Returns
    -------
    inspected, found : numpy.ndarray
        Both in [0, 1], ``inspected`` evenly spaced from 0 to 1. ``found`` is all zeros when
        there is no fault.

    Examples
    --------
    >>> x, y = faults_found_curve([0.9, 0.1, 0.5, 0.2], [True, False, True, False], points=5)
    >>> y.tolist()
    [0.0, 0.5, 1.0, 1.0, 1.0]
    """
    s = np.asarray(scores, dtype=np.float64)
    f = np.asarray(faults, dtype=bool)
    if s.ndim != 1 or s.shape != f.shape:
        raise MnistlabError(
            f"scores and faults must be 1-D of one length, got {s.shape} and {f.shape}"
        )
    if points < 2:
        raise MnistlabError(f"points must be at least 2, got {points}")
    inspected = np.linspace(0.0, 1.0, points)
    if s.size == 0:
        return inspected, np.zeros(points)
    found = np.concatenate([[0], np.cumsum(f[np.argsort(-s, kind="stable")])])
    counts = np.rint(inspected * s.size).astype(np.int64)
    total = max(int(f.sum()), 1)
    return inspected, found[counts] / total
