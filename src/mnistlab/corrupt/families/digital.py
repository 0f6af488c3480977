"""Digital corruptions: JPEG compression, pixelation, colour-depth reduction."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt.registry import Context, register_family

__all__ = ["box_resize", "jpeg_roundtrip"]


def _to_bytes(x: NDArray[np.floating]) -> NDArray[np.uint8]:
    # The functions receive k/255 floats; rounding recovers the exact input bytes.
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


# --------------------------------------------------------------------------- JPEG


def jpeg_roundtrip(images: NDArray[np.uint8], quality: int) -> NDArray[np.uint8]:
    """Encode every image of a ``uint8 (N, H, W)`` batch as baseline JPEG and decode it.

    libjpeg has no batched interface; OpenCV's encoder (the same libjpeg-turbo as Pillow)
    costs about 20 microseconds per 28 x 28 image, Pillow is used when OpenCV is missing.
    """
    out = np.empty_like(images)
    try:
        import cv2
    except ImportError:  # pragma: no cover - only without the cv extra
        import io

        from PIL import Image

        for i, image in enumerate(images):
            buf = io.BytesIO()
            Image.fromarray(image).save(buf, "JPEG", quality=int(quality))
            out[i] = np.asarray(Image.open(buf))
        return out
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    for i, image in enumerate(images):
        _, encoded = cv2.imencode(".jpg", image, params)
        out[i] = np.asarray(cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE))
    return out


def _jpeg(x: NDArray[np.float32], quality: int, ctx: Context) -> NDArray[np.float32]:
    return jpeg_roundtrip(_to_bytes(x), quality).astype(np.float32) / np.float32(255)


# --------------------------------------------------------------------------- pixelate

_PRECISION_BITS = 22  # Pillow's fixed-point precision for 8-bit resampling


@lru_cache(maxsize=64)
def _box_weights(in_size: int, out_size: int) -> NDArray[np.float64]:
    """Pillow's BOX resampling coefficients as an ``(out, in)`` fixed-point matrix."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    weights = np.zeros((out_size, in_size))
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        pos = (np.arange(lo, hi) - center + 0.5) / filterscale
        k = ((pos > -0.5) & (pos <= 0.5)).astype(np.float64)
        total = k.sum()
        if total:
            k /= total
        weights[xx, lo:hi] = np.floor(k * (1 << _PRECISION_BITS) + 0.5)
    return weights


def _resample(
    images: NDArray[np.float64], weights: NDArray[np.float64], axis: int
) -> NDArray[np.float64]:
    # One Pillow pass: fixed-point sums, rounded by adding half, shifted, clipped to 0..255.
    acc = images @ weights.T if axis == 2 else np.matmul(weights, images)
    return np.clip(np.floor((acc + (1 << (_PRECISION_BITS - 1))) / (1 << _PRECISION_BITS)), 0, 255)


def box_resize(images: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    """Resize a ``uint8 (N, H, W)`` batch with Pillow's BOX filter, bit for bit, as matrix products.

    Pillow resamples horizontally then vertically, rounding to 8 bits after each pass; the
    same fixed-point weights and rounding are used here for the whole batch at once.

    Examples
    --------
    >>> x = np.arange(16, dtype=np.uint8).reshape(1, 4, 4) * 10
    >>> box_resize(x, (2, 2))[0].tolist()
    [[25, 45], [105, 125]]
    """
    out_h, out_w = size
    y = np.asarray(images, dtype=np.float64)
    if out_w != y.shape[2]:
        y = _resample(y, _box_weights(y.shape[2], out_w), 2)
    if out_h != y.shape[1]:
        y = _resample(y, _box_weights(y.shape[1], out_h), 1)
    return y.astype(np.uint8)


def _pixelate(x: NDArray[np.float32], factor: float, ctx: Context) -> NDArray[np.float32]:
    h, w = x.shape[1:]
    small = box_resize(_to_bytes(x), (int(h * factor), int(w * factor)))
    return (box_resize(small, (h, w)) / np.float32(255)).astype(np.float32)


# --------------------------------------------------------------------------- quantize


def _quantize(x: NDArray[np.float32], bits: int, ctx: Context) -> NDArray[np.float32]:
    levels = np.float32(2**bits - 1)
    # No byte value falls exactly half-way between two levels (255 is odd), so rounding is safe.
    return (np.round(x * levels) / levels).astype(np.float32)


_digital = register_family("digital")
_digital(
    "jpeg_compression",
    _jpeg,
    (25, 18, 15, 10, 7),
    description="JPEG encode/decode at quality 25, 18, 15, 10, 7 (libjpeg, grayscale)",
)
_digital(
    "pixelate",
    _pixelate,
    (0.6, 0.5, 0.4, 0.3, 0.25),
    description="BOX-downscale to int(28 * c) pixels and back up (Pillow's BOX filter)",
    # Uneven box ratios (28 -> 16 at level 1, 28 -> 8 at level 4) change slightly more
    # than the exact ones after them (28 -> 14, 28 -> 7).
    monotonic=False,
)
_digital(
    "quantize",
    _quantize,
    (5, 4, 3, 2, 1),
    description="round to 2**bits - 1 grey levels, bits = 5, 4, 3, 2, 1",
)
