"""The typer application, the options several commands share, and :func:`command`."""

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from mnistlab._validate import check_positive, check_seed, check_suffix, parse_list

__all__ = ["app", "check_out", "command", "parse_list"]

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
InputLayout = Annotated[
    str | None, _opt("--layout", help="Input of .onnx / networks: NCHW, NHWC, NHW or flat.")
]
InputScale = Annotated[float | None, _opt("--scale", help="Input: pixels * scale (1/255).")]
InputMean = Annotated[float | None, _opt("--mean", help="Input: (x - mean) / std (0).")]
InputStd = Annotated[float | None, _opt("--std", help="Input: (x - mean) / std (1).")]
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
AugmentP = Annotated[float, _opt("--augment-p", help="With --augment: share corrupted (0.5).")]
Download = Annotated[bool, _opt("--download/--no-download", help="Download when not found.")]
Augment = Annotated[str | None, _opt("--augment", help="Train on corruptions: names, families.")]
Overwrite = Annotated[bool, _opt("--overwrite", help="Replace an output of this kind (or a file).")]
TrainSubset = Annotated[int | None, count("--train-subset", "N random train images per seed.")]
Model = Annotated[str | None, _opt("--model", help="Model of the run (default cnn).")]
#: The execution options of :func:`command` (``executor=``): name, type, default.
EXECUTION = {"workers": (Workers, None), "executor": (Executor, "local"),
             "scheduler": (Scheduler, None), "chunk_size": (ChunkSize, None),
             "checkpoint": (Checkpoint, False), "progress": (Progress, True)}  # fmt: skip


def check_out(out: Path | None, kind: str, *inputs: Any, overwrite: bool, **policy: Any) -> None:
    """:func:`mnistlab._output.prepare_out` for a command's ``--out`` (before any work).

    ``inputs``: paths, or dataset names (their folder, searched in ``data_dir`` first).
    ``file``: ``True`` for a file, ``"table"`` for a table (.csv, .parquet, .md, or a folder
    without a suffix), or the suffixes a file must have.
    """
    from mnistlab._output import prepare_out
    from mnistlab.data.catalog import dataset_folder
    from mnistlab.data.tables import check_table_suffix

    file, what = policy.pop("file", False), policy.get("what", "--out")
    data_dir = policy.pop("data_dir", None)
    if out is not None:
        if file == "table":
            file = bool(check_table_suffix(out, what))
        elif isinstance(file, tuple):
            file = bool(check_suffix(out, file, what))
        paths = [dataset_folder(item, data_dir) for item in inputs]
        prepare_out(out, kind, inputs=paths, overwrite=overwrite, file=file, **policy)


def command(name: str, *, writes: str = "", inputs: tuple[str, ...] = (), file: Any = False,
            executor: str = "") -> Callable[[Callable[..., Any]], Any]:  # fmt: skip
    """Register a command on :data:`app`, with the parts several commands share.

    ``writes`` (the kind of output) adds ``--overwrite`` (unless the command reads it too) and
    checks ``--out`` with :func:`check_out` (``file``: as there) against the ``inputs``
    (parameter names; a dataset name stands for its folder) before the command runs.
    ``executor`` (its default) adds the :data:`EXECUTION` options, which the command receives
    as one checked :class:`~mnistlab.execution.Execution`, ``job``.
    """
    shared = dict(EXECUTION, executor=(Executor, executor)) if executor else {}
    if writes:
        shared["overwrite"] = (Overwrite, False)

    def decorate(run: Callable[..., Any]) -> Any:
        own = dict(inspect.signature(run).parameters)
        added = [inspect.Parameter(n, KEYWORD, default=d, annotation=t)
                 for n, (t, d) in shared.items() if n not in own]  # fmt: skip
        params = [p for p in own.values() if p.name != "job"] + added

        @functools.wraps(run)
        def checked(**kw: Any) -> Any:
            if executor:
                from mnistlab.execution import Execution

                kw["job"] = Execution(**{n: kw.pop(n) for n in EXECUTION})
            if writes:
                items = [v for n in inputs for v in (kw[n] if isinstance(kw[n], list) else [kw[n]])]
                overwrite = kw["overwrite"] if "overwrite" in own else kw.pop("overwrite")
                check_out(kw["out"], writes, *items, overwrite=overwrite, file=file,
                          data_dir=kw.get("data_dir"))  # fmt: skip
            return run(**kw)

        checked.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return app.command(name)(checked)

    return decorate
