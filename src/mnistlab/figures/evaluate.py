"""Robustness figures: accuracy heatmap (corruption x severity) and reliability diagrams.

They draw the tables of :mod:`mnistlab.evaluate` (``accuracy_table``, ``reliability_table``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.figures import pyplot, save_figure

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CELL_FONT", "DPI", "plot_heatmap", "plot_reliability", "save"]

DPI = 110
#: Font size (pt) of the heatmap's cell values and row labels: 9 pt at ``DPI`` is 14 pixels,
#: still 12 when the report fits the figure into its 900-pixel column.
CELL_FONT = 9


def save(fig: object, path: str | os.PathLike[str]) -> Path:
    """Save a robustness figure at this module's ``DPI`` (atomically) and close it."""
    return save_figure(fig, path, dpi=DPI)


def plot_heatmap(acc: pd.DataFrame, model: str, path: str | os.PathLike[str]) -> Path:
    """Heatmap of accuracy by corruption (rows, sorted by mean accuracy) and severity (columns)."""
    plt = pyplot()

    mine = acc[(acc["model"] == model) & (acc["corruption"] != "identity")]
    grid = mine.pivot_table(index="corruption", columns="severity", values="accuracy")
    grid = grid.loc[grid.mean(axis=1).sort_values(ascending=False).index] if len(grid) else grid
    clean = acc[(acc["model"] == model) & (acc["corruption"] == "identity")]["accuracy"]
    height = max(2.5, 0.3 * len(grid) + 1.5)
    fig, ax = plt.subplots(figsize=(1.0 * max(grid.shape[1], 1) + 3, height))
    values = grid.to_numpy(dtype=float) if grid.size else np.zeros((0, 0))
    image = ax.imshow(
        values * 100 if values.size else np.zeros((1, 1)),
        vmin=0,
        vmax=100,
        cmap="viridis",
        aspect="auto",
    )
    ax.set_xticks(range(grid.shape[1]), [str(s) for s in grid.columns], fontsize=CELL_FONT)
    ax.set_yticks(range(grid.shape[0]), list(grid.index), fontsize=CELL_FONT)
    ax.set_xlabel("severity")
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(
                c,
                r,
                f"{100 * v:.0f}",
                ha="center",
                va="center",
                fontsize=CELL_FONT,
                color="w" if v < 0.6 else "k",
            )
    title = f"{model}: accuracy (%) by corruption and severity"
    if len(clean):
        title += f"\nclean: {100 * float(clean.iloc[0]):.1f}%"
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, label="accuracy (%)")
    return save(fig, path)


def plot_reliability(
    tables: dict[str, pd.DataFrame], path: str | os.PathLike[str], title: str = ""
) -> Path:
    """Reliability diagram: accuracy against confidence per bin, one line per named table."""
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration")
    for label, table in tables.items():
        used = table[table["count"] > 0]
        ax.plot(used["confidence"], used["accuracy"], marker="o", markersize=3, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top softmax probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or "reliability diagram", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return save(fig, path)
