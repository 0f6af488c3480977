"""Morpho-MNIST morphometrics: area, length, thickness, slant, width and height of each image.

The definitions follow Castro et al. (2019), computed on the upsampled morphology of
:mod:`mnistlab.morpho.morphology` (units: pixels of the original image, slant in radians):

- ``area``: foreground pixels of the binary image / scale².
- ``length``: skeleton length, each 8-connected step once (1 straight, √2 diagonal) / scale.
- ``thickness``: 2 × mean distance-map value on the skeleton / scale.
- ``slant``: ``arctan(-mu11 / mu20)`` of the upsampled grey image (rows, columns); positive
  leans right.
- ``width``, ``height``: of the bounding parallelogram. The grey mass is sheared horizontally
  by the slant; along each axis the cumulative mass (each pixel a unit-wide box) is
  interpolated to cut ``bound_frac / 2`` of it on each side.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from typing import TYPE_CHECKING

import numba
import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError
from mnistlab.morpho.morphology import Morphology

if TYPE_CHECKING:
    import pandas as pd

    from mnistlab.execution import Execution

__all__ = ["COLUMNS", "measure", "measure_morphology"]

COLUMNS = ("index", "area", "length", "thickness", "slant", "width", "height")


@numba.njit(cache=True, nogil=True)
def _cut(cum: NDArray[np.float64], start: float, target: float) -> float:  # pragma: no cover
    # Position where the piecewise-linear cumulative mass first reaches ``target``.
    for j in range(cum.shape[0]):
        if cum[j] >= target:
            if j == 0:
                return start
            return start + j - 1 + (target - cum[j - 1]) / (cum[j] - cum[j - 1])
    return start + cum.shape[0] - 1


@numba.njit(cache=True, nogil=True)
def _measure_batch(
    hires: NDArray[np.uint8],
    binary: NDArray[np.bool_],
    skeleton: NDArray[np.bool_],
    distance: NDArray,
    scale: int,
    frac: float,
    squared: bool,
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    # ``distance`` is the distance map, or with ``squared`` the exact integer squared map
    # (its square root, taken here only on the skeleton, is the same float64 value).
    n, h, w = hires.shape
    out = np.full((n, 6), np.nan)
    sqrt2 = np.sqrt(2.0)
    rows = np.empty(h + 1, np.float64)
    for k in range(n):
        # Everything measured lies in the box of the ink and the binary image (the skeleton
        # is inside the latter); the sums visit its pixels in the same order as the full scan.
        r0, r1, c0, c1 = h, 0, w, 0
        for r in range(h):
            for c in range(w):
                if hires[k, r, c] or binary[k, r, c]:
                    r0 = min(r0, r)
                    r1 = max(r1, r + 1)
                    c0 = min(c0, c)
                    c1 = max(c1, c + 1)
        area = 0
        straight = 0
        diagonal = 0
        n_skel = 0
        dist_sum = 0.0
        m00 = 0.0
        m_r = 0.0
        m_c = 0.0
        for r in range(r0, r1):
            for c in range(c0, c1):
                if binary[k, r, c]:
                    area += 1
                if skeleton[k, r, c]:
                    n_skel += 1
                    d = distance[k, r, c]
                    dist_sum += np.sqrt(np.float64(d)) if squared else np.float64(d)
                    if c + 1 < w and skeleton[k, r, c + 1]:
                        straight += 1
                    if r + 1 < h:
                        if skeleton[k, r + 1, c]:
                            straight += 1
                        if c + 1 < w and skeleton[k, r + 1, c + 1]:
                            diagonal += 1
                        if c > 0 and skeleton[k, r + 1, c - 1]:
                            diagonal += 1
                v = hires[k, r, c]
                if v:
                    m00 += v
                    m_r += v * r
                    m_c += v * c
        if n_skel == 0 or m00 == 0.0:
            continue
        rc = m_r / m00
        cc = m_c / m00
        mu11 = 0.0
        mu20 = 0.0
        x_min = np.inf
        x_max = -np.inf
        for r in range(r0, r1):
            for c in range(c0, c1):
                v = hires[k, r, c]
                if v:
                    mu11 += v * (r - rc) * (c - cc)
                    mu20 += v * (r - rc) * (r - rc)
        shear = -mu11 / mu20 if mu20 > 0 else 0.0
        for r in range(r0, r1):
            for c in range(c0, c1):
                if hires[k, r, c]:
                    x = c + shear * (r - rc)
                    x_min = min(x_min, x)
                    x_max = max(x_max, x)
        # Cumulative mass on an integer grid: a pixel at x counts for every grid point >= x.
        start = np.floor(x_min) - 1.0
        cols = np.zeros(int(np.ceil(x_max) - start) + 2, np.float64)
        rows[:] = 0.0
        for r in range(r0, r1):
            for c in range(c0, c1):
                v = hires[k, r, c]
                if v:
                    cols[int(np.ceil(c + shear * (r - rc) - start))] += v
                    rows[r + 1] += v
        for j in range(1, cols.shape[0]):
            cols[j] += cols[j - 1]
        for j in range(1, h + 1):
            rows[j] += rows[j - 1]
        lo = m00 * frac / 2.0
        hi = m00 * (1.0 - frac / 2.0)
        width = _cut(cols, start, hi) - _cut(cols, start, lo)
        height = _cut(rows, -1.0, hi) - _cut(rows, -1.0, lo)
        out[k, 0] = area / (scale * scale)
        out[k, 1] = (straight + sqrt2 * diagonal) / scale
        out[k, 2] = 2.0 * dist_sum / n_skel / scale
        out[k, 3] = np.arctan(-mu11 / mu20) if mu20 > 0 else 0.0
        out[k, 4] = width / scale
        out[k, 5] = height / scale
    return out


def images_digest(images: NDArray) -> str:
    """Short digest of a batch's bytes and shape: names a job's input in its checkpoints."""
    x = np.ascontiguousarray(images)
    digest = hashlib.blake2b(repr((x.shape, x.dtype.str)).encode(), digest_size=8)
    digest.update(x.reshape(-1).view(np.uint8).tobytes())
    return digest.hexdigest()


def _check_frac(bound_frac: float) -> float:
    if not 0.0 <= float(bound_frac) < 1.0:
        raise MnistlabError(f"bound_frac must be in [0, 1), got {bound_frac!r}")
    return float(bound_frac)


def measure_morphology(morph: Morphology, bound_frac: float = 0.02) -> NDArray[np.float64]:
    """Morphometrics of an already computed :class:`Morphology`.

    Returns
    -------
    numpy.ndarray, float64, shape (N, 6)
        Columns ``area, length, thickness, slant, width, height``; NaN rows for blank images.
    """
    frac = _check_frac(bound_frac)
    return _measure_batch(
        np.ascontiguousarray(morph.hires),
        np.ascontiguousarray(morph.binary),
        np.ascontiguousarray(morph.skeleton),
        np.ascontiguousarray(morph.distance),
        morph.scale,
        frac,
        False,
    )


def _measure_chunk(
    images: NDArray[np.uint8], scale: int, threshold: float, bound_frac: float
) -> NDArray[np.float64]:
    from threadpoolctl import threadpool_limits

    from mnistlab.data.dataset import check_images
    from mnistlab.morpho._block import block_morphology, local_workspace

    # Many small matrix products: one BLAS thread per process is fastest (and fair to others).
    # The block's maps live in this worker's reused workspace; only the (N, 6) table leaves.
    with threadpool_limits(1):
        hires, binary, skeleton, d2, _ = block_morphology(
            check_images(images), scale, threshold, local_workspace()
        )
        return _measure_batch(hires, binary, skeleton, d2, scale, _check_frac(bound_frac), True)


def warm_up(shape: tuple[int, int] = (28, 28), scale: int = 4) -> None:
    """Compile the kernels and build the resize matrices once, before worker processes fork."""
    probe = np.zeros((1, *shape), np.uint8)
    probe[0, shape[0] // 4 : 3 * shape[0] // 4, shape[1] // 2 - 1 : shape[1] // 2 + 2] = 255
    _measure_chunk(probe, scale, 0.5, 0.02)


def measure(
    images: NDArray[np.uint8],
    scale: int = 4,
    threshold: float = 0.5,
    bound_frac: float = 0.02,
    *,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    execution: Execution | None = None,
) -> pd.DataFrame:
    """Measure the Morpho-MNIST morphometrics of every image.

    Parameters
    ----------
    images : numpy.ndarray, uint8, shape (N, H, W)
        0 background, 255 ink.
    scale : int
        Upsampling factor before binarisation (the release uses 4).
    threshold : float
        Relative binarisation threshold in [0, 1).
    bound_frac : float
        Fraction of the mass left outside the bounding parallelogram (half on each side).
    checkpoint_dir : path-like, optional
        Keep each finished chunk there, so a failed or interrupted run resumes from them
        (see :func:`mnistlab.parallel.checkpoint_dir_for`). The caller deletes it at the end
        with :func:`mnistlab.parallel.remove_checkpoints`.
    execution : Execution, optional
        How the chunks run (:class:`mnistlab.execution.Execution`: executor, workers,
        scheduler, chunk size, progress bar; see :func:`mnistlab.parallel.map_chunks`).
        Default: local processes on every core, chunks of 250 images. The result does not
        depend on it.

    Returns
    -------
    pandas.DataFrame
        Columns ``index, area, length, thickness, slant, width, height``, one row per image.
        Blank images (no contrast) get NaN measurements and one warning that counts them.

    Examples
    --------
    >>> from mnistlab.execution import Execution
    >>> img = np.zeros((1, 28, 28), np.uint8); img[0, 4:24, 13:16] = 255
    >>> table = measure(img, execution=Execution("serial"))
    >>> table[["area", "height"]].round(1).to_dict("records")
    [{'area': 59.8, 'height': 20.0}]
    """
    import pandas as pd

    from mnistlab.data.dataset import check_images
    from mnistlab.morpho.morphology import _check_scale, _check_threshold
    from mnistlab.parallel import map_chunks

    x = check_images(images)
    scale = _check_scale(scale)
    threshold = _check_threshold(threshold)
    frac = _check_frac(bound_frac)
    n = len(x)
    if n:
        warm_up(x.shape[1:], scale)
    parts = map_chunks(
        _measure_chunk,
        n,
        execution,
        arrays=(x,),
        args=(scale, threshold, frac),
        desc="measure",
        checkpoint_dir=checkpoint_dir,
        job_key={
            "job": "morpho.measure",
            "images": images_digest(x),
            "scale": scale,
            "threshold": threshold,
            "bound_frac": frac,
        },
    )
    values = np.concatenate(parts) if parts else np.zeros((0, 6))
    blank = int(np.isnan(values[:, 0]).sum())
    if blank:
        warnings.warn(
            f"{blank} of {n} images are blank (no contrast): their measurements are NaN",
            RuntimeWarning,
            stacklevel=2,
        )
    table = pd.DataFrame(values, columns=list(COLUMNS[1:]))
    table.insert(0, "index", np.arange(n, dtype=np.int64))
    return table
