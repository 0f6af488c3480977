"""Sections of the report about the run, its data and its robustness tables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt.variants import IDENTITY, regenerate_variant
from mnistlab.errors import MnistlabError
from mnistlab.figures import report as plots
from mnistlab.report.blocks import NOT_COMPUTED, Block, ReportContext, Section, label_aware
from mnistlab.report.tables import RunTables
from mnistlab.run import RunLayout, clean_images, clean_labels, corruption_params, parse_variant

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "section_calibration",
    "section_gallery",
    "section_label_issues",
    "section_robustness",
    "section_run",
    "section_summary",
]


def section_run(ctx: ReportContext) -> Section:
    import pandas as pd

    sec = Section("run", "Provenance: what was run")
    m = ctx.manifest
    dataset = m.get("dataset")
    if isinstance(dataset, dict):
        dataset = ", ".join(f"{k}: {v}" for k, v in dataset.items() if _present(v))
    candidates = [
        ("run directory", str(ctx.run)),
        ("dataset", dataset),
        ("classes", ", ".join(ctx.class_names)),
        ("models", ", ".join(ctx.tables)),
        ("seed", m.get("seed")),
        ("compat", m.get("compat") or "default"),
        ("created", m.get("created")),
        ("report written", time.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    # Only what the manifest has: no "?" or "None" placeholders.
    rows = [(k, str(v)) for k, v in candidates if _present(v)]
    try:
        rows.append(("test samples", str(len(clean_labels(ctx.run)))))
    except MnistlabError:
        rows.append(("test samples", NOT_COMPUTED))
    if ctx.main is not None:
        n_var = ctx.main.rows("SELECT count(DISTINCT variant) FROM samples")[0][0]
        rows.append(("variants", str(n_var)))
    sec.table(pd.DataFrame(rows, columns=["", "value"]), "run")
    versions = m.get("versions")
    if isinstance(versions, dict):
        known = sorted((str(k), str(v)) for k, v in versions.items() if _present(v))
        if known:
            sec.table(pd.DataFrame(known, columns=["package", "version"]), "versions")
    steps = m.get("steps")
    if isinstance(steps, dict) and steps:
        frame = pd.DataFrame(
            [
                (
                    k,
                    v.get("seconds"),
                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v["finished"]))
                    if isinstance(v.get("finished"), (int, float))
                    else "",
                )
                for k, v in steps.items()
                if isinstance(v, dict)
            ],
            columns=["step", "seconds", "finished"],
        )
        sec.table(frame, "steps", floatfmt="{:.1f}")
    return sec


def _present(value: Any) -> bool:
    """A manifest value worth showing: not missing, empty, NaN or a "?" placeholder."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return False
    return str(value).strip() not in ("", "?", "nan", "NaN", "None")


def section_summary(ctx: ReportContext) -> Section | None:
    """The figures a reader came for, read from ``eval/`` and ``hardness/`` (not recomputed)."""
    from mnistlab.report.summary import read_summary, summary_caption, summary_html

    figures = read_summary(ctx.run, list(ctx.tables), label_aware())
    if not figures:
        return None
    sec = Section("summary", "Summary")
    sec.blocks.append(Block("html", summary_html(figures), summary_caption(figures)))
    return sec


def section_label_issues(ctx: ReportContext) -> Section | None:
    """``label_issues/<model>.csv`` (``mnistlab label-issues ... --out``), when the run has it."""
    from mnistlab.report.summary import read_csv_exact

    sec = Section("label-issues", "Likely label issues (confident learning)")
    layout = RunLayout(ctx.run)
    for name in ctx.tables:
        path = layout.label_issues(name)
        table = read_csv_exact(path)
        if table is None or "is_issue" not in table.columns:
            continue
        issues = table[table["is_issue"].astype(bool)]
        sec.table(
            issues,
            f"{layout.relative(path)}: {len(issues)} likely label issues, worst first",
            floatfmt="{:.4f}",
        )
    return sec if sec.blocks else None


def _variants(ctx: ReportContext) -> list[str]:
    if ctx.main is not None:
        return [
            r[0]
            for r in ctx.main.rows(
                "SELECT variant FROM samples GROUP BY variant "
                "ORDER BY min(corruption), min(severity)"
            )
        ]
    found = ctx.manifest.get("variants")
    return [str(v) for v in found] if isinstance(found, list) else []


def section_gallery(ctx: ReportContext) -> Section:
    sec = Section("gallery", "Corruption gallery")
    try:
        labels = clean_labels(ctx.run)
    except MnistlabError:
        sec.note = NOT_COMPUTED + " (no data/ folder)"
        return sec
    # One sample of each of the first classes, so the gallery shows different shapes.
    picks = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)[: ctx.gallery_samples]]
    ids = np.asarray(picks, np.int64)
    corruptions: dict[str, set[int]] = {}
    for v in _variants(ctx):
        corruption, severity = parse_variant(v)
        if corruption != IDENTITY:
            corruptions.setdefault(corruption, set()).add(severity)
    if not corruptions:
        sec.note = NOT_COMPUTED + " (no corrupted variants)"
        return sec
    all_clean = clean_images(ctx.run)
    params = corruption_params(ctx.run)
    clean = np.asarray(all_clean[ids])
    h = clean.shape[1]
    strip = np.concatenate(list(clean), axis=1)
    severities = list(range(0, 6))
    # Severities the run did not evaluate stay a flat mid-grey (images are drawn as stored).
    cells = np.full((len(corruptions), len(severities), h, strip.shape[1]), 128, np.uint8)
    failed = []
    for r, (corruption, sevs) in enumerate(sorted(corruptions.items())):
        cells[r, 0] = strip
        for s in sorted(sevs):
            try:
                imgs = regenerate_variant(all_clean, f"{corruption}-s{s}", ids, **params)
            except MnistlabError:
                failed.append(corruption)
                break
            cells[r, severities.index(s)] = np.concatenate(list(imgs), axis=1)
    png = plots.image_grid_png(
        cells,
        sorted(corruptions),
        ["clean", *(f"severity {s}" for s in severities[1:])],
        scale=0.5,
    )
    sec.image(
        png,
        f"every corruption x severity on {len(ids)} test samples, shown as stored and as the "
        "explorer shows them (light ink on a dark background); grey: not in this run",
    )
    if failed:
        sec.text("could not regenerate: " + ", ".join(sorted(set(failed))))
    return sec


