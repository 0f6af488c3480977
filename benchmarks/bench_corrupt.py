"""Corruption throughput: today's kernels against the former ones, and the CLI's wall time.

Run: ``python benchmarks/bench_corrupt.py [--quick] [--workers 2] [--names fog,spatter]``

For every corruption at its benchmark severity (severity 1 when it has none), in one process
and one thread: images/s of the current path and of the former path measured in the same run
(``baseline`` below: the float round trip for the corruptions that now have a uint8 fast
path, the float64 sparse product for the affine warps), their ratio, and whether the bytes
are equal. Then the wall time of ``mnistlab corrupt fashion-mnist --split test --layout
fmnist-c`` (best of 3, with its CPU time) and, without ``--quick``, of the full
Fashion-MNIST-C (70,000 images) with ``--workers`` processes. The machine may be shared:
the load average is printed; compare the two paths of a row, not rows across runs.

Targets (issue 17): exact corruptions (identity, flips, turns, inverse, stripe) >= 5 M img/s
per core; affine warps, shot noise and contrast >= 2x the former path; the CLI split
<= 0.8 s wall on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

EXACT: tuple[str, ...] = ("identity", "flip_left_right", "flip_up_down", "rotate_90_cw")
EXACT += ("rotate_90_ccw", "inverse", "stripe")
AFFINE = ("shear", "scale", "rotate", "translate")
TWICE = (*AFFINE, "shot_noise", "contrast")


# --------------------------------------------------------------------------- baseline


def baseline_warp_affine_grouped(x: Any, matrices: Any, group: Any) -> Any:
    """The former affine kernel: one float64 scipy sparse product per distinct matrix."""
    from mnistlab.corrupt._kernels import affine_operator

    n, h, w = x.shape
    flat = x.reshape(n, h * w).astype(np.float64, copy=False)
    out = np.empty((n, h * w), dtype=np.float64)
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        out[rows] = flat[rows] @ affine_operator(matrices[g], (h, w))
    return out.reshape(n, h, w)


@contextlib.contextmanager
def baseline() -> Iterator[None]:
    """Run the registry as it was: no uint8 fast paths, affine warps as sparse products."""
    from mnistlab.corrupt import registry
    from mnistlab.corrupt.families import affine

    saved = registry.USE_UINT8, affine.warp_affine_grouped
    registry.USE_UINT8 = False
    setattr(affine, "warp_affine_grouped", baseline_warp_affine_grouped)  # noqa: B010
    try:
        yield
    finally:
        registry.USE_UINT8 = saved[0]
        setattr(affine, "warp_affine_grouped", saved[1])  # noqa: B010


# --------------------------------------------------------------------------- timing


def _rate(fn: Callable[[], object], n: int, min_time: float) -> float:
    fn()  # warm up (caches, first-call imports, numba's cache)
    best = float("inf")
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
        if time.perf_counter() - start >= min_time:
            return n / best


def _cli_wall(runs: int) -> tuple[float, float]:
    """Best wall and CPU seconds of the CLI on the 10k Fashion-MNIST-C test split."""
    walls, cpus = [], []
    exe = [sys.executable, "-m", "mnistlab", "corrupt", "fashion-mnist", "--split", "test"]
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            cmd = [*exe, "--layout", "fmnist-c", "--out", os.path.join(tmp, "o"), "--no-progress"]
            subprocess.run(cmd, check=True, capture_output=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def _target(name: str, new: float, ratio: float) -> str:
    if name in EXACT:
        return "ok" if new >= 5e6 else "BELOW 5 M/s"
    if name in TWICE:
        return "ok" if ratio >= 2 else "BELOW 2x"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, one CLI run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--names", default=None, help="comma-separated corruptions")
    args = parser.parse_args(argv)

    from mnistlab.corrupt import corrupt, get, names
    from mnistlab.corrupt.generate import generate
    from mnistlab.data import load
    from mnistlab.execution import Execution

    test = load("fashion-mnist", split="test", download=False)
    n_batch = 2500 if args.quick else 5000
    min_time = 0.3 if args.quick else 1.0
    x = np.ascontiguousarray(test.images[:n_batch])
    chosen = args.names.split(",") if args.names else names()

    print(f"load: {os.getloadavg()[0]:.2f} (1-min average; the machine may be shared)")
    print(f"{n_batch} Fashion-MNIST test images per call, best call of {min_time:g} s")
    print(
        f"{'corruption':18s} {'sev':>3s} {'img/s now':>12s} {'img/s before':>13s}"
        f" {'ratio':>7s} {'same bytes':>10s}  target"
    )
    for name in chosen:
        c = get(name)
        sev = c.benchmark_severity or 1

        def run(c: Any = c, sev: int = sev) -> Any:
            return corrupt(x, c.name, severity=sev, seed=1)

        new = _rate(run, len(x), min_time)
        with baseline():
            old = _rate(run, len(x), min_time)
            before = run()
        same = "yes" if np.array_equal(run(), before) else "NO"
        ratio = new / old
        print(
            f"{name:18s} {sev:3d} {new:12,.0f} {old:13,.0f} {ratio:6.2f}x {same:>10s}"
            f"  {_target(name, new, ratio)}"
        )
        sys.stdout.flush()

    wall, cpu = _cli_wall(1 if args.quick else 3)
    verdict = "ok" if wall <= 0.8 else "ABOVE 0.8 s"
    print(
        f"CLI `mnistlab corrupt fashion-mnist --split test --layout fmnist-c`: best wall "
        f"{wall:.2f} s (CPU {cpu:.2f} s), load {os.getloadavg()[0]:.2f}  {verdict}"
    )

    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate(
                "fashion-mnist",
                os.path.join(tmp, "fmnist-c"),
                layout="fmnist-c",
                splits="all",
                execution=Execution(workers=args.workers),
            )
            wall = time.perf_counter() - start
        print(
            f"full Fashion-MNIST-C (70,000 images, gz IDX + npy + parquet), "
            f"{args.workers} workers: {wall:.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
