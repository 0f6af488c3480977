"""Benchmark: bootstrapped APFD of ``mnistlab compare`` at the study's size.

The study's ``compare`` step resamples 10,000 test samples 1,000 times and needs the APFD of
every replicate on every variant of every model (161 variants x 2 models). This times
:func:`mnistlab.compare.metrics.apfd_replicates` (a compiled pass per replicate over its row
of weights) against the former array formula (one ``(N, B)`` gather and cumulative sum per
variant, kept here as the baseline), checks that both give the same numbers to the bit, and
prints sample-replicates per second, the ratio and the load.

    python benchmarks/bench_compare.py [--quick] [--n 10000] [--boot 1000] [--variants 40]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.compare.metrics import Outcomes, apfd_replicates
from mnistlab.compare.stats import bootstrap_weights


def former_apfd(wt: NDArray[Any], s: NDArray[np.float64], f: NDArray[np.bool_]) -> NDArray[Any]:
    """The former implementation: transposed weights ``(N, B)``, gathered and summed."""
    order = np.argsort(-s, kind="stable")
    ss = s[order]
    w = wt[order].astype(np.float32, copy=False)
    faulty = f[order]
    new = np.r_[True, ss[1:] != ss[:-1]]
    if not new.all():
        starts = np.flatnonzero(new)
        fault = np.add.reduceat(w * faulty[:, None], starts, axis=0)
        w = np.add.reduceat(w, starts, axis=0)
        rows = np.flatnonzero(fault.any(axis=1))
        fault = fault[rows].astype(np.float64)
    else:
        rows = np.flatnonzero(faulty)
        fault = w[rows].astype(np.float64)
    end = np.cumsum(w, axis=0, dtype=np.float32)[rows].astype(np.float64)
    position = end - (w[rows].astype(np.float64) - 1) / 2
    k = fault.sum(axis=0)
    n = wt.sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 1.0 - np.einsum("nb,nb->b", position, fault) / (k * n) + 1.0 / (2 * n)
    return np.where(k > 0, out, np.nan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 samples, 200 resamples")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--variants", type=int, default=40)
    args = parser.parse_args()
    n, boot, v = (2000, 200, 10) if args.quick else (args.n, args.boot, args.variants)
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average; the machine may be shared)")
    rng = np.random.default_rng(0)
    confidence = rng.random((v, n))
    score = 1.0 - confidence
    score[: v // 2] = np.round(score[: v // 2], 3)  # half the variants with tied scores
    correct = rng.random((v, n)) < 0.8
    names = tuple(f"v{i}" for i in range(v))
    o = Outcomes(names, names, np.zeros(v, dtype=np.int64), correct, confidence, score)
    weights = bootstrap_weights(n, boot, seed=0)
    apfd_replicates(o, weights[:2])  # compile (cached on disk after the first run)

    t = time.perf_counter()
    now = apfd_replicates(o, weights)
    t_now = time.perf_counter() - t
    t = time.perf_counter()
    wt = np.ascontiguousarray(weights.T, dtype=np.float32)
    before = np.stack([former_apfd(wt, o.score[i], ~o.correct[i]) for i in range(v)], axis=1)
    t_before = time.perf_counter() - t
    same = np.array_equal(now, before, equal_nan=True)
    units = n * boot * v
    print(f"{v} variants x {n:,} samples x {boot:,} resamples")
    print(f"apfd now     {units / t_now:14,.0f} sample-replicates/s  ({t_now:.2f} s)")
    print(f"apfd before  {units / t_before:14,.0f} sample-replicates/s  ({t_before:.2f} s)")
    print(f"ratio {t_before / t_now:.1f}x, identical results: {'yes' if same else 'NO'}")
    print(
        f"the study's 161 variants x 2 models: about {t_now * 322 / v:.0f} s now, "
        f"{t_before * 322 / v:.0f} s before"
    )
    if not same:
        raise SystemExit("the compiled APFD differs from the array formula")


if __name__ == "__main__":
    main()
