"""Figures of model comparisons (:mod:`mnistlab.compare`): the per-cell delta heatmap."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.figures import pyplot
from mnistlab.figures.evaluate import CELL_FONT, save

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plot_delta_heatmap"]


def plot_delta_heatmap(cells: pd.DataFrame, path: str | os.PathLike[str], title: str) -> Path:
    """Heatmap of ``delta`` (percentage points) by corruption x severity; ``*`` = significant.

    ``cells`` is one pair's rows of the ``cells`` table (the clean row is left out).
    """
    plt = pyplot()

    mine = cells[cells["corruption"] != "identity"]
    grid = mine.pivot(index="corruption", columns="severity", values="delta") * 100
    sig = mine.pivot(index="corruption", columns="severity", values="significant")
    order = grid.mean(axis=1).sort_values().index
    grid, sig = grid.loc[order], sig.loc[order]
    limit = max(1.0, float(np.nanmax(np.abs(grid.to_numpy()))) if grid.size else 1.0)
    fig, ax = plt.subplots(figsize=(1.2 + 0.75 * grid.shape[1], 0.9 + 0.32 * grid.shape[0]))
    values = grid.to_numpy(dtype=np.float64)
    marks = sig.fillna(False).to_numpy(dtype=bool)
    im = ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = float(values[i, j])
            if not np.isnan(v):
                star = "*" if marks[i, j] else ""
                ax.text(j, i, f"{v:+.1f}{star}", ha="center", va="center", fontsize=CELL_FONT)
    ax.set_xticks(range(grid.shape[1]), [f"s{s}" for s in grid.columns])
    ax.set_yticks(range(grid.shape[0]), list(grid.index), fontsize=CELL_FONT)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="accuracy difference (points)")
    return save(fig, path)
