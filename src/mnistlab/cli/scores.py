"""Score commands: score, prioritize, label-issues, active-learn, hardness."""

from pathlib import Path

import typer

from mnistlab._validate import check_positive
from mnistlab.cli import _app as opts

_METHODS = (
    "a,b of entropy, gini, max_softmax, margin, least_confidence, mistakenness, uniqueness "
    "(FiftyOne's, cosine), knn_distance (Euclidean), or 'all' (default: all but the last two)."
)
_TABLE = "Table: .csv, .parquet or .md (a folder without suffix: CSV and Markdown)."


@opts.command("score", writes="score", inputs=("preds",), file="table")
def score_cmd(
    preds: Path = typer.Argument(..., help="Predictions table (.parquet or .csv)."),
    methods: str | None = typer.Option(None, "--methods", help=_METHODS),
    out: Path = opts.out_option(_TABLE),
) -> None:
    """Hardness scores of every prediction (higher = more likely misclassified)."""
    from mnistlab.data.tables import write_table
    from mnistlab.scores.table import read_preds, score_table

    table = score_table(read_preds(preds), opts.parse_list(methods))
    write_table(table, out, "score")
    typer.echo(f"{out}: {len(table)} rows, {table['variant'].nunique()} variants")


@opts.command("prioritize", writes="prioritize", inputs=("preds", "scores"), file="table")
def prioritize_cmd(
    preds: Path = typer.Argument(..., help="Predictions table (or a scores table)."),
    scores: Path | None = typer.Option(None, "--scores", help="Scores table (default: of PREDS)."),
    methods: str | None = typer.Option(None, "--methods", help="Scores (all but mistakenness)."),
    k: str = typer.Option("100,1000", "--k", help="Budgets for found@k, comma-separated."),
    variant: str | None = typer.Option(None, "--variant", help="Only these variants (a,b)."),
    out: Path | None = opts.out_option(_TABLE, required=False),
) -> None:
    """APFD, AUROC, AUPR and misclassifications in the top k, for every score on every variant."""
    from mnistlab.data.tables import format_table, write_table
    from mnistlab.scores.table import prioritize_file

    ks = opts.parse_list(k, int, "--k") or (0,)  # none given: refused below
    check_positive(min(ks), "--k", allow_none=False)
    source = scores if scores is not None else preds
    result = prioritize_file(source, opts.parse_list(methods), ks, opts.parse_list(variant))
    typer.echo(format_table(result))
    for path in write_table(result, out, "prioritize") if out is not None else []:
        typer.echo(f"wrote {path}")


@opts.command("label-issues", writes="label-issues", inputs=("source", "grid"), file="table")
def label_issues_cmd(
    source: str = typer.Argument(..., help="Dataset name / IDX folder, or a predictions table."),
    split: str = typer.Option("test", "--split", help="Split of a dataset."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds (datasets)."),
    seed: opts.Seed = 0,
    limit: opts.Limit = None,
    top: int = typer.Option(20, "--top", min=0, help="Rows printed."),
    all_rows: bool = typer.Option(False, "--all", help="Keep every sample, issues first."),
    grid: Path | None = typer.Option(None, "--grid", help="PNG grid of the top issues (datasets)."),
    out: Path | None = opts.out_option(_TABLE, required=False),
    data_dir: opts.DataDir = None,
    overwrite: opts.Overwrite = False,
) -> None:
    """Likely label errors by confident learning (cleanlab) on out-of-sample probabilities.

    A dataset is scored by cross-validated PCA + logistic regression; a predictions table's
    clean rows are used as they are (a model trained on another split is out-of-sample).
    """
    from mnistlab.data.tables import format_table, write_table
    from mnistlab.workflows.label_issues import find_source_issues, write_issue_grid

    opts.check_out(grid, "grid", source, out, data_dir=data_dir, overwrite=overwrite, file=True,
                   what="--grid")  # fmt: skip
    table, images, ids = find_source_issues(
        source, split=split, folds=folds, seed=seed, limit=limit, all_rows=all_rows,
        data_dir=data_dir, grid=grid is not None,
    )  # fmt: skip
    if top > 0:
        typer.echo(format_table(table.head(top)))
    typer.echo(f"{int(table['is_issue'].sum())} likely label issues")
    for path in write_table(table, out, "label-issues") if out is not None else []:
        typer.echo(f"wrote {path}")
    if grid is not None:
        typer.echo(f"wrote {write_issue_grid(table, images, ids, grid)}")


@opts.command("active-learn", writes="active-learn", inputs=("name", "pool"))
def active_learn_cmd(
    name: str = typer.Argument(..., help="Dataset whose train split trains the models."),
    pool: str | None = typer.Option(None, "--pool", help="Variant folder or dataset (NAME)."),
    split: str = typer.Option("test", "--split", help="Split of the pool."),
    methods: str = typer.Option("gini,entropy", "--methods", help="Selection scores."),
    budget: int = typer.Option(1000, "--budget", min=1, help="Samples picked (one-shot)."),
    seeds: int = typer.Option(5, "--seeds", min=1, help="Repetitions (seeds 0..N-1)."),
    model: str = typer.Option("tip-cnn", "--model", help="pca-logreg, or a model of 'train'."),
    epochs: opts.Epochs = None,
    train_subset: opts.TrainSubset = None,
    rounds: int = typer.Option(0, "--rounds", min=0, help="Also run the iterative variant."),
    round_budget: int = typer.Option(200, "--round-budget", min=1, help="Picks per round."),
    out: Path = opts.out_option("Folder for tables and plots."),
    data_dir: opts.DataDir = None,
    progress: opts.Progress = True,
) -> None:
    """Active learning: retrain on the hardest pool samples vs random ones (Weiss & Tonella)."""
    from mnistlab.data.tables import format_table
    from mnistlab.workflows.active import active_learn

    summary = active_learn(
        name, out, pool=pool, split=split, model=model, epochs=epochs, data_dir=data_dir,
        methods=opts.parse_list(methods) or [], budget=budget, seeds=list(range(seeds)),
        train_subset=train_subset, rounds=rounds, round_budget=round_budget, progress=progress,
    )  # fmt: skip
    typer.echo(format_table(summary))
    typer.echo(f"wrote {out}")


@opts.command("hardness", writes="hardness", inputs=("source", "morpho"))
def hardness_cmd(
    source: Path = typer.Argument(..., help="A run directory, or a predictions table."),
    model: str = typer.Option("cnn", "--model", help="Model of the run (preds/<model>.parquet)."),
    score: str = typer.Option("entropy", "--score", help="Hardness score of the analyses."),
    morpho: Path | None = typer.Option(None, "--morpho", help="Morphometrics table (PREDS input)."),
    per_class: int = typer.Option(8, "--per-class", min=1, help="Images per class in grids."),
    active_learning: bool = typer.Option(False, "--active-learning", help="Run: also that."),
    out: Path | None = opts.out_option("Output folder (PREDS input).", required=False),
) -> None:
    """What makes samples hard: histograms, per-class tables, image grids, morphometrics,
    corruptions (a run directory gets scores/, hardness/<model>/ and the prioritisation table;
    with --out, SOURCE is a predictions table)."""
    from mnistlab.workflows.hardness import analyze

    paths = analyze(source, out, model=model, score=score, morpho=morpho, per_class=per_class,
                    active_learning=active_learning)  # fmt: skip
    for key, path in paths.items():
        typer.echo(f"{key:16s} {path}")
