"""Shot noise straight from uint8 to uint8, the same bytes as the float path.

The float path (``noise.shot_noise``) draws 24-bit uniforms from the per-sample
counter-based generator (:func:`mnistlab.random.uniform`), inverts the Poisson CDF of each
pixel's grey level with a guide table, scales the counts by ``1 / c`` and rounds them to
bytes: about 20 passes over the batch. Here the generator's 32-bit hash words are used
directly (the guide bin is their top 10 bits, the uniform their top 24), the guide table
holds the final byte of each count, and numba fuses hash, look-up and exact search into one
pass per image (numpy, a few passes, without numba or for small batches).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mnistlab import random as _random
from mnistlab.corrupt import _kernels

__all__ = ["hash_bits", "shot_noise_u8"]

_BINS_SHIFT = 22  # 32-bit word -> guide bin (1024 bins): its top 10 bits
_U_SCALE = 2.0**-24  # top 24 bits -> the float32 uniform of mnistlab.random.uniform
_GOLDEN32 = np.uint32(0x9E3779B9)


def _counters(count: int) -> NDArray[np.uint32]:
    with np.errstate(over="ignore"):
        return np.arange(1, count + 1, dtype=np.uint32) * _GOLDEN32


def hash_bits(
    seed: int, sample_ids: NDArray[np.int64], count: int, stream: str
) -> NDArray[np.uint32]:
    """The 32-bit words behind :func:`mnistlab.random.uniform` ``(N, count)``:
    ``uniform == (bits >> 8) * 2**-24``."""
    keys = _random._sample_keys(seed, sample_ids, stream).reshape(-1, 1)
    with np.errstate(over="ignore"):
        z = _random._lowbias32(keys + _counters(count))
        z ^= keys
        return _random._lowbias32(z)


@lru_cache(maxsize=16)
def _tables(c: float, compat: bool) -> tuple[Any, ...]:
    from mnistlab.corrupt.registry import to_uint8

    lams = tuple(float(k) / 255.0 * c for k in range(256))
    cdf, guide, ambiguous = _kernels.poisson_tables(lams)
    counts = np.arange(cdf.shape[1], dtype=np.float32)
    count_byte = to_uint8(np.minimum(counts * np.float32(1 / c), np.float32(1)), truncate=compat)
    guide_byte = count_byte[guide].reshape(-1)
    return cdf, guide.reshape(-1), ambiguous.reshape(-1), count_byte, guide_byte


@lru_cache(maxsize=1)
def _numba_shot() -> Callable[..., None] | None:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is the optional "fast" extra
        return None

    m32 = np.uint64(0xFFFFFFFF)
    k1 = np.uint64(0x7FEB352D)
    k2 = np.uint64(0x846CA68B)
    s8, s14, s15, s16 = np.uint64(8), np.uint64(14), np.uint64(15), np.uint64(16)

    @numba.njit(cache=True, nogil=True)
    def kernel(
        x, keys, counters, cdf, guide, ambiguous, count_byte, guide_byte, out
    ):  # pragma: no cover
        n, hw = x.shape
        for i in range(n):
            key = np.uint64(keys[i])
            for p in range(hw):
                z = (key + np.uint64(counters[p])) & m32
                z ^= z >> s16
                z = (z * k1) & m32
                z ^= z >> s15
                z = (z * k2) & m32
                z ^= z >> s16
                z ^= key
                z ^= z >> s16
                z = (z * k1) & m32
                z ^= z >> s15
                z = (z * k2) & m32
                z ^= z >> s16
                top = z >> s8
                level = np.int64(x[i, p])
                cell = level * 1024 + np.int64(top >> s14)
                if ambiguous[cell]:
                    u = np.float64(top) * 5.9604644775390625e-08
                    k = np.int64(guide[cell])
                    while u >= cdf[level, k]:
                        k += 1
                    out[i, p] = count_byte[k]
                else:
                    out[i, p] = guide_byte[cell]

    return kernel


def shot_noise_u8(x: NDArray[np.uint8], c: float, ctx: Any) -> NDArray[np.uint8]:
    """``shot_noise`` on a uint8 batch: the float path's bytes (both modes), fewer passes."""
    cdf, guide, ambiguous, count_byte, guide_byte = _tables(float(c), bool(ctx.compat))
    n = x.shape[0]
    flat = np.ascontiguousarray(x).reshape(n, -1)
    stream = f"{ctx.name}/0"
    kernel = _numba_shot() if _kernels.want_compiled(n) else None
    if kernel is not None:
        keys = _random._sample_keys(ctx.seed, ctx.sample_ids, stream)
        out = np.empty_like(flat)
        kernel(
            flat, keys, _counters(flat.shape[1]), cdf, guide, ambiguous, count_byte, guide_byte, out
        )
        return out.reshape(x.shape)
    bits = hash_bits(ctx.seed, ctx.sample_ids, flat.shape[1], stream).reshape(-1)
    level = flat.reshape(-1)
    cell = (level.astype(np.intp) << 10) | (bits >> _BINS_SHIFT)
    out = guide_byte.take(cell)
    todo = np.flatnonzero(ambiguous.take(cell))
    lv = level[todo]
    k = guide.take(cell[todo])
    u = (bits[todo] >> 8).astype(np.float64) * _U_SCALE
    live = np.arange(todo.size)
    while live.size:
        step = u[live] >= cdf[lv[live], k[live]]
        live = live[step]
        k[live] += 1
    out[todo] = count_byte[k]
    return out.reshape(x.shape)
