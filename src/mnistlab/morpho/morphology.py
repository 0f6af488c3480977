"""The upsampled binary morphology of a batch of images: binary image, skeleton, distance map.

Every Morpho-MNIST measurement and perturbation starts from the same three arrays, computed
here for a whole batch:

1. cubic (order 3) pyramid expansion by ``scale`` (:func:`skimage.transform.pyramid_expand`),
   applied as two small matrices per image (the expansion is linear and separable);
2. binarisation at ``min + (max - min) * threshold``;
3. the medial axis and its Euclidean distance map (:func:`skimage.morphology.medial_axis`
   with ``rng=42``, the tie-breaking seed of the release). The algorithm is the same, with its
   lookup tables built once instead of on every call, and the exact squared distance transform
   and the thinning loop compiled with numba; the skeletons are identical.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from mnistlab.errors import MnistlabError

__all__ = [
    "Morphology",
    "downscale",
    "morphology",
    "squared_distance",
    "upscale",
]

MEDIAL_AXIS_SEED = 42  # the release's tie-breaking seed for the medial axis


def _check_scale(scale: int) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise MnistlabError(f"scale must be a positive integer, got {scale!r}")
    return int(scale)


def _check_threshold(threshold: float) -> float:
    if not 0.0 <= float(threshold) < 1.0:
        raise MnistlabError(f"threshold must be in [0, 1), got {threshold!r}")
    return float(threshold)


def _separable(
    op: Callable[[NDArray], NDArray], height: int, width: int
) -> tuple[NDArray, NDArray]:
    """``(A, B)`` with ``op(X) == A @ X @ B.T`` for a linear, separable ``op`` on 2-D images.

    Read off ``op`` applied to images that are one along a single row (or column): a probe's
    other factor is ``op`` applied to a constant, which reflecting borders keep constant.
    """
    ones = op(np.ones((height, width)))
    rows = [op(np.outer(np.eye(height)[k], np.ones(width)))[:, 0] for k in range(height)]
    cols = [op(np.outer(np.ones(height), np.eye(width)[k]))[0, :] for k in range(width)]
    return np.stack(rows, axis=1) / ones[0, 0], np.stack(cols, axis=1)


@functools.cache
def _resize_ops(height: int, width: int, out_h: int, out_w: int) -> tuple[NDArray, NDArray]:
    """Matrices of scikit-image's cubic spline resize (reflecting borders, no clipping)."""
    from skimage.transform import resize

    def zoom(img: NDArray) -> NDArray:
        return resize(img, (out_h, out_w), order=3, mode="reflect", anti_aliasing=False, clip=False)

    za, zb = _separable(zoom, height, width)
    return np.ascontiguousarray(za), np.ascontiguousarray(zb)


def _smooth(x: NDArray, scale: int) -> NDArray:
    # The pyramid's Gaussian (sigma = 2 * scale / 6, covering > 99% of the kernel), per image.
    from scipy import ndimage

    sigma = 2 * scale / 6.0
    return ndimage.gaussian_filter(x, sigma=(0.0, sigma, sigma), mode="reflect", truncate=4.0)


def _apply(a: NDArray, x: NDArray, b: NDArray) -> NDArray:
    # Fast with one BLAS thread per process (the callers limit it); threads only contend here.
    return np.matmul(np.matmul(a, x), b.T)


def _clip_to_input(out: NDArray, x: NDArray) -> NDArray:
    # scikit-image's resize clips to the input's range: cubic splines overshoot.
    flat = x.reshape(len(x), -1)
    if flat.shape[1] == 0:
        return out
    lo = flat.min(axis=1)[:, None, None]
    hi = flat.max(axis=1)[:, None, None]
    return np.clip(out, lo, hi, out=out)


def upscale(images: NDArray, scale: int = 4) -> NDArray[np.float64]:
    """Cubic pyramid expansion of a batch, as :func:`skimage.transform.pyramid_expand`.

    Parameters
    ----------
    images : array, shape (N, H, W)
        ``uint8`` images (mapped to [0, 1]) or floats (kept as they are).
    scale : int
        Upsampling factor.

    Returns
    -------
    numpy.ndarray, float64, shape (N, scale * H, scale * W)

    Examples
    --------
    >>> upscale(np.zeros((2, 28, 28), np.uint8)).shape
    (2, 112, 112)
    """
    scale = _check_scale(scale)
    x = np.asarray(images)
    x = x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64, copy=False)
    h, w = x.shape[1], x.shape[2]
    za, zb = _resize_ops(h, w, h * scale, w * scale)
    return _smooth(_clip_to_input(_apply(za, x, zb), x), scale)


