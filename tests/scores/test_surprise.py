"""Surprise adequacy on small synthetic activation sets with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from mnistlab.errors import MnistlabError
from mnistlab.scores import surprise as sa


def test_dsa_known_answer_1d() -> None:
    train = np.array([[0.0], [1.0], [5.0], [7.0]])
    labels = np.array([0, 0, 1, 1])
    test = np.array([[0.2], [6.5], [3.0], [1.0]])
    pred = np.array([0, 1, 0, 1])
    # x=0.2 (class 0): nearest class-0 AT is 0 (0.2 away); nearest other-class AT to 0 is 5.
    # x=6.5 (class 1): nearest class-1 is 7 (0.5); from 7 the nearest class-0 AT is 1 (6).
    # x=3.0 (class 0): nearest class-0 is 1 (2.0); from 1 the nearest class-1 is 5 (4).
    # x=1.0 predicted 1: nearest class-1 is 5 (4.0); from 5 the nearest class-0 is 1 (4).
    np.testing.assert_allclose(sa.dsa(train, labels, test, pred), [0.04, 0.5 / 6, 0.5, 1.0])


def test_dsa_2d_and_duplicates() -> None:
    train = np.array([[0.0, 0.0], [3.0, 4.0]])
    labels = np.array([0, 1])
    out = sa.dsa(train, labels, np.array([[0.0, 0.0], [0.0, 1.0]]), np.array([0, 0]))
    np.testing.assert_allclose(out, [0.0, 0.2])
    # identical traces in two classes: 0/0 is "no surprise"
    same = sa.dsa(np.zeros((2, 2)), labels, np.zeros((1, 2)), np.array([0]))
    assert same[0] == 0.0


def test_lsa_matches_scipy_gaussian_kde() -> None:
    rng = np.random.default_rng(1)
    mix = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.2], [0.0, 0.0, 2.0]])
    train = rng.normal(size=(300, 3)) @ mix
    test = rng.normal(size=(9, 3))
    ours = sa.lsa(train, np.zeros(300, dtype=int), test, np.zeros(9, dtype=int), ridge=0.0)
    np.testing.assert_allclose(ours, -gaussian_kde(train.T).logpdf(test.T), rtol=1e-8)


def test_lsa_is_per_class_and_orders_by_density() -> None:
    rng = np.random.default_rng(2)
    train = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(10, 1, (200, 2))])
    labels = np.repeat([0, 1], 200)
    test = np.array([[0.0, 0.0], [10.0, 10.0], [3.0, 3.0]])
    s = sa.lsa(train, labels, test, np.array([0, 1, 0]))
    assert s[2] > s[0] + 3  # far from class 0's mass
    assert abs(s[0] - s[1]) < 1.0  # each at the centre of its own class
    # judged against the wrong class, the centre of class 1 is very surprising
    assert sa.lsa(train, labels, test[1:2], np.array([0]))[0] > 20


def test_surprise_never_fails_on_constant_or_collinear_neurons() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=(100, 2))
    train = np.column_stack([base, np.ones(100), base[:, 0] * 2, np.zeros(100)])  # singular
    labels = np.repeat([0, 1], 50)
    test = np.column_stack([rng.normal(size=(5, 2)), np.ones(5), np.zeros(5), np.zeros(5)])
    pred = np.array([0, 1, 0, 1, 0])
    for s in (
        sa.lsa(train, labels, test, pred, n_neurons=None, var_threshold=-1.0),
        sa.lsa(train, labels, test, pred),
        sa.mahalanobis(train, labels, test, pred),
        sa.dsa(train, labels, test, pred),
    ):
        assert s.shape == (5,) and np.isfinite(s).all()
    # every neuron constant: still finite (the ridge makes the kernel proper)
    flat = np.ones((20, 3))
    s = sa.lsa(flat, np.zeros(20, dtype=int), np.ones((2, 3)), np.zeros(2, dtype=int))
    assert np.isfinite(s).all()
    assert np.isfinite(
        sa.mahalanobis(flat, np.zeros(20, dtype=int), np.ones((2, 3)), np.zeros(2, dtype=int))
    ).all()


def test_lsa_selects_highest_variance_neurons() -> None:
    rng = np.random.default_rng(4)
    train = np.column_stack([rng.normal(0, 5, 300), rng.normal(0, 0.01, 300)])
    est = sa.LSA(n_neurons=1).fit(train, np.zeros(300, dtype=int))
    np.testing.assert_array_equal(est.models_[0].neurons, [0])
    s = est.score(np.array([[0.0, 100.0], [0.0, -100.0]]), np.zeros(2, dtype=int))
    assert s[0] == pytest.approx(s[1])  # the low-variance neuron is ignored


def test_mahalanobis_hand_value() -> None:
    train = np.array([[-1.0, 0], [1, 0], [0, -1], [0, 1]])  # mean 0, covariance diag(2/3)
    out = sa.mahalanobis(
        train, np.zeros(4, dtype=int), np.array([[1.0, 1], [0, 0]]), np.array([0, 0]), ridge=0.0
    )
    np.testing.assert_allclose(out, [np.sqrt(3.0), 0.0])


def test_conv_traces_are_spatially_averaged() -> None:
    ats = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    np.testing.assert_allclose(sa.as_traces(ats), ats.mean(axis=(2, 3)))
    assert sa.as_traces(np.arange(3.0)).shape == (3, 1)


def test_surprise_errors() -> None:
    train, labels = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    with pytest.raises(MnistlabError, match="class 5"):
        sa.dsa(train, labels, np.zeros((1, 2)), np.array([5]))
    with pytest.raises(MnistlabError, match="at least 2 classes"):
        sa.DSA().fit(train, np.zeros(4, dtype=int))
    with pytest.raises(MnistlabError, match="fit"):
        sa.DSA().score(train, labels)
    with pytest.raises(MnistlabError, match="fit"):
        sa.LSA().score(train, labels)
    with pytest.raises(MnistlabError, match="neurons"):
        sa.LSA().fit(train, labels).score(np.zeros((1, 3)), np.array([0]))
    with pytest.raises(MnistlabError, match="neurons"):
        sa.DSA().fit(train, labels).score(np.zeros((1, 3)), np.array([0]))
    with pytest.raises(MnistlabError, match="n_neurons"):
        sa.LSA(n_neurons=0).fit(train, labels)
    with pytest.raises(MnistlabError, match="NaN"):
        sa.as_traces(np.full((2, 2), np.nan))
    with pytest.raises(MnistlabError, match="empty"):
        sa.as_traces(np.zeros((0, 2)))
    with pytest.raises(MnistlabError, match="train_labels"):
        sa.DSA().fit(train, np.zeros(3, dtype=int))
    with pytest.raises(MnistlabError, match="integer"):
        sa.DSA().fit(train, np.zeros(4))
    assert set(sa.SURPRISE) == {"dsa", "lsa", "mahalanobis"}
