"""mnistlab: stress-test and diagnose image classifiers on MNIST-like data.

The top-level package stays light so that ``mnistlab --help`` starts fast; import the
domain modules (``mnistlab.data``, ``mnistlab.corrupt``, ``mnistlab.morpho``, ...) directly.
"""

import os as _os

# Idle OpenMP threads (PyTorch, MKL) sleep instead of spinning: on a machine shared with other
# busy processes, spinning threads starve their own partners (mnistlab.threads). Read
# when OpenMP starts, so it is set before anything imports torch; an explicit value wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from mnistlab.errors import MnistlabError

__version__ = "0.1.0"

__all__ = ["MnistlabError", "__version__"]
