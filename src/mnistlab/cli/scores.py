"""Score commands: score, prioritize, label-issues, active-learn, hardness."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mnistlab.cli._app import DataDir, Overwrite, app, check_out, dataset_path, parse_list
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd


_TABLE_SUFFIXES = (".parquet", ".csv", ".md")


def _check_table_out(out: Path, kind: str, *inputs: Any, overwrite: bool) -> None:
    """The output policy for a table target: a file by suffix, a folder without one."""
    suffix = out.suffix.lower()
    if suffix and suffix not in _TABLE_SUFFIXES:
        raise MnistlabError(f"--out: {out}: unknown format {suffix!r} (use .parquet, .csv or .md)")
    check_out(out, kind, *inputs, overwrite=overwrite, file=bool(suffix))


def _write_any(table: pd.DataFrame, out: Path, kind: str = "table") -> list[Path]:
    """Write by suffix (.parquet, .csv, .md); a path without suffix is a folder: CSV + Markdown."""
    from mnistlab._atomic import atomic_dir, atomic_path, write_text_atomic
    from mnistlab.scores.analysis import markdown_table

    suffix = out.suffix.lower()
    if suffix == "":
        with atomic_dir(out, kind) as tmp:
            _write_any(table, tmp / "table.csv")
            _write_any(table, tmp / "table.md")
        return [out / "table.csv", out / "table.md"]
    if suffix == ".parquet":
        with atomic_path(out, suffix=".parquet") as tmp:
            table.to_parquet(tmp, index=False)
    elif suffix == ".csv":
        with atomic_path(out, suffix=".csv") as tmp:
            table.to_csv(tmp, index=False)
    elif suffix == ".md":
        write_text_atomic(out, markdown_table(table))
    else:
        raise MnistlabError(f"--out: {out}: unknown format {suffix!r} (use .parquet, .csv or .md)")
    return [out]


def _show(table: pd.DataFrame, digits: int = 4) -> None:
    import pandas as pd

    with pd.option_context(
        "display.max_rows", 500, "display.max_columns", 50, "display.width", 200
    ):
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.{digits}f}"))


@app.command("score")
def score_cmd(
    preds: Path = typer.Argument(..., help="Predictions table (.parquet or .csv)."),
    methods: str | None = typer.Option(
        None,
        "--methods",
        help="Comma-separated: entropy,gini,max_softmax,margin,least_confidence,mistakenness,"
        "uniqueness (FiftyOne's, cosine), knn_distance (Euclidean), or 'all' (default: all "
        "but uniqueness and knn_distance).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Scores table (.parquet or .csv)."),
    overwrite: Overwrite = False,
) -> None:
    """Hardness scores of every prediction (higher = more likely misclassified)."""
    from mnistlab.scores.table import read_preds, score_table

    _check_table_out(out, "score", preds, overwrite=overwrite)
    table = score_table(read_preds(str(preds)), parse_list(methods))
    _write_any(table, out, "score")
    typer.echo(f"{out}: {len(table)} rows, {table['variant'].nunique()} variants")


def _scores_input(path: Path, methods: list[str] | None) -> pd.DataFrame:
    """A scores table as is, or a predictions table scored with ``methods`` (validated)."""
    from mnistlab.scores.table import read_scores_or_preds

    table = read_scores_or_preds(path, methods)
    if "variant" not in table.columns:
        table["variant"] = "clean"
    return table


@app.command("prioritize")
def prioritize_cmd(
    preds: Path = typer.Argument(..., help="Predictions table (or a scores table)."),
    scores: Path | None = typer.Option(
        None, "--scores", help="Scores table from 'mnistlab score' (default: computed from PREDS)."
    ),
    methods: str | None = typer.Option(
        None, "--methods", help="Scores to evaluate (default: every score but mistakenness)."
    ),
    k: str = typer.Option("100,1000", "--k", help="Budgets for found@k, comma-separated."),
    variant: str | None = typer.Option(None, "--variant", help="Only these variants (a,b)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help=".csv, .md or .parquet; a folder gets CSV and Markdown."
    ),
    overwrite: Overwrite = False,
) -> None:
    """APFD, AUROC, AUPR and misclassifications in the top k, for every score on every variant."""
    from mnistlab.scores.table import TABLE_METHODS, prioritization_table

    names = parse_list(methods)
    try:
        ks = [int(v) for v in parse_list(k) or []]
    except ValueError:
        raise MnistlabError(f"--k: expected integers like 100,1000, got {k!r}") from None
    if not ks or min(ks) < 1:
        raise MnistlabError(f"--k: expected positive integers, got {k!r}")
    if out is not None:
        _check_table_out(out, "prioritize", preds, scores, overwrite=overwrite)
    table = _scores_input(
        scores if scores is not None else preds,
        [m for m in (names or []) if m in TABLE_METHODS] or None,
    )
    wanted = parse_list(variant)
    if wanted:
        missing = sorted(set(wanted) - set(table["variant"].astype(str)))
        if missing:
            raise MnistlabError(f"--variant: no variant {missing[0]!r} in the table")
        table = table[table["variant"].isin(wanted)]
    result = prioritization_table(table, methods=names, k=ks)
    _show(result)
    if out is not None:
        for path in _write_any(result, out, "prioritize"):
            typer.echo(f"wrote {path}")


@app.command("label-issues")
def label_issues_cmd(
    source: str = typer.Argument(..., help="Dataset name / IDX folder, or a predictions table."),
    split: str = typer.Option("test", "--split", help="Split of a dataset."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds (datasets)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the folds and the model."),
    limit: int | None = typer.Option(None, "--limit", help="First N images only (datasets)."),
    top: int = typer.Option(20, "--top", min=0, help="Rows printed."),
    all_rows: bool = typer.Option(False, "--all", help="Keep every sample, issues first."),
    grid: Path | None = typer.Option(None, "--grid", help="PNG grid of the top issues (datasets)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Ranked table (.csv/.parquet/.md)."),
    data_dir: DataDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Likely label errors by confident learning (cleanlab) on out-of-sample probabilities.

    A dataset is scored by cross-validated PCA + logistic regression; a predictions table's
    clean rows are used as they are (a model trained on another split is out-of-sample).
    """
    from mnistlab._validate import check_positive, check_seed
    from mnistlab.workflows.label_issues import find_source_issues, write_issue_grid

    check_seed(seed, "--seed")
    check_positive(limit, "--limit")
    source_path = dataset_path(source, data_dir)
    if out is not None:
        _check_table_out(out, "label-issues", source_path, grid, overwrite=overwrite)
    if grid is not None:
        check_out(grid, "grid", source_path, out, overwrite=overwrite, file=True, what="--grid")
    table, images, ids = find_source_issues(
        source,
        split=split,
        folds=folds,
        seed=seed,
        limit=limit,
        all_rows=all_rows,
        data_dir=data_dir,
    )
    n_issues = int(table["is_issue"].sum())
    _show(table.head(top))
    typer.echo(f"{n_issues} likely label issues")
    if out is not None:
        _write_any(table, out, "label-issues")
        typer.echo(f"wrote {out}")
    if grid is not None:
        if images is None:
            raise MnistlabError("--grid: needs a dataset (a predictions table has no images)")
        write_issue_grid(table, images, ids, grid)
        typer.echo(f"wrote {grid}")


