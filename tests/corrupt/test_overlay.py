"""Overlay corruptions on real Fashion-MNIST images: shapes, invariants, determinism, fog maps."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mnistlab.corrupt import corrupt, get, names
from mnistlab.corrupt.families.overlay import (
    _zigzag_points,
    _zigzag_table,
    line_layer,
    plasma_fractal,
    streak_blur,
)

OVERLAY = ["stripe", "fog", "spatter", "dotted_line", "zigzag", "line", "snow"]


def test_overlay_family_registered() -> None:
    assert set(OVERLAY) <= set(names(family="overlay"))
    for name in ("stripe", "fog", "spatter", "dotted_line", "zigzag"):
        assert "mnist-c" in get(name).releases
    assert get("fog").benchmark_severity == 5
    assert get("spatter").benchmark_severity == 4
    assert not get("stripe").leveled and get("stripe").benchmark_severity is None


@pytest.mark.parametrize("name", OVERLAY)
def test_shape_dtype_and_change(name: str, fashion_small: np.ndarray) -> None:
    x = fashion_small[:40]
    for severity in (1, 3, 5):
        y = corrupt(x, name, severity=severity, seed=1)
        assert y.shape == x.shape and y.dtype == np.uint8
        assert (y != x).any()
    assert corrupt(x[:0], name).shape == (0, 28, 28)


@pytest.mark.parametrize("name", ["dotted_line", "zigzag", "line", "stripe"])
def test_levelless_severities_equal(name: str, fashion_small: np.ndarray) -> None:
    x = fashion_small[:20]
    first = corrupt(x, name, severity=1)
    for severity in (2, 5):
        np.testing.assert_array_equal(corrupt(x, name, severity=severity), first)


def test_stripe_twice_is_identity(fashion_small: np.ndarray) -> None:
    for compat in (None, "mnist-c"):
        once = corrupt(fashion_small, "stripe", compat=compat)
        np.testing.assert_array_equal(corrupt(once, "stripe", compat=compat), fashion_small)
    once = corrupt(fashion_small, "stripe")
    np.testing.assert_array_equal(once[:, :, 7:21], fashion_small[:, :, 7:21])
    np.testing.assert_array_equal(once[:, :, :7], 255 - fashion_small[:, :, :7])


@pytest.mark.parametrize("name", ["snow"])
def test_monotonic_in_severity(name: str, fashion_small: np.ndarray) -> None:
    assert get(name).monotonic
    diffs = [
        np.abs(corrupt(fashion_small, name, severity=s).astype(int) - fashion_small).mean()
        for s in range(1, 6)
    ]
    assert all(a <= b for a, b in itertools.pairwise(diffs)), diffs


def test_fog_grows_with_strength(fashion_small: np.ndarray) -> None:
    # Not monotonic over 1..5 (levels 3 and 4 share strength 2.5), but over the strengths.
    assert not get("fog").monotonic
    d = [
        np.abs(corrupt(fashion_small, "fog", severity=s).astype(int) - fashion_small).mean()
        for s in (1, 2, 3, 5)
    ]
    assert d == sorted(d)


@pytest.mark.parametrize("name", OVERLAY)
def test_deterministic_under_chunking(name: str, fashion_small: np.ndarray) -> None:
    x = fashion_small[:50]
    whole = corrupt(x, name, seed=7)
    parts = np.concatenate(
        [
            corrupt(x[:13], name, seed=7, sample_ids=np.arange(13)),
            corrupt(x[13:], name, seed=7, sample_ids=np.arange(13, 50)),
        ]
    )
    np.testing.assert_array_equal(whole, parts)
    reordered = corrupt(x[::-1], name, seed=7, sample_ids=np.arange(50)[::-1])
    np.testing.assert_array_equal(reordered[::-1], whole)


def test_seeds_differ(fashion_small: np.ndarray) -> None:
    for name in ("fog", "spatter", "snow", "line", "zigzag", "dotted_line"):
        assert (corrupt(fashion_small, name, seed=0) != corrupt(fashion_small, name, seed=1)).any()


def _position_noise(level: int, g: int, n: int = 3) -> np.ndarray:
    # Noise keyed on the true grid position: full grids are powers of two, windows odd.
    full = 2 ** (level + 1)
    idx = np.arange(g) if g == full else (np.arange(g) - 2) % full
    r, c = np.meshgrid(idx, idx, indexing="ij")
    base = np.sin(12.9898 * r + 78.233 * c + 37.719 * level) * 43758.5453
    u = base - np.floor(base)
    return np.broadcast_to(u, (n, g, g)) * (1 + np.arange(n))[:, None, None] % 1.0


def test_fog_window_equals_whole_map() -> None:
    # The windowed diamond-square computes the same corner as the whole 256 x 256 map.
    whole = plasma_fractal(_position_noise, 3, 1.7, 28, full_levels=8)
    window = plasma_fractal(_position_noise, 3, 1.7, 28, full_levels=5)
    assert whole.shape == window.shape == (3, 28, 28)

    def rescale(a: np.ndarray) -> np.ndarray:
        lo = a.min(axis=(1, 2), keepdims=True)
        return (a - lo) / (a.max(axis=(1, 2), keepdims=True) - lo)

    np.testing.assert_allclose(rescale(whole), rescale(window), atol=1e-9)
    assert window.min() >= 0.0 and window.max() <= 1.0


def test_fog_compat_matches_default_in_distribution(fashion_small: np.ndarray) -> None:
    x = fashion_small[:32]
    exact = corrupt(x, "fog", compat="mnist-c").astype(float)
    fast = corrupt(x, "fog").astype(float)
    assert abs(exact.mean() - fast.mean()) < 6
    assert abs(exact.std() - fast.std()) < 6


def test_spatter_color_and_mask(fashion_small: np.ndarray) -> None:
    x = np.zeros((200, 28, 28), np.uint8)
    y = corrupt(x, "spatter", severity=4)
    # On a black image every changed pixel is mud, at most 63.
    assert y.max() <= 63 and (y > 0).any()


def test_line_layer_profile() -> None:
    layer = line_layer(
        np.array([0.0, 3.0]), np.array([5.0, 2.0]), np.array([27.0, 3.0]), np.array([5.0, 9.0])
    )
    assert layer[0, 5].min() == 0.0 and layer[0, 5, :27].min() == 1.0  # column 27 is cut
    assert layer[0, 4, 10] == pytest.approx(np.log(1 - 1 / 2.3) + 1)
    assert layer[0, 3, 10] == 0.0  # two rows away the log profile is below zero
    assert layer[1].max() == 0.0  # a vertical line is empty, as in the release


def test_zigzag_table_matches_segment_by_segment() -> None:
    table = _zigzag_table(28, 28)
    assert table.shape == (10, 27, 28, 28)
    pts = _zigzag_points(3)
    x = np.zeros((1, 28, 28))
    for k in range(1, len(pts)):
        seg = line_layer(
            pts[k - 1 : k, 0], pts[k - 1 : k, 1] + 11, pts[k : k + 1, 0], pts[k : k + 1, 1] + 11
        )
        x = np.clip(x + seg, 0, 1)
    np.testing.assert_allclose(table[3 + 5, 11], x[0], atol=1e-6)


def test_dotted_line_has_gaps() -> None:
    y = corrupt(np.zeros((100, 28, 28), np.uint8), "dotted_line")
    gaps = (np.arange(28) // 2) % 2 == 0
    assert y[:, :, gaps].max() == 0
    assert y[:, :, ~gaps].max() == 255


def test_streak_blur_conserves_flat_layers() -> None:
    flat = np.full((2, 28, 28), 0.5)
    out = streak_blur(flat, 10, 4.0, np.array([-90.0, -45.0]))
    np.testing.assert_allclose(out, 0.5, atol=1e-6)
    dot = np.zeros((1, 28, 28))
    dot[0, 14, 14] = 1.0
    streak = streak_blur(dot, 5, 3.0, np.array([0.0]))
    # Angle 0 smears along the row: the dot reaches pixels to its left only.
    assert streak[0, 14, 9:15].min() > 0 and streak[0, 14, 15:].max() == 0
