"""``python -m mnistlab`` and the ``mnistlab`` console script: the command line.

This module imports nothing heavy before :func:`mnistlab.shell.exit_on_signals` is in place,
so a signal at any moment of the process's life, from its first line to its last, ends it
with 130 (SIGINT) or 143 (SIGTERM) and one line.
"""

import contextlib
import sys

from mnistlab.shell import DEADLINE, exit_on_signals


def entry() -> None:
    """Run the command line with ``sys.argv``; exit with its code.

    After an interrupt the process ends with ``os._exit`` once its line is printed: the
    interpreter's exit handlers (thread joins of killed worker pools) cannot hang it.
    """
    exit_on_signals()
    from mnistlab.cli import main

    code = main(deadline=DEADLINE)
    if code in (130, 143):
        import os

        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
