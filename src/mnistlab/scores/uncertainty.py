"""Hardness scores from class probabilities: higher means more likely misclassified.

Every score takes probabilities ``(N, C)`` (rows sum to 1; use :func:`softmax` on logits) and
returns ``float64 (N,)``. All are vectorised over the whole batch.

======================  =========================================  ==================
name                    formula                                    range
======================  =========================================  ==================
``entropy``             ``-sum_c p_c log p_c`` (nats)              ``[0, log C]``
``gini`` (DeepGini)     ``1 - sum_c p_c^2``                        ``[0, 1 - 1/C]``
``max_softmax``         ``1 - max_c p_c`` (max softmax, flipped)   ``[0, 1 - 1/C]``
``margin``              ``1 - (p_(1) - p_(2))`` (top-1 minus top-2) ``[0, 1]``
``least_confidence``    ``(1 - max_c p_c) * C / (C - 1)``          ``[0, 1]``
======================  =========================================  ==================

``max_softmax`` is the maximum softmax probability baseline (Hendrycks & Gimpel) turned around so
that, like every other score here, a higher value means harder. ``least_confidence`` is the
same ranking normalised to ``[0, 1]`` (Settles' active-learning form).

Scores that need more than probabilities: :func:`mistakenness` (labels), :func:`uniqueness`
and :func:`knn_distance` (an embedding), :func:`variation_ratio` (MC-dropout passes),
:func:`ensemble_disagreement` (K models), and surprise adequacy in :mod:`mnistlab.scores.surprise`.

Examples
--------
>>> import numpy as np
>>> p = np.array([[0.5, 0.5], [1.0, 0.0]])
>>> gini(p)
array([0.5, 0. ])
>>> SCORES["margin"](p)
array([1., 0.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError

__all__ = [
    "SCORES",
    "ScoreFn",
    "check_probs",
    "ensemble_disagreement",
    "entropy",
    "gini",
    "knn_distance",
    "least_confidence",
    "margin",
    "max_softmax",
    "mistakenness",
    "score",
    "score_all",
    "softmax",
    "uniqueness",
    "variation_ratio",
]

ScoreFn = Callable[[ArrayLike], NDArray[np.float64]]


def check_probs(probs: ArrayLike, name: str = "probs", atol: float = 1e-3) -> NDArray[np.float64]:
    """Validate probabilities ``(N, C)``: finite, in ``[0, 1]``, rows summing to 1.

    Returns a float64 array (no copy when already float64). Raises
    :class:`~mnistlab.errors.MnistlabError` naming the problem.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise MnistlabError(f"{name}: expected shape (N, C) with C >= 2, got {p.shape}")
    if p.size == 0:
        return p
    lo, hi = float(p.min()), float(p.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise MnistlabError(f"{name}: contains NaN or infinite values")
    if lo < -atol or hi > 1 + atol:
        raise MnistlabError(f"{name}: values must lie in [0, 1], got [{lo:.4g}, {hi:.4g}]")
    sums = p @ np.ones(p.shape[1])  # BLAS: much faster than a reduction over 10 columns
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol * p.shape[1])
    if bad.size:
        raise MnistlabError(
            f"{name}: row {int(bad[0])} sums to {sums[bad[0]]:.4g}, not 1 (pass softmax(logits))"
        )
    return p


