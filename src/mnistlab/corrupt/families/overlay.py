"""Overlay corruptions: something drawn over the image (stripes, fog, mud, lines, snow).

Every function works on a whole ``float32 (N, H, W)`` batch in 0..1 and draws its random
numbers per sample through the :class:`~mnistlab.corrupt.registry.Context`, so sample ``i``
gets the same overlay whatever batch it is processed in.

The formulas follow the MNIST-C release (Mu & Gilmer, 2019); where a batched form changes a
detail, the corruption's ``compat_note`` says so.
"""

from __future__ import annotations

import math
from functools import cache, lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mnistlab.corrupt import _fast
from mnistlab.corrupt.registry import Context, register_family


def _ndi() -> Any:
    # scipy.ndimage costs ~0.5 s to import: only the corruptions that need it load it.
    import scipy.ndimage

    return scipy.ndimage


__all__ = ["line_layer", "plasma_fractal", "streak_blur"]

_NONE = (None,) * 5


# --------------------------------------------------------------------------- stripe


def _stripe(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    # The release inverts columns 0-6 and 21-27 of 28: a quarter of the width at each edge.
    w = x.shape[2]
    k = w // 4
    y = x.copy()
    y[:, :, :k] = 1.0 - y[:, :, :k]
    y[:, :, w - k :] = 1.0 - y[:, :, w - k :]
    return y


def _stripe_u8(x: NDArray[np.uint8], param: Any, ctx: Context) -> NDArray[np.uint8]:
    return _fast.xor_columns(x, x.shape[2] // 4)


# --------------------------------------------------------------------------- fog

_FULL_LEVELS = 5  # the first 5 levels (down to an 8-pixel grid) are computed whole
_MAP_LEVELS = 8  # 256 = 2**8


def _amplitude(level: int, decay: float) -> float:
    # The release adds wibble * uniform(-wibble, wibble): an amplitude of wibble squared.
    wibble = 100.0 / decay**level
    return wibble * wibble


def _full_levels(u_of_level: Any, n: int, levels: int, decay: float) -> NDArray[np.float64]:
    """Diamond-square on the whole torus, ``levels`` levels: a ``(n, 2**levels, 2**levels)`` grid.

    ``u_of_level(level, g)`` returns uniforms of shape ``(n, g, g)`` for the fine grid of
    that level (entries at coarse points are ignored).
    """
    grid = np.zeros((n, 1, 1))
    for level in range(levels):
        g = grid.shape[1]
        amp = _amplitude(level, decay)
        noise = (2.0 * u_of_level(level, 2 * g) - 1.0) * amp
        fine = np.empty((n, 2 * g, 2 * g))
        fine[:, ::2, ::2] = grid
        acc = grid + np.roll(grid, -1, axis=1)
        acc = acc + np.roll(acc, -1, axis=2)
        centers = acc / 4 + noise[:, 1::2, 1::2]
        fine[:, 1::2, 1::2] = centers
        # Diamonds: two corners beside them on the coarse grid, two square centres across.
        fine[:, ::2, 1::2] = (
            grid + np.roll(grid, -1, axis=2) + centers + np.roll(centers, 1, axis=1)
        ) / 4 + noise[:, ::2, 1::2]
        fine[:, 1::2, ::2] = (
            grid + np.roll(grid, -1, axis=1) + centers + np.roll(centers, 1, axis=2)
        ) / 4 + noise[:, 1::2, ::2]
        grid = fine
    return grid


def _window_level(coarse: NDArray[np.float64], noise: NDArray[np.float64]) -> NDArray[np.float64]:
    """One diamond-square level on a window of the grid, without wrap-around.

    ``coarse`` holds coarse points ``-1 .. R-2`` per axis; the result holds fine points
    ``-2 .. 2R-4`` (shape ``2R-1``), valid on ``-1 .. 2R-5``.
    """
    n, r, _ = coarse.shape
    fine = np.zeros((n, 2 * r - 1, 2 * r - 1))
    fine[:, ::2, ::2] = coarse
    centers = (
        coarse[:, :-1, :-1] + coarse[:, 1:, :-1] + coarse[:, :-1, 1:] + coarse[:, 1:, 1:]
    ) / 4
    centers += noise[:, 1::2, 1::2]
    fine[:, 1::2, 1::2] = centers
    fine[:, 2:-2:2, 1::2] = (
        coarse[:, 1:-1, :-1] + coarse[:, 1:-1, 1:] + centers[:, :-1, :] + centers[:, 1:, :]
    ) / 4 + noise[:, 2:-2:2, 1::2]
    fine[:, 1::2, 2:-2:2] = (
        coarse[:, :-1, 1:-1] + coarse[:, 1:, 1:-1] + centers[:, :, :-1] + centers[:, :, 1:]
    ) / 4 + noise[:, 1::2, 2:-2:2]
    return fine


def _window_sizes(size: int, levels: int) -> list[int]:
    # Coarse window widths (points -1 .. R-2) that the windowed levels need, coarsest first.
    sizes = []
    need_hi = size - 1
    for _ in range(levels):
        r = math.ceil((need_hi + 5) / 2)
        sizes.append(r)
        need_hi = r - 2
    return sizes[::-1]


def plasma_fractal(
    u_of_level: Any,
    n: int,
    decay: float,
    size: int = 28,
    full_levels: int = _FULL_LEVELS,
) -> NDArray[np.float64]:
    """The top-left ``size x size`` corner of 256 x 256 diamond-square plasma fractals, in 0..1.

    Levels down to a ``256 / 2**full_levels`` pixel grid are computed whole; the finer levels
    only on the window that influences the corner (a few hundred points instead of 65,536).

    Parameters
    ----------
    u_of_level : callable
        ``u_of_level(level, g)`` -> uniforms ``(n, g, g)`` for the fine points of ``level``.
    n : int
        Number of maps.
    decay : float
        The release's ``wibbledecay``.
    size : int
        Side of the corner kept.
    full_levels : int
        8 computes the whole 256 x 256 map (as the release); fewer is faster.

    Returns
    -------
    numpy.ndarray, float64, shape (n, size, size)
        Shifted and scaled by the map's minimum and maximum: those of the whole map when
        ``full_levels == 8``, else of the coarse whole grid and the corner (the finer levels
        move the extremes by well under 1% of the range).
    """
    grid = _full_levels(u_of_level, n, full_levels, decay)
    if full_levels >= _MAP_LEVELS:
        corner = grid[:, :size, :size]
        lo = grid.min(axis=(1, 2))
        hi = grid.max(axis=(1, 2))
    else:
        g = grid.shape[1]
        windowed = _MAP_LEVELS - full_levels
        sizes = _window_sizes(size, windowed)
        idx = np.arange(-1, sizes[0] - 1) % g
        window = grid[:, idx][:, :, idx]
        for step, level in enumerate(range(full_levels, _MAP_LEVELS)):
            r = window.shape[1]
            noise = (2.0 * u_of_level(level, 2 * r - 1) - 1.0) * _amplitude(level, decay)
            fine = _window_level(window, noise)
            if step + 1 < windowed:
                window = fine[:, 1 : 1 + sizes[step + 1], 1 : 1 + sizes[step + 1]]
            else:
                window = fine[:, 2 : 2 + size, 2 : 2 + size]
        corner = window
        lo = np.minimum(grid.min(axis=(1, 2)), corner.min(axis=(1, 2)))
        hi = np.maximum(grid.max(axis=(1, 2)), corner.max(axis=(1, 2)))
    span = np.where(hi > lo, hi - lo, 1.0)
    return (corner - lo[:, None, None]) / span[:, None, None]


def _fog(x: NDArray[np.float32], param: tuple[float, float], ctx: Context) -> NDArray[np.float32]:
    strength, decay = param
    n, h, w = x.shape
    full = _MAP_LEVELS if ctx.compat else _FULL_LEVELS
    out = np.empty_like(x)
    # The exact 256 x 256 maps of compat mode take 0.5 MB each: a few at a time.
    step = 16 if ctx.compat else n
    for s in range(0, n, step):
        part = slice(s, min(s + step, n))
        sub = Context(ctx.seed, ctx.sample_ids[part], ctx.compat, ctx.name)

        def draw(level: int, g: int, sub: Context = sub) -> NDArray[np.float32]:
            return sub.uniform((g, g), stream=level)

        fog = plasma_fractal(draw, part.stop - part.start, decay, max(h, w), full)[:, :h, :w]
        xs = x[part]
        top = xs.max(axis=(1, 2), keepdims=True)
        out[part] = (xs + strength * fog) * top / (top + strength)
    return out


# --------------------------------------------------------------------------- spatter


def _spatter(x: NDArray[np.float32], param: tuple[float, ...], ctx: Context) -> NDArray[np.float32]:
    loc, scale, sigma, threshold, sigma_mask = param
    h, w = x.shape[1:]
    liquid = (loc + scale * ctx.normal((h, w))).astype(np.float32)
    liquid = _ndi().gaussian_filter(liquid, (0, sigma, sigma), mode="nearest", truncate=4.0)
    mask = (liquid > threshold).astype(np.float32)
    mask = _ndi().gaussian_filter(mask, (0, sigma_mask, sigma_mask), mode="nearest", truncate=4.0)
    mask[mask < 0.8] = 0.0
    return x * (1.0 - mask) + np.float32(63 / 255) * mask


# --------------------------------------------------------------------------- lines


def line_layer(
    c0: ArrayLike,
    r0: ArrayLike,
    c1: ArrayLike,
    r1: ArrayLike,
    shape: tuple[int, int] = (28, 28),
) -> NDArray[np.float64]:
    """Soft lines from ``(c0, r0)`` to ``(c1, r1)``, one per sample, as the release draws them.

    The intensity at vertical distance ``d`` from the line is ``clip(log(1 - d / 2.3) + 1)``,
    between columns ``floor(c0)`` and ``ceil(c1)``; a vertical line (``c0 == c1``) is empty.

    Returns
    -------
    numpy.ndarray, float64, shape (N, H, W), in 0..1

    Examples
    --------
    >>> layer = line_layer(np.array([0.0]), np.array([5.0]), np.array([27.0]), np.array([5.0]))
    >>> float(layer[0, 5, 10]), float(layer[0, 20, 10])
    (1.0, 0.0)
    """
    c0, r0, c1, r1 = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (c0, r0, c1, r1))
    h, w = shape
    flat = c1 == c0
    slope = (r1 - r0) / np.where(flat, 1.0, c1 - c0)
    cols = np.arange(w, dtype=np.float64)
    rows = np.arange(h, dtype=np.float64)
    centre = slope[:, None] * (cols[None, :] - c0[:, None]) + r0[:, None]  # (N, W)
    dist = np.clip(np.abs(rows[None, :, None] - centre[:, None, :]), 0.0, 2.3 - 1e-10)
    layer = np.clip(np.log(1.0 - dist / 2.3) + 1.0, 0.0, 1.0)
    keep = (cols >= np.floor(c0)[:, None]) & (cols < np.ceil(c1)[:, None]) & ~flat[:, None]
    return layer * keep[:, None, :]


def _line(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    c0 = ctx.integers(0, 5, stream=0)
    c1 = ctx.integers(22, 27, stream=1)
    rows = ctx.integers(0, 27, (2,), stream=2)
    layer = line_layer(c0, rows[:, 0], c1, rows[:, 1], x.shape[1:])
    return x + layer.astype(np.float32)


def _dotted_line(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    rows = ctx.integers(0, 27, (2,))
    n = x.shape[0]
    layer = line_layer(np.zeros(n), rows[:, 0], np.full(n, 27.0), rows[:, 1], x.shape[1:])
    # Dashes two columns long: columns 0-1, 4-5, 8-9, ... are blanked.
    gaps = (np.arange(x.shape[2]) // 2) % 2 == 0
    layer[:, :, gaps] = 0.0
    return x + layer.astype(np.float32)


@cache
def _zigzag_points(delta: int, a: float = 2.0, b: float = 2.0) -> NDArray[np.float64]:
    # The release's zigzag from column 2 to 25 rising by ``delta`` rows, before the start row
    # is added: (column, row) endpoints, including its odd last point.
    c0, c1 = 2, 25
    theta = math.atan(delta / (c1 - c0))
    d = (c1 - c0) / math.cos(theta)
    points = [(0.0, 0.0)]
    r_i = 0.0
    for i in range(int((d - a) // (2 * a)) + 1):
        r_i = (-1) ** i * b
        points.append(((2 * i + 1) * a, r_i))
    max_c = (2 * a) * (d // (2 * a))
    if d != max_c:
        points.append((d, r_i / (2 * (d - max_c))))
    pts = np.asarray(points).T
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    cs, rs = rot @ pts
    return np.stack([cs + c0, rs], axis=1)


@lru_cache(maxsize=4)
def _zigzag_table(h: int, w: int) -> NDArray[np.float32]:
    """Every zigzag the release can draw: ``(10 slopes, 27 start rows, H, W)``.

    A zigzag depends only on its slope (10 values) and start row (27 values), so the 270
    layers are drawn once and looked up per sample.
    """
    deltas = np.repeat(np.arange(-5, 5), 27)
    starts = np.tile(np.arange(27), 10)
    pts = np.stack([_zigzag_points(int(d)) for d in deltas])  # (270, P, 2)
    cs = pts[:, :, 0]
    rs = pts[:, :, 1] + starts[:, None]
    total = np.zeros((len(deltas), h, w))
    for k in range(1, pts.shape[1]):
        total += line_layer(cs[:, k - 1], rs[:, k - 1], cs[:, k], rs[:, k], (h, w))
    # Adding and clipping segment by segment (the release) equals clipping the sum.
    return np.minimum(total, 1.0).astype(np.float32).reshape(10, 27, h, w)


def _zigzag(x: NDArray[np.float32], param: Any, ctx: Context) -> NDArray[np.float32]:
    r0 = ctx.integers(0, 27, stream=0)
    delta = ctx.integers(-5, 5, stream=1)
    return x + _zigzag_table(*x.shape[1:])[delta + 5, r0]


# --------------------------------------------------------------------------- snow


def streak_blur(
    layer: NDArray[np.floating], radius: int, sigma: float, angle_deg: NDArray[np.floating]
) -> NDArray[np.float32]:
    """One-sided Gaussian streak along ``angle_deg`` (per sample), like ImageMagick's motion blur.

    Output pixel ``p`` is ``sum_i k_i * layer[p + round(i * (sin a, cos a))]`` for
    ``i = 0 .. 2 * radius`` with ``k_i`` proportional to ``exp(-i**2 / (2 sigma**2))``;
    outside the image the nearest edge pixel is used.
    """
    n, h, w = layer.shape
    taps = np.arange(2 * radius + 1, dtype=np.float64)
    weights = np.exp(-(taps**2) / (2.0 * sigma * sigma))
    weights /= weights.sum()
    a = np.deg2rad(np.asarray(angle_deg, dtype=np.float64)).reshape(-1, 1)
    dx = np.ceil(taps[None, :] * np.cos(a) - 0.5).astype(np.intp)  # (N, taps)
    dy = np.ceil(taps[None, :] * np.sin(a) - 0.5).astype(np.intp)
    rows = np.arange(h)
    cols = np.arange(w)
    batch = np.arange(n)[:, None, None]
    src = np.asarray(layer, dtype=np.float32)
    out = np.zeros((n, h, w), dtype=np.float32)
    for i, k in enumerate(weights):
        rr = np.clip(rows[None, :] + dy[:, i : i + 1], 0, h - 1)  # (N, H)
        cc = np.clip(cols[None, :] + dx[:, i : i + 1], 0, w - 1)  # (N, W)
        out += np.float32(k) * src[batch, rr[:, :, None], cc[:, None, :]]
    return out


def _clipped_zoom(layer: NDArray[np.floating], factor: float) -> NDArray[np.float64]:
    # Zoom the centre of every map by ``factor`` (bilinear) and crop back to the map's size.
    h = layer.shape[1]
    ch = int(np.ceil(h / factor))
    top = (h - ch) // 2
    zoomed = _ndi().zoom(layer[:, top : top + ch, top : top + ch], (1, factor, factor), order=1)
    trim = (zoomed.shape[1] - h) // 2
    return zoomed[:, trim : trim + h, trim : trim + h]


def _snow(x: NDArray[np.float32], param: tuple[float, ...], ctx: Context) -> NDArray[np.float32]:
    loc, scale, zoom, threshold, radius, sigma, mix = param
    h, w = x.shape[1:]
    layer = loc + scale * ctx.normal((max(h, w), max(h, w)), stream=0)
    layer = _clipped_zoom(layer, zoom)[:, :h, :w]
    layer[layer < threshold] = 0.0
    layer = np.clip(layer, 0.0, 1.0)
    if ctx.compat:  # the release passes the layer through an 8-bit PNG
        layer = np.floor(layer * 255) / 255
    angle = ctx.uniform((), stream=1) * 90.0 - 135.0
    flakes = streak_blur(layer, int(radius), sigma, angle)
    if ctx.compat:
        flakes = (np.rint(flakes * 255) / 255).astype(np.float32)
    lit = mix * x + (1 - mix) * np.maximum(x, 1.5 * x + 0.5)
    return (lit + flakes + flakes[:, ::-1, ::-1]).astype(np.float32)


# --------------------------------------------------------------------------- registry

_overlay = register_family("overlay", releases=("mnist-c",))
_unleveled = register_family("overlay", releases=("mnist-c",), leveled=False)
_unleveled(
    "stripe",
    _stripe,
    _NONE,
    description="invert the outer quarter columns (0-6 and 21-27 of 28)",
    uint8_fn=_stripe_u8,
)
_overlay(
    "fog",
    _fog,
    ((1.5, 2.0), (2.0, 2.0), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)),
    benchmark_severity=5,
    description=(
        "plasma fractal (diamond-square, 256x256, top-left corner) added with "
        "(strength, decay); result (x + s*fog) * max(x) / (max(x) + s)"
    ),
    compat_note=(
        "default computes only the part of the map that reaches the corner and scales "
        "by the extremes of its 8-px grid and the corner; mnist-c computes the whole "
        "256x256 map and its exact extremes (about 30x slower)"
    ),
    # Levels 3 and 4 share strength 2.5 and differ only in roughness (decay 1.7 vs 1.5).
    monotonic=False,
)
_overlay(
    "spatter",
    _spatter,
    (
        (0.65, 0.3, 4, 0.69, 0.6),
        (0.65, 0.3, 3, 0.68, 0.6),
        (0.65, 0.3, 2, 0.68, 0.5),
        (0.65, 0.3, 1, 0.65, 1.5),
        (0.67, 0.4, 1, 0.65, 1.5),
    ),
    benchmark_severity=4,
    description=(
        "mud splashes of intensity 63/255: Gaussian noise (loc, scale) blurred by sigma, "
        "thresholded, the mask blurred again and kept where >= 0.8"
    ),
    monotonic=False,
)
_unleveled(
    "dotted_line",
    _dotted_line,
    _NONE,
    description="one dashed soft line from column 0 to 27 between two random rows",
)
_unleveled(
    "zigzag",
    _zigzag,
    _NONE,
    description="one zigzag line (period 4 px, amplitude 2 px) from column 2 to 25, random "
    "start row and slope",
)
_unleveled(
    "line",
    _line,
    _NONE,
    description="one soft line from a column in 0..4 to one in 22..26, random rows",
    releases=(),
)
_overlay(
    "snow",
    _snow,
    (
        (0.1, 0.3, 3, 0.5, 10, 4, 0.8),
        (0.2, 0.3, 2, 0.5, 12, 4, 0.7),
        (0.55, 0.3, 4, 0.9, 12, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 12, 8, 0.65),
        (0.55, 0.3, 2.5, 0.85, 12, 12, 0.55),
    ),
    description=(
        "flakes: Gaussian noise (loc, scale) zoomed, thresholded, streaked by a motion "
        "blur (radius, sigma) at -135..-45 degrees, added twice (turned 180 degrees) to "
        "the brightened image (mix)"
    ),
    compat_note="mnist-c quantises the flake layer to 8 bits before and after the streak "
    "(the release's PNG round trip through ImageMagick)",
    releases=(),
)
