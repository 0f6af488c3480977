"""Evaluate prediction tables into a folder: the robustness tables, their Markdown and figures.

The tables come from :mod:`mnistlab.evaluate` (functions over tables), the figures from
:mod:`mnistlab.figures.evaluate`; this module only composes and writes them (``mnistlab
evaluate`` and the study's ``evaluate`` step call it).

Examples
--------
>>> from mnistlab.workflows.evaluate import evaluate_predictions
>>> tables = evaluate_predictions(["preds/cnn.parquet", "preds/logreg.parquet"],
...                               "eval/")  # doctest: +SKIP
>>> tables["mce"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab._atomic import atomic_path, write_text_atomic
from mnistlab.data.markdown import markdown_table, write_markdown_table
from mnistlab.evaluate import (
    DEFAULT_BASELINE,
    N_BINS,
    accuracy_table,
    corruption_table,
    load_predictions,
    mce_table,
    per_class_table,
    reliability_table,
    sanity_table,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["evaluate_into", "evaluate_predictions", "split_baseline", "summary_lines"]


def _write(table: pd.DataFrame, out: Path, name: str, title: str) -> None:
    with atomic_path(out / f"{name}.csv", suffix=".csv") as tmp:
        table.to_csv(tmp, index=False)
    write_markdown_table(table, out / f"{name}.md", title)


def evaluate_predictions(
    sources: Iterable[Any],
    out: str | os.PathLike[str],
    *,
    baseline: str | None = None,
    baseline_source: Any = None,
    n_bins: int = N_BINS,
    plots: bool = True,
) -> dict[str, pd.DataFrame]:
    """Evaluate prediction tables and write the results into the folder ``out``.

    Parameters
    ----------
    sources : iterable of path or DataFrame
        Prediction tables (``mnistlab predict`` output).
    out : path-like
        Output folder: ``accuracy``, ``corruptions``, ``mce``, ``per_class`` (CSV and
        Markdown), ``summary.md``, ``heatmap_<model>.png`` and ``reliability_<model>.png``.
    baseline : str, optional
        Model name that normalises CE and mCE. Default: ``"logreg"`` when present, else none
        (CE columns are empty).
    baseline_source : path or DataFrame, optional
        The baseline's predictions, when not among ``sources``.
    n_bins : int
        Bins of the expected calibration error.

    Returns
    -------
    dict
        ``{"accuracy", "corruptions", "mce", "per_class"}`` DataFrames.
    """
    from mnistlab.figures.evaluate import plot_heatmap, plot_reliability

    items = list(sources)
    if baseline_source is not None:
        items.append(baseline_source)
    preds = load_predictions(items)
    models = sorted(set(preds["model"]))
    if baseline is None and baseline_source is not None:
        baseline = str(load_predictions([baseline_source])["model"].iloc[0])
    if baseline is None and DEFAULT_BASELINE in models:
        baseline = DEFAULT_BASELINE
    acc = accuracy_table(preds, n_bins)
    tables = {
        "accuracy": acc,
        "corruptions": corruption_table(acc, baseline),
        "mce": mce_table(acc, baseline),
        "per_class": per_class_table(preds),
        "sanity": sanity_table(preds),
    }
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    titles = {
        "accuracy": "Accuracy per corruption and severity",
        "corruptions": f"Per corruption (CE normalised by {baseline or 'no baseline'})",
        "mce": f"Summary (mCE normalised by {baseline or 'no baseline'})",
        "per_class": "Per-class accuracy under each corruption",
        "sanity": "Clean accuracy against chance (a likely preprocessing mistake is flagged)",
    }
    for name, table in tables.items():
        _write(table, folder, name, titles[name])
    summary = [
        "# Robustness evaluation\n",
        f"Models: {', '.join(models)}. Baseline for mCE: {baseline or 'none'}. "
        f"ECE with {n_bins} equal-width bins.\n",
        "## Summary\n",
        markdown_table(tables["mce"]),
        "## Per corruption\n",
        markdown_table(tables["corruptions"]),
    ]
    if plots:
        for model in models:
            safe = model.replace("/", "_")
            plot_heatmap(acc, model, folder / f"heatmap_{safe}.png")
            mine = preds[preds["model"] == model]
            clean = mine[mine["corruption"] == "identity"]
            corrupted = mine[mine["corruption"] != "identity"]
            curves = {}
            for label, part in (("clean", clean), ("corrupted", corrupted)):
                if len(part):
                    curves[label] = reliability_table(
                        confidence=part["confidence"], correct=part["correct"], n_bins=n_bins
                    )
            plot_reliability(
                curves, folder / f"reliability_{safe}.png", title=f"{model}: reliability"
            )
            summary.append(
                f"\n![{model} accuracy](heatmap_{safe}.png) "
                f"![{model} reliability](reliability_{safe}.png)\n"
            )
    write_text_atomic(folder / "summary.md", "\n".join(summary))
    return tables


def split_baseline(baseline: str | None) -> tuple[str | None, Path | None]:
    """``(model name, None)`` or ``(None, predictions file)``: what ``--baseline`` names.

    >>> split_baseline("logreg"), split_baseline("runs/a/preds/logreg.parquet")
    (('logreg', None), (None, PosixPath('runs/a/preds/logreg.parquet')))
    """
    if baseline is None:
        return None, None
    path = Path(baseline)
    return (None, path) if path.suffix.lower() == ".parquet" or path.is_file() else (baseline, None)


def evaluate_into(
    sources: Iterable[Any],
    out: str | os.PathLike[str],
    *,
    baseline: str | None = None,
    n_bins: int = N_BINS,
) -> dict[str, pd.DataFrame]:
    """:func:`evaluate_predictions` into a new folder ``out``, renamed into place when complete.

    ``baseline`` is a model name or a predictions file (:func:`split_baseline`).
    """
    from mnistlab._atomic import atomic_dir

    name, source = split_baseline(baseline)
    with atomic_dir(out, "evaluate") as tmp:
        return evaluate_predictions(
            sources, tmp, baseline=name, baseline_source=source, n_bins=n_bins
        )


def summary_lines(mce: pd.DataFrame) -> list[str]:
    """One line per model of the ``mce`` table: clean and corrupted accuracy, mCE.

    >>> import pandas as pd
    >>> summary_lines(pd.DataFrame({"model": ["cnn"], "clean_accuracy": [0.93],
    ...     "corrupted_accuracy": [0.71], "mce": [float("nan")], "relative_mce": [0.0]}))
    ['cnn: clean 0.9300, corrupted 0.7100']
    """
    lines = []
    for row in mce.to_dict("records"):
        ce = "" if row["mce"] != row["mce"] else f", mCE {row['mce']:.1f}"
        ce += f", relative mCE {row['relative_mce']:.1f}" if ce else ""
        lines.append(
            f"{row['model']}: clean {row['clean_accuracy']:.4f}, "
            f"corrupted {row['corrupted_accuracy']:.4f}{ce}"
        )
    return lines
