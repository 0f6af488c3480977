"""The report's leaderboard section: models side by side with 95 % bootstrap intervals.

Reads what the study's ``compare`` step wrote into ``RUN/compare/`` (``leaderboard.csv``,
``pairs.csv``, ``seen_unseen.csv`` and the delta heatmap of each pair of models, named by
:class:`mnistlab.run.CompareLayout` for the writer and this reader alike); it never recomputes
them. :func:`ci_frame` formats point estimates and intervals as ``0.871 [0.862, 0.880]``
(``mnistlab compare`` uses it too).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"model": ["cnn"], "acc": [0.9], "acc_lo": [0.88], "acc_hi": [0.92]})
>>> ci_frame(t, ["acc"]).iloc[0].tolist()
['cnn', '0.900 [0.880, 0.920]']
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistlab.run import RunLayout

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LEADERBOARD_COLUMNS", "ci_frame", "leaderboard_section"]

#: Metric columns of the leaderboard and how many decimals they show.
LEADERBOARD_COLUMNS = {
    "clean_accuracy": 3,
    "corrupted_accuracy": 3,
    "mce": 1,
    "relative_mce": 1,
    "ece": 3,
    "apfd": 3,
}


def ci_frame(
    table: pd.DataFrame,
    metrics: Sequence[str],
    keys: Sequence[str] = ("model",),
    digits: dict[str, int] | None = None,
) -> pd.DataFrame:
    """``keys`` plus one text column per metric: ``point [lo, hi]`` (blank when NaN)."""
    import numpy as np
    import pandas as pd

    out = pd.DataFrame({k: table[k] for k in keys if k in table.columns})
    for m in metrics:
        d = (digits or {}).get(m, LEADERBOARD_COLUMNS.get(m, 3))

        def fmt(row: Any, m: str = m, d: int = d) -> str:
            v, lo, hi = row[m], row.get(f"{m}_lo", np.nan), row.get(f"{m}_hi", np.nan)
            if v != v:
                return ""
            return f"{v:.{d}f}" if lo != lo else f"{v:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"

        out[m] = table.apply(fmt, axis=1) if len(table) else []
    return out


def leaderboard_section(run: Path, section_cls: Any, attached_png: Any) -> Any:
    """The ``leaderboard`` section of ``report.html``, or None without ``RUN/compare/``."""
    import pandas as pd

    layout = RunLayout(run)
    board_path = layout.compare_table("leaderboard")
    if not board_path.is_file():
        return None
    sec = section_cls("leaderboard", "Leaderboard: models side by side")
    board = pd.read_csv(board_path)
    base = str(board["baseline"].dropna().iloc[0]) if board["baseline"].notna().any() else ""
    sec.table(
        ci_frame(board, list(LEADERBOARD_COLUMNS), ("model", "score")),
        "point estimate [95 % bootstrap interval over test images]; mCE in percent of the "
        f"baseline ({base or 'none'}); ECE on clean images; APFD of the model's best score",
    )
    pairs_path = layout.compare_table("pairs")
    if pairs_path.is_file():
        sec.table(
            pd.read_csv(pairs_path),
            "per pair: corruption x severity cells whose accuracy differs significantly "
            "(exact McNemar, Holm-corrected across the pair's cells) and in whose favour",
        )
    seen_path = layout.compare_table("seen_unseen")
    if seen_path.is_file():
        seen = pd.read_csv(seen_path)
        shown = ci_frame(
            seen, ["accuracy", "delta"], ("augmented", "families", "model", "group", "variants")
        )
        sec.table(
            shown,
            "held-out families (MNIST-C rule): accuracy on the corruption families the "
            "augmented model trained on (seen) and on the others (unseen); delta against the "
            "plain model, paired bootstrap interval",
        )
    # One heatmap per pair of models: compare_runs pairs the leaderboard's rows in their order.
    for a, b in combinations(board["model"].astype(str), 2):
        path = layout.compare_delta(a, b)
        png = attached_png(path)
        if png is not None:
            sec.image(png, f"{layout.relative(path)}: accuracy difference, * = significant")
    return sec
