"""Figures of the report, returned as PNG bytes (matplotlib, Agg backend).

The report inlines its figures, so they are encoded to bytes rather than saved
through :func:`mnistlab.figures.save_figure`; each is a bare ``matplotlib`` Figure
(no pyplot state, safe in threads) drawn by the Agg canvas, the backend that
:func:`mnistlab.figures.pyplot` selects. Every function takes plain arrays or
DataFrames and returns the encoded image, so the report can inline it and tests can decode
it. Figures are drawn small (``DPI``) to keep a full study's report well under its size
budget.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "HEATMAP_FONT",
    "accuracy_vs_hardness_png",
    "array_png",
    "embedding_png",
    "figure_png",
    "hardness_by_class_png",
    "hardness_hist_png",
    "heatmap_png",
    "image_grid_png",
    "morpho_png",
    "reliability_png",
]

DPI = 80
#: Font size (pt) of the heatmap's cell and tick labels: 11 pt at ``DPI`` is 12 pixels tall,
#: the size of the report's captions, read at 100 % zoom.
HEATMAP_FONT = 11


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot) has no global state and is safe in threads.
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def figure_png(fig: Figure) -> bytes:
    """Encode a matplotlib figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def array_png(image: NDArray[np.uint8]) -> bytes:
    """Encode a uint8 grey (H, W) or RGB (H, W, 3) array as PNG bytes (no figure)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buf, format="PNG", optimize=False, compress_level=6
    )
    return buf.getvalue()


def image_grid_png(
    cells: NDArray[np.uint8],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str = "",
    cell_titles: Sequence[Sequence[str]] | None = None,
    scale: float = 0.55,
) -> bytes:
    """A labelled grid of images: ``cells`` is uint8 (rows, cols, H, W), drawn as stored.

    The images keep the dataset's polarity (MNIST and Fashion-MNIST: light ink on black),
    the one the explorer shows, so a sample looks the same in the report and the explorer.
    ``cell_titles[r][c]`` (optional) is printed under each cell (e.g. the prediction).
    """
    rows, cols, h, w = cells.shape
    gap = 2
    canvas = np.full((rows * (h + gap), cols * (w + gap)), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            canvas[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = cells[
                r, c
            ]
    # Size the figure from the canvas so pixels stay square: ``scale`` inches per 28 pixels.
    inch = scale / 28.0
    extra = 0.22 * rows if cell_titles else 0.0
    fig = _figure(1.4 + canvas.shape[1] * inch, 0.5 + canvas.shape[0] * inch + extra)
    ax = fig.add_subplot()
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="auto")
    ax.set_yticks([r * (h + gap) + h / 2 for r in range(rows)], list(row_labels), fontsize=9)
    ax.set_xticks([c * (w + gap) + w / 2 for c in range(cols)], list(col_labels), fontsize=9)
    ax.tick_params(length=0)
    ax.xaxis.set_ticks_position("top")
    for spine in ax.spines.values():
        spine.set_visible(False)
    if cell_titles:
        for r in range(rows):
            for c in range(cols):
                ax.text(
                    c * (w + gap) + w / 2,
                    r * (h + gap) + h + 0.5,
                    cell_titles[r][c],
                    ha="center",
                    va="top",
                    fontsize=5.5,
                    color="#b00",
                )
    if title:
        ax.set_title(title, fontsize=9)
    return figure_png(fig)


def heatmap_png(
    table: pd.DataFrame, title: str, fmt: str = "{:.0%}", cmap: str = "RdYlGn"
) -> bytes:
    """Heatmap of a numeric table (rows x columns) with the values printed in the cells."""
    values = table.to_numpy(dtype=np.float64)
    rows, cols = values.shape
    # Sized so the labels stay HEATMAP_FONT pt (HEATMAP_FONT * DPI / 72 pixels) when the
    # report shows the figure unscaled: a 1400-pixel window fits 15 severity columns.
    fig = _figure(2.6 + 0.75 * cols, 1.0 + 0.32 * rows)
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(cols), [str(c) for c in table.columns], fontsize=HEATMAP_FONT)
    ax.set_yticks(range(rows), [str(r) for r in table.index], fontsize=HEATMAP_FONT)
    for r in range(rows):
        for c in range(cols):
            if np.isfinite(values[r, c]):
                ax.text(
                    c,
                    r,
                    fmt.format(values[r, c]),
                    ha="center",
                    va="center",
                    fontsize=HEATMAP_FONT,
                )
    ax.set_title(title, fontsize=HEATMAP_FONT + 1)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.ax.tick_params(labelsize=HEATMAP_FONT - 1)
    return figure_png(fig)


def reliability_png(curves: dict[str, dict[str, Any]]) -> bytes:
    """Reliability diagram: accuracy per confidence bin, one line per curve, with its ECE."""
    fig = _figure(4.6, 3.6)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for name, c in curves.items():
        ax.plot(
            c["confidence"], c["accuracy"], marker="o", ms=3, label=f"{name} (ECE {c['ece']:.3f})"
        )
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left")
    return figure_png(fig)


def _hist_by_correct(
    ax: Any, values: NDArray[np.float64], correct: NDArray[np.bool_], n_bins: int
) -> None:
    """Density histograms of the finite ``values`` of correct and of incorrect samples, on the
    same ``n_bins`` bins."""
    finite = np.isfinite(values)
    bins: Any = np.histogram_bin_edges(values[finite], bins=n_bins) if finite.any() else 10
    for part, label, color in ((correct, "correct", "#2a7"), (~correct, "incorrect", "#d33")):
        ax.hist(values[finite & part], bins=bins, alpha=0.6, density=True, label=label, color=color)


def hardness_hist_png(values: NDArray[np.float64], correct: NDArray[np.bool_], score: str) -> bytes:
    """Histograms of a score for correctly and incorrectly classified samples."""
    fig = _figure(4.6, 3.0)
    ax = fig.add_subplot()
    _hist_by_correct(ax, values, correct, 40)
    ax.set_xlabel(score)
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return figure_png(fig)


def hardness_by_class_png(
    values: NDArray[np.float64], labels: NDArray[np.int64], class_names: Sequence[str], score: str
) -> bytes:
    """Box plot of a score per true class."""
    fig = _figure(6.0, 3.0)
    ax = fig.add_subplot()
    data = [values[(labels == c) & np.isfinite(values)] for c in range(len(class_names))]
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(class_names) + 1), list(class_names), rotation=30, fontsize=7)
    ax.set_ylabel(score)
    return figure_png(fig)


def accuracy_vs_hardness_png(
    values: NDArray[np.float64], correct: NDArray[np.bool_], score: str, bins: int = 10
) -> bytes:
    """Accuracy per decile of a score (harder deciles should be less accurate)."""
    finite = np.isfinite(values)
    v, ok = values[finite], correct[finite]
    order = np.argsort(v, kind="stable")
    groups = np.array_split(order, bins) if len(v) >= bins else [order]
    centre = [float(np.median(v[g])) for g in groups if len(g)]
    acc = [float(ok[g].mean()) for g in groups if len(g)]
    fig = _figure(4.6, 3.0)
    ax = fig.add_subplot()
    ax.plot(range(1, len(acc) + 1), acc, marker="o")
    ax.set_xticks(range(1, len(acc) + 1), [f"{c:.2g}" for c in centre], fontsize=7, rotation=30)
    ax.set_xlabel(f"{score} (median of each decile, easy to hard)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    return figure_png(fig)


def morpho_png(table: pd.DataFrame, correct: NDArray[np.bool_], columns: Sequence[str]) -> bytes:
    """One histogram per morphometric, split by correct / incorrect."""
    cols = list(columns)
    ncol = 3
    nrow = max(1, -(-len(cols) // ncol))
    fig = _figure(7.2, 2.1 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    for ax, name in zip(axes.ravel(), cols, strict=False):
        _hist_by_correct(ax, table[name].to_numpy(dtype=np.float64), correct, 30)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes.ravel()[len(cols) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=6)
    return figure_png(fig)


def embedding_png(
    coords: dict[str, NDArray[np.float64]],
    labels: NDArray[np.int64],
    correct: NDArray[np.bool_],
    hardness: NDArray[np.float64] | None,
    class_names: Sequence[str],
    score: str | None,
) -> bytes:
    """Scatter of each 2-D embedding coloured by class, correctness and hardness."""
    kinds = list(coords)
    colourings = ["class", "correct", "hardness"] if hardness is not None else ["class", "correct"]
    fig = _figure(3.0 * len(colourings), 2.8 * len(kinds))
    axes = fig.subplots(len(kinds), len(colourings), squeeze=False)
    for r, kind in enumerate(kinds):
        xy = coords[kind]
        ok = np.isfinite(xy).all(axis=1)
        for c, colouring in enumerate(colourings):
            ax = axes[r, c]
            if colouring == "class":
                sc = ax.scatter(
                    xy[ok, 0],
                    xy[ok, 1],
                    c=labels[ok],
                    cmap="tab10",
                    s=2,
                    vmin=0,
                    vmax=9,
                    rasterized=True,
                )
                handles = [
                    ax.scatter([], [], color=sc.cmap(sc.norm(i)), s=8, label=n)
                    for i, n in enumerate(class_names)
                ]
                if r == 0:
                    ax.legend(
                        handles=handles,
                        fontsize=5,
                        markerscale=1,
                        loc="upper right",
                        framealpha=0.6,
                    )
            elif colouring == "correct":
                for flag, colour, name in ((True, "#9c9", "correct"), (False, "#d22", "incorrect")):
                    sel = ok & (correct == flag)
                    ax.scatter(
                        xy[sel, 0],
                        xy[sel, 1],
                        s=2 if flag else 4,
                        color=colour,
                        label=name,
                        rasterized=True,
                    )
                if r == 0:
                    ax.legend(fontsize=6, markerscale=3, loc="upper right")
            else:
                assert hardness is not None
                sc = ax.scatter(
                    xy[ok, 0], xy[ok, 1], c=hardness[ok], cmap="magma_r", s=2, rasterized=True
                )
                fig.colorbar(sc, ax=ax, shrink=0.8).ax.tick_params(labelsize=6)
            ax.set_title(
                f"{kind.upper()}: {colouring if colouring != 'hardness' else score}", fontsize=8
            )
            ax.set_xticks([])
            ax.set_yticks([])
    return figure_png(fig)
