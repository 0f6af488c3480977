"""Image and label checks shared by every dataset reader (IDX folders, NPZ, Parquet, variant
folders)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

__all__ = ["MIN_SIDE", "checked_images", "checked_labels"]

#: The smallest height and width of an image of a dataset (MNIST-like: 28 x 28; a 784 x 1
#: array is a flattened image, not an image).
MIN_SIDE = 8


def checked_images(images: Any, where: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """A dataset's images: uint8 ``(N, H, W)`` with ``N >= 1`` and both sides at least
    :data:`MIN_SIDE` pixels, or a one-line error naming ``where``.

    Examples
    --------
    >>> import numpy as np
    >>> checked_images(np.zeros((2, 28, 28), np.uint8), "t").shape
    (2, 28, 28)
    >>> checked_images(np.zeros((2, 784, 1), np.uint8), "t.idx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: t.idx: images of 784 x 1 pixels are not images (flattened?): ...
    >>> checked_images(np.zeros((0, 28, 28), np.uint8), "t.idx")
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: t.idx: no images (an empty split)
    """
    arr = np.asarray(images)
    if arr.ndim != 3 or arr.dtype != np.uint8:
        raise MnistlabError(
            f"{where}: expected uint8 images of shape (N, H, W), got {arr.dtype} {arr.shape}"
        )
    if arr.shape[0] == 0:
        raise MnistlabError(f"{where}: no images (an empty split)")
    if min(arr.shape[1:]) < MIN_SIDE:
        raise MnistlabError(
            f"{where}: images of {arr.shape[1]} x {arr.shape[2]} pixels are not images "
            f"(flattened?): each side needs at least {MIN_SIDE} pixels"
        )
    return arr


def checked_labels(
    labels: Any, where: str | os.PathLike[str], n_classes: int | None = None
) -> tuple[NDArray[np.int64], int]:
    """Integer labels and their number of classes, or a one-line error naming the first bad index.

    With ``n_classes`` (a registered dataset, or given class names) every label must lie in
    ``0..n_classes-1``. Without it (an unnamed folder or file) the labels present must be
    exactly ``0..K-1``: a stray ``200`` among ``0..9`` is an error, not a 201-class dataset.

    Examples
    --------
    >>> import numpy as np
    >>> labels, k = checked_labels(np.array([0, 2, 1], np.uint8), "t")
    >>> labels.dtype, k
    (dtype('int64'), 3)
    >>> checked_labels(np.array([0, 1, 200]), "labels.idx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mnistlab.errors.MnistlabError: labels.idx: label 200 at index 2 is outside 0..2 (the 3 ...
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise MnistlabError(f"{where}: labels must be one-dimensional, got shape {arr.shape}")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise MnistlabError(f"{where}: labels must be integers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating):
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise MnistlabError(f"{where}: label {float(arr[i])} at index {i} is not an integer")
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        i = int(np.argmax(arr))
        raise MnistlabError(f"{where}: label {int(arr[i])} at index {i} is too large")
    if np.issubdtype(arr.dtype, np.floating) and arr.size and np.abs(arr).max() >= 2.0**62:
        i = int(np.argmax(np.abs(arr)))
        raise MnistlabError(f"{where}: label {float(arr[i])} at index {i} is too large")
    values = arr.astype(np.int64)
    if not values.size:
        return values, int(n_classes or 0)
    if n_classes is not None:
        k, rule = n_classes, f"the dataset has {n_classes} classes"
    else:
        k = int(np.unique(values).size)
        rule = f"the {k} distinct labels of a dataset without class names must be 0..{k - 1}"
    bad = (values < 0) | (values >= k)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MnistlabError(
            f"{where}: label {int(values[i])} at index {i} is outside 0..{k - 1} ({rule})"
        )
    return values, k
