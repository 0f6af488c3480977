"""Morphometry commands: measure, perturb (Morpho-MNIST)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import typer

from mnistlab.cli._app import (
    Checkpoint,
    ChunkSize,
    DataDir,
    Overwrite,
    Scheduler,
    app,
    check_out,
    dataset_path,
)

_SPLITS = {"test": ("test",), "train": ("train",), "all": ("train", "test")}


def _session(executor: str, scheduler: str | None, workers: int | None) -> Any:
    # One Dask client (and LocalCluster, without a scheduler) for every step of the command.
    if executor != "dask":
        return contextlib.nullcontext()
    from mnistlab.parallel import dask_session

    return dask_session(scheduler, workers)


def _check_run(
    executor: str, scheduler: str | None, chunk_size: int | None, workers: int | None
) -> None:
    from mnistlab._validate import check_name, check_positive, check_scheduler
    from mnistlab.parallel import EXECUTORS

    check_name(executor, EXECUTORS, "--executor")
    check_scheduler(scheduler, executor)
    check_positive(chunk_size, "--chunk-size")
    check_positive(workers, "--workers")


@app.command("measure")
def measure_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    split: str = typer.Option("test", "--split", help="train or test."),
    out: Path = typer.Option(..., "--out", help="FILE.csv or FILE.parquet."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    executor: str = typer.Option("local", "--executor", help="serial, local or dask."),
    scheduler: Scheduler = None,
    checkpoint: Checkpoint = False,
    chunk_size: ChunkSize = None,
    data_dir: DataDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Measure Morpho-MNIST morphometrics (area, length, thickness, slant, width, height)."""
    from mnistlab._atomic import atomic_path
    from mnistlab.data import load
    from mnistlab.errors import MnistlabError
    from mnistlab.morpho import measure
    from mnistlab.parallel import checkpoint_dir_for, remove_checkpoints

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise MnistlabError(f"--out {out}: must end with .csv or .parquet")
    if split not in ("train", "test"):
        raise MnistlabError(f"--split {split!r}: choose train or test")
    _check_run(executor, scheduler, chunk_size, workers)
    check_out(out, "measure", dataset_path(name, data_dir), overwrite=overwrite, file=True)
    ds = load(name, split=split, data_dir=data_dir)
    ckpt = checkpoint_dir_for(out) if checkpoint else None
    with _session(executor, scheduler, workers):
        table = measure(
            ds.images,
            workers=workers,
            executor=executor,
            progress=True,
            chunk_size=chunk_size,
            scheduler=scheduler,
            checkpoint_dir=ckpt,
        )
    table.insert(1, "sample_id", ds.sample_ids)
    with atomic_path(out, suffix) as tmp:
        if suffix == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    if ckpt is not None:
        remove_checkpoints(ckpt)
    typer.echo(f"{out}: {len(table)} images measured")


@app.command("perturb")
def perturb_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    kind: str = typer.Option(..., "--kind", help="plain, thin, thic, swel, frac, global or local."),
    out: Path = typer.Option(
        ..., "--out", help="Folder to write (new, empty, or a previous perturb output)."
    ),
    split: str = typer.Option("test", "--split", help="test, train or all."),
    seed: int = typer.Option(0, "--seed", help="Per-sample randomness comes from (seed, i)."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    executor: str = typer.Option("local", "--executor", help="serial, local or dask."),
    scheduler: Scheduler = None,
    checkpoint: Checkpoint = False,
    chunk_size: ChunkSize = None,
    data_dir: DataDir = None,
    overwrite: Overwrite = False,
) -> None:
    """Write a Morpho-MNIST dataset (released IDX/CSV layout plus mnistlab.json)."""
    from mnistlab._validate import check_name, check_seed
    from mnistlab.morpho import write_dataset
    from mnistlab.morpho.datasets import KINDS
    from mnistlab.parallel import checkpoint_dir_for, remove_checkpoints

    check_name(split, _SPLITS, "--split")
    check_name(kind, KINDS, "--kind")
    check_seed(seed, "--seed")
    _check_run(executor, scheduler, chunk_size, workers)
    check_out(out, "perturb", dataset_path(name, data_dir), overwrite=overwrite)
    ckpt = checkpoint_dir_for(out) if checkpoint else None
    with _session(executor, scheduler, workers):
        folder = write_dataset(
            name,
            out,
            kind,
            _SPLITS[split],
            seed=seed,
            workers=workers,
            executor=executor,
            progress=True,
            data_dir=data_dir,
            scheduler=scheduler,
            checkpoint_dir=ckpt,
            chunk_size=chunk_size,
        )
    if ckpt is not None:
        remove_checkpoints(ckpt)
    typer.echo(f"{folder}: morpho-{kind} ({', '.join(_SPLITS[split])})")
