"""Photometric corruptions: the grey closed forms equal the releases' colour round trips."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import color

from mnistlab.corrupt import corrupt, get
from mnistlab.corrupt.families.photometric import hsv_luminance


def _via_hsv(img: np.ndarray, change) -> np.ndarray:  # type: ignore[no-untyped-def]
    # The releases: grey -> RGB -> HSV, change, -> RGB -> grey, clip, * 255.
    hsv = color.rgb2hsv(color.gray2rgb(img / 255.0))
    rgb = color.hsv2rgb(change(hsv))
    return np.clip(color.rgb2gray(rgb), 0, 1) * 255


def test_brightness_equals_hsv_round_trip(fashion_small: np.ndarray) -> None:
    x = fashion_small[:10]
    for sev, c in enumerate((0.1, 0.2, 0.3, 0.4, 0.5), start=1):

        def change(hsv: np.ndarray, c: float = c) -> np.ndarray:
            hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
            return hsv

        ref = np.stack([_via_hsv(img, change) for img in x])
        got = corrupt(x, "brightness", severity=sev, compat="mnist-c")
        assert np.array_equal(got, ref.astype(np.float32).astype(np.uint8))


def test_saturate_equals_hsv_round_trip(fashion_small: np.ndarray) -> None:
    x = fashion_small[:10]
    for sev, (a, b) in enumerate(((0.3, 0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)), start=1):
        ref = np.stack(
            [_via_hsv(img, lambda hsv, a=a, b=b: np.clip(hsv * a + b, 0, 1)) for img in x]
        )
        got = corrupt(x, "saturate", severity=sev, compat="mnist-c")
        assert np.abs(got.astype(int) - ref.astype(np.float32).astype(np.uint8)).max() <= 1
        assert np.mean(got == ref.astype(np.float32).astype(np.uint8)) > 0.999


def test_hsv_luminance() -> None:
    assert hsv_luminance(0, 0) == pytest.approx(1.0)
    for h, s, v in ((0.2, 0.2, 1.0), (0.55, 0.7, 0.4), (0.9, 1.0, 0.8), (0.05, 0.3, 1)):
        rgb = color.hsv2rgb(np.array([[[h, s, v]]]))
        assert hsv_luminance(h, s, v) == pytest.approx(float(color.rgb2gray(rgb)[0, 0]))


def test_contrast_uses_the_image_mean(fashion_small: np.ndarray) -> None:
    x = fashion_small[:10]
    for sev, c in enumerate((0.4, 0.3, 0.2, 0.1, 0.05), start=1):
        f = x / 255.0
        m = f.mean(axis=(1, 2), keepdims=True)
        ref = np.clip((f - m) * c + m, 0, 1) * 255
        got = corrupt(x, "contrast", severity=sev, compat="mnist-c")
        assert np.array_equal(got, ref.astype(np.float32).astype(np.uint8))
    # The image mean is kept (up to rounding).
    y = corrupt(x, "contrast", severity=5)
    assert np.allclose(y.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=0.6)


def test_inverse_twice_is_identity(fashion_small: np.ndarray) -> None:
    for compat in (None, "mnist-c"):
        once = corrupt(fashion_small, "inverse", compat=compat)
        assert np.array_equal(once, 255 - fashion_small)
        assert np.array_equal(corrupt(once, "inverse", compat=compat), fashion_small)
    assert not get("inverse").leveled


def test_saturate_levels_darken_then_brighten(fashion_small: np.ndarray) -> None:
    means = [corrupt(fashion_small, "saturate", severity=s).mean() for s in range(1, 6)]
    clean = fashion_small.mean()
    assert means[0] < clean and means[1] < means[0]  # a = 0.3, 0.1
    assert means[2] > clean and means[4] > means[3] > means[2]  # a = 2, 5, 20
    assert not get("saturate").monotonic
