"""``mnistlab compare``: models of one or several runs side by side, with statistics."""

from __future__ import annotations

from pathlib import Path

import typer

from mnistlab.cli._app import Overwrite, app


@app.command("compare")
def compare_cmd(
    runs: list[Path] = typer.Argument(
        ...,
        help="Runs (all their models), RUN/models/<name> or RUN/preds/<name>.parquet; "
        "the runs must share their test images and corruption seed.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (tables, heatmaps, HTML)."),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Model of the mCE (default: logreg when present)."
    ),
    n_boot: int = typer.Option(1000, "--n-boot", min=1, help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the bootstrap."),
    alpha: float = typer.Option(
        0.05, "--alpha", help="Family-wise level of the Holm-corrected McNemar tests."
    ),
    overwrite: Overwrite = False,
) -> None:
    """Leaderboard with bootstrap CIs, paired per-cell tests (McNemar + Holm), compare.html."""
    from mnistlab.workflows.compare import compare_runs

    result = compare_runs(
        runs,
        out,
        baseline=baseline,
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
        overwrite=overwrite,
        log=typer.echo,
    )
    for row in result.tables["leaderboard"].to_dict("records"):
        typer.echo(
            f"{row['model']}: clean {row['clean_accuracy']:.4f} "
            f"[{row['clean_accuracy_lo']:.4f}, {row['clean_accuracy_hi']:.4f}], corrupted "
            f"{row['corrupted_accuracy']:.4f} "
            f"[{row['corrupted_accuracy_lo']:.4f}, {row['corrupted_accuracy_hi']:.4f}]"
        )
    for row in result.tables["pairs"].to_dict("records"):
        typer.echo(
            f"{row['model_a']} vs {row['model_b']}: {row['significant']} of {row['cells']} "
            f"corrupted cells differ significantly ({row['a_better']} for {row['model_a']}, "
            f"{row['b_better']} for {row['model_b']})"
        )
    typer.echo(f"comparison -> {result.out / 'compare.html'}")
