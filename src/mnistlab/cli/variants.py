"""Variant datasets: ``corruptions``, ``corrupt`` (MNIST-C), ``perturb``, ``measure`` (Morpho)."""

import time
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from mnistlab.cli import _app as opts


@opts.command("corruptions")
def corruptions_cmd(
    family: str | None = typer.Option(None, "--family", help="Only this family."),
    grid: Path | None = typer.Option(None, "--grid", help="Also draw them all into this PNG."),
    images: Annotated[int, opts.count("--images", "Images per cell of the grid.")] = 3,
    dataset: str = typer.Option("fashion-mnist", "--dataset", help="Images of the grid."),
    seed: opts.Seed = 0,
    compat: str | None = typer.Option(None, "--compat", help="default or mnist-c (grid)."),
    data_dir: opts.DataDir = None,
    overwrite: opts.Overwrite = False,
) -> None:
    """List corruptions: family, releases, benchmark severity, the five parameters, compat notes."""
    from mnistlab.corrupt import names
    from mnistlab.corrupt.listing import describe_corruptions
    from mnistlab.workflows.variants import dataset_corruption_grid

    chosen = names(family=family)
    opts.check_out(grid, "grid", dataset, data_dir=data_dir, overwrite=overwrite, file=True,
                   what="--grid")  # fmt: skip
    typer.echo(describe_corruptions(chosen))
    if grid is not None:
        path = dataset_corruption_grid(
            grid, dataset, chosen, images=images, data_dir=data_dir, seed=seed, compat=compat
        )
        typer.echo(f"grid: {path}")


@opts.command("corrupt", writes="corrupt", inputs=("name",), executor="local")
def corrupt_cmd(
    name: str = typer.Argument(..., help="Dataset name or folder (anything `load` reads)."),
    out: Path = opts.out_option("Folder (new, empty, or a previous one)."),
    split: str = typer.Option("test", "--split", help="test, train or all."),
    layout: str = typer.Option("mnist-c", "--layout", help="mnist-c or fmnist-c."),
    corruptions: str | None = typer.Option(None, "--corruptions", help="a,b (the release's)."),
    severity: str = typer.Option("benchmark", "--severity", help="1..5, benchmark, all, random."),
    seed: opts.Seed = 0,
    compat: str = typer.Option("default", "--compat", help="default or mnist-c (release quirks)."),
    fmt: str | None = typer.Option(None, "--format", help="npy, idx, npz or parquet (release's)."),
    limit: opts.Limit = None,
    data_dir: opts.DataDir = None,
    job: Any = None,
) -> None:
    """Write a corrupted dataset in the MNIST-C or Fashion-MNIST-C layout."""
    from mnistlab.corrupt.generate import generate

    start = time.perf_counter()
    path = generate(
        name, out, layout=layout, splits=split, corruptions=opts.parse_list(corruptions),
        severity=severity, seed=seed, compat=compat, fmt=fmt, limit=limit, data_dir=data_dir,
        execution=job,
    )  # fmt: skip
    typer.echo(f"{layout}: {path} ({time.perf_counter() - start:.1f} s)")


@opts.command("measure", writes="measure", inputs=("name",), file=(".csv", ".parquet"),
              executor="local")  # fmt: skip
def measure_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    split: Literal["test", "train", "all"] = typer.Option("test", "--split", help="Split(s)."),
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
