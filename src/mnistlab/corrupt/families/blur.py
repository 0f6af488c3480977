"""Blur corruptions: glass, motion, Gaussian, defocus and zoom blur, batched over images."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt._kernels import (
    apply_linear,
    compiled_swap_chain,
    compiled_tap_filter,
    linear_operator,
)
from mnistlab.corrupt._kernels import gaussian_blur as _gauss
from mnistlab.corrupt.registry import BOTH_RELEASES, TRUNCATION_ONLY, Context, register_family


def _ndi() -> Any:
    # scipy.ndimage costs ~0.5 s to import: only the corruptions that need it load it.
    import scipy.ndimage

    return scipy.ndimage


Array = NDArray[np.floating]

_CHUNK = 2048  # images per swap-chain block: keeps the per-step index table ~20 MB


def _blur_axes(ctx: Context) -> tuple[int, ...]:
    # The releases called skimage's gaussian(..., multichannel=True) on a 2-D image, which
    # takes the last axis for colour channels: the blur runs down the columns only.
    return (1,) if ctx.compat else (1, 2)


# --------------------------------------------------------------------------- glass blur


def _swap_partners(
    ctx: Context, shift: int, iterations: int, shape: tuple[int, int]
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """The swap chain of every image: step ``j`` swaps pixel ``pos[j]`` with ``partner[k, j]``.

    ``pos`` (steps,) visits rows and columns from ``H - shift`` down to ``shift + 1``, once
    per iteration; ``partner`` (n, steps) is the flat index of the pixel at ``(dy, dx)``
    from it, or ``pos[j]`` itself when the step's coin says no swap.
    """
    h, w = shape
    n = ctx.sample_ids.shape[0]
    hs = np.arange(h - shift, shift, -1)
    ws = np.arange(w - shift, shift, -1)
    pos = np.tile((hs[:, None] * w + ws[None, :]).ravel(), iterations).astype(np.int64)
    steps = pos.size
    # A step draws a coin and (dx, dy) in [-shift, shift): `base` = 2 (2 shift)^2 outcomes,
    # read as base-`base` digits of 24-bit uniforms: several steps per draw for a power-of-two
    # base (exact), else one step per draw (bias below 2^-17).
    side = 2 * shift
    base = 2 * side * side
    nbits = base.bit_length() - 1
    per_draw = 24 // nbits if base == 1 << nbits else 1
    draws = -(-steps // per_draw)
    bits = (ctx.uniform((draws,)) * np.float32(2**24)).astype(np.uint32)
    if per_draw > 1:
        shifts = (np.arange(per_draw, dtype=np.uint32) * np.uint32(nbits))[None, None, :]
        code = (bits[:, :, None] >> shifts) & np.uint32(base - 1)
    else:
        code = ((bits.astype(np.uint64) * np.uint64(base)) >> np.uint64(24))[:, :, None]
    code = code.reshape(n, -1)[:, :steps]
    # Outcome -> pixel offset: coin (lowest digit), then dx, then dy, as the release drew them.
    outcome = np.arange(base)
    dx = (outcome // 2) % side - shift
    dy = outcome // (2 * side) - shift
    lut = np.where(outcome % 2 == 1, dy * w + dx, 0).astype(np.int32)
    partner = lut[code] + pos.astype(np.int32)[None, :]
    return pos, partner


# Images per numpy step loop. The numpy loop only runs for batches below the numba threshold
# (or without numba): one block keeps the Python overhead (4 calls per step) per batch.
_NUMPY_LANES = 2048


def _swap_chain_numpy(
    img: NDArray[np.float32], pos: NDArray[np.int64], partner: NDArray[np.int32]
) -> None:
    # Fallback without numba: the loop runs over steps, each step N images wide.
    for s in range(0, img.shape[0], _NUMPY_LANES):
        block = img[s : s + _NUMPY_LANES]
        n = block.shape[0]
        cols = block.T.copy()  # (H*W, n): the pixel a step reads is one row
        flat = cols.reshape(-1)
        target = partner[s : s + n].T.astype(np.intp) * n + np.arange(n)
        for j in range(pos.size):
            row = cols[pos[j]]
            here = row.copy()
            row[:] = flat[target[j]]
            flat[target[j]] = here
        block[:] = cols.T


def swap_chain(
    img: NDArray[np.float32], pos: NDArray[np.int64], partner: NDArray[np.int32]
) -> None:
    """Run the release's sequential swap loop on flattened images ``(n, H*W)``, in place.

    Step ``j`` swaps pixel ``pos[j]`` of image ``k`` with pixel ``partner[k, j]``; the steps
    run in order, as a pixel moved by one step can move again. Uses a compiled loop when
    numba is installed, else a numpy loop over steps that is N images wide (same result).
    """
    kernel = compiled_swap_chain(img.shape[0])
    if kernel is None:
        _swap_chain_numpy(img, pos, partner)
    else:
        kernel(img, pos, partner)


def glass_blur(x: Array, param: tuple[float, int, int], ctx: Context) -> Array:
    """Blur, swap pixels with random neighbours, blur again.

    ``param = (sigma, max_shift, iterations)``. Each iteration visits rows and columns from
    ``H - shift`` down to ``shift + 1`` and, with probability 1/2, swaps the pixel with the
    one at offset ``(dy, dx)`` drawn from ``[-shift, shift - 1]``. The sequential swap chain
    runs step by step over the whole batch.
    """
    sigma, shift, iterations = param
    axes = _blur_axes(ctx)
    y = _gauss(np.asarray(x, np.float32), sigma, axes)
    if ctx.compat:
        # The release stored the first blur as uint8 (truncating) before swapping.
        y = np.floor(y * np.float32(255) + np.float32(1e-4)) * np.float32(1 / 255)
    y = np.ascontiguousarray(y, dtype=np.float32)
    n = y.shape[0]
    flat = y.reshape(n, -1)
    for s in range(0, n, _CHUNK):
        pos, partner = _swap_partners(ctx.rows(s, s + _CHUNK), shift, iterations, y.shape[1:])
        swap_chain(flat[s : s + _CHUNK], pos, partner)
    return np.clip(_gauss(y, sigma, axes), 0, 1)


# --------------------------------------------------------------------------- motion blur


@lru_cache(maxsize=16)
def _motion_kernel(radius: float, sigma: float) -> NDArray[np.float64]:
    # ImageMagick's MotionBlurImage: width 2*ceil(radius)+1, one-sided Gaussian weights.
    width = int(2 * math.ceil(radius) + 1)
    i = np.arange(width, dtype=np.float64)
    k = np.exp(-(i * i) / (2 * sigma * sigma))
    return k / k.sum()


def motion_blur_at(
    x: Array, radius: float, sigma: float, angle: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Motion blur of image ``k`` along ``angle[k]`` degrees (the deterministic core).

    Output pixel ``(r, c)`` is ``sum_i k_i x[r + dy_i, c + dx_i]`` with ``k_i`` proportional
    to ``exp(-i^2 / (2 sigma^2))`` for ``i = 0 .. 2 ceil(radius)``, taps
    ``dx_i, dy_i = round(i cos a), round(i sin a)`` (halves rounded down) and edge pixels
    repeated outside the image: ImageMagick's one-sided ``MotionBlurImage``. A compiled
    loop with numba; without it, images whose rounded taps coincide are processed together,
    one shifted slice per tap.
    """
    kernel = _motion_kernel(float(radius), float(sigma))
    width = kernel.size
    n, h, w = x.shape
    theta = np.deg2rad(np.asarray(angle, dtype=np.float64))
    i = np.arange(width, dtype=np.float64)
    ox = np.ceil(i[None, :] * np.cos(theta)[:, None] - 0.5).astype(np.int64)
    oy = np.ceil(i[None, :] * np.sin(theta)[:, None] - 0.5).astype(np.int64)
    x32 = np.ascontiguousarray(x, dtype=np.float32)
    weights = kernel.astype(np.float32)
    compiled = compiled_tap_filter(n)
    if compiled is not None:
        out = np.empty((n, h, w), dtype=np.float32)
        compiled(x32, oy, ox, weights, out)
        return out
    return _tap_filter_grouped(x32, oy, ox, weights)


