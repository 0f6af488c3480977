"""MMD estimates and tests against hand and brute-force computations, and on real morphometrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import norm

from mnistlab.errors import MnistlabError
from mnistlab.represent import mmd
from mnistlab.represent.mmd import LinearMMD, mmd2, mmd_test, rbf_bandwidth


def k_rbf(a: np.ndarray, b: np.ndarray, s: np.ndarray | float) -> float:
    return math.exp(-0.5 * float((((a - b) / s) ** 2).sum()))


def brute_mmd2(x: np.ndarray, y: np.ndarray, s: np.ndarray | float, unbiased: bool) -> float:
    """The definitions of REPRESENT.md, one pair at a time."""
    m = len(x)
    pairs = [(i, j) for i in range(m) for j in range(m) if not (unbiased and i == j)]
    kxx = sum(k_rbf(x[i], x[j], s) for i, j in pairs) / len(pairs)
    kyy = sum(k_rbf(y[i], y[j], s) for i, j in pairs) / len(pairs)
    kxy = sum(k_rbf(x[i], y[j], s) for i in range(m) for j in range(m)) / m**2
    return kxx + kyy - 2 * kxy


def brute_linear(x: np.ndarray, y: np.ndarray, s: np.ndarray | float) -> tuple[float, float]:
    h = [
        k_rbf(x[2 * i], x[2 * i + 1], s)
        + k_rbf(y[2 * i], y[2 * i + 1], s)
        - k_rbf(x[2 * i], y[2 * i + 1], s)
        - k_rbf(x[2 * i + 1], y[2 * i], s)
        for i in range(len(x) // 2)
    ]
    return float(np.mean(h)), float(np.sqrt(np.var(h) / len(h)))


X3 = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
Y3 = np.array([[1.0, 1.0], [3.0, 0.0], [0.0, 3.0]])


def test_three_by_two_by_hand() -> None:
    # bandwidth 1: squared distances within x are 2, 5, 5; within y 5, 5, 18;
    # across (x_i, y_j): [1, 10, 4], [1, 4, 10], [2, 5, 5]
    e = np.exp
    kxx = 2 * (e(-1.0) + 2 * e(-2.5))
    kyy = 2 * (2 * e(-2.5) + e(-9.0))
    kxy = e(-0.5) + e(-5.0) + e(-2.0) + e(-0.5) + e(-2.0) + e(-5.0) + e(-1.0) + 2 * e(-2.5)
    unbiased = kxx / 6 + kyy / 6 - 2 * kxy / 9
    biased = (kxx + 3) / 9 + (kyy + 3) / 9 - 2 * kxy / 9
    assert mmd2(X3, Y3, bandwidth=1.0) == pytest.approx(unbiased, rel=1e-12)
    assert mmd2(X3, Y3, bandwidth=1.0, unbiased=False) == pytest.approx(biased, rel=1e-12)
    assert unbiased == pytest.approx(brute_mmd2(X3, Y3, 1.0, True), rel=1e-12)


def test_per_dimension_bandwidth_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 3)), rng.normal(0.5, 2.0, size=(9, 3))
    s = np.array([0.5, 1.0, 3.0])
    for unbiased in (True, False):
        got = mmd2(x, y, bandwidth=s, unbiased=unbiased, shuffle=False)
        assert got == pytest.approx(brute_mmd2(x, y, s, unbiased), rel=1e-12)
    # a scalar is the same bandwidth in every column
    assert mmd2(x, y, bandwidth=2.0) == pytest.approx(mmd2(x, y, bandwidth=np.full(3, 2.0)))


def test_linear_statistic_and_stderr_on_unshuffled_rows() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(11, 2)), rng.normal(size=(11, 2))  # 5 pairs, the last row unused
    est = mmd2(x, y, bandwidth=0.7, linear=True, shuffle=False)
    value, stderr = brute_linear(x, y, 0.7)
    assert isinstance(est, LinearMMD)
    assert est.pairs == 5
    assert est.value == pytest.approx(value, rel=1e-12)
    assert est.stderr == pytest.approx(stderr, rel=1e-12)
    assert float(est) == est.value


def test_shuffle_follows_the_morpho_mnist_code() -> None:
    # Morpho-MNIST: prng = RandomState(seed); x = prng.permutation(x)[:m]; y = ...[:m]
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 2)), rng.normal(size=(9, 2))
    prng = np.random.RandomState(5)
    xs, ys = prng.permutation(x)[:9], prng.permutation(y)[:9]
    s = 1.3
    assert mmd2(x, y, bandwidth=s, seed=5) == pytest.approx(brute_mmd2(xs, ys, s, True), 1e-12)
    lin = mmd2(x, y, bandwidth=s, seed=5, linear=True)
    assert (lin.value, lin.stderr) == pytest.approx(brute_linear(xs, ys, s), rel=1e-12)
    # unequal sizes without shuffling: the first m rows
    first = mmd2(x, y, bandwidth=s, shuffle=False)
    assert first == pytest.approx(brute_mmd2(x[:9], y, s, True), rel=1e-12)


def test_unbiased_statistic_does_not_depend_on_row_pairing() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    perm = rng.permutation(40)
    for unbiased in (True, False):
        a = mmd2(x, y, bandwidth=1.0, unbiased=unbiased, shuffle=False)
        b = mmd2(x, y[perm], bandwidth=1.0, unbiased=unbiased, shuffle=False)
        c = mmd2(x, y, bandwidth=1.0, unbiased=unbiased, seed=9)
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)
        assert a == pytest.approx(c, rel=1e-12, abs=1e-15)
    # the linear statistic pairs rows, so it does change
    la = mmd2(x, y, bandwidth=1.0, linear=True, shuffle=False)
    lb = mmd2(x, y[perm], bandwidth=1.0, linear=True, shuffle=False)
    assert la.value != lb.value


@pytest.mark.parametrize("compiled", [False, True])
def test_blocked_equals_dense(compiled: bool) -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(150, 5)), rng.normal(0.2, size=(130, 5))
    s = rbf_bandwidth(x, y)
    # the dense reference: full kernel matrices from cdist
    from scipy.spatial.distance import cdist

    prng = np.random.RandomState(0)
    xs, ys = prng.permutation(x)[:130], prng.permutation(y)[:130]
    kxx = np.exp(-0.5 * cdist(xs / s, xs / s, "sqeuclidean"))
    kyy = np.exp(-0.5 * cdist(ys / s, ys / s, "sqeuclidean"))
    kxy = np.exp(-0.5 * cdist(xs / s, ys / s, "sqeuclidean"))
    m = 130
    dense_u = (kxx.sum() - m + kyy.sum() - m) / (m * (m - 1)) - 2 * kxy.mean()
    dense_b = kxx.mean() + kyy.mean() - 2 * kxy.mean()
    for block_size in (3, 17, 4096):
        u = mmd2(x, y, block_size=block_size, compiled=compiled)
        b = mmd2(x, y, block_size=block_size, compiled=compiled, unbiased=False)
        assert u == pytest.approx(dense_u, rel=1e-10, abs=1e-14)
        assert b == pytest.approx(dense_b, rel=1e-10, abs=1e-14)


def test_polynomial_kernel_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    kern = lambda a, b: (a @ b / 3 + 1) ** 3  # noqa: E731
    kxx = sum(kern(x[i], x[j]) for i in range(8) for j in range(8) if i != j) / 56
    kyy = sum(kern(y[i], y[j]) for i in range(8) for j in range(8) if i != j) / 56
    kxy = sum(kern(x[i], y[j]) for i in range(8) for j in range(8)) / 64
    got = mmd2(x, y, kernel="polynomial", shuffle=False)
    assert got == pytest.approx(kxx + kyy - 2 * kxy, rel=1e-12)


def test_bandwidth_rules_equal_their_formulas() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(50, 3)) * [1, 2, 3], rng.normal(size=(80, 3))
    n, d = 50, 3
    scott = x.std(axis=0, ddof=1) * n ** (-1 / (d + 4))
    silverman = x.std(axis=0, ddof=1) * (n * (d + 2) / 4) ** (-1 / (d + 4))
    np.testing.assert_allclose(rbf_bandwidth(x), scott, rtol=1e-14)
    np.testing.assert_allclose(rbf_bandwidth(x, rule="silverman"), silverman, rtol=1e-14)
    scott_y = y.std(axis=0, ddof=1) * 80 ** (-1 / (d + 4))
    np.testing.assert_allclose(rbf_bandwidth(x, y), np.sqrt(scott**2 + scott_y**2), rtol=1e-14)
    median = np.median(pdist(np.concatenate([x, y])))
    np.testing.assert_allclose(rbf_bandwidth(x, y, "median"), np.full(3, median), rtol=1e-14)
    # mmd2 uses the rule on the whole inputs (the default is Scott's)
    s = rbf_bandwidth(x, y)
    assert mmd2(x, y) == mmd2(x, y, bandwidth=s)
    assert mmd2(x, y, bandwidth="median") == mmd2(x, y, bandwidth=np.full(3, median))


def test_median_rule_subsamples_large_inputs_deterministically() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2500, 2))
    a, b = rbf_bandwidth(x, rule="median"), rbf_bandwidth(x, rule="median")
    assert a.tobytes() == b.tobytes()
    assert a[0] == pytest.approx(np.median(pdist(x)), rel=0.05)
    assert rbf_bandwidth(x, rule="median", seed=1)[0] != a[0]


def test_permutation_null_equals_recomputed_statistics() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(15, 2)), rng.normal(0.3, size=(12, 2))
    res = mmd_test(x, y, permutations=30, seed=4)
    # redo the test by hand: same rows, bandwidth and permutation stream
    s = rbf_bandwidth(x, y)
    prng = np.random.RandomState(4)
    pooled = np.concatenate([prng.permutation(x)[:12], prng.permutation(y)[:12]])
    perm_rng = np.random.default_rng(np.random.SeedSequence(4, spawn_key=(1,)))
    expected = []
    for _ in range(30):
        p = perm_rng.permutation(24)
        expected.append(brute_mmd2(pooled[p[:12]], pooled[np.sort(p[12:])], s, True))
    np.testing.assert_allclose(res.null_distribution, expected, rtol=1e-9, atol=1e-12)
    observed = brute_mmd2(pooled[:12], pooled[12:], s, True)
    assert res.statistic == pytest.approx(observed, rel=1e-9)
    assert res.statistic == pytest.approx(mmd2(x, y, seed=4), rel=1e-12)
    count = int(np.sum(np.asarray(expected) >= observed))
    assert res.pvalue == (count + 1) / 31
    assert (res.m, res.permutations, res.estimator) == (12, 30, "unbiased")
    np.testing.assert_array_equal(res.bandwidth, s)


@pytest.mark.parametrize("unbiased", [True, False])
def test_blocked_permutation_test_equals_dense(
    monkeypatch: pytest.MonkeyPatch, unbiased: bool
) -> None:
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(70, 3)), rng.normal(0.2, size=(70, 3))
    dense = mmd_test(x, y, permutations=50, unbiased=unbiased)
    monkeypatch.setattr(mmd, "PERMUTATION_DENSE_MAX", 8)
    monkeypatch.setattr(mmd, "_BATCH_BYTES", 8 * 140 * 7)  # 7 splits per batch
    blocked = mmd_test(x, y, permutations=50, unbiased=unbiased, block_size=16)
    np.testing.assert_allclose(blocked.null_distribution, dense.null_distribution, rtol=1e-10)
    assert blocked.statistic == pytest.approx(dense.statistic, rel=1e-10)
    assert blocked.pvalue == dense.pvalue


def test_biased_and_unbiased_tests_agree_for_equal_sizes() -> None:
    # with a fixed pool, both statistics decrease with the cross sum: same ranks, same p
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(40, 2)), rng.normal(0.4, size=(40, 2))
    u = mmd_test(x, y, permutations=99)
    b = mmd_test(x, y, permutations=99, unbiased=False)
    assert u.pvalue == b.pvalue
    assert b.estimator == "biased"


def test_seeded_and_reproducible() -> None:
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(25, 2))
    a, b = mmd_test(x, y, permutations=40, seed=3), mmd_test(x, y, permutations=40, seed=3)
    assert a.null_distribution.tobytes() == b.null_distribution.tobytes()
    assert a.pvalue == b.pvalue
    c = mmd_test(x, y, permutations=40, seed=4)
    assert c.null_distribution.tobytes() != a.null_distribution.tobytes()
    assert mmd2(x, y, seed=3, linear=True) == mmd2(x, y, seed=3, linear=True)
    big = mmd2(x, y, seed=2**40, linear=True)  # seeds past RandomState's 2**32 work too
    assert big == mmd2(x, y, seed=2**40, linear=True)


def test_linear_test_is_one_sided_normal() -> None:
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(400, 2)), rng.normal(0.3, size=(400, 2))
    res = mmd_test(x, y, linear=True, seed=1)
    est = mmd2(x, y, linear=True, seed=1)
    assert res.statistic == est.value
    assert res.stderr == est.stderr
    assert res.pvalue == pytest.approx(norm.sf(est.value / est.stderr), rel=1e-12)
    assert (res.permutations, res.null_distribution, res.estimator) == (0, None, "linear")
    same = mmd_test(x, x, linear=True, shuffle=False)  # h = 0 for every pair: no evidence
    assert same.pvalue == 1.0


def test_type_one_error_near_five_percent() -> None:
    rng = np.random.default_rng(13)
    reps = 300
    rejected = 0
    for seed in range(reps):
        x, y = rng.normal(size=(25, 2)), rng.normal(size=(25, 2))
        rejected += mmd_test(x, y, permutations=99, seed=seed).pvalue <= 0.05
    # binomial(300, 0.05): mean 15, sd 3.8
    assert 5 <= rejected <= 27
    lin = sum(
        mmd_test(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)), linear=True).pvalue <= 0.05
        for _ in range(reps)
    )
    assert 3 <= lin <= 30  # the normal approximation is rough on 100 pairs


def test_power_against_a_small_shift() -> None:
    rng = np.random.default_rng(14)
    # a shift of half a standard deviation in one of two dimensions, 200 samples each
    shift = np.array([0.5, 0.0])
    rejected = sum(
        mmd_test(
            rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + shift, permutations=99
        ).pvalue
        <= 0.05
        for _ in range(30)
    )
    assert rejected >= 24


def test_bad_inputs_are_refused() -> None:
    x = np.zeros((5, 2)) + np.arange(5)[:, None]
    bad = x.copy()
    bad[2, 1] = np.nan
    cases = [
        (lambda: mmd2(bad, x), "x contains NaN"),
        (lambda: mmd2(x, bad), "y contains NaN"),
        (lambda: mmd2(x[:, 0], x), "x must be a 2-D array"),
        (lambda: mmd2(x, x[:, :1]), "same number of columns"),
        (lambda: mmd2(x[:1], x), "x needs at least 2 rows"),
        (lambda: mmd2(x, x, bandwidth=-1.0), "bandwidth must be positive"),
        (lambda: mmd2(x, x, bandwidth=[1.0]), r"bandwidth must have shape \(2,\)"),
        (lambda: mmd2(x, x, bandwidth=[1.0, 0.0]), "bandwidth must be positive"),
        (lambda: mmd2(x, x, bandwidth="scot"), "unknown bandwidth rule 'scot'"),
        (lambda: mmd2(x, x, bandwidth=True), "bandwidth must be a positive number"),
        (lambda: mmd2(x, x, kernel="gauss"), "unknown kernel 'gauss'"),
        (lambda: mmd2(x, x, kernel="polynomial", bandwidth=1.0), "rbf kernel only"),
        (lambda: mmd2(x, x, seed=-1), "seed must be a non-negative integer"),
        (lambda: mmd2(x, x, block_size=0), "block_size must be at least 1"),
        (lambda: mmd2(x, x, shuffle="yes"), "shuffle must be True or False"),
        (lambda: mmd_test(x[:3], x[:3], linear=True), "x needs at least 4 rows"),
        (lambda: mmd_test(x, x, permutations=0), "permutations must be at least 1"),
        (lambda: mmd2(np.ones((4, 2)), np.ones((4, 2))), "bandwidth 'scott' is 0 in column 0"),
        (lambda: mmd2(x.astype(complex), x), "x must hold real numbers"),
        (lambda: mmd2(pd.DataFrame({"a": ["p", "q"]}), x), "x: column 'a' is not numeric"),
    ]
    for call, message in cases:
        with pytest.raises(MnistlabError, match=message):
            call()


def test_dataframes_are_accepted() -> None:
    rng = np.random.default_rng(15)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
    fx, fy = pd.DataFrame(x, columns=["a", "b"]), pd.DataFrame(y, columns=["a", "b"])
    assert mmd2(fx, fy) == mmd2(x, y)


# ---------------------------------------------------------------- real morphometrics


METRICS = ["area", "length", "thickness", "slant", "width", "height"]


def _halves(table: pd.DataFrame, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves (``rows`` each) of the metric columns."""
    values = table[METRICS].to_numpy(dtype=np.float64)
    order = np.random.default_rng(0).permutation(len(values))[: 2 * rows]
    return values[order[:rows]], values[order[rows:]]


def test_halves_of_the_mnist_test_set_do_not_differ(morpho_table: pd.DataFrame) -> None:
    a, b = _halves(morpho_table, 1500)
    res = mmd_test(a, b, permutations=200)
    assert res.pvalue > 0.05
    assert res.statistic < np.quantile(res.null_distribution, 0.95)
    lin = mmd_test(*_halves(morpho_table, 5000), linear=True)
    assert lin.pvalue > 0.05


@pytest.mark.parametrize("change", ["scale", "shift"])
def test_changed_thickness_is_detected(morpho_table: pd.DataFrame, change: str) -> None:
    a, b = _halves(morpho_table, 1500)
    b = b.copy()
    col = METRICS.index("thickness")
    if change == "scale":
        b[:, col] *= 1.15
    else:
        b[:, col] += 0.25 * b[:, col].std()
    res = mmd_test(a, b, permutations=200)
    assert res.pvalue == 1 / 201  # no permutation reaches the observed statistic
    assert mmd2(*_halves(morpho_table, 1500)) < res.statistic / 10
