"""Blur corruptions against straightforward per-image references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from skimage.filters import gaussian as sk_gaussian

from mnistlab.corrupt import _kernels, corrupt
from mnistlab.corrupt.families import blur
from mnistlab.corrupt.registry import Context


@pytest.fixture
def no_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kernels, "USE_NUMBA", False)


def _naive_chain(img: np.ndarray, pos: np.ndarray, partner: np.ndarray) -> np.ndarray:
    out = img.copy()
    for k in range(out.shape[0]):
        for p, q in zip(pos, partner[k], strict=True):
            out[k, p], out[k, q] = out[k, q], out[k, p]
    return out


@pytest.mark.parametrize("shift", [1, 3, 4])
def test_swap_chain_matches_sequential_loop(shift: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Context(0, np.arange(5), False, "glass_blur")
    pos, partner = blur._swap_partners(ctx, shift, 2, (28, 28))
    assert pos.size == 2 * (28 - 2 * shift) ** 2
    off = partner - pos[None, :]
    dy, dx = np.divmod(off + shift * 29, 28)
    moved = off != 0
    # Offsets (dy, dx) lie in [-shift, shift - 1]; about half of the steps swap.
    assert np.all((dy[moved] - shift >= -shift) & (dy[moved] - shift <= shift - 1))
    assert np.all((dx[moved] - shift >= -shift) & (dx[moved] - shift <= shift - 1))
    # A step swaps with probability 1/2, and its offset is (0, 0) with 1 / (2 shift)^2.
    assert abs(moved.mean() - 0.5 * (1 - 1 / (2 * shift) ** 2)) < 0.03
    img = np.random.default_rng(0).random((5, 784)).astype(np.float32)
    expected = _naive_chain(img, pos, partner)
    for use_numba in (True, False):
        monkeypatch.setattr(_kernels, "USE_NUMBA", use_numba)
        got = img.copy()
        blur.swap_chain(got, pos, partner)
        assert np.array_equal(got, expected)


def test_glass_blur_same_bytes_with_and_without_numba(
    fashion_small: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = fashion_small[:30]
    for sev in range(1, 6):
        for compat in (None, "mnist-c"):
            a = corrupt(x, "glass_blur", severity=sev, compat=compat)
            monkeypatch.setattr(_kernels, "USE_NUMBA", False)
            b = corrupt(x, "glass_blur", severity=sev, compat=compat)
            monkeypatch.setattr(_kernels, "USE_NUMBA", True)
            assert np.array_equal(a, b), (sev, compat)


def test_gaussian_blur_matches_skimage(fashion_small: np.ndarray) -> None:
    x = fashion_small[:10]
    for sev, sigma in enumerate((1, 2, 3, 4, 6), start=1):
        ref2d = np.stack([sk_gaussian(img / 255.0, sigma=sigma) for img in x])
        got = corrupt(x, "gaussian_blur", severity=sev).astype(np.float64)
        assert np.abs(got - ref2d * 255).max() <= 0.5 + 1e-3
        # The release's quirk: skimage's multichannel flag blurred down the columns only.
        ref1d = np.stack([sk_gaussian(img / 255.0, sigma=sigma, channel_axis=-1) for img in x])
        got = corrupt(x, "gaussian_blur", severity=sev, compat="mnist-c").astype(np.float64)
        assert np.abs(got - np.floor(ref1d * 255 + 1e-6)).max() <= 1


def test_compat_blur_is_vertical_only() -> None:
    x = np.zeros((1, 28, 28), np.uint8)
    x[0, 14, 14] = 255
    y = corrupt(x, "gaussian_blur", severity=1, compat="mnist-c")
    assert y[0, :, 14].sum() > 255 * 0.9 and y[0, :, :14].sum() == 0 == y[0, :, 15:].sum()
    assert corrupt(x, "gaussian_blur", severity=1)[0, 14, 13] > 0


def _naive_motion(img: np.ndarray, radius: float, sigma: float, angle: float) -> np.ndarray:
    width = int(2 * np.ceil(radius) + 1)
    k = np.exp(-(np.arange(width) ** 2) / (2 * sigma**2))
    k /= k.sum()
    h, w = img.shape
    out = np.zeros_like(img, dtype=np.float64)
    a = np.deg2rad(angle)
    for i in range(width):
        dx = int(np.ceil(i * np.cos(a) - 0.5))
        dy = int(np.ceil(i * np.sin(a) - 0.5))
        for r in range(h):
            for c in range(w):
                out[r, c] += k[i] * img[min(max(r + dy, 0), h - 1), min(max(c + dx, 0), w - 1)]
    return out


@pytest.mark.parametrize("use_numba", [True, False])
def test_motion_blur_matches_naive_kernel(use_numba: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_kernels, "USE_NUMBA", use_numba)
    rng = np.random.default_rng(2)
    x = rng.random((4, 16, 20)).astype(np.float32)
    angles = np.array([0.0, -37.5, 44.9, 170.0])  # 170: taps reach left, beyond the range used
    got = blur.motion_blur_at(x, 5, 3, angles)
    ref = np.stack([_naive_motion(x[k], 5, 3, angles[k]) for k in range(4)])
    assert np.abs(got - ref).max() < 1e-5


def test_motion_blur_is_one_sided() -> None:
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 14, 14] = 1
    y = blur.motion_blur_at(x, 10, 3, np.array([0.0]))
    assert y[0, 14, 15:].sum() == 0 and y[0, 14, :15].sum() == pytest.approx(1.0, abs=1e-5)
    assert y[0, np.arange(28) != 14].sum() == 0


def test_motion_blur_same_with_and_without_numba(
    fashion_small: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = corrupt(fashion_small, "motion_blur", severity=5)
    monkeypatch.setattr(_kernels, "USE_NUMBA", False)
    assert np.array_equal(a, corrupt(fashion_small, "motion_blur", severity=5))


def test_defocus_blur_matches_opencv(fashion_small: np.ndarray) -> None:
    cv2 = pytest.importorskip("cv2")
    x = fashion_small[:5]
    for sev, (radius, alias) in enumerate(((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)), 1):
        half, ksize = (8, (3, 3)) if radius <= 8 else (radius, (5, 5))
        grid = np.arange(-half, half + 1)
        xx, yy = np.meshgrid(grid, grid)
        disk = ((xx**2 + yy**2) <= radius**2).astype(np.float32)
        disk /= disk.sum()
        kernel = cv2.GaussianBlur(disk, ksize=ksize, sigmaX=alias)
        ref = np.stack([cv2.filter2D(img / 255.0, -1, kernel) for img in x])
        got = corrupt(x, "defocus_blur", severity=sev).astype(np.float64)
        assert np.abs(got - np.clip(ref, 0, 1) * 255).max() <= 0.5 + 1e-3


def test_zoom_blur_matches_per_image_zoom(fashion_small: np.ndarray) -> None:
    x = fashion_small[:4]
    factors = np.arange(1, 1.31, 0.03)

    def clipped(img: np.ndarray, z: float) -> np.ndarray:
        ch = int(np.ceil(28 / z))
        top = (28 - ch) // 2
        out = ndi.zoom(img[top : top + ch, top : top + ch], (z, z), order=1)
        trim = (out.shape[0] - 28) // 2
        return out[trim : trim + 28, trim : trim + 28]

    ref = []
    for img in x / 255.0:
        acc = img.copy()
        for z in factors:
            acc += clipped(img, z)
        ref.append(acc / (len(factors) + 1))
    got = corrupt(x, "zoom_blur", severity=5).astype(np.float64)
    assert np.abs(got - np.clip(ref, 0, 1) * 255).max() <= 0.5 + 1e-3


def test_blurs_keep_a_constant_image() -> None:
    x = np.full((3, 28, 28), 90, np.uint8)
    for name in ("gaussian_blur", "defocus_blur", "zoom_blur", "motion_blur", "glass_blur"):
        for sev in (1, 5):
            y = corrupt(x, name, severity=sev)
            assert np.abs(y.astype(int) - 90).max() <= 1, name
