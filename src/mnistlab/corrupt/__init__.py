"""Corruptions of MNIST-C and Fashion-MNIST-C: batch-first, seeded per sample.

The package exports the names of :mod:`mnistlab.corrupt.registry` (its ``__all__``).

Examples
--------
>>> from mnistlab.corrupt import corrupt, names
>>> "motion_blur" in names(family="blur")
True
"""

from mnistlab.corrupt import registry
from mnistlab.corrupt.registry import *  # noqa: F403  (the names of registry.__all__)

__all__ = list(registry.__all__)
