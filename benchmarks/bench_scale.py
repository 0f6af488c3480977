"""Scale-out throughput: serial vs local processes vs Dask, against the number of workers.

Run: ``python benchmarks/bench_scale.py [--quick] [--corruption motion_blur]``

Two jobs on real Fashion-MNIST / MNIST test images, each cut into chunks by
:func:`mnistlab.parallel.map_chunks`:

* a corruption job (``--corruption``, severity 3), and
* a morphometry job (:func:`mnistlab.morpho.measure`, when that module is installed).

For each job: images/s of the serial baseline (one process, same chunks), of the local process
pool and of a Dask ``LocalCluster`` with 1 and 2 workers, the ratio to serial, and the Dask
overhead per job: the cluster start plus the first ("cold") job's extra time over a warm job
(workers import mnistlab, build kernels). Outputs are checked byte-identical to serial.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np


def _corrupt_chunk(images: np.ndarray, ids: np.ndarray, name: str) -> np.ndarray:
    from mnistlab.corrupt import corrupt

    return corrupt(images, name, severity=3, seed=0, sample_ids=ids)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _as_bytes(result: Any) -> bytes:
    if isinstance(result, list):
        result = np.concatenate(result)
    if hasattr(result, "to_numpy"):
        result = result.to_numpy()
    return np.ascontiguousarray(result).tobytes()


def bench_job(title: str, n: int, job: Callable[[str, int], Any], workers: list[int]) -> None:
    from mnistlab.parallel import dask_session

    print(f"\n== {title}: {n} images")
    job("serial", 1)  # warm up this process (imports, kernels), as the pool's forks inherit
    t_serial, ref = _timed(lambda: job("serial", 1))
    print(f"{'executor':<8} {'workers':>7} {'images/s':>10} {'x serial':>9}  notes")
    print(f"{'serial':<8} {1:>7} {n / t_serial:>10.0f} {1.0:>9.2f}  baseline")
    for w in workers:
        t, out = _timed(partial(job, "local", w))
        assert _as_bytes(out) == _as_bytes(ref), "local result differs from serial"
        print(f"{'local':<8} {w:>7} {n / t:>10.0f} {t_serial / t:>9.2f}")
    for w in workers:
        t_start = time.perf_counter()
        with dask_session(workers=w):
            t_up = time.perf_counter() - t_start
            t_cold, out = _timed(partial(job, "dask", w))
            t_warm, out2 = _timed(partial(job, "dask", w))
        assert _as_bytes(out) == _as_bytes(ref) == _as_bytes(out2), "dask result differs"
        overhead = t_up + max(t_cold - t_warm, 0.0)
        print(
            f"{'dask':<8} {w:>7} {n / t_warm:>10.0f} {t_serial / t_warm:>9.2f}  "
            f"warm; cluster start {t_up:.1f} s, cold job {t_cold:.1f} s vs warm {t_warm:.2f} s "
            f"-> {overhead:.1f} s overhead per job with its own cluster"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images")
    parser.add_argument("--corruption", default="motion_blur")
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args(argv)

    from mnistlab.data import load
    from mnistlab.parallel import Execution, default_workers, map_chunks

    workers = sorted({1, min(2, default_workers())})
    n_corrupt = 2000 if args.quick else 10000
    images = np.ascontiguousarray(load("fashion-mnist", "test", download=False).images[:n_corrupt])
    print(f"cores available: {default_workers()}; load average {os.getloadavg()[0]:.1f}")

    def corrupt_job(executor: str, w: int) -> Any:
        return map_chunks(
            _corrupt_chunk,
            len(images),
            Execution(executor, w, chunk_size=args.chunk_size),
            arrays=(images, np.arange(len(images))),
            args=(args.corruption,),
        )

    bench_job(
        f"corrupt {args.corruption} s3 (Fashion-MNIST test)", len(images), corrupt_job, workers
    )

    try:
        from mnistlab.morpho.measure import measure
    except ImportError:
        print("\nmorphometry: mnistlab.morpho.measure not available, skipped")
        return 0
    try:
        digits = load("mnist", "test", download=False).images
    except Exception:  # the MNIST copy may be missing: morphometry runs on any digit-like set
        digits = load("fashion-mnist", "test", download=False).images
    n_morpho = 500 if args.quick else 2000
    digits = np.ascontiguousarray(digits[:n_morpho])

    def measure_job(executor: str, w: int) -> Any:
        job = Execution(executor, w, chunk_size=max(50, n_morpho // 8))
        return measure(digits, execution=job)

    bench_job("measure (Morpho-MNIST morphometrics)", len(digits), measure_job, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
