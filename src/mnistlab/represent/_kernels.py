"""Kernel sums over two samples, in blocks: no matrix above ``block x block`` is held.

The two kernels of :mod:`mnistlab.represent`:

- ``"rbf"``: ``k(a, b) = exp(-0.5 * |a - b|^2)`` on inputs already divided by the bandwidth;
- ``"polynomial"``: ``k(a, b) = (a.b / D + 1)^3``, the kernel of KID.

A block of the RBF kernel comes from :func:`scipy.spatial.distance.cdist` (squared Euclidean
distances from the differences, so no cancellation), one of the polynomial kernel from one
matrix product. :func:`kernel_sums` returns the three sums a quadratic MMD needs; for the
RBF kernel and large samples it runs a numba loop that fuses distance and ``exp`` per pair
(no block is written at all) on the threads this process may use; each row's sum is one
sequential loop, so the result does not depend on the thread count.

Examples
--------
>>> import numpy as np
>>> a = np.array([[0.0], [1.0]])
>>> s = kernel_sums(a, a, "rbf", block_size=1)
>>> round(s.within_x, 6), s.diag_x, round(s.cross, 6)
(1.213061, 2.0, 3.213061)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "COMPILED_MIN_PAIRS",
    "KERNELS",
    "KernelSums",
    "block",
    "blocks",
    "diagonal",
    "kernel_sums",
    "pooled_kernel",
    "want_compiled",
]

KERNELS = ("rbf", "polynomial")

#: The numba loop runs from this many kernel evaluations on (importing numba costs ~0.4 s),
#: or whenever numba is already loaded in the process.
COMPILED_MIN_PAIRS = 4_000_000
_ROWS_PER_TASK = 64  # rows of one compiled task: small enough to balance the threads


@dataclass(frozen=True)
class KernelSums:
    """The sums of one kernel over two samples ``x`` (``m_x`` rows) and ``y`` (``m_y`` rows).

    ``within_x = sum_{i != j} k(x_i, x_j)``, ``diag_x = sum_i k(x_i, x_i)`` (likewise for
    ``y``) and ``cross = sum_{i, j} k(x_i, y_j)``.
    """

    within_x: float
    within_y: float
    cross: float
    diag_x: float
    diag_y: float
    m_x: int
    m_y: int


def block(kind: str, a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """The kernel matrix ``k(a_i, b_j)``, ``(len(a), len(b))``.

    Examples
    --------
    >>> import numpy as np
    >>> block("polynomial", np.array([[1.0, 1.0]]), np.array([[1.0, 0.0]])).tolist()
    [[3.375]]
    """
    if kind == "rbf":
        from scipy.spatial.distance import cdist

        g = cdist(a, b, "sqeuclidean")  # exact differences, no cancellation
        g *= -0.5
        return np.exp(g, out=g)
    g = a @ b.T
    g /= a.shape[1]
    g += 1.0
    return g * g * g


def diagonal(kind: str, a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``k(a_i, a_i)`` for every row (1 for the RBF kernel)."""
    if kind == "rbf":
        return np.ones(a.shape[0])
    return (np.einsum("ij,ij->i", a, a) / a.shape[1] + 1.0) ** 3


def _starts(n: int, size: int) -> list[int]:
    return list(range(0, n, size))


def blocks(a: NDArray[np.float64], size: int) -> Iterator[tuple[int, int, int, int]]:
    """``(i0, i1, j0, j1)`` of the blocks on and above the diagonal of an ``a x a`` matrix."""
    starts = _starts(a.shape[0], size)
    for bi, i0 in enumerate(starts):
        for j0 in starts[bi:]:
            yield i0, min(i0 + size, a.shape[0]), j0, min(j0 + size, a.shape[0])


def _within_numpy(kind: str, a: NDArray[np.float64], size: int) -> float:
    total = 0.0
    for i0, i1, j0, j1 in blocks(a, size):
        k = block(kind, a[i0:i1], a[j0:j1])
        if i0 == j0:
            total += float(k.sum()) - float(np.trace(k))
        else:
            total += 2.0 * float(k.sum())
    return total


