"""Affine corruptions: shear, scale, rotate, translate (inverse maps about the centre), elastic.

Conventions of the releases (scikit-image ``warp(x, inverse_map=A)``): output pixel ``p``
samples the input at ``A p`` in ``(x, y) = (column, row)`` coordinates, bilinear, zero
outside; ``A`` keeps the centre ``((W-1)/2, (H-1)/2) = (13.5, 13.5)`` fixed. The angle of
shear and rotate has a fixed size per severity and a random sign, so a batch needs at most
two (translate: four) matrices; each is applied to its images as one gather of four bilinear
taps per pixel (:func:`~mnistlab.corrupt._kernels.warp_affine_grouped`), read straight from the
uint8 batch and written as bytes in the same pass (``uint8_fn``), in the releases' float64
arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt._kernels import (
    bilinear_sample,
    centred_affine,
    gaussian_blur,
    warp_affine_grouped,
)
from mnistlab.corrupt.registry import (
    BOTH_RELEASES,
    TRUNCATION_ONLY,
    Context,
    Corruption,
    register,
    register_family,
)

Array = NDArray[np.floating]


def _centre(x: Array) -> tuple[float, float]:
    return ((x.shape[2] - 1) / 2.0, (x.shape[1] - 1) / 2.0)


def _warp(
    x: Array, mats: NDArray[np.float64], group: NDArray[np.intp], ctx: Context, as_bytes: bool
) -> NDArray[Any]:
    # as_bytes: the uint8 fast path (uint8 in, the registry's bytes out, in one numba pass).
    if as_bytes:
        return warp_affine_grouped(x, mats, group, to_bytes=ctx.compat)
    return warp_affine_grouped(x, mats, group)


def _signed(
    x: Array,
    linear_of: Callable[[float], NDArray[np.float64]],
    angle: float,
    ctx: Context,
    as_bytes: bool,
) -> NDArray[Any]:
    """Warp each image by the centred map of ``+angle`` or ``-angle`` (random sign)."""
    mats = np.stack([centred_affine(linear_of(a), _centre(x)) for a in (-angle, angle)])
    group = (ctx.sign() > 0).astype(np.intp)
    return _warp(x, mats, group, ctx, as_bytes)


def _rotation(a: float) -> NDArray[np.float64]:
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def _shear_compat(a: float) -> NDArray[np.float64]:
    # scikit-image < 0.21 built AffineTransform(shear=a) as [[1, -sin a], [0, cos a]].
    return np.array([[1.0, -np.sin(a)], [0.0, np.cos(a)]])


def _shear_tan(a: float) -> NDArray[np.float64]:
    # A true shear (area preserving), as scikit-image >= 0.21.
    return np.array([[1.0, -np.tan(a)], [0.0, 1.0]])


def shear(x: Array, angle: float, ctx: Context, as_bytes: bool = False) -> NDArray[Any]:
    """Horizontal shear by ``angle`` radians with a random sign, about the centre.

    Default: the true shear ``[[1, -tan a], [0, 1]]``; ``compat="mnist-c"``: the old
    scikit-image matrix ``[[1, -sin a], [0, cos a]]`` the releases used (it also squeezes
    the image vertically by ``cos a``).
    """
    return _signed(x, _shear_compat if ctx.compat else _shear_tan, angle, ctx, as_bytes)


def rotate(x: Array, angle: float, ctx: Context, as_bytes: bool = False) -> NDArray[Any]:
    """Rotation by ``angle`` radians with a random sign, about the centre.

    Examples
    --------
    >>> import numpy as np
    >>> from mnistlab.corrupt import get
    >>> from mnistlab.corrupt.registry import Context
    >>> x = np.random.default_rng(0).random((2, 28, 28))
    >>> ctx = Context(0, np.arange(2), False, "rotate")
    >>> bool(np.allclose(rotate(x, 0.0, ctx), x))
    True
    """
    return _signed(x, _rotation, angle, ctx, as_bytes)


def scale(x: Array, factor: float, ctx: Context, as_bytes: bool = False) -> NDArray[Any]:
    """Shrink the content to ``factor`` of its size about the centre (the inverse map
    multiplies by ``1 / factor``)."""
    mats = centred_affine(np.eye(2) / factor, _centre(x))[None]
    return _warp(x, mats, np.zeros(x.shape[0], np.intp), ctx, as_bytes)


def translate(x: Array, shift: float, ctx: Context, as_bytes: bool = False) -> NDArray[Any]:
    """Shift by ``shift`` pixels in x and in y, each with its own random sign."""
    signs = np.stack([ctx.sign(stream=0), ctx.sign(stream=1)], axis=1) > 0
    group = (signs[:, 0] * 2 + signs[:, 1]).astype(np.intp)
    mats = np.zeros((4, 2, 3))
    for g in range(4):
        sx, sy = (1 if g >= 2 else -1), (1 if g % 2 else -1)
        mats[g] = [[1, 0, sx * shift], [0, 1, sy * shift]]
    return _warp(x, mats, group, ctx, as_bytes)


def elastic_transform(
    x: Array, param: tuple[float, float, float], ctx: Context
) -> NDArray[np.float64]:
    """Random small affine map, then a smooth random displacement field.

    ``param = (alpha, sigma, jitter)``: three reference points move by up to ``jitter``
    pixels (the affine part); the displacement is uniform noise in [-1, 1] per pixel,
    Gaussian-smoothed with ``sigma`` (reflected borders, truncated at 3 sigma) and scaled by
    ``alpha``. Both samplings are bilinear with zero fill, as the release (which used
    OpenCV's fixed-point ``warpAffine`` for the first one).
    """
    alpha, sigma, jitter = param
    n, h, w = x.shape
    c = float(min(h, w) // 2)
    s = float(min(h, w) // 3)
    pts1 = np.array([[c + s, c + s], [c + s, c - s], [c - s, c - s]])
    pts2 = pts1[None] + (ctx.uniform64((3, 2), stream=0) * 2 - 1) * jitter
    # Inverse map (output -> input): the affine map taking pts2 back onto pts1.
    src = np.concatenate([pts2, np.ones((n, 3, 1))], axis=2)
    inv = np.linalg.solve(src, np.broadcast_to(pts1, (n, 3, 2)))  # (n, 3, 2): A^T
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    src_c = (
        inv[:, 0, 0, None, None] * cols + inv[:, 1, 0, None, None] * rows + inv[:, 2, 0, None, None]
    )
    src_r = (
        inv[:, 0, 1, None, None] * cols + inv[:, 1, 1, None, None] * rows + inv[:, 2, 1, None, None]
    )
    warped = bilinear_sample(x, src_r, src_c)
    noise = ctx.uniform((2, h, w), stream=1) * np.float32(2) - np.float32(1)
    dx = gaussian_blur(noise[:, 0], sigma, mode="reflect", truncate=3.0) * np.float32(alpha)
    dy = gaussian_blur(noise[:, 1], sigma, mode="reflect", truncate=3.0) * np.float32(alpha)
    return np.clip(bilinear_sample(warped, rows + dy, cols + dx), 0, 1)


_ANGLES = (0.2, 0.4, 0.6, 0.8, 1.0)
_add_warp = register_family(
    "affine", compat_note=TRUNCATION_ONLY, releases=BOTH_RELEASES, float64=True
)


def _register_warp(
    name: str, fn: Callable[..., NDArray[Any]], levels: tuple[Any, ...], **fields: Any
) -> None:
    """Register the affine warp ``fn``, with its uint8 path ``fn(..., as_bytes=True)``."""
    _add_warp(name, fn, levels, uint8_fn=partial(fn, as_bytes=True), **fields)


_register_warp(
    "shear",
    shear,
    _ANGLES,
    benchmark_severity=2,
    description="horizontal shear by 0.2 .. 1.0 rad, random sign, about the centre; "
    "bilinear, zero fill",
    compat_note="old scikit-image matrix [[1, -sin s], [0, cos s]] (also squeezes "
    "vertically); default: the true shear [[1, -tan s], [0, 1]]",
)
_register_warp(
    "scale",
    scale,
    (0.9, 0.8, 0.7, 0.6, 0.5),
    benchmark_severity=3,
    description="content shrunk to 0.9 .. 0.5 of its size about the centre; bilinear, zero fill",
)
_register_warp(
    "rotate",
    rotate,
    _ANGLES,
    benchmark_severity=2,
    description="rotation by 0.2 .. 1.0 rad, random sign, about the centre; bilinear, zero fill",
)
_register_warp(
    "translate",
    translate,
    (1, 2, 3, 4, 5),
    benchmark_severity=3,
    description="shift by 1 .. 5 pixels in x and in y, independent random signs, zero fill",
    releases=("mnist-c",),
)
register(
    Corruption(
        "elastic_transform",
        "affine",
        elastic_transform,
        (
            (28 * 2, 28 * 0.7, 28 * 0.1),
            (28 * 2, 28 * 0.08, 28 * 0.2),
            (28 * 0.05, 28 * 0.01, 28 * 0.02),
            (28 * 0.07, 28 * 0.01, 28 * 0.02),
            (28 * 0.12, 28 * 0.01, 28 * 0.02),
        ),
        description="random affine jitter plus a smoothed random displacement field; "
        "(alpha, sigma, jitter) from MNIST-C",
        compat_note="exact bilinear sampling where the release's first warp used OpenCV's "
        "fixed-point warpAffine",
        monotonic=False,
    )
)
