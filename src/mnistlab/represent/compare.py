"""Metric by metric: how do two tables of morphometrics (or any numeric columns) differ?

:func:`compare_metrics` puts, for every column, the 1-Wasserstein distance
(:func:`scipy.stats.wasserstein_distance`), the two-sample Kolmogorov-Smirnov test
(:func:`scipy.stats.ks_2samp`) and the differences of the means and of the standard
deviations (``b`` minus ``a``) with seeded percentile bootstrap intervals in one DataFrame.

Examples
--------
>>> import pandas as pd
>>> a = pd.DataFrame({"thickness": [1.0, 2.0, 3.0, 4.0]})
>>> b = pd.DataFrame({"thickness": [2.0, 3.0, 4.0, 5.0]})
>>> row = compare_metrics(a, b, n_boot=200).loc["thickness"]
>>> float(row["wasserstein"]), float(row["mean_diff"]), float(row["std_diff"])
(1.0, 1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mnistlab._validate import check_int, check_seed
from mnistlab.errors import MnistlabError
from mnistlab.represent._checks import as_matrix, check_fraction

__all__ = ["COMPARE_COLUMNS", "KEY_COLUMNS", "compare_metrics"]

#: Columns of the table :func:`compare_metrics` returns (one row per metric).
COMPARE_COLUMNS = (
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "mean_diff",
    "mean_diff_low",
    "mean_diff_high",
    "std_a",
    "std_b",
    "std_diff",
    "std_diff_low",
    "std_diff_high",
    "wasserstein",
    "ks_statistic",
    "ks_pvalue",
)
#: Row keys left out of the default columns (a morphometrics CSV starts with ``index``).
KEY_COLUMNS = ("index", "sample_id")
_BOOT_BYTES = 32 * 2**20


def _table(data: Any, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    arr = as_matrix(data, what)
    return pd.DataFrame(arr, columns=[str(i) for i in range(arr.shape[1])])


def _columns(a: pd.DataFrame, b: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        chosen = [
            c
            for c in a.columns
            if c in b.columns
            and str(c) not in KEY_COLUMNS
            and pd.api.types.is_numeric_dtype(a[c])
            and not pd.api.types.is_bool_dtype(a[c])
        ]
        if not chosen:
            raise MnistlabError("a and b have no numeric column in common")
        return chosen
    if isinstance(columns, str):
        columns = [columns]
    chosen = list(columns)
    if not chosen:
        raise MnistlabError("columns is empty")
    for c in chosen:
        for what, table in (("a", a), ("b", b)):
            if c not in table.columns:
                raise MnistlabError(f"{what} has no column {c!r}")
    if len(set(chosen)) != len(chosen):
        raise MnistlabError("columns names a column twice")
    return chosen


def _values(table: pd.DataFrame, columns: list[str], what: str) -> NDArray[np.float64]:
    return as_matrix(table[columns], what, min_rows=2)


def _boot_stats(
    values: NDArray[np.float64], index: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Means and standard deviations (ddof=1) of ``values`` in every replicate ``index``."""
    n = values.shape[0]
    centre = values.mean(axis=0)
    flat = index + (np.arange(index.shape[0]) * n)[:, None]
    weights = np.bincount(flat.ravel(), minlength=index.shape[0] * n).reshape(index.shape)
    weights = weights.astype(np.float64)
    c = values - centre
    m1 = weights @ c / n
    m2 = weights @ (c * c) / n
    std = np.sqrt(np.maximum(m2 - m1 * m1, 0.0) * (n / (n - 1.0)))
    return m1 + centre, std