def downscale(hires: NDArray, scale: int = 4) -> NDArray[np.uint8]:
    """Cubic pyramid reduction of a batch of [0, 1] images back to ``uint8``.

    As :func:`skimage.transform.pyramid_reduce` (``order=3``), then clipped to [0, 1],
    multiplied by 255 and rounded.
    """
    scale = _check_scale(scale)
    x = np.asarray(hires, dtype=np.float64)
    if x.ndim != 3:
        raise MnistlabError(f"hires must have shape (N, H, W), got shape {x.shape}")
    h, w = x.shape[1], x.shape[2]
    if h % scale or w % scale:
        raise MnistlabError(f"image size {h}x{w} is not a multiple of scale {scale}")
    za, zb, ga, gb = _reduce_ops(h, w, scale)
    # The Gaussian and the resize are linear and separable: one small matrix per axis. Only
    # the resize's clip to the smoothed image's range needs that image; its values on the
    # sample grid bound the range, and the few images whose result leaves those bounds are
    # smoothed in full to clip exactly.
    low = _apply(za, x, zb)
    n, lh, lw = low.shape
    if n and low.size:
        flat = low.reshape(n, -1)
        # The smoothed image at the pixels next to the output's extremes: a lower bound of
        # its maximum and an upper bound of its minimum. The output is clipped to [0, 1] and
        # rounded to 1/255 anyway, so the smoothed range only matters when it lies inside
        # (0, 1) and the output leaves it; only those few images are smoothed in full.
        g_hi = _near_sample(ga, gb, x, flat.argmax(axis=1), lh, lw).max(axis=(1, 2))
        g_lo = _near_sample(ga, gb, x, flat.argmin(axis=1), lh, lw).min(axis=(1, 2))
        eps = 1e-9
        exact = ((flat.min(axis=1) < g_lo) & (g_lo > eps)) | (
            (flat.max(axis=1) > g_hi) & (g_hi < 1.0 - eps)
        )
        sel = np.flatnonzero(exact)
        if sel.size:
            low[sel] = _clip_to_input(low[sel], _smooth(x[sel], scale))
    return np.rint(np.clip(low, 0.0, 1.0) * 255.0).astype(np.uint8)