def _accuracy_grid(tables: RunTables) -> pd.DataFrame:
    return tables.query(
        "SELECT corruption, severity, avg(correct::DOUBLE) AS accuracy, count(*) AS n "
        "FROM samples GROUP BY corruption, severity ORDER BY corruption, severity"
    )


def section_robustness(ctx: ReportContext) -> Section:
    import pandas as pd

    sec = Section("robustness", "Robustness: accuracy per corruption and severity")
    if not ctx.tables:
        sec.note = NOT_COMPUTED + " (no predictions)"
        return sec
    drops, summary = [], []
    for name, t in ctx.tables.items():
        grid = _accuracy_grid(t)
        clean = grid[grid["corruption"] == "identity"]["accuracy"]
        clean_acc = float(clean.iloc[0]) if len(clean) else float("nan")
        corrupted = grid[grid["corruption"] != "identity"]
        # As eval/mce.csv defines it: the mean over corruptions of each one's mean over severities.
        per_corruption = corrupted.groupby("corruption")["accuracy"].mean()
        summary.append(
            {
                "model": name,
                "clean accuracy": clean_acc,
                "mean corrupted accuracy": float(per_corruption.mean())
                if len(per_corruption)
                else float("nan"),
            }
        )
        if corrupted.empty:
            continue
        pivot = corrupted.pivot(index="corruption", columns="severity", values="accuracy")
        pivot.columns = [f"s{c}" for c in pivot.columns]
        pivot.insert(0, "clean", clean_acc)
        pivot = pivot.loc[pivot.mean(axis=1).sort_values().index]
        sec.image(
            plots.heatmap_png(pivot, f"{name}: accuracy (clean {clean_acc:.1%})"),
            f"{name}: accuracy per corruption x severity",
        )
        per = corrupted.groupby("corruption")["accuracy"].agg(["mean", "min"]).reset_index()
        for corruption, mean, worst in zip(
            per["corruption"], per["mean"].astype(float), per["min"].astype(float), strict=True
        ):
            drops.append(
                {
                    "model": name,
                    "corruption": corruption,
                    "clean": clean_acc,
                    "mean over severities": mean,
                    "worst severity": worst,
                    "drop": clean_acc - mean,
                }
            )
    from mnistlab.report.summary import read_csv_exact

    layout = RunLayout(ctx.run)
    mce_path = layout.eval_table("mce")
    mce = read_csv_exact(mce_path)
    if mce is not None:
        caption = f"{layout.relative(mce_path)}: accuracy, mCE and clean ECE per model"
        sec.table(mce, caption, floatfmt="{:.4f}")
    else:
        sec.table(pd.DataFrame(summary), "models", floatfmt="{:.4f}")
    if drops:
        table = pd.DataFrame(drops).sort_values(["model", "drop"], ascending=[True, False])
        sec.table(table, "accuracy drop per corruption (clean minus mean over severities)")
    else:
        sec.text("only the clean variant was evaluated: no accuracy drop to show")
    return sec


def _confidence(t: RunTables, where: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    probs = t.prob_columns
    if not probs:
        raise MnistlabError("no prob_* columns")
    frame = t.query(
        f"SELECT greatest({', '.join(probs)}) AS conf, correct FROM samples WHERE {where}"
    )
    return frame["conf"].to_numpy(np.float64), frame["correct"].to_numpy(bool)


def section_calibration(ctx: ReportContext) -> Section:
    import pandas as pd

    sec = Section("calibration", "Calibration")
    curves, rows = {}, []
    for name, t in ctx.tables.items():
        if not t.prob_columns:
            continue
        for label, where in (("clean", "variant = 'clean'"), ("corrupted", "variant <> 'clean'")):
            conf, ok = _confidence(t, where)
            if len(conf) == 0:
                continue
            curve = _reliability(conf, ok)
            curves[f"{name} {label}"] = curve
            rows.append(
                {
                    "model": name,
                    "variants": label,
                    "samples": len(conf),
                    "accuracy": float(ok.mean()),
                    "mean confidence": float(conf.mean()),
                    "ECE": curve["ece"],
                }
            )
    if not curves:
        sec.note = NOT_COMPUTED + " (no probabilities)"
        return sec
    sec.image(plots.reliability_png(curves), "reliability diagram (10 confidence bins)")
    sec.table(pd.DataFrame(rows), "expected calibration error")
    return sec


def _reliability(confidence: NDArray[np.float64], correct: NDArray[np.bool_]) -> dict[str, Any]:
    """A reliability curve (used bins only) and its ECE, from :mod:`mnistlab.evaluate`."""
    from mnistlab.evaluate import expected_calibration_error, reliability_table

    table = reliability_table(confidence=confidence, correct=correct)
    used = table[table["count"] > 0]
    return {
        "confidence": used["confidence"].to_numpy(np.float64),
        "accuracy": used["accuracy"].to_numpy(np.float64),
        "count": used["count"].to_numpy(np.int64),
        "ece": expected_calibration_error(confidence=confidence, correct=correct),
    }
