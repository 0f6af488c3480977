"""Command line: ``mnistlab COMMAND``. Each command is a thin call into the Python API.

Bad usage or bad input exits with code 2 and one line on stderr, never a traceback.
Heavy libraries (torch, scikit-learn, dask, ...) are imported inside the commands that
need them, so ``mnistlab --help`` stays fast.
"""

from __future__ import annotations

import sys

import click
import typer

# Importing the command modules registers their commands on ``app``.
from mnistlab.cli import corrupt as _corrupt  # noqa: F401  (registers commands)
from mnistlab.cli import data as _data  # noqa: F401  (registers commands)
from mnistlab.cli import models as _models  # noqa: F401  (registers commands)
from mnistlab.cli import morpho as _morpho  # noqa: F401  (registers commands)
from mnistlab.cli import report as _report  # noqa: F401  (registers commands)
from mnistlab.cli import scores as _scores  # noqa: F401  (registers commands)
from mnistlab.cli._app import app

__all__ = ["app", "main"]


# typer >= 0.2x vendors its own click: catch its exceptions as well as click's.
try:
    from typer import _click as _typer_click
    from typer import exceptions as _typer_exceptions

    _EXIT: tuple[type[BaseException], ...] = (click.exceptions.Exit, _typer_exceptions.Exit)
    _ABORT: tuple[type[BaseException], ...] = (click.exceptions.Abort, _typer_exceptions.Abort)
    _NO_ARGS: tuple[type[BaseException], ...] = (_typer_click.exceptions.NoArgsIsHelpError,)
    _USAGE: tuple[type[BaseException], ...] = (
        click.UsageError,
        _typer_click.exceptions.UsageError,
    )
    _CLICK: tuple[type[BaseException], ...] = (
        click.ClickException,
        _typer_click.exceptions.ClickException,
    )
except ImportError:  # pragma: no cover - older typer re-exports click's own exceptions
    _EXIT, _ABORT, _NO_ARGS = (click.exceptions.Exit,), (click.exceptions.Abort,), ()
    _USAGE, _CLICK = (click.UsageError,), (click.ClickException,)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 bad usage or input, 1 failure)."""
    from mnistlab.errors import MnistlabError

    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="mnistlab", standalone_mode=False)
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0))
    except _ABORT:
        print("mnistlab: aborted", file=sys.stderr)
        return 130
    except _NO_ARGS as exc:
        # ``mnistlab`` (or a group) without a command: show the help, as click does.
        ctx = getattr(exc, "ctx", None)
        print(ctx.get_help() if ctx is not None else str(exc))
        return 2
    except _USAGE as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx else ""
        message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
        print(f"mnistlab: error: {message}{hint}", file=sys.stderr)
        return 2
    except _CLICK as exc:
        message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
        print(f"mnistlab: error: {message}", file=sys.stderr)
        return 2
    except MnistlabError as exc:
        print(f"mnistlab: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        print(f"mnistlab: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mnistlab: interrupted", file=sys.stderr)
        return 130
    return 0


def _entry() -> None:
    sys.exit(main())
