"""``python -m mnistlab``: the command line."""

from mnistlab.cli import _entry

_entry()
