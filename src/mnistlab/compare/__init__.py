"""Comparing classifiers on the same benchmark: bootstrap intervals, paired tests, leaderboards.

Pure functions over arrays (no run directories, no plots): :mod:`~mnistlab.compare.stats`
(bootstrap weights and percentile intervals, the exact McNemar test, Holm's correction) and
:mod:`~mnistlab.compare.metrics` (leaderboard metrics per replicate, paired per-cell deltas,
accuracy over groups of variants). Reading runs and writing ``compare.html`` is the job of
:mod:`mnistlab.workflows.compare`.

Examples
--------
>>> import numpy as np
>>> from mnistlab.compare import bootstrap_weights, mcnemar_pvalue
>>> bootstrap_weights(5, n_boot=2, seed=0).shape
(2, 5)
>>> mcnemar_pvalue(0, 0)
1.0
"""

from mnistlab.compare.metrics import (
    LEADERBOARD_METRICS,
    Outcomes,
    apfd_replicates,
    apfd_weighted,
    best_score,
    group_accuracy,
    leaderboard,
    leaderboard_replicates,
    paired_cells,
)
from mnistlab.compare.stats import (
    bootstrap_indices,
    bootstrap_weights,
    holm,
    mcnemar_counts,
    mcnemar_pvalue,
    percentile_ci,
    weighted_mean,
)

__all__ = [
    "LEADERBOARD_METRICS",
    "Outcomes",
    "apfd_replicates",
    "apfd_weighted",
    "best_score",
    "bootstrap_indices",
    "bootstrap_weights",
    "group_accuracy",
    "holm",
    "leaderboard",
    "leaderboard_replicates",
    "mcnemar_counts",
    "mcnemar_pvalue",
    "paired_cells",
    "percentile_ci",
    "weighted_mean",
]
