"""Robustness from prediction tables: accuracy per corruption x severity, mCE, calibration.

Definitions (Hendrycks & Dietterich 2019, ImageNet-C), with ``E`` the error rate:

* corruption error ``CE_c = sum_s E_{s,c}(model) / sum_s E_{s,c}(baseline)``, and
  ``mCE`` its mean over corruptions (in percent);
* relative ``rCE_c = sum_s (E_{s,c} - E_clean)(model) / sum_s (E_{s,c} - E_clean)(baseline)``,
  and relative mCE its mean (in percent);
* expected calibration error with 15 equal-width confidence bins,
  ``ECE = sum_b |B_b| / n * |accuracy(B_b) - confidence(B_b)|``, confidence being the top
  softmax probability.

Rows are grouped by ``(model, corruption, severity)``, so a variant mixing corruptions
(Fashion-MNIST-C layout) counts each sample under its own corruption.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab._validate import check_positive
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "N_BINS",
    "accuracy_table",
    "corruption_table",
    "expected_calibration_error",
    "load_predictions",
    "mce_table",
    "per_class_table",
    "reliability_table",
    "sanity_table",
]

N_BINS = 15
KEYS = ["model", "corruption", "severity"]
REQUIRED = ("sample_id", "variant", "corruption", "severity", "label", "pred")


def calibration_bins(confidence: NDArray[np.float64], n_bins: int) -> NDArray[np.int64]:
    """Bin of each confidence among ``n_bins`` equal-width bins ``(lo, hi]`` (0 joins bin 0).

    >>> calibration_bins(np.array([0.0, 0.1, 0.15, 1.0]), 10).tolist()
    [0, 0, 1, 9]
    """
    idx = np.ceil(confidence * n_bins).astype(np.int64) - 1
    return np.clip(idx, 0, n_bins - 1)


def _confidence_correct(
    probs: ArrayLike | None,
    labels: ArrayLike | None,
    confidence: ArrayLike | None,
    correct: ArrayLike | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if confidence is not None and correct is not None:
        conf = np.asarray(confidence, dtype=np.float64)
        corr = np.asarray(correct, dtype=np.float64)
    else:
        p = np.asarray(probs, dtype=np.float64)
        if p.ndim != 2:
            raise MnistlabError(f"probs must have shape (N, C), got {p.shape}")
        y = np.asarray(labels)
        if y.shape != (len(p),):
            raise MnistlabError(f"labels must have shape ({len(p)},), got {y.shape}")
        conf = p.max(axis=1)
        corr = (p.argmax(axis=1) == y).astype(np.float64)
    if conf.shape != corr.shape:
        raise MnistlabError(f"confidence {conf.shape} and correct {corr.shape} differ in shape")
    return conf, corr


def reliability_table(
    probs: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    confidence: ArrayLike | None = None,
    correct: ArrayLike | None = None,
    n_bins: int = N_BINS,
) -> pd.DataFrame:
    """Per-bin count, mean confidence and accuracy (the data of a reliability diagram)."""
    import pandas as pd

    conf, corr = _confidence_correct(probs, labels, confidence, correct)
    check_positive(n_bins, "n_bins", allow_none=False)
    idx = calibration_bins(conf, n_bins)
    count = np.bincount(idx, minlength=n_bins)
    safe = np.maximum(count, 1)
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": np.arange(n_bins) / n_bins,
            "upper": np.arange(1, n_bins + 1) / n_bins,
            "count": count,
            "confidence": np.where(count > 0, np.bincount(idx, conf, n_bins) / safe, np.nan),
            "accuracy": np.where(count > 0, np.bincount(idx, corr, n_bins) / safe, np.nan),
        }
    )


def expected_calibration_error(
    probs: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    *,
    confidence: ArrayLike | None = None,
    correct: ArrayLike | None = None,
    n_bins: int = N_BINS,
) -> float:
    """Expected calibration error (equal-width bins over the top-class confidence).

    Give either ``probs (N, C)`` and ``labels (N,)``, or ``confidence`` and ``correct``.

    Examples
    --------
    >>> expected_calibration_error(confidence=[0.9, 0.9, 0.6, 0.6], correct=[1, 1, 1, 0])
    0.1
    """
    conf, corr = _confidence_correct(probs, labels, confidence, correct)
    if conf.size == 0:
        return float("nan")
    check_positive(n_bins, "n_bins", allow_none=False)
    ones = np.ones((1, conf.size))
    return round(float(calibration_error_replicates(conf, corr, ones, n_bins)[0]), 12)


def calibration_error_replicates(
    confidence: NDArray[np.float64],
    correct: NDArray[Any],
    weights: NDArray[np.float64],
    n_bins: int = N_BINS,
) -> NDArray[np.float64]:
    """ECE of every weighted replicate at once, ``(B,)``: the one ECE formula of mnistlab.

    Replicate ``b`` holds sample ``i`` ``weights[b, i]`` times (a bootstrap resample); its
    ECE is ``sum over bins |sum_i w_bi (correct_i - confidence_i)| / sum_i w_bi``, which is
    the bin-count-weighted mean gap between accuracy and confidence.
    :func:`expected_calibration_error` is the case of one replicate of unit weights.

    >>> calibration_error_replicates(np.array([0.9, 0.9, 0.6, 0.6]), np.array([1, 1, 1, 0]),
    ...                              np.ones((1, 4)), 10).round(12).tolist()
    [0.1]
    """
    conf = np.asarray(confidence, np.float64)
    onehot = np.eye(n_bins)[calibration_bins(conf, n_bins)]
    gap = weights @ (onehot * (np.asarray(correct, np.float64) - conf)[:, None])
    return np.asarray(np.abs(gap).sum(axis=1) / weights.sum(axis=1), np.float64)


def load_predictions(sources: Iterable[Any]) -> pd.DataFrame:
    """Read prediction tables (paths or DataFrames) into the compact frame evaluation uses.

    Keeps ``model, variant, corruption, severity, sample_id, label, pred`` and adds
    ``confidence`` (top probability) and ``correct``; the probability columns are dropped.
    Every table is checked by :func:`mnistlab.scores.checks.validate_predictions` (all must
    have the same number of classes), and a model given twice is refused.
    """
    import pandas as pd

    from mnistlab.scores.checks import read_table_file, validate_predictions
    from mnistlab.scores.table import probs_of

    def wanted(name: str) -> bool:
        return name in REQUIRED or name == "model" or name.startswith(("prob_", "logit_"))

    frames = []
    n_classes: int | None = None
    for i, src in enumerate(sources):
        if isinstance(src, (str, os.PathLike)):
            path = Path(src)
            where = str(path)
            table = read_table_file(path, "predictions table", keep=wanted)
            default_name = path.stem
        elif isinstance(src, pd.DataFrame):
            where = f"predictions table {i}"
            table = src
            default_name = "model"
        else:
            raise MnistlabError(
                f"predictions {i}: expected a path or a DataFrame, got {type(src).__name__}"
            )
        table = validate_predictions(table, where, required=REQUIRED, n_classes=n_classes)
        probs = probs_of(table)
        n_classes = probs.shape[1]
        compact = table[list(REQUIRED)].copy()
        compact["model"] = table["model"].astype(str) if "model" in table.columns else default_name
        compact["confidence"] = probs.max(axis=1)
        compact["correct"] = (compact["pred"].to_numpy() == compact["label"].to_numpy()).astype(
            np.float64
        )
        frames.append(compact)
    if not frames:
        raise MnistlabError("no predictions given")
    out = pd.concat(frames, ignore_index=True)
    twice = out.duplicated(subset=["model", "sample_id", "variant"]).to_numpy()
    if twice.any():
        model = out["model"].iloc[int(np.flatnonzero(twice)[0])]
        raise MnistlabError(
            f"model {model!r}: its predictions are given twice (each model once, please)"
        )
    out["severity"] = out["severity"].astype(np.int64)
    return out


def accuracy_table(preds: pd.DataFrame, n_bins: int = N_BINS) -> pd.DataFrame:
    """Accuracy, error, drop from clean, mean confidence and ECE per model x corruption x severity.

    ``preds`` is the output of :func:`load_predictions`. The clean rows have corruption
    ``"identity"`` and severity 0; ``drop`` is clean accuracy minus accuracy (NaN without
    clean rows).
    """
    import pandas as pd

    rows = []
    for key, group in preds.groupby(KEYS, sort=True):
        conf = group["confidence"].to_numpy()
        corr = group["correct"].to_numpy()
        rows.append(
            {
                **dict(zip(KEYS, key, strict=True)),
                "n": len(group),
                "accuracy": float(corr.mean()),
                "error": float(1 - corr.mean()),
                "confidence": float(conf.mean()),
                "ece": expected_calibration_error(confidence=conf, correct=corr, n_bins=n_bins),
            }
        )
    table = pd.DataFrame(rows)
    clean = table[table["corruption"] == "identity"].set_index("model")["accuracy"]
    table["drop"] = table["model"].map(clean) - table["accuracy"]
    return table[[*KEYS, "n", "accuracy", "error", "drop", "confidence", "ece"]]


def corruption_table(acc: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """Per model x corruption: mean accuracy over severities, drop, CE and relative CE (percent).

    CE and relative CE need ``baseline`` (a model name present in ``acc``); without it they are NaN.
    """
    corrupted = acc[acc["corruption"] != "identity"]
    clean_err = acc[acc["corruption"] == "identity"].set_index("model")["error"]
    out = (
        corrupted.groupby(["model", "corruption"], sort=True)
        .agg(
            severities=("severity", "nunique"), accuracy=("accuracy", "mean"), drop=("drop", "mean")
        )
        .reset_index()
    )
    out["ce"] = np.nan
    out["relative_ce"] = np.nan
    if baseline is None:
        return out
    models = set(acc["model"])
    if baseline not in models:
        raise MnistlabError(
            f"baseline model {baseline!r} is not among the predictions "
            f"(have: {', '.join(sorted(models))})"
        )
    base = corrupted[corrupted["model"] == baseline].set_index(["corruption", "severity"])["error"]
    base_clean = clean_err.get(baseline, np.nan)
    for i, row in out.iterrows():
        mine = corrupted[
            (corrupted["model"] == row["model"]) & (corrupted["corruption"] == row["corruption"])
        ]
        keys = [(row["corruption"], s) for s in mine["severity"]]
        shared = [k for k in keys if k in base.index]
        if not shared:
            continue
        err = mine.set_index(["corruption", "severity"]).loc[shared, "error"].to_numpy()
        berr = base.loc[shared].to_numpy()
        denom = berr.sum()
        out.loc[i, "ce"] = 100 * err.sum() / denom if denom > 0 else np.nan
        own_clean = clean_err.get(row["model"], np.nan)
        rdenom = (berr - base_clean).sum()
        out.loc[i, "relative_ce"] = 100 * (err - own_clean).sum() / rdenom if rdenom > 0 else np.nan
    return out


def mce_table(acc: pd.DataFrame, baseline: str | None = None) -> pd.DataFrame:
    """Per model: clean accuracy, mean corrupted accuracy, mCE and relative mCE (percent)."""
    import pandas as pd

    per_corr = corruption_table(acc, baseline)
    clean = acc[acc["corruption"] == "identity"].set_index("model")["accuracy"]
    ece_clean = acc[acc["corruption"] == "identity"].set_index("model")["ece"]
    rows = []
    for model in sorted(set(acc["model"])):
        mine = per_corr[per_corr["model"] == model]
        rows.append(
            {
                "model": model,
                "clean_accuracy": clean.get(model, np.nan),
                "corrupted_accuracy": mine["accuracy"].mean() if len(mine) else np.nan,
                "corruptions": len(mine),
                "mce": mine["ce"].mean() if mine["ce"].notna().any() else np.nan,
                "relative_mce": mine["relative_ce"].mean()
                if mine["relative_ce"].notna().any()
                else np.nan,
                "clean_ece": ece_clean.get(model, np.nan),
                "baseline": baseline or "",
            }
        )
    return pd.DataFrame(rows)


def per_class_table(preds: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of each true class under each corruption (pooled over severities)."""
    out = (
        preds.groupby(["model", "corruption", "label"], sort=True)["correct"]
        .agg(["mean", "size"])
        .reset_index()
        .rename(columns={"label": "class", "mean": "accuracy", "size": "n"})
    )
    return out


