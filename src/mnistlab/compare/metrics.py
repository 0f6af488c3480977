"""Leaderboard metrics and paired per-cell comparisons, for every bootstrap replicate at once.

A model's results on a benchmark are an :class:`Outcomes` value: for ``V`` variants
(corruption x severity cells, ``"identity"`` = clean) and the same ``N`` samples, whether
each prediction is right, its confidence and a hardness score. Every function takes the
``(B, N)`` multiplicities of :func:`mnistlab.compare.stats.bootstrap_weights`; with
``numpy.ones((1, N))`` it gives the point estimate. The definitions are those of
:mod:`mnistlab.evaluate.robustness` (accuracy, mCE and relative mCE in percent against a
baseline, ECE with 15 equal-width bins on the clean samples) and :mod:`mnistlab.scores.metrics`
(APFD, ties averaged), so the point estimates equal the study's tables.

The intervals are percentile bootstrap intervals. ECE is biased upwards on a resample (the
duplicated samples make the bins noisier), so its interval can sit mostly above the point
estimate; accuracies, mCE and APFD have no such bias.

Examples
--------
>>> import numpy as np
>>> correct = np.array([[1, 1, 0, 1], [1, 0, 0, 1]], bool)
>>> o = Outcomes(("clean", "fog-s1"), ("identity", "fog"), np.array([0, 1]), correct,
...              np.full((2, 4), 0.9), -np.ones((2, 4)))
>>> reps = leaderboard_replicates(o, np.ones((1, 4)))
>>> float(reps["clean_accuracy"][0]), float(reps["corrupted_accuracy"][0])
(0.75, 0.5)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.compare.stats import (
    holm,
    mcnemar_counts,
    mcnemar_pvalue,
    percentile_ci,
    weighted_mean,
)
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LEADERBOARD_METRICS",
    "Outcomes",
    "apfd_replicates",
    "apfd_weighted",
    "best_score",
    "group_accuracy",
    "leaderboard",
    "leaderboard_replicates",
    "paired_cells",
]

CLEAN = "identity"
N_BINS = 15
#: Columns of :func:`leaderboard`, each with ``_lo`` and ``_hi`` bounds.
LEADERBOARD_METRICS = (
    "clean_accuracy",
    "corrupted_accuracy",
    "mce",
    "relative_mce",
    "ece",
    "apfd",
)


@dataclass(frozen=True)
class Outcomes:
    """One model's predictions on ``V`` variants of the same ``N`` samples.

    Parameters
    ----------
    variants : sequence of str
        Variant names (``V``), e.g. ``"clean"``, ``"fog-s3"``.
    corruption : sequence of str
        Corruption of each variant (``"identity"`` for the clean one).
    severity : array of int
        Severity of each variant (0 for clean).
    correct : bool array ``(V, N)``
        Prediction right.
    confidence : float array ``(V, N)``
        Top softmax probability.
    score : float array ``(V, N)``
        Hardness score (higher = more likely wrong), for APFD.
    score_name : str
        Name of the score.
    """

    variants: tuple[str, ...]
    corruption: tuple[str, ...]
    severity: NDArray[np.int64]
    correct: NDArray[np.bool_]
    confidence: NDArray[np.float64]
    score: NDArray[np.float64]
    score_name: str = ""

    def __post_init__(self) -> None:
        v = len(self.variants)
        shape = np.shape(self.correct)
        if len(shape) != 2 or shape[0] != v or len(self.corruption) != v:
            raise MnistlabError(
                f"outcomes: {v} variants but correct has shape {shape} "
                f"and {len(self.corruption)} corruptions"
            )
        for name in ("confidence", "score"):
            if np.shape(getattr(self, name)) != shape:
                raise MnistlabError(f"outcomes: {name} must have shape {shape}")

    @property
    def n(self) -> int:
        """Samples per variant."""
        return int(np.shape(self.correct)[1])


def apfd_weighted(
    scores: ArrayLike, faults: ArrayLike, weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """APFD of the decreasing-score order in every replicate, ``(B,)``; NaN without faults.

    A replicate holds sample ``i`` ``weights[b, i]`` times; copies of a sample and samples
    with equal scores are ties, which get the mean of the positions they occupy (as
    :func:`mnistlab.scores.metrics.apfd` with ``ties="average"``, which this equals for
    unit weights). One sort serves every replicate.

    Examples
    --------
    >>> apfd_weighted([0.9, 0.1, 0.5], [True, False, False], np.ones((1, 3))).tolist()
    [0.8333333333333334]
    """
    s = np.asarray(scores, dtype=np.float64)
    f = np.asarray(faults, dtype=bool)
    if s.ndim != 1 or f.shape != s.shape or weights.shape[1] != s.size:
        raise MnistlabError(
            f"scores {s.shape}, faults {f.shape} and weights {weights.shape} do not match"
        )
    return _apfd_rows(_transposed_weights(weights), s, f)


def _apfd_groups(
    s: NDArray[np.float64], f: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """The decreasing-score order, the start of each group of equal scores in it (and the
    end), and the faults in that order: what every replicate's APFD shares."""
    order = np.argsort(-s, kind="stable")
    ss = s[order]
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    return order, np.r_[starts, len(s)].astype(np.int64), f[order]


