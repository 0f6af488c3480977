"""Images of a run's variants, regenerated with the corruptions (run contract + corrupt)."""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt.variants import regenerate_variant
from mnistlab.run import clean_images, corruption_params

__all__ = ["variant_images"]


def variant_images(
    run: str | os.PathLike[str], variant: str, sample_ids: NDArray[np.integer] | list[int]
) -> NDArray[np.uint8]:
    """Images of ``variant`` for ``sample_ids``, regenerated exactly as the run made them.

    Corruptions draw their randomness from ``(seed, sample_id)``, so corrupting only the
    requested samples gives the same bytes as the full run did.

    Parameters
    ----------
    run : path-like
        A run directory (see :mod:`mnistlab.run`).
    variant : str
        ``"clean"`` or ``"<corruption>-s<severity>"``.
    sample_ids : array-like of int
        Rows of the run's clean test split.

    Returns
    -------
    numpy.ndarray
        uint8 images, one per sample id.

    Examples
    --------
    >>> variant_images("runs/fashion", "fog-s3", [0, 1]).shape  # doctest: +SKIP
    (2, 28, 28)
    """
    return regenerate_variant(clean_images(run), variant, sample_ids, **corruption_params(run))
