"""The typer application shared by every command module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="mnistlab",
    help="Stress-test and diagnose image classifiers on MNIST-like data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


# Options shared by several commands, declared once (``name: DataDir = None``).
DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Folder searched first for the dataset.")
]
Progress = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="Worker processes.")]
TrainSize = Annotated[
    int | None, typer.Option("--train-size", min=1, help="Use only the first N train images.")
]
TestSize = Annotated[
    int | None, typer.Option("--test-size", min=1, help="First N test images only.")
]
Augment = Annotated[
    str | None,
    typer.Option(
        "--augment",
        help="PyTorch models: train on on-the-fly corruptions, names or families (noise,blur).",
    ),
]
AugmentP = Annotated[
    float,
    typer.Option(
        "--augment-p", help="With --augment: probability that a training image is corrupted."
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); --executor dask."),
]
Checkpoint = Annotated[
    bool,
    typer.Option(
        "--checkpoint", help="Keep finished chunks so a failed or interrupted run resumes."
    ),
]
ChunkSize = Annotated[int | None, typer.Option("--chunk-size", help="Images per task (250).")]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace a previous mnistlab output of the same kind (or an existing file).",
    ),
]


def parse_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option (``"a,b"``) into names; None stays None."""
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def dataset_path(name: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None) -> Any:
    """The folder a dataset argument reads (a path, or a registered name's folder), or None.

    Used only to keep ``--out`` away from the inputs; an unknown name fails later, where the
    dataset is loaded.
    """
    if os.path.lexists(os.fspath(name)):
        return Path(name)
    try:
        from mnistlab.data import registry

        found = registry.locate(str(name), data_dir)
    except Exception:  # an unknown name is reported by load()
        return None
    return None if found is None else Path(found.folder)


def check_out(
    out: Path,
    kind: str,
    *inputs: Any,
    overwrite: bool = False,
    file: bool = False,
    what: str = "--out",
) -> Path:
    """:func:`mnistlab._output.prepare_out` for a command's ``--out`` (before any work)."""
    from mnistlab._output import prepare_out

    return prepare_out(out, kind, inputs=inputs, overwrite=overwrite, file=file, what=what)
