"""The morphology of one block of images computed in reused scratch arrays.

:func:`mnistlab.morpho.morphology` and the measurement chunks of
:func:`mnistlab.morpho.measure` run the same steps as :func:`~mnistlab.morpho.upscale` and
:func:`~mnistlab.morpho.medial_axis`, with the same floating-point operations in the same
order (the results are bit-identical), but:

- the clip to the input's range, scikit-image's Gaussian (the two 1-D passes of
  :func:`scipy.ndimage.gaussian_filter`, 'reflect' borders) and the conversion to ``uint8``
  run fused in one compiled loop per image, so no ``(N, sH, sW)`` float64 map but the resize
  output is ever written;
- every block-sized array lives in a :class:`Workspace` that a worker keeps from one block
  to the next: a new 250-image block does not fault in 25 MB of fresh pages per array.
"""

from __future__ import annotations

import functools
import threading

import numba
import numpy as np
from numpy.typing import DTypeLike, NDArray

__all__ = ["Workspace", "block_morphology", "local_workspace"]


class Workspace:
    """Scratch arrays reused from one block to the next, one flat buffer per name.

    Examples
    --------
    >>> ws = Workspace()
    >>> a = ws.take("d2", (2, 3), np.int64)
    >>> b = ws.take("d2", (1, 3), np.int64)  # a smaller block reuses the same memory
    >>> bool(np.shares_memory(a, b))
    True
    """

    def __init__(self) -> None:
        self._buffers: dict[str, NDArray] = {}

    def take(self, name: str, shape: tuple[int, ...], dtype: DTypeLike) -> NDArray:
        """An uninitialised ``shape`` array of ``dtype``, backed by the buffer ``name``."""
        size = int(np.prod(shape))
        buf = self._buffers.get(name)
        if buf is None or buf.dtype != np.dtype(dtype) or buf.size < size:
            buf = np.empty(max(size, 1), dtype)
            self._buffers[name] = buf
        return buf[:size].reshape(shape)


_LOCAL = threading.local()


def local_workspace() -> Workspace:
    """This thread's workspace (a worker process keeps it for its whole life)."""
    ws = getattr(_LOCAL, "workspace", None)
    if ws is None:
        ws = _LOCAL.workspace = Workspace()
    return ws


@functools.cache
def _gauss_weights(scale: int) -> tuple[NDArray[np.float64], int]:
    """Half of :func:`scipy.ndimage.gaussian_filter`'s kernel for the pyramid's sigma.

    Read off the filter's response to an impulse, so the weights are scipy's own.
    """
    from scipy import ndimage

    sigma = 2 * scale / 6.0
    radius = int(4.0 * sigma + 0.5)
    impulse = np.zeros(2 * radius + 1)
    impulse[radius] = 1.0
    kernel = ndimage.gaussian_filter1d(impulse, sigma, mode="constant", truncate=4.0)
    return np.ascontiguousarray(kernel[radius:]), radius


@numba.njit(cache=True, nogil=True, inline="always")
def _reflect(i: int, n: int) -> int:  # pragma: no cover - compiled
    # scipy.ndimage's 'reflect' border (d c b a | a b c d | d c b a), for |overhang| <= n.
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - i - 1
    return i


@numba.njit(cache=True, nogil=True)
def _smooth_to_uint8(
    y: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    w: NDArray[np.float64],
    out: NDArray[np.uint8],
) -> None:  # pragma: no cover - compiled
    # Per image: clip to [lo, hi], Gaussian along rows then columns, times 255, truncated.
    # Each output is ``x[i] * w[0]`` plus ``(x[i - j] + x[i + j]) * w[j]`` for j = rad..1,
    # the order of scipy's symmetric correlate1d, so the sums round the same way.
    n, h, wd = y.shape
    rad = w.shape[0] - 1
    padded = np.empty((h + 2 * rad, wd), np.float64)
    vert = np.empty((h, wd + 2 * rad), np.float64)
    line = np.empty(wd, np.float64)
    for k in range(n):
        a = lo[k]
        b = hi[k]
        for r in range(-rad, h + rad):
            src = _reflect(r, h)
            for c in range(wd):
                v = y[k, src, c]
                padded[r + rad, c] = min(max(v, a), b)
        for r in range(h):
            row = vert[r]
            for c in range(wd):
                row[c + rad] = padded[r + rad, c] * w[0]
            for j in range(rad, 0, -1):
                wj = w[j]
                for c in range(wd):
                    row[c + rad] += (padded[r + rad - j, c] + padded[r + rad + j, c]) * wj
            for c in range(rad):
                row[rad - 1 - c] = row[rad + c]
                row[rad + wd + c] = row[rad + wd - 1 - c]
        for r in range(h):
            row = vert[r]
            for c in range(wd):
                line[c] = row[c + rad] * w[0]
            for j in range(rad, 0, -1):
                wj = w[j]
                for c in range(wd):
                    line[c] += (row[c + rad - j] + row[c + rad + j]) * wj
            for c in range(wd):
                out[k, r, c] = np.uint8(line[c] * 255.0)


def block_morphology(
    x: NDArray[np.uint8], scale: int, threshold: float, ws: Workspace
) -> tuple[NDArray[np.uint8], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64], NDArray]:
    """``(hires, binary, skeleton, d2, blank)`` of a checked ``uint8`` batch.

    ``d2`` is the exact squared distance map (the distance map is its square root). Every
    array but ``blank`` is a view into ``ws``: the next call with ``ws`` overwrites it.
    """
    from mnistlab.morpho.morphology import _medial_axis_from, _resize_ops, _sq_edt_batch

    n, h, w = x.shape
    sh, sw = h * scale, w * scale
    za, zb = _resize_ops(h, w, sh, sw)
    xf = x / 255.0
    # The resize as in upscale(): two matrix products, into reused buffers.
    rows = ws.take("rows", (n, sh, w), np.float64)
    np.matmul(za, xf, out=rows)
    up = ws.take("up", (n, sh, sw), np.float64)
    np.matmul(rows, zb.T, out=up)
    flat = xf.reshape(n, -1)
    hires = ws.take("hires", (n, sh, sw), np.uint8)
    weights, radius = _gauss_weights(scale)
    if n and flat.shape[1] and min(sh, sw) > radius:
        _smooth_to_uint8(up, flat.min(axis=1), flat.max(axis=1), weights, hires)
    else:  # tiny images (the kernel overhangs both borders) or an empty batch
        from mnistlab.morpho.morphology import _clip_to_input, _smooth

        hires[...] = (_smooth(_clip_to_input(up, xf), scale) * 255.0).astype(np.uint8)
    hflat = hires.reshape(n, -1)
    if hflat.shape[1]:
        lo = hflat.min(axis=1).astype(np.float64)
        hi = hflat.max(axis=1).astype(np.float64)
    else:
        lo = hi = np.zeros(n)
    blank = ~(hi > lo)
    level = (lo + (hi - lo) * threshold)[:, None, None]
    binary = ws.take("binary", (n, sh, sw), np.bool_)
    np.greater_equal(hires, level, out=binary)
    binary &= ~blank[:, None, None]
    d2 = _sq_edt_batch(binary, ws.take("d2", (n, sh, sw), np.int64))
    skeleton = _medial_axis_from(binary, d2, ws.take("skeleton", (n, sh, sw), np.uint8))
    return hires, binary, skeleton, d2, blank
