"""MIG, partial correlations and Spearman matrices against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.metrics import mutual_info_score

from mnistlab.errors import MnistlabError
from mnistlab.represent.disentangle import discretize, mig, partial_correlations, spearman


def plug_in_mi(a: np.ndarray, b: np.ndarray) -> float:
    """Discrete mutual information (nats) from the joint histogram, written out."""
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    joint = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(joint, (ia, ib), 1.0)
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float((p[nz] * np.log(p[nz] / (pa @ pb)[nz])).sum())


def test_discretize_is_digitize_on_the_histogram_edges() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=300)
    edges = np.histogram_bin_edges(v, 20)
    np.testing.assert_array_equal(discretize(v), np.digitize(v, edges[:-1]))
    assert discretize(v).min() == 1 and discretize(v).max() == 20
    np.testing.assert_array_equal(
        discretize(v, "auto"), np.digitize(v, np.histogram_bin_edges(v, "auto")[:-1])
    )


def test_mig_equals_a_reference_computation() -> None:
    rng = np.random.default_rng(1)
    factors = rng.normal(size=(500, 3))
    codes = np.column_stack(
        [
            factors[:, 0] + 0.3 * rng.normal(size=500),
            rng.normal(size=500),
            factors[:, 2] ** 2,
            factors[:, 1] - factors[:, 2],
        ]
    )
    res = mig(codes, factors, bins=10)
    dc = [discretize(c, 10) for c in codes.T]
    df = [discretize(f, 10) for f in factors.T]
    mi = np.array([[plug_in_mi(c, f) for f in df] for c in dc])
    h = np.array([plug_in_mi(f, f) for f in df])
    np.testing.assert_allclose(res.mi, mi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.entropy, h, rtol=1e-12)
    top = np.sort(mi, axis=0)[::-1]
    np.testing.assert_allclose(res.gaps, (top[0] - top[1]) / h, rtol=1e-10)
    assert res.score == pytest.approx(np.mean((top[0] - top[1]) / h), rel=1e-10)
    np.testing.assert_array_equal(res.best_code, mi.argmax(axis=0))
    assert res.mi.shape == (4, 3)


def test_mig_is_one_for_copies_and_near_zero_for_noise() -> None:
    rng = np.random.default_rng(2)
    n = 50_000
    factors = rng.normal(size=(n, 2))
    constant = np.zeros((n, 1))
    exact = mig(np.column_stack([constant, factors[:, 1]]), factors[:, 1:])
    assert exact.score == pytest.approx(1.0, abs=1e-12)
    assert exact.best_code.tolist() == [1]
    both = mig(np.column_stack([factors[:, 1], constant, factors[:, 0]]), factors)
    assert both.best_code.tolist() == [2, 0]
    assert both.score > 0.995  # the other factor's copy carries the plug-in bias only
    noisy = mig(np.column_stack([factors, rng.normal(size=(n, 3))]), factors)
    assert noisy.score > 0.99  # noise codes carry only the plug-in bias, ~0.004 nats
    noise = mig(rng.normal(size=(n, 4)), factors)
    assert noise.score < 0.01


def test_integer_columns_are_used_as_they_are() -> None:
    rng = np.random.default_rng(3)
    label = rng.integers(0, 10, size=2000)  # e.g. a categorical code
    cont = rng.normal(size=2000)
    factors = np.column_stack([label + 0.1 * rng.normal(size=2000), cont])
    codes = pd.DataFrame({"cat": label, "z": cont + 0.01 * rng.normal(size=2000)})
    res = mig(codes, factors)
    assert res.mi[0, 0] == pytest.approx(
        mutual_info_score(discretize(factors[:, 0]), label), rel=1e-12
    )
    # forcing the integer code through the bins changes its values, not its information
    forced = mig(codes, factors, discrete_codes=[False, False])
    assert forced.mi[0, 0] == pytest.approx(
        mutual_info_score(discretize(factors[:, 0]), discretize(label)), rel=1e-12
    )
    # an integer array keeps every column discrete
    ints = mig(np.column_stack([label, label // 2]), label[:, None])
    assert ints.entropy[0] == pytest.approx(mutual_info_score(label, label))
    assert ints.score == pytest.approx(1 - mutual_info_score(label, label // 2) / ints.entropy[0])
    flagged = mig(codes.to_numpy(), factors, discrete_codes=[True, False])
    np.testing.assert_allclose(flagged.mi, res.mi, rtol=1e-12)


def test_mig_refuses_bad_inputs() -> None:
    rng = np.random.default_rng(4)
    codes, factors = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    constant = factors.copy()
    constant[:, 1] = 4.0
    cases = [
        (lambda: mig(codes[:, :1], factors), "codes needs at least 2 columns"),
        (lambda: mig(codes[:40], factors), "same rows, got 40 and 50"),
        (lambda: mig(codes, constant), "factors column 1 is constant"),
        (lambda: mig(codes, factors, bins=0), "bins must be at least 1"),
        (lambda: mig(codes, factors, bins="many"), "bins must be a count or one of"),
        (lambda: mig(codes, factors, discrete_codes=[True]), "expected 1 or 3 flags"),
        (lambda: mig(np.where(codes > 2, np.nan, codes), factors), "codes contains NaN"),
        (lambda: mig(pd.DataFrame({"s": ["a"] * 50, "t": 1}), factors), "column 's' is not"),
    ]
    for call, message in cases:
        with pytest.raises(MnistlabError, match=message):
            call()


def residual_partial_correlation(codes: np.ndarray, f: np.ndarray, c: int) -> float:
    """corr(residual of f, residual of code c), both regressed on the other codes + 1."""
    others = np.column_stack([np.delete(codes, c, axis=1), np.ones(len(f))])
    res = lambda v: v - others @ np.linalg.lstsq(others, v, rcond=None)[0]  # noqa: E731
    return float(np.corrcoef(res(f), res(codes[:, c]))[0, 1])


def test_partial_correlations_equal_residual_correlations() -> None:
    rng = np.random.default_rng(5)
    codes = rng.normal(size=(300, 4)) + 3.0  # not centred: the function centres
    codes[:, 1] += 0.5 * codes[:, 0]
    factors = np.column_stack(
        [
            2 * codes[:, 0] - codes[:, 2] + rng.normal(size=300),
            rng.normal(size=300),
        ]
    )
    got = partial_correlations(codes, factors)
    assert got.shape == (2, 4)  # rows are factors, columns codes
    for j in range(2):
        for c in range(4):
            want = residual_partial_correlation(codes, factors[:, j], c)
            assert got[j, c] == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_partial_correlations_follow_the_precision_matrix_formula() -> None:
    rng = np.random.default_rng(6)
    codes, factors = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    v = np.column_stack([factors[:, 0], codes])
    v -= v.mean(axis=0)
    p = np.linalg.inv(v.T @ v)
    want = [-p[0, c] / np.sqrt(p[0, 0] * p[c, c]) for c in (1, 2)]
    np.testing.assert_allclose(partial_correlations(codes, factors)[0], want, rtol=1e-12)


def test_partial_correlations_refuse_dependent_codes() -> None:
    rng = np.random.default_rng(7)
    codes = rng.normal(size=(30, 2))
    codes = np.column_stack([codes, codes[:, 0] + codes[:, 1]])
    with pytest.raises(MnistlabError, match="linearly dependent"):
        partial_correlations(codes, rng.normal(size=(30, 1)))
    with pytest.raises(MnistlabError, match="linearly dependent"):
        partial_correlations(codes[:, :2], 3.0 * codes[:, :1] - codes[:, 1:2])
    with pytest.raises(MnistlabError, match="codes column 1 is constant"):
        partial_correlations(np.column_stack([codes[:, 0], np.full(30, 2.0)]), codes[:, 1:2])
    with pytest.raises(MnistlabError, match="need more than 4 rows, got 4"):
        partial_correlations(rng.normal(size=(4, 3)), rng.normal(size=(4, 1)))


def test_spearman_is_codes_by_factors() -> None:
    rng = np.random.default_rng(8)
    codes, factors = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    codes[:, 0] = np.exp(factors[:, 1])  # monotone: rank correlation 1
    got = spearman(codes, factors)
    assert got.shape == (3, 2)
    for c in range(3):
        for f in range(2):
            assert got[c, f] == pytest.approx(spearmanr(codes[:, c], factors[:, f]).statistic)
    assert got[0, 1] == pytest.approx(1.0)
    one = spearman(codes[:, :1], factors[:, 1:])
    assert one.shape == (1, 1) and one[0, 0] == pytest.approx(1.0)
    dead = codes.copy()
    dead[:, 2] = 0.0  # a dead latent: NaN, not an error
    assert np.isnan(spearman(dead, factors)[2]).all()
    with pytest.raises(MnistlabError, match="same rows"):
        spearman(codes, factors[:10])


def test_real_morphometrics_as_factors(morpho_table: pd.DataFrame) -> None:
    factors = morpho_table[["thickness", "slant", "width"]].to_numpy()[:5000]
    rng = np.random.default_rng(9)
    codes = np.column_stack(
        [
            factors[:, 1] + 0.02 * rng.normal(size=5000),  # slant, nearly
            rng.normal(size=5000),
            factors[:, 0] * 0.5 + 1e-3 * rng.normal(size=5000),  # thickness, rescaled
        ]
    )
    res = mig(codes, factors)
    assert res.best_code[:2].tolist() == [2, 0]
    top = np.sort(res.mi[:, 0])
    assert res.gaps[0] == pytest.approx((top[-1] - top[-2]) / res.entropy[0])
    assert res.gaps[0] > 0.9 and res.gaps[1] > 0.5
    pc = partial_correlations(codes, factors)
    assert pc[0, 2] > 0.9999 and abs(pc[0, 1]) < 0.05
    assert pc[1, 0] > 0.9
