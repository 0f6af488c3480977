"""Corruption commands: ``mnistlab corruptions`` (list, picture grid) and ``mnistlab corrupt``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mnistlab.cli._app import DataDir, Overwrite, app, check_out, dataset_path, parse_list


def _fmt_param(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "(" + ",".join(_fmt_param(v) for v in value) + ")"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@app.command("corruptions")
def corruptions_cmd(
    family: str | None = typer.Option(None, "--family", help="Only this family."),
    grid: Path | None = typer.Option(
        None, "--grid", help="Also draw every corruption at every severity into this PNG."
    ),
    images: int = typer.Option(3, "--images", help="Images per cell of the grid."),
    dataset: str = typer.Option("fashion-mnist", "--dataset", help="Images of the grid."),
    seed: int = typer.Option(0, "--seed", help="Seed of the grid's random corruptions."),
    compat: str | None = typer.Option(None, "--compat", help="default or mnist-c (grid)."),
    data_dir: DataDir = None,
    overwrite: Overwrite = False,
) -> None:
    """List corruptions: family, releases, benchmark severity, the five parameters, compat notes."""
    from mnistlab._validate import check_positive, check_seed
    from mnistlab.corrupt import get, names

    chosen = names(family=family)
    if grid is not None:
        check_positive(images, "--images", allow_none=False)
        check_seed(seed, "--seed")
        check_out(grid, "grid", dataset_path(dataset, data_dir), overwrite=overwrite, file=True)
    header = f"{'name':18s} {'family':12s} {'releases':17s} {'bench':5s}  severity 1..5"
    typer.echo(header)
    typer.echo("-" * len(header))
    for name in chosen:
        c = get(name)
        levels = " ".join(_fmt_param(p) for p in c.levels) if c.leveled else "(no levels)"
        releases = ",".join(c.releases) or "-"
        bench = str(c.benchmark_severity or "-")
        typer.echo(f"{c.name:18s} {c.family:12s} {releases:17s} {bench:5s}  {levels}")
        if c.description:
            typer.echo(f"{'':20s}what:    {c.description}")
        typer.echo(f"{'':20s}default: rounds to uint8; mnist-c: truncates like the releases")
        if c.compat_note:
            typer.echo(f"{'':20s}compat:  {c.compat_note}")
        if c.aliases:
            typer.echo(f"{'':20s}aliases: {', '.join(c.aliases)}")
        if not c.monotonic:
            typer.echo(f"{'':20s}note:    severities are not ordered by strength")
    if grid is not None:
        import numpy as np

        from mnistlab.corrupt.grid import save_grid
        from mnistlab.data import load

        ds = load(dataset, split="test", data_dir=data_dir)
        # One image per class where possible, so the grid shows different shapes.
        picks = [int(np.flatnonzero(ds.labels == k)[0]) for k in np.unique(ds.labels)][:images]
        out = save_grid(grid, ds.images[picks], corruptions=chosen, seed=seed, compat=compat)
        typer.echo(f"grid: {out}")


@app.command("corrupt")
def corrupt_cmd(
    name: str = typer.Argument(..., help="Dataset name or folder (anything `load` reads)."),
    out: Path = typer.Option(
        ..., "--out", help="Output folder (new, empty, or a previous corrupt output)."
    ),
    split: str = typer.Option("test", "--split", help="test, train or all."),
    layout: str = typer.Option("mnist-c", "--layout", help="mnist-c or fmnist-c."),
    corruptions: str | None = typer.Option(
        None, "--corruptions", help="Comma-separated names (default: the release's)."
    ),
    severity: str = typer.Option(
        "benchmark", "--severity", help="1..5, benchmark, all (mnist-c) or random (fmnist-c)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: sample i's draws come from (seed, i)."),
    compat: str = typer.Option("default", "--compat", help="default or mnist-c (release quirks)."),
    fmt: str | None = typer.Option(
        None, "--format", help="npy, idx, npz or parquet (default: the layout's release files)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Worker processes (default: all cores)."
    ),
    executor: str = typer.Option("local", "--executor", help="local, serial or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
    limit: int | None = typer.Option(
        None, "--limit", help="Only the first N images of each split."
    ),
    checkpoint: bool = typer.Option(
        False, "--checkpoint", help="Keep finished chunks so an interrupted run resumes."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
    data_dir: DataDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Write a corrupted dataset in the MNIST-C or Fashion-MNIST-C layout."""
    import time

    from mnistlab._validate import check_positive, check_scheduler, check_seed
    from mnistlab.corrupt.generate import generate

    check_seed(seed, "--seed")
    check_positive(workers, "--workers")
    check_positive(limit, "--limit")
    check_scheduler(scheduler, executor)
    check_out(out, "corrupt", dataset_path(name, data_dir), overwrite=overwrite)
    start = time.perf_counter()
    path = generate(
        name,
        out,
        layout=layout,
        splits=split,
        corruptions=parse_list(corruptions),
        severity=severity,
        seed=seed,
        compat=compat,
        fmt=fmt,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        limit=limit,
        checkpoint=checkpoint,
        progress=progress,
        data_dir=data_dir,
    )
    typer.echo(f"{layout}: {path} ({time.perf_counter() - start:.1f} s)")
