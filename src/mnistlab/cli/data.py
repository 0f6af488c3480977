"""Data commands: datasets, fetch, export."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mnistlab.cli._app import DataDir, Overwrite, app, check_out, dataset_path

if TYPE_CHECKING:
    from mnistlab.data.registry import Location


class ExportFormat(str, Enum):
    """Formats of ``mnistlab export``."""

    npz = "npz"
    png = "png"
    parquet = "parquet"
    idx = "idx"


class SplitChoice(str, Enum):
    """Splits of ``mnistlab export``."""

    test = "test"
    train = "train"
    all = "all"


def _status(name: str, loc: Location, verify: bool) -> str:
    from mnistlab.data import registry

    if not verify:
        return "not checked"
    info = registry.get_info(name)
    results = {stem: registry.verify_file(info, stem, p) for stem, p in loc.files.items()}
    bad = [stem for stem, ok in results.items() if ok is False]
    if bad:
        return f"MISMATCH: {', '.join(bad)}"
    if all(ok is True for ok in results.values()):
        return "sha256 verified" if info.sha256 else "md5 verified"
    return "no hash registered"


@app.command("datasets")
def datasets_cmd(
    data_dir: DataDir = None,
    verify: bool = typer.Option(
        True, "--verify/--no-verify", help="Check the hashes of found files."
    ),
) -> None:
    """List known datasets, whether and where each was found, and whether it verifies."""
    from mnistlab.data import registry

    for name in registry.names():
        info = registry.get_info(name)
        loc = registry.locate(name, data_dir)
        if loc is None:
            how = f"mnistlab fetch {name}"
            if info.debian_package:
                how = f"apt-get install {info.debian_package}, or {how}"
            typer.echo(f"{name:15s} not found      {info.description} (get it: {how})")
            continue
        typer.echo(
            f"{name:15s} found in {loc.source:13s} {loc.folder}  ({_status(name, loc, verify)})"
        )


@app.command("fetch")
def fetch_cmd(
    name: str = typer.Argument(..., help="Registered dataset name."),
    data_dir: DataDir = None,
    download: bool = typer.Option(
        True, "--download/--no-download", help="Download when not found."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Locate a dataset, or download and verify it into the user cache."""
    from mnistlab.data import registry
    from mnistlab.errors import MnistlabError

    loc = registry.fetch(name, data_dir, download=download, progress=progress)
    status = _status(name, loc, verify=True)
    if status.startswith("MISMATCH"):
        raise MnistlabError(f"{name}: files in {loc.folder} fail verification ({status})")
    typer.echo(f"{name}: {loc.folder} ({loc.source}, {status})")


@app.command("export")
def export_cmd(
    name: str = typer.Argument(..., help="Registered dataset name or folder of IDX files."),
    out: Path = typer.Option(
        ..., "--out", help="Export folder (new, empty, or a previous export)."
    ),
    split: SplitChoice = typer.Option(SplitChoice.test, "--split", help="Split(s) to export."),
    fmt: ExportFormat = typer.Option(ExportFormat.npz, "--format", help="Output format."),
    data_dir: DataDir = None,
    download: bool = typer.Option(
        True, "--download/--no-download", help="Download when not found."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    overwrite: Overwrite = False,
) -> None:
    """Export a dataset as NPZ, a PNG folder (ImageFolder layout), HF-style Parquet or IDX."""
    from mnistlab.data.formats import export

    check_out(out, "export", dataset_path(name, data_dir), overwrite=overwrite)
    splits = ("train", "test") if split is SplitChoice.all else (split.value,)
    folder = export(
        name,
        out,
        format=fmt.value,
        splits=splits,
        data_dir=data_dir,
        download=download,
        progress=progress,
    )
    typer.echo(f"{name}: {', '.join(splits)} written as {fmt.value} to {folder}")