_KERNEL: Any = None
#: Replicates per task of the compiled kernel (their weights of one sample: one cache line).
_BLOCK = 64


def _apfd_kernel() -> Any:
    """The compiled kernel (numba, parallel over blocks of replicates; cached on disk).

    It walks the samples in score order once per block of 64 replicates, reading each
    sample's 64 weights (one cache line of ``uint8`` multiplicities) from the transposed
    weights ``(N, B)``: one pass over 10 MB per variant at the study's size, no ``(N, B)``
    gathers or cumulative sums written to memory. Each replicate's sums run in the order of
    the array formula over integer multiplicities (exact in float64), so the result equals it
    to the bit.
    """
    global _KERNEL
    if _KERNEL is None:
        import numba

        @numba.njit(cache=True, nogil=True, parallel=True)
        def kernel(wt, order, bounds, faulty, out):
            n_boot = wt.shape[1]
            groups = bounds.shape[0] - 1
            blocks = (n_boot + _BLOCK - 1) // _BLOCK
            for ib in numba.prange(blocks):
                b0 = ib * _BLOCK
                m = min(n_boot, b0 + _BLOCK) - b0
                seen = np.zeros(m)  # weight ranked before the current group
                found = np.zeros(m)  # weight of the faults
                acc = np.zeros(m)  # sum of fault weight x mean position of its group
                gw = np.zeros(m)
                gf = np.zeros(m)
                for g in range(groups):
                    has_fault = False
                    for r in range(bounds[g], bounds[g + 1]):
                        row = wt[order[r]]
                        if faulty[r]:
                            has_fault = True
                            for j in range(m):
                                x = np.float64(row[b0 + j])
                                gw[j] += x
                                gf[j] += x
                        else:
                            for j in range(m):
                                gw[j] += np.float64(row[b0 + j])
                    if has_fault:
                        for j in range(m):
                            if gf[j] > 0.0:
                                acc[j] += gf[j] * (seen[j] + gw[j] - (gw[j] - 1.0) / 2.0)
                                found[j] += gf[j]
                            gf[j] = 0.0
                    for j in range(m):
                        seen[j] += gw[j]
                        gw[j] = 0.0
                for j in range(m):
                    if found[j] > 0.0:
                        out[b0 + j] = 1.0 - acc[j] / (found[j] * seen[j]) + 1.0 / (2.0 * seen[j])
                    else:
                        out[b0 + j] = np.nan

        _KERNEL = kernel
    return _KERNEL


def _transposed_weights(weights: NDArray[Any]) -> NDArray[Any]:
    """``(N, B)`` C-contiguous weights, as ``uint8`` when they are multiplicities up to 255
    (bootstrap counts always are: exact, and an eighth of the memory traffic)."""
    wt = np.ascontiguousarray(np.asarray(weights).T)
    if wt.size and wt.min() >= 0 and wt.max() <= 255 and np.array_equal(wt, np.floor(wt)):
        return wt.astype(np.uint8)
    return wt.astype(np.float64, copy=False)


