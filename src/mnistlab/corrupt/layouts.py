"""The two layouts of :func:`mnistlab.corrupt.generate.generate`: MNIST-C and Fashion-MNIST-C.

``_mnist_c`` writes one folder per corruption (every image at each severity), ``_fmnist_c``
one corruption drawn per image (the Fashion-MNIST-C release), both chunked through
:func:`mnistlab.parallel.map_chunks` and written with :mod:`mnistlab.data`'s writers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mnistlab import random as _random
from mnistlab._validate import check_int
from mnistlab.corrupt.registry import get
from mnistlab.data.dataset import Dataset
from mnistlab.data.idx import PIECE_LEVEL
from mnistlab.errors import MnistlabError

if TYPE_CHECKING:
    from mnistlab.execution import Execution

__all__ = ["fmnist_c_assignment"]

_CHOICE_STREAM = "fmnist-c/corruption"
_SEVERITY_STREAM = "fmnist-c/severity"
# The IDX payload is deflated in blocks of this many images, at fixed positions of the split,
# so the .gz bytes do not depend on the chunking; chunks are whole numbers of blocks.
GZIP_BLOCK = 512


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
        from mnistlab.data.idx import deflate_piece

        pieces = [
            deflate_piece(out[s : s + GZIP_BLOCK].tobytes(), gzip_level)
            for s in range(0, len(out), GZIP_BLOCK)
        ]
    return out, choice.astype(np.int8), sev.astype(np.int8), pieces


# --------------------------------------------------------------------------- writers


def _labels_out(labels: NDArray[np.int64]) -> NDArray[Any]:
    # The releases store labels as unsigned bytes.
    return labels.astype(np.uint8) if labels.size == 0 or labels.max() < 256 else labels


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
    from mnistlab.data.formats import write_hf_parquet, write_npz
    from mnistlab.data.idx import write_idx
    from mnistlab.data.registry import split_files

    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "npy":
        np.save(folder / f"{split}_images.npy", images)
        np.save(folder / f"{split}_labels.npy", _labels_out(labels))
        files = {"images": f"{split}_images.npy", "labels": f"{split}_labels.npy"}
    elif fmt == "idx":
        img_stem, lab_stem = split_files(split)
        write_idx(folder / f"{img_stem}.gz", images, compresslevel=PIECE_LEVEL)
        write_idx(folder / f"{lab_stem}.gz", _labels_out(labels), compresslevel=PIECE_LEVEL)
        files = {"images": f"{img_stem}.gz", "labels": f"{lab_stem}.gz"}
    elif fmt == "npz":
        write_npz(folder / f"{split}.npz", images, labels, compress=False)
        files = {"images": f"{split}.npz", "labels": f"{split}.npz"}
    else:
        write_hf_parquet(folder / f"{split}.parquet", images, labels, class_names)
        files = {"images": f"{split}.parquet", "labels": f"{split}.parquet"}
    return {k: f"{rel}/{v}" if rel else v for k, v in files.items()}


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
        return check_int(chunk_size, "chunk_size", minimum=1)
    from mnistlab.parallel import default_workers

    # About four chunks per worker balances the load; at least 500 keeps per-call costs low.
    per = -(-n_total // (4 * (workers or default_workers())))
    return int(min(max(per, 500), 10_000))


def _dataset_name(dataset: Any, first: Dataset) -> str:
    if isinstance(dataset, Mapping):
        return first.name
    return os.fspath(dataset)


def _chunked(
    fn: Any,
    data: Mapping[str, Dataset],
    args: tuple[Any, ...],
    desc: str,
    job: Mapping[str, Any],
    run: Execution,
    ckpt: Path | None,
) -> dict[str, list[Any]]:
    """``fn(images, sample_ids, *args)`` over the chunks of every split; results by split.

    Every split's chunks are submitted before the first result is read, so the workers
    never wait for the split boundary.
    """
    from mnistlab.parallel import map_chunks

    pending = {
        split: map_chunks(
            fn,
            len(ds),
            run,
            arrays=(ds.images, ds.sample_ids),
            args=args,
            checkpoint_dir=ckpt,
            job_key={**job, "split": split},
            desc=desc,
            label=f"{split} samples",
            lazy=True,
        )
        for split, ds in data.items()
    }
    return {split: list(results) for split, results in pending.items()}


def _mnist_c(
    root: Path,
    data: Mapping[str, Dataset],
    pool: Sequence[str],
    severity: int | str,
    seed: int,
    compat: str,
    fmt: str,
    run: Execution,
    ckpt: Path | None,
) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    from mnistlab.corrupt.variants import variant_name

    jobs = [(n, s) for n in pool for s in _severities_for(n, severity)]
    variants = []
    for name, sev in tqdm(jobs, desc="corruptions", unit="variant", disable=not run.progress):
        per_level = severity == "all" and get(name).leveled
        folder = f"{name}-s{sev}" if per_level else name
        job = {
            "corruption": name,
            "severity": sev,
            "seed": seed,
            "compat": compat,
            "n": {k: len(v) for k, v in data.items()},
        }
        results = _chunked(_corrupt_chunk, data, (name, sev, seed, compat), folder, job, run, ckpt)
        entry: dict[str, Any] = {
            "name": variant_name(name, sev),
            "corruption": name,
            "severity": 0 if name == "identity" else sev,
            "folder": folder,
            "splits": {},
        }
        for split, ds in data.items():
            parts = results[split]
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
    run: Execution,
    ckpt: Path | None,
) -> list[dict[str, Any]]:
    import dataclasses

    from mnistlab.corrupt._table import write_corruption_table
    from mnistlab.data.formats import write_hf_parquet, write_npz
    from mnistlab.data.idx import write_idx, write_idx_pieces

    formats = ("idx", "npy") if fmt is None else (fmt,)
    # The workers also deflate their chunk of the IDX payload: gzip runs in parallel too.
    level = PIECE_LEVEL if "idx" in formats else None
    if level is not None:  # whole gzip blocks per chunk
        size = run.chunk_size or 1
        run = dataclasses.replace(run, chunk_size=-(-size // GZIP_BLOCK) * GZIP_BLOCK)
    job = {
        "layout": "fmnist-c",
        "pool": list(pool),
        "severity": severity,
        "seed": seed,
        "compat": compat,
        "n": {k: len(v) for k, v in data.items()},
    }
    args = (pool, severity, seed, compat, level)
    results = _chunked(_fmnist_chunk, data, args, "fmnist-c", job, run, ckpt)
    splits: dict[str, dict[str, str]] = {}
    for split, ds in data.items():
        parts = results[split]
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
                pieces = [b for p in parts for b in p[3]]
                write_idx_pieces(root / f"{stem}-ubyte.gz", images, pieces)
                write_idx(root / f"{stem}-labels-ubyte.gz", labels_out, compresslevel=PIECE_LEVEL)
                names_ = (f"{stem}-ubyte.gz", f"{stem}-labels-ubyte.gz")
            elif f == "npy":
                np.save(root / f"{stem}.npy", images)
                np.save(root / f"{stem}-labels.npy", labels_out)
                names_ = (f"{stem}.npy", f"{stem}-labels.npy")
            elif f == "npz":
                write_npz(root / f"{stem}.npz", images, ds.labels, compress=False)
                names_ = (f"{stem}.npz", f"{stem}.npz")
            else:
                write_hf_parquet(root / f"{stem}.parquet", images, ds.labels, ds.class_names)
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
