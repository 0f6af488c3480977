"""Kernel blocks and blocked/compiled kernel sums against dense matrices."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from mnistlab.represent import _kernels


def dense_sums(kind: str, x: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    if kind == "rbf":
        k = lambda a, b: np.exp(-0.5 * cdist(a, b, "sqeuclidean"))  # noqa: E731
    else:
        k = lambda a, b: (a @ b.T / a.shape[1] + 1.0) ** 3  # noqa: E731
    kxx, kyy = k(x, x), k(y, y)
    return (
        kxx.sum() - np.trace(kxx),
        kyy.sum() - np.trace(kyy),
        k(x, y).sum(),
        np.trace(kxx),
        np.trace(kyy),
    )


@pytest.mark.parametrize("kind", _kernels.KERNELS)
def test_block_matches_the_definition(kind: str) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    got = _kernels.block(kind, a, b)
    for i in range(4):
        for j in range(5):
            if kind == "rbf":
                want = np.exp(-0.5 * np.sum((a[i] - b[j]) ** 2))
            else:
                want = (a[i] @ b[j] / 3 + 1) ** 3
            assert got[i, j] == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(np.diag(_kernels.block(kind, a, a)), _kernels.diagonal(kind, a))


@pytest.mark.parametrize("kind", _kernels.KERNELS)
@pytest.mark.parametrize("block_size", [1, 7, 64, 1000])
def test_blocked_sums_equal_dense_sums(kind: str, block_size: int) -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(53, 4)), rng.normal(0.3, size=(41, 4))
    s = _kernels.kernel_sums(x, y, kind, block_size=block_size, compiled=False)
    want = dense_sums(kind, x, y)
    got = (s.within_x, s.within_y, s.cross, s.diag_x, s.diag_y)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert (s.m_x, s.m_y) == (53, 41)


def test_compiled_sums_equal_numpy_sums() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(300, 5)), rng.normal(size=(200, 5))
    a = _kernels.kernel_sums(x, y, "rbf", compiled=True)
    b = _kernels.kernel_sums(x, y, "rbf", compiled=False)
    np.testing.assert_allclose(
        [a.within_x, a.within_y, a.cross], [b.within_x, b.within_y, b.cross], rtol=1e-12
    )
    # the row sums do not depend on how rows are spread over threads: same bytes again
    c = _kernels.kernel_sums(x, y, "rbf", compiled=True)
    assert (a.within_x, a.cross) == (c.within_x, c.cross)


def test_want_compiled_by_size_or_when_forced() -> None:
    assert _kernels.want_compiled(10, compiled=False) is False
    assert _kernels.want_compiled(10, compiled=True) is True
    assert _kernels.want_compiled(_kernels.COMPILED_MIN_PAIRS) is True
    small = _kernels.want_compiled(10)
    assert small == ("numba" in sys.modules)


def test_blocks_cover_the_upper_triangle_once() -> None:
    a = np.zeros((10, 1))
    seen = np.zeros((10, 10), dtype=int)
    for i0, i1, j0, j1 in _kernels.blocks(a, 3):
        seen[i0:i1, j0:j1] += 1
    assert (np.triu(seen) == np.triu(np.ones((10, 10), dtype=int))).all()
    assert seen[np.tril_indices(10, -1)].max() <= 1  # only inside diagonal blocks
