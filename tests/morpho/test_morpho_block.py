"""The block path (fused smoothing, reused workspace) gives the reference pipeline's bits."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.execution import Execution
from mnistlab.morpho import measure, medial_axis, morphology, upscale
from mnistlab.morpho._block import Workspace, block_morphology
from mnistlab.morpho.measure import _measure_chunk, measure_morphology
from mnistlab.morpho.morphology import Morphology


def _reference(images: np.ndarray, scale: int, threshold: float) -> Morphology:
    """The steps one by one, every map a fresh float64 array (the path before the blocks)."""
    hires = (upscale(images, scale) * 255.0).astype(np.uint8)
    flat = hires.reshape(len(hires), -1)
    lo, hi = flat.min(axis=1).astype(float), flat.max(axis=1).astype(float)
    blank = ~(hi > lo)
    binary = (hires >= (lo + (hi - lo) * threshold)[:, None, None]) & ~blank[:, None, None]
    skeleton, distance = medial_axis(binary)
    return Morphology(hires, binary, skeleton, distance, scale, threshold, blank)


@pytest.fixture(scope="module")
def digits(mnist_test) -> np.ndarray:
    x = np.ascontiguousarray(mnist_test.images[:300]).copy()
    x[3] = 0  # blank
    x[4] = 255  # no background at all
    x[5] = 9  # no zero pixel, one stroke
    x[5, 6:20, 10:14] = 230
    return x


@pytest.mark.parametrize(("scale", "threshold"), [(4, 0.5), (4, 0.0), (2, 0.9), (3, 0.3)])
def test_block_path_is_bit_identical(digits: np.ndarray, scale: int, threshold: float) -> None:
    ref = _reference(digits, scale, threshold)
    got = morphology(digits, scale, threshold)
    for name in ("hires", "binary", "skeleton", "distance", "blank"):
        assert np.array_equal(getattr(got, name), getattr(ref, name)), name
    want = measure_morphology(ref)
    assert np.array_equal(_measure_chunk(digits, scale, threshold, 0.02), want, equal_nan=True)


def test_workspace_reused_across_blocks_of_any_size(digits: np.ndarray) -> None:
    ws = Workspace()
    first = block_morphology(digits[:200], 4, 0.5, ws)[0]
    small = block_morphology(digits[200:230], 4, 0.5, ws)
    assert np.shares_memory(first, small[0])  # the smaller block reused the memory
    ref = _reference(digits[200:230], 4, 0.5)
    assert np.array_equal(small[0], ref.hires)
    assert np.array_equal(small[2], ref.skeleton)
    assert np.array_equal(np.sqrt(small[3]), ref.distance)
    # morphology() hands out arrays of its own: a later call does not overwrite them.
    a = morphology(digits[:5])
    keep = a.hires.copy()
    morphology(digits[5:10])
    assert np.array_equal(a.hires, keep)


@pytest.mark.filterwarnings("ignore:.*blank")
def test_measure_same_bits_whatever_the_chunking(digits: np.ndarray) -> None:
    one = measure(digits[:120], execution=Execution(workers=1, chunk_size=120))
    many = measure(digits[:120], execution=Execution(workers=2, chunk_size=25))
    assert one.equals(many)
