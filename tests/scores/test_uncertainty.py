"""Probability scores, mistakenness, knn distance, variation ratio, ensemble disagreement.

Uniqueness (FiftyOne's) is tested in ``test_uniqueness.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import uncertainty as u

P = np.array(
    [
        [1.0, 0.0, 0.0],
        [1 / 3, 1 / 3, 1 / 3],
        [0.5, 0.3, 0.2],
        [0.1, 0.6, 0.3],
    ]
)


def test_entropy_hand_values() -> None:
    h = u.entropy(P)
    expected = [
        0.0,
        np.log(3),
        -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2)),
        -(0.1 * np.log(0.1) + 0.6 * np.log(0.6) + 0.3 * np.log(0.3)),
    ]
    np.testing.assert_allclose(h, expected, atol=1e-12)
    assert h.dtype == np.float64
    assert h[2] == pytest.approx(1.0296530140645737)


def test_gini_softmax_margin_least_confidence_hand_values() -> None:
    np.testing.assert_allclose(u.gini(P), [0.0, 2 / 3, 1 - 0.38, 1 - 0.46], atol=1e-12)
    np.testing.assert_allclose(u.max_softmax(P), [0.0, 2 / 3, 0.5, 0.4], atol=1e-12)
    np.testing.assert_allclose(u.margin(P), [0.0, 1.0, 0.8, 0.7], atol=1e-12)
    np.testing.assert_allclose(u.least_confidence(P), [0.0, 1.0, 0.75, 0.6], atol=1e-12)


def test_ranges_on_random_probabilities() -> None:
    rng = np.random.default_rng(0)
    p = u.softmax(rng.normal(scale=3, size=(500, 10)))
    c = p.shape[1]
    bounds = {
        "entropy": np.log(c),
        "gini": 1 - 1 / c,
        "max_softmax": 1 - 1 / c,
        "margin": 1.0,
        "least_confidence": 1.0,
    }
    for name, hi in bounds.items():
        s = u.SCORES[name](p)
        assert s.shape == (500,)
        assert s.min() >= 0 and s.max() <= hi + 1e-12, name


def test_registry_and_score_by_name() -> None:
    assert set(u.SCORES) == {"entropy", "gini", "max_softmax", "margin", "least_confidence"}
    np.testing.assert_array_equal(u.score(P, "gini"), u.gini(P))
    with pytest.raises(MnistlabError, match="unknown score 'nope'"):
        u.score(P, "nope")


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.ones(3), "expected shape"),
        (np.array([[0.5, 0.6]]), "sums to"),
        (np.array([[np.nan, 1.0]]), "NaN"),
        (np.array([[1.5, -0.5]]), r"\[0, 1\]"),
    ],
)
def test_bad_probabilities(bad: np.ndarray, match: str) -> None:
    with pytest.raises(MnistlabError, match=match):
        u.gini(bad)


def test_softmax_stable_and_empty() -> None:
    p = u.softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])
    assert u.entropy(np.zeros((0, 3))).shape == (0,)


def test_mistakenness_hand_values() -> None:
    probs = np.array([[0.5, 0.5], [1.0, 0.0], [1.0, 0.0], [0.9, 0.1]])
    labels = np.array([0, 1, 0, 1])
    h = u.entropy(probs)
    expected = [
        (-np.exp(-np.log(2)) + 1) / 2,  # argmax 0 == label: m = -1 -> 0.25
        1.0,  # confident and wrong
        0.0,  # confident and right
        (np.exp(-h[3]) + 1) / 2,
    ]
    np.testing.assert_allclose(u.mistakenness(probs, labels), expected)
    assert u.mistakenness(probs, labels)[0] == pytest.approx(0.25)
    # an explicit prediction overrides argmax
    assert u.mistakenness(probs[:1], np.array([0]), pred=np.array([1]))[0] == pytest.approx(0.75)
    with pytest.raises(MnistlabError, match="labels"):
        u.mistakenness(probs, labels[:2])
    with pytest.raises(MnistlabError, match="pred"):
        u.mistakenness(probs, labels, pred=np.array([0]))


def test_knn_distance_hand_values() -> None:
    x = np.array([[0.0], [1.0], [2.0], [10.0]])
    raw = np.array(
        [
            0.6 * 1 + 0.3 * 2 + 0.1 * 10,
            0.6 + 0.3 + 0.1 * 9,
            0.6 + 0.3 * 2 + 0.8,
            0.6 * 8 + 0.3 * 9 + 0.1 * 10,
        ]
    )
    np.testing.assert_allclose(u.knn_distance(x), raw / raw.max())
    assert u.knn_distance(x).max() == 1.0


def test_knn_distance_duplicates_and_errors() -> None:
    assert np.all(u.knn_distance(np.zeros((5, 2))) == 0)
    dup = np.array([[0.0, 0], [0, 0], [3, 4], [3, 4], [3, 4]])
    s = u.knn_distance(dup)
    assert s.shape == (5,) and np.isfinite(s).all()
    with pytest.raises(MnistlabError, match="more than 3"):
        u.knn_distance(np.zeros((3, 2)))
    with pytest.raises(MnistlabError, match="NaN"):
        u.knn_distance(np.full((5, 2), np.nan))
    with pytest.raises(MnistlabError, match="expected shape"):
        u.knn_distance(np.zeros((5, 2, 2)))
    with pytest.raises(MnistlabError, match="metric"):
        u.knn_distance(np.zeros((5, 2)), metric="manhattan")
    np.testing.assert_allclose(
        u.knn_distance(np.array([0.0, 1, 2, 10])), u.knn_distance(np.array([[0.0], [1], [2], [10]]))
    )


def test_variation_ratio_hand_values() -> None:
    t, n, c = 5, 3, 4
    passes = np.zeros((t, n, c))
    passes[:, 0, 2] = 1  # unanimous
    for i, cls in enumerate([0, 0, 1, 2, 0]):
        passes[i, 1, cls] = 1  # mode 0 with 3 of 5 votes
    for i in range(t):
        passes[i, 2, i % c] = 1  # votes 0,1,2,3,0
    np.testing.assert_allclose(u.variation_ratio(passes), [0.0, 0.4, 0.6])
    with pytest.raises(MnistlabError, match=r"\(T, N, C\)"):
        u.variation_ratio(np.zeros((3, 4)))
    with pytest.raises(MnistlabError, match="NaN"):
        u.variation_ratio(np.full((2, 1, 2), np.nan))


def test_ensemble_disagreement_reaches_one_on_a_compromise() -> None:
    # Each member ranks its own class first and class 1 second; the mean favours class 1.
    members = np.array([[[0.45, 0.40, 0.15]], [[0.15, 0.40, 0.45]]])
    np.testing.assert_array_equal(u.ensemble_disagreement(members), [1.0])


def test_ensemble_disagreement_probs_and_logits() -> None:
    probs = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.8, 0.2], [0.4, 0.6]], [[0.3, 0.7], [0.6, 0.4]]])
    np.testing.assert_allclose(u.ensemble_disagreement(probs), [1 / 3, 1 / 3])
    logits = np.log(probs) + 5.0  # not probabilities: softmax is applied per member
    np.testing.assert_allclose(u.ensemble_disagreement(logits), [1 / 3, 1 / 3])
    same = np.repeat(probs[:1], 4, axis=0)
    np.testing.assert_array_equal(u.ensemble_disagreement(same), [0.0, 0.0])


def test_score_all_matches_single_scores_across_chunks() -> None:
    rng = np.random.default_rng(5)
    p = u.softmax(rng.normal(scale=2, size=(40000, 7)))  # more rows than one chunk
    out = u.score_all(p)
    assert list(out) == list(u.SCORES)
    top = np.sort(p, axis=1)
    np.testing.assert_allclose(out["margin"], 1 - (top[:, -1] - top[:, -2]), atol=1e-12)
    np.testing.assert_allclose(out["gini"], 1 - (p**2).sum(1), atol=1e-12)
    np.testing.assert_allclose(out["entropy"], -(p * np.log(p)).sum(1), atol=1e-10)
    assert set(u.score_all(p[:3], ["gini"])) == {"gini"}
    with pytest.raises(MnistlabError, match="unknown score"):
        u.score_all(p, ["bad"])


def test_margin_with_tied_top_classes() -> None:
    np.testing.assert_allclose(u.margin(np.array([[0.4, 0.4, 0.2]])), [1.0])