def softmax(logits: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Numerically stable softmax along ``axis`` (float64).

    >>> softmax(np.array([[0.0, 0.0]]))
    array([[0.5, 0.5]])
    """
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


_CHUNK_ROWS = 16384


def score_all(
    probs: ArrayLike, methods: Sequence[str] | None = None
) -> dict[str, NDArray[np.float64]]:
    """Several probability scores in one pass (validation once, shared top-1/top-2).

    Rows are processed in cache-sized chunks, transposed so every reduction over the classes
    is a handful of contiguous vector operations: all five scores of 10^6 x 10 probabilities
    take a fraction of a second (``benchmarks/bench_scores.py``).

    Parameters
    ----------
    probs : array (N, C)
    methods : sequence of str, optional
        Keys of :data:`SCORES` (default: all).

    Returns
    -------
    dict of name -> float64 (N,)

    >>> out = score_all(np.array([[0.5, 0.5]]), ["gini", "margin"])
    >>> out["gini"], out["margin"]
    (array([0.5]), array([1.]))
    """
    names = list(SCORES) if methods is None else list(methods)
    for name in names:
        if name not in SCORES:
            raise MnistlabError(f"unknown score {name!r} (known: {', '.join(sorted(SCORES))})")
    p = check_probs(probs)
    n, c = p.shape
    out = {name: np.empty(n, dtype=np.float64) for name in names}
    need_top = bool({"max_softmax", "margin", "least_confidence"} & set(names))
    for start in range(0, n, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n)
        q = np.ascontiguousarray(p[start:stop].T)  # (C, m): class reductions run on rows
        if need_top:
            top1 = q[0].copy()
            top2 = np.full_like(top1, -np.inf)
            for x in q[1:]:
                np.maximum(top2, np.minimum(top1, x), out=top2)
                np.maximum(top1, x, out=top1)
            if "max_softmax" in out:
                out["max_softmax"][start:stop] = 1.0 - top1
            if "margin" in out:
                out["margin"][start:stop] = 1.0 - (top1 - top2)
            if "least_confidence" in out:
                out["least_confidence"][start:stop] = (1.0 - top1) * (c / (c - 1))
        if "gini" in out:
            sq = q[0] * q[0]
            for x in q[1:]:
                sq += x * x
            out["gini"][start:stop] = 1.0 - sq
        if "entropy" in out:
            # p log p -> 0 as p -> 0; the clip only keeps log finite
            terms = np.log(np.maximum(q, 1e-300))
            terms *= q
            out["entropy"][start:stop] = np.maximum(-terms.sum(axis=0), 0.0)
    return out


def entropy(probs: ArrayLike) -> NDArray[np.float64]:
    """Softmax entropy in nats, ``-sum p log p`` with ``0 log 0 = 0``; range ``[0, log C]``.

    FiftyOne calls this "hardness".

    >>> entropy(np.array([[0.5, 0.5]]))
    array([0.69314718])
    """
    return score_all(probs, ["entropy"])["entropy"]


def gini(probs: ArrayLike) -> NDArray[np.float64]:
    """DeepGini impurity ``1 - sum p^2`` (Feng et al. 2020); range ``[0, 1 - 1/C]``.

    >>> gini(np.array([[0.2, 0.8]]))
    array([0.32])
    """
    return score_all(probs, ["gini"])["gini"]


def max_softmax(probs: ArrayLike) -> NDArray[np.float64]:
    """Maximum softmax probability, flipped: ``1 - max p``; range ``[0, 1 - 1/C]``.

    >>> max_softmax(np.array([[0.2, 0.8]]))
    array([0.2])
    """
    return score_all(probs, ["max_softmax"])["max_softmax"]


def margin(probs: ArrayLike) -> NDArray[np.float64]:
    """Margin ("PCS"), flipped: ``1 - (top-1 - top-2)``; range ``[0, 1]``.

    >>> margin(np.array([[0.1, 0.3, 0.6]]))
    array([0.7])
    """
    return score_all(probs, ["margin"])["margin"]


def least_confidence(probs: ArrayLike) -> NDArray[np.float64]:
    """Least confidence ``(1 - max p) * C / (C - 1)``; range ``[0, 1]``.

    Same ranking as :func:`max_softmax`, normalised so the uniform distribution scores 1.

    >>> least_confidence(np.array([[0.5, 0.5]]))
    array([1.])
    """
    return score_all(probs, ["least_confidence"])["least_confidence"]


#: Probability-based scores by name (all ``probs (N, C) -> float64 (N,)``).
SCORES: dict[str, ScoreFn] = {
    "entropy": entropy,
    "gini": gini,
    "max_softmax": max_softmax,
    "margin": margin,
    "least_confidence": least_confidence,
}


def score(probs: ArrayLike, method: str) -> NDArray[np.float64]:
    """Apply the registered probability score ``method`` (a key of :data:`SCORES`)."""
    try:
        fn = SCORES[method]
    except KeyError:
        raise MnistlabError(
            f"unknown score {method!r} (known: {', '.join(sorted(SCORES))})"
        ) from None
    return fn(probs)


def mistakenness(
    probs: ArrayLike, labels: ArrayLike, pred: ArrayLike | None = None
) -> NDArray[np.float64]:
    """FiftyOne-style mistakenness of a label: ``(m * exp(-H) + 1) / 2``; range ``[0, 1]``.

    ``H`` is the entropy of ``probs`` (nats) and ``m = +1`` when the prediction disagrees with
    the label, ``-1`` when it agrees. A confident disagreement scores near 1 (the label is
    likely wrong), a confident agreement near 0, an uncertain prediction near 0.5.

    Parameters
    ----------
    probs : array (N, C)
    labels : int array (N,)
    pred : int array (N,), optional
        Predicted classes; default ``argmax(probs)``.

    >>> mistakenness(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1, 0]))
    array([1., 0.])
    """
    p = check_probs(probs)
    y = np.asarray(labels)
    if y.shape != (p.shape[0],):
        raise MnistlabError(f"labels: expected shape ({p.shape[0]},), got {y.shape}")
    yhat = p.argmax(axis=1) if pred is None else np.asarray(pred)
    if yhat.shape != y.shape:
        raise MnistlabError(f"pred: expected shape {y.shape}, got {yhat.shape}")
    m = np.where(yhat != y, 1.0, -1.0)
    return (m * np.exp(-entropy(p)) + 1.0) / 2.0


UNIQUENESS_WEIGHTS = (0.6, 0.3, 0.1)
UNIQUENESS_METRICS = ("cosine", "euclidean")
#: FiftyOne's sklearn similarity index precomputes the full distance matrix of at most this
#: many embeddings (``_MAX_PRECOMPUTE_DISTS``); beyond, it queries a neighbours graph, which
#: for ``metric="cosine"`` measures the Euclidean distance of the unit vectors,
#: ``sqrt(2 * cosine distance)``. :func:`uniqueness` follows both regimes.
FIFTYONE_MAX_PRECOMPUTE = 15_000
# Up to this dimension a KD-tree beats brute force on 10^4 logits (8x on 10-D logits, and
# SciPy's tree, queried on the threads this process may use, is 2-5x faster again than
# scikit-learn's); above it, chunked brute force.
_TREE_MAX_DIM = 16


def _embeddings(embeddings: ArrayLike, metric: str) -> NDArray[np.float64]:
    """Validated float64 ``(N, D)`` embeddings (a 1-D array is ``N`` one-dimensional ones)."""
    x = np.array(embeddings, dtype=np.float64)  # a copy: centring may work in place
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise MnistlabError(f"embeddings: expected shape (N, D), got {x.shape}")
    if metric not in UNIQUENESS_METRICS:
        raise MnistlabError(f"metric: expected one of {UNIQUENESS_METRICS}, got {metric!r}")
    if not np.isfinite(x).all():
        raise MnistlabError("embeddings: contains NaN or infinite values")
    return x


def _euclidean_knn(x: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Euclidean distances ``(N, k)``, ascending, of each row to its ``k`` nearest other rows.

    Needs ``N > k``. Exact duplicates of a row count as other rows (distance 0).
    """
    n, dim = x.shape
    if dim <= _TREE_MAX_DIM:
        from scipy.spatial import cKDTree

        from mnistlab.threads import choose_threads

        dists, _ = cKDTree(x).query(x, k=k + 1, workers=choose_threads())
        # Column 0 is a distance 0: the row itself or, tied with it, an exact duplicate.
        # Either way the other k columns are the distances to the k nearest other rows.
        return np.ascontiguousarray(dists[:, 1:])
    from sklearn.neighbors import NearestNeighbors

    algorithm = "brute" if n <= 50_000 else "auto"
    nn = NearestNeighbors(n_neighbors=k, algorithm=algorithm).fit(x)
    dists, _ = nn.kneighbors()  # no query: each row's own match is left out
    return np.maximum(dists, 0.0)


