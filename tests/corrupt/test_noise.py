"""Noise corruptions: the right distributions, drawn per sample."""

from __future__ import annotations

import numpy as np
from scipy import stats

from mnistlab.corrupt import corrupt
from mnistlab.corrupt._kernels import poisson_inverse_cdf


def test_poisson_inversion_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    for c in (60, 3):
        lams = tuple(k / 255 * c for k in range(256))
        level = rng.integers(0, 256, 50_000)
        u = (rng.integers(0, 2**24, 50_000) / 2**24).astype(np.float32)
        ours = poisson_inverse_cdf(lams, level, u)
        ref = stats.poisson.ppf(u.astype(np.float64), np.asarray(lams)[level])
        assert np.array_equal(ours, ref)


def test_shot_noise_severity_5_fingerprint(fashion_small: np.ndarray) -> None:
    y = corrupt(fashion_small, "shot_noise", severity=5, seed=3)
    assert set(np.unique(y).tolist()) <= {0, 85, 170, 255}
    assert np.all(y[fashion_small == 0] == 0)  # rate 0 gives count 0


def test_shot_noise_is_unbiased_below_the_clip() -> None:
    # Poisson(x c) / c has mean x; at severity 1 (c = 60) a grey of 60 is far from the clip.
    x = np.full((200, 28, 28), 60, np.uint8)
    y = corrupt(x, "shot_noise", severity=1).astype(np.float64)
    assert abs(y.mean() - 60) < 0.5
    # Variance x / c on the 0..1 scale: (60/255) / 60 * 255^2 = 255 grey levels squared.
    assert abs(y.var() / 255 - 1) < 0.05


def test_impulse_noise_fraction_and_values() -> None:
    x = np.full((100, 28, 28), 128, np.uint8)
    for sev, p in enumerate((0.03, 0.06, 0.09, 0.17, 0.27), start=1):
        y = corrupt(x, "impulse_noise", severity=sev, seed=1)
        changed = y != 128
        assert set(np.unique(y[changed]).tolist()) <= {0, 255}
        assert abs(changed.mean() - p) < 0.01
        assert abs((y == 255).mean() - p / 2) < 0.01


def test_gaussian_noise_sigma() -> None:
    x = np.full((100, 28, 28), 128, np.uint8)
    y = corrupt(x, "gaussian_noise", severity=1).astype(np.float64)  # sigma 0.08
    assert abs(y.std() / 255 - 0.08) < 0.003
    assert abs(y.mean() - 128) < 0.5


def test_speckle_noise_leaves_background() -> None:
    x = np.zeros((10, 28, 28), np.uint8)
    x[:, 10:18, 10:18] = 100
    y = corrupt(x, "speckle_noise", severity=5)
    assert np.all(y[x == 0] == 0)
    ink = y[x == 100].astype(np.float64)
    assert abs(ink.std() / 100 - 0.6) < 0.05  # multiplicative: std = x * sigma
