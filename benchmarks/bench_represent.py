"""Benchmark: quadratic MMD of two 10,000-row tables of 5 morphometrics, and its permutation test.

Times :func:`mnistlab.represent.mmd2` (unbiased, RBF, Scott bandwidth) on the Morpho-MNIST
columns of the MNIST test set (length, thickness, slant, width, height) against the same
table with 10 % thicker strokes, on both of its paths (the compiled pair loop and the numpy
blocks of one matrix product each), and a straightforward NumPy implementation (the three
full kernel matrices from ``scipy.spatial.distance.cdist``, ~0.8 GB each at 10,000 rows) in
the same run; checks that all three agree. Then times :func:`mnistlab.represent.mmd_test`
(the pooled kernel once, every permutation a column of one matrix product) against a loop
that indexes the full pooled kernel matrix once per permutation. Prints kernel evaluations
per second, the ratios and the load.

    python benchmarks/bench_represent.py [--quick] [--n 10000] [--naive 10000]
        [--perm-n 1000] [--permutations 200] [--repeats 2]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.distance import cdist

from mnistlab.represent import mmd2, mmd_test, rbf_bandwidth

MORPHO = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "morpho-mnist"
    / "original"
    / "t10k-morpho.csv"
)
COLUMNS = ["length", "thickness", "slant", "width", "height"]


def tables(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``n`` rows of the test set's morphometrics and the same rows with thicker strokes."""
    if MORPHO.is_file():
        import pandas as pd

        x = pd.read_csv(MORPHO)[COLUMNS].to_numpy(dtype=np.float64)
        source = f"{MORPHO.name} ({len(x):,} rows)"
    else:  # pragma: no cover - without the shared data
        x = np.random.default_rng(0).normal(size=(n, len(COLUMNS)))
        source = "Gaussian stand-in (no t10k-morpho.csv)"
    x = x[np.resize(np.arange(len(x)), n)]  # repeat rows if more are asked for
    y = x.copy()
    y[:, COLUMNS.index("thickness")] *= 1.1
    y = y[np.random.default_rng(1).permutation(n)]
    return x, y, source


def naive_mmd2(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> float:
    """The unbiased statistic from the three full kernel matrices (one at a time)."""
    m = len(x)
    xs, ys = x / s, y / s
    kxx = np.exp(-0.5 * cdist(xs, xs, "sqeuclidean"))
    within = kxx.sum() - np.trace(kxx)
    del kxx
    kyy = np.exp(-0.5 * cdist(ys, ys, "sqeuclidean"))
    within += kyy.sum() - np.trace(kyy)
    del kyy
    cross = np.exp(-0.5 * cdist(xs, ys, "sqeuclidean")).sum()
    return float(within / (m * (m - 1)) - 2 * cross / m**2)


def naive_permutations(
    x: np.ndarray, y: np.ndarray, s: np.ndarray, permutations: int, seed: int
) -> np.ndarray:
    """Unbiased statistic of every split, indexing the full pooled kernel matrix each time."""
    z = np.concatenate([x, y]) / s
    k = np.exp(-0.5 * cdist(z, z, "sqeuclidean"))
    m, n = len(x), len(z)
    rng = np.random.default_rng(seed)
    out = np.empty(permutations)
    for p in range(permutations):
        perm = rng.permutation(n)
        ix, iy = perm[:m], perm[m:]
        kxx, kyy, kxy = k[np.ix_(ix, ix)], k[np.ix_(iy, iy)], k[np.ix_(ix, iy)]
        within = kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)
        out[p] = within / (m * (m - 1)) - 2 * kxy.sum() / m**2
    return out


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 rows; test on 300, 50 perms")
    parser.add_argument("--n", type=int, default=10_000, help="rows of each table")
    parser.add_argument("--naive", type=int, default=None, help="rows for the baseline (= n)")
    parser.add_argument("--perm-n", type=int, default=1000, help="rows of each permuted table")
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        n, n_naive, perm_n, perms = 2000, 2000, 300, 50
    else:
        n, perm_n, perms = args.n, args.perm_n, args.permutations
        n_naive = args.naive or n
    print(f"load: {os.getloadavg()[0]:.1f} (1-min average; the machine may be shared)")
    x, y, source = tables(n)
    s = rbf_bandwidth(x, y)
    print(f"data: {source}, columns {', '.join(COLUMNS)}; {n:,} vs {n:,} rows")
    mmd2(x[:300], y[:300], compiled=True)  # compile (cached on disk after the first run)

    pairs = 2 * n * n  # evaluations of the symmetric blocked sums: n^2/2 + n^2/2 + n^2
    t_comp, v_comp = best_of(lambda: mmd2(x, y, bandwidth=s, compiled=True), args.repeats)
    t_np, v_np = best_of(lambda: mmd2(x, y, bandwidth=s, compiled=False), args.repeats)
    t_naive, v_naive = best_of(
        lambda: naive_mmd2(x[:n_naive], y[:n_naive], s), 1 if n_naive > 5000 else args.repeats
    )
    scale = (n / n_naive) ** 2
    if n_naive == n:
        agree = np.isclose(v_comp, v_naive, rtol=1e-9) and np.isclose(v_np, v_naive, rtol=1e-9)
        assert agree, (v_comp, v_np, v_naive)
    print(
        f"MMD^2_u = {v_comp:.6g} (compiled) {v_np:.6g} (numpy blocks)"
        + (f" {v_naive:.6g} (naive): agree to 1e-9" if n_naive == n else "")
    )
    print(f"  mmd2, compiled pair loop: {t_comp:7.3f} s  {pairs / t_comp / 1e6:8.1f} M pairs/s")
    print(f"  mmd2, numpy blocks:       {t_np:7.3f} s  {pairs / t_np / 1e6:8.1f} M pairs/s")
    note = "" if n_naive == n else f" (on {n_naive:,} rows, x{scale:.1f} extrapolated)"
    print(f"  naive cdist, full matrices: {t_naive * scale:5.3f} s{note}")
    print(
        f"speed-up compiled / naive: {t_naive * scale / t_comp:.1f}x; "
        f"numpy blocks / naive: {t_naive * scale / t_np:.1f}x"
    )

    px, py = x[:perm_n], y[:perm_n]
    t_test, res = best_of(lambda: mmd_test(px, py, permutations=perms, seed=0), args.repeats)
    ps = rbf_bandwidth(px, py)
    t_loop, _ = best_of(lambda: naive_permutations(px, py, ps, perms, 0), 1)
    print(
        f"permutation test, {perm_n:,} vs {perm_n:,} rows, {perms} permutations: "
        f"{t_test:.3f} s (p = {res.pvalue:.4g}); loop over the full kernel: {t_loop:.3f} s "
        f"-> {t_loop / t_test:.1f}x"
    )


if __name__ == "__main__":
    main()
