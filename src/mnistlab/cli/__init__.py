"""Command line: ``mnistlab COMMAND``. Each command is a thin call into the Python API.

Exit codes: 0 success; 2 bad usage, bad input or a failed write (one line on stderr, never a
traceback); 130 interrupted by SIGINT (Ctrl-C, ``mnistlab: interrupted``); 143 ended by
SIGTERM (``mnistlab: terminated``); 1 an internal error. An interrupted command removes its
temporary files and leaves no output that looks finished (outputs are renamed into place
only once complete). Heavy libraries (torch, scikit-learn, dask, ...) are imported inside
the commands that need them, so ``mnistlab --help`` stays fast.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
import typer

# Importing the command modules registers their commands on ``app``.
from mnistlab.cli import compare as _compare  # noqa: F401  (registers commands)
from mnistlab.cli import corrupt as _corrupt  # noqa: F401  (registers commands)
from mnistlab.cli import data as _data  # noqa: F401  (registers commands)
from mnistlab.cli import models as _models  # noqa: F401  (registers commands)
from mnistlab.cli import morpho as _morpho  # noqa: F401  (registers commands)
from mnistlab.cli import report as _report  # noqa: F401  (registers commands)
from mnistlab.cli import scores as _scores  # noqa: F401  (registers commands)
from mnistlab.cli._app import app
from mnistlab.errors import Interrupted, MnistlabError

__all__ = ["app", "entry", "main"]


# typer >= 0.2x vendors its own click: catch its exceptions as well as click's. Its classes
# are reached through public names (typer.Exit, typer.Abort, the bases of typer.BadParameter).
_TYPER_USAGE: type[BaseException] = typer.BadParameter.__base__  # type: ignore[assignment]
_TYPER_CLICK: type[BaseException] = _TYPER_USAGE.__base__  # type: ignore[assignment]
_EXIT: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)
_ABORT: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)
_USAGE: tuple[type[BaseException], ...] = (click.UsageError, _TYPER_USAGE)
_CLICK: tuple[type[BaseException], ...] = (click.ClickException, _TYPER_CLICK)


def _no_args(exc: BaseException) -> bool:
    """A group or ``mnistlab`` called without a command (click's NoArgsIsHelpError)."""
    return type(exc).__name__ == "NoArgsIsHelpError"


_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_MESSAGES: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # The first signal raises where the command is working, so its cleanup (temporary files,
    # worker pools) runs. A second SIGINT during that cleanup is ignored; a second SIGTERM
    # ends the process at once (something hangs), still with 143.
    if getattr(_on_signal, "fired", False):
        if signum == signal.SIGTERM:
            os._exit(128 + signum)
        return
    _on_signal.fired = True  # type: ignore[attr-defined]
    raise Interrupted(signum)


@contextmanager
def _signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _on_signal.fired = False  # type: ignore[attr-defined]
    previous = {s: signal.signal(s, _on_signal) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error(exc: OSError) -> str:
    where = f"{os.fspath(exc.filename)}: " if exc.filename else ""
    return f"{where}{exc.strerror or _one_line(str(exc)) or type(exc).__name__}"


def _interrupt_code(exc: BaseException) -> int:
    atomic = sys.modules.get("mnistlab._atomic")
    if atomic is not None:  # what a signal between a with-statement's enter and body left
        atomic.remove_live_parts()
    signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
    # On a line of its own: a progress bar may have been cut mid-line (click does the same).
    print(f"\nmnistlab: {_MESSAGES.get(signum, 'interrupted')}", file=sys.stderr)
    return 128 + signum


def _run(argv: list[str] | None) -> Any:
    # Not ``command.main``: click turns KeyboardInterrupt into Exit(130) or Abort and EOFError
    # into Abort, which would hide an interrupt or fake one; here both arrive as they are.
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    with command.make_context("mnistlab", args) as ctx:
        return command.invoke(ctx)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    try:
        with _signals():
            try:
                result = _run(argv)
            except KeyboardInterrupt as exc:
                return _interrupt_code(exc)
    except KeyboardInterrupt as exc:  # a signal between the command's end and the restore
        return _interrupt_code(exc)
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _ABORT:
        print("mnistlab: aborted", file=sys.stderr)
        return 1
    except _USAGE as exc:
        ctx = getattr(exc, "ctx", None)
        if _no_args(exc):  # ``mnistlab`` (or a group) without a command: the help, as click
            print(ctx.get_help() if ctx is not None else str(exc))
            return 2
        hint = f" (see '{ctx.command_path} --help')" if ctx else ""
        message = _one_line(exc.format_message())  # type: ignore[attr-defined]
        print(f"mnistlab: error: {message}{hint}", file=sys.stderr)
        return 2
    except _CLICK as exc:
        message = _one_line(exc.format_message())  # type: ignore[attr-defined]
        print(f"mnistlab: error: {message}", file=sys.stderr)
        return 2
    except MnistlabError as exc:
        print(f"mnistlab: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # ``mnistlab corruptions | head``: the reader left
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (no flush error at exit)
        return 1
    except OSError as exc:
        print(f"mnistlab: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except EOFError as exc:
        print(f"mnistlab: error: unexpected end of file ({exc})", file=sys.stderr)
        return 2
    except (ValueError, OverflowError) as exc:  # a check missed by the library: still one line
        print(f"mnistlab: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    return 0


def entry() -> None:
    """The console script `mnistlab`: :func:`main` with sys.argv, exiting with its code."""
    sys.exit(main())
