"""Commands over the runs: ``report``, ``explore``, ``export-run``, ``compare``."""

from pathlib import Path

import typer

from mnistlab.cli import _app as opts

_RUN = "A run directory written by 'mnistlab study'."
_RUNS = "Runs, RUN/models/<name> or RUN/preds/<name>.parquet (same test images and seed)."


@opts.command("report")
def report_cmd(
    run_dir: Path = typer.Argument(..., help=_RUN),
    model: opts.Model = None,
    hardness: str = typer.Option(None, "--hardness", help="Hardness score (default entropy)."),
    out: Path = opts.out_option("Output file (default RUN_DIR/report.html).", required=False),
    overwrite: opts.Overwrite = False,
    progress: opts.Progress = True,
) -> None:
    """Write RUN_DIR/report.html: one self-contained file (images inlined, no network needed).

    The default target belongs to the run and is always rewritten; an --out elsewhere
    follows the output policy (an existing file needs --overwrite).
    """
    from mnistlab.report import write_report

    if out is not None and out.resolve() != (run_dir / "report.html").resolve():
        opts.check_out(out, "report", run_dir, overwrite=overwrite, file=True)
    path = write_report(run_dir, model=model, hardness=hardness, out=out, progress=progress)
    typer.echo(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")


@opts.command("explore")
def explore_cmd(
    run_dir: Path = typer.Argument(..., help=_RUN),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser tab."),
) -> None:
    """Browse every sample of a run in a local web app on 127.0.0.1 (read-only)."""
    from mnistlab._validate import check_port
    from mnistlab.app import serve

    serve(run_dir, port=check_port(port), open_browser=not no_browser)


@opts.command("export-run", writes="export-run", inputs=("run_dir",))
def export_run_cmd(
    run_dir: Path = typer.Argument(..., help=_RUN),
    format: str = typer.Option("fiftyone", "--format", help="Layout to write: fiftyone."),
    out: Path = opts.out_option("Folder (new, empty, or a previous export-run output)."),
    model: opts.Model = None,
    variants: str = typer.Option("clean", "--variants", help="Variants (a,b), or 'all'."),
    progress: opts.Progress = True,
) -> None:
    """Write a run in FiftyOne's image-classification layout, every score a sample field."""
    from mnistlab.report import export_run

    chosen = None if variants.strip() == "all" else opts.parse_list(variants)
    path = export_run(run_dir, out, format=format, model=model, variants=chosen,
                      progress=progress)  # fmt: skip
    typer.echo(str(path))


@opts.command("compare")
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

    result = compare_runs(runs, out, baseline=baseline, n_boot=n_boot, seed=seed, alpha=alpha,
                          overwrite=overwrite, log=typer.echo)  # fmt: skip
    typer.echo("\n".join(result.summary_lines()))
