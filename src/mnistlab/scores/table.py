"""Scores and prioritisation over a predictions table.

A predictions table (written by ``mnistlab predict``) has one row per ``(variant, sample_id)``
with ``label``, ``pred`` and ``prob_0..prob_{C-1}`` and/or ``logit_0..``. :func:`score_table`
adds one column per score; :func:`prioritization_table` evaluates every score on every variant.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.checks import read_table_file, validate_predictions
from mnistlab.scores.metrics import evaluate_ranking
from mnistlab.scores.uncertainty import (
    SCORES,
    knn_distance,
    mistakenness,
    score_all,
    softmax,
    uniqueness,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_METHODS",
    "KEY",
    "LABEL_AWARE",
    "RENAMED",
    "TABLE_METHODS",
    "class_columns",
    "logits_of",
    "parse_methods",
    "prioritization_table",
    "prioritize_file",
    "probs_of",
    "read_preds",
    "read_scores_or_preds",
    "read_table_file",
    "score_table",
    "validate_predictions",
    "validate_scores",
]

KEY = ("sample_id", "variant")
#: Methods :func:`score_table` knows: the probability scores plus these two.
TABLE_METHODS = (*SCORES, "mistakenness", "uniqueness", "knn_distance")
DEFAULT_METHODS = (*SCORES, "mistakenness")
#: Scores that look at the label, so they are no fair misclassification detectors.
LABEL_AWARE = frozenset({"mistakenness"})
#: Other names of scores, still accepted: ``softmax`` (1 - max p) is now ``max_softmax``;
#: ``hardness`` is FiftyOne Brain's name (``compute_hardness``) of the entropy.
RENAMED = {"softmax": "max_softmax", "hardness": "entropy"}
_META = ("sample_id", "variant", "model", "corruption", "severity", "label", "pred", "correct")


def class_columns(table: pd.DataFrame, prefix: str) -> list[str]:
    """``prefix0, prefix1, ...`` columns of ``table`` in class order."""
    pat = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    found = [(int(m.group(1)), c) for c in table.columns if (m := pat.match(str(c)))]
    return [c for _, c in sorted(found)]


def probs_of(table: pd.DataFrame) -> NDArray[np.float64]:
    """Class probabilities of a predictions table (``prob_*``, else softmax of ``logit_*``)."""
    cols = class_columns(table, "prob_")
    if cols:
        return table[cols].to_numpy(dtype=np.float64)
    cols = class_columns(table, "logit_")
    if cols:
        return softmax(table[cols].to_numpy(dtype=np.float64))
    raise MnistlabError("predictions table: no prob_0.. or logit_0.. columns")


def logits_of(table: pd.DataFrame) -> NDArray[np.float64]:
    """Logits (``logit_*``) of a predictions table, else log-probabilities."""
    cols = class_columns(table, "logit_")
    if cols:
        return table[cols].to_numpy(dtype=np.float64)
    return np.log(np.clip(probs_of(table), 1e-12, None))


def parse_methods(methods: Sequence[str] | None, known: Sequence[str] = TABLE_METHODS) -> list[str]:
    """Validate score names (None: :data:`DEFAULT_METHODS`; ``"all"``: every known one).

    A former name (:data:`RENAMED`) stands for its new one.

    >>> parse_methods(["gini", "softmax"])
    ['gini', 'max_softmax']
    >>> parse_methods(["hardness"])  # FiftyOne's name
    ['entropy']
    """
    if methods is None:
        return list(DEFAULT_METHODS)
    if list(methods) == ["all"]:
        return list(known)
    out = []
    for m in (RENAMED.get(m, m) for m in methods):
        if m not in known:
            raise MnistlabError(f"--methods: unknown score {m!r} (known: {', '.join(known)})")
        if m not in out:
            out.append(m)
    if not out:
        raise MnistlabError("--methods: no score given")
    return out


def read_preds(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a predictions table (Parquet or CSV) and check it (:func:`validate_predictions`)."""
    return validate_predictions(read_table_file(path, "predictions table"), str(path))


def _check_preds(table: pd.DataFrame, where: str = "predictions table") -> pd.DataFrame:
    return validate_predictions(table, where)