def compare_metrics(
    a: Any,
    b: Any,
    columns: Sequence[str] | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-metric distances and differences between two tables, one row per metric.

    Parameters
    ----------
    a, b : pandas.DataFrame or array_like (N, D)
        The reference table (e.g. the test set's morphometrics) and the other one (e.g. a
        model's samples). Arrays get the columns ``"0"``, ``"1"``, ...
    columns : sequence of str, optional
        The metrics; default: the numeric columns of ``a`` that ``b`` has too, except
        ``index`` and ``sample_id``.
    n_boot : int
        Bootstrap replicates: ``a`` and ``b`` are resampled independently (rows drawn with
        replacement by ``numpy.random.default_rng(seed)``, the same rows for every metric).
    level : float
        Level of the percentile intervals.
    seed : int
        Seeds the bootstrap.

    Returns
    -------
    pandas.DataFrame
        Index ``metric``; columns ``n_a, n_b``, ``mean_a, mean_b`` and ``mean_diff`` (``b -
        a``) with ``mean_diff_low, mean_diff_high``, the same for the standard deviations
        (``ddof=1``), ``wasserstein`` (1-Wasserstein distance), ``ks_statistic`` and
        ``ks_pvalue`` (two-sided two-sample Kolmogorov-Smirnov test).

    Raises
    ------
    MnistlabError
        On missing or non-numeric columns, NaN or infinite values, fewer than 2 rows or bad
        ``n_boot``, ``level`` or ``seed``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = pd.DataFrame({"area": rng.normal(100, 10, 500), "slant": rng.normal(0, 1, 500)})
    >>> b = pd.DataFrame({"area": rng.normal(110, 10, 400), "slant": rng.normal(0, 1, 400)})
    >>> table = compare_metrics(a, b, n_boot=200)
    >>> table.index.tolist(), bool(table.loc["area", "mean_diff_low"] > 5)
    (['area', 'slant'], True)
    >>> bool(table.loc["area", "ks_pvalue"] < 1e-6 < table.loc["slant", "ks_pvalue"])
    True
    """
    from scipy.stats import ks_2samp, wasserstein_distance

    n_boot = check_int(n_boot, "n_boot", minimum=1)
    level = check_fraction(level, "level")
    seed = check_seed(seed)
    ta, tb = _table(a, "a"), _table(b, "b")
    cols = _columns(ta, tb, columns)
    va, vb = _values(ta, cols, "a"), _values(tb, cols, "b")
    na, nb = va.shape[0], vb.shape[0]

    rng = np.random.default_rng(seed)
    per_chunk = max(1, _BOOT_BYTES // (8 * max(na, nb)))
    means, stds = [], []
    for start in range(0, n_boot, per_chunk):
        rows = min(per_chunk, n_boot - start)
        ma, sa = _boot_stats(va, rng.integers(0, na, size=(rows, na)))
        mb, sb = _boot_stats(vb, rng.integers(0, nb, size=(rows, nb)))
        means.append(mb - ma)
        stds.append(sb - sa)
    mean_reps, std_reps = np.concatenate(means), np.concatenate(stds)
    tails = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
    mean_ci = np.percentile(mean_reps, tails, axis=0)
    std_ci = np.percentile(std_reps, tails, axis=0)

    mean_a, mean_b = va.mean(axis=0), vb.mean(axis=0)
    std_a, std_b = va.std(axis=0, ddof=1), vb.std(axis=0, ddof=1)
    ks = [ks_2samp(va[:, j], vb[:, j]) for j in range(len(cols))]
    table = pd.DataFrame(
        {
            "n_a": np.full(len(cols), na, dtype=np.int64),
            "n_b": np.full(len(cols), nb, dtype=np.int64),
            "mean_a": mean_a,
            "mean_b": mean_b,
            "mean_diff": mean_b - mean_a,
            "mean_diff_low": mean_ci[0],
            "mean_diff_high": mean_ci[1],
            "std_a": std_a,
            "std_b": std_b,
            "std_diff": std_b - std_a,
            "std_diff_low": std_ci[0],
            "std_diff_high": std_ci[1],
            "wasserstein": [wasserstein_distance(va[:, j], vb[:, j]) for j in range(len(cols))],
            "ks_statistic": [float(r.statistic) for r in ks],
            "ks_pvalue": [float(r.pvalue) for r in ks],
        },
        index=pd.Index([str(c) for c in cols], name="metric"),
    )
    return table
