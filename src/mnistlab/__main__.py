"""``python -m mnistlab``: the command line."""

import sys

try:
    from mnistlab.cli import entry
except KeyboardInterrupt:  # Ctrl-C while starting up: nothing was written yet
    print("\nmnistlab: interrupted", file=sys.stderr)
    sys.exit(130)

entry()
