"""The pool of an active-learning study: one image per sample of a dataset or variant folder."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mnistlab.errors import MnistlabError

__all__ = ["variant_pool"]


def variant_pool(
    source: str | os.PathLike[str], split: str = "test", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pool images and labels of ``source``; one variant per sample drawn when it has many.

    Parameters
    ----------
    source : str or path-like
        A dataset name, IDX folder, or folder of variants (``corrupt`` output, Fashion-MNIST-C).
    split : str
        Split of the pool.
    seed : int
        Seed of the draw of a variant per sample.

    Returns
    -------
    images : numpy.ndarray
        ``uint8 (N, H, W)``, sample ``i`` from one variant.
    labels : numpy.ndarray
        ``int64 (N,)`` (the same in every variant).

    Examples
    --------
    >>> images, labels = variant_pool("fashion-mnist")  # doctest: +SKIP
    >>> images.shape  # doctest: +SKIP
    (10000, 28, 28)
    """
    from mnistlab.models.predict import as_variants

    variants: list[Any] = list(as_variants(source, split=split))
    sizes = {len(v.dataset) for v in variants}
    if len(sizes) != 1:
        raise MnistlabError(f"--pool: variants differ in size ({sorted(sizes)})")
    if len(variants) == 1:
        return variants[0].dataset.images, variants[0].dataset.labels
    rng = np.random.default_rng(seed)
    choice = rng.integers(0, len(variants), size=sizes.pop())
    images = np.stack([variants[c].dataset.images[i] for i, c in enumerate(choice)])
    return images, variants[0].dataset.labels
