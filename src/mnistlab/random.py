"""Per-sample randomness that does not depend on batch order, chunking or workers.

Every random number a sample uses is a pure function of ``(seed, sample_id, stream,
position)``: a counter-based generator (a SplitMix64 key per sample, then a 32-bit integer
hash of key and position), evaluated
for a whole batch with numpy array arithmetic. Processing images 0..9 in one call or in two
calls of five gives the same bytes, whatever the executor.

For draws that need a full :class:`numpy.random.Generator` (rare, slow paths), use
:func:`sample_generator`, which derives one from ``SeedSequence(seed, spawn_key=(i,))``.
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "bernoulli",
    "integers",
    "normal",
    "sample_generator",
    "sample_ids_for",
    "stream_key",
    "uniform",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    # SplitMix64 finaliser: a bijection on 64-bit words with full avalanche.
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def stream_key(stream: int | str) -> int:
    """Turn a stream name (e.g. a corruption name) into a stable 64-bit integer."""
    if isinstance(stream, str):
        return zlib.crc32(stream.encode("utf-8")) | (zlib.adler32(stream.encode("utf-8")) << 32)
    if stream < 0:
        raise ValueError(f"stream must be a non-negative integer or a string, got {stream!r}")
    return int(stream)


def sample_ids_for(n: int, sample_ids: ArrayLike | None = None) -> NDArray[np.int64]:
    """Validate ``sample_ids`` for a batch of ``n`` samples (default ``0..n-1``)."""
    if sample_ids is None:
        return np.arange(n, dtype=np.int64)
    ids = np.asarray(sample_ids)
    if ids.shape != (n,):
        raise ValueError(f"sample_ids must have shape ({n},), got {ids.shape}")
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0):
        raise ValueError("sample_ids must be non-negative integers")
    return ids.astype(np.int64, copy=False)


def _sample_keys(seed: int, sample_ids: ArrayLike, stream: int | str) -> NDArray[np.uint32]:
    from mnistlab._validate import check_seed

    check_seed(seed)
    ids = np.asarray(sample_ids, dtype=np.uint64).reshape(-1)
    with np.errstate(over="ignore"):
        base = _mix64(np.asarray([seed], dtype=np.uint64) * _GOLDEN + np.uint64(1))
        base = _mix64(base ^ _mix64(np.asarray([stream_key(stream)], dtype=np.uint64) + _GOLDEN))
        key = _mix64(base ^ _mix64(ids * _GOLDEN + np.uint64(0x632BE59BD9B4E019)))
    return (key >> np.uint64(32)).astype(np.uint32)


def _lowbias32(x: NDArray[np.uint32]) -> NDArray[np.uint32]:
    # Wellons' "lowbias32" integer hash, in place: two multiplies, three xor-shifts.
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


_ROWS = 256  # samples hashed per step: keeps temporaries in cache


def uniform(
    seed: int,
    sample_ids: ArrayLike,
    shape: tuple[int, ...] = (),
    stream: int | str = 0,
    dtype: type[np.floating] = np.float32,
) -> NDArray[np.floating]:
    """Uniform floats in ``[0, 1)``, shape ``(N, *shape)``; row ``k`` depends on ``sample_ids[k]``.

    Values have 24 random bits (float32 resolution), enough for image noise.

    Parameters
    ----------
    seed : int
        The run's seed.
    sample_ids : array-like of int, shape (N,)
        The samples' ids (row numbers in the source split).
    shape : tuple of int
        Shape of the draws for one sample.
    stream : int or str
        Independent stream (use a different one for each kind of draw).
    dtype : numpy float type
        ``float32`` (default) or ``float64``.

    Examples
    --------
    >>> a = uniform(0, [0, 1, 2], (4,))
    >>> b = uniform(0, [2], (4,))
    >>> bool((a[2] == b[0]).all())
    True
    """
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    keys = _sample_keys(seed, sample_ids, stream).reshape(-1, 1)
    n = keys.shape[0]
    counters = np.arange(1, count + 1, dtype=np.uint32) * np.uint32(0x9E3779B9)
    out = np.empty((n, count), dtype=dtype)
    scale = dtype(1.0 / 16777216.0)
    with np.errstate(over="ignore"):
        for s in range(0, n, _ROWS):
            k = keys[s : s + _ROWS]
            z = _lowbias32(k + counters)
            z ^= k
            z = _lowbias32(z)
            out[s : s + _ROWS] = (z >> np.uint32(8)).astype(dtype) * scale
    return out.reshape((n, *shape))


def normal(
    seed: int, sample_ids: ArrayLike, shape: tuple[int, ...] = (), stream: int | str = 0
) -> NDArray[np.float64]:
    """Standard normal draws (Box-Muller), shape ``(N, *shape)``, per sample as :func:`uniform`."""
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    u = uniform(seed, sample_ids, (2, count), stream, dtype=np.float64)
    u1 = 1.0 - u[:, 0]  # in (0, 1], so log is finite
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u[:, 1])
    return z.reshape((-1, *shape))


def integers(
    seed: int,
    sample_ids: ArrayLike,
    low: int,
    high: int,
    shape: tuple[int, ...] = (),
    stream: int | str = 0,
) -> NDArray[np.int64]:
    """Integers in ``[low, high)``, shape ``(N, *shape)``, per-sample like :func:`uniform`."""
    if high <= low:
        raise ValueError(f"high must be greater than low, got low={low}, high={high}")
    u = uniform(seed, sample_ids, shape, stream, dtype=np.float64)
    return (low + np.floor(u * (high - low))).astype(np.int64)


def bernoulli(
    seed: int, sample_ids: ArrayLike, p: float, shape: tuple[int, ...] = (), stream: int | str = 0
) -> NDArray[np.bool_]:
    """Booleans that are True with probability ``p``, per-sample like :func:`uniform`."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}")
    return uniform(seed, sample_ids, shape, stream) < p


def sample_generator(seed: int, sample_id: int, stream: int | str = 0) -> np.random.Generator:
    """A full numpy Generator for one sample, from ``SeedSequence(seed, spawn_key=(id, stream))``.

    Use it only where a draw has no vectorised form; it costs a Python call per sample.
    """
    ss = np.random.SeedSequence(seed, spawn_key=(int(sample_id), stream_key(stream)))
    return np.random.Generator(np.random.Philox(ss))
