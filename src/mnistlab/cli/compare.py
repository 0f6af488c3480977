"""``mnistlab compare``: models of one or several runs side by side, with statistics."""

from __future__ import annotations

from pathlib import Path

import typer

from mnistlab.cli import _app as opts

_RUNS = (
    "Runs (all their models), RUN/models/<name> or RUN/preds/<name>.parquet; the runs must "
    "share their test images and corruption seed."
)


@opts.app.command("compare")
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help=_RUNS),
    out: Path = opts.out_option("Output folder (tables, heatmaps, HTML)."),
    baseline: str | None = typer.Option(None, "--baseline", help="mCE baseline (logreg if there)."),
    n_boot: int = typer.Option(1000, "--n-boot", min=1, help="Bootstrap resamples."),
    seed: opts.Seed = 0,
    alpha: float = typer.Option(0.05, "--alpha", help="Family-wise level (Holm, McNemar tests)."),
    overwrite: opts.Overwrite = False,
) -> None:
    """Leaderboard with bootstrap CIs, paired per-cell tests (McNemar + Holm), compare.html."""
    from mnistlab.workflows.compare import compare_runs

    result = compare_runs(
        runs, out, baseline=baseline, n_boot=n_boot, seed=seed, alpha=alpha, overwrite=overwrite,
        log=typer.echo,
    )  # fmt: skip
    typer.echo("\n".join(result.summary_lines()))