def _knn_distances(x: NDArray[np.float64], k: int, metric: str) -> NDArray[np.float64]:
    """Distances ``(N, k)``, ascending, of each row to its ``k`` nearest other rows.

    ``metric`` is ``"euclidean"``, ``"cosine"`` (``1 - cos``; a zero vector is at distance 1
    from every vector, as in :func:`sklearn.metrics.pairwise.cosine_distances`) or
    ``"chord"`` (the Euclidean distance of the rows scaled to unit length, zero rows kept at
    zero: ``sqrt(2 (1 - cos))`` between non-zero rows). Needs ``N > k``.
    """
    if metric == "euclidean":
        return _euclidean_knn(x, k)
    norms = np.linalg.norm(x, axis=1)
    nonzero = norms > 0
    if metric == "chord":
        unit = x / np.where(nonzero, norms, 1.0)[:, None]
        return _euclidean_knn(unit, k)
    # cosine: 1 - cos = |a - b|^2 / 2 for unit vectors, so the neighbours of a non-zero row
    # among the non-zero rows come from the same Euclidean search; every zero row is at 1.
    out = np.ones((x.shape[0], k), dtype=np.float64)  # zero rows: 1 to everything
    m = int(nonzero.sum())
    if m >= 2:
        unit = x[nonzero] / norms[nonzero, None]
        chord = _euclidean_knn(unit, min(k, m - 1))
        d = chord * chord / 2.0
        zeros = min(x.shape[0] - m, k)
        if zeros or d.shape[1] < k:
            d = np.sort(np.hstack([d, np.ones((m, zeros))]), axis=1)[:, :k]
        out[nonzero] = d
    return out


