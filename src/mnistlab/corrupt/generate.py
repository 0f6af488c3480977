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

Work is cut into chunks of samples run by :func:`mnistlab.parallel.map_tasks`; each chunk
passes its rows' ids in the split to :func:`~mnistlab.corrupt.corrupt`, so the bytes do not
depend on the chunking, the executor or the number of workers. The output folder is written
atomically: a failure leaves no partial output.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab import random as _random
from mnistlab.corrupt.registry import get, names, resolve_compat
from mnistlab.data.dataset import Dataset
from mnistlab.errors import MnistlabError

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "SEVERITY_MODES",
    "deflate_piece",
    "fmnist_c_assignment",
    "fmnist_c_names",
    "generate",
    "gzip_from_pieces",
    "mnist_c_names",
    "parse_severity",
    "parse_splits",
]

LAYOUTS = ("mnist-c", "fmnist-c")
FORMATS = ("npy", "idx", "npz", "parquet")
SEVERITY_MODES = ("benchmark", "all", "random")
_CHOICE_STREAM = "fmnist-c/corruption"
_SEVERITY_STREAM = "fmnist-c/severity"
_GZIP_LEVEL = 1  # level 1 is 5x faster than 6 and only ~10% larger on these images
# The IDX payload is deflated in blocks of this many images, at fixed positions of the split,
# so the .gz bytes do not depend on the chunking; chunks are whole numbers of blocks.
GZIP_BLOCK = 512


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


def _default_severity(name: str) -> int:
    # The severity ``corrupt(..., severity=None)`` uses.
    return get(name).benchmark_severity or 1


def _severities_for(name: str, severity: int | str) -> list[int]:
    if severity == "all":
        return [1, 2, 3, 4, 5] if get(name).leveled else [1]
    if severity == "benchmark":
        return [_default_severity(name)]
    assert isinstance(severity, int)
    return [severity]


# --------------------------------------------------------------------------- chunk tasks


def _corrupt_chunk(
    images: NDArray[np.uint8],
    ids: NDArray[np.int64],
    name: str,
    severity: int,
    seed: int,
    compat: str,
) -> NDArray[np.uint8]:
    from mnistlab.corrupt.registry import corrupt

    return corrupt(images, name, severity=severity, seed=seed, sample_ids=ids, compat=compat)


