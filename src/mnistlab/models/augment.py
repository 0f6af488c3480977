"""Training with on-the-fly corruptions: a robustness recipe for the PyTorch models.

:class:`CorruptionAugment` names the corruptions (or whole families: ``"noise"``,
``"blur"``, ...) a network sees during training, with probability ``p`` per image and a
severity drawn from 1..5. The images come from :class:`mnistlab.torch.MnistDataset`
through a ``DataLoader``, so what image ``i`` looks like in epoch ``e`` depends only on
``(seed, e, i)``: the weights are the same whatever ``num_workers`` loads the batches.
The recipe is recorded in the model's manifest (``corruption_augment``).

This is the training side of the held-out-family protocol (the MNIST-C rule: do not train
on the corruptions you test on): :meth:`CorruptionAugment.seen` tells which corruptions of
a benchmark were seen in training.

Examples
--------
>>> aug = CorruptionAugment.from_spec("noise,motion_blur", p=0.5)
>>> aug.families
('noise', 'blur')
>>> "gaussian_noise" in aug.corruptions, aug.seen("fog"), aug.seen("shot_noise")
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab._validate import parse_list
from mnistlab.errors import MnistlabError

__all__ = ["CHUNK_IMAGES", "CorruptionAugment", "resolve_corruptions"]

#: Images the DataLoader fetches (and corrupts) at once; training batches are cut from them.
CHUNK_IMAGES = 4096


def resolve_corruptions(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Corruption names of ``spec``: names or families, comma-separated or a list.

    A family (see ``mnistlab corruptions``) stands for all its corruptions except the
    identity. Unknown names raise :class:`MnistlabError` naming them and the families.

    Examples
    --------
    >>> resolve_corruptions("gaussian_noise")
    ('gaussian_noise',)
    """
    from mnistlab.corrupt import get, names
    from mnistlab.corrupt.registry import FAMILIES

    items = parse_list(spec) or ()
    if not items:
        raise MnistlabError("augment: give corruption names or families (e.g. noise,blur)")
    out: list[str] = []
    for item in items:
        if item in FAMILIES:
            found = [n for n in names(family=item) if n != "identity"]
        else:
            try:
                found = [get(item).name]
            except MnistlabError:
                raise MnistlabError(
                    f"augment: unknown corruption or family {item!r} "
                    f"(families: {', '.join(FAMILIES)}; names: see 'mnistlab corruptions')"
                ) from None
        out.extend(n for n in found if n not in out)
    if not out:
        raise MnistlabError(f"augment: {spec!r} names no corruption")
    return tuple(out)


def _to_uint8(batch: list[tuple[Any, ...]]) -> NDArray[np.uint8]:
    """Collate ``MnistDataset`` items back into the uint8 images the trainer takes."""
    x = np.stack([item[0].numpy()[0] for item in batch])
    return np.rint(x * np.float32(255.0)).astype(np.uint8)


@dataclass(frozen=True)
class CorruptionAugment:
    """On-the-fly corruption of the training images (see the module docstring).

    Parameters
    ----------
    corruptions : tuple of str
        Registered corruption names (:func:`resolve_corruptions` expands families).
    p : float
        Probability that an image is corrupted, in ``[0, 1]``.
    severity : int, tuple of int or "random"
        Severity of the corruption (default: drawn from 1..5 per image).
    num_workers : int
        ``DataLoader`` worker processes (0: in the training process); the result does not
        depend on it.
    compat : str, optional
        Corruption compat mode (:func:`mnistlab.corrupt.corrupt`).
    spec : tuple of str
        What was asked for (names and families), for the manifest.
    """

    corruptions: tuple[str, ...]
    p: float = 0.5
    severity: int | tuple[int, ...] | str = "random"
    num_workers: int = 0
    compat: str | None = None
    spec: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from mnistlab.torch import check_augment

        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)):
            raise MnistlabError(f"augment p must be a probability in [0, 1], got {self.p!r}")
        if not 0.0 <= float(self.p) <= 1.0:
            raise MnistlabError(f"augment p must be a probability in [0, 1], got {self.p!r}")
        if not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise MnistlabError(f"num_workers must be >= 0, got {self.num_workers!r}")
        check_augment(self.corruptions, self.severity, 0, self.p)

    @classmethod
    def from_spec(
        cls,
        spec: str | Sequence[str],
        p: float = 0.5,
        severity: int | tuple[int, ...] | str = "random",
        num_workers: int = 0,
        compat: str | None = None,
    ) -> CorruptionAugment:
        """From names and/or families (``"noise,blur"``)."""
        items = parse_list(spec) or ()
        return cls(resolve_corruptions(items), p, severity, num_workers, compat, items)

    @property
    def families(self) -> tuple[str, ...]:
        """Families of the corruptions, in order of first appearance."""
        from mnistlab.corrupt import get

        out: list[str] = []
        for name in self.corruptions:
            fam = get(name).family
            if fam not in out:
                out.append(fam)
        return tuple(out)

    def seen(self, corruption: str) -> bool:
        """True when ``corruption``'s family was trained on (the held-out-family rule)."""
        from mnistlab.corrupt import get

        return corruption != "identity" and get(corruption).family in self.families

    def manifest(self) -> dict[str, Any]:
        """What the model manifest records (``corruption_augment``)."""
        sev = list(self.severity) if isinstance(self.severity, tuple) else self.severity
        return {
            "spec": list(self.spec or self.corruptions),
            "corruptions": list(self.corruptions),
            "families": list(self.families),
            "p": float(self.p),
            "severity": sev,
            "compat": self.compat,
            "source": "mnistlab.torch.MnistDataset (seed, epoch, index)",
        }

    def batches(
        self,
        images: NDArray[np.uint8],
        labels: NDArray[np.int64],
        *,
        seed: int,
        epoch: int,
        order: NDArray[np.int64],
        batch_size: int,
    ) -> Iterator[NDArray[np.uint8]]:
        """The uint8 images of each batch of ``order`` in epoch ``epoch``, corrupted."""
        from torch.utils.data import DataLoader

        from mnistlab.data.dataset import Dataset
        from mnistlab.torch import MnistDataset

        names = tuple(str(i) for i in range(int(labels.max()) + 1)) if len(labels) else ("0",)
        ds = MnistDataset(
            Dataset(images, labels, names),
            corruptions=self.corruptions,
            severity=self.severity,
            seed=int(seed),
            p=float(self.p),
            compat=self.compat,
        )
        ds.set_epoch(int(epoch))
        # The loader fetches chunks of many batches: MnistDataset.__getitems__ corrupts each
        # (corruption, severity) group of a chunk in one call, which is what makes on-the-fly
        # corruption affordable (a call costs up to 0.2 s whatever its size). Every image is
        # the same whatever the chunking or the workers.
        chunk = batch_size * max(1, CHUNK_IMAGES // batch_size)
        sampler = [order[c : c + chunk].tolist() for c in range(0, len(order), chunk)]
        loader = DataLoader(
            ds, batch_sampler=sampler, num_workers=self.num_workers, collate_fn=_to_uint8
        )
        for images_chunk in loader:
            for b in range(0, len(images_chunk), batch_size):
                yield images_chunk[b : b + batch_size]
