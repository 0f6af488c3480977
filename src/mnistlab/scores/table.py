"""Scores and prioritisation over a predictions table.

A predictions table (written by ``mnistlab predict``) has one row per ``(variant, sample_id)``
with ``label``, ``pred`` and ``prob_0..prob_{C-1}`` and/or ``logit_0..``. :func:`score_table`
adds one column per score; :func:`prioritization_table` evaluates every score on every variant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.scores.metrics import evaluate_ranking
from mnistlab.scores.uncertainty import SCORES, mistakenness, score_all, softmax, uniqueness

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_METHODS",
    "KEY",
    "LABEL_AWARE",
    "TABLE_METHODS",
    "class_columns",
    "logits_of",
    "parse_methods",
    "prioritization_table",
    "probs_of",
    "read_preds",
    "score_table",
]

KEY = ("sample_id", "variant")
#: Methods :func:`score_table` knows: the probability scores plus these two.
TABLE_METHODS = (*SCORES, "mistakenness", "uniqueness")
DEFAULT_METHODS = (*SCORES, "mistakenness")
#: Scores that look at the label, so they are no fair misclassification detectors.
LABEL_AWARE = frozenset({"mistakenness"})
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
    """Validate score names (None: :data:`DEFAULT_METHODS`; ``"all"``: every known one)."""
    if methods is None:
        return list(DEFAULT_METHODS)
    if list(methods) == ["all"]:
        return list(known)
    out = []
    for m in methods:
        if m not in known:
            raise MnistlabError(f"--methods: unknown score {m!r} (known: {', '.join(known)})")
        if m not in out:
            out.append(m)
    if not out:
        raise MnistlabError("--methods: no score given")
    return out


def read_preds(path: str) -> pd.DataFrame:
    """Read a predictions table (Parquet or CSV) and check its columns."""
    from pathlib import Path

    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise MnistlabError(f"{p}: no such predictions table")
    table = pd.read_csv(p) if p.suffix.lower() == ".csv" else pd.read_parquet(p)
    return _check_preds(table, str(p))


def _check_preds(table: pd.DataFrame, where: str = "predictions table") -> pd.DataFrame:
    missing = [c for c in ("sample_id", "label") if c not in table.columns]
    if missing:
        raise MnistlabError(f"{where}: missing column {missing[0]!r}")
    if not class_columns(table, "prob_") and not class_columns(table, "logit_"):
        raise MnistlabError(f"{where}: no prob_0.. or logit_0.. columns")
    if "variant" not in table.columns:
        table = table.assign(variant="clean")
    return table


def score_table(preds: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per prediction with ``sample_id, variant, label, pred, correct`` and each score.

    ``uniqueness`` is computed within each variant, on the logits (the model's last layer as
    the embedding). Identifying columns (``model``, ``corruption``, ``severity``) are kept.

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
        else:  # uniqueness
            values = np.zeros(len(out))
            logits = logits_of(preds)
            for _, idx in pd.Series(np.arange(len(out))).groupby(out["variant"].to_numpy()):
                rows = idx.to_numpy()
                if rows.size > 3:
                    values[rows] = uniqueness(logits[rows])
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
    DataFrame with columns ``variant, score, n, faults, accuracy, apfd, auroc, aupr,
    found@k..., recall@k...``.
    """
    import pandas as pd

    for col in ("variant", "correct"):
        if col not in scores.columns:
            raise MnistlabError(f"scores table: missing column {col!r}")
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