def _apfd_rows(
    wt: NDArray[Any], s: NDArray[np.float64], f: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """:func:`apfd_weighted` for weights already transposed by :func:`_transposed_weights`."""
    order, bounds, faulty = _apfd_groups(s, f)
    out = np.empty(wt.shape[1], dtype=np.float64)
    _apfd_kernel()(wt, order, bounds, faulty, out)
    return out


def apfd_replicates(o: Outcomes, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """APFD of ``o.score`` on every variant in every replicate, ``(B, V)``.

    Examples
    --------
    >>> o = Outcomes(("clean",), ("identity",), np.array([0]), np.array([[True, False]]),
    ...              np.ones((1, 2)), np.array([[0.0, 1.0]]))
    >>> apfd_replicates(o, np.ones((1, 2))).tolist()
    [[0.75]]
    """
    wt = _transposed_weights(weights)  # once for every variant
    return np.stack(
        [_apfd_rows(wt, o.score[v], ~o.correct[v]) for v in range(len(o.variants))], axis=1
    )


def _corruption_groups(
    o: Outcomes, mask: NDArray[np.bool_] | None = None
) -> list[NDArray[np.intp]]:
    keep = np.array([c != CLEAN for c in o.corruption]) if mask is None else mask
    names = sorted({c for c, k in zip(o.corruption, keep, strict=True) if k})
    return [
        np.flatnonzero([c == name and k for c, k in zip(o.corruption, keep, strict=True)])
        for name in names
    ]


def _clean_index(o: Outcomes) -> int:
    found = [i for i, c in enumerate(o.corruption) if c == CLEAN]
    if not found:
        raise MnistlabError("outcomes have no clean variant (corruption 'identity')")
    return found[0]


def _nanmean(x: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmean(x, axis=axis), dtype=np.float64)


def _mean_over_corruptions(
    acc: NDArray[np.float64], groups: list[NDArray[np.intp]]
) -> NDArray[np.float64]:
    """Mean over corruptions of the mean over their severities, per replicate."""
    if not groups:
        return np.full(acc.shape[0], np.nan)
    return np.stack([acc[:, g].mean(axis=1) for g in groups], axis=1).mean(axis=1)


def _ce(
    err: NDArray[np.float64], base: NDArray[np.float64], groups: list[NDArray[np.intp]], clean: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    ce, rce = [], []
    for g in groups:
        num, den = err[:, g].sum(axis=1), base[:, g].sum(axis=1)
        rnum = (err[:, g] - err[:, [clean]]).sum(axis=1)
        rden = (base[:, g] - base[:, [clean]]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ce.append(np.where(den > 0, 100 * num / den, np.nan))
            rce.append(np.where(rden > 0, 100 * rnum / rden, np.nan))
    if not ce:
        nan = np.full(err.shape[0], np.nan)
        return nan, nan
    return _nanmean(np.stack(ce, axis=1), 1), _nanmean(np.stack(rce, axis=1), 1)


def _ece(
    confidence: NDArray[np.float64], correct: NDArray[np.bool_], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    from mnistlab.evaluate.robustness import calibration_error_replicates

    return calibration_error_replicates(confidence, correct, weights, N_BINS)


def leaderboard_replicates(
    outcomes: Outcomes,
    weights: NDArray[np.float64],
    baseline: Outcomes | None = None,
    apfd: NDArray[np.float64] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Every metric of :data:`LEADERBOARD_METRICS` in every replicate, ``{metric: (B,)}``.

    ``mce`` and ``relative_mce`` need the ``baseline`` model's outcomes on the same variants
    (NaN without); ``ece`` is the clean variant's; ``apfd`` the mean over variants of the
    APFD of ``outcomes.score`` (``apfd``: its :func:`apfd_replicates`, when already known).
    """
    if weights.shape[1] != outcomes.n:
        raise MnistlabError(f"weights have {weights.shape[1]} samples, outcomes {outcomes.n}")
    clean = _clean_index(outcomes)
    acc = weighted_mean(outcomes.correct, weights)
    groups = _corruption_groups(outcomes)
    out = {
        "clean_accuracy": acc[:, clean],
        "corrupted_accuracy": _mean_over_corruptions(acc, groups),
    }
    nan = np.full(weights.shape[0], np.nan)
    if baseline is not None:
        if baseline.variants != outcomes.variants or baseline.n != outcomes.n:
            raise MnistlabError("the baseline was not evaluated on the same variants and samples")
        base_acc = weighted_mean(baseline.correct, weights)
        out["mce"], out["relative_mce"] = _ce(1 - acc, 1 - base_acc, groups, clean)
    else:
        out["mce"], out["relative_mce"] = nan, nan
    out["ece"] = _ece(outcomes.confidence[clean], outcomes.correct[clean], weights)
    per_variant = apfd_replicates(outcomes, weights) if apfd is None else apfd
    out["apfd"] = _nanmean(per_variant, 1)
    return out


def leaderboard(
    models: Mapping[str, Outcomes],
    weights: NDArray[np.float64],
    baseline: str | None = None,
    level: float = 0.95,
    apfd: Mapping[str, NDArray[np.float64]] | None = None,
) -> pd.DataFrame:
    """One row per model: each metric's point estimate and its percentile bootstrap interval.

    Columns ``model, score, <metric>, <metric>_lo, <metric>_hi`` for every metric of
    :data:`LEADERBOARD_METRICS`, and ``baseline``. ``apfd`` may hold each model's
    :func:`apfd_replicates` for ``weights`` (computed when missing).
    """
    import pandas as pd

    if baseline is not None and baseline not in models:
        raise MnistlabError(
            f"baseline {baseline!r} is not among the models (have: {', '.join(models)})"
        )
    base = models[baseline] if baseline is not None else None
    ones = np.ones((1, weights.shape[1]))
    rows = []
    for name, o in models.items():
        point = leaderboard_replicates(o, ones, base)
        reps = leaderboard_replicates(o, weights, base, None if apfd is None else apfd.get(name))
        row: dict[str, object] = {"model": name, "score": o.score_name}
        for metric in LEADERBOARD_METRICS:
            lo, hi = percentile_ci(reps[metric], level)
            row.update(
                {
                    metric: float(point[metric][0]),
                    f"{metric}_lo": float(lo),
                    f"{metric}_hi": float(hi),
                }
            )
        row["baseline"] = baseline or ""
        rows.append(row)
    return pd.DataFrame(rows)


def paired_cells(
    a: Outcomes,
    b: Outcomes,
    weights: NDArray[np.float64],
    level: float = 0.95,
    alpha: float = 0.05,
    apfd: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> pd.DataFrame:
    """Model ``a`` minus model ``b`` on every variant, paired on the same samples.

    Columns: ``variant, corruption, severity, accuracy_a, accuracy_b, delta`` (accuracy
    difference) with its paired bootstrap interval ``delta_lo, delta_hi``; the discordant
    counts ``b`` (a right, b wrong) and ``c``; the exact McNemar ``p`` and its Holm-adjusted
    ``p_holm`` across the cells; ``significant`` (``p_holm <= alpha``); and
    ``apfd_a, apfd_b, apfd_delta`` (with ``apfd_delta_lo, apfd_delta_hi``). A model compared
    with itself gives deltas of exactly 0 and p = 1. ``apfd`` may hold both models'
    :func:`apfd_replicates` for ``weights``.
    """
    import pandas as pd

    if a.variants != b.variants or a.n != b.n:
        raise MnistlabError("the two models were not evaluated on the same variants and samples")
    ones = np.ones((1, a.n))
    diff = a.correct.astype(np.float64) - b.correct.astype(np.float64)
    d_reps = weighted_mean(diff, weights)
    d_lo, d_hi = percentile_ci(d_reps, level)
    b_count, c_count = mcnemar_counts(a.correct, b.correct)
    p = np.asarray(mcnemar_pvalue(b_count, c_count), dtype=np.float64).reshape(-1)
    p_holm = holm(p)
    apfd_a, apfd_b = apfd_replicates(a, ones)[0], apfd_replicates(b, ones)[0]
    reps_a, reps_b = (
        apfd if apfd is not None else (apfd_replicates(a, weights), apfd_replicates(b, weights))
    )
    ad_lo, ad_hi = percentile_ci(reps_a - reps_b, level)
    return pd.DataFrame(
        {
            "variant": list(a.variants),
            "corruption": list(a.corruption),
            "severity": np.asarray(a.severity, dtype=np.int64),
            "accuracy_a": a.correct.mean(axis=1),
            "accuracy_b": b.correct.mean(axis=1),
            "delta": weighted_mean(diff, ones)[0],
            "delta_lo": d_lo,
            "delta_hi": d_hi,
            "b": b_count,
            "c": c_count,
            "p": p,
            "p_holm": p_holm,
            "significant": p_holm <= alpha,
            "apfd_a": apfd_a,
            "apfd_b": apfd_b,
            "apfd_delta": apfd_a - apfd_b,
            "apfd_delta_lo": ad_lo,
            "apfd_delta_hi": ad_hi,
        }
    )


def group_accuracy(
    models: Mapping[str, Outcomes],
    groups: Mapping[str, Sequence[bool]],
    weights: NDArray[np.float64],
    reference: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean accuracy over groups of variants (e.g. seen vs unseen corruption families).

    ``groups`` maps a group name to a mask over the variants; a group's accuracy is the
    mean over its corruptions of the mean over their severities. With ``reference``, each
    row also has ``delta`` (this model minus the reference, paired) and its interval.
    Columns ``model, group, variants, accuracy, accuracy_lo, accuracy_hi[, delta, delta_lo,
    delta_hi]``.
    """
    import pandas as pd

    ones = np.ones((1, next(iter(models.values())).n))
    per_model = {
        name: (weighted_mean(o.correct, ones), weighted_mean(o.correct, weights))
        for name, o in models.items()
    }
    rows = []
    for group, mask in groups.items():
        for name, o in models.items():
            sel = _corruption_groups(o, np.asarray(mask, dtype=bool))
            point = _mean_over_corruptions(per_model[name][0], sel)
            reps = _mean_over_corruptions(per_model[name][1], sel)
            lo, hi = percentile_ci(reps, level)
            row: dict[str, object] = {
                "model": name,
                "group": group,
                "variants": int(np.sum(mask)),
                "accuracy": float(point[0]),
                "accuracy_lo": float(lo),
                "accuracy_hi": float(hi),
            }
            if reference is not None:
                ref_point = _mean_over_corruptions(per_model[reference][0], sel)
                ref_reps = _mean_over_corruptions(per_model[reference][1], sel)
                dlo, dhi = percentile_ci(reps - ref_reps, level)
                row.update(
                    delta=float(point[0] - ref_point[0]), delta_lo=float(dlo), delta_hi=float(dhi)
                )
            rows.append(row)
    return pd.DataFrame(rows)


def best_score(scores: Mapping[str, NDArray[np.float64]], correct: NDArray[np.bool_]) -> str:
    """The score (``{name: (V, N)}``) with the highest mean per-variant APFD on ``correct``.

    Examples
    --------
    >>> ok = np.array([[True, False, True]])
    >>> best_score({"good": np.array([[0.0, 1.0, 0.0]]), "bad": np.array([[1.0, 0.0, 1.0]])}, ok)
    'good'
    """
    if not scores:
        raise MnistlabError("no score to choose from")
    ones = np.ones((1, correct.shape[1]))
    means = {}
    for name, s in scores.items():
        per_variant = [apfd_weighted(s[v], ~correct[v], ones)[0] for v in range(len(correct))]
        means[name] = float(_nanmean(np.asarray(per_variant)[None, :], 1)[0])
    return max(means, key=lambda k: -np.inf if np.isnan(means[k]) else means[k])
