"""The Dataset value: images, labels, class names and optional per-sample metadata."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    import pandas as pd
    from PIL import Image

__all__ = ["Dataset", "check_images", "check_labels"]


def check_images(images: Any, name: str = "images") -> NDArray[np.uint8]:
    """Validate an image batch: ``uint8`` array of shape ``(N, H, W)``.

    Raises
    ------
    MnistlabError
        With a message naming the wrong shape or dtype.
    """
    arr = np.asarray(images)
    if arr.ndim != 3:
        raise MnistlabError(f"{name} must have shape (N, H, W), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise MnistlabError(f"{name} must have dtype uint8, got {arr.dtype}")
    return arr


def check_labels(labels: Any, n: int, name: str = "labels") -> NDArray[np.int64]:
    """Validate labels: integers of shape ``(n,)``; returned as ``int64``."""
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise MnistlabError(f"{name} must have shape ({n},), got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise MnistlabError(f"{name} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A split of an MNIST-like dataset.

    Parameters
    ----------
    images : numpy.ndarray, uint8, shape (N, H, W)
        0 is background, 255 is ink.
    labels : numpy.ndarray, int64, shape (N,)
        Class indices.
    class_names : tuple of str
        Name of each class index.
    name : str
        Dataset name (``"fashion-mnist"``, a variant name, ...).
    split : str
        ``"train"`` or ``"test"``.
    sample_ids : numpy.ndarray, int64, shape (N,), optional
        Row of each sample in the source split (default ``0..N-1``); kept through slicing.
    metadata : pandas.DataFrame, optional
        One row per sample (corruption, severity, pert label, ...), in the same order.

    Examples
    --------
    >>> import numpy as np
    >>> ds = Dataset(np.zeros((3, 28, 28), np.uint8), np.array([0, 1, 1]), ("a", "b"))
    >>> len(ds), ds[1]["label"], len(ds[1:])
    (3, 1, 2)
    """

    images: NDArray[np.uint8]
    labels: NDArray[np.int64]
    class_names: tuple[str, ...]
    name: str = "custom"
    split: str = "test"
    sample_ids: NDArray[np.int64] | None = None
    metadata: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        images = check_images(self.images)
        labels = check_labels(self.labels, images.shape[0])
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            bad = int(np.flatnonzero((labels < 0) | (labels >= len(self.class_names)))[0])
            raise MnistlabError(
                f"{self.name}: labels range {labels.min()}..{labels.max()} does not fit "
                f"{len(self.class_names)} class names (first bad index {bad}: {labels[bad]})"
            )
        ids = (
            np.arange(images.shape[0], dtype=np.int64)
            if self.sample_ids is None
            else check_labels(self.sample_ids, images.shape[0], "sample_ids")
        )
        object.__setattr__(self, "sample_ids", ids)
        if self.metadata is not None and len(self.metadata) != images.shape[0]:
            raise MnistlabError(
                f"{self.name}: metadata has {len(self.metadata)} rows for {images.shape[0]} images"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        h, w = self.images.shape[1:]
        return (
            f"Dataset({self.name!r}, split={self.split!r}, {len(self)} images {h}x{w}, "
            f"{len(self.class_names)} classes)"
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, key: Any) -> Any:
        """``ds[i]`` is a record dict; ``ds[a:b]``, ``ds[mask]``, ``ds[indices]`` a Dataset."""
        if isinstance(key, (int, np.integer)):
            n = len(self)
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"index {i} out of range for a dataset of {n} samples")
            return self._record(i % n)
        if isinstance(key, (slice, list, np.ndarray)):
            idx = np.arange(len(self))[key]
            meta = None if self.metadata is None else self.metadata.iloc[idx].reset_index(drop=True)
            assert self.sample_ids is not None
            return Dataset(
                images=self.images[idx],
                labels=self.labels[idx],
                class_names=self.class_names,
                name=self.name,
                split=self.split,
                sample_ids=self.sample_ids[idx],
                metadata=meta,
            )
        raise TypeError(
            f"dataset indices must be int, slice, list or array, not {type(key).__name__}"
        )

    def _record(self, i: int) -> dict[str, Any]:
        # Decoding into a PIL image happens here, only for the record asked for.
        assert self.sample_ids is not None
        record: dict[str, Any] = {
            "image": _to_pil(self.images[i]),
            "label": int(self.labels[i]),
            "class_name": self.class_names[int(self.labels[i])],
            "sample_id": int(self.sample_ids[i]),
        }
        if self.metadata is not None:
            for col, value in self.metadata.iloc[i].items():
                record[str(col)] = value.item() if hasattr(value, "item") else value
        return record

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    def class_counts(self) -> NDArray[np.int64]:
        """Samples per class, shape ``(num_classes,)``."""
        return np.bincount(self.labels, minlength=self.num_classes).astype(np.int64)


def _to_pil(image: NDArray[np.uint8]) -> Image.Image:
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(image))
