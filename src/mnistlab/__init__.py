"""mnistlab: stress-test and diagnose image classifiers on MNIST-like data.

The top-level package stays light so that ``mnistlab --help`` starts fast; import the
domain modules (``mnistlab.data``, ``mnistlab.corrupt``, ``mnistlab.morpho``, ...) directly.
"""

from mnistlab.errors import MnistlabError

__version__ = "0.1.0"

__all__ = ["MnistlabError", "__version__"]