def fmnist_c_assignment(
    sample_ids: NDArray[np.int64], pool: Sequence[str], severity: int | str, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Which corruption (index into ``pool``) and severity each sample gets.

    Both are drawn from ``(seed, sample_id)`` only: uniform over ``pool``, and for
    ``severity="random"`` uniform over 1..5; ``"benchmark"`` takes each corruption's.
    """
    choice = _random.integers(seed, sample_ids, 0, len(pool), (), _CHOICE_STREAM)
    if severity == "random":
        sev = _random.integers(seed, sample_ids, 1, 6, (), _SEVERITY_STREAM)
    elif severity == "benchmark":
        sev = np.asarray([_default_severity(n) for n in pool], dtype=np.int64)[choice]
    else:
        sev = np.full(len(sample_ids), int(severity), dtype=np.int64)
    return choice, sev


def _fmnist_chunk(
    images: NDArray[np.uint8],
    ids: NDArray[np.int64],
    pool: tuple[str, ...],
    severity: int | str,
    seed: int,
    compat: str,
    gzip_level: int | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.int8], NDArray[np.int8], list[bytes] | None]:
    from mnistlab.corrupt.registry import corrupt

    choice, sev = fmnist_c_assignment(ids, pool, severity, seed)
    out = np.empty_like(images)
    # One batched call per (corruption, severity) group present in the chunk.
    key = choice * 8 + sev
    for k in np.unique(key):
        rows = np.flatnonzero(key == k)
        out[rows] = corrupt(
            images[rows],
            pool[int(k) // 8],
            severity=int(k) % 8,
            seed=seed,
            sample_ids=ids[rows],
            compat=compat,
        )
    pieces = None
    if gzip_level is not None:
        pieces = [
            deflate_piece(out[s : s + GZIP_BLOCK].tobytes(), gzip_level)
            for s in range(0, len(out), GZIP_BLOCK)
        ]
    return out, choice.astype(np.int8), sev.astype(np.int8), pieces


def deflate_piece(data: bytes, level: int = _GZIP_LEVEL) -> bytes:
    """Raw deflate of ``data`` ending on a byte boundary with no final block (pigz style).

    Pieces compressed independently (in parallel) and concatenated, followed by
    :func:`gzip_from_pieces`, form one ordinary gzip member.
    """
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)


def gzip_from_pieces(path: Path, pieces: Sequence[bytes], crc: int, size: int) -> None:
    """Write a single-member gzip file from :func:`deflate_piece` outputs (atomically).

    ``crc`` and ``size`` are the CRC-32 and length of the uncompressed data.
    """
    from mnistlab._atomic import atomic_path

    last = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, -15)
    final = last.compress(b"") + last.flush(zlib.Z_FINISH)  # an empty final block
    # Header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown.
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(header)
        for piece in pieces:
            fh.write(piece)
        fh.write(final)
        fh.write(trailer)


# --------------------------------------------------------------------------- writers


def _labels_out(labels: NDArray[np.int64]) -> NDArray[Any]:
    # The releases store labels as unsigned bytes.
    return labels.astype(np.uint8) if labels.size == 0 or labels.max() < 256 else labels


def _write_hf_parquet(
    path: Path, images: NDArray[np.uint8], labels: NDArray[np.int64], class_names: Sequence[str]
) -> None:
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from mnistlab.data.formats import encode_png

    blobs = encode_png(images)
    image = pa.StructArray.from_arrays(
        [pa.array(blobs, pa.binary()), pa.nulls(len(blobs), pa.string())], names=["bytes", "path"]
    )
    table = pa.table({"image": image, "label": pa.array(labels, pa.int64())})
    features = {
        "image": {"_type": "Image"},
        "label": {"names": list(class_names), "_type": "ClassLabel"},
    }
    meta = json.dumps({"info": {"features": features}}).encode("utf-8")
    pq.write_table(table.replace_schema_metadata({"huggingface": meta}), path)


def _write_split(
    folder: Path,
    rel: str,
    split: str,
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    fmt: str,
    class_names: Sequence[str],
) -> dict[str, str]:
    """Write one split of an MNIST-C folder; return its manifest entry (paths relative to root)."""
    from mnistlab.data.idx import write_idx
    from mnistlab.data.registry import split_files

    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "npy":
        np.save(folder / f"{split}_images.npy", images)
        np.save(folder / f"{split}_labels.npy", _labels_out(labels))
        files = {"images": f"{split}_images.npy", "labels": f"{split}_labels.npy"}
    elif fmt == "idx":
        img_stem, lab_stem = split_files(split)
        write_idx(folder / f"{img_stem}.gz", images, compresslevel=_GZIP_LEVEL)
        write_idx(folder / f"{lab_stem}.gz", _labels_out(labels), compresslevel=_GZIP_LEVEL)
        files = {"images": f"{img_stem}.gz", "labels": f"{lab_stem}.gz"}
    elif fmt == "npz":
        np.savez(folder / f"{split}.npz", images=images, labels=labels)
        files = {"images": f"{split}.npz", "labels": f"{split}.npz"}
    else:
        _write_hf_parquet(folder / f"{split}.parquet", images, labels, class_names)
        files = {"images": f"{split}.parquet", "labels": f"{split}.parquet"}
    return {k: f"{rel}/{v}" if rel else v for k, v in files.items()}


def _idx_header(images: NDArray[np.uint8]) -> bytes:
    # IDX header of a uint8 array: two zero bytes, type 0x08, rank, big-endian sizes.
    return bytes([0, 0, 0x08, images.ndim]) + np.asarray(images.shape, dtype=">u4").tobytes()


def _meta_needed(ids: NDArray[np.int64]) -> bool:
    return not np.array_equal(ids, np.arange(len(ids), dtype=np.int64))


# --------------------------------------------------------------------------- generate


def _load_splits(
    dataset: str | os.PathLike[str] | Mapping[str, Dataset],
    splits: Sequence[str],
    data_dir: str | os.PathLike[str] | None,
    limit: int | None,
) -> dict[str, Dataset]:
    from mnistlab.data import load

    out = {}
    for split in splits:
        if isinstance(dataset, Mapping):
            if split not in dataset:
                raise MnistlabError(f"no {split!r} split given (have: {', '.join(dataset)})")
            ds = dataset[split]
        else:
            ds = load(dataset, split=split, data_dir=data_dir)
        out[split] = ds if limit is None else ds[:limit]
    return out


def _chunking(n_total: int, workers: int | None, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if chunk_size < 1:
            raise MnistlabError(f"chunk_size must be at least 1, got {chunk_size}")
        return chunk_size
    from mnistlab.parallel import default_workers

    # About four chunks per worker balances the load; at least 500 keeps per-call costs low.
    per = -(-n_total // (4 * (workers or default_workers())))
    return int(min(max(per, 500), 10_000))


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
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    limit: int | None = None,
    chunk_size: int | None = None,
    checkpoint: bool = False,
    progress: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
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
    severity : int 1..5, "benchmark", "all" or "random"
        ``benchmark``: each corruption at the level its release used; ``all`` (mnist-c): one
        folder per level; ``random`` (fmnist-c): uniform 1..5 per image.
    seed : int
        Sample ``i`` draws its randomness (and, fmnist-c, its corruption) from ``(seed, i)``.
    compat : {None, "default", "mnist-c"}
        Reproduce the releases' quirks (see ``mnistlab corruptions``).
    fmt : {"npy", "idx", "npz", "parquet"}, optional
        Image file format. Default: ``npy`` (mnist-c), gzip IDX and npy (fmnist-c).
    workers, executor, scheduler
        As in :func:`mnistlab.parallel.map_tasks`; the output does not depend on them.
    limit : int, optional
        Only the first ``limit`` images of each split.
    chunk_size : int, optional
        Samples per task (default: about four tasks per worker, 500 to 10,000).
    checkpoint : bool
        Keep finished chunks beside ``out`` so an interrupted run resumes where it stopped.
    progress : bool
        Show progress bars.
    data_dir : path-like, optional
        Searched first for a registered dataset.

    Returns
    -------
    pathlib.Path
        ``out``.

    Examples
    --------
    >>> generate("fashion-mnist", "fmnist_c", layout="fmnist-c", splits="all")  # doctest: +SKIP
    PosixPath('fmnist_c')
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

    check_seed(seed)
    check_positive(limit, "limit")
    check_positive(workers, "workers")
    check_scheduler(scheduler, executor, "scheduler")
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
    data = _load_splits(dataset, split_list, data_dir, limit)
    first = data[split_list[0]]
    n_total = sum(len(d) for d in data.values())
    size = _chunking(n_total, workers, chunk_size)
    run = {
        "executor": executor,
        "workers": workers,
        "scheduler": scheduler,
        "progress": progress,
        "checkpoint": checkpoint,
        "out": Path(out),
    }
    from mnistlab._atomic import atomic_dir
    from mnistlab.data.variants import write_manifest
    from mnistlab.execution import execution

    # One worker pool for every corruption and split of the job (warm caches in each worker).
    with (
        _session(executor, scheduler, workers),
        execution(executor, workers, scheduler, chunk_size=size, progress=progress),
        atomic_dir(out, "corrupt") as tmp,
    ):
        if layout == "mnist-c":
            variants = _mnist_c(tmp, data, pool, sev, int(seed), mode, fmt or "npy", size, run)
        else:
            variants = _fmnist_c(tmp, data, tuple(pool), sev, int(seed), mode, fmt, size, run)
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
    if checkpoint:
        from mnistlab.parallel import checkpoint_dir_for, remove_checkpoints

        remove_checkpoints(checkpoint_dir_for(out))
    return Path(out)


def _dataset_name(dataset: Any, first: Dataset) -> str:
    if isinstance(dataset, Mapping):
        return first.name
    return os.fspath(dataset)


def _session(executor: str, scheduler: str | None, workers: int | None) -> Any:
    import contextlib

    if executor != "dask":
        return contextlib.nullcontext()
    from mnistlab.parallel import dask_session

    return dask_session(scheduler, workers)


def _run(
    fn: Any,
    tasks: list[tuple[Any, ...]],
    labels: list[str],
    desc: str,
    job: Any,
    run: Mapping[str, Any],
) -> list[Any]:
    from mnistlab.parallel import checkpoint_dir_for, map_tasks

    return map_tasks(
        fn,
        tasks,
        executor=run["executor"],
        workers=run["workers"],
        scheduler=run["scheduler"],
        progress=run["progress"],
        desc=desc,
        checkpoint_dir=checkpoint_dir_for(run["out"]) if run["checkpoint"] else None,
        job_key=job,
        labels=labels,
    )


def _chunks(ds: Dataset, size: int) -> list[tuple[int, int]]:
    from mnistlab.parallel import chunk_bounds

    return chunk_bounds(len(ds), size) if len(ds) else []


def _mnist_c(
    root: Path,
    data: Mapping[str, Dataset],
    pool: Sequence[str],
    severity: int | str,
    seed: int,
    compat: str,
    fmt: str,
    size: int,
    run: Mapping[str, Any],
) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    from mnistlab.run import variant_name

    jobs = [(n, s) for n in pool for s in _severities_for(n, severity)]
    variants = []
    for name, sev in tqdm(jobs, desc="corruptions", unit="variant", disable=not run["progress"]):
        per_level = severity == "all" and get(name).leveled
        folder = f"{name}-s{sev}" if per_level else name
        tasks, labels, where = [], [], []
        for split, ds in data.items():
            for s, e in _chunks(ds, size):
                tasks.append((ds.images[s:e], ds.sample_ids[s:e], name, sev, seed, compat))  # type: ignore[index]
                labels.append(f"{split} samples {s}..{e - 1}")
                where.append(split)
        job = {
            "corruption": name,
            "severity": sev,
            "seed": seed,
            "compat": compat,
            "n": {k: len(v) for k, v in data.items()},
        }
        results = _run(_corrupt_chunk, tasks, labels, folder, job, run)
        entry: dict[str, Any] = {
            "name": variant_name(name, sev),
            "corruption": name,
            "severity": 0 if name == "identity" else sev,
            "folder": folder,
            "splits": {},
        }
        for split, ds in data.items():
            parts = [r for r, w in zip(results, where, strict=True) if w == split]
            images = np.concatenate(parts) if parts else ds.images[:0]
            files = _write_split(
                root / folder, folder, split, images, ds.labels, fmt, ds.class_names
            )
            assert ds.sample_ids is not None
            if _meta_needed(ds.sample_ids):
                import pandas as pd

                meta = f"{split}_meta.parquet"
                pd.DataFrame({"sample_id": ds.sample_ids}).to_parquet(
                    root / folder / meta, index=False
                )
                files["metadata"] = f"{folder}/{meta}"
            entry["splits"][split] = files
        variants.append(entry)
    return variants


def _fmnist_c(
    root: Path,
    data: Mapping[str, Dataset],
    pool: tuple[str, ...],
    severity: int | str,
    seed: int,
    compat: str,
    fmt: str | None,
    size: int,
    run: Mapping[str, Any],
) -> list[dict[str, Any]]:
    from mnistlab.corrupt._table import write_corruption_table
    from mnistlab.data.idx import write_idx

    formats = ("idx", "npy") if fmt is None else (fmt,)
    # The workers also deflate their chunk of the IDX payload: gzip runs in parallel too.
    level = _GZIP_LEVEL if "idx" in formats else None
    if level is not None:
        size = -(-size // GZIP_BLOCK) * GZIP_BLOCK
    tasks, labels, where = [], [], []
    for split, ds in data.items():
        for s, e in _chunks(ds, size):
            tasks.append(
                (ds.images[s:e], ds.sample_ids[s:e], pool, severity, seed, compat, level)  # type: ignore[index]
            )
            labels.append(f"{split} samples {s}..{e - 1}")
            where.append(split)
    job = {
        "layout": "fmnist-c",
        "pool": list(pool),
        "severity": severity,
        "seed": seed,
        "compat": compat,
        "n": {k: len(v) for k, v in data.items()},
    }
    results = _run(_fmnist_chunk, tasks, labels, "fmnist-c", job, run)
    splits: dict[str, dict[str, str]] = {}
    for split, ds in data.items():
        parts = [r for r, w in zip(results, where, strict=True) if w == split]
        if parts:
            images = np.concatenate([p[0] for p in parts])
            choice = np.concatenate([p[1] for p in parts]).astype(np.int64)
            sev = np.concatenate([p[2] for p in parts]).astype(np.int64)
        else:
            images, choice, sev = ds.images[:0], np.zeros(0, np.int64), np.zeros(0, np.int64)
        labels_out = _labels_out(ds.labels)
        stem = f"fmnist-c-{split}"
        files: dict[str, str] = {}
        # The manifest points at the first format written; the others hold the same arrays.
        for f in formats:
            if f == "idx":
                header = _idx_header(images)
                crc = zlib.crc32(np.ascontiguousarray(images).data, zlib.crc32(header))
                pieces = [deflate_piece(header), *(b for p in parts for b in p[3])]
                size_ = len(header) + images.nbytes
                gzip_from_pieces(root / f"{stem}-ubyte.gz", pieces, crc, size_)
                write_idx(root / f"{stem}-labels-ubyte.gz", labels_out, compresslevel=_GZIP_LEVEL)
                names_ = (f"{stem}-ubyte.gz", f"{stem}-labels-ubyte.gz")
            elif f == "npy":
                np.save(root / f"{stem}.npy", images)
                np.save(root / f"{stem}-labels.npy", labels_out)
                names_ = (f"{stem}.npy", f"{stem}-labels.npy")
            elif f == "npz":
                np.savez(root / f"{stem}.npz", images=images, labels=ds.labels)
                names_ = (f"{stem}.npz", f"{stem}.npz")
            else:
                _write_hf_parquet(root / f"{stem}.parquet", images, ds.labels, ds.class_names)
                names_ = (f"{stem}.parquet", f"{stem}.parquet")
            files.setdefault("images", names_[0])
            files.setdefault("labels", names_[1])
        # pyarrow directly: importing pandas would cost more than the whole 10k split.
        write_corruption_table(
            root / f"{stem}-corruptions.parquet", ds.sample_ids, ds.labels, choice, pool, sev, seed
        )
        files["metadata"] = f"{stem}-corruptions.parquet"
        splits[split] = files
    info = {"corruptions": list(pool), "severity_mode": severity}
    if isinstance(severity, int):
        info["severity"] = severity
    return [{"name": "fmnist-c", **info, "splits": splits}]
