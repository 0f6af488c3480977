"""The exception types users see: bad input, and an interrupt by a signal."""

from __future__ import annotations

import signal


class MnistlabError(ValueError):
    """Bad input, a missing file or a malformed dataset.

    The message is one line that names what is wrong and where. The command line turns this
    exception into that line on stderr and exit code 2, with no traceback.
    """


class Interrupted(KeyboardInterrupt):
    """The process got SIGINT (Ctrl-C) or SIGTERM; raised where it was working.

    A subclass of :class:`KeyboardInterrupt`, so every cleanup that runs on Ctrl-C (temporary
    files, worker pools) runs on SIGTERM too. The command line exits with ``128 + signum``
    (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def exit_code(self) -> int:
        """``128 + signum``, the shell's convention for a process ended by a signal."""
        return 128 + self.signum