@app.command("active-learn")
def active_learn_cmd(
    name: str = typer.Argument(..., help="Dataset whose train split trains the models."),
    pool: str | None = typer.Option(
        None,
        "--pool",
        help="Pool: a variant folder (e.g. Fashion-MNIST-C) or dataset; default NAME.",
    ),
    split: str = typer.Option("test", "--split", help="Split of the pool."),
    methods: str = typer.Option("gini,entropy", "--methods", help="Selection scores."),
    budget: int = typer.Option(1000, "--budget", min=1, help="Samples picked (one-shot)."),
    seeds: int = typer.Option(5, "--seeds", min=1, help="Repetitions (seeds 0..N-1)."),
    model: str = typer.Option("tip-cnn", "--model", help="pca-logreg, or a model of 'train'."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Training epochs."),
    train_subset: int | None = typer.Option(
        None, "--train-subset", min=1, help="Train on N random train images per seed."
    ),
    rounds: int = typer.Option(0, "--rounds", min=0, help="Also run the iterative variant."),
    round_budget: int = typer.Option(200, "--round-budget", min=1, help="Picks per round."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for tables and plots."),
    data_dir: DataDir = None,
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    overwrite: Overwrite = False,
) -> None:
    """Active learning: retrain on the hardest pool samples vs random ones (Weiss & Tonella)."""
    from mnistlab.data import load
    from mnistlab.scores import active
    from mnistlab.workflows.active import make_trainer, write_active_learning
    from mnistlab.workflows.pool import variant_pool

    names = parse_list(methods) or []
    inputs = [dataset_path(name, data_dir), dataset_path(pool, data_dir) if pool else None]
    check_out(out, "active-learn", *inputs, overwrite=overwrite)
    train = load(name, split="train", data_dir=data_dir)
    pool_x, pool_y = variant_pool(pool if pool is not None else name, split, 0)
    seed_list = list(range(seeds))
    fit = make_trainer(model, epochs)
    one = active.one_shot(
        train.images,
        train.labels,
        pool_x,
        pool_y,
        methods=names,
        budget=budget,
        seeds=seed_list,
        trainer=fit,
        train_subset=train_subset,
        progress=progress,
    )
    summary = active.summarize(one)
    it = None
    if rounds:
        it = active.iterative(
            train.images,
            train.labels,
            pool_x,
            pool_y,
            methods=names,
            budget_per_round=round_budget,
            rounds=rounds,
            seeds=seed_list,
            trainer=fit,
            train_subset=train_subset,
            progress=progress,
        )
    write_active_learning(out, one, summary, it)
    _show(summary)
    typer.echo(f"wrote {out}")


@app.command("hardness")
def hardness_cmd(
    source: Path = typer.Argument(..., help="A run directory, or a predictions table."),
    model: str = typer.Option("cnn", "--model", help="Model of the run (preds/<model>.parquet)."),
    score: str = typer.Option("entropy", "--score", help="Hardness score of the analyses."),
    morpho: Path | None = typer.Option(None, "--morpho", help="Morphometrics table (PREDS input)."),
    per_class: int = typer.Option(8, "--per-class", min=1, help="Images per class in grids."),
    active_learning: bool = typer.Option(
        False, "--active-learning", help="Run directory: also the active-learning study."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (PREDS input)."),
    overwrite: Overwrite = False,
) -> None:
    """What makes samples hard: histograms, per-class tables, image grids, morphometrics,
    corruptions (a run directory gets scores/, hardness/<model>/ and the prioritisation table)."""

    from mnistlab.scores.table import TABLE_METHODS, read_preds, score_table
    from mnistlab.workflows.hardness import analyze_run, analyze_table

    if score not in TABLE_METHODS:
        raise MnistlabError(f"--score: unknown score {score!r} (known: {', '.join(TABLE_METHODS)})")
    if source.is_dir():
        paths = analyze_run(
            source, model, score=score, per_class=per_class, active_learning=active_learning
        )
    else:
        if out is None:
            raise MnistlabError("--out: required when the input is a predictions table")
        check_out(out, "hardness", source, morpho, overwrite=overwrite)
        table = score_table(
            read_preds(str(source)),
            [score, "entropy", "gini", "margin", "max_softmax", "least_confidence"],
        )
        morpho_table = None
        if morpho is not None:
            from mnistlab.scores.checks import read_table_file

            morpho_table = read_table_file(morpho, "--morpho morphometrics table")
        paths = analyze_table(table, out, score=score, morpho=morpho_table, per_class=per_class)
    for key, path in paths.items():
        typer.echo(f"{key:16s} {path}")
