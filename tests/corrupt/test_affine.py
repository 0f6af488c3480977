"""Affine corruptions against scikit-image's warp (the releases' implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import transform

from mnistlab.corrupt import corrupt, get
from mnistlab.corrupt._kernels import bilinear_sample, centred_affine, warp_affine_grouped
from mnistlab.corrupt.registry import Context

ANGLES = (0.2, 0.4, 0.6, 0.8, 1.0)


def _ctx(n: int, name: str, compat: bool) -> Context:
    return Context(0, np.arange(n), compat, name)


def _sk_warp(images: np.ndarray, params: np.ndarray) -> np.ndarray:
    # The releases: warp(x, inverse_map=AffineTransform(...)) with the centre kept fixed.
    aff = transform.AffineTransform(matrix=params)
    return np.stack([transform.warp(img, inverse_map=aff) for img in images])


def _centred(linear: np.ndarray) -> np.ndarray:
    a = np.eye(3)
    a[:2, :2] = linear
    a[0, 2] = 13.5 * (1 - linear[0, 0] - linear[0, 1])
    a[1, 2] = 13.5 * (1 - linear[1, 0] - linear[1, 1])
    return a


def _both_signs(name: str, x: np.ndarray, angle: float, compat: bool) -> list[np.ndarray]:
    fn, ctx = get(name).fn, _ctx(len(x), name, compat)
    return [fn(x, angle, ctx), fn(x, -angle, ctx)]


@pytest.mark.parametrize("angle", ANGLES)
def test_rotate_matches_skimage(fashion_small: np.ndarray, angle: float) -> None:
    x = fashion_small[:8] / 255.0
    ours = _both_signs("rotate", x, angle, compat=True)
    for sign in (1, -1):
        # scikit-image's (unchanged) rotation matrix
        ref = _sk_warp(x, _centred(transform.AffineTransform(rotation=sign * angle).params[:2, :2]))
        hit = [np.abs(o - ref).reshape(len(x), -1).max(1) < 1e-9 for o in ours]
        assert np.all(hit[0] | hit[1])


@pytest.mark.parametrize("angle", ANGLES)
def test_shear_matches_old_and_new_skimage(fashion_small: np.ndarray, angle: float) -> None:
    x = fashion_small[:8] / 255.0
    for compat in (True, False):
        ours = _both_signs("shear", x, angle, compat=compat)
        for sign in (1, -1):
            s = sign * angle
            if compat:  # scikit-image before 0.21: [[1, -sin s], [0, cos s]]
                lin = np.array([[1, -np.sin(s)], [0, np.cos(s)]])
            else:  # scikit-image today: the tan-based true shear
                lin = transform.AffineTransform(shear=s).params[:2, :2]
                assert np.allclose(lin, [[1, -np.tan(s)], [0, 1]])
            ref = _sk_warp(x, _centred(lin))
            hit = [np.abs(o - ref).reshape(len(x), -1).max(1) < 1e-9 for o in ours]
            assert np.all(hit[0] | hit[1]), (compat, s)


def test_scale_matches_skimage_and_shrinks(fashion_small: np.ndarray) -> None:
    x = fashion_small[:8] / 255.0
    for factor in (0.9, 0.8, 0.7, 0.6, 0.5):
        ref = _sk_warp(x, _centred(transform.AffineTransform(scale=1 / factor).params[:2, :2]))
        ours = get("scale").fn(x, factor, _ctx(8, "scale", True))
        assert np.abs(ours - ref).max() < 1e-9
    # Shrunk content: the ink's spread about the centre drops by the factor.
    rr = np.abs(np.arange(28) - 13.5)[None, :, None]
    y = corrupt(fashion_small, "scale", severity=5).astype(np.float64)
    spread = lambda im: (im * rr).sum() / im.sum()  # noqa: E731
    assert spread(y) == pytest.approx(0.5 * spread(fashion_small.astype(np.float64)), rel=0.05)


def test_translate_is_an_integer_shift(fashion_small: np.ndarray) -> None:
    x = fashion_small[:20]
    for sev in (1, 3, 5):
        y = corrupt(x, "translate", severity=sev)
        for k in range(len(x)):
            cands = []
            for sx in (sev, -sev):
                for sy in (sev, -sev):
                    padded = np.pad(x[k], sev)
                    # Output (r, c) samples input (r + sy, c + sx): content moves by (-sy, -sx).
                    cands.append(padded[sev + sy : sev + sy + 28, sev + sx : sev + sx + 28])
            assert any(np.array_equal(y[k], c) for c in cands)


def test_zero_parameter_is_identity(fashion_small: np.ndarray) -> None:
    x = fashion_small[:10] / 255.0
    for name in ("rotate", "shear", "translate"):
        for compat in (True, False):
            assert np.array_equal(get(name).fn(x, 0.0, _ctx(10, name, compat)), x), name
    assert np.array_equal(get("scale").fn(x, 1.0, _ctx(10, "scale", False)), x)
    still = get("elastic_transform").fn(x, (0.0, 1.0, 0.0), _ctx(10, "elastic_transform", False))
    assert np.abs(still - x).max() < 1e-9


def test_rotate_sign_is_random_per_sample(fashion_small: np.ndarray) -> None:
    x = fashion_small / 255.0
    counter = _sk_warp(x, _centred(transform.AffineTransform(rotation=0.4).params[:2, :2]))
    ours = get("rotate").fn(x, 0.4, _ctx(100, "rotate", False))
    positive = sum(np.allclose(o, r) for o, r in zip(ours, counter, strict=True))
    assert 30 < positive < 70


def test_grouped_warp_and_bilinear_sample_agree() -> None:
    rng = np.random.default_rng(5)
    x = rng.random((6, 12, 15))
    mats = np.stack(
        [centred_affine(rng.normal(size=(2, 2)) + np.eye(2), (7.0, 5.5)) for _ in range(3)]
    )
    assert not np.allclose(mats[0, :, 2], 0)
    group = np.array([0, 1, 2, 2, 1, 0])
    warped = warp_affine_grouped(x, mats, group)
    rows, cols = np.mgrid[0:12, 0:15].astype(np.float64)
    for k in range(6):
        m = mats[group[k]]
        src_c = m[0, 0] * cols + m[0, 1] * rows + m[0, 2]
        src_r = m[1, 0] * cols + m[1, 1] * rows + m[1, 2]
        ref = transform.warp(x[k], np.array([src_r, src_c]), order=1, mode="constant")
        assert np.abs(warped[k] - ref).max() < 1e-9
        assert np.abs(bilinear_sample(x[k : k + 1], src_r[None], src_c[None])[0] - ref).max() < 1e-9


def test_elastic_transform_moves_pixels_a_little(fashion_small: np.ndarray) -> None:
    x = fashion_small[:50]
    y3 = corrupt(x, "elastic_transform", severity=3).astype(np.float64)
    y2 = corrupt(x, "elastic_transform", severity=2).astype(np.float64)
    d3 = np.abs(y3 - x).mean()
    d2 = np.abs(y2 - x).mean()
    # The release's levels are not ordered: level 2 (large smooth field) beats level 3.
    assert 0 < d3 < d2
    # Mass is roughly kept: an elastic warp moves ink, it does not erase it.
    assert y3.sum() == pytest.approx(x.sum(), rel=0.1)
    assert not get("elastic_transform").monotonic
