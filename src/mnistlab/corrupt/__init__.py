"""Corruptions of MNIST-C and Fashion-MNIST-C: batch-first, seeded per sample.

Examples
--------
>>> from mnistlab.corrupt import corrupt, names
>>> "motion_blur" in names(family="blur")
True
"""

from mnistlab.corrupt.registry import (
    COMPAT_MODES,
    FAMILIES,
    Context,
    Corruption,
    corrupt,
    get,
    names,
    register,
)

__all__ = [
    "COMPAT_MODES",
    "FAMILIES",
    "Context",
    "Corruption",
    "corrupt",
    "get",
    "names",
    "register",
]
