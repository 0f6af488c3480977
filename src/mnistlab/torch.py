"""PyTorch access: :class:`MnistDataset`, a ``torch.utils.data.Dataset`` over mnistlab data.

Needs the ``torch`` extra (``pip install 'mnistlab[torch]'``).

Examples
--------
>>> from torch.utils.data import DataLoader  # doctest: +SKIP
>>> from mnistlab.torch import MnistDataset  # doctest: +SKIP
>>> ds = MnistDataset("fashion-mnist", split="train", corruptions=["motion_blur", "fog"],
...                   severity="random", seed=0, p=0.5)  # doctest: +SKIP
>>> loader = DataLoader(ds, batch_size=128, shuffle=True, num_workers=2)  # doctest: +SKIP
>>> for epoch in range(3):  # doctest: +SKIP
...     ds.set_epoch(epoch)
...     for x, y in loader:
...         ...
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from mnistlab import random as _random
from mnistlab.data.dataset import Dataset
from mnistlab.errors import MnistlabError

__all__ = ["MnistDataset"]

# Per-sample metadata columns carried into ``return_metadata`` dicts when a source has them.
_META_COLUMNS = ("corruption", "severity", "pert")
_AUG_STREAM = "mnistlab.torch/augment"


@dataclass(frozen=True)
class _Part:
    """One loaded array set (a split or a variant) of the concatenated dataset."""

    images: NDArray[np.uint8]
    labels: NDArray[np.int64]
    sample_ids: NDArray[np.int64]
    variant: str
    columns: dict[str, NDArray[Any]]


def _derive_seed(seed: int, epoch: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{epoch}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # non-negative 63-bit


def _part_of(ds: Dataset, variant: str, info: dict[str, Any] | None = None) -> _Part:
    assert ds.sample_ids is not None
    n = len(ds)
    columns: dict[str, NDArray[Any]] = {}
    for key in _META_COLUMNS:
        if ds.metadata is not None and key in ds.metadata.columns:
            columns[key] = ds.metadata[key].to_numpy()
        elif info is not None and info.get(key) is not None:
            columns[key] = np.full(n, info[key])
    return _Part(ds.images, ds.labels, ds.sample_ids, variant, columns)


def _fill(parts: list[_Part], key: str) -> list[NDArray[Any]]:
    """One column per part, with a collatable filler where a part lacks it."""
    present = [p.columns[key] for p in parts if key in p.columns]
    numeric = key == "severity" or (
        key != "corruption" and all(np.issubdtype(c.dtype, np.number) for c in present)
    )
    out = []
    for p in parts:
        n = len(p.labels)
        if key in p.columns:
            col = p.columns[key]
            out.append(col.astype(np.int64) if numeric else col.astype(str))
        else:
            out.append(np.full(n, 0 if numeric else "", dtype=np.int64 if numeric else object))
    return out


class MnistDataset(torch.utils.data.Dataset):
    """A PyTorch dataset over anything :func:`mnistlab.data.load` reads.

    Item ``i`` is ``(image, label)``: ``image`` a ``float32`` tensor ``1 x H x W`` in
    ``[0, 1]`` (after ``transform``), ``label`` an ``int``; with ``return_metadata`` a third
    element, a dict ``{"sample_id", "variant", "corruption", "severity", ...}``.

    Parameters
    ----------
    source : str, path-like or Dataset
        A registered name (``"fashion-mnist"``), a folder of IDX files, a folder written by
        ``mnistlab corrupt``/``perturb`` (every variant concatenated, or those in
        ``variants``), or a :class:`~mnistlab.data.Dataset`.
    split : str
        ``"train"`` or ``"test"`` (ignored for a Dataset value).
    variants : str or sequence of str, optional
        For a variant folder: only these variants, in this order.
    transform : callable, optional
        Applied to the image tensor.
    target_transform : callable, optional
        Applied to the label.
    return_metadata : bool
        Also return the per-sample metadata dict. ``corruption`` (``""`` if none),
        ``severity`` (``0`` if none) and ``pert`` (when a source has it) describe the stored
        sample; with on-the-fly corruption, ``aug_corruption``/``aug_severity`` describe
        what was applied (``""``/``0`` when the sample was left clean).
    corruptions : str or sequence of str, optional
        On-the-fly corruption for augmentation: each item gets one of these (drawn per
        sample), with probability ``p``.
    severity : int, sequence of int or "random"
        Severity of on-the-fly corruption: fixed, drawn from the list, or from 1..5.
    seed : int
        Seed of the augmentation. Item ``i`` of epoch ``e`` depends only on
        ``(seed, e, i)``, never on the worker that loads it or the batch it lands in.
    p : float
        Probability that an item is corrupted.
    compat : str, optional
        Passed to :func:`mnistlab.corrupt.corrupt`.
    data_dir, download
        Passed to :func:`mnistlab.data.load`.
    train : bool, optional
        torchvision's spelling: ``True`` is ``split="train"``, ``False`` ``"test"``.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistlab.data import Dataset
    >>> value = Dataset(np.full((2, 28, 28), 255, np.uint8), np.array([0, 1]), ("a", "b"))
    >>> ds = MnistDataset(value)
    >>> x, y = ds[1]
    >>> tuple(x.shape), float(x.max()), y
    ((1, 28, 28), 1.0, 1)
    >>> ds.classes, ds.targets.tolist(), tuple(ds.data.shape)
    (['a', 'b'], [0, 1], (2, 28, 28))
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Dataset,
        split: str = "test",
        *,
        variants: str | Sequence[str] | None = None,
        transform: Callable[[torch.Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        return_metadata: bool = False,
        corruptions: str | Sequence[str] | None = None,
        severity: int | Sequence[int] | str = 3,
        seed: int = 0,
        p: float = 1.0,
        compat: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        download: bool = True,
        train: bool | None = None,
    ) -> None:
        if train is not None:  # torchvision's spelling of the split
            split = "train" if train else "test"
        parts, class_names = _load_parts(source, split, variants, data_dir, download)
        self.class_names: tuple[str, ...] = class_names
        self.split = split
        self.transform = transform
        self.target_transform = target_transform
        self.return_metadata = bool(return_metadata)
        self._parts = parts
        self._offsets = np.cumsum([0] + [len(q.labels) for q in parts])
        keys = [
            k
            for k in _META_COLUMNS
            if k in ("corruption", "severity") or any(k in q.columns for q in parts)
        ]
        self._meta = {k: _fill(parts, k) for k in keys}
        self._corruptions, self._severities = check_augment(corruptions, severity, seed, p)
        self.seed = int(seed)
        self.p = float(p)
        self.compat = compat
        # Shared memory: set_epoch() in the main process reaches running (persistent)
        # DataLoader workers too.
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    # ------------------------------------------------------------------ public

    def __len__(self) -> int:
        return int(self._offsets[-1])

    @property
    def labels(self) -> NDArray[np.int64]:
        """Every label, in item order (for samplers and class weights)."""
        return np.concatenate([q.labels for q in self._parts])

    @property
    def classes(self) -> list[str]:
        """The class names (torchvision's ``classes``)."""
        return list(self.class_names)

    @property
    def targets(self) -> torch.Tensor:
        """Every label as an ``int64`` tensor (torchvision's ``targets``)."""
        return torch.from_numpy(self.labels)

    @property
    def data(self) -> torch.Tensor:
        """Every stored image as a ``uint8`` tensor ``N x H x W`` (torchvision's ``data``;
        before ``transform`` and on-the-fly corruption)."""
        return torch.from_numpy(np.concatenate([np.asarray(q.images) for q in self._parts]))

    @property
    def epoch(self) -> int:
        """The epoch of the on-the-fly corruption."""
        return int(self._epoch.item())

    def set_epoch(self, epoch: int) -> None:
        """Draw a new set of on-the-fly corruptions (call before each epoch's loop)."""
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise MnistlabError(f"epoch must be a non-negative integer, got {epoch!r}")
        self._epoch.fill_(int(epoch))

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        index = self._check_index(index)
        aug_name, aug_severity = self._augmentation(index)
        image = self._image(index)
        if aug_name:
            image = self._corrupt(image[None], aug_name, aug_severity, [index])[0]
        return self._item(index, image, aug_name, aug_severity)

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Any, ...]]:
        """Items ``indices`` at once (what a ``DataLoader`` fetches per batch).

        Equal, item by item, to ``[self[i] for i in indices]``; on-the-fly corruption runs
        once per (corruption, severity) group of the batch instead of once per image, which
        is the same bytes since each image's randomness comes from ``(seed, epoch, index)``.
        """
        idx = [self._check_index(i) for i in indices]
        augs = [self._augmentation(i) for i in idx]
        images = [self._image(i) for i in idx]
        groups: dict[tuple[str, int], list[int]] = {}
        for pos, aug in enumerate(augs):
            if aug[0]:
                groups.setdefault(aug, []).append(pos)
        for (name, severity), where in groups.items():
            batch = np.stack([images[p] for p in where])
            out = self._corrupt(batch, name, severity, [idx[p] for p in where])
            for p, image in zip(where, out, strict=True):
                images[p] = image
        return [self._item(i, image, *aug) for i, image, aug in zip(idx, images, augs, strict=True)]

    def _check_index(self, index: Any) -> int:
        n = len(self)
        if isinstance(index, torch.Tensor):
            index = int(index.item())
        if not -n <= int(index) < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} samples")
        return int(index) % n

    def _locate(self, index: int) -> tuple[_Part, int, int]:
        k = int(np.searchsorted(self._offsets, index, side="right")) - 1
        return self._parts[k], index - int(self._offsets[k]), k

    def _image(self, index: int) -> NDArray[np.uint8]:
        part, row, _ = self._locate(index)
        return np.asarray(part.images[row])

    def _corrupt(
        self, images: NDArray[np.uint8], name: str, severity: int, ids: list[int]
    ) -> NDArray[np.uint8]:
        from mnistlab.corrupt import corrupt

        return corrupt(
            images,
            name,
            severity=severity,
            seed=_derive_seed(self.seed, self.epoch),
            sample_ids=ids,
            compat=self.compat,
        )

    def _item(
        self, index: int, image: NDArray[np.uint8], aug_name: str, aug_severity: int
    ) -> tuple[Any, ...]:
        part, row, k = self._locate(index)
        x: Any = torch.from_numpy(image.astype(np.float32) / np.float32(255.0)).unsqueeze(0)
        if self.transform is not None:
            x = self.transform(x)
        y: Any = int(part.labels[row])
        if self.target_transform is not None:
            y = self.target_transform(y)
        if not self.return_metadata:
            return x, y
        meta: dict[str, Any] = {"sample_id": int(part.sample_ids[row]), "variant": part.variant}
        for key, cols in self._meta.items():
            value = cols[k][row]
            meta[key] = value.item() if isinstance(value, np.generic) else value
        if self._corruptions:
            meta["aug_corruption"] = aug_name
            meta["aug_severity"] = aug_severity
        return x, y, meta

    def __repr__(self) -> str:
        aug = f", corruptions={list(self._corruptions)}" if self._corruptions else ""
        return f"MnistDataset({len(self)} samples, {len(self._parts)} part(s){aug})"

    # ------------------------------------------------------------------ internals

    def _augmentation(self, index: int) -> tuple[str, int]:
        if not self._corruptions:
            return "", 0
        seed = _derive_seed(self.seed, self.epoch)
        ids = np.array([index], dtype=np.int64)
        draws = _random.uniform(seed, ids, (3,), _AUG_STREAM, dtype=np.float64)[0]
        if draws[0] >= self.p:
            return "", 0
        name = self._corruptions[int(draws[1] * len(self._corruptions))]
        severity = self._severities[int(draws[2] * len(self._severities))]
        return name, int(severity)


