"""The report's opening summary, read from the tables a study wrote (never recomputed).

Per model: clean and mean corrupted accuracy and mCE (``eval/mce.csv``), the three worst
corruptions (``eval/corruptions.csv``), the best prioritisation score on the clean test split
with its APFD (``hardness/<model>/prioritization.csv``, label-aware scores and ``random``
left out) and the number of likely label issues (``label_issues/<model>.csv``, as
``mnistlab label-issues RUN/preds/<model>.parquet --out RUN/label_issues/<model>.csv``
writes it; outside ``hardness/``, which the hardness step replaces whole). A figure whose
table is missing is left out; so is a model with no figure at all.

Every figure is an HTML ``<data>`` element whose ``value`` is the table's number as Python's
``repr`` writes it (so it reads back to the same float64), inside a link to its section.
(pandas 3 parses CSV floats exactly: the value is the one the study wrote.)

Examples
--------
>>> figures = read_summary("runs/fashion-mnist", ["cnn", "logreg"])  # doctest: +SKIP
>>> figures[0].apfd  # doctest: +SKIP
0.7901960784313725
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mnistlab.run import RunLayout

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ModelSummary", "read_csv_exact", "read_summary", "summary_caption", "summary_html"]

#: Where each figure's section is in the report.
LINKS = {
    "accuracy": "robustness",
    "prioritisation": "prioritisation",
    "label_issues": "label-issues",
}
#: Scores never offered as "the best prioritisation score".
NOT_RANKERS = frozenset({"random"})


@dataclass
class ModelSummary:
    """The headline figures of one model; None where the run has no table for it."""

    model: str
    clean_accuracy: float | None = None
    corrupted_accuracy: float | None = None
    mce: float | None = None
    baseline: str | None = None
    worst: list[tuple[str, float]] = field(default_factory=list)
    best_score: str | None = None
    apfd: float | None = None
    label_issues: int | None = None
    #: Why the model looks misconfigured (``eval/sanity.csv``), or None.
    warning: str | None = None

    def empty(self) -> bool:
        return all(
            v is None or v == []
            for v in (
                self.clean_accuracy,
                self.corrupted_accuracy,
                self.mce,
                self.worst,
                self.apfd,
                self.label_issues,
            )
        )


def read_csv_exact(path: Path) -> pd.DataFrame | None:
    """A CSV table with float64 values exactly as written; None when missing or unreadable."""
    import pandas as pd

    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None


def _finite(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_summary(
    run: str | Path, models: Sequence[str], label_aware: frozenset[str] = frozenset()
) -> list[ModelSummary]:
    """The headline figures of each model, read from the run's ``eval/`` and ``hardness/``."""
    root = Path(run)
    mce = read_csv_exact(RunLayout(root).eval_table("mce"))
    corruptions = read_csv_exact(RunLayout(root).eval_table("corruptions"))
    sanity = read_csv_exact(RunLayout(root).eval_table("sanity"))
    out = []
    for model in models:
        s = ModelSummary(model)
        if mce is not None and {"model", "clean_accuracy"} <= set(mce.columns):
            rows = mce[mce["model"] == model]
            if len(rows):
                row = rows.iloc[0]
                s.clean_accuracy = _finite(row.get("clean_accuracy"))
                s.corrupted_accuracy = _finite(row.get("corrupted_accuracy"))
                s.mce = _finite(row.get("mce"))
                base = row.get("baseline")
                s.baseline = str(base) if isinstance(base, str) and base else None
        if corruptions is not None and {"model", "corruption", "accuracy"} <= set(
            corruptions.columns
        ):
            mine = corruptions[corruptions["model"] == model].sort_values(
                ["accuracy", "corruption"], kind="stable"
            )
            s.worst = [
                (str(c), float(a))
                for c, a in zip(mine["corruption"], mine["accuracy"], strict=True)
                if _finite(a) is not None
            ][:3]
        prio = read_csv_exact(RunLayout(root).prioritization(model))
        if prio is not None and {"variant", "score", "apfd"} <= set(prio.columns):
            clean = prio[
                (prio["variant"] == "clean")
                & ~prio["score"].isin(NOT_RANKERS | label_aware)
                & prio["apfd"].notna()
            ]
            if len(clean):
                best = clean.iloc[int(clean["apfd"].to_numpy().argmax())]  # first of ties
                s.best_score, s.apfd = str(best["score"]), float(best["apfd"])
        if sanity is not None and {"model", "suspect", "reason"} <= set(sanity.columns):
            flagged = sanity[(sanity["model"] == model) & sanity["suspect"].astype(bool)]
            if len(flagged):
                s.warning = f"likely preprocessing mistake: {flagged['reason'].iloc[0]}"
        issues = read_csv_exact(RunLayout(root).label_issues(model))
        if issues is not None and "is_issue" in issues.columns:
            s.label_issues = int(issues["is_issue"].astype(bool).sum())
        if not s.empty():
            out.append(s)
    return out


