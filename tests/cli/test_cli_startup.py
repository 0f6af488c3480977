"""``mnistlab --help`` stays fast: the CLI modules import no heavy library at startup."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pandas", "torch", "sklearn", "scipy", "distributed", "rich", "matplotlib")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from mnistlab.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): rc = main(['--help'])\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(rc, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0 []", done.stdout
