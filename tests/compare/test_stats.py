"""Bootstrap, McNemar and Holm against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from mnistlab.compare import stats
from mnistlab.errors import MnistlabError


def test_bootstrap_ci_hand_computed_indices() -> None:
    values = np.array([1.0, 0.0, 1.0, 0.0])
    w = stats.bootstrap_weights(4, indices=[[0, 0, 1, 1], [2, 2, 2, 2], [0, 1, 2, 3]])
    means = stats.weighted_mean(values, w)
    assert means.tolist() == [0.5, 1.0, 0.5]
    lo, hi = stats.percentile_ci(means)
    # sorted replicates 0.5, 0.5, 1.0; linear quantiles at positions 0.05 and 1.95
    assert float(lo) == pytest.approx(0.5)
    assert float(hi) == pytest.approx(0.5 + 0.95 * 0.5)


def test_bootstrap_ci_fixed_seed_equals_fancy_indexing() -> None:
    values = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    w = stats.bootstrap_weights(5, n_boot=7, seed=3)
    idx = np.random.default_rng(3).integers(0, 5, size=(7, 5))
    expected = values[idx].mean(axis=1)
    np.testing.assert_allclose(stats.weighted_mean(values, w), expected)
    lo, hi = stats.percentile_ci(stats.weighted_mean(values, w), level=0.9)
    np.testing.assert_allclose([lo, hi], np.percentile(expected, [5, 95]))


def test_weights_are_multiplicities() -> None:
    w = stats.bootstrap_weights(6, n_boot=50, seed=1)
    assert w.shape == (50, 6)
    assert (w.sum(axis=1) == 6).all()
    assert not np.array_equal(w[0], w[1])
    np.testing.assert_array_equal(w, stats.bootstrap_weights(6, n_boot=50, seed=1))


def test_weighted_mean_of_a_matrix_keeps_leading_axes() -> None:
    values = np.arange(12.0).reshape(3, 4)
    w = stats.bootstrap_weights(4, n_boot=5, seed=0)
    out = stats.weighted_mean(values, w)
    assert out.shape == (5, 3)
    np.testing.assert_allclose(out[:, 1], stats.weighted_mean(values[1], w))


@pytest.mark.parametrize("b, c", [(0, 0), (0, 1), (1, 0), (3, 3), (8, 1), (1, 12), (40, 25)])
def test_mcnemar_equals_binomtest(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert stats.mcnemar_pvalue(b, c) == expected


def test_mcnemar_vectorised_and_counts() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((6, 40)) < 0.7
    bb = rng.random((6, 40)) < 0.6
    b, c = stats.mcnemar_counts(a, bb)
    assert b.tolist() == [int((a[i] & ~bb[i]).sum()) for i in range(6)]
    p = stats.mcnemar_pvalue(b, c)
    assert p.shape == (6,)
    for i in range(6):
        n = int(b[i] + c[i])
        assert p[i] == (binomtest(int(b[i]), n, 0.5).pvalue if n else 1.0)


def test_holm_hand_computed() -> None:
    # m = 4: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.04*1, 0.06) = 0.06
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])
    out = stats.holm([0.02, np.nan, 0.01])
    assert np.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.02])


def test_bad_inputs_raise() -> None:
    with pytest.raises(MnistlabError, match="n_boot"):
        stats.bootstrap_weights(4, n_boot=0)
    with pytest.raises(MnistlabError, match="p-values"):
        stats.holm([1.5])
    with pytest.raises(MnistlabError, match="level"):
        stats.percentile_ci([1.0, 2.0], level=1.0)
    with pytest.raises(MnistlabError, match="shape"):
        stats.mcnemar_counts([1, 0], [1, 0, 1])
