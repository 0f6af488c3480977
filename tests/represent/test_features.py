"""Fréchet distance, KID, PRDC and class coverage against closed forms and brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from mnistlab.errors import MnistlabError
from mnistlab.represent import features
from mnistlab.represent.features import class_coverage, frechet_distance, kid, prdc


def gaussian_with_exact_moments(
    rng: np.random.Generator, n: int, mean: np.ndarray, std: np.ndarray
) -> np.ndarray:
    """``n`` rows whose sample mean is ``mean`` and sample covariance ``diag(std**2)``."""
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    q, _ = np.linalg.qr(z)  # orthonormal columns, orthogonal to the ones vector
    return q * std * np.sqrt(n - 1) + mean


def test_frechet_closed_form_for_diagonal_gaussians() -> None:
    rng = np.random.default_rng(0)
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 0.0])
    s_a, s_b = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.5])
    a = gaussian_with_exact_moments(rng, 200, mu_a, s_a)
    b = gaussian_with_exact_moments(rng, 300, mu_b, s_b)
    want = np.sum((mu_a - mu_b) ** 2) + np.sum((s_a - s_b) ** 2)
    assert frechet_distance(a, b) == pytest.approx(want, rel=1e-10)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_frechet_general_covariances_match_the_symmetric_formula() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4))
    b = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4)) + 1.0
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(sa)
    root_a = (v * np.sqrt(w)) @ v.T
    inner = np.linalg.eigvalsh(root_a @ sb @ root_a)  # tr sqrt(Sa^1/2 Sb Sa^1/2)
    mu = a.mean(axis=0) - b.mean(axis=0)
    want = mu @ mu + np.trace(sa) + np.trace(sb) - 2 * np.sqrt(np.clip(inner, 0, None)).sum()
    assert frechet_distance(a, b) == pytest.approx(want, rel=1e-9)
    # population closed form, large sample: N(0, I) vs N(1, 4 I) in 2-D: 2 + 2 * (2 - 1)^2
    big_a = rng.normal(size=(100_000, 2))
    big_b = 1.0 + 2.0 * rng.normal(size=(100_000, 2))
    assert frechet_distance(big_a, big_b) == pytest.approx(4.0, rel=0.02)


def test_frechet_one_column_and_singular_covariances() -> None:
    a, b = np.array([[0.0], [2.0]]), np.array([[1.0], [5.0]])
    # means 1 and 3, variances 2 and 8: 4 + (sqrt 2 - sqrt 8)^2
    assert frechet_distance(a, b) == pytest.approx(4.0 + 2.0)
    flat = np.column_stack([np.arange(5.0), np.zeros(5)])  # rank-deficient covariance
    assert np.isfinite(frechet_distance(flat, flat + 1.0))


def brute_kid(a: np.ndarray, b: np.ndarray, subsets: int, size: int, seed: int) -> np.ndarray:
    rs = np.random.RandomState(seed)
    d = a.shape[1]
    out = []
    for _ in range(subsets):
        x = a[rs.choice(len(a), size, replace=False)]
        y = b[rs.choice(len(b), size, replace=False)]
        kxx, kyy, kxy = [(p @ q.T / d + 1) ** 3 for p, q in ((x, x), (y, y), (x, y))]
        m = size
        out.append(
            (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.sum() / m**2
        )
    return np.array(out)


def test_kid_equals_brute_force_average() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(120, 6)), rng.normal(0.2, size=(90, 6))
    res = kid(a, b, subsets=7, subset_size=50, seed=3)
    want = brute_kid(a, b, 7, 50, 3)
    np.testing.assert_allclose(res.values, want, rtol=1e-10)
    assert res.mean == pytest.approx(want.mean()) and res.std == pytest.approx(want.std())
    assert res.subset_size == 50 and float(res) == res.mean
    # subsets larger than a set use all of the smaller one
    assert kid(a, b, subsets=2, subset_size=1000).subset_size == 90
    again = kid(a, b, subsets=7, subset_size=50, seed=3)
    assert again.values.tobytes() == res.values.tobytes()


def brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, ...]:
    """Naeem et al.'s definitions on full distance matrices."""
    r_real = np.sort(cdist(real, real), axis=1)[:, k]
    r_fake = np.sort(cdist(fake, fake), axis=1)[:, k]
    d = cdist(real, fake)
    inside = d < r_real[:, None]
    return (
        float(inside.any(axis=0).mean()),
        float((d < r_fake[None, :]).any(axis=1).mean()),
        float(inside.sum(axis=0).mean() / k),
        float((d.min(axis=1) < r_real).mean()),
    )


@pytest.mark.parametrize("dim", [2, 5, 100])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_prdc_equals_brute_force(monkeypatch: pytest.MonkeyPatch, dim: int, k: int) -> None:
    rng = np.random.default_rng(dim * 10 + k)
    real = rng.normal(size=(150, dim))
    fake = rng.normal(0.3, 1.2, size=(110, dim))
    want = brute_prdc(real, fake, k)
    got = prdc(real, fake, k=k)
    assert (got.precision, got.recall, got.density, got.coverage) == pytest.approx(want)
    assert got.k == k
    monkeypatch.setattr(features, "_DIST_BYTES", 8 * 150 * 7)  # blocks of 7 rows
    small = prdc(real, fake, k=k)
    assert small == got