def check_augment(
    corruptions: str | Sequence[str] | None, severity: Any, seed: Any, p: Any
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Check the options of corruption augmentation once, at the boundary.

    Returns the corruption names (a family expands to its corruptions) and the severities;
    raises :class:`mnistlab.MnistlabError` naming the bad value.
    """
    from mnistlab._validate import check_seed

    check_seed(seed)
    if not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
        raise MnistlabError(f"p must be a probability in [0, 1], got {p!r}")
    if corruptions is None:
        return (), ()
    from mnistlab.corrupt import get

    names = (corruptions,) if isinstance(corruptions, str) else tuple(corruptions)
    if not names:
        raise MnistlabError("corruptions is empty: give a corruption name or a list of names")
    names = tuple(get(n).name for n in names)  # unknown names raise, listing the valid ones
    if isinstance(severity, str):
        if severity != "random":
            raise MnistlabError(
                f"severity must be 1..5, a list of them or 'random', got {severity!r}"
            )
        levels: tuple[int, ...] = (1, 2, 3, 4, 5)
    elif isinstance(severity, (int, np.integer)) and not isinstance(severity, bool):
        levels = (int(severity),)
    else:
        levels = tuple(severity)
    if not levels or any(
        isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 1 <= s <= 5
        for s in levels
    ):
        raise MnistlabError(f"severity must be 1..5, a list of them or 'random', got {severity!r}")
    return names, tuple(int(s) for s in levels)


def _load_parts(
    source: str | os.PathLike[str] | Dataset,
    split: str,
    variants: str | Sequence[str] | None,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
) -> tuple[list[_Part], tuple[str, ...]]:
    from mnistlab.data import load
    from mnistlab.data.variants import is_variant_dir, iter_variants, load_variant

    if isinstance(source, Dataset):
        if variants is not None:
            raise MnistlabError("variants= only applies to a folder written by corrupt/perturb")
        return [_part_of(source, source.name)], source.class_names
    if not isinstance(source, (str, os.PathLike)):
        raise MnistlabError(
            f"source must be a dataset name, a folder or a Dataset, not {type(source).__name__}"
        )
    path = Path(source)
    if path.is_dir() and is_variant_dir(path):
        listed = list(iter_variants(path))
        if variants is not None:
            wanted = [variants] if isinstance(variants, str) else list(variants)
            by_name = {v.name: v for v in listed}
            unknown = [w for w in wanted if w not in by_name]
            if unknown:
                raise MnistlabError(
                    f"{path}: no variant {unknown[0]!r} (has: {', '.join(by_name)})"
                )
            listed = [by_name[w] for w in wanted]
        listed = [v for v in listed if split in v.splits]
        if not listed:
            raise MnistlabError(f"{path}: no variant has a {split!r} split")
        parts: list[_Part] = []
        names: tuple[str, ...] = ()
        for v in listed:
            ds = load_variant(path, v, split)
            parts.append(_part_of(ds, v.name, v.info))
            names = ds.class_names
        return parts, names
    if variants is not None:
        raise MnistlabError(
            f"{source}: variants= only applies to a folder written by corrupt/perturb"
        )
    ds = load(source, split=split, data_dir=data_dir, download=download)
    return [_part_of(ds, ds.name)], ds.class_names
