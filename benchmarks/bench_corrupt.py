"""Corruption throughput: batched vs one image at a time, and the full Fashion-MNIST-C on disk.

Run: ``python benchmarks/bench_corrupt.py [--quick] [--workers 2] [--names fog,spatter]``

For every corruption at its benchmark severity (severity 1 when it has none), in one process:
images/s of the batched implementation (one call on the whole batch) and of a naive loop that
calls the same function on 1-image batches, and their ratio. Then the wall time to write the
full Fashion-MNIST-C (train + test, 70,000 images, gzip IDX + npy + Parquet table) with
``--workers`` processes. Targets on a 2-core machine: every Fashion-MNIST-C corruption at least
20,000 images/s on one core (fog and spatter at least 5,000), the full dataset under 5 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np


def _rate(fn, n: int, min_time: float) -> float:
    fn()  # warm up (caches, first-call imports)
    runs, start = 0, time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return runs * n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, skip the full run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--names", default=None, help="comma-separated corruptions")
    args = parser.parse_args(argv)

    from mnistlab.corrupt import corrupt, get, names
    from mnistlab.corrupt.generate import fmnist_c_names, generate
    from mnistlab.data import load

    test = load("fashion-mnist", split="test", download=False)
    n_batch = 1000 if args.quick else 5000
    n_naive = 100 if args.quick else 300
    min_time = 0.2 if args.quick else 0.5
    x = np.ascontiguousarray(test.images[:n_batch])
    chosen = args.names.split(",") if args.names else names()
    fmnist = set(fmnist_c_names())

    print(f"load: {os.getloadavg()[0]:.1f} (1-min average; the machine may be shared)")
    print(
        f"{'corruption':18s} {'sev':>3s} {'batched img/s':>14s} {'naive img/s':>12s}"
        f" {'ratio':>7s}  target"
    )
    rows = []
    for name in chosen:
        c = get(name)
        sev = c.benchmark_severity or 1
        batched = _rate(lambda c=c, sev=sev: corrupt(x, c.name, severity=sev), len(x), min_time)
        one = x[:n_naive]

        def naive(c=c, sev=sev, one=one) -> None:
            for i in range(len(one)):
                corrupt(one[i : i + 1], c.name, severity=sev, sample_ids=[i])

        slow = _rate(naive, len(one), min_time)
        target = 5_000 if name in ("fog", "spatter") else 20_000 if name in fmnist else None
        mark = "" if target is None else ("ok" if batched >= target else f"BELOW {target:,}")
        rows.append((name, batched))
        print(f"{name:18s} {sev:3d} {batched:14,.0f} {slow:12,.0f} {batched / slow:6.1f}x  {mark}")
        sys.stdout.flush()

    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate(
                "fashion-mnist",
                os.path.join(tmp, "fmnist-c"),
                layout="fmnist-c",
                splits="all",
                workers=args.workers,
            )
            wall = time.perf_counter() - start
        verdict = "ok" if wall < 5 else "ABOVE 5 s"
        print(
            f"full Fashion-MNIST-C (70,000 images, gz IDX + npy + parquet), "
            f"{args.workers} workers: {wall:.2f} s  {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
