"""Batched bilinear gathers for the affine warps (see :func:`._kernels.warp_affine_grouped`).

A warp by a fixed matrix is, for every output pixel, four source indices and weights
(:func:`._kernels.affine_taps`). Applying it to a batch is a gather: ``sum_t w_t x[idx_t]``,
added in tap order, in float64, so the result equals the former sparse-dense product
(``flat @ affine_operator(m)``) to the bit. numba runs it in one pass per image; without numba
(or for batches too small to pay for importing it) numpy gathers one tap at a time.

``uint8`` batches are read through the table ``level / 255.0`` (the same doubles as
``images / 255.0``), which saves the conversion pass.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab.corrupt import _kernels

__all__ = ["LEVELS", "gather_taps"]

#: ``LEVELS[k] == k / 255.0`` exactly as numpy divides a uint8 batch by 255.0.
LEVELS = np.arange(256) / 255.0
LEVELS.setflags(write=False)

_LANES = 256  # images per numpy step: the padded block stays in cache


def _gather_numpy(
    x: NDArray[np.generic], idx: NDArray[np.intp], wt: NDArray[np.float64]
) -> NDArray[np.float64]:
    # Pixel-major blocks (pixels, images): a tap gathers whole contiguous rows.
    n = x.shape[0]
    hw = idx.shape[0]
    flat = x.reshape(n, hw)
    out = np.empty((n, hw), dtype=np.float64)
    for s in range(0, n, _LANES):
        m = min(_LANES, n - s)
        block = np.zeros((hw + 1, m), dtype=np.float64)
        if flat.dtype == np.uint8:
            block[:hw] = LEVELS.take(flat[s : s + m].T.astype(np.intp))
        else:
            block[:hw] = flat[s : s + m].T
        acc = block.take(idx[:, 0], axis=0)
        acc *= wt[:, :1]
        for t in range(1, idx.shape[1]):
            term = block.take(idx[:, t], axis=0)
            term *= wt[:, t : t + 1]
            acc += term
        out[s : s + m] = acc.T
    return out


@lru_cache(maxsize=1)
def _numba_gathers() -> tuple[Callable[..., None], Callable[..., None]] | None:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is the optional "fast" extra
        return None

    # The compiled bodies are invisible to coverage; tests compare them with the numpy path.
    @numba.njit(cache=True, nogil=True)
    def gather_f64(x, idx, wt, out):  # pragma: no cover
        n, hw = x.shape
        for k in range(n):
            for p in range(hw):
                acc = 0.0
                for t in range(idx.shape[1]):
                    j = idx[p, t]
                    if j < hw:
                        acc += wt[p, t] * x[k, j]
                out[k, p] = acc

    @numba.njit(cache=True, nogil=True)
    def gather_u8(x, levels, idx, wt, out, mode):  # pragma: no cover
        # mode 0: float64 out; 1: bytes rounded as registry.to_uint8; 2: truncated (exact).
        # Each image is read once into a buffer with a zero at index H*W, so the four taps
        # need no bounds test (a dropped tap adds 0 * 0: no change to the sum).
        n, hw = x.shape
        buf = np.zeros(hw + 1)
        for k in range(n):
            for j in range(hw):
                buf[j] = levels[x[k, j]]
            for p in range(hw):
                acc = 0.0
                for t in range(4):
                    acc += wt[p, t] * buf[idx[p, t]]
                if mode == 0:
                    out[k, p] = acc
                elif mode == 1:
                    v = np.float32(acc) * np.float32(255.0)
                    v = min(max(v, np.float32(0.0)), np.float32(255.0))
                    out[k, p] = np.rint(v)
                else:
                    out[k, p] = np.float32(min(max(acc, 0.0), 1.0) * 255.0)

    return gather_f64, gather_u8


def _pure_moves(idx: NDArray[np.intp], wt: NDArray[np.float64]) -> NDArray[np.intp] | None:
    """For a warp that only moves pixels (integer shifts: every weight 0 or 1, at most one
    tap per pixel), the source of each output pixel (``H*W``: none); else None."""
    used = wt != 0
    if not (np.all(wt[used] == 1.0) and np.all(used.sum(axis=1) <= 1)):
        return None
    first = used.argmax(axis=1)
    return np.where(used.any(axis=1), idx[np.arange(idx.shape[0]), first], idx.shape[0])


@lru_cache(maxsize=2)
def _level_bytes(truncate: bool) -> NDArray[np.uint8]:
    from mnistlab.corrupt.registry import to_uint8

    return to_uint8(LEVELS, truncate=truncate, exact=True)


def _move_bytes(x: NDArray[np.generic], moves: NDArray[np.intp], truncate: bool) -> NDArray[Any]:
    # 0 + 1.0 * v == v: the float path's value is the level itself, so its byte is
    # _level_bytes[level] (the identity, as a test checks), gathered without any float.
    n = x.shape[0]
    padded = np.zeros((n, moves.size + 1), dtype=np.uint8)
    padded[:, :-1] = x.reshape(n, -1)
    out = padded.take(moves, axis=1)
    table = _level_bytes(truncate)
    return out if np.array_equal(table, np.arange(256)) else table.take(out)


def gather_taps(
    x: NDArray[np.generic],
    idx: NDArray[np.intp],
    wt: NDArray[np.float64],
    to_bytes: bool | None = None,
    compiled: bool | None = None,
) -> NDArray[Any]:
    """``out[k, p] = sum_t wt[p, t] * x[k, idx[p, t]]`` (index ``H*W`` reads 0), float64.

    ``x`` is ``(n, H, W)`` floats or ``uint8`` levels (read as ``level / 255.0``). The bytes
    do not depend on the batch size or on which path (numba or numpy) runs. With
    ``to_bytes`` (False: rounded, True: truncated as the releases) the result is converted
    as ``registry.to_uint8(out, truncate=to_bytes, exact=True)`` (in the same pass with numba).
    ``compiled`` forces the numba path on or off (None: by batch size, see
    :func:`~mnistlab.corrupt._kernels.want_compiled`).

    Examples
    --------
    >>> import numpy as np
    >>> idx = np.array([[1, 2], [0, 2]])  # pixel 0 reads pixel 1, pixel 1 pixel 0; 2 is "none"
    >>> wt = np.array([[0.5, 0.0], [1.0, 0.0]])
    >>> gather_taps(np.array([[[2.0, 4.0]]]), idx, wt).tolist()
    [[2.0, 2.0]]
    """
    n = x.shape[0]
    if to_bytes is not None and x.dtype == np.uint8:
        moves = _pure_moves(idx, wt)
        if moves is not None:
            return _move_bytes(x, moves, to_bytes)
    if compiled is None:
        compiled = _kernels.want_compiled(n)
    kernels = _numba_gathers() if compiled else None
    if kernels is None or (to_bytes is not None and x.dtype != np.uint8):
        out = _gather_numpy(x, idx, wt)
        if to_bytes is None:
            return out
        from mnistlab.corrupt.registry import to_uint8

        return to_uint8(out, truncate=to_bytes, exact=True)
    flat = np.ascontiguousarray(x.reshape(n, -1))
    if flat.dtype == np.uint8:
        mode = 0 if to_bytes is None else 2 if to_bytes else 1
        res = np.empty(flat.shape, dtype=np.float64 if mode == 0 else np.uint8)
        kernels[1](flat, LEVELS, idx, wt, res, mode)
        return res
    res = np.empty(flat.shape, dtype=np.float64)
    kernels[0](flat.astype(np.float64, copy=False), idx, wt, res)
    return res
