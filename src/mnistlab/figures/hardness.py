"""Figures of the hard-sample analyses and of the Fashion-MNIST-C protocol.

Every function takes the tables of :mod:`mnistlab.scores` (or images and their grid
positions) and writes one PNG; :mod:`mnistlab.workflows.hardness` and
:mod:`mnistlab.workflows.fmnist_c` call them next to the tables they plot.

Examples
--------
>>> import numpy as np, pandas as pd, tempfile, pathlib
>>> scores = pd.DataFrame({"variant": "clean", "entropy": [0.1, 0.9, 0.4],
...                        "correct": [True, False, True]})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "hist.png"
>>> plot_hardness_histogram(scores, "entropy", out)
>>> out.read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.figures import pyplot, save_figure
from mnistlab.scores.metrics import faults_found_curve

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "plot_accuracy_by_corruption",
    "plot_faults_found",
    "plot_hardness_histogram",
    "plot_image_grid",
    "plot_morpho_binned",
    "plot_per_class",
    "plot_severity",
    "save_tight",
]


def save_tight(fig: Any, path: str | os.PathLike[str], dpi: int = 100) -> Path:
    """Lay ``fig`` out tightly (``fig.tight_layout()``), save it as PNG atomically, close it.

    The figure keeps its size (no bounding-box cropping), so every PNG of one kind has the
    same pixel size.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> fig, ax = pyplot().subplots(figsize=(2, 1))
    >>> path = save_tight(fig, pathlib.Path(tempfile.mkdtemp()) / "empty.png")
    >>> path.suffix
    '.png'
    """
    fig.tight_layout()
    return save_figure(fig, path, dpi=dpi, tight=False)


def plot_hardness_histogram(scores: pd.DataFrame, score: str, path: str | os.PathLike[str]) -> None:
    """Histograms of ``score`` for correct and incorrect predictions (clean and all variants)."""
    plt = pyplot()
    panels = [("clean", scores[scores["variant"] == "clean"])]
    if scores["variant"].nunique() > 1:
        panels.append(("all variants", scores))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.4), squeeze=False)
    for ax, (title, g) in zip(axes[0], panels, strict=True):
        values = g[score].to_numpy(dtype=np.float64)
        ok = g["correct"].to_numpy(dtype=bool)
        if values.size:
            bins = np.histogram_bin_edges(values, bins=40)
            ax.hist(values[ok], bins=bins, alpha=0.6, density=True, label=f"correct ({ok.sum()})")
            ax.hist(
                values[~ok],
                bins=bins,
                alpha=0.6,
                density=True,
                label=f"incorrect ({(~ok).sum()})",
                color="C3",
            )
        ax.set_title(title)
        ax.set_xlabel(score)
        ax.set_ylabel("density")
        ax.legend()
    save_tight(fig, path)


def plot_per_class(table: pd.DataFrame, score: str, path: str | os.PathLike[str]) -> None:
    """Mean hardness and accuracy per class (the table of ``scores.analysis.per_class_table``)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels = table["name"] if "name" in table else table["class"].astype(str)
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["mean_hardness"], width=0.4, label=f"mean {score}", color="C3")
    ax.set_ylabel(f"mean {score}")
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, table["accuracy"], width=0.4, label="accuracy", color="C0")
    ax2.set_ylabel("accuracy")
    ax2.set_ylim(0, 1)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_title("hardness and accuracy per class (clean)")
    fig.legend(loc="upper right", fontsize=8)
    save_tight(fig, path)


def plot_image_grid(
    images: NDArray[np.uint8],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    n_rows: int,
    n_cols: int,
    path: str | os.PathLike[str],
    row_names: Sequence[str],
    captions: Sequence[str] | None = None,
    title: str = "",
) -> None:
    """Images placed at ``(rows[i], cols[i])`` of an ``n_rows x n_cols`` grid; PNG.

    The grid is one mosaic array drawn by a single ``imshow`` (one axes per image is ~50x
    slower to render), with captions under the cells and row names on the left.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> imgs = np.zeros((2, 28, 28), dtype=np.uint8)
    >>> plot_image_grid(imgs, np.array([0, 0]), np.array([0, 1]), 1, 2, out, ["row"])
    >>> out.is_file()
    True
    """
    plt = pyplot()
    h, w = (images.shape[1], images.shape[2]) if len(images) else (28, 28)
    pad_x, pad_y = 4, 16 if captions is not None else 4
    mosaic = np.full((n_rows * (h + pad_y), n_cols * (w + pad_x)), 255, dtype=np.uint8)
    for img, r, c in zip(images, rows, cols, strict=True):
        y0, x0 = int(r) * (h + pad_y), int(c) * (w + pad_x)
        # inverted (dark ink on white) so the grid reads like a page
        mosaic[y0 : y0 + h, x0 : x0 + w] = 255 - img
    fig_w = max(4.0, 0.55 * n_cols * (w + pad_x) / 28 + 1.4)
    fig_h = max(1.5, 0.55 * n_rows * (h + pad_y) / 28 + 0.5)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([(h + pad_y) * r + h / 2 for r in range(n_rows)], list(row_names), fontsize=7)
    for side in ax.spines.values():
        side.set_visible(False)
    if captions is not None:
        for cap, r, c in zip(captions, rows, cols, strict=True):
            ax.text(
                int(c) * (w + pad_x) + w / 2,
                int(r) * (h + pad_y) + h + 1,
                cap,
                ha="center",
                va="top",
                fontsize=4.5,
            )
    if title:
        ax.set_title(title, fontsize=9)
    save_tight(fig, path)


