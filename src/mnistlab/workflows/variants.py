"""Images of a run's variants regenerated with the corruptions, and a dataset's corruption grid."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt.variants import regenerate_variant
from mnistlab.run import clean_images, corruption_params

__all__ = ["dataset_corruption_grid", "variant_images"]


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


def dataset_corruption_grid(
    path: str | os.PathLike[str],
    dataset: str,
    corruptions: Sequence[str],
    *,
    images: int = 3,
    data_dir: str | os.PathLike[str] | None = None,
    **grid: Any,
) -> Path:
    """PNG of every corruption in ``corruptions`` at every severity on test images of
    ``dataset``: one image of each of the first ``images`` classes, so the shapes differ.

    ``grid`` holds the keywords of :func:`mnistlab.corrupt.grid.corruption_grid`
    (``seed``, ``compat``).

    Examples
    --------
    >>> dataset_corruption_grid("grid.png", "fashion-mnist", ["fog", "rotate"])  # doctest: +SKIP
    PosixPath('grid.png')
    """
    from mnistlab.corrupt.grid import save_grid
    from mnistlab.data import load

    ds = load(dataset, split="test", data_dir=data_dir)
    picks = [int(np.flatnonzero(ds.labels == k)[0]) for k in np.unique(ds.labels)][:images]
    return save_grid(path, ds.images[picks], corruptions=list(corruptions), **grid)