def _tap_filter_grouped(
    x: NDArray[np.float32],
    oy: NDArray[np.int64],
    ox: NDArray[np.int64],
    weights: NDArray[np.float32],
) -> NDArray[np.float32]:
    # Without numba: images whose taps coincide form a group; one shifted slice per tap.
    n, h, w = x.shape
    width = weights.size
    pad = width - 1
    code = (ox + pad) * (2 * pad + 1) + (oy + pad)
    patterns, first, group = np.unique(code, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(patterns) + 1))
    # Edge padding by index clipping: cheaper than np.pad, and only as wide as the taps reach.
    top, bottom = max(0, -oy.min()), max(0, oy.max())
    left, right = max(0, -ox.min()), max(0, ox.max())
    rows = np.clip(np.arange(-top, h + bottom), 0, h - 1)
    cols = np.clip(np.arange(-left, w + right), 0, w - 1)
    out = np.empty((n, h, w), dtype=np.float32)
    for g in range(len(patterns)):
        lo, hi = bounds[g], bounds[g + 1]
        src = x[order[lo:hi]][:, rows][:, :, cols]
        acc = np.zeros((hi - lo, h, w), dtype=np.float32)
        for t in range(width):
            r0 = top + oy[first[g], t]
            c0 = left + ox[first[g], t]
            acc += weights[t] * src[:, r0 : r0 + h, c0 : c0 + w]
        out[order[lo:hi]] = acc
    return out


