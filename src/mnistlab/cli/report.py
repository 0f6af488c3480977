"""Commands of this domain: ``report``, ``explore``, ``export-run``."""

from __future__ import annotations

from pathlib import Path

import typer

from mnistlab.cli import _app as opts


@opts.app.command("report")
def report_cmd(
    run_dir: Path = typer.Argument(..., help="A run directory written by 'mnistlab study'."),
    model: opts.Model = None,
    hardness: str = typer.Option(None, "--hardness", help="Hardness score (default entropy)."),
    out: Path = opts.out_option("Output file (default RUN_DIR/report.html).", required=False),
    overwrite: opts.Overwrite = False,
) -> None:
    """Write RUN_DIR/report.html: one self-contained file (images inlined, no network needed).

    The default target belongs to the run and is always rewritten; an --out elsewhere
    follows the output policy (an existing file needs --overwrite).
    """
    import os

    from mnistlab.report import write_report

    if out is not None and os.path.realpath(out) != os.path.realpath(run_dir / "report.html"):
        opts.check_out(out, "report", run_dir, overwrite=overwrite, file=True)
    path = write_report(run_dir, model=model, hardness=hardness, out=out, progress=True)
    size = path.stat().st_size / 1e6
    typer.echo(f"{path} ({size:.1f} MB)")


@opts.app.command("explore")
def explore_cmd(
    run_dir: Path = typer.Argument(..., help="A run directory written by 'mnistlab study'."),
    port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser tab."),
) -> None:
    """Browse every sample of a run in a local web app on 127.0.0.1 (read-only)."""
    from mnistlab._validate import check_port
    from mnistlab.app import serve

    check_port(port)
    serve(run_dir, port=port, open_browser=not no_browser)


@opts.app.command("export-run")
def export_run_cmd(
    run_dir: Path = typer.Argument(..., help="A run directory written by 'mnistlab study'."),
    format: str = typer.Option("fiftyone", "--format", help="Layout to write: fiftyone."),
    out: Path = opts.out_option("Folder (new, empty, or a previous export-run output)."),
    model: opts.Model = None,
    variants: str = typer.Option("clean", "--variants", help="Variants (a,b), or 'all'."),
    overwrite: opts.Overwrite = False,
) -> None:
    """Write a run in FiftyOne's image-classification layout, every score a sample field."""
    from mnistlab.report import export_run

    opts.check_out(out, "export-run", run_dir, overwrite=overwrite)
    chosen = None if variants.strip() == "all" else opts.parse_list(variants)
    path = export_run(run_dir, out, format=format, model=model, variants=chosen, progress=True)
    typer.echo(str(path))
