"""Morphometry commands: measure, perturb (Morpho-MNIST)."""

from pathlib import Path
from typing import Any, Literal

import typer

from mnistlab.cli import _app as opts


@opts.command("measure", writes="measure", inputs=("name",), file=(".csv", ".parquet"),
              executor="local")  # fmt: skip
def measure_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    split: Literal["test", "train"] = typer.Option("test", "--split", help="Split."),
    out: Path = opts.out_option("FILE.csv or FILE.parquet."),
    data_dir: opts.DataDir = None,
    job: Any = None,
) -> None:
    """Measure Morpho-MNIST morphometrics (area, length, thickness, slant, width, height)."""
    from mnistlab.workflows.morpho import measure_dataset

    table = measure_dataset(name, out, split, job, data_dir)
    typer.echo(f"{out}: {len(table)} images measured")


@opts.command("perturb", writes="perturb", inputs=("name",), executor="local")
def perturb_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    kind: str = typer.Option(..., "--kind", help="plain, thin, thic, swel, frac, global or local."),
    out: Path = opts.out_option("Folder (new, empty, or a previous one)."),
    split: Literal["test", "train", "all"] = typer.Option("test", "--split", help="Split(s)."),
    seed: opts.Seed = 0,
    data_dir: opts.DataDir = None,
    job: Any = None,
) -> None:
    """Write a Morpho-MNIST dataset (released IDX/CSV layout plus mnistlab.json)."""
    from mnistlab.workflows.morpho import SPLITS, perturb_dataset

    folder = perturb_dataset(name, out, kind, SPLITS[split], seed, job, data_dir)
    typer.echo(f"{folder}: morpho-{kind} ({', '.join(SPLITS[split])})")