def _figure(model: str, key: str, value: float | int, text: str, section: str) -> str:
    return (
        f'<a href="#{section}"><data data-model="{html.escape(model)}" data-figure="{key}" '
        f'value="{value!r}">{html.escape(text)}</data></a>'
    )


def summary_html(figures: Sequence[ModelSummary]) -> str:
    """The summary as an HTML table, one row per model (only the columns some model has)."""
    columns = [
        ("clean accuracy", lambda s: s.clean_accuracy is not None),
        ("mean corrupted accuracy", lambda s: s.corrupted_accuracy is not None),
        ("mCE", lambda s: s.mce is not None),
        ("worst corruptions", lambda s: bool(s.worst)),
        ("best prioritisation score (clean)", lambda s: s.apfd is not None),
        ("likely label issues", lambda s: s.label_issues is not None),
    ]
    shown = [name for name, has in columns if any(has(s) for s in figures)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["model", *shown])
    body = []
    acc = LINKS["accuracy"]
    for s in figures:
        cells = {
            "clean accuracy": s.clean_accuracy is not None
            and _figure(
                s.model, "clean_accuracy", s.clean_accuracy, f"{100 * s.clean_accuracy:.1f} %", acc
            ),
            "mean corrupted accuracy": s.corrupted_accuracy is not None
            and _figure(
                s.model,
                "corrupted_accuracy",
                s.corrupted_accuracy,
                f"{100 * s.corrupted_accuracy:.1f} %",
                acc,
            ),
            "mCE": s.mce is not None and _figure(s.model, "mce", s.mce, f"{s.mce:.1f}", acc),
            "worst corruptions": ", ".join(
                _figure(s.model, f"worst_{i + 1}", a, f"{c} {100 * a:.1f} %", acc)
                for i, (c, a) in enumerate(s.worst)
            ),
            "best prioritisation score (clean)": s.apfd is not None
            and f'<span data-model="{html.escape(s.model)}" data-figure="best_score">'
            f"{html.escape(str(s.best_score))}</span>, APFD "
            + _figure(s.model, "apfd", s.apfd, f"{s.apfd:.4f}", LINKS["prioritisation"]),
            "likely label issues": s.label_issues is not None
            and _figure(
                s.model, "label_issues", s.label_issues, str(s.label_issues), LINKS["label_issues"]
            ),
        }
        row = "".join(f"<td>{cells[c] or ''}</td>" for c in shown)
        body.append(f"<tr><td>{html.escape(s.model)}</td>{row}</tr>")
    warnings = "".join(
        f'<p class="warning" data-model="{html.escape(s.model)}"><strong>'
        f"{html.escape(s.model)}</strong>: {html.escape(s.warning)}</p>"
        for s in figures
        if s.warning
    )
    return (
        f"{warnings}"
        f'<table class="tbl summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def summary_caption(figures: Sequence[ModelSummary]) -> str:
    """Where the figures come from, and what mCE is normalised by."""
    # The layout of any run, its model named "<model>": the files as a reader finds them.
    layout = RunLayout("")
    read = [layout.eval_table("mce"), layout.eval_table("corruptions")]
    read.append(layout.prioritization("<model>"))
    if any(s.label_issues is not None for s in figures):
        read.append(layout.label_issues("<model>"))
    parts = [f"read from {', '.join(layout.relative(p) for p in read)}"]
    bases = sorted({s.baseline for s in figures if s.baseline and s.mce is not None})
    if bases:
        parts.append(f"mCE normalised by {', '.join(bases)} (= 100)")
    if any(s.apfd is not None for s in figures):
        parts.append("best score: highest APFD on the clean test split, label-aware scores aside")
    return "; ".join(parts)
