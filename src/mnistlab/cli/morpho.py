"""Morphometry commands: measure, perturb (Morpho-MNIST)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import typer

from mnistlab.cli._app import app

_SPLITS = {"test": ("test",), "train": ("train",), "all": ("train", "test")}


def _session(executor: str, scheduler: str | None, workers: int | None) -> Any:
    # One Dask client (and LocalCluster, without a scheduler) for every step of the command.
    if executor != "dask":
        return contextlib.nullcontext()
    from mnistlab.parallel import dask_session

    return dask_session(scheduler, workers)


def _check_run(executor: str, scheduler: str | None, chunk_size: int | None) -> None:
    from mnistlab.errors import MnistlabError
    from mnistlab.parallel import EXECUTORS

    if executor not in EXECUTORS:
        raise MnistlabError(f"--executor {executor!r}: choose from {', '.join(EXECUTORS)}")
    if scheduler and executor != "dask":
        raise MnistlabError(f"--scheduler {scheduler}: needs --executor dask")
    if chunk_size is not None and chunk_size < 1:
        raise MnistlabError(f"--chunk-size {chunk_size}: must be at least 1")


@app.command("measure")
def measure_cmd(
    name: str = typer.Argument(..., help="Registered dataset or folder of IDX files."),
    split: str = typer.Option("test", "--split", help="train or test."),
    out: Path = typer.Option(..., "--out", help="FILE.csv or FILE.parquet."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    executor: str = typer.Option("local", "--executor", help="serial, local or dask."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://host:8786); --executor dask."
    ),
    checkpoint: bool = typer.Option(
        False, "--checkpoint", help="Keep finished chunks so a failed or interrupted run resumes."
    ),
    chunk_size: int | None = typer.Option(None, "--chunk-size", help="Images per task (250)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Folder searched first."),
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
    _check_run(executor, scheduler, chunk_size)
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
    out: Path = typer.Option(..., "--out", help="Folder to write (replaced on success)."),
    split: str = typer.Option("test", "--split", help="test, train or all."),
    seed: int = typer.Option(0, "--seed", help="Per-sample randomness comes from (seed, i)."),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: all cores)."),
    executor: str = typer.Option("local", "--executor", help="serial, local or dask."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Dask scheduler address (tcp://host:8786); --executor dask."
    ),
    checkpoint: bool = typer.Option(
        False, "--checkpoint", help="Keep finished chunks so a failed or interrupted run resumes."
    ),
    chunk_size: int | None = typer.Option(None, "--chunk-size", help="Images per task (250)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Folder searched first."),
) -> None:
    """Write a Morpho-MNIST dataset (released IDX/CSV layout plus mnistlab.json)."""
    from mnistlab.errors import MnistlabError
    from mnistlab.morpho import write_dataset
    from mnistlab.parallel import checkpoint_dir_for, remove_checkpoints

    if split not in _SPLITS:
        raise MnistlabError(f"--split {split!r}: choose test, train or all")
    if seed < 0:
        raise MnistlabError(f"--seed {seed}: must be non-negative")
    _check_run(executor, scheduler, chunk_size)
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
