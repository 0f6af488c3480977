"""Digital corruptions: bit-exact against Pillow / libjpeg, quantisation levels, severity order."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mnistlab.corrupt import corrupt, get, names
from mnistlab.corrupt.families.digital import box_resize


def test_registered() -> None:
    assert {"jpeg_compression", "pixelate", "quantize"} <= set(names(family="digital"))
    assert get("jpeg_compression").levels == (25, 18, 15, 10, 7)
    assert get("quantize").levels == (5, 4, 3, 2, 1)


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_pixelate_equals_pillow_box(severity: int, fashion_small: np.ndarray) -> None:
    c = get("pixelate").levels[severity - 1]
    s = int(28 * c)
    expected = np.stack(
        [
            np.asarray(Image.fromarray(im).resize((s, s), Image.BOX).resize((28, 28), Image.BOX))
            for im in fashion_small
        ]
    )
    np.testing.assert_array_equal(corrupt(fashion_small, "pixelate", severity=severity), expected)


def test_box_resize_non_square() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (5, 28, 20), dtype=np.uint8)
    expected = np.stack([np.asarray(Image.fromarray(im).resize((9, 13), Image.BOX)) for im in x])
    np.testing.assert_array_equal(box_resize(x, (13, 9)), expected)


@pytest.mark.parametrize("severity", [1, 5])
def test_jpeg_equals_pillow(severity: int, fashion_small: np.ndarray) -> None:
    quality = get("jpeg_compression").levels[severity - 1]
    expected = []
    for im in fashion_small[:30]:
        buf = io.BytesIO()
        Image.fromarray(im).save(buf, "JPEG", quality=quality)
        expected.append(np.asarray(Image.open(buf)))
    got = corrupt(fashion_small[:30], "jpeg_compression", severity=severity)
    np.testing.assert_array_equal(got, np.stack(expected))


def test_quantize_levels(fashion_small: np.ndarray) -> None:
    for severity, bits in enumerate((5, 4, 3, 2, 1), start=1):
        y = corrupt(fashion_small, "quantize", severity=severity)
        assert len(np.unique(y)) <= 2**bits
    np.testing.assert_array_equal(
        np.unique(corrupt(fashion_small, "quantize", severity=5)), [0, 255]
    )
    # compat truncates 255 * k / (2**bits - 1) like the release's float cast.
    assert set(np.unique(corrupt(fashion_small, "quantize", severity=4, compat="mnist-c"))) <= {
        0,
        85,
        170,
        255,
    }


@pytest.mark.parametrize("name", ["jpeg_compression", "quantize"])
def test_monotonic(name: str, fashion_small: np.ndarray) -> None:
    assert get(name).monotonic
    d = [
        np.abs(corrupt(fashion_small, name, severity=s).astype(int) - fashion_small).mean()
        for s in range(1, 6)
    ]
    assert d == sorted(d)


def test_pixelate_exception_documented(fashion_small: np.ndarray) -> None:
    # Exact box ratios (28 -> 14, 28 -> 7) change slightly less than the uneven ones just
    # before them (28 -> 16, 28 -> 8): the named exception. Coarser grids still change more.
    assert not get("pixelate").monotonic
    d = {
        s: np.abs(corrupt(fashion_small, "pixelate", severity=s).astype(int) - fashion_small).mean()
        for s in range(1, 6)
    }
    assert d[1] < d[3] < d[4] and d[2] < d[3] < d[5]


@pytest.mark.parametrize("name", ["jpeg_compression", "pixelate", "quantize"])
def test_shape_dtype_deterministic(name: str, fashion_small: np.ndarray) -> None:
    y = corrupt(fashion_small, name, severity=2)
    assert y.shape == fashion_small.shape and y.dtype == np.uint8
    np.testing.assert_array_equal(y, corrupt(fashion_small, name, severity=2, seed=9))
