"""mnistlab: stress-test and diagnose image classifiers on MNIST-like data.

The top-level package stays light so that ``mnistlab --help`` starts fast; import the
domain modules (``mnistlab.data``, ``mnistlab.corrupt``, ``mnistlab.morpho``, ...) directly.
"""

import os as _os
import sys as _sys

# Idle OpenMP threads (PyTorch, MKL) sleep instead of spinning: on a machine shared with other
# busy processes, spinning threads starve their own partners (mnistlab.threads). Read
# when OpenMP starts, so it is set before anything imports torch; an explicit value wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _started_as_command() -> bool:
    # ``mnistlab ...`` (the console script) or ``python -m mnistlab ...``, told apart from an
    # import by a notebook, a script or a test runner, whose signal handlers stay theirs.
    argv0 = _os.path.basename(_sys.argv[0]) if _sys.argv else ""
    orig = getattr(_sys, "orig_argv", [])
    return argv0 in ("mnistlab", "mnistlab.exe") or orig[1:3] == ["-m", "mnistlab"]


if _started_as_command():
    # From the command's first line on, a signal ends it with 130/143 and one line (not a
    # KeyboardInterrupt traceback while it starts, nor a silent kill).
    from mnistlab.shell import exit_on_signals as _exit_on_signals

    _exit_on_signals()

from mnistlab.errors import MnistlabError  # noqa: E402

__version__ = "0.1.0"

__all__ = ["MnistlabError", "__version__"]