@pytest.mark.parametrize("dim", [3, 64])
def test_prdc_of_a_set_with_itself_is_exact(dim: int) -> None:
    # every radius is met again as a cross distance: strict inequalities must hold exactly
    rng = np.random.default_rng(dim)
    x = rng.normal(size=(200, dim)) * 10 + 100
    res = prdc(x, x, k=5)
    assert (res.precision, res.recall, res.density, res.coverage) == (1.0, 1.0, 1.0, 1.0)
    assert (res.precision, res.recall, res.density, res.coverage) == brute_prdc(x, x, 5)


def test_prdc_with_duplicates_and_ties() -> None:
    grid = np.array([[i, j] for i in range(6) for j in range(6)], dtype=float) * 0.1
    real = np.concatenate([grid, grid[:5]])  # duplicates: some radii tie or are 0
    fake = grid[::2] + 0.05
    for k in (1, 2, 4):
        got = prdc(real, fake, k=k)
        assert (got.precision, got.recall, got.density, got.coverage) == pytest.approx(
            brute_prdc(real, fake, k)
        )


def test_prdc_refuses_bad_inputs() -> None:
    x = np.zeros((6, 2)) + np.arange(6)[:, None]
    with pytest.raises(MnistlabError, match="fake needs more than k=5 rows, got 5"):
        prdc(x, x[:5])
    with pytest.raises(MnistlabError, match="k must be at least 1"):
        prdc(x, x, k=0)
    with pytest.raises(MnistlabError, match="real and fake must have the same number"):
        prdc(x, x[:, :1])
    with pytest.raises(MnistlabError, match="fake contains NaN"):
        prdc(x, np.where(x > 4, np.nan, x))


def test_other_bad_inputs() -> None:
    x = np.arange(12.0).reshape(6, 2)
    with pytest.raises(MnistlabError, match="a needs at least 2 rows"):
        frechet_distance(x[:1], x)
    with pytest.raises(MnistlabError, match="b contains NaN"):
        frechet_distance(x, np.full((3, 2), np.nan))
    with pytest.raises(MnistlabError, match="subsets must be at least 1"):
        kid(x, x, subsets=0)
    with pytest.raises(MnistlabError, match="subset_size must be at least 2"):
        kid(x, x, subset_size=1)
    with pytest.raises(MnistlabError, match="a and b must have the same number of columns"):
        kid(x, x[:, :1])


def test_class_coverage_by_hand() -> None:
    cov = class_coverage(np.array([0, 1, 1, 3, 3, 3]), n_classes=5)
    assert cov.counts.tolist() == [1, 2, 0, 3, 0]
    np.testing.assert_allclose(cov.fractions, [1 / 6, 2 / 6, 0, 3 / 6, 0])
    p = np.array([1, 2, 3]) / 6
    assert cov.entropy == pytest.approx(-(p * np.log(p)).sum())
    assert cov.normalized_entropy == pytest.approx(cov.entropy / np.log(5))
    assert (cov.classes_covered, cov.coverage) == (3, 0.6)
    uniform = class_coverage(np.arange(40) % 10, n_classes=10)
    assert uniform.normalized_entropy == pytest.approx(1.0) and uniform.coverage == 1.0
    single = class_coverage([7, 7], n_classes=10)
    assert single.entropy == 0.0 and single.classes_covered == 1


@pytest.mark.parametrize(
    ("labels", "n_classes", "message"),
    [
        ([0, 10], 10, r"label 10 is outside 0..9"),
        ([-1, 0], 10, r"label -1 is outside 0..9"),
        ([0.0, 1.0], 10, "must be integers"),
        ([], 10, "non-empty 1-D array"),
        ([[0, 1]], 10, "non-empty 1-D array"),
        ([0], 1, "n_classes must be at least 2"),
    ],
)
def test_class_coverage_refuses(labels: list, n_classes: int, message: str) -> None:
    with pytest.raises(MnistlabError, match=message):
        class_coverage(np.asarray(labels), n_classes)


def test_real_morphometrics_prdc_and_frechet(morpho_table: pd.DataFrame) -> None:
    cols = ["area", "length", "thickness", "slant", "width", "height"]
    values = morpho_table[cols].to_numpy()
    z = (values - values.mean(axis=0)) / values.std(axis=0)
    order = np.random.default_rng(0).permutation(len(z))
    a, b = z[order[:2000]], z[order[2000:4000]]
    same = prdc(a, b)
    assert min(same.precision, same.recall, same.coverage) > 0.85
    assert 0.85 < same.density < 1.15
    # a generator that only makes thin digits covers the real set badly
    thin = b[b[:, cols.index("thickness")] < -0.5]
    worse = prdc(a, thin)
    assert worse.coverage < 0.5 * same.coverage and worse.recall < same.recall
    assert frechet_distance(a, thin) > 20 * frechet_distance(a, b)