def _near_sample(
    ga: NDArray, gb: NDArray, x: NDArray, flat_index: NDArray, lh: int, lw: int
) -> NDArray:
    """Smoothed ``x[k]`` at the pixels next to output sample ``flat_index[k]``, per image."""
    i, j = np.divmod(flat_index, lw)
    rows = ga.reshape(lh, ga.shape[0] // lh, -1)[i]
    cols = gb.reshape(lw, gb.shape[0] // lw, -1)[j]
    return np.matmul(np.matmul(rows, x), cols.transpose(0, 2, 1))


@functools.cache
def _reduce_ops(h: int, w: int, scale: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Matrices of the pyramid reduction (Gaussian then resize) and of the Gaussian at the
    pixels nearest each output sample."""
    from scipy import ndimage

    sigma = 2 * scale / 6.0

    def gauss(img: NDArray) -> NDArray:
        return ndimage.gaussian_filter(img, sigma=sigma, mode="reflect", truncate=4.0)

    gh, gw = _separable(gauss, h, w)
    za, zb = _resize_ops(h, w, h // scale, w // scale)
    # The pixels on each side of every output sample (one pixel when ``scale`` is odd).
    near = np.unique([(scale - 1) // 2, scale // 2])
    rows = (np.arange(h // scale)[:, None] * scale + near).ravel()
    cols = (np.arange(w // scale)[:, None] * scale + near).ravel()
    ops = (za @ gh, zb @ gw, gh[rows], gw[cols])
    return tuple(np.ascontiguousarray(op) for op in ops)  # type: ignore[return-value]


# --- exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher) -------------

_FAR = 1 << 40  # "no zero pixel in this line"


@numba.njit(cache=True, nogil=True, inline="always")
def _true_box(m: NDArray[np.bool_]) -> tuple[int, int, int, int]:  # pragma: no cover
    # Bounding box of the True pixels grown by one pixel (clamped): everything outside is False.
    h, w = m.shape
    r0, r1, c0, c1 = h, -1, w, -1
    for r in range(h):
        for c in range(w):
            if m[r, c]:
                r0 = min(r0, r)
                r1 = max(r1, r)
                c0 = min(c0, c)
                c1 = max(c1, c)
    if r1 < 0:
        return 0, 0, 0, 0
    return max(r0 - 1, 0), min(r1 + 2, h), max(c0 - 1, 0), min(c1 + 2, w)


@numba.njit(cache=True, nogil=True)
def _sq_edt_batch(
    mask: NDArray[np.bool_], out: NDArray[np.int64]
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    n = mask.shape[0]
    boxes = np.empty((n, 4), np.int64)
    for k in range(n):
        # Only the box around the True pixels: outside it every pixel is False (distance 0),
        # and the box's margin holds a False pixel nearer than anything beyond it.
        boxes[k] = _true_box(mask[k])
    return _sq_edt_boxes(mask, boxes, 0, out)


@numba.njit(cache=True, nogil=True)
def _sq_edt_boxes(
    mask: NDArray[np.bool_], boxes: NDArray[np.int64], fill: int, out: NDArray[np.int64]
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    # The transform of each image's box ``r0, r1, c0, c1`` on its own; ``fill`` elsewhere.
    # ``out`` (shape of ``mask``) may be a reused buffer: every pixel is written.
    n, h, w = mask.shape
    out[:] = fill
    g = np.empty((h, w), np.int64)
    v = np.empty(w, np.int64)
    z = np.empty(w + 1, np.float64)
    for k in range(n):
        r0, r1, c0, c1 = boxes[k, 0], boxes[k, 1], boxes[k, 2], boxes[k, 3]
        if r1 <= r0 or c1 <= c0:
            continue
        # Pass 1: distance along each column to the nearest zero.
        for c in range(c0, c1):
            last = -1
            for r in range(r0, r1):
                if not mask[k, r, c]:
                    last = r
                g[r, c] = r - last if last >= 0 else _FAR
            last = -1
            for r in range(r1 - 1, r0 - 1, -1):
                if not mask[k, r, c]:
                    last = r
                if last >= 0 and last - r < g[r, c]:
                    g[r, c] = last - r
        # Pass 2: lower envelope of the parabolas (c - q)^2 + g[q]^2 along each row.
        for r in range(r0, r1):
            m = -1
            for q in range(c0, c1):
                gq = g[r, q]
                if gq >= _FAR:
                    continue
                fq = gq * gq + q * q
                if m < 0:
                    m = 0
                    v[0] = q
                    z[0] = -np.inf
                    z[1] = np.inf
                    continue
                while True:
                    p = v[m]
                    gp = g[r, p]
                    s = (fq - (gp * gp + p * p)) / (2.0 * (q - p))
                    if s <= z[m] and m > 0:
                        m -= 1
                    else:
                        break
                if s <= z[m]:
                    # Only reachable when m == 0: the new parabola wins everywhere.
                    v[0] = q
                    z[0] = -np.inf
                    z[1] = np.inf
                    continue
                m += 1
                v[m] = q
                z[m] = s
                z[m + 1] = np.inf
            if m < 0:
                for c in range(c0, c1):
                    out[k, r, c] = _FAR
                continue
            j = 0
            for c in range(c0, c1):
                while z[j + 1] < c:
                    j += 1
                p = v[j]
                out[k, r, c] = (c - p) * (c - p) + g[r, p] * g[r, p]
    return out


def _near_stroke(binary: NDArray[np.bool_], radius: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Pixels within ``radius[k]`` of the foreground of image ``k`` (disk dilation)."""
    b: NDArray[np.bool_] = np.ascontiguousarray(binary, dtype=np.bool_)
    n, h, w = b.shape
    rows: NDArray[np.bool_] = np.any(b, axis=2)
    cols: NDArray[np.bool_] = np.any(b, axis=1)
    boxes = np.zeros((n, 4), np.int64)
    has = np.any(rows, axis=1)
    grow = radius[has] + 1
    # Nothing farther than the radius from the foreground's box can join it.
    boxes[has, 0] = np.maximum(rows[has].argmax(axis=1) - grow, 0)
    boxes[has, 1] = np.minimum(h - rows[has, ::-1].argmax(axis=1) + grow, h)
    boxes[has, 2] = np.maximum(cols[has].argmax(axis=1) - grow, 0)
    boxes[has, 3] = np.minimum(w - cols[has, ::-1].argmax(axis=1) + grow, w)
    d2 = _sq_edt_boxes(~b, boxes, _FAR, np.empty(b.shape, np.int64))
    return d2 <= (radius * radius)[:, None, None]


def squared_distance(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Exact squared Euclidean distance of every pixel to the nearest ``False`` pixel.

    For each image of a batch, as ``scipy.ndimage.distance_transform_edt(mask) ** 2``
    (integers). An image with no ``False`` pixel gets a huge value (``2 ** 40``).

    Examples
    --------
    >>> m = np.ones((1, 1, 5), bool); m[0, 0, 0] = False
    >>> squared_distance(m)[0, 0].tolist()
    [0, 1, 4, 9, 16]
    """
    m = np.asarray(mask)
    if m.ndim != 3:
        raise MnistlabError(f"mask must have shape (N, H, W), got shape {m.shape}")
    return _sq_edt_batch(np.ascontiguousarray(m, dtype=np.bool_), np.empty(m.shape, np.int64))


# --- medial axis ----------------------------------------------------------------------------


@functools.cache
def _thinning_table() -> NDArray[np.uint8]:
    """Keep (1) or remove (0) a foreground pixel given its 3x3 neighbourhood code.

    Bit ``3 * dr + dc`` of the code (``dr, dc`` in 0..2) is the pixel at offset
    ``(dr - 1, dc - 1)``. A foreground centre is kept when removing it changes the number of
    8-connected components of the 3x3 patch, or when the patch holds fewer than 3 pixels.
    """
    from scipy import ndimage

    eight = np.ones((3, 3), bool)
    table = np.zeros(512, np.uint8)
    bits = (np.arange(512)[:, None] >> np.arange(9)) & 1
    for code in range(512):
        if not bits[code, 4]:
            continue
        patch = bits[code].reshape(3, 3).astype(bool)
        without = patch.copy()
        without[1, 1] = False
        changes = ndimage.label(patch, eight)[1] != ndimage.label(without, eight)[1]
        table[code] = changes or patch.sum() < 3
    return table


@functools.cache
def _tiebreaker(n: int) -> NDArray[np.int64]:
    return np.random.default_rng(MEDIAL_AXIS_SEED).permutation(np.arange(n)).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _medial_axis_batch(
    binary: NDArray[np.bool_],
    d2: NDArray[np.int64],
    table: NDArray[np.uint8],
    ties: NDArray[np.int64],
    tie_start: NDArray[np.int64],
    result: NDArray[np.uint8],
) -> NDArray[np.bool_]:  # pragma: no cover - compiled
    # ``result`` (shape of ``binary``) may be a reused buffer: it is cleared first.
    n, h, w = binary.shape
    result[:] = 0
    for k in range(n):
        # Work in the box around the foreground (grown by one): the raster order of the
        # foreground pixels, hence the tie-breaking, is the same as in the whole image.
        r0, r1, c0, c1 = _true_box(binary[k])
        count = 0
        for r in range(r0, r1):
            for c in range(c0, c1):
                if binary[k, r, c]:
                    result[k, r, c] = 1
                    count += 1
        if count == 0:
            continue
        pix = np.empty(count, np.int64)
        key = np.empty(count, np.int64)
        top = 0
        t0 = tie_start[k]
        i = 0
        for r in range(r0, r1):
            for c in range(c0, c1):
                if not binary[k, r, c]:
                    continue
                # Cornerness: background pixels in the 3x3 neighbourhood (outside counts too).
                fg = 0
                for dr in range(-1, 2):
                    rr = r + dr
                    if rr < 0 or rr >= h:
                        continue
                    for dc in range(-1, 2):
                        cc = c + dc
                        if 0 <= cc < w and binary[k, rr, cc]:
                            fg += 1
                pix[i] = r * w + c
                key[i] = d2[k, r, c] * 9 + (9 - fg)
                top = max(top, key[i])
                i += 1
        # Sort by distance, then cornerness, then the tie-breaker: the tie-breaker is a
        # permutation of 0..count-1, so placing each pixel at its tie rank, then a stable
        # counting sort by the first two keys, gives ``argsort`` of the combined key in O(n).
        if top > 64 * count + 4096:  # no background at all (huge distances): plain sort
            for i in range(count):
                key[i] = key[i] * count + ties[t0 + i]
            order = np.argsort(key)
        else:
            by_tie = np.empty(count, np.int64)
            for i in range(count):
                by_tie[ties[t0 + i]] = i
            start = np.zeros(top + 2, np.int64)
            for i in range(count):
                start[key[i] + 1] += 1
            for j in range(1, top + 2):
                start[j] += start[j - 1]
            order = np.empty(count, np.int64)
            for j in range(count):
                i = by_tie[j]
                order[start[key[i]]] = i
                start[key[i]] += 1
        for idx in range(count):
            p = pix[order[idx]]
            r = p // w
            c = p - r * w
            code = 16
            if r > 0:
                if c > 0 and result[k, r - 1, c - 1]:
                    code += 1
                if result[k, r - 1, c]:
                    code += 2
                if c < w - 1 and result[k, r - 1, c + 1]:
                    code += 4
            if c > 0 and result[k, r, c - 1]:
                code += 8
            if c < w - 1 and result[k, r, c + 1]:
                code += 32
            if r < h - 1:
                if c > 0 and result[k, r + 1, c - 1]:
                    code += 64
                if result[k, r + 1, c]:
                    code += 128
                if c < w - 1 and result[k, r + 1, c + 1]:
                    code += 256
            result[k, r, c] = table[code]
    return result.view(np.bool_)


def medial_axis(binary: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Medial axis and distance map of each binary image of a batch.

    Identical to ``skimage.morphology.medial_axis(img, return_distance=True, rng=42)`` for
    every image.

    Returns
    -------
    skeleton : numpy.ndarray of bool, shape (N, H, W)
    distance : numpy.ndarray of float64, shape (N, H, W)
    """
    b = np.ascontiguousarray(binary, dtype=np.bool_)
    if b.ndim != 3:
        raise MnistlabError(f"binary must have shape (N, H, W), got shape {b.shape}")
    d2 = _sq_edt_batch(b, np.empty(b.shape, np.int64))
    skeleton = _medial_axis_from(b, d2)
    distance = np.sqrt(d2, dtype=np.float64)  # d2 is 0 on the background
    return skeleton, distance


def _medial_axis_from(
    b: NDArray[np.bool_], d2: NDArray[np.int64], out: NDArray[np.uint8] | None = None
) -> NDArray[np.bool_]:
    counts = b.reshape(len(b), -1).sum(axis=1)
    starts = np.zeros(len(b), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    ties = (
        np.concatenate([_tiebreaker(int(c)) for c in counts]) if len(b) else np.zeros(0, np.int64)
    )
    result = np.empty(b.shape, np.uint8) if out is None else out
    return _medial_axis_batch(b, d2, _thinning_table(), ties, starts, result)


@dataclass(frozen=True, eq=False)
class Morphology:
    """Upsampled binary morphology of a batch of images (see :func:`morphology`).

    Attributes
    ----------
    hires : uint8 (N, sH, sW)
        The cubic upsampled grey images, truncated to ``uint8`` as the release stores them.
    binary : bool (N, sH, sW)
        ``hires >= min + (max - min) * threshold``, per image.
    skeleton : bool (N, sH, sW)
        Medial axis of ``binary``.
    distance : float64 (N, sH, sW)
        Euclidean distance of every foreground pixel to the background (0 outside).
    scale : int
    threshold : float
    blank : bool (N,)
        Images with no contrast (max == min): empty binary image and skeleton.
    """

    hires: NDArray[np.uint8]
    binary: NDArray[np.bool_]
    skeleton: NDArray[np.bool_]
    distance: NDArray[np.float64]
    scale: int
    threshold: float
    blank: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.binary)

    @property
    def thickness(self) -> NDArray[np.float64]:
        """Mean stroke thickness per image, in original pixels (NaN for blank images)."""
        n = self.skeleton.reshape(len(self), -1).sum(axis=1)
        total = (self.distance * self.skeleton).reshape(len(self), -1).sum(axis=1)
        return np.where(n > 0, 2.0 * total / np.maximum(n, 1) / self.scale, np.nan)


def morphology(images: NDArray, scale: int = 4, threshold: float = 0.5) -> Morphology:
    """Compute the upsampled binary morphology of a batch of images.

    Parameters
    ----------
    images : numpy.ndarray, uint8, shape (N, H, W)
        0 background, 255 ink.
    scale : int
        Upsampling factor (the release uses 4).
    threshold : float
        Relative binarisation threshold in [0, 1).

    Returns
    -------
    Morphology

    Examples
    --------
    >>> img = np.zeros((1, 28, 28), np.uint8); img[0, 6:22, 12:16] = 255
    >>> m = morphology(img)
    >>> m.binary.shape, bool(m.skeleton.any()), m.thickness.round(1).tolist()
    ((1, 112, 112), True, [3.8])
    """
    from mnistlab.data.dataset import check_images

    scale = _check_scale(scale)
    threshold = _check_threshold(threshold)
    x = check_images(images)
    from mnistlab.morpho._block import Workspace, block_morphology

    # The release keeps the upsampled image as uint8 (truncated): its measurements (slant,
    # width, height especially) match the published tables far better that way. A fresh
    # workspace: the arrays returned belong to the caller.
    hires, binary, skeleton, d2, blank = block_morphology(x, scale, threshold, Workspace())
    distance = np.sqrt(d2, dtype=np.float64)  # d2 is 0 on the background
    return Morphology(hires, binary, skeleton, distance, scale, threshold, blank)
