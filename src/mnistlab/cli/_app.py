"""The typer application shared by every command module, and the options they share."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from mnistlab._validate import check_positive, check_seed, check_suffix

__all__ = ["app", "check_out", "check_suffix", "dataset_path", "execution_of", "parse_list"]

app = typer.Typer(
    name="mnistlab",
    help="Stress-test and diagnose image classifiers on MNIST-like data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
_opt = typer.Option
KEYWORD = inspect.Parameter.KEYWORD_ONLY


def count(flag: str, help: str) -> Any:
    """An option of a count (at least 1, or unset), checked by the shared validator."""
    return _opt(flag, help=help, callback=lambda value: check_positive(value, flag))


def out_option(help: str, *, required: bool = True) -> Any:
    """The ``--out``/``-o`` option of a command (required unless ``required=False``)."""
    return _opt(... if required else None, "--out", "-o", help=help)


# Options shared by several commands, declared once (``name: DataDir = None``).
DataDir = Annotated[Path | None, _opt("--data-dir", help="Folder searched first for the dataset.")]
Progress = Annotated[bool, _opt("--progress/--no-progress", help="Show a progress bar.")]
Workers = Annotated[int | None, count("--workers", "Worker processes (default: all cores).")]
Executor = Annotated[str, _opt("--executor", help="serial, local or dask.")]
Scheduler = Annotated[str | None, _opt("--scheduler", help="Dask scheduler (tcp://host:8786).")]
Checkpoint = Annotated[bool, _opt("--checkpoint", help="Keep finished chunks, to resume.")]
ChunkSize = Annotated[int | None, count("--chunk-size", "Images per task.")]
Seed = Annotated[
    int, _opt("--seed", help="Seed, 0..2**63-1.", callback=lambda v: check_seed(v, "--seed"))
]
Limit = Annotated[int | None, count("--limit", "Only the first N images.")]
TrainSize = Annotated[int | None, count("--train-size", "First N train images only.")]
TestSize = Annotated[int | None, count("--test-size", "First N test images only.")]
Epochs = Annotated[int | None, count("--epochs", "Epochs (default: the model's).")]
Augment = Annotated[str | None, _opt("--augment", help="Train on corruptions: names, families.")]
AugmentP = Annotated[float, _opt("--augment-p", help="With --augment: share corrupted (0.5).")]
Download = Annotated[bool, _opt("--download/--no-download", help="Download when not found.")]
Overwrite = Annotated[bool, _opt("--overwrite", help="Replace an output of this kind (or a file).")]
TrainSubset = Annotated[int | None, count("--train-subset", "N random train images per seed.")]
Model = Annotated[str | None, _opt("--model", help="Model of the run (default cnn).")]


def parse_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option (``"a,b"``) into names; None stays None."""
    return None if value is None else [item.strip() for item in value.split(",") if item.strip()]


def dataset_path(name: Any, data_dir: Any = None) -> Path | None:
    """:func:`mnistlab.data.catalog.dataset_folder` (imported when a command runs)."""
    from mnistlab.data.catalog import dataset_folder

    return dataset_folder(name, data_dir)


def check_out(out: Path | None, kind: str, *inputs: Any, overwrite: bool, **policy: Any) -> None:
    """:func:`mnistlab._output.prepare_out` for a command's ``--out`` (before any work).

    ``file="table"``: a table file by suffix (.csv, .parquet, .md), or a folder without one.
    """
    from mnistlab._output import prepare_out
    from mnistlab.data.tables import check_table_suffix

    if out is None:
        return
    if policy.get("file") == "table":
        policy["file"] = bool(check_table_suffix(out, policy.get("what", "--out")))
    prepare_out(out, kind, inputs=inputs, overwrite=overwrite, **policy)


def execution_of(
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    checkpoint: bool = False,
    progress: bool = True,
) -> Any:
    """The :class:`~mnistlab.execution.Execution` of a command's options, each checked."""
    from mnistlab._validate import check_name, check_scheduler
    from mnistlab.execution import EXECUTORS, Execution

    check_name(executor, EXECUTORS, "--executor")
    job = Execution(executor, workers, scheduler, chunk_size, checkpoint, progress)
    check_scheduler(job.scheduler, executor)
    return job


def with_execution(executor: str = "local") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the execution options, which it receives as one value, ``job``.

    The options are ``--workers``, ``--executor`` (default ``executor``), ``--scheduler``,
    ``--chunk-size``, ``--checkpoint`` and ``--progress/--no-progress``; the command's own
    ``job`` parameter (an :class:`~mnistlab.execution.Execution`, checked by
    :func:`execution_of`) takes their place.
    """
    group = {
        "workers": (Workers, None),
        "executor": (Executor, executor),
        "scheduler": (Scheduler, None),
        "chunk_size": (ChunkSize, None),
        "checkpoint": (Checkpoint, False),
        "progress": (Progress, True),
    }
    extra = [inspect.Parameter(n, KEYWORD, default=d, annotation=t) for n, (t, d) in group.items()]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = inspect.signature(command, eval_str=True)

        @functools.wraps(command)
        def run(**kw: Any) -> Any:
            job = execution_of(**{name: kw.pop(name) for name in group})
            return command(**kw, job=job)

        params = [p for p in own.parameters.values() if p.name != "job"]
        run.__signature__ = own.replace(parameters=params + extra)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params + extra}
        return run

    return decorate


def show(table: Any, digits: int = 4) -> None:
    """Print a table (pandas) in full, floats with ``digits`` decimals."""
    import pandas as pd

    with pd.option_context(
        "display.max_rows", 500, "display.max_columns", 50, "display.width", 200
    ):
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.{digits}f}"))