#: A clean accuracy below this many times chance, or this share of predictions in one class,
#: is flagged as a likely preprocessing mistake (scale, normalisation, layout).
CHANCE_FACTOR = 1.5
ONE_CLASS_SHARE = 0.9


def sanity_table(preds: pd.DataFrame, n_classes: int | None = None) -> pd.DataFrame:
    """Per model, on the clean rows: accuracy against chance and the most predicted class; a
    model at chance level or that predicts one class nearly always is flagged (``suspect``)
    as a likely preprocessing mistake, with the reason in numbers.

    Parameters
    ----------
    preds : pandas.DataFrame
        Predictions (:func:`load_predictions`): ``model``, ``corruption``, ``label``, ``pred``.
    n_classes : int, optional
        Number of classes (default: the labels and predictions seen).

    Returns
    -------
    pandas.DataFrame
        ``model, clean_accuracy, chance, top_class, top_share, suspect, reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> preds = pd.DataFrame({"model": "m", "corruption": "identity", "label": [0, 1, 2, 3],
    ...                       "pred": [1, 1, 1, 1]})
    >>> row = sanity_table(preds, 4).iloc[0]
    >>> bool(row.suspect), row.reason  # doctest: +ELLIPSIS
    (True, 'clean accuracy 25.0 % (chance 25.0 %), 100 % of predictions are class 1: ...')
    """
    import pandas as pd

    clean = preds[preds["corruption"] == "identity"]
    k = n_classes or int(max(clean["label"].max(), clean["pred"].max()) + 1) if len(clean) else 0
    rows = []
    for model, part in clean.groupby("model", sort=False, observed=True):
        acc = float((part["label"] == part["pred"]).mean())
        counts = part["pred"].value_counts()
        top, share = int(counts.index[0]), float(counts.iloc[0] / len(part))
        chance = 1.0 / k if k else float("nan")
        low = acc <= CHANCE_FACTOR * chance
        one = share >= ONE_CLASS_SHARE
        reason = ""
        if low or one:
            reason = (
                f"clean accuracy {100 * acc:.1f} % (chance {100 * chance:.1f} %), "
                f"{100 * share:.0f} % of predictions are class {top}: check the input scale, "
                "normalisation (mean, std) and layout"
            )
        rows.append(
            {"model": str(model), "clean_accuracy": acc, "chance": chance, "top_class": top,
             "top_share": share, "suspect": bool(low or one), "reason": reason}
        )  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["model", "clean_accuracy", "chance", "top_class", "top_share", "suspect",
                 "reason"],
    )  # fmt: skip
