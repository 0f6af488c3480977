"""Command line: ``mnistlab COMMAND``, each command a thin call into the Python API.

Exit codes (:mod:`mnistlab.shell`): 0 success; 2 bad usage, bad input or a failed write (one
line on stderr); 130 Ctrl-C, 143 SIGTERM (temporary files removed, no output that looks
finished); 1 an internal error. Commands import heavy libraries only when they run.
"""

import sys
from typing import Any

import typer

# Importing the command modules registers their commands on ``app``.
from mnistlab.cli import data, generative, models, report, scores, variants  # noqa: F401
from mnistlab.cli._app import app
from mnistlab.shell import handle_signals, one_line, register_exit, report_exit

__all__ = ["app", "main"]

# typer vendors its own click; its classes are reached through public names (typer.Exit,
# typer.Abort, and ClickException: the base of typer.BadParameter's base, UsageError).
_CLICK: Any = typer.BadParameter.__mro__[2]


def _click_error(exc: Any) -> tuple[int, str]:
    ctx = getattr(exc, "ctx", None)  # a usage error's command
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group without a command: its help
        print(ctx.get_help() if ctx is not None else str(exc))
        return 2, ""
    hint = f" (see '{ctx.command_path} --help')" if ctx else ""
    return 2, f"error: {one_line(exc.format_message())}{hint}"


# How click's exceptions end the process; mnistlab.shell knows the others.
register_exit(_CLICK, _click_error)
register_exit(typer.Abort, lambda exc: (1, "aborted"))
register_exit(typer.Exit, lambda exc: (int(getattr(exc, "exit_code", 0) or 0), ""))


def _run(argv: list[str] | None) -> Any:
    # Not ``command.main``: click turns KeyboardInterrupt into Exit(130) or Abort and EOFError
    # into Abort, which would hide an interrupt or fake one; here both arrive as they are.
    command = typer.main.get_command(app)
    with command.make_context("mnistlab", list(sys.argv[1:] if argv is None else argv)) as ctx:
        return command.invoke(ctx)


def main(argv: list[str] | None = None, deadline: float | None = None) -> int:
    """Run the command line; return the exit code (see the module docstring).

    ``deadline``: seconds the cleanup after a signal may take before the process ends
    regardless (:func:`mnistlab.shell.handle_signals`; the ``mnistlab`` program gives 5).
    """
    try:
        with handle_signals(deadline):
            result = _run(argv)
    except BaseException as exc:  # mnistlab.shell: its exit code, or raised again (a bug)
        return report_exit(exc)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0
