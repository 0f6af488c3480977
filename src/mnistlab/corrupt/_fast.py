"""uint8 fast paths: the same bytes as the float paths, without the round trip through floats.

* Exact corruptions (identity, flips, quarter turns, inverse, stripe) are permutations or
  bit flips of the bytes (``255 - k == k ^ 255``): one pass over the batch.
* Point-wise corruptions (brightness, saturate) are a 256-entry look-up table, built by
  running the float path on the 256 grey levels (so the table is the float path's bytes).
* contrast is a look-up table per image (its mean is computed exactly as the float path).

OpenCV (the ``cv`` extra) flips and turns faster than numpy; like numba it is only imported
for batches large enough to pay for the import (:func:`mnistlab.corrupt._kernels.want_compiled`
rules), unless it is already loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt import _kernels

__all__ = [
    "apply_lut",
    "flip_lr",
    "flip_ud",
    "identity",
    "lut_fn",
    "per_image_lut",
    "turn",
    "xor_columns",
]

U8 = NDArray[np.uint8]
_TURN_BLOCK = 256  # images per OpenCV turn: the intermediate stays in cache


def _cv2(n: int) -> Any:
    """OpenCV if it is worth using for ``n`` images (installed, and loaded or a big batch)."""
    if "cv2" not in sys.modules and n < _kernels.NUMBA_MIN_BATCH:
        return None
    try:
        import cv2
    except ImportError:  # pragma: no cover - only without the cv extra
        return None
    return cv2


def _rows(x: U8) -> NDArray[np.void]:
    """The batch as ``(N, H)`` rows of ``W`` bytes each: one element per image row."""
    n, h, w = x.shape
    return np.ascontiguousarray(x).reshape(n * h, w).view(np.dtype((np.void, w))).reshape(n, h)


def identity(x: U8, param: Any = None, ctx: Any = None) -> U8:
    """A copy of the batch."""
    return x.copy()


def flip_ud(x: U8, param: Any = None, ctx: Any = None) -> U8:
    """Each image mirrored top to bottom: its rows in reverse order (one copy of rows)."""
    return _rows(x)[:, ::-1].copy().view(np.uint8).reshape(x.shape)


def flip_lr(x: U8, param: Any = None, ctx: Any = None) -> U8:
    """Each image mirrored left to right.

    Examples
    --------
    >>> x = np.arange(6, dtype=np.uint8).reshape(1, 2, 3)
    >>> flip_lr(x)[0].tolist()
    [[2, 1, 0], [5, 4, 3]]
    """
    n, h, w = x.shape
    cv2 = _cv2(n)
    if cv2 is not None and h * n < 2**31:
        return np.asarray(cv2.flip(np.ascontiguousarray(x).reshape(n * h, w), 1)).reshape(x.shape)
    return np.ascontiguousarray(x[:, :, ::-1])


def turn(x: U8, clockwise: bool) -> U8:
    """Each image turned 90 degrees (``numpy.rot90(img, -1)`` clockwise, ``rot90(img)`` not).

    With OpenCV: the batch stacked as one tall image is turned at once, which lays the turned
    images side by side (in reverse order for a clockwise turn); one copy of rows restacks
    them.

    Examples
    --------
    >>> x = np.arange(4, dtype=np.uint8).reshape(1, 2, 2)
    >>> turn(x, clockwise=True)[0].tolist()
    [[2, 0], [3, 1]]
    """
    n, h, w = x.shape
    cv2 = _cv2(n)
    if cv2 is None:
        return np.ascontiguousarray(np.rot90(x, k=-1 if clockwise else 1, axes=(1, 2)))
    code = cv2.ROTATE_90_CLOCKWISE if clockwise else cv2.ROTATE_90_COUNTERCLOCKWISE
    out = np.empty((n, w, h), dtype=np.uint8)
    rows_out = _rows(out)
    src = np.ascontiguousarray(x)
    for s in range(0, n, _TURN_BLOCK):
        e = min(n, s + _TURN_BLOCK)
        wide = np.asarray(cv2.rotate(src[s:e].reshape(-1, w), code))  # (w, (e - s) * h)
        side = wide.view(np.dtype((np.void, h))).reshape(w, e - s)
        rows_out[s:e] = (side[:, ::-1] if clockwise else side).T
    return out


@lru_cache(maxsize=32)
def _column_mask(h: int, w: int, k: int) -> U8:
    mask = np.zeros((h, w), dtype=np.uint8)
    mask[:, :k] = 255
    mask[:, w - k :] = 255
    mask.setflags(write=False)
    return mask


def xor_columns(x: U8, k: int | None) -> U8:
    """``255 - x`` on the ``k`` outer columns at each side (all columns when ``k`` is None).

    ``255 - v == v ^ 255`` for bytes, so the whole batch is one xor with a mask.
    """
    if k is None:
        return np.bitwise_xor(x, np.uint8(255))
    return np.bitwise_xor(x, _column_mask(x.shape[1], x.shape[2], k))


def apply_lut(lut: U8, x: U8) -> U8:
    """``lut[x]`` for a ``(256,)`` table.

    numpy's ``take``, not OpenCV's ``LUT``: ``cv2.LUT`` runs on OpenCV's thread pool, and a
    worker forked after the parent used that pool deadlocks when it reconfigures OpenCV's
    threads (as ``mnistlab.execution`` does in every worker).
    """
    return lut.take(x)


def lut_fn(
    fn: Callable[[NDArray[Any], Any, Any], NDArray[np.floating]], float64: bool
) -> Callable[[U8, Any, Any], U8]:
    """The ``uint8_fn`` of a point-wise, image-independent corruption ``fn``.

    Its table is ``fn`` applied to the 256 grey levels (converted as the registry converts a
    batch), then to bytes as the registry does: the float path's bytes by construction.
    """
    from mnistlab.corrupt.registry import to_uint8

    @lru_cache(maxsize=64)
    def table(param: Any, compat: bool) -> U8:
        levels = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
        xf = levels / 255.0 if float64 else levels.astype(np.float32) * np.float32(1 / 255)
        lut = to_uint8(fn(xf, param, None), truncate=compat, exact=float64).reshape(256)
        lut.setflags(write=False)
        return lut

    def uint8_fn(x: U8, param: Any, ctx: Any) -> U8:
        return apply_lut(table(param, bool(ctx.compat)), x)

    return uint8_fn


def per_image_lut(tables: U8, x: U8) -> U8:
    """``tables[k, x[k]]`` for every image ``k``: one table ``(256,)`` per image."""
    n = x.shape[0]
    offset = (np.arange(n, dtype=np.uint32) * np.uint32(256)).reshape((n,) + (1,) * (x.ndim - 1))
    index = np.add(x, offset, dtype=np.uint32)
    return tables.reshape(-1).take(index)
