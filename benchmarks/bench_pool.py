"""One worker pool per job against a fresh pool per step, measured in the same run.

Run: ``python benchmarks/bench_pool.py [--mnist-c-limit N] [--repeat R]``

Times :func:`mnistlab.corrupt.generate` of the MNIST-C layout (16 variants: one chunked step
each) and of the 10k Fashion-MNIST-C test split, with 1 and 2 workers, idle and beside four
busy single-thread processes. "old" is today's path with the job's pool switched off (every
step starts its own processes, as before); "new" runs every step on one pool. The outputs of
both are checked byte-identical. Best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from mnistlab.corrupt.generate import generate
from mnistlab.data import load
from mnistlab.execution import Execution


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def _busy(n: int) -> Iterator[None]:
    procs = [mp.get_context("fork").Process(target=_spin, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        time.sleep(0.5)
        yield
    finally:
        for p in procs:
            p.kill()
            p.join()


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.name != "manifest.json":
            h.update(f.relative_to(folder).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _no_pool(*args: Any, **kwargs: Any) -> Any:
    return contextlib.nullcontext()


def _run(data: Any, layout: str, workers: int, old: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        patch = mock.patch("mnistlab.execution.execution", _no_pool) if old else None
        with patch or contextlib.nullcontext():
            start = time.perf_counter()
            generate(
                {"test": data}, out, layout=layout, seed=0, execution=Execution(workers=workers)
            )
            seconds = time.perf_counter() - start
        return seconds, _digest(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mnist-c-limit", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--busy", type=int, default=4, help="busy processes for the load rows")
    args = parser.parse_args()
    test = load("fashion-mnist", "test")
    jobs = {
        f"mnist-c layout ({args.mnist_c_limit} images x 16 variants)": (
            "mnist-c",
            test[: args.mnist_c_limit],
        ),
        "fmnist-c layout (10k test split)": ("fmnist-c", test),
    }
    warm = Path(tempfile.mkdtemp()) / "w"
    generate({"test": test[:50]}, warm, layout="fmnist-c", execution=Execution(workers=1))
    print(f"load average at the start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(f"{'job':48s} {'load':>5s} {'w':>2s} {'old s':>7s} {'new s':>7s} {'ratio':>6s}")
    for busy in (0, args.busy):
        with _busy(busy) if busy else contextlib.nullcontext():
            for title, (layout, data) in jobs.items():
                for workers in (1, 2):
                    best: dict[bool, float] = {}
                    digests = set()
                    for k in range(args.repeat):
                        for old in (True, False) if k % 2 else (False, True):
                            seconds, digest = _run(data, layout, workers, old)
                            best[old] = min(best.get(old, seconds), seconds)
                            digests.add(digest)
                    assert len(digests) == 1, "old and new outputs differ"
                    print(
                        f"{title:48s} {busy:5d} {workers:2d} {best[True]:7.2f} "
                        f"{best[False]:7.2f} {best[True] / best[False]:5.2f}x"
                    )
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
