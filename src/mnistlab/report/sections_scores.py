"""Sections of the report about the per-sample scores: hardness, prioritisation, examples."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.figures import report as plots
from mnistlab.report.blocks import (
    MAX_ATTACHED_FIGURES,
    NOT_COMPUTED,
    ReportContext,
    Section,
    attached_png,
    clean_frame,
    label_aware,
    of_model,
)
from mnistlab.report.tables import RunTables
from mnistlab.run import ACTIVE_LEARNING_FIGURES, ACTIVE_LEARNING_TABLES, RunLayout, clean_images

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "section_active",
    "section_embeddings",
    "section_examples",
    "section_figures",
    "section_fmnist_c",
    "section_hardness",
    "section_leaderboard",
    "section_morpho",
    "section_prioritisation",
]


def _hardness_frame(ctx: ReportContext, sec: Section) -> tuple[RunTables, str, pd.DataFrame] | None:
    """The main model, its hardness score and its clean rows with that score; None (``sec``
    says why) when the run has no scores table."""
    if ctx.main is None or ctx.hardness is None:
        sec.note = NOT_COMPUTED + " (no scores table)"
        return None
    return ctx.main, ctx.hardness, clean_frame(ctx, [ctx.hardness])


def section_hardness(ctx: ReportContext) -> Section:
    sec = Section("hardness", "Hardness" + of_model(ctx))
    if (scored := _hardness_frame(ctx, sec)) is None:
        return sec
    main, h, frame = scored
    if frame.empty:
        sec.note = NOT_COMPUTED + " (no clean predictions)"
        return sec
    v = frame[h].to_numpy(np.float64)
    ok = frame["correct"].to_numpy(bool)
    sec.text(f"model {main.model}, clean test samples, hardness = {h} (higher = harder)")
    sec.image(plots.hardness_hist_png(v, ok, h), f"{h}: correct vs incorrect")
    sec.image(plots.accuracy_vs_hardness_png(v, ok, h), f"accuracy per decile of {h}")
    sec.image(
        plots.hardness_by_class_png(v, frame["label"].to_numpy(np.int64), ctx.class_names, h),
        f"{h} per true class",
    )
    return sec


def section_prioritisation(ctx: ReportContext) -> Section:
    from mnistlab.report.summary import read_csv_exact

    sec = Section("prioritisation", "Prioritisation: which score finds the misclassified samples")
    aware = label_aware()
    read_any = False
    layout = RunLayout(ctx.run)
    for name in ctx.tables:
        path = layout.prioritization(name)
        table = read_csv_exact(path)
        if table is None or not {"variant", "score", "apfd"} <= set(table.columns):
            continue
        read_any = True
        clean = table[table["variant"] == "clean"]
        cols = ["score", "n", "faults", "apfd", "auroc", "aupr", "found@100", "recall@100"]
        part = (clean if len(clean) else table)[[c for c in cols if c in table.columns]]
        part = part.sort_values("apfd", ascending=False, kind="stable")
        uses = ["yes" if v in aware else "" for v in part["score"]]
        # APFD as the study wrote it (every digit): the report reads the metric, never recomputes.
        part = part.assign(apfd=[repr(float(v)) for v in part["apfd"]], **{"uses the label": uses})
        where = "clean test split" if len(clean) else "every variant"
        sec.table(
            part,
            f"{layout.relative(path)}, {where}, by APFD (ties averaged)",
            floatfmt="{:.4f}",
        )
        if table["variant"].nunique() > 1:
            grid = table.pivot_table(index="variant", columns="score", values="apfd", sort=False)
            sec.table(
                grid.reset_index().rename_axis(columns=None),
                f"{layout.relative(path)}: APFD per variant",
            )
    if ctx.main is not None and ctx.main.score_columns:
        pooled = _pooled_ranking(ctx.main, read_any, aware)
        if len(pooled):
            sec.table(
                pooled,
                f"model {ctx.main.model}: "
                + (
                    "every variant pooled (mnistlab.scores.metrics)"
                    if read_any
                    else "misclassification detection by score (mnistlab.scores.metrics)"
                ),
                floatfmt="{:.4f}",
            )
    if not sec.blocks:
        sec.note = NOT_COMPUTED + " (no scores table)"
    return sec


def _pooled_ranking(main: RunTables, pooled_only: bool, aware: frozenset[str]) -> pd.DataFrame:
    """Ranking metrics of every score (all variants pooled; also clean without a table)."""
    import pandas as pd

    from mnistlab.scores.metrics import evaluate_ranking

    scores = main.score_columns
    where = [("all variants", "TRUE")]
    if not pooled_only:
        where.insert(0, ("clean", "variant = 'clean'"))
    rows = []
    for label, cond in where:
        frame = main.query(f"SELECT correct, {', '.join(scores)} FROM samples WHERE {cond}")
        if frame.empty:
            continue
        wrong = ~frame["correct"].to_numpy(bool)
        for name in scores:
            v = frame[name].to_numpy(np.float64)
            ok = np.isfinite(v)
            r = evaluate_ranking(v[ok], wrong[ok], k=(100,))
            rows.append(
                {
                    "variants": label,
                    "score": name,
                    **{k: r[k] for k in ("n", "faults", "apfd", "auroc", "aupr", "found@100")},
                    "uses the label": "yes" if name in aware else "",
                }
            )
    return pd.DataFrame(rows)


def section_fmnist_c(ctx: ReportContext) -> Section | None:
    """Only in runs that asked for the protocol (``mnistlab study --fmnist-c``)."""
    import pandas as pd

    layout = RunLayout(ctx.run)
    table_path = layout.fmnist_c_table
    if not table_path.is_file():
        return None
    sec = Section("fmnist-c", "Fashion-MNIST-C protocol: train on its train split, rank its test")
    sec.text(
        "Every image of both splits gets one corruption drawn at random, as in the "
        "Fashion-MNIST-C release. The CNN trained on the corrupted train split ranks the "
        "corrupted test split; the run's clean-trained models rank the same images under "
        "covariate shift, where a fault rate f caps APFD at 1 - f/2 for any score."
    )
    try:
        table = pd.read_csv(table_path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        sec.note = f"unreadable {table_path.name}"
        return sec
    cols = [c for c in ("trained_on", "model", "score", "n", "faults", "accuracy") if c in table]
    cols += [c for c in ("apfd", "auroc", "aupr") if c in table]
    sec.table(table[cols], f"{layout.relative(table_path)}: misclassification detection by score")
    for path in layout.fmnist_c_figures:
        png = attached_png(path)
        if png is not None:
            sec.image(png, layout.relative(path))
    return sec


def section_examples(ctx: ReportContext) -> Section:
    sec = Section("examples", "Hardest and easiest images per class" + of_model(ctx))
    if (scored := _hardness_frame(ctx, sec)) is None:
        return sec
    _, h, frame = scored
    images = clean_images(ctx.run)
    k = ctx.per_class
    short = [n[:7] for n in ctx.class_names]
    for title, descending in (("hardest", True), ("easiest", False)):
        cells = np.full((len(ctx.class_names), k, *images.shape[1:]), 128, np.uint8)
        titles: list[list[str]] = []
        for c in range(len(ctx.class_names)):
            part = (
                frame[frame["label"] == c]
                .sort_values(h, ascending=not descending, kind="stable")
                .head(k)
            )
            ids = part["sample_id"].to_numpy(np.int64)
            if len(ids):
                cells[c, : len(ids)] = images[ids]
            titles.append(
                [
                    ("" if ok else "→" + short[p])
                    for ok, p in zip(part["correct"], part["pred"], strict=True)
                ]
                + [""] * (k - len(ids))
            )
        png = plots.image_grid_png(
            cells, ctx.class_names, [str(i + 1) for i in range(k)], cell_titles=titles
        )
        sec.image(
            png,
            f"{title} {k} clean test images per class by {h} (as stored, like the explorer; "
            "red: the wrong prediction)",
        )
    return sec


def section_morpho(ctx: ReportContext) -> Section:

    sec = Section("morphometrics", "Morphometrics" + of_model(ctx))
    if ctx.main is None or not ctx.main.columns.morpho:
        sec.note = NOT_COMPUTED + " (no morpho.parquet)"
        return sec
    morpho = ctx.main.columns.morpho
    scores = ctx.main.score_columns
    frame = clean_frame(ctx, [*morpho, *scores])
    ok = frame["correct"].to_numpy(bool)
    sec.image(
        plots.morpho_png(frame, ok, morpho), "distributions, correct vs incorrect (clean test)"
    )
    targets = [*scores, "incorrect"]
    frame = frame.assign(incorrect=(~frame["correct"]).astype(np.float64))
    corr = frame[[*morpho, *targets]].corr(method="spearman").loc[morpho, targets]
    corr.insert(0, "measure", corr.index)
    sec.table(
        corr.reset_index(drop=True),
        "Spearman correlation of each measure with the scores",
        floatfmt="{:+.2f}",
    )
    return sec


def section_embeddings(ctx: ReportContext) -> Section:
    sec = Section("embeddings", "Embeddings of the features" + of_model(ctx))
    if ctx.main is None or not ctx.main.embedding_kinds():
        sec.note = (
            NOT_COMPUTED
            + " (no embeddings/<model>.parquet; see mnistlab.workflows.embed.embed_run)"
        )
        return sec
    kinds = ctx.main.embedding_kinds()
    cols = [f"{k}_{i}" for k in kinds for i in (0, 1)]
    extra = [ctx.hardness] if ctx.hardness else []
    frame = clean_frame(ctx, [*cols, *extra]).dropna(subset=cols, how="all")
    if len(frame) > ctx.max_points:
        frame = frame.sample(ctx.max_points, random_state=ctx.seed)
    coords = {k: frame[[f"{k}_0", f"{k}_1"]].to_numpy(np.float64) for k in kinds}
    hard = frame[ctx.hardness].to_numpy(np.float64) if ctx.hardness else None
    png = plots.embedding_png(
        coords,
        frame["label"].to_numpy(np.int64),
        frame["correct"].to_numpy(bool),
        hard,
        ctx.class_names,
        ctx.hardness,
    )
    sec.image(png, f"{ctx.main.model}, {len(frame)} clean test samples")
    return sec


def section_active(ctx: ReportContext) -> Section:
    """Each model's active-learning study: its summary table and the workflow's figures."""
    import pandas as pd

    sec = Section("active", "Active learning")
    layout = RunLayout(ctx.run)
    folders = sorted(p for p in layout.active_learning.glob("*/") if p.is_dir())
    for folder in folders:
        summary = folder / f"{ACTIVE_LEARNING_TABLES[0]}.csv"
        unreadable = (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)
        with contextlib.suppress(*unreadable):  # without a summary, the figures still show
            sec.table(pd.read_csv(summary), layout.relative(summary))
        for name in ACTIVE_LEARNING_FIGURES:
            png = attached_png(folder / name)
            if png is not None:
                sec.image(png, layout.relative(folder / name))
    if not sec.blocks:
        sec.note = NOT_COMPUTED
    return sec


def section_figures(ctx: ReportContext) -> Section:
    sec = Section("figures", "Figures written by the study")
    layout = RunLayout(ctx.run)
    paths = [p for f in layout.figure_folders if f.is_dir() for p in sorted(f.rglob("*.png"))]
    if not paths:
        sec.note = NOT_COMPUTED + " (no PNG under eval/, hardness/ or active_learning/)"
        return sec
    for path in paths[:MAX_ATTACHED_FIGURES]:
        png = attached_png(path)
        if png is not None:
            sec.image(png, layout.relative(path))
    if len(paths) > MAX_ATTACHED_FIGURES:
        sec.text(f"{len(paths) - MAX_ATTACHED_FIGURES} more figures in the run directory")
    return sec


def section_leaderboard(ctx: ReportContext) -> Section | None:
    from mnistlab.report.leaderboard import leaderboard_section

    return leaderboard_section(ctx.run, Section, attached_png)
