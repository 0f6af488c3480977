"""Benchmark: the full ``diversity`` of 10,000 samples against the MNIST test split.

Times :func:`mnistlab.workflows.represent.diversity` end to end (read both sets, measure the
20,000 images in one job with the fast morphometry, the statistics, the figures and the
page) with its defaults (1,000 permutations per MMD test on 2,000 rows of each set, 1,000
bootstrap replicates, PRDC with k = 5 on all rows), then, on the same measured tables and in
the same run, :func:`~mnistlab.workflows.represent.diversity_statistics` against a
straightforward NumPy implementation of the same statistics:

- the MMD tests from the full pooled kernel matrix (``scipy.spatial.distance.cdist``), one
  indexed copy of it per permutation (``--naive-permutations`` of them, extrapolated
  linearly to the 1,000 of the real run: the loop costs the same per permutation);
- the bootstrap as a loop of ``rng.choice`` resamples, one replicate at a time;
- PRDC from the three full ``cdist`` distance matrices (10,000 x 10,000 each);
- the same SciPy calls for the Wasserstein distance and the Kolmogorov-Smirnov test.

The naive statistics are checked against the real ones (MMD statistics to 1e-9, PRDC to 1e-3).
Prints the host, the load average before and after, each stage's time and the ratios.
The samples are the first 10,000 MNIST train digits (a "model" that draws real digits) unless
``--samples`` names a folder (e.g. one written by ``mnistlab sample``).

    python benchmarks/bench_diversity.py [--quick] [--n 10000] [--samples DIR]
        [--workers 2] [--naive-permutations 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from scipy.stats import ks_2samp, wasserstein_distance

from mnistlab.data import load
from mnistlab.execution import Execution
from mnistlab.represent import rbf_bandwidth
from mnistlab.workflows.represent import (
    DEFAULT_MMD_ROWS,
    JOINT,
    METRICS,
    diversity,
    diversity_statistics,
    measure_sets,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PERMUTATIONS = 1000
N_BOOT = 1000
K = 5


def load_line(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f}"


def naive_mmd_test(
    x: np.ndarray, y: np.ndarray, permutations: int, seed: int
) -> tuple[float, np.ndarray]:
    """Unbiased MMD^2 (RBF, Scott bandwidth) and its null from the full pooled kernel matrix."""
    s = rbf_bandwidth(x, y)
    z = np.concatenate([x, y]) / s
    k = np.exp(-0.5 * cdist(z, z, "sqeuclidean"))
    m = len(x)

    def stat(ix: np.ndarray, iy: np.ndarray) -> float:
        kxx, kyy, kxy = k[np.ix_(ix, ix)], k[np.ix_(iy, iy)], k[np.ix_(ix, iy)]
        within = kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)
        return float(within / (m * (m - 1)) - 2 * kxy.sum() / m**2)

    observed = stat(np.arange(m), np.arange(m, 2 * m))
    rng = np.random.default_rng(seed)
    null = np.empty(permutations)
    for p in range(permutations):
        perm = rng.permutation(2 * m)
        null[p] = stat(perm[:m], perm[m:])
    return observed, null


def naive_bootstrap(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Mean and std differences of every replicate, one resample at a time."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, 2, a.shape[1]))
    for r in range(n_boot):
        ra = a[rng.choice(len(a), len(a))]
        rb = b[rng.choice(len(b), len(b))]
        out[r, 0] = rb.mean(axis=0) - ra.mean(axis=0)
        out[r, 1] = rb.std(axis=0, ddof=1) - ra.std(axis=0, ddof=1)
    return out


def naive_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """PRDC from the three full distance matrices (as the reference implementation does)."""
    d_rr = cdist(real, real)
    r_real = np.partition(d_rr, k, axis=1)[:, k]
    del d_rr
    d_ff = cdist(fake, fake)
    r_fake = np.partition(d_ff, k, axis=1)[:, k]
    del d_ff
    d_rf = cdist(real, fake)
    inside = d_rf < r_real[:, None]
    return {
        "precision": float(inside.any(axis=0).mean()),
        "recall": float((d_rf < r_fake[None, :]).any(axis=1).mean()),
        "density": float(inside.sum() / (k * len(fake))),
        "coverage": float((d_rf.min(axis=1) < r_real).mean()),
    }


def naive_statistics(
    ref: pd.DataFrame, smp: pd.DataFrame, permutations: int, rows: int, seed: int
) -> dict[str, Any]:
    """The statistics of ``diversity_statistics``, written the straightforward way."""
    a = ref[list(METRICS)].to_numpy(np.float64)
    b = smp[list(METRICS)].to_numpy(np.float64)
    a, b = a[np.isfinite(a).all(axis=1)], b[np.isfinite(b).all(axis=1)]
    for j in range(a.shape[1]):
        wasserstein_distance(a[:, j], b[:, j])
        ks_2samp(a[:, j], b[:, j])
    naive_bootstrap(a, b, N_BOOT, seed)
    mu, sd = a.mean(axis=0), a.std(axis=0, ddof=1)
    za, zb = (a - mu) / sd, (b - mu) / sd
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    pick = lambda x: x[np.sort(rng.choice(len(x), rows, replace=False))] if len(x) > rows else x  # noqa: E731
    xa, xb = pick(za), pick(zb)
    stats = {}
    t0 = time.perf_counter()
    targets = [(c, [i]) for i, c in enumerate(METRICS)] + [(JOINT, list(range(len(METRICS))))]
    for name, idx in targets:
        stats[name] = naive_mmd_test(xa[:, idx], xb[:, idx], permutations, seed)[0]
    t_mmd = time.perf_counter() - t0
    return {"mmd2": stats, "prdc": naive_prdc(za, zb, K), "t_mmd": t_mmd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 images, 5 naive permutations")
    parser.add_argument("--n", type=int, default=10_000, help="images of each set")
    parser.add_argument("--samples", type=Path, default=None, help="samples folder")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--naive-permutations", type=int, default=50)
    args = parser.parse_args()
    n = 2000 if args.quick else args.n
    naive_perms = 5 if args.quick else args.naive_permutations
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"host: {platform.node()} ({platform.machine()}, {cores} cores usable), "
          f"Python {platform.python_version()}")  # fmt: skip
    print(load_line("before") + " (the machine may be shared)")
    reference = load(DATA / "mnist", "test")[:n]
    samples = load(args.samples, "test")[:n] if args.samples else load(DATA / "mnist", "train")[:n]
    job = Execution(workers=args.workers)
    measure_sets([reference.images[:20]], job)  # compile the kernels (cached on disk)

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = diversity(reference, samples, Path(tmp) / "div", execution=job, progress=False)
        t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref_t, smp_t = measure_sets([reference.images, samples.images], job)
    t_measure = time.perf_counter() - t0
    t0 = time.perf_counter()
    table, prdc = diversity_statistics(ref_t, smp_t)
    t_stats = time.perf_counter() - t0
    tests, mmd_rows = len(METRICS) + 1, min(n, DEFAULT_MMD_ROWS)
    print(f"diversity of {n:,} samples vs {n:,} test digits ({args.workers} workers, defaults: "
          f"{PERMUTATIONS} permutations x {tests} MMD tests on {mmd_rows:,} rows, {N_BOOT} "
          f"bootstrap replicates, PRDC k={K}):")  # fmt: skip
    print(f"  end to end (read, measure, statistics, figures, page): {t_full:8.2f} s")
    print(f"  of which: measure {2 * n:,} images {t_measure:8.2f} s, statistics {t_stats:8.2f} "
          f"s, the rest (read, figures, page) ~{t_full - t_measure - t_stats:.2f} s")  # fmt: skip

    t0 = time.perf_counter()
    naive = naive_statistics(ref_t, smp_t, naive_perms, DEFAULT_MMD_ROWS, 0)
    t_naive_run = time.perf_counter() - t0
    per_perm = naive["t_mmd"] / (naive_perms + 1)  # the observed split plus the permutations
    t_naive = t_naive_run + per_perm * (PERMUTATIONS - naive_perms)
    rows = table.set_index("metric")
    for name, value in naive["mmd2"].items():
        assert np.isclose(rows.loc[name, "mmd2"], value, rtol=1e-9, atol=1e-12), (name, value)
    for key, value in naive["prdc"].items():  # a distance at a radius may round apart
        assert abs(prdc.iloc[0][key] - value) <= 1e-3, (key, prdc.iloc[0][key], value)
    print(f"  naive NumPy statistics: {t_naive:8.2f} s ({naive_perms} permutations per test "
          f"run, {naive['t_mmd']:.2f} s of MMD, extrapolated to {PERMUTATIONS}); MMD statistics "
          "agree to 1e-9, PRDC to 1e-3")  # fmt: skip
    print(f"speed-up of the statistics: {t_naive / t_stats:.1f}x; of the whole diversity "
          f"(same measuring, figures and page): "
          f"{(t_full - t_stats + t_naive) / t_full:.1f}x")  # fmt: skip
    print(f"shifted (Holm, 0.05): {', '.join(result.shifted()) or 'none'}")
    print(load_line("after"))


if __name__ == "__main__":
    main()
