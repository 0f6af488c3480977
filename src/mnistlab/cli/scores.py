"""Score commands: score, prioritize, label-issues, active-learn, hardness."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mnistlab.cli._app import app, check_out, dataset_path, overwrite_option, parse_list
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
    from mnistlab.scores.analysis import _markdown

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
        write_text_atomic(out, _markdown(table))
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
        help="Comma-separated: entropy,gini,softmax,margin,least_confidence,mistakenness,"
        "uniqueness (FiftyOne's, cosine), knn_distance (Euclidean), or 'all' (default: all "
        "but uniqueness and knn_distance).",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Scores table (.parquet or .csv)."),
    overwrite: bool = overwrite_option(),
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
    overwrite: bool = overwrite_option(),
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
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Folder searched first."),
    overwrite: bool = overwrite_option(),
) -> None:
    """Likely label errors by confident learning (cleanlab) on out-of-sample probabilities.

    A dataset is scored by cross-validated PCA + logistic regression; a predictions table's
    clean rows are used as they are (a model trained on another split is out-of-sample).
    """
    import numpy as np

    from mnistlab._validate import check_positive, check_seed
    from mnistlab.scores.label_issues import find_label_issues, out_of_sample_probs

    check_seed(seed, "--seed")
    check_positive(limit, "--limit")
    path = Path(source)
    source_path = dataset_path(source, data_dir)
    if out is not None:
        _check_table_out(out, "label-issues", source_path, grid, overwrite=overwrite)
    if grid is not None:
        check_out(grid, "grid", source_path, out, overwrite=overwrite, file=True, what="--grid")
    images = None
    if path.is_file():
        from mnistlab.scores.table import probs_of, read_preds

        preds = read_preds(str(path))
        clean = preds[preds["variant"] == "clean"] if "clean" in set(preds["variant"]) else preds
        if clean["variant"].nunique() > 1:
            raise MnistlabError(f"{path}: no 'clean' variant; give a table of one variant")
        table = find_label_issues(
            clean["label"].to_numpy(),
            probs_of(clean),
            clean["sample_id"].to_numpy(),
            all_rows=all_rows,
        )
    else:
        from mnistlab.data import load

        ds = load(source, split=split, data_dir=data_dir)
        if limit is not None:
            ds = ds[:limit]
        probs = out_of_sample_probs(ds.images, ds.labels, folds=folds, seed=seed)
        table = find_label_issues(
            ds.labels, probs, np.asarray(ds.sample_ids), ds.class_names, all_rows=all_rows
        )
        images = ds.images
        ids = np.asarray(ds.sample_ids)
    n_issues = int(table["is_issue"].sum())
    _show(table.head(top))
    typer.echo(f"{n_issues} likely label issues")
    if out is not None:
        _write_any(table, out, "label-issues")
        typer.echo(f"wrote {out}")
    if grid is not None:
        if images is None:
            raise MnistlabError("--grid: needs a dataset (a predictions table has no images)")
        from mnistlab._atomic import atomic_path

        with atomic_path(grid, suffix=".png") as tmp:
            _issue_grid(table, images, ids, tmp)
        typer.echo(f"wrote {grid}")


def _issue_grid(table: pd.DataFrame, images: Any, ids: Any, path: Path) -> None:
    import numpy as np

    from mnistlab.scores.analysis import plot_image_grid

    shown = table[table["is_issue"]].head(40)
    position = {int(s): i for i, s in enumerate(ids)}
    rows = np.array([position[int(s)] for s in shown["sample_id"]], dtype=np.int64)
    n = len(shown)
    cols = 8
    label = shown.get("label_name", shown["label"]).astype(str).tolist()
    sugg = shown.get("suggested_name", shown["suggested"]).astype(str).tolist()
    captions = [
        f"#{s} {a[:8]}>{b[:8]}" for s, a, b in zip(shown["sample_id"], label, sugg, strict=True)
    ]
    if not n:
        _empty_png(path)
        return
    n_rows = -(-n // cols)
    plot_image_grid(
        images[rows],
        np.arange(n) // cols,
        np.arange(n) % cols,
        n_rows,
        cols,
        path,
        [""] * n_rows,
        captions,
        title="likely label issues (given -> suggested)",
    )


def _empty_png(path: Path) -> None:
    from mnistlab.scores.analysis import _plt, _save

    fig, ax = _plt().subplots(figsize=(3, 1))
    ax.axis("off")
    ax.text(0.5, 0.5, "no label issue found", ha="center", va="center")
    _save(fig, path)


def _pool(source: str | None, name: str, split: str, seed: int) -> tuple[Any, Any]:
    """Pool images and labels: one variant per sample drawn at random when a folder has many."""
    import numpy as np

    from mnistlab.models.predict import as_variants

    variants = list(as_variants(source if source is not None else name, split=split))
    sizes = {len(v.dataset) for v in variants}
    if len(sizes) != 1:
        raise MnistlabError(f"--pool: variants differ in size ({sorted(sizes)})")
    if len(variants) == 1:
        return variants[0].dataset.images, variants[0].dataset.labels
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, len(variants), size=sizes.pop())
    images = np.stack([variants[c].dataset.images[i] for i, c in enumerate(choice)])
    return images, variants[0].dataset.labels


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
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Folder searched first."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    overwrite: bool = overwrite_option(),
) -> None:
    """Active learning: retrain on the hardest pool samples vs random ones (Weiss & Tonella)."""
    from mnistlab._atomic import atomic_dir
    from mnistlab.data import load
    from mnistlab.scores import active
    from mnistlab.scores.analysis import write_table_files

    names = parse_list(methods) or []
    inputs = [dataset_path(name, data_dir), dataset_path(pool, data_dir) if pool else None]
    check_out(out, "active-learn", *inputs, overwrite=overwrite)
    train = load(name, split="train", data_dir=data_dir)
    pool_x, pool_y = _pool(pool, name, split, 0)
    seed_list = list(range(seeds))
    one = active.one_shot(
        train.images,
        train.labels,
        pool_x,
        pool_y,
        methods=names,
        budget=budget,
        seeds=seed_list,
        trainer=model,
        epochs=epochs,
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
            trainer=model,
            epochs=epochs,
            train_subset=train_subset,
            progress=progress,
        )
    with atomic_dir(out, "active-learn") as tmp:
        write_table_files(one, tmp / "one_shot")
        write_table_files(summary, tmp / "one_shot_summary", ("csv", "md"))
        active.plot_one_shot(summary, tmp / "one_shot.png")
        if it is not None:
            write_table_files(it, tmp / "iterative")
            active.plot_learning_curve(it, tmp / "learning_curve.png")
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
    overwrite: bool = overwrite_option(),
) -> None:
    """What makes samples hard: histograms, per-class tables, image grids, morphometrics,
    corruptions (a run directory gets scores/, hardness/<model>/ and the prioritisation table)."""

    from mnistlab.scores.analysis import analyze_run, analyze_table
    from mnistlab.scores.table import TABLE_METHODS, read_preds, score_table

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
            [score, "entropy", "gini", "margin", "softmax", "least_confidence"],
        )
        morpho_table = None
        if morpho is not None:
            from mnistlab.scores.checks import read_table_file

            morpho_table = read_table_file(morpho, "--morpho morphometrics table")
        paths = analyze_table(table, out, score=score, morpho=morpho_table, per_class=per_class)
    for key, path in paths.items():
        typer.echo(f"{key:16s} {path}")
