"""How a process doing mnistlab work ends: signals, exit codes and one-line messages.

Any front end (the ``mnistlab`` command, a script, a notebook cell) wraps its work in
:func:`handle_signals`, so that SIGINT and SIGTERM raise :class:`~mnistlab.errors.Interrupted`
where the work is and every cleanup runs, and turns what escapes into an exit code and one
line with :func:`exit_status`:

- :class:`~mnistlab.errors.Interrupted` or KeyboardInterrupt: ``128 + signum`` (130 for
  SIGINT, 143 for SIGTERM), ``interrupted`` or ``terminated``;
- :class:`~mnistlab.errors.MnistlabError` (and any ValueError): 2, its text on one line;
- OSError (a failed read or write, a full disk): 2, ``PATH: reason``;
- EOFError (a truncated file): 2, ``unexpected end of file (...)``;
- BrokenPipeError (``mnistlab corruptions | head``: the reader left): 1, nothing.

Examples
--------
>>> from mnistlab.errors import MnistlabError
>>> exit_status(MnistlabError("--seed: expected an integer,\\n got x"))
(2, 'error: --seed: expected an integer, got x')
>>> exit_status(FileNotFoundError(2, "No such file or directory", "/data/x.npz"))
(2, 'error: /data/x.npz: No such file or directory')
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from mnistlab.errors import Interrupted

__all__ = ["exit_status", "handle_signals", "one_line", "register_exit", "report_exit"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_WORDS: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    # The first signal raises where the work is, so its cleanup (temporary files, worker
    # pools) runs. A second SIGINT during that cleanup is ignored; a second SIGTERM ends the
    # process at once (something hangs), still with 143.
    if getattr(_on_signal, "fired", False):
        if signum == signal.SIGTERM:
            os._exit(128 + signum)
        return
    _on_signal.fired = True  # type: ignore[attr-defined]
    raise Interrupted(signum)


@contextmanager
def handle_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`~mnistlab.errors.Interrupted` inside the block.

    Only in the main thread (elsewhere the block changes nothing); the previous handlers
    are restored when the block ends.
    """
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


def _interrupted(exc: BaseException) -> tuple[int, str]:
    atomic = sys.modules.get("mnistlab._atomic")
    if atomic is not None:  # what a signal between a with-statement's enter and body left
        atomic.remove_live_parts()
    signum = exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)
    return 128 + signum, _WORDS.get(signum, "interrupted")


def _broken_pipe(_exc: BaseException) -> tuple[int, str]:
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (no flush error at exit)
    return 1, ""


def _os_error(exc: BaseException) -> tuple[int, str]:
    assert isinstance(exc, OSError)
    where = f"{os.fspath(exc.filename)}: " if exc.filename else ""
    return 2, f"error: {where}{exc.strerror or one_line(exc) or type(exc).__name__}"


#: Exception type -> how it ends the process; the first entry that matches wins.
_Kind = type[BaseException] | tuple[type[BaseException], ...]
EXIT_STATUS: list[tuple[_Kind, Callable[[BaseException], tuple[int, str]]]] = [
    (KeyboardInterrupt, _interrupted),
    (BrokenPipeError, _broken_pipe),
    (OSError, _os_error),
    (EOFError, lambda exc: (2, f"error: unexpected end of file ({exc})")),
    # MnistlabError is a ValueError; a check missed by the library still gives one line.
    ((ValueError, OverflowError), lambda exc: (2, f"error: {one_line(exc)}")),
]


def register_exit(kind: _Kind, status: Callable[[BaseException], tuple[int, str]]) -> None:
    """Let ``status`` say how ``kind`` ends the process (before the entries already known).

    A front end registers the exceptions of its own library (the CLI: click's).

    >>> class Quit(Exception): ...
    >>> register_exit(Quit, lambda exc: (3, "quit"))
    >>> exit_status(Quit())
    (3, 'quit')
    """
    EXIT_STATUS.insert(0, (kind, status))


def exit_status(exc: BaseException) -> tuple[int, str] | None:
    """The exit code and message (without the ``mnistlab:`` prefix; empty: print nothing)
    that ``exc`` ends a process with, or None for an unexpected error (a bug: let it raise).
    """
    for kind, status in EXIT_STATUS:
        if isinstance(exc, kind):
            return status(exc)
    return None


def report_exit(exc: BaseException, prog: str = "mnistlab") -> int:
    """Print ``exc``'s one line (``PROG: MESSAGE``) on stderr and return its exit code.

    An unexpected error (:func:`exit_status` is None) is raised again, with its traceback.
    """
    status = exit_status(exc)
    if status is None:
        raise exc
    code, message = status
    if message:
        # An interrupt's line stands on a line of its own: a progress bar may have been cut.
        start = "\n" if isinstance(exc, KeyboardInterrupt) else ""
        print(f"{start}{prog}: {message}", file=sys.stderr)
    return code
