"""Figures of the active-learning protocol (:mod:`mnistlab.scores.active`).

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> summary = pd.DataFrame({"method": ["gini", "random"], "acc_second_half": [0.8, 0.7],
...                         "ci_low": [0.78, 0.68], "ci_high": [0.82, 0.72]})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "one_shot.png"
>>> plot_one_shot(summary, out)
>>> out.is_file()
True
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.figures import pyplot, save_figure
from mnistlab.scores.active import RANDOM, mean_ci

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plot_learning_curve", "plot_one_shot"]

_DPI = 110


def plot_one_shot(summary: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Bar chart of held-out accuracy per method with 95% CIs (PNG, written atomically)."""
    fig, ax = pyplot().subplots(figsize=(6, 3.5))
    y = summary["acc_second_half"].to_numpy()
    err = np.vstack([y - summary["ci_low"].to_numpy(), summary["ci_high"].to_numpy() - y])
    colors = ["0.6" if m == RANDOM else "C0" for m in summary["method"]]
    ax.bar(summary["method"], y, yerr=np.nan_to_num(err), color=colors, capsize=4)
    lo = float(np.nanmin(summary["ci_low"].fillna(summary["acc_second_half"])))
    ax.set_ylim(max(0.0, lo - 0.02), min(1.0, float(np.nanmax(y)) + 0.02))
    ax.set_ylabel("accuracy on the held-out half")
    ax.set_title("one-shot active learning (mean, 95% CI)")
    fig.tight_layout()
    save_figure(fig, path, dpi=_DPI, tight=False)


def plot_learning_curve(results: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Held-out accuracy against samples added, one line per method, 95% CI bands (PNG)."""
    fig, ax = pyplot().subplots(figsize=(6, 3.5))
    for i, (method, g) in enumerate(results.groupby("method", sort=False)):
        stats = [
            (added, *mean_ci(gg["acc_second_half"].to_numpy())) for added, gg in g.groupby("added")
        ]
        a = np.array(stats, dtype=np.float64)
        color = "0.5" if method == RANDOM else f"C{i}"
        ax.plot(a[:, 0], a[:, 1], marker="o", label=method, color=color)
        if np.isfinite(a[:, 2]).all():
            ax.fill_between(a[:, 0], a[:, 2], a[:, 3], alpha=0.2, color=color)
    ax.set_xlabel("samples added from the pool")
    ax.set_ylabel("accuracy on the held-out half")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=_DPI, tight=False)
