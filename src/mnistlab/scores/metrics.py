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
(scikit-learn); both are ``NaN`` when ``faults`` has a single class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError

__all__ = ["TIES", "apfd", "aupr", "auroc", "evaluate_ranking", "faults_in_top_k", "ranks"]

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
    n, k = s.size, int(f.sum())
    if n == 0 or k == 0:
        return float("nan")
    tf = ranks(s, ties)[f].sum()
    return float(1.0 - tf / (k * n) + 1.0 / (2 * n))


def auroc(scores: ArrayLike, faults: ArrayLike) -> float:
    """Area under the ROC curve of ``scores`` detecting ``faults``; NaN with one class only."""
    from sklearn.metrics import roc_auc_score

    s, f = _inputs(scores, faults)
    if f.all() or not f.any():
        return float("nan")
    return float(roc_auc_score(f, s))


def aupr(scores: ArrayLike, faults: ArrayLike) -> float:
    """Average precision (area under precision-recall) for ``faults``; NaN without faults."""
    from sklearn.metrics import average_precision_score

    s, f = _inputs(scores, faults)
    if not f.any():
        return float("nan")
    return float(average_precision_score(f, s))


def faults_in_top_k(scores: ArrayLike, faults: ArrayLike, k: int) -> int:
    """Number of faults among the ``k`` highest scores (stable order among ties).

    >>> faults_in_top_k([0.9, 0.1, 0.5], [True, False, True], 2)
    2
    """
    s, f = _inputs(scores, faults)
    if k < 0:
        raise MnistlabError(f"k: must be >= 0, got {k}")
    top = np.argsort(-s, kind="stable")[:k]
    return int(f[top].sum())


def evaluate_ranking(
    scores: ArrayLike, faults: ArrayLike, k: Sequence[int] = (100,)
) -> dict[str, Any]:
    """Every ranking metric at once: n, faults, APFD, AUROC, AUPR, faults found in the top k.

    Returns a dict with keys ``n, faults, apfd, auroc, aupr`` and, for each ``k``,
    ``found@k`` (faults in the top k) and ``recall@k`` (their share of all faults).
    """
    s, f = _inputs(scores, faults)
    nf = int(f.sum())
    out: dict[str, Any] = {
        "n": int(s.size),
        "faults": nf,
        "apfd": apfd(s, f),
        "auroc": auroc(s, f),
        "aupr": aupr(s, f),
    }
    for kk in k:
        found = faults_in_top_k(s, f, int(kk))
        out[f"found@{kk}"] = found
        out[f"recall@{kk}"] = found / nf if nf else float("nan")
    return out