def validate_scores(scores: pd.DataFrame, where: str = "scores table") -> pd.DataFrame:
    """Check a scores table (from :func:`score_table`) and return it with a ``variant``.

    It needs rows and a ``correct`` column of booleans (or 0/1); ``variant`` (default
    ``"clean"``) has no missing value; ``sample_id``, ``label`` and ``pred``, when present, are
    integers >= 0; ``(sample_id, variant[, model])`` keys are unique; score columns are finite.

    Examples
    --------
    >>> import pandas as pd
    >>> t = validate_scores(pd.DataFrame({"correct": [True, False], "gini": [0.1, 0.5]}))
    >>> t["variant"].tolist()
    ['clean', 'clean']
    """
    import pandas as pd
    from pandas.api.types import is_bool_dtype

    from mnistlab.scores.checks import check_int_column

    if not isinstance(scores, pd.DataFrame):
        raise MnistlabError(f"{where}: expected a table (DataFrame), got {type(scores).__name__}")
    if scores.columns.duplicated().any():
        dup = str(scores.columns[scores.columns.duplicated()][0])
        raise MnistlabError(f"{where}: column {dup!r}: appears more than once")
    if not len(scores):
        raise MnistlabError(f"{where}: empty table (no rows)")
    if "correct" not in scores.columns:
        raise MnistlabError(f"{where}: missing column 'correct'")
    fixed: dict[str, object] = {}
    if not is_bool_dtype(scores["correct"].dtype):
        flags = check_int_column(scores, "correct", where, 0, 2)
        fixed["correct"] = flags.astype(bool)
    for column in ("sample_id", "label", "pred", "severity"):
        if column in scores.columns:
            fixed[column] = check_int_column(scores, column, where)
    if "variant" in scores.columns:
        bad = scores["variant"].isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise MnistlabError(f"{where}: column 'variant': missing value (first bad row {row})")
        fixed["variant"] = scores["variant"].astype(str)
    else:
        fixed["variant"] = "clean"
    out = scores.assign(**fixed)  # type: ignore[arg-type]
    if "sample_id" in out.columns:
        key = ["sample_id", "variant", *(["model"] if "model" in out.columns else [])]
        repeated = out.duplicated(subset=key).to_numpy()
        if repeated.any():
            row = int(np.flatnonzero(repeated)[0])
            raise MnistlabError(
                f"{where}: duplicated key (sample_id {int(out['sample_id'].iloc[row])}, variant "
                f"{out['variant'].iloc[row]!r}) (first bad row {row})"
            )
    for column in score_columns(out):
        values = out[column].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise MnistlabError(
                f"{where}: column {column!r}: NaN or infinite score (first bad row {row})"
            )
    return out


def read_scores_or_preds(
    path: str | os.PathLike[str], methods: Sequence[str] | None = None
) -> pd.DataFrame:
    """A scores table as it is, or a predictions table scored with ``methods``, from a file.

    A table with a ``correct`` column and no ``prob_*``/``logit_*`` column is a scores table
    (checked by :func:`validate_scores`); anything else is read as a predictions table.
    """
    table = read_table_file(path, "scores or predictions table")
    cols = [str(c) for c in table.columns]
    if "correct" in cols and not any(c.startswith(("prob_", "logit_")) for c in cols):
        return validate_scores(table, str(path))
    return score_table(validate_predictions(table, str(path)), methods)


def score_table(preds: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per prediction with ``sample_id, variant, label, pred, correct`` and each score.

    ``uniqueness`` (FiftyOne's: cosine distance, 3 neighbours) and ``knn_distance`` (the same
    weighting with Euclidean distance) are computed within each variant, on the logits (the
    model's last layer as the embedding). Identifying columns (``model``, ``corruption``,
    ``severity``) are kept.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"sample_id": [0, 1], "label": [0, 1],
    ...                   "prob_0": [0.9, 0.6], "prob_1": [0.1, 0.4]})
    >>> score_table(t, ["gini"])["gini"].round(2).tolist()
    [0.18, 0.48]
    """
    import pandas as pd

    preds = _check_preds(preds)
    names = parse_methods(methods)
    probs = probs_of(preds)
    pred = preds["pred"].to_numpy() if "pred" in preds.columns else probs.argmax(axis=1)
    label = preds["label"].to_numpy()
    keep = [c for c in _META if c in preds.columns and c not in ("pred", "correct")]
    out = preds[keep].reset_index(drop=True).copy()
    out["pred"] = pred.astype(np.int64)
    out["correct"] = pred == label
    fast = score_all(probs, [m for m in names if m in SCORES])
    for name in names:
        if name in SCORES:
            out[name] = fast[name]
        elif name == "mistakenness":
            out[name] = mistakenness(probs, label, pred)
        else:  # uniqueness, knn_distance: within each variant
            embed = uniqueness if name == "uniqueness" else knn_distance
            values = np.zeros(len(out))
            logits = logits_of(preds)
            for _, idx in pd.Series(np.arange(len(out))).groupby(out["variant"].to_numpy()):
                rows = idx.to_numpy()
                if rows.size > 3:
                    values[rows] = embed(logits[rows])
            out[name] = values
    return out


def score_columns(scores: pd.DataFrame) -> list[str]:
    """The score columns of a table from :func:`score_table` (numeric, not identifiers)."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    return [
        c
        for c in scores.columns
        if c not in _META
        and not str(c).startswith(("prob_", "logit_"))
        and is_numeric_dtype(scores[c])
        and not is_bool_dtype(scores[c])
    ]


