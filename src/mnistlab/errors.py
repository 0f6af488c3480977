"""The one exception type users see for bad input."""

from __future__ import annotations


class MnistlabError(ValueError):
    """Bad input, a missing file or a malformed dataset.

    The message is one line that names what is wrong and where. The command line turns this
    exception into that line on stderr and exit code 2, with no traceback.
    """
