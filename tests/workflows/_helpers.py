"""What the workflow tests (and the command-line tests of the same workflows) check for."""

from __future__ import annotations

from pathlib import Path

# The folder written by :func:`mnistlab.workflows.active.write_active_learning`, sorted.
ACTIVE_LEARNING_FILES = [
    "iterative.csv",
    "learning_curve.png",
    "one_shot.csv",
    "one_shot.png",
    "one_shot_summary.csv",
    "one_shot_summary.md",
]


def files_in(folder: Path) -> list[str]:
    """The sorted names in ``folder``, hidden ones (``.name``) left out."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
