"""Morphometry commands: measure, perturb (Morpho-MNIST)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import typer

from mnistlab.cli import _app as opts


@opts.app.command("measure")
@opts.with_execution()
def measure_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    split: Literal["test", "train"] = typer.Option("test", "--split", help="Split."),
    out: Path = typer.Option(..., "--out", "-o", help="FILE.csv or FILE.parquet."),
    data_dir: opts.DataDir = None,
    overwrite: opts.Overwrite = False,
    job: Any = None,
) -> None:
    """Measure Morpho-MNIST morphometrics (area, length, thickness, slant, width, height)."""
    from mnistlab.workflows.morpho import measure_dataset

    opts.check_suffix(out, (".csv", ".parquet"))
    opts.check_out(
        out, "measure", opts.dataset_path(name, data_dir), overwrite=overwrite, file=True
    )
    table = measure_dataset(name, out, split, job, data_dir)
    typer.echo(f"{out}: {len(table)} images measured")


@opts.app.command("perturb")
@opts.with_execution()
def perturb_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    kind: str = typer.Option(..., "--kind", help="plain, thin, thic, swel, frac, global or local."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder (new, empty, or a previous one)."),
    split: Literal["test", "train", "all"] = typer.Option("test", "--split", help="Split(s)."),
    seed: opts.Seed = 0,
    data_dir: opts.DataDir = None,
    overwrite: opts.Overwrite = False,
    job: Any = None,
) -> None:
    """Write a Morpho-MNIST dataset (released IDX/CSV layout plus mnistlab.json)."""
    from mnistlab._validate import check_name
    from mnistlab.morpho.datasets import KINDS
    from mnistlab.workflows.morpho import SPLITS, perturb_dataset

    splits = SPLITS[split]
    check_name(kind, KINDS, "--kind")
    opts.check_out(out, "perturb", opts.dataset_path(name, data_dir), overwrite=overwrite)
    folder = perturb_dataset(name, out, kind, splits, seed, job, data_dir)
    typer.echo(f"{folder}: morpho-{kind} ({', '.join(splits)})")
