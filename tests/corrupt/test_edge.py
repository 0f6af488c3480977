"""canny_edges: equal to scikit-image's Canny image by image, batched."""

from __future__ import annotations

import numpy as np
from skimage import feature

from mnistlab.corrupt import corrupt, get
from mnistlab.corrupt.families.edge import canny


def test_equals_skimage_on_real_images(fashion_small: np.ndarray) -> None:
    expected = np.stack([feature.canny(im / 255.0) for im in fashion_small])
    got = corrupt(fashion_small, "canny_edges")
    np.testing.assert_array_equal(got, expected.astype(np.uint8) * 255)


def test_equals_skimage_on_noise_and_thresholds() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((20, 28, 28))
    for low, high in ((0.1, 0.2), (0.3, 0.6)):
        expected = np.stack([feature.canny(im, low_threshold=low, high_threshold=high) for im in x])
        np.testing.assert_array_equal(canny(x, low_threshold=low, high_threshold=high), expected)


def test_binary_levelless_and_blank() -> None:
    c = get("canny_edges")
    assert c.family == "edge" and not c.leveled and "mnist-c" in c.releases
    y = corrupt(np.zeros((3, 28, 28), np.uint8), "canny_edges")
    assert y.max() == 0  # no gradient, no edges
    x = np.zeros((1, 28, 28), np.uint8)
    x[0, 8:20, 8:20] = 255
    edges = corrupt(x, "canny_edges", severity=5)
    assert set(np.unique(edges)) == {0, 255}


def test_chunking_does_not_matter(fashion_small: np.ndarray) -> None:
    whole = corrupt(fashion_small, "canny_edges")
    parts = np.concatenate(
        [corrupt(fashion_small[:31], "canny_edges"), corrupt(fashion_small[31:], "canny_edges")]
    )
    np.testing.assert_array_equal(whole, parts)
