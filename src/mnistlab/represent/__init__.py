"""Representation diagnostics over arrays: MMD tests, distribution distances, disentanglement.

The definitions are those of the Morpho-MNIST analysis (Castro et al., JMLR 2019) and of
the libraries the field uses (``../shared/REPRESENT.md``). Arrays (or DataFrames of numeric
columns) in, floats, arrays, DataFrames and small frozen records out; no files, no plots.

- :mod:`~mnistlab.represent.mmd`: :func:`mmd2` (biased, unbiased and linear-time squared
  MMD with an RBF or KID's polynomial kernel), :func:`mmd_test` (permutation test or the
  linear statistic's normal test), :func:`rbf_bandwidth` (Scott, Silverman, median);
- :mod:`~mnistlab.represent.compare`: :func:`compare_metrics`, per-metric Wasserstein-1,
  Kolmogorov-Smirnov and bootstrapped mean and std differences of two tables;
- :mod:`~mnistlab.represent.disentangle`: :func:`mig`, :func:`partial_correlations`,
  :func:`spearman`;
- :mod:`~mnistlab.represent.features`: :func:`frechet_distance`, :func:`kid`, :func:`prdc`,
  :func:`class_coverage`.

Examples
--------
>>> import numpy as np
>>> from mnistlab.represent import mmd_test, prdc
>>> rng = np.random.default_rng(0)
>>> x, y = rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
>>> bool(mmd_test(x, y, permutations=99).pvalue > 0.05)
True
>>> prdc(x, y, k=5).k
5
"""

from mnistlab.represent import compare, disentangle, features, mmd
from mnistlab.represent.compare import *  # noqa: F403  (the names of compare.__all__)
from mnistlab.represent.disentangle import *  # noqa: F403  (the names of disentangle.__all__)
from mnistlab.represent.features import *  # noqa: F403  (the names of features.__all__)
from mnistlab.represent.mmd import *  # noqa: F403  (the names of mmd.__all__)

__all__ = sorted([*compare.__all__, *disentangle.__all__, *features.__all__, *mmd.__all__])
