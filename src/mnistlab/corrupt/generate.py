"""Corrupted datasets on disk: the MNIST-C and Fashion-MNIST-C layouts.

``mnist-c`` layout (one folder per corruption, as the MNIST-C release)::

    OUT/mnistlab.json
    OUT/identity/test_images.npy  test_labels.npy  [train_images.npy  train_labels.npy]
    OUT/shot_noise/...                      one severity (benchmark or --severity k)
    OUT/shot_noise-s1/ ... shot_noise-s5/   --severity all (corruptions without levels: one folder)

``fmnist-c`` layout (one dataset, each image one corruption drawn uniformly)::

    OUT/mnistlab.json
    OUT/fmnist-c-test-ubyte.gz  fmnist-c-test-labels-ubyte.gz    real gzip IDX
    OUT/fmnist-c-test.npy       fmnist-c-test-labels.npy         the same arrays
    OUT/fmnist-c-test-corruptions.parquet   sample_id, label, corruption, severity, seed

Image formats (``fmt``): ``npy`` (the MNIST-C default), ``idx`` (gzip IDX with the conventional
names, so each MNIST-C folder is also a plain IDX dataset folder), ``npz`` (``<split>.npz`` with
``images`` and ``labels``), ``parquet`` (Hugging Face-style ``<split>.parquet``: PNG bytes and
labels). The fmnist-c layout writes the release's pair (gzip IDX and npy) unless a format is
chosen. Every folder has a ``mnistlab.json`` manifest, so :func:`mnistlab.data.load_variant`
(and ``mnistlab predict``) read any of them back.

Work is cut into chunks of samples run by :func:`mnistlab.parallel.map_chunks`; each chunk
passes its rows' ids in the split to :func:`~mnistlab.corrupt.corrupt`, so the bytes do not
depend on the chunking, the executor or the number of workers. The output folder is written
atomically: a failure leaves no partial output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mnistlab.corrupt.layouts import (
    _chunking,
    _dataset_name,
    _fmnist_c,
    _load_splits,
    _mnist_c,
)
from mnistlab.corrupt.registry import get, names, resolve_compat
from mnistlab.data.dataset import Dataset
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    from mnistlab.execution import Execution

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "SEVERITY_MODES",
    "fmnist_c_names",
    "generate",
    "mnist_c_names",
    "parse_severity",
    "parse_splits",
]

LAYOUTS = ("mnist-c", "fmnist-c")
FORMATS = ("npy", "idx", "npz", "parquet")
SEVERITY_MODES = ("benchmark", "all", "random")


# --------------------------------------------------------------------------- options


def mnist_c_names() -> list[str]:
    """The corruptions of the MNIST-C release, ``identity`` first."""
    found = names(release="mnist-c")
    return ["identity", *[n for n in found if n != "identity"]]


def fmnist_c_names() -> list[str]:
    """The 15 corruptions of Fashion-MNIST-C, sorted by name (the order draws index into)."""
    return sorted(names(release="fmnist-c"))


def parse_severity(value: str | int | None) -> int | str:
    """``"1".."5"`` -> int; ``"benchmark"`` (also None), ``"all"``, ``"random"`` stay strings.

    Examples
    --------
    >>> parse_severity("3"), parse_severity(None), parse_severity("all")
    (3, 'benchmark', 'all')
    """
    if value is None:
        return "benchmark"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = int(value)
    else:
        text = str(value).strip().lower()
        if text in SEVERITY_MODES:
            return text
        if not text.isdigit():
            raise MnistlabError(f"severity must be 1..5, benchmark, all or random, got {value!r}")
        number = int(text)
    if not 1 <= number <= 5:
        raise MnistlabError(f"severity must be 1..5, benchmark, all or random, got {value!r}")
    return number


def parse_splits(split: str | Sequence[str]) -> tuple[str, ...]:
    """``"test"``, ``"train"`` or ``"all"`` (both) -> the splits, train first."""
    items = [split] if isinstance(split, str) else list(split)
    out: list[str] = []
    for item in items:
        if item == "all":
            out += ["train", "test"]
        elif item in ("train", "test"):
            out.append(item)
        else:
            raise MnistlabError(f"unknown split {item!r} (choose from: test, train, all)")
    return tuple(s for s in ("train", "test") if s in out)


def generate(
    dataset: str | os.PathLike[str] | Mapping[str, Dataset],
    out: str | os.PathLike[str],
    *,
    layout: str = "mnist-c",
    splits: str | Sequence[str] = "test",
    corruptions: Sequence[str] | None = None,
    severity: int | str | None = "benchmark",
    seed: int = 0,
    compat: str | None = None,
    fmt: str | None = None,
    limit: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    execution: Execution | None = None,
) -> Path:
    """Write a corrupted copy of a dataset in the MNIST-C or Fashion-MNIST-C layout.

    Parameters
    ----------
    dataset : str, path-like or mapping
        A name or folder :func:`mnistlab.data.load` reads, or ``{split: Dataset}``.
    out : path-like
        Output folder (replaced atomically when it exists).
    layout : {"mnist-c", "fmnist-c"}
        See the module docstring.
    splits : {"test", "train", "all"} or sequence
        Which splits to corrupt.
    corruptions : sequence of str, optional
        Default: the release's (MNIST-C: its 15 and ``identity``; Fashion-MNIST-C: its 15).
        The MNIST-C layout always writes ``identity`` (the clean variant) with them.
    severity : int 1..5, "benchmark", "all" or "random"
        ``benchmark``: each corruption at the level its release used; ``all`` (mnist-c): one
        folder per level; ``random`` (fmnist-c): uniform 1..5 per image.
    seed : int
        Sample ``i`` draws its randomness (and, fmnist-c, its corruption) from ``(seed, i)``.
    compat : {None, "default", "mnist-c"}
        Reproduce the releases' quirks (see ``mnistlab corruptions``).
    fmt : {"npy", "idx", "npz", "parquet"}, optional
        Image file format. Default: ``npy`` (mnist-c), gzip IDX and npy (fmnist-c).
    limit : int, optional
        Only the first ``limit`` images of each split.
    data_dir : path-like, optional
        Searched first for a registered dataset.
    execution : Execution, optional
        How the chunks run (:class:`mnistlab.execution.Execution`; default: local processes
        on every core): its executor, workers and scheduler; its ``chunk_size``, samples per
        task (default: about four tasks per worker, 500 to 10,000); its ``checkpoint``,
        whether finished chunks are kept beside ``out`` so an interrupted run resumes where
        it stopped; its ``progress``, whether progress bars show. The output does not
        depend on it.

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> generate("fashion-mnist", "fmnist_c", layout="fmnist-c", splits="all")  # doctest: +SKIP
    PosixPath('fmnist_c')
    >>> from mnistlab.execution import Execution
    >>> job = Execution("serial", checkpoint=True)
    >>> generate("mnist", "mnist_c", limit=100, execution=job)  # doctest: +SKIP
    PosixPath('mnist_c')
    """
    if layout not in LAYOUTS:
        raise MnistlabError(f"unknown layout {layout!r} (choose from: {', '.join(LAYOUTS)})")
    if fmt is not None and fmt not in FORMATS:
        raise MnistlabError(f"unknown format {fmt!r} (choose from: {', '.join(FORMATS)})")
    sev = parse_severity(severity)
    if layout == "mnist-c" and sev == "random":
        raise MnistlabError("severity 'random' is for --layout fmnist-c (one level per image)")
    if layout == "fmnist-c" and sev == "all":
        raise MnistlabError("severity 'all' is for --layout mnist-c (one folder per level)")
    from mnistlab._validate import check_positive, check_scheduler, check_seed
    from mnistlab.execution import Execution

    check_seed(seed)
    check_positive(limit, "limit")
    job = Execution() if execution is None else execution
    check_scheduler(job.scheduler, job.executor, "scheduler")
    mode = resolve_compat(compat)
    split_list = parse_splits(splits)
    if corruptions is not None and not corruptions:
        raise MnistlabError("corruptions: give at least one name")
    pool = (
        list(corruptions)
        if corruptions is not None
        else (mnist_c_names() if layout == "mnist-c" else fmnist_c_names())
    )
    pool = [get(n).name for n in pool]  # unknown names fail here, aliases resolve
    if len(set(pool)) != len(pool):
        raise MnistlabError(f"corruptions: duplicate names in {', '.join(pool)}")
    if layout == "mnist-c" and "identity" not in pool:
        # The clean variant always comes with the chosen ones: accuracy drops, mCE and the
        # clean rows of every table need it.
        pool = ["identity", *pool]
    data = _load_splits(dataset, split_list, data_dir, limit)
    first = data[split_list[0]]
    n_total = sum(len(d) for d in data.values())
    size = _chunking(n_total, job.workers, job.chunk_size)
    from mnistlab._atomic import atomic_dir
    from mnistlab.data.variants import write_manifest
    from mnistlab.execution import execution as job_block
    from mnistlab.parallel import checkpoint_dir_for, execution_session

    ckpt = checkpoint_dir_for(out) if job.checkpoint else None
    # One worker pool for every corruption and split of the job (warm caches in each worker).
    with (
        execution_session(job),
        job_block(
            job.executor, job.workers, job.scheduler, chunk_size=size, progress=job.progress
        ) as run,
        atomic_dir(out, "corrupt") as tmp,
    ):
        if layout == "mnist-c":
            variants = _mnist_c(tmp, data, pool, sev, int(seed), mode, fmt or "npy", run, ckpt)
        else:
            variants = _fmnist_c(tmp, data, tuple(pool), sev, int(seed), mode, fmt, run, ckpt)
        write_manifest(
            tmp,
            kind="corrupt",
            layout=layout,
            dataset=_dataset_name(dataset, first),
            class_names=first.class_names,
            variants=variants,
            seed=int(seed),
            compat=mode,
            severity=sev,
            corruptions=pool,
            splits=list(split_list),
        )
    if ckpt is not None:
        from mnistlab.parallel import remove_checkpoints

        remove_checkpoints(ckpt)
    return Path(out)
