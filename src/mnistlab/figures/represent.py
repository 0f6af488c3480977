"""Figures of the representation diagnostics (``mnistlab diversity`` and ``disentangle``).

Every function takes tables or arrays (morphometrics, a matrix of correlations, decoded
images) and writes one PNG atomically through :func:`mnistlab.figures.save_figure`:

- :func:`plot_density_overlays`: the distribution of each morphometric in the reference and
  in the samples, one panel per metric (Gaussian KDE, a histogram where a KDE is undefined);
- :func:`plot_pair_plot`: every pair of metrics, reference and samples overlaid;
- :func:`plot_matrix_heatmap`: a codes x morphometrics matrix (partial correlations with a
  diverging, colour-blind-safe colormap centred on 0; mutual information with a sequential
  one), the value written in every cell and a colour bar in the cells' unit;
- :func:`plot_class_histogram`: the share of each predicted class, reference and samples;
- :func:`plot_traversal_grid`: decoded images of a latent traversal, a row per code;
- :func:`plot_traversal_metrics`: each morphometric's mean (and standard deviation) against the
  traversal step, a line per code.

All text is at least 9 pt at the saved size (:data:`FONT`); the two groups are drawn in the
Okabe-Ito blue and vermillion, which stay apart for the common colour-vision deficiencies.

Examples
--------
>>> import numpy as np, pandas as pd, tempfile, pathlib
>>> rng = np.random.default_rng(0)
>>> ref = pd.DataFrame({"thickness": rng.normal(2.5, 0.5, 200), "slant": rng.normal(0, 0.2, 200)})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "density.png"
>>> plot_density_overlays(ref, ref * 1.2, out).read_bytes()[:4] == b"\\x89PNG"
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.errors import MnistlabError
from mnistlab.figures import pyplot, save_figure

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COLOURS",
    "FONT",
    "plot_class_histogram",
    "plot_density_overlays",
    "plot_matrix_heatmap",
    "plot_pair_plot",
    "plot_traversal_grid",
    "plot_traversal_metrics",
]

#: Smallest font size (pt) of any text in these figures.
FONT = 9
#: Reference and samples: Okabe-Ito blue and vermillion (colour-blind safe).
COLOURS = ("#0072B2", "#D55E00")
#: Line colours of the codes in traversal plots (Okabe-Ito), with line styles beyond eight.
_CYCLE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_STYLES = ("-", "--", ":", "-.")
_KDE_POINTS = 256


def _numeric(column: Any) -> bool:
    """Whether a table column holds numbers (not booleans)."""
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def _columns(
    table: pd.DataFrame, other: pd.DataFrame | None, metrics: Sequence[str] | None
) -> list[str]:
    if metrics is None:
        metrics = [
            str(c)
            for c in table.columns
            if str(c) not in ("index", "sample_id") and _numeric(table[c])
        ]
    chosen = list(metrics)
    if not chosen:
        raise MnistlabError("no metric to plot")
    for c in chosen:
        if c not in table.columns or (other is not None and c not in other.columns):
            raise MnistlabError(f"no column {c!r} to plot")
    return chosen


def _finite(values: Any) -> NDArray[np.float64]:
    v = np.asarray(values, dtype=np.float64)
    return v[np.isfinite(v)]


def _density(
    ax: Any, values: NDArray[np.float64], grid: NDArray[np.float64], colour: str, label: str
) -> None:
    """A Gaussian KDE of ``values`` on ``grid``; a histogram where the KDE is undefined."""
    from scipy.stats import gaussian_kde

    if values.size >= 2 and np.ptp(values) > 0:
        try:
            y = gaussian_kde(values)(grid)
        except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - degenerate values
            y = None
        if y is not None:
            ax.plot(grid, y, color=colour, lw=1.6, label=label)
            ax.fill_between(grid, y, color=colour, alpha=0.18, lw=0)
            return
    if values.size:
        ax.hist(values, bins=20, density=True, histtype="step", color=colour, lw=1.6, label=label)


def plot_density_overlays(
    reference: pd.DataFrame,
    samples: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    metrics: Sequence[str] | None = None,
    stats: pd.DataFrame | None = None,
    labels: tuple[str, str] = ("reference", "samples"),
) -> Path:
    """One panel per metric: the reference's and the samples' densities overlaid.

    Parameters
    ----------
    reference, samples : pandas.DataFrame
        Morphometrics tables (one row per image).
    path : path-like
        The PNG to write.
    metrics : sequence of str, optional
        Columns to draw (default: every numeric column except ``index`` and ``sample_id``).
    stats : pandas.DataFrame, optional
        Indexed by metric, with ``wasserstein`` and ``mmd_pvalue`` (the ``metrics.csv`` of
        ``diversity``): written in each panel's title.
    labels : (str, str)
        Legend names of the two tables.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MnistlabError
        A metric missing from either table.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> t = pd.DataFrame({"area": [1.0, 2.0, 3.0, 2.5]})
    >>> plot_density_overlays(t, t + 1, pathlib.Path(tempfile.mkdtemp()) / "d.png").suffix
    '.png'
    """
    plt = pyplot()
    cols = _columns(reference, samples, metrics)
    n = len(cols)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    for ax, col in zip(axes.ravel(), cols, strict=False):
        a, b = _finite(reference[col]), _finite(samples[col])
        both = np.concatenate([a, b])
        if both.size:
            lo, hi = np.percentile(both, [0.5, 99.5])
            pad = 0.1 * (hi - lo) if hi > lo else 1.0
            grid = np.linspace(lo - pad, hi + pad, _KDE_POINTS)
            _density(ax, a, grid, COLOURS[0], f"{labels[0]} ({a.size})")
            _density(ax, b, grid, COLOURS[1], f"{labels[1]} ({b.size})")
            ax.set_xlim(grid[0], grid[-1])
        title = col
        if stats is not None and col in stats.index:
            row = stats.loc[col]
            parts = []
            if "wasserstein" in row and np.isfinite(row["wasserstein"]):
                parts.append(f"W1 {row['wasserstein']:.3g}")
            if "mmd_pvalue" in row and np.isfinite(row["mmd_pvalue"]):
                parts.append(f"MMD p {row['mmd_pvalue']:.3g}")
            if parts:
                title = f"{col}: " + ", ".join(parts)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(col, fontsize=FONT + 1)
        ax.set_ylabel("density", fontsize=FONT + 1)
        ax.tick_params(labelsize=FONT)
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="upper center", ncol=2, fontsize=FONT + 1, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.94 if nrows > 1 else 0.9))
    return save_figure(fig, path, tight=False)


def _subset(
    table: pd.DataFrame, cols: list[str], max_points: int, seed: int
) -> NDArray[np.float64]:
    values = table[cols].to_numpy(dtype=np.float64)
    values = values[np.isfinite(values).all(axis=1)]
    if len(values) > max_points:
        keep = np.random.default_rng(seed).choice(len(values), max_points, replace=False)
        values = values[np.sort(keep)]
    return values


def plot_pair_plot(
    reference: pd.DataFrame,
    samples: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    metrics: Sequence[str] | None = None,
    max_points: int = 1000,
    seed: int = 0,
    labels: tuple[str, str] = ("reference", "samples"),
) -> Path:
    """A pair plot: every pair of metrics as a scatter (lower triangle), histograms on the
    diagonal, reference and samples overlaid.

    Parameters
    ----------
    reference, samples : pandas.DataFrame
        Morphometrics tables.
    path : path-like
        The PNG to write.
    metrics : sequence of str, optional
        Columns (default: the numeric ones, as in :func:`plot_density_overlays`).
    max_points : int
        Points drawn per table (a seeded random subset beyond that).
    seed : int
        Seeds that subset.
    labels : (str, str)
        Legend names.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MnistlabError
        A metric missing from either table.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, pathlib
    >>> t = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)), columns=list("abc"))
    >>> plot_pair_plot(t, t + 1, pathlib.Path(tempfile.mkdtemp()) / "p.png").suffix
    '.png'
    """
    plt = pyplot()
    cols = _columns(reference, samples, metrics)
    a = _subset(reference, cols, max_points, seed)
    b = _subset(samples, cols, max_points, seed + 1)
    n = len(cols)
    size = max(1.7, min(2.2, 11.0 / n))
    fig, axes = plt.subplots(n, n, figsize=(size * n, size * n), squeeze=False)
    for i in range(n):
        for j in range(n):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                both = np.concatenate([a[:, i], b[:, i]])
                bins = np.histogram_bin_edges(both, bins=25) if both.size else 10
                for values, colour in ((a, COLOURS[0]), (b, COLOURS[1])):
                    ax.hist(
                        values[:, i], bins=bins, density=True, histtype="step", color=colour, lw=1.3
                    )
                ax.set_yticks([])
            else:
                for values, colour, label in (
                    (a, COLOURS[0], labels[0]),
                    (b, COLOURS[1], labels[1]),
                ):
                    ax.scatter(
                        values[:, j],
                        values[:, i],
                        s=3,
                        alpha=0.35,
                        color=colour,
                        lw=0,
                        label=label,
                        rasterized=True,
                    )
            ax.tick_params(labelsize=FONT)
            if i == n - 1:
                ax.set_xlabel(cols[j], fontsize=FONT + 1)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(cols[i], fontsize=FONT + 1)
            elif j > 0 or i == 0:
                ax.set_yticklabels([])
            if i == 0 and j == 0:
                ax.set_ylabel(cols[0], fontsize=FONT + 1)
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=c, label=f"{lab} ({len(v)} shown)")
        for c, lab, v in ((COLOURS[0], labels[0], a), (COLOURS[1], labels[1], b))
    ]
    fig.legend(handles=handles, loc="upper right", fontsize=FONT + 1, frameon=False)
    fig.tight_layout()
    return save_figure(fig, path, tight=False)


def plot_matrix_heatmap(
    values: ArrayLike,
    rows: Sequence[str],
    columns: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str,
    unit: str,
    diverging: bool = True,
    limit: float | None = None,
    fmt: str = "{:+.2f}",
) -> Path:
    """A heatmap of a matrix (e.g. codes x morphometrics) with every cell's value written.

    Parameters
    ----------
    values : array_like, shape (R, C)
        The matrix; NaN cells are left blank.
    rows, columns : sequence of str
        Row and column labels.
    path : path-like
        The PNG to write.
    title : str
        Figure title.
    unit : str
        Label of the colour bar (the cells' unit, e.g. ``"partial correlation"``).
    diverging : bool
        ``True``: the diverging ``"RdBu_r"`` colormap symmetric around 0 (``[-limit,
        limit]``, default ``limit`` 1); ``False``: the sequential ``"cividis"`` from 0 to
        ``limit`` (default: the largest value).
    limit : float, optional
        See ``diverging``.
    fmt : str
        Format of the cell values.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MnistlabError
        The labels do not match the matrix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = [[0.9, -0.1], [0.05, -0.7]]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "h.png"
    >>> plot_matrix_heatmap(m, ["z0", "z1"], ["thickness", "slant"], path,
    ...                     title="partial correlations", unit="partial correlation").name
    'h.png'
    """
    plt = pyplot()
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 2 or grid.shape != (len(rows), len(columns)):
        raise MnistlabError(
            f"heatmap: a {len(rows)} x {len(columns)} matrix expected, got shape {grid.shape}"
        )
    finite = grid[np.isfinite(grid)]
    if diverging:
        lim = float(limit) if limit is not None else 1.0
        lo, hi, cmap = -lim, lim, "RdBu_r"
    else:
        top = float(finite.max()) if finite.size else 1.0
        lo, hi, cmap = 0.0, float(limit) if limit is not None else max(top, 1e-12), "cividis"
    height = max(2.6, 0.32 * len(rows) + 1.6)
    width = max(3.8, 0.95 * len(columns) + 2.4)
    fig, ax = plt.subplots(figsize=(width, height))
    image = ax.imshow(grid, cmap=cmap, vmin=lo, vmax=hi, aspect="auto")
    norm = image.norm
    for (r, c), v in np.ndenumerate(grid):
        if np.isfinite(v):
            shade = norm(v)
            dark = shade < 0.25 or shade > 0.75 if diverging else shade < 0.45
            ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=FONT,
                    color="white" if dark else "black")  # fmt: skip
    ax.set_xticks(range(len(columns)), list(columns), fontsize=FONT, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), list(rows), fontsize=FONT)
    ax.set_title(title, fontsize=10)
    bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    bar.set_label(unit, fontsize=FONT + 1)
    bar.ax.tick_params(labelsize=FONT)
    fig.tight_layout()
    return save_figure(fig, path, tight=False)


def plot_class_histogram(
    fractions: Mapping[str, ArrayLike],
    class_names: Sequence[str],
    path: str | os.PathLike[str],
    *,
    title: str = "predicted classes",
) -> Path:
    """Bars of the share of images predicted as each class, one group per table.

    Parameters
    ----------
    fractions : mapping of str to array_like
        Label (``"reference"``, ``"samples"``) to the share of each class (sums to 1).
    class_names : sequence of str
        The classes.
    path : path-like
        The PNG to write.
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "c.png"
    >>> plot_class_histogram({"samples": [0.5, 0.5, 0.0]}, ["0", "1", "2"], path).suffix
    '.png'
    """
    plt = pyplot()
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * k + 1.5), 3.0))
    width = 0.8 / max(1, len(fractions))
    x = np.arange(k)
    for i, (label, share) in enumerate(fractions.items()):
        values = np.asarray(share, dtype=np.float64)
        ax.bar(x + (i - (len(fractions) - 1) / 2) * width, 100 * values, width,
               color=COLOURS[i % 2] if i < 2 else _CYCLE[i % len(_CYCLE)], label=label)  # fmt: skip
    ax.axhline(100 / k, color="0.4", lw=0.8, ls="--", label="uniform")
    ax.set_xticks(x, list(class_names), fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.set_ylabel("images (%)", fontsize=FONT + 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=FONT, frameon=False)
    fig.tight_layout()
    return save_figure(fig, path, tight=False)


def plot_traversal_grid(
    images: ArrayLike,
    values: ArrayLike,
    path: str | os.PathLike[str],
    *,
    codes: Sequence[str] | None = None,
    title: str = "latent traversal",
) -> Path:
    """Decoded images of a traversal: a row per code, a column per step.

    Parameters
    ----------
    images : array_like, uint8, shape (K, S, H, W)
        Image of step ``s`` of code ``k``.
    values : array_like, shape (K, S)
        The code's value at each step (written under each image).
    path : path-like
        The PNG to write.
    codes : sequence of str, optional
        Row labels (default ``z0, z1, ...``).
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MnistlabError
        Images that are not ``(K, S, H, W)`` or values of another shape.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> imgs = np.zeros((2, 3, 28, 28), np.uint8)
    >>> vals = np.tile(np.linspace(-2, 2, 3), (2, 1))
    >>> plot_traversal_grid(imgs, vals, pathlib.Path(tempfile.mkdtemp()) / "t.png").suffix
    '.png'
    """
    plt = pyplot()
    grid = np.asarray(images)
    steps = np.asarray(values, dtype=np.float64)
    if grid.ndim != 4 or steps.shape != grid.shape[:2]:
        raise MnistlabError(
            f"traversal grid: images (K, S, H, W) and values (K, S) expected, got {grid.shape} "
            f"and {steps.shape}"
        )
    k, s = grid.shape[:2]
    labels = list(codes) if codes is not None else [f"z{i}" for i in range(k)]
    fig, axes = plt.subplots(k, s, figsize=(0.85 * s + 0.6, 1.02 * k + 0.5), squeeze=False)
    for r in range(k):
        for c in range(s):
            ax = axes[r, c]
            ax.imshow(grid[r, c], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"{steps[r, c]:+.2f}", fontsize=FONT, labelpad=1)
            if c == 0:
                ax.set_ylabel(labels[r], fontsize=FONT + 1, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=0.3, h_pad=0.2, w_pad=0.1)
    return save_figure(fig, path, tight=False)


def plot_traversal_metrics(
    table: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    metrics: Sequence[str],
    title: str = "morphometrics along each latent traversal",
) -> Path:
    """Each metric's mean (band: +/- one standard deviation) against the traversal step.

    Parameters
    ----------
    table : pandas.DataFrame
        The ``traversal.csv`` of ``disentangle``: columns ``code``, ``step`` and
        ``<metric>_mean``, ``<metric>_std`` for every metric.
    path : path-like
        The PNG to write.
    metrics : sequence of str
        The metrics, one panel each.
    title : str
        Figure title.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MnistlabError
        A column missing from ``table``.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> t = pd.DataFrame({"code": ["z0"] * 3, "step": [0, 1, 2],
    ...                   "area_mean": [1.0, 2.0, 3.0], "area_std": [0.1, 0.1, 0.1]})
    >>> plot_traversal_metrics(t, pathlib.Path(tempfile.mkdtemp()) / "m.png",
    ...                        metrics=["area"]).suffix
    '.png'
    """
    plt = pyplot()
    need = ["code", "step", *(f"{m}_{s}" for m in metrics for s in ("mean", "std"))]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise MnistlabError(f"traversal table has no column {missing[0]!r}")
    n = len(metrics)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.7 * ncols, 2.8 * nrows + 0.5), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    codes = list(dict.fromkeys(table["code"]))
    for ax, m in zip(axes.ravel(), metrics, strict=False):
        for i, code in enumerate(codes):
            g = table[table["code"] == code].sort_values("step")
            x = g["step"].to_numpy()
            mean, std = g[f"{m}_mean"].to_numpy(), g[f"{m}_std"].to_numpy()
            colour = _CYCLE[i % len(_CYCLE)]
            style = _STYLES[(i // len(_CYCLE)) % len(_STYLES)]
            ax.plot(x, mean, color=colour, ls=style, lw=1.5, marker="o", ms=3, label=str(code))
            ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.1, lw=0)
        ax.set_title(m, fontsize=10)
        ax.set_xlabel("traversal step", fontsize=FONT + 1)
        ax.set_ylabel(f"mean {m}", fontsize=FONT + 1)
        ax.tick_params(labelsize=FONT)
    height = fig.get_size_inches()[1]
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    fig.suptitle(title, fontsize=10, y=1 - 0.08 / height)
    fig.legend(handles, names, loc="upper center", ncol=min(len(codes), 8), fontsize=FONT,
               frameon=False, bbox_to_anchor=(0.5, 1 - 0.3 / height))  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / height))
    return save_figure(fig, path, tight=False)