def knn_distance(
    embeddings: ArrayLike,
    weights: tuple[float, ...] = UNIQUENESS_WEIGHTS,
    metric: str = "euclidean",
) -> NDArray[np.float64]:
    """Weighted distance to the nearest neighbours, divided by its maximum; range ``[0, 1]``.

    For each sample, the distances ``d_1 <= d_2 <= d_3`` to its three nearest other samples
    (Euclidean by default; exact duplicates count, at distance 0) are combined as
    ``0.6 d_1 + 0.3 d_2 + 0.1 d_3``; the result is divided by its maximum over the set, so the
    most isolated sample scores 1 (all zeros when every sample has exact duplicates). Higher
    means more isolated, not necessarily wrong. The embeddings are used as given (no
    centring). This is not FiftyOne's uniqueness (:func:`uniqueness` is); with
    ``metric="cosine"`` it is what mnistlab called uniqueness before it matched FiftyOne.

    Parameters
    ----------
    embeddings : array (N, D)
        Features, logits or any vectors; ``N > len(weights)``. A 1-D array is ``N`` values.
    weights : tuple of float
        Weights of the 1st, 2nd, ... nearest neighbour.
    metric : {"euclidean", "cosine"}
        The distance (cosine distance is ``1 - cos``, as :func:`sklearn.metrics.pairwise
        .cosine_distances`: a zero vector is at distance 1 from every vector).

    Returns
    -------
    float64 (N,)

    Raises
    ------
    MnistlabError
        If the embeddings are not ``(N, D)``, hold NaN or infinite values, or ``N`` is at
        most ``len(weights)``, or the metric is unknown.

    Examples
    --------
    >>> knn_distance(np.array([[0.0], [1.0], [2.0], [10.0]]))
    array([0.25882353, 0.21176471, 0.23529412, 1.        ])
    """
    x = _embeddings(embeddings, metric)
    k = len(weights)
    if x.shape[0] <= k:
        raise MnistlabError(f"embeddings: needs more than {k} samples, got {x.shape[0]}")
    u = _knn_distances(x, k, metric) @ np.asarray(weights, dtype=np.float64)
    top = u.max()
    return u / top if top > 0 else np.zeros_like(u)


def uniqueness(embeddings: ArrayLike, metric: str = "cosine") -> NDArray[np.float64]:
    """FiftyOne Brain's uniqueness (``fiftyone.brain.compute_uniqueness``); range ``[0, 1]``.

    The same numbers as ``compute_uniqueness(samples, embeddings=embeddings)`` with its
    default sklearn similarity index (float64 embeddings; tested to 1e-9 against a
    brute-force transcription of FiftyOne's steps):

    1. the embeddings are centred (their mean subtracted);
    2. each sample's distances to the other samples are sorted, ``d_1 <= d_2 <= ...`` (the
       sample itself is left out; exact duplicates count, at distance 0);
    3. ``d_2, d_3, d_4`` (FiftyOne asks for ``K + 1 = 4`` neighbours and drops the first,
       which is the nearest *other* sample) are weighted ``0.6 / 0.3 / 0.1`` and averaged;
    4. the result is divided by its maximum over the set.

    With ``metric="cosine"`` (FiftyOne's default) the distance is ``1 - cos`` of the centred
    embeddings, a zero vector being at distance 1 from everything (scikit-learn's
    ``cosine_distances``); above :data:`FIFTYONE_MAX_PRECOMPUTE` (15,000) samples FiftyOne
    switches to a neighbours graph on the centred embeddings scaled to unit length, whose
    distances are ``sqrt(2 (1 - cos))``, and so does this function.
    ``metric="euclidean"`` is a FiftyOne similarity index built with ``metric="euclidean"``
    (``compute_uniqueness(..., similarity_index=index)``), in either regime.

    As in FiftyOne, a set of at most 3 samples scores 1 everywhere (none at all: an empty
    array), and a set of exactly 4 scores NaN everywhere (there is no 4th other sample). Where
    FiftyOne divides 0 by 0 (every sample's 2nd-4th nearest others at distance 0, e.g. each
    sample has four or more exact copies), the scores are 0, not NaN. FiftyOne computes in
    the embeddings' dtype, this function in float64: on float32 embeddings the two differ by
    float32 rounding.

    Parameters
    ----------
    embeddings : array (N, D)
        Features, logits or any vectors. A 1-D array is ``N`` one-dimensional values.
    metric : {"cosine", "euclidean"}

    Returns
    -------
    float64 (N,)

    Raises
    ------
    MnistlabError
        If the embeddings are not ``(N, D)`` or hold NaN or infinite values, or the metric
        is unknown.

    See Also
    --------
    knn_distance : the nearest three other samples, uncentred, any metric (Euclidean by
        default); ``knn_distance(x, metric="cosine")`` is what this function computed before
        it matched FiftyOne.

    Examples
    --------
    Points on a line (Euclidean: ``d_2, d_3, d_4`` of ``0`` are 3, 6 and 10):

    >>> x = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 20.0])
    >>> uniqueness(x, metric="euclidean").round(4)
    array([0.2987, 0.2338, 0.2208, 0.2922, 0.513 , 1.    ])
    >>> uniqueness(np.eye(3))
    array([1., 1., 1.])
    """
    x = _embeddings(embeddings, metric)
    n = x.shape[0]
    k = len(UNIQUENESS_WEIGHTS)
    if n <= k:
        return np.ones(n, dtype=np.float64)
    if n == k + 1:
        return np.full(n, np.nan)
    x -= x.mean(axis=0)
    space = "chord" if metric == "cosine" and n > FIFTYONE_MAX_PRECOMPUTE else metric
    d = _knn_distances(x, k + 1, space)[:, 1:]
    u = np.mean(d * np.asarray(UNIQUENESS_WEIGHTS), axis=1)
    top = u.max()
    return u / top if top > 0 else np.zeros_like(u)