def _cross_numpy(kind: str, a: NDArray[np.float64], b: NDArray[np.float64], size: int) -> float:
    total = 0.0
    for i0 in _starts(a.shape[0], size):
        for j0 in _starts(b.shape[0], size):
            total += float(block(kind, a[i0 : i0 + size], b[j0 : j0 + size]).sum())
    return total


# The compiled body is invisible to coverage; tests compare it with the numpy blocks.
def _rbf_row_sums(a, b, start, stop, upper, out):  # pragma: no cover
    """``out[i] = sum_j exp(-0.5 |a_i - b_j|^2)`` for ``start <= i < stop`` (``j > i`` only
    when ``upper``)."""
    n_b = b.shape[0]
    dim = a.shape[1]
    for i in range(start, stop):
        acc = 0.0
        first = i + 1 if upper else 0
        for j in range(first, n_b):
            d2 = 0.0
            for d in range(dim):
                t = a[i, d] - b[j, d]
                d2 += t * t
            acc += math.exp(-0.5 * d2)
        out[i] = acc


@lru_cache(maxsize=1)
def _compiled_row_sums() -> Callable[..., None] | None:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a core dependency
        return None
    return numba.njit(cache=True, nogil=True)(_rbf_row_sums)


def want_compiled(pairs: int, compiled: bool | None = None) -> bool:
    """Whether the numba loop should run for ``pairs`` kernel evaluations (None: by size)."""
    if compiled is not None:
        return bool(compiled) and _compiled_row_sums() is not None
    return pairs >= COMPILED_MIN_PAIRS or "numba" in sys.modules


def _row_sums_compiled(a: NDArray[np.float64], b: NDArray[np.float64], upper: bool) -> float:
    from mnistlab.threads import choose_threads

    fn = _compiled_row_sums()
    assert fn is not None
    out = np.zeros(a.shape[0])
    tasks = [(s, min(s + _ROWS_PER_TASK, a.shape[0])) for s in _starts(a.shape[0], _ROWS_PER_TASK)]
    threads = min(choose_threads(), len(tasks))
    if threads <= 1:
        fn(a, b, 0, a.shape[0], upper, out)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda t: fn(a, b, t[0], t[1], upper, out), tasks))
    return float(out.sum())


def kernel_sums(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    kind: str,
    *,
    block_size: int = 1024,
    compiled: bool | None = None,
) -> KernelSums:
    """The within-sample, cross-sample and diagonal sums of kernel ``kind`` (see
    :class:`KernelSums`); ``x`` and ``y`` are prepared inputs (RBF: divided by the bandwidth).

    ``compiled`` forces the numba loop on or off (RBF only; None: from
    :data:`COMPILED_MIN_PAIRS` kernel evaluations on).

    Examples
    --------
    >>> import numpy as np
    >>> s = kernel_sums(np.zeros((2, 1)), np.ones((1, 1)), "polynomial")
    >>> s.within_x, s.diag_y, s.cross
    (2.0, 8.0, 2.0)
    """
    pairs = x.shape[0] ** 2 + y.shape[0] ** 2 + 2 * x.shape[0] * y.shape[0]
    if kind == "rbf" and want_compiled(pairs // 2, compiled):
        wx = 2.0 * _row_sums_compiled(x, x, True)
        wy = 2.0 * _row_sums_compiled(y, y, True)
        cross = _row_sums_compiled(x, y, False)
    else:
        wx = _within_numpy(kind, x, block_size)
        wy = _within_numpy(kind, y, block_size)
        cross = _cross_numpy(kind, x, y, block_size)
    return KernelSums(
        within_x=wx,
        within_y=wy,
        cross=cross,
        diag_x=float(diagonal(kind, x).sum()),
        diag_y=float(diagonal(kind, y).sum()),
        m_x=int(x.shape[0]),
        m_y=int(y.shape[0]),
    )


def pooled_kernel(
    kind: str, z: NDArray[np.float64], size: int
) -> Iterator[tuple[int, int, int, int, NDArray[np.float64]]]:
    """The blocks ``(i0, i1, j0, j1, K)`` on and above the diagonal of the kernel of ``z``."""
    for i0, i1, j0, j1 in blocks(z, size):
        yield i0, i1, j0, j1, block(kind, z[i0:i1], z[j0:j1])
