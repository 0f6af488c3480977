"""Morpho-MNIST datasets: plain, thin, thic, swel, frac, global and local, in the released layout.

A folder written by :func:`write_dataset` holds, per split (``train`` or ``t10k``)::

    t10k-images-idx3-ubyte.gz   perturbed images
    t10k-labels-idx1-ubyte.gz   class labels (unchanged)
    t10k-pert-idx1-ubyte.gz     0 plain, 1 thin, 2 thic, 3 swel, 4 frac
    t10k-morpho.csv             morphometrics of the output images
    t10k-meta.csv               sample_id, pert (the manifest's metadata table)

plus the ``mnistlab.json`` manifest (one variant, ``morpho-KIND``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab import random as mrandom
from mnistlab.errors import MnistlabError
from mnistlab.morpho.measure import images_digest, measure, warm_up
from mnistlab.morpho.morphology import Morphology, downscale, morphology
from mnistlab.morpho.perturb import PERTURBATIONS, Perturbation

if TYPE_CHECKING:
    from mnistlab.execution import Execution

__all__ = ["KINDS", "SPLIT_PREFIX", "perturb", "write_dataset"]

# Each kind draws uniformly, per image, among its perturbations (default parameters): one
# kind per perturbation, named as it is, then the release's two mixtures.
KINDS: dict[str, tuple[Perturbation, ...]] = {
    **{name: (cls(),) for name, cls in PERTURBATIONS.items()},
    "global": tuple(PERTURBATIONS[name]() for name in ("plain", "thin", "thic")),
    "local": tuple(PERTURBATIONS[name]() for name in ("plain", "swel", "frac")),
}
SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def _check_kind(kind: str) -> tuple[Perturbation, ...]:
    from mnistlab._validate import check_name

    return KINDS[check_name(kind, KINDS, "kind")]


def _perturb_chunk(
    images: NDArray[np.uint8], ids: NDArray[np.int64], kind: str, seed: int, scale: int
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    from threadpoolctl import threadpool_limits

    choices = _check_kind(kind)
    with threadpool_limits(1):
        morph = morphology(images, scale)
        if len(choices) == 1:
            pick = np.zeros(len(ids), np.int64)
        else:
            pick = mrandom.integers(seed, ids, 0, len(choices), stream="morpho.kind")
        hires = np.empty(morph.binary.shape, np.float64)
        for j, pert in enumerate(choices):
            sel = np.flatnonzero(pick == j)
            if sel.size == 0:
                continue
            sub = _select(morph, sel)
            hires[sel] = pert.apply(sub, seed, ids[sel])
        labels = np.array([p.label for p in choices], np.uint8)[pick]
        return downscale(hires, scale), labels


def _select(morph: Morphology, sel: NDArray[np.intp]) -> Morphology:
    from dataclasses import replace

    return replace(
        morph,
        hires=morph.hires[sel],
        binary=morph.binary[sel],
        skeleton=morph.skeleton[sel],
        distance=morph.distance[sel],
        blank=morph.blank[sel],
    )


def perturb(
    images: NDArray[np.uint8],
    kind: str,
    seed: int = 0,
    sample_ids: ArrayLike | None = None,
    scale: int = 4,
    *,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    execution: Execution | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Perturb every image as a Morpho-MNIST dataset of the given kind.

    Parameters
    ----------
    images : numpy.ndarray, uint8, shape (N, H, W)
    kind : {"plain", "thin", "thic", "swel", "frac", "global", "local"}
        ``global`` picks plain/thin/thic uniformly per image, ``local`` plain/swel/frac.
    seed : int
        Randomness of sample ``i`` comes from ``(seed, sample_ids[i])`` only.
    sample_ids : array-like of int, optional
        Default ``0..N-1``.
    scale : int
        Upsampling factor.
    checkpoint_dir : path-like, optional
        Keep each finished chunk there so a failed run resumes (see :func:`measure`).
    execution : Execution, optional
        How the chunks run (see :func:`measure`; default: local processes on every core,
        chunks of 250 images); the result does not depend on it.

    Returns
    -------
    images : numpy.ndarray, uint8, shape (N, H, W)
    pert : numpy.ndarray, uint8, shape (N,)
        0 plain, 1 thin, 2 thic, 3 swel, 4 frac.

    Examples
    --------
    >>> from mnistlab.execution import Execution
    >>> img = np.zeros((3, 28, 28), np.uint8); img[:, 6:22, 12:16] = 255
    >>> out, pert = perturb(img, "global", seed=1, execution=Execution("serial"))
    >>> out.shape, pert.dtype
    ((3, 28, 28), dtype('uint8'))
    """
    from mnistlab.data.dataset import check_images
    from mnistlab.parallel import map_chunks

    x = check_images(images)
    _check_kind(kind)
    from mnistlab._validate import check_seed

    check_seed(seed)
    ids = mrandom.sample_ids_for(len(x), sample_ids)
    if len(x):
        warm_up(x.shape[1:], scale)
        _perturb_chunk(x[:1], ids[:1], kind, int(seed), scale)  # compile before forking
    parts = map_chunks(
        _perturb_chunk,
        len(x),
        execution,
        arrays=(x, ids),
        args=(kind, int(seed), scale),
        desc=f"perturb {kind}",
        checkpoint_dir=checkpoint_dir,
        job_key={
            "job": "morpho.perturb",
            "images": images_digest(x),
            "sample_ids": images_digest(ids),
            "kind": kind,
            "seed": int(seed),
            "scale": scale,
        },
    )
    if not parts:
        return np.zeros_like(x), np.zeros(0, np.uint8)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def write_dataset(
    name: str | os.PathLike[str],
    out: str | os.PathLike[str],
    kind: str,
    splits: tuple[str, ...] = ("test",),
    seed: int = 0,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    execution: Execution | None = None,
) -> Path:
    """Write a Morpho-MNIST dataset folder (released layout + ``mnistlab.json``), atomically.

    Parameters
    ----------
    name : str or path-like
        A registered dataset or a folder of IDX files (see :func:`mnistlab.data.load`).
    out : path-like
        The folder to write; an existing one is replaced whole, only on success.
    kind : str
        See :func:`perturb`.
    splits : tuple of {"train", "test"}
    seed : int
        See :func:`perturb`.
    data_dir : path-like, optional
        Searched first for a registered dataset.
    checkpoint_dir : path-like, optional
        Keep every finished chunk (perturbation and measurement) there, so a failed run
        resumes; delete it after success with :func:`mnistlab.parallel.remove_checkpoints`.
    execution : Execution, optional
        How the chunks of both steps run (see :func:`measure`; default: local processes on
        every core, chunks of 250 images). With ``Execution("dask")`` and no scheduler, run
        it inside :func:`mnistlab.parallel.dask_session` to start one LocalCluster for every
        step.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    import pandas as pd

    from mnistlab._atomic import atomic_dir
    from mnistlab.data import load, write_idx
    from mnistlab.data.variants import write_manifest

    _check_kind(kind)
    from mnistlab._validate import check_seed as _check_seed

    _check_seed(seed)
    for split in splits:
        if split not in SPLIT_PREFIX:
            raise MnistlabError(f"unknown split {split!r} (choose from: train, test)")
    loaded = [load(name, split=s, data_dir=data_dir) for s in splits]
    entries: dict[str, dict[str, str]] = {}
    with atomic_dir(out, "perturb") as tmp:
        for split, ds in zip(splits, loaded, strict=True):
            prefix = SPLIT_PREFIX[split]
            images, pert = perturb(
                ds.images,
                kind,
                seed,
                ds.sample_ids,
                checkpoint_dir=checkpoint_dir,
                execution=execution,
            )
            files = {
                "images": f"{prefix}-images-idx3-ubyte.gz",
                "labels": f"{prefix}-labels-idx1-ubyte.gz",
                "pert": f"{prefix}-pert-idx1-ubyte.gz",
                "morpho": f"{prefix}-morpho.csv",
                "metadata": f"{prefix}-meta.csv",
            }
            write_idx(tmp / files["images"], images)
            write_idx(tmp / files["labels"], ds.labels.astype(np.uint8))
            write_idx(tmp / files["pert"], pert)
            table = measure(images, checkpoint_dir=checkpoint_dir, execution=execution)
            table.to_csv(tmp / files["morpho"], index=False)
            pd.DataFrame({"sample_id": ds.sample_ids, "pert": pert}).to_csv(
                tmp / files["metadata"], index=False
            )
            entries[split] = files
        write_manifest(
            tmp,
            kind="perturb",
            layout="morpho",
            dataset=ds.name,
            class_names=ds.class_names,
            variants=[{"name": f"morpho-{kind}", "kind": kind, "splits": entries}],
            seed=int(seed),
        )
    return Path(out)
