"""Data commands: datasets, fetch, export."""

from pathlib import Path
from typing import Literal

import typer

from mnistlab.cli import _app as opts


@opts.command("datasets")
def datasets_cmd(
    data_dir: opts.DataDir = None,
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Check the found files."),
) -> None:
    """List known datasets, whether and where each was found, and whether it verifies."""
    from mnistlab.data.catalog import catalog_lines

    typer.echo("\n".join(catalog_lines(data_dir, verify)))


@opts.command("fetch")
def fetch_cmd(
    name: str = typer.Argument(..., help="Registered dataset name."),
    data_dir: opts.DataDir = None,
    download: opts.Download = True,
    progress: opts.Progress = True,
) -> None:
    """Locate a dataset, or download and verify it into the user cache."""
    from mnistlab.data.catalog import fetch_verified

    loc, status = fetch_verified(name, data_dir, download=download, progress=progress)
    typer.echo(f"{name}: {loc.folder} ({loc.source}, {status})")


@opts.command("export", writes="export", inputs=("name",))
def export_cmd(
    name: str = typer.Argument(..., help="Registered dataset name or folder of IDX files."),
    out: Path = opts.out_option("Folder (new, empty, or a previous one)."),
    split: Literal["test", "train", "all"] = typer.Option("test", "--split", help="Split(s)."),
    fmt: Literal["npz", "png", "parquet", "idx"] = typer.Option("npz", "--format", help="Format."),
    data_dir: opts.DataDir = None,
    download: opts.Download = True,
    progress: opts.Progress = True,
) -> None:
    """Export a dataset as NPZ, a PNG folder (ImageFolder layout), HF-style Parquet or IDX."""
    from mnistlab.data.formats import export

    splits = ("train", "test") if split == "all" else (split,)
    folder = export(name, out, format=fmt, splits=splits, data_dir=data_dir, download=download,
                    progress=progress)  # fmt: skip
    typer.echo(f"{name}: {', '.join(splits)} written as {fmt} to {folder}")