def motion_blur(x: Array, param: tuple[float, float], ctx: Context) -> NDArray[np.float32]:
    """Streak along a random angle in [-45, 45] degrees, like ImageMagick's ``-motion-blur``.

    ``param = (radius, sigma)``; see :func:`motion_blur_at`.
    """
    radius, sigma = param
    return motion_blur_at(x, radius, sigma, ctx.uniform64() * 90.0 - 45.0)


# --------------------------------------------------------------------------- other blurs


def gaussian_blur(x: Array, sigma: float, ctx: Context) -> Array:
    """Gaussian blur with standard deviation ``sigma`` pixels (edges repeated)."""
    return _gauss(np.asarray(x, np.float32), sigma, _blur_axes(ctx))


@lru_cache(maxsize=16)
def _disk(radius: float, alias_blur: float) -> NDArray[np.float64]:
    # MNIST-C's disk: an aliased disk on a 17x17 grid (21x21 beyond radius 8), normalised,
    # then smoothed by a 3x3 (5x5) Gaussian with reflect-101 borders, as cv2.GaussianBlur.
    half, ksize = (8, 3) if radius <= 8 else (int(radius), 5)
    grid = np.arange(-half, half + 1)
    xx, yy = np.meshgrid(grid, grid)
    disk = ((xx**2 + yy**2) <= radius**2).astype(np.float64)
    disk /= disk.sum()
    t = np.arange(ksize) - ksize // 2
    g = np.exp(-(t * t) / (2 * alias_blur * alias_blur))
    g /= g.sum()
    out = _ndi().correlate1d(disk, g, axis=0, mode="mirror")
    return _ndi().correlate1d(out, g, axis=1, mode="mirror")


def _defocus_reference(
    x: NDArray[np.float64], radius: float, alias_blur: float
) -> NDArray[np.float64]:
    from scipy.signal import fftconvolve

    kernel = _disk(radius, alias_blur)
    half = kernel.shape[0] // 2
    xp = np.pad(x, ((0, 0), (half, half), (half, half)), mode="reflect")
    return fftconvolve(xp, kernel[None], mode="valid", axes=(1, 2))


