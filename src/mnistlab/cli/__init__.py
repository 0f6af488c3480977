"""Command line: ``mnistlab COMMAND``. Each command is a thin call into the Python API.

Exit codes: 0 success; 2 bad usage, bad input or a failed write (one line on stderr, never a
traceback); 130 interrupted by SIGINT (Ctrl-C, ``mnistlab: interrupted``); 143 ended by
SIGTERM (``mnistlab: terminated``); 1 an internal error. An interrupted command removes its
temporary files and leaves no output that looks finished (outputs are renamed into place
only once complete); see :mod:`mnistlab.shell`. Heavy libraries (torch, scikit-learn,
dask, ...) are imported inside the commands that need them, so ``mnistlab --help`` is fast.
"""

import sys
from typing import Any

import typer

# Importing the command modules registers their commands on ``app``.
from mnistlab.cli import corrupt, data, models, morpho, report, scores  # noqa: F401
from mnistlab.cli._app import app
from mnistlab.shell import handle_signals, one_line, report_exit

__all__ = ["app", "entry", "main"]

# typer vendors its own click; its classes are reached through public names (typer.Exit,
# typer.Abort, the bases of typer.BadParameter: UsageError, ClickException).
_USAGE: Any = typer.BadParameter.__base__
_CLICK: Any = _USAGE.__base__


def _usage(exc: Any) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group without a command: its help
        print(ctx.get_help() if ctx is not None else str(exc))
        return 2
    hint = f" (see '{ctx.command_path} --help')" if ctx else ""
    print(f"mnistlab: error: {one_line(exc.format_message())}{hint}", file=sys.stderr)
    return 2


def _run(argv: list[str] | None) -> Any:
    # Not ``command.main``: click turns KeyboardInterrupt into Exit(130) or Abort and EOFError
    # into Abort, which would hide an interrupt or fake one; here both arrive as they are.
    command = typer.main.get_command(app)
    with command.make_context("mnistlab", list(sys.argv[1:] if argv is None else argv)) as ctx:
        return command.invoke(ctx)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    try:
        with handle_signals():
            result = _run(argv)
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.Abort:
        print("mnistlab: aborted", file=sys.stderr)
        return 1
    except _USAGE as exc:
        return _usage(exc)
    except _CLICK as exc:
        print(f"mnistlab: error: {one_line(exc.format_message())}", file=sys.stderr)
        return 2
    except BaseException as exc:  # interrupts, bad input, OS errors: mnistlab.shell
        if isinstance(exc, SystemExit):
            raise
        return report_exit(exc)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def entry() -> None:
    """The console script `mnistlab`: :func:`main` with sys.argv, exiting with its code."""
    sys.exit(main())
