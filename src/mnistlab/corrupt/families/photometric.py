"""Photometric corruptions: brightness, contrast, saturate, inverse.

The releases convert grey images to RGB, then HSV, change the HSV channels, and convert back
to grey with the luminance weights (0.2125, 0.7154, 0.0721). For a grey pixel the hue and
saturation are 0 and the value is the pixel itself, so every one of these round trips has a
closed form on the grey values; these are computed directly (no colour conversion).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt import _fast
from mnistlab.corrupt._warp import LEVELS
from mnistlab.corrupt.registry import (
    BOTH_RELEASES,
    TRUNCATION_ONLY,
    Context,
    register_family,
    to_uint8,
)

Array = NDArray[np.floating]

LUMINANCE = (0.2125, 0.7154, 0.0721)


def hsv_luminance(hue: float, saturation: float, value: float = 1.0) -> float:
    """Grey value (luminance) of the colour ``(hue, saturation, value)``, all in 0..1.

    Examples
    --------
    >>> round(hsv_luminance(0.0, 0.0), 12)
    1.0
    >>> round(hsv_luminance(0.2, 0.2), 5)
    0.97708
    """
    h6 = (hue % 1.0) * 6.0
    sector = int(np.floor(h6)) % 6
    f = h6 - np.floor(h6)
    p = value * (1 - saturation)
    q = value * (1 - saturation * f)
    t = value * (1 - saturation * (1 - f))
    rgb = [(value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q)]
    r, g, b = rgb[sector]
    return float(LUMINANCE[0] * r + LUMINANCE[1] * g + LUMINANCE[2] * b)


def brightness(x: Array, c: float, ctx: Context) -> Array:
    """Add ``c`` to the HSV value and clip: ``clip(x + c, 0, 1)`` for a grey image."""
    return np.clip(x + c, 0, 1)


def contrast(x: Array, c: float, ctx: Context) -> Array:
    """Pull every pixel towards the image's mean: ``(x - mean) * c + mean``."""
    mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float64).astype(x.dtype)
    return np.clip((x - mean) * c + mean, 0, 1)


def saturate(x: Array, param: tuple[float, float], ctx: Context) -> Array:
    """Scale and shift the HSV channels: ``x * a + b`` on hue, saturation and value.

    A grey pixel has hue = saturation = 0, so both become ``b`` and the value becomes
    ``clip(a x + b)``; back in grey this is ``g(b) * clip(a x + b)`` with ``g(b)`` the
    luminance of the colour (hue ``b``, saturation ``b``, value 1), ``g(0) = 1``.
    """
    a, b = param
    hs = min(max(b, 0.0), 1.0)
    return hsv_luminance(hs, hs) * np.clip(x * a + b, 0, 1)


def inverse(x: Array, param: object, ctx: Context) -> Array:
    """Negative image: ``1 - x``."""
    return 1 - x


_BLOCK = 256  # images per contrast block: the float64 copy stays in cache


def _contrast_u8(x: NDArray[np.uint8], c: float, ctx: Context) -> NDArray[np.uint8]:
    # The float path's mean (same doubles, same reduction), then one table of 256 bytes per
    # image computed with the float path's arithmetic: its bytes, without the float passes.
    out = np.empty_like(x)
    for s in range(0, x.shape[0], _BLOCK):
        block = x[s : s + _BLOCK]
        mean = (block / 255.0).mean(axis=(1, 2), dtype=np.float64)[:, None]
        table = np.clip((LEVELS[None, :] - mean) * c + mean, 0, 1)
        out[s : s + _BLOCK] = _fast.per_image_lut(to_uint8(table, ctx.compat, True), block)
    return out


def _inverse_u8(x: NDArray[np.uint8], param: object, ctx: Context) -> NDArray[np.uint8]:
    return _fast.xor_columns(x, None)


_photometric = register_family(
    "photometric", compat_note=TRUNCATION_ONLY, releases=("fmnist-c",), float64=True
)
_photometric(
    "brightness",
    brightness,
    (0.1, 0.2, 0.3, 0.4, 0.5),
    benchmark_severity=5,
    description="add 0.1 .. 0.5 to the HSV value (clip(x + c) for grey images)",
    releases=BOTH_RELEASES,
    uint8_fn=_fast.lut_fn(brightness, float64=True),
)
_photometric(
    "contrast",
    contrast,
    (0.4, 0.3, 0.2, 0.1, 0.05),
    benchmark_severity=4,
    description="(x - mean) * c + mean with the image's mean, c = 0.4 .. 0.05",
    uint8_fn=_contrast_u8,
)
_photometric(
    "saturate",
    saturate,
    ((0.3, 0.0), (0.1, 0.0), (2.0, 0.0), (5.0, 0.1), (20.0, 0.2)),
    benchmark_severity=5,
    description="HSV channels times a plus b, (a, b) = (0.3,0) (0.1,0) (2,0) (5,0.1) (20,0.2): "
    "g(b) * clip(a x + b) for grey images",
    # Levels 1-2 darken (a < 1), 3-5 brighten: the change from clean is not ordered.
    monotonic=False,
    uint8_fn=_fast.lut_fn(saturate, float64=True),
)
_photometric(
    "inverse",
    inverse,
    (None,) * 5,
    description="negative image 1 - x",
    leveled=False,
    uint8_fn=_inverse_u8,
)