def defocus_blur(x: Array, param: tuple[float, float], ctx: Context) -> Array:
    """Blur by an anti-aliased disk of the given radius (an out-of-focus lens).

    ``param = (radius, alias_blur)``. Borders are mirrored without repeating the edge
    (OpenCV's default, as the release's ``cv2.filter2D``). The filter is linear, so it runs
    as one matrix product per batch (the matrix is built once from an FFT convolution).
    """
    op = linear_operator(("defocus", *param), x.shape[1:], lambda e: _defocus_reference(e, *param))
    return np.clip(apply_linear(x, op), 0, 1)


def _clipped_zoom(x: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    # The centre crop that fills the image once zoomed (MNIST-C's clipped_zoom), batched.
    _, h, w = x.shape
    ch, cw = int(np.ceil(h / factor)), int(np.ceil(w / factor))
    top, left = (h - ch) // 2, (w - cw) // 2
    z = _ndi().zoom(x[:, top : top + ch, left : left + cw], (1, factor, factor), order=1)
    tt, tl = (z.shape[1] - h) // 2, (z.shape[2] - w) // 2
    return z[:, tt : tt + h, tl : tl + w]


def _zoom_reference(x: NDArray[np.float64], factors: tuple[float, ...]) -> NDArray[np.float64]:
    acc = x.copy()
    for f in factors:
        acc += _clipped_zoom(x, f)
    return acc / (len(factors) + 1)


def zoom_blur(x: Array, factors: tuple[float, ...], ctx: Context) -> Array:
    """Average of the image and centre zooms of it by each factor (a camera zooming in).

    Linear in the image: one matrix product per batch (built once with ndimage's zoom).
    """
    op = linear_operator(("zoom", *factors), x.shape[1:], lambda e: _zoom_reference(e, factors))
    return np.clip(apply_linear(x, op), 0, 1)


def _zoom_levels() -> tuple[tuple[float, ...], ...]:
    # np.arange(1, 1.11, 0.01) etc. in the release (1.0 included, the end excluded).
    spec = ((1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03))
    return tuple(tuple(float(v) for v in np.arange(1, stop, step)) for stop, step in spec)


_GLASS: tuple[Any, ...] = ((0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2))

_blur = register_family("blur", compat_note=TRUNCATION_ONLY)
_blur(
    "glass_blur",
    glass_blur,
    _GLASS,
    benchmark_severity=1,
    description="Gaussian blur, random local pixel swaps, blur again; (sigma, max shift, "
    "iterations) = (0.7,1,2) .. (1.5,4,2)",
    compat_note="blurs along the vertical axis only (skimage multichannel quirk) and "
    "truncates the first blur to uint8, as the release; default: 2-D blur in float",
    releases=BOTH_RELEASES,
)
_blur(
    "motion_blur",
    motion_blur,
    ((10, 3), (15, 5), (15, 8), (15, 12), (20, 15)),
    benchmark_severity=1,
    description="one-sided Gaussian-weighted streak (ImageMagick motion blur) at a random "
    "angle in [-45, 45] deg; (radius, sigma) = (10,3) .. (20,15)",
    compat_note="a NumPy re-implementation of ImageMagick's kernel (no ImageMagick); the "
    "release's output was rounded by ImageMagick, compat truncates",
    releases=BOTH_RELEASES,
)
_blur(
    "gaussian_blur",
    gaussian_blur,
    (1, 2, 3, 4, 6),
    description="Gaussian blur, sigma 1, 2, 3, 4, 6 pixels",
    compat_note="blurs along the vertical axis only, as MNIST-C's code (skimage "
    "multichannel quirk); default: 2-D blur",
)
_blur(
    "defocus_blur",
    defocus_blur,
    ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)),
    description="anti-aliased disk blur, radius 3, 4, 6, 8, 10 pixels",
)
_blur(
    "zoom_blur",
    zoom_blur,
    _zoom_levels(),
    description="mean of centre zooms up to 1.11, 1.16, 1.21, 1.26, 1.31",
)