def prioritization_table(
    scores: pd.DataFrame,
    methods: Sequence[str] | None = None,
    k: Sequence[int] = (100, 1000),
    random_seed: int = 0,
    pooled: bool = True,
) -> pd.DataFrame:
    """APFD, AUROC, AUPR and faults found in the top k of every score on every variant.

    Parameters
    ----------
    scores : DataFrame
        From :func:`score_table` (needs ``variant``, ``correct`` and score columns).
    methods : sequence of str, optional
        Score columns to evaluate; default every score column except label-aware ones
        (:data:`LABEL_AWARE`).
    k : sequence of int
        Budgets for ``found@k``/``recall@k``.
    random_seed : int
        A ``random`` row (uniform random scores) is added per variant as the baseline.
    pooled : bool
        Add a variant ``"all"`` that ranks every row together.

    Returns
    -------
    pandas.DataFrame
        Columns ``variant, score, n, faults, accuracy, apfd, auroc, aupr, found@k...,
        recall@k...``.
    """
    import pandas as pd

    scores = validate_scores(scores)
    cols = score_columns(scores)
    if methods is None:
        names = [c for c in cols if c not in LABEL_AWARE]
    else:
        names = list(methods)
        for m in names:
            if m not in cols:
                raise MnistlabError(f"--scores: no column {m!r} in the scores table")
    rng = np.random.default_rng(random_seed)
    groups: list[tuple[str, pd.DataFrame]] = [
        (str(v), g) for v, g in scores.groupby("variant", sort=False)
    ]
    groups.sort(key=lambda vg: (vg[0] != "clean", vg[0]))
    if pooled and len(groups) > 1:
        groups.append(("all", scores))
    rows = []
    for variant, g in groups:
        faults = ~g["correct"].to_numpy(dtype=bool)
        base = {"variant": variant, "accuracy": float(1.0 - faults.mean()) if len(g) else np.nan}
        ranked = [(m, g[m].to_numpy(dtype=np.float64)) for m in names]
        ranked.append(("random", rng.random(len(g))))
        for m, s in ranked:
            rows.append({**base, "score": m, **evaluate_ranking(s, faults, k)})
    table = pd.DataFrame(rows)
    first = ["variant", "score", "n", "faults", "accuracy", "apfd", "auroc", "aupr"]
    return table[first + [c for c in table.columns if c not in first]]


def prioritize_file(
    path: str | os.PathLike[str],
    methods: Sequence[str] | None = None,
    k: Sequence[int] = (100, 1000),
    variants: Sequence[str] | None = None,
) -> pd.DataFrame:
    """:func:`prioritization_table` of a scores file, or of a predictions file scored here.

    ``methods`` are the scores evaluated (those :func:`score_table` computes are computed
    for a predictions file); ``variants`` keeps only these variants (each must be there). A
    table without a ``variant`` column is one variant, ``clean``.
    """
    table = read_scores_or_preds(path, [m for m in (methods or []) if m in TABLE_METHODS] or None)
    if "variant" not in table.columns:
        table["variant"] = "clean"
    if variants:
        missing = sorted(set(variants) - set(table["variant"].astype(str)))
        if missing:
            raise MnistlabError(f"--variant: no variant {missing[0]!r} in the table")
        table = table[table["variant"].isin(list(variants))]
    return prioritization_table(table, methods=methods, k=k)