def plot_morpho_binned(
    joined: pd.DataFrame,
    metrics: Sequence[str],
    score: str,
    path: str | os.PathLike[str],
    bins: int = 10,
) -> None:
    """Mean ``score`` and error rate per decile of each morphometric (clean samples)."""
    import pandas as pd

    plt = pyplot()
    n = len(metrics)
    cols = min(3, n)
    nrows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, m in zip(axes.ravel(), metrics, strict=False):
        q = pd.qcut(joined[m], q=bins, duplicates="drop")
        g = joined.groupby(q, observed=True)
        centers = g[m].median().to_numpy()
        ax.plot(centers, g[score].mean().to_numpy(), marker="o", color="C3", label=f"mean {score}")
        ax.set_xlabel(m)
        ax.set_ylabel(f"mean {score}")
        ax2 = ax.twinx()
        ax2.plot(
            centers, 1 - g["correct"].mean().to_numpy(), marker="s", color="C0", label="error rate"
        )
        ax2.set_ylabel("error rate")
    fig.suptitle(f"{score} and error rate by morphometric decile (clean)", fontsize=10)
    save_tight(fig, path)


def plot_severity(by_family: pd.DataFrame, score: str, path: str | os.PathLike[str]) -> None:
    """Mean hardness and accuracy against severity, one line per corruption family."""
    import pandas as pd

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    clean = by_family[by_family["family"] == "clean"]
    for i, (family, g) in enumerate(by_family[by_family["family"] != "clean"].groupby("family")):
        g = g.sort_values("severity")
        if len(clean):
            g = pd.concat([clean, g], ignore_index=True)
        axes[0].plot(g["severity"], g["mean_hardness"], marker="o", label=family, color=f"C{i}")
        axes[1].plot(g["severity"], g["accuracy"], marker="o", label=family, color=f"C{i}")
    axes[0].set_ylabel(f"mean {score}")
    axes[1].set_ylabel("accuracy")
    for ax in axes:
        ax.set_xlabel("severity (0 = clean)")
    axes[1].legend(fontsize=7)
    fig.suptitle("hardness and accuracy against corruption family and severity", fontsize=10)
    save_tight(fig, path)


def plot_accuracy_by_corruption(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Accuracy of each ``(trained_on, model)`` on each corruption (horizontal bars)."""
    plt = pyplot()
    wide = table.pivot_table(
        index="corruption", columns=["trained_on", "model"], values="accuracy", sort=False
    ).sort_index()
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(wide) + 1.6))
    height = 0.8 / max(wide.shape[1], 1)
    y = np.arange(len(wide))
    for j, column in enumerate(wide.columns):
        trained_on, model = tuple(column)
        ax.barh(y + j * height, wide[column], height, label=f"{model} ({trained_on})")
    ax.set_yticks(y + height * (wide.shape[1] - 1) / 2, wide.index)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy on the corrupted test split")
    ax.set_title("Fashion-MNIST-C protocol: accuracy per corruption")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    save_tight(fig, path)


def plot_faults_found(
    scored: Sequence[tuple[str, pd.DataFrame]],
    methods: Sequence[str],
    seed: int,
    path: str | os.PathLike[str],
) -> None:
    """Share of misclassifications found vs share inspected, one panel per scores table.

    Each panel also draws a seeded random order and the ideal order.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, len(scored), figsize=(4.2 * len(scored), 4), squeeze=False)
    rng = np.random.default_rng(seed)
    for ax, (title, scores) in zip(axes[0], scored, strict=True):
        faults = ~scores["correct"].to_numpy(dtype=bool)
        curves = {m: scores[m].to_numpy(np.float64) for m in methods}
        curves["random"] = rng.random(len(scores))
        curves["ideal"] = faults.astype(np.float64)
        for name, values in curves.items():
            x, y = faults_found_curve(values, faults)
            style = {"ideal": ":", "random": "--"}.get(name, "-")
            ax.plot(x, y, style, label=name, lw=1.2)
        ax.set_title(f"{title}\naccuracy {1 - faults.mean():.3f}", fontsize=9)
        ax.set_xlabel("share of test inputs inspected")
        ax.set_ylabel("share of misclassifications found")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    save_tight(fig, path)
