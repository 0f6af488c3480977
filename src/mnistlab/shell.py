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

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from mnistlab.errors import Interrupted

__all__ = [
    "exit_now",
    "exit_on_signals",
    "exit_status",
    "handle_signals",
    "one_line",
    "register_exit",
    "report_exit",
]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_WORDS: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
#: Seconds the cleanup after a first signal may take before the process ends regardless.
DEADLINE = 5.0


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


def exit_now(signum: int, prog: str = "mnistlab") -> None:
    """End the process at once with ``128 + signum`` and its one line, whatever it was doing.

    This process's temporary ``.part`` entries are removed first; no Python cleanup,
    ``finally`` block or exit handler runs (one of them may be what hangs).
    """
    with contextlib.suppress(BaseException):
        atomic = sys.modules.get("mnistlab._atomic")
        if atomic is not None:
            atomic.remove_live_parts()
    with contextlib.suppress(BaseException):
        os.write(2, f"\n{prog}: {_WORDS.get(signum, 'interrupted')}\n".encode())
    os._exit(128 + signum)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    exit_now(signum)


def exit_on_signals() -> None:
    """From now on SIGINT and SIGTERM end the process at once (:func:`exit_now`).

    A command-line program calls it first thing, so that a signal while it starts (before
    any work, nothing to clean up) or once its work is done (while the interpreter shuts
    down) still exits with 130 or 143 and its line, never with a traceback or silently.
    :func:`handle_signals` takes over while the work runs.
    """
    if threading.current_thread() is threading.main_thread():
        for s in _SIGNALS:
            signal.signal(s, _exit_on_signal)


class _Handler:
    """The signal handler of one :func:`handle_signals` block."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.timer: threading.Timer | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        # The first signal raises where the work is, so its cleanup (temporary files, worker
        # pools) runs, within ``deadline`` seconds; a second signal during that cleanup
        # (a double Ctrl-C: the user insists) ends the process at once.
        if self.timer is not None:
            exit_now(signum)
        if self.deadline is not None:
            self.timer = threading.Timer(self.deadline, exit_now, (signum,))
            self.timer.daemon = True
            self.timer.start()
        else:
            self.timer = threading.Timer(0, lambda: None)  # marks the first signal as seen
        raise Interrupted(signum)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def _ours(handler: object) -> bool:
    return handler is _exit_on_signal or isinstance(handler, _Handler)


def _after_fork_in_child() -> None:
    # A forked child (a worker of a library's process pool: cleanlab, scikit-learn, ours)
    # must not run this process's handlers: SIGTERM from its pool's shutdown would print an
    # Interrupted traceback, and Ctrl-C (sent to the whole process group) is the parent's to
    # handle. The child ignores SIGINT and dies quietly on SIGTERM, unless it sets its own.
    with contextlib.suppress(ValueError, OSError):
        if _ours(signal.getsignal(signal.SIGINT)):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if _ours(signal.getsignal(signal.SIGTERM)):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def handle_signals(deadline: float | None = None) -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`~mnistlab.errors.Interrupted` inside the block.

    Only in the main thread (elsewhere the block changes nothing); the previous handlers
    are restored when the block ends. A second signal inside the block ends the process at
    once (:func:`exit_now`), and so does the first one's ``deadline`` (seconds) when the
    cleanup it started is not over by then: an interrupt never hangs.

    Parameters
    ----------
    deadline : float, optional
        Seconds the cleanup after the first signal may take (default: no limit; the command
        line gives :data:`DEADLINE`).

    Yields
    ------
    None

    Examples
    --------
    >>> import os, signal
    >>> try:
    ...     with handle_signals():
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         for _ in range(10**7):
    ...             pass
    ... except Interrupted as stop:
    ...     print(stop.exit_code)
    143
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _Handler(deadline)
    previous = {s: signal.signal(s, handler) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
        handler.cancel()


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
