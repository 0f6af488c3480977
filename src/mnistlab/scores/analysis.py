"""What makes samples hard: the tables of the hard-sample analyses (tables in, tables out).

* :func:`per_class_table`: count, accuracy and hardness per true class;
* :func:`grid_samples`: per class, the hardest misclassified and easiest correct samples;
* :func:`morpho_correlations`: Spearman correlation of hardness with every morphometric;
* :func:`corruption_tables`: hardness and accuracy per corruption / family and severity;

The run-level analysis that writes ``RUN/hardness/<model>/`` from these tables is
:func:`mnistlab.workflows.hardness.analyze_run`; the figures are in
:mod:`mnistlab.figures.hardness`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "corruption_tables",
    "grid_samples",
    "morpho_correlations",
    "per_class_table",
]


def per_class_table(
    scores: pd.DataFrame, score: str, class_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per class (of the true label): count, accuracy and mean / median ``score``."""
    g = scores.groupby("label")
    table = g.agg(
        n=("correct", "size"),
        accuracy=("correct", "mean"),
        mean_hardness=(score, "mean"),
        median_hardness=(score, "median"),
    ).reset_index()
    table = table.rename(columns={"label": "class"})
    if class_names is not None:
        names = list(class_names)
        table.insert(1, "name", [names[c] if c < len(names) else str(c) for c in table["class"]])
    table.insert(len(table.columns), "score", score)
    return table


def grid_samples(scores: pd.DataFrame, score: str, per_class: int = 8) -> pd.DataFrame:
    """Per class, the ``per_class`` hardest misclassified and easiest correct samples.

    Returns ``kind ("hardest_misclassified" | "easiest_correct"), label, pred, rank,
    sample_id, variant`` and the score.
    """
    import pandas as pd

    parts = []
    for _, g in scores.groupby("label"):
        wrong = g[~g["correct"]].sort_values(score, ascending=False, kind="stable").head(per_class)
        right = g[g["correct"]].sort_values(score, ascending=True, kind="stable").head(per_class)
        for kind, sel in (("hardest_misclassified", wrong), ("easiest_correct", right)):
            part = sel[["sample_id", "variant", "label", "pred", score]].copy()
            part.insert(0, "kind", kind)
            part.insert(1, "rank", np.arange(1, len(part) + 1))
            parts.append(part)
    if not parts:
        return pd.DataFrame(
            columns=["kind", "rank", "sample_id", "variant", "label", "pred", score]
        )
    return pd.concat(parts, ignore_index=True)


def morpho_correlations(
    scores: pd.DataFrame, morpho: pd.DataFrame, score: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spearman correlation of ``score`` (and of being wrong) with every morphometric.

    Returns the correlation table (``metric, n, spearman_hardness, p_value,
    spearman_error``; clean variant) and the joined table used for binned plots.
    """
    import pandas as pd
    from scipy.stats import ConstantInputWarning, spearmanr

    if "sample_id" not in morpho.columns:
        raise MnistlabError("morpho table: missing column 'sample_id'")
    metrics = [
        c
        for c in morpho.columns
        if c != "sample_id"
        and pd.api.types.is_numeric_dtype(morpho[c])
        and not pd.api.types.is_bool_dtype(morpho[c])
    ]
    clean = scores[scores["variant"] == "clean"]
    joined = clean[["sample_id", score, "correct"]].merge(
        morpho[["sample_id", *metrics]], on="sample_id", how="inner"
    )
    rows = []
    for m in metrics:
        x = joined[m].to_numpy(dtype=np.float64)
        ok = np.isfinite(x)
        if ok.sum() < 3 or np.ptp(x[ok]) == 0:
            continue
        with warnings.catch_warnings():  # a constant score (one model's) has no correlation
            warnings.simplefilter("ignore", ConstantInputWarning)
            rho, p = spearmanr(x[ok], joined[score].to_numpy()[ok])
            rho_err = spearmanr(x[ok], (~joined["correct"].to_numpy(dtype=bool))[ok]).statistic
        rows.append(
            {
                "metric": m,
                "n": int(ok.sum()),
                "spearman_hardness": float(rho),
                "p_value": float(p),
                "spearman_error": float(rho_err),
            }
        )
    table = pd.DataFrame(
        rows, columns=["metric", "n", "spearman_hardness", "p_value", "spearman_error"]
    )
    if len(table):
        table = table.reindex(table["spearman_hardness"].abs().sort_values(ascending=False).index)
    return table.reset_index(drop=True), joined


def corruption_tables(
    scores: pd.DataFrame,
    score: str,
    *,
    family_of: Callable[[str], str],
    parse_variant: Callable[[str], tuple[str, int]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy and mean ``score`` per (corruption, severity) and per (family, severity).

    Parameters
    ----------
    scores : DataFrame
        A scores table (``variant``, ``correct``, ``score``; per-row ``corruption`` and
        ``severity`` columns are used when present).
    score : str
        The hardness column.
    family_of : callable
        Corruption name -> family name (``"clean"`` for ``"identity"``).
    parse_variant : callable
        Variant name -> ``(corruption, severity)``, used without per-row columns.

    Returns
    -------
    by_corruption, by_family : DataFrame
        ``family, corruption, severity`` (resp. ``family, severity``), then ``n, accuracy,
        mean_hardness, median_hardness``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"variant": ["clean", "fog-s2"], "correct": [True, False],
    ...                   "entropy": [0.1, 0.8]})
    >>> by_c, by_f = corruption_tables(
    ...     t, "entropy", family_of=lambda c: "clean" if c == "identity" else "weather",
    ...     parse_variant=lambda v: ("identity", 0) if v == "clean" else ("fog", 2))
    >>> by_f[["family", "severity", "accuracy"]].values.tolist()
    [['clean', 0, 1.0], ['weather', 2, 0.0]]
    """
    if {"corruption", "severity"} <= set(scores.columns):
        # Per-row columns also cover mixed variants such as "fmnist-c", whose samples each
        # carry their own corruption and severity.
        frame = scores[["correct", score]].assign(
            corruption=scores["corruption"].astype(str).replace("clean", "identity"),
            severity=scores["severity"].fillna(0).astype(int),
        )
    else:
        variants = scores["variant"].astype(str)
        parsed = {v: parse_variant(v) for v in variants.unique()}
        frame = scores[["correct", score]].assign(
            corruption=variants.map(lambda v: parsed[v][0]),
            severity=variants.map(lambda v: parsed[v][1]),
        )
    families = {c: family_of(c) for c in frame["corruption"].unique()}
    frame["family"] = frame["corruption"].map(families)
    agg = {
        "n": ("correct", "size"),
        "accuracy": ("correct", "mean"),
        "mean_hardness": (score, "mean"),
        "median_hardness": (score, "median"),
    }
    by_c = frame.groupby(["family", "corruption", "severity"]).agg(**agg).reset_index()
    by_f = frame.groupby(["family", "severity"]).agg(**agg).reset_index()
    return by_c, by_f
