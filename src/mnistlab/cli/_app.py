"""The typer application shared by every command module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    name="mnistlab",
    help="Stress-test and diagnose image classifiers on MNIST-like data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def parse_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option (``"a,b"``) into names; None stays None."""
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def overwrite_option() -> Any:
    """The ``--overwrite`` option of every command that writes."""
    return typer.Option(
        False,
        "--overwrite",
        help="Replace a previous mnistlab output of the same kind (or an existing file).",
    )


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
