"""Benchmark: read_idx on the 60,000-image Fashion-MNIST train file vs a naive struct reader.

Run: ``python benchmarks/bench_idx.py [--quick] [--file PATH]``

Measures, in one process, the MB/s (of decompressed IDX bytes) and images/s of
:func:`mnistlab.data.read_idx` on the gzip file and on a decompressed copy, and of a naive
reader that ``struct.unpack``s one image at a time, then prints the ratios.
"""

from __future__ import annotations

import argparse
import gzip
import os
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from mnistlab.data import read_idx

DEFAULT = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def naive_read(path: Path, limit: int | None = None) -> np.ndarray:
    """Baseline: header with struct, then one ``struct.unpack`` per image."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as fh:
        _zero, _code, ndim = struct.unpack(">HBB", fh.read(4))
        dims = struct.unpack(f">{ndim}I", fh.read(4 * ndim))
        n = dims[0] if limit is None else min(limit, dims[0])
        size = int(np.prod(dims[1:]))
        fmt = f">{size}B"
        images = [struct.unpack(fmt, fh.read(size)) for _ in range(n)]
    return np.array(images, dtype=np.uint8).reshape((n, *dims[1:]))


def best_time(fn: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats, naive on 10,000 images"
    )
    parser.add_argument("--file", type=Path, default=DEFAULT, help="gzip IDX image file")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(
            f"bench_idx: {args.file} missing (apt-get install dataset-fashion-mnist)",
            file=sys.stderr,
        )
        return 2
    repeats = 2 if args.quick else 5
    naive_n = 10_000 if args.quick else None
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / args.file.name.removesuffix(".gz")
        plain.write_bytes(gzip.decompress(args.file.read_bytes()))
        full = read_idx(plain)
        n, nbytes = full.shape[0], plain.stat().st_size
        per_image = nbytes / n
        print(f"file: {args.file} ({n} images, {nbytes / 1e6:.1f} MB decompressed)")
        print(f"best of repeats; load average {os.getloadavg()[0]:.1f} (the machine may be shared)")
        rows = []
        for label, path in (("gzip", args.file), ("plain", plain)):
            t_fast = best_time(partial(read_idx, path), repeats)
            count = n if naive_n is None else min(naive_n, n)
            t_naive = best_time(partial(naive_read, path, count), 1 if args.quick else 2)
            assert np.array_equal(naive_read(path, 100), full[:100])
            fast_mb = nbytes / t_fast / 1e6
            naive_mb = count * per_image / t_naive / 1e6
            rows.append((label, fast_mb, n / t_fast, naive_mb, count / t_naive, fast_mb / naive_mb))
    print(
        f"{'file':6s} {'read_idx MB/s':>14s} {'images/s':>12s} {'naive MB/s':>11s} "
        f"{'images/s':>10s} {'ratio':>7s}"
    )
    for label, fmb, fips, nmb, nips, ratio in rows:
        print(f"{label:6s} {fmb:14.1f} {fips:12,.0f} {nmb:11.1f} {nips:10,.0f} {ratio:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
