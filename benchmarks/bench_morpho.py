"""Benchmark Morpho-MNIST measure and perturbations against a naive per-image baseline.

Run: ``python benchmarks/bench_morpho.py [--quick]``. Prints images/s of the batched code and
of a one-image-at-a-time implementation in the style of the original (scikit-image
``medial_axis`` and disk-footprint erosion/dilation per image), their ratio, and the time to
measure all 70,000 MNIST images with 2 workers: today's path against the previous one (the
same algorithm with a fresh float64 map per step and per 250-image block: upscale, clip,
Gaussian, distance map), run in the same session, outputs checked identical.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage import morphology as skm
from skimage import transform
from threadpoolctl import threadpool_limits

from mnistlab.data import load
from mnistlab.morpho import Fracture, Swelling, Thickening, Thinning, measure, medial_axis, upscale
from mnistlab.morpho.measure import measure_morphology, warm_up
from mnistlab.morpho.morphology import Morphology
from mnistlab.parallel import Execution, chunk_bounds, map_tasks

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def naive_morph(img: np.ndarray) -> tuple[np.ndarray, ...]:
    hires = (transform.pyramid_expand(img, upscale=4, order=3) * 255).astype(np.uint8)
    lo, hi = int(hires.min()), int(hires.max())
    binary = hires >= lo + (hi - lo) * 0.5
    skel, dist = skm.medial_axis(binary, return_distance=True, rng=42)
    return hires, binary, skel, dist


def naive_measure(img: np.ndarray) -> tuple[float, ...]:
    hires, binary, skel, dist = naive_morph(img)
    m = hires.astype(float)
    r, c = np.mgrid[: m.shape[0], : m.shape[1]]
    m00 = m.sum()
    rc, cc = (m * r).sum() / m00, (m * c).sum() / m00
    mu11 = (m * (r - rc) * (c - cc)).sum()
    mu20 = (m * (r - rc) ** 2).sum()
    shear = -mu11 / mu20

    def extent(x: np.ndarray) -> float:
        grid = np.arange(np.floor(x.min()) - 1, np.ceil(x.max()) + 2)
        mass = m[ink]
        cum = np.array([mass[x <= t].sum() for t in grid])  # the loop over columns / rows
        return float(np.interp(0.99 * m00, cum, grid) - np.interp(0.01 * m00, cum, grid))

    ink = m > 0
    width = extent((c + shear * (r - rc))[ink]) if ink.any() else np.nan
    height = extent(r[ink].astype(float)) if ink.any() else np.nan
    length = (skel[:, 1:] & skel[:, :-1]).sum() + (skel[1:] & skel[:-1]).sum()
    length += np.sqrt(2) * (
        (skel[1:, 1:] & skel[:-1, :-1]).sum() + (skel[1:, :-1] & skel[:-1, 1:]).sum()
    )
    return (
        binary.sum() / 16,
        length / 4,
        2 * dist[skel].mean() / 4,
        np.arctan(shear),
        width / 4,
        height / 4,
    )


def naive_perturb(img: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    _hires, binary, skel, dist = naive_morph(img)
    thick = 2 * dist[skel].mean() / 4
    if kind in ("thin", "thic"):
        amount = 0.7 if kind == "thin" else 1.0
        fp = skm.disk(int(amount * 4 * thick / 2))
        out = skm.erosion(binary, fp) if kind == "thin" else skm.dilation(binary, fp)
    elif kind == "swel":
        pts = np.argwhere(skel)
        centre = pts[rng.integers(len(pts))]
        big_r = 7 * np.sqrt(thick) / 2 * 4

        def inv(coords: np.ndarray) -> np.ndarray:
            d = coords - centre[::-1]
            n = np.linalg.norm(d, axis=1, keepdims=True)
            f = np.where(n < big_r, (n / big_r) ** 2, 1.0)
            return centre[::-1] + d * f

        out = transform.warp(binary.astype(float), inv)
    else:
        out = binary.copy()
        pts = np.argwhere(skel)
        for centre in pts[rng.choice(len(pts), size=min(3, len(pts)), replace=False)]:
            win = pts[(np.abs(pts - centre) <= 8).all(axis=1)] - centre
            cov = win.T @ win
            theta = 0.5 * np.arctan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1])
            half = dist[tuple(centre)] + 2
            nvec = half * np.array([-np.sin(theta), np.cos(theta)])
            from skimage.draw import line

            p0 = np.round(centre + nvec).astype(int)
            p1 = np.round(centre - nvec).astype(int)
            mask = np.zeros_like(out)
            rr, cc = line(*p0, *p1)
            ok = (rr >= 0) & (rr < 112) & (cc >= 0) & (cc < 112)
            mask[rr[ok], cc[ok]] = True
            out &= ~ndimage.binary_dilation(mask, skm.disk(3))
    return transform.pyramid_reduce(out.astype(float), downscale=4, order=3)


def _previous_chunk(images: np.ndarray) -> np.ndarray:
    """The measurement chunk before the block workspace: every map allocated afresh."""
    with threadpool_limits(1):
        hires = (upscale(images, 4) * 255.0).astype(np.uint8)
        flat = hires.reshape(len(hires), -1)
        lo, hi = flat.min(axis=1).astype(float), flat.max(axis=1).astype(float)
        blank = ~(hi > lo)
        binary = (hires >= (lo + (hi - lo) * 0.5)[:, None, None]) & ~blank[:, None, None]
        skeleton, distance = medial_axis(binary)
        morph = Morphology(hires, binary, skeleton, distance, 4, 0.5, blank)
        return measure_morphology(morph, 0.02)


def previous_measure(x: np.ndarray, workers: int) -> np.ndarray:
    bounds = chunk_bounds(len(x), 250)
    return np.concatenate(
        map_tasks(_previous_chunk, [(x[a:b],) for a, b in bounds], workers=workers)
    )


def _naive_all(xs: np.ndarray, kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    return [naive_perturb(i, kind, rng) for i in xs]


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def rate(fn: Callable[[], object], n: int) -> float:
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller samples, skip the 70k run")
    args = parser.parse_args()
    test = load(MNIST, split="test")
    n_fast, n_naive = (1000, 40) if args.quick else (5000, 200)
    x = np.ascontiguousarray(test.images[:n_fast])
    xs = x[:n_naive]
    warm_up()
    for p in (Thinning(), Thickening(), Swelling(), Fracture()):
        p(x[:2])
    print(f"load average {_load()} (the machine may be shared)")
    print(f"{'task':12s} {'fast img/s':>11s} {'naive img/s':>12s} {'ratio':>7s}  (one core)")
    with threadpool_limits(1):
        fast = rate(lambda: measure(x, execution=Execution(workers=1)), n_fast)
        naive = rate(lambda: [naive_measure(i) for i in xs], n_naive)
        print(f"{'measure':12s} {fast:11.0f} {naive:12.1f} {fast / naive:6.1f}x")
        rng = np.random.default_rng(0)
        for name, p in (
            ("thin", Thinning()),
            ("thic", Thickening()),
            ("swel", Swelling()),
            ("frac", Fracture()),
        ):
            fast = rate(partial(p, x, seed=0), n_fast)
            naive = rate(partial(_naive_all, xs, name, rng), n_naive)
            print(f"{name:12s} {fast:11.0f} {naive:12.1f} {fast / naive:6.1f}x")
    if not args.quick:
        train = load(MNIST, split="train")
        allx = np.concatenate([train.images, test.images])
        _previous_chunk(allx[:2])
        print(f"load average before the 70k runs: {_load()}")
        times: dict[str, float] = {}
        for name, run in (
            ("previous", lambda: previous_measure(allx, 2)),
            ("today", lambda: measure(allx, execution=Execution(workers=2)).to_numpy()[:, 1:]),
        ):
            t = time.perf_counter()
            values = run()
            times[name] = time.perf_counter() - t
            if name == "previous":
                ref = values
        assert np.array_equal(values, ref, equal_nan=True), "the two paths disagree"
        dt = times["today"]
        print(
            f"measure all {len(allx)} MNIST images, 2 workers: {dt:.1f} s "
            f"({len(allx) / dt:.0f} img/s); previous path {times['previous']:.1f} s: "
            f"{times['previous'] / dt:.2f}x, identical measurements"
        )
    print(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
