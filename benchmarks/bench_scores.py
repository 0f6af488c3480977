"""Benchmark: every probability score on one million samples of 10 classes.

Prints samples/s of the vectorised scores (all five, validation included) and the ratio to a
naive per-sample Python loop measured in the same run on a subset. Target: the whole set of
scores on 10^6 x 10 in under one second.

    python benchmarks/bench_scores.py [--quick] [--n 1000000] [--naive 20000]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from mnistlab.scores.uncertainty import SCORES, score_all, softmax


def naive_scores(row: list[float]) -> tuple[float, float, float, float, float]:
    """All five scores of one sample, in plain Python (the baseline)."""
    c = len(row)
    ent = -sum(p * math.log(p) for p in row if p > 0)
    gini = 1.0 - sum(p * p for p in row)
    top = sorted(row, reverse=True)
    return ent, gini, 1.0 - top[0], 1.0 - (top[0] - top[1]), (1.0 - top[0]) * c / (c - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k samples, 5k naive")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, default=20_000, help="samples for the naive loop")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, n_naive = (100_000, 5_000) if args.quick else (args.n, args.naive)

    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(scale=3.0, size=(n, 10)))

    best = separate = math.inf
    per_score: dict[str, float] = {}
    for _ in range(args.repeats):
        t_all = time.perf_counter()
        for name, fn in SCORES.items():
            t0 = time.perf_counter()
            fn(probs)
            per_score[name] = min(per_score.get(name, math.inf), time.perf_counter() - t0)
        separate = min(separate, time.perf_counter() - t_all)
        t0 = time.perf_counter()
        score_all(probs)
        best = min(best, time.perf_counter() - t0)

    rows = probs[:n_naive].tolist()
    t0 = time.perf_counter()
    naive = [naive_scores(r) for r in rows]
    t_naive = (time.perf_counter() - t0) / n_naive  # seconds per sample

    # the two implementations agree
    vec = np.column_stack([SCORES[k](probs[:n_naive]) for k in SCORES])
    np.testing.assert_allclose(vec, np.array(naive), atol=1e-9)

    print(f"samples: {n:,} x 10 classes, scores: {', '.join(SCORES)}")
    for name, sec in per_score.items():
        print(f"  {name:17s} {sec * 1e3:8.1f} ms  {n / sec / 1e6:8.1f} M samples/s")
    print(f"five separate calls:     {separate:.3f} s  -> {n / separate / 1e6:.2f} M samples/s")
    print(f"all scores, score_all(): {best:.3f} s  -> {n / best / 1e6:.2f} M samples/s")
    print(
        f"naive per-sample loop:   {t_naive * 1e6:.2f} us/sample on {n_naive:,} samples "
        f"-> {1 / t_naive / 1e6:.3f} M samples/s (extrapolated {t_naive * n:.1f} s)"
    )
    print(f"speed-up vectorised / naive: {t_naive * n / best:.0f}x")
    verdict = ("PASS" if best < 1.0 else "FAIL") if n >= 1_000_000 else "n/a (--quick)"
    print(f"target (all scores on 10^6 x 10 under 1 s): {verdict}")


if __name__ == "__main__":
    main()
