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

from mnistlab.compare import metrics, stats
from mnistlab.compare.metrics import *  # noqa: F403  (the names of metrics.__all__)
from mnistlab.compare.stats import *  # noqa: F403  (the names of stats.__all__)

__all__ = sorted([*metrics.__all__, *stats.__all__])
