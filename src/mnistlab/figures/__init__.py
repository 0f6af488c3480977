"""Figures: the one home of every plot and image grid mnistlab draws.

Domain packages (``data``, ``corrupt``, ``morpho``, ``models``, ``scores``, ``evaluate``,
``compare``) return arrays and tables; the figures of those tables live here, one module per
subject, and the workflows write them next to the tables. The matplotlib backend is chosen once,
here (``Agg``: files only, no display needed), and every figure is saved through
:func:`save_figure` (atomic: a reader never sees half a PNG).

Examples
--------
>>> from mnistlab.figures import pyplot, save_figure
>>> plt = pyplot()
>>> fig, ax = plt.subplots(figsize=(2, 2))
>>> _ = ax.plot([0, 1], [0, 1])
>>> import tempfile, pathlib
>>> path = save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "line.png")
>>> path.read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["DPI", "pyplot", "save_figure"]

#: Resolution of every saved figure.
DPI = 100
_PYPLOT: Any = None


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the ``Agg`` backend, chosen once per process.

    Imported on first use: commands that draw nothing never pay for matplotlib.
    """
    global _PYPLOT
    if _PYPLOT is None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        _PYPLOT = plt
    return _PYPLOT


def save_figure(
    fig: Any, path: str | os.PathLike[str], *, dpi: int = DPI, tight: bool = True
) -> Path:
    """Save ``fig`` as PNG at ``path`` atomically and close it; returns the path."""
    from mnistlab._atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    pyplot().close(fig)
    return Path(path)