def _votes(stack: NDArray[np.floating], name: str) -> tuple[NDArray[np.int64], int]:
    s = np.asarray(stack)
    if s.ndim != 3 or s.shape[0] < 1 or s.shape[2] < 2:
        raise MnistlabError(f"{name}: expected shape (T, N, C) with T >= 1, C >= 2, got {s.shape}")
    if not np.isfinite(s).all():
        raise MnistlabError(f"{name}: contains NaN or infinite values")
    preds = s.argmax(axis=2)  # (T, N)
    c = s.shape[2]
    counts = np.zeros((s.shape[1], c), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(s.shape[1]), preds.shape), preds), 1)
    return counts, s.shape[0]


def variation_ratio(passes: ArrayLike) -> NDArray[np.float64]:
    """Variation ratio over stochastic passes: ``1 - (votes of the modal class) / T``.

    ``passes`` are logits or probabilities of shape ``(T, N, C)``, e.g. T = 50 MC-dropout
    passes (:func:`mnistlab.models.mc_dropout_logits`). Range ``[0, 1 - ceil(T/C)/T]``: 0 when
    every pass predicts the same class.

    >>> p = np.array([[[1, 0]], [[1, 0]], [[0, 1]], [[1, 0]]], dtype=float)
    >>> variation_ratio(p)
    array([0.25])
    """
    counts, t = _votes(np.asarray(passes, dtype=np.float64), "passes")
    return 1.0 - counts.max(axis=1) / t


def ensemble_disagreement(members: ArrayLike) -> NDArray[np.float64]:
    """Deep-ensemble disagreement: share of the K members that disagree with the ensemble.

    ``members`` are logits or probabilities ``(K, N, C)``. The ensemble's prediction is the
    argmax of the mean probability (softmax is applied to each member when rows do not sum to
    1); the score is the fraction of members whose own argmax differs. Range ``[0, 1]``
    (0: unanimous). It is usually at most ``1 - 1/K``, but reaches 1 when the mean favours a
    compromise class that no member ranks first.

    >>> m = np.array([[[0.9, 0.1]], [[0.8, 0.2]], [[0.3, 0.7]]])
    >>> ensemble_disagreement(m)
    array([0.33333333])
    """
    s = np.asarray(members, dtype=np.float64)
    _votes(s, "members")  # validation
    sums = s.sum(axis=2)
    probs = s if np.allclose(sums, 1.0, atol=1e-3) and s.min() >= 0 else softmax(s, axis=2)
    ensemble = probs.mean(axis=0).argmax(axis=1)  # (N,)
    return (probs.argmax(axis=2) != ensemble[None, :]).mean(axis=0)
