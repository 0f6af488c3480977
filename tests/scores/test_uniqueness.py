"""``uniqueness`` is FiftyOne Brain's ``compute_uniqueness``, to 1e-9.

The reference below transcribes FiftyOne's steps one sample at a time, one pair at a time
(``fiftyone/brain/internal/core/uniqueness.py`` and the sklearn similarity backend,
``fiftyone/brain/internal/core/sklearn.py``):

- ``NeighborsHelper`` centres the embeddings (subtracts their mean);
- up to ``_MAX_PRECOMPUTE_DISTS = 15000`` embeddings it precomputes
  ``sklearn.metrics.pairwise_distances(centred, metric)`` (default metric ``"cosine"``),
  fills the diagonal with NaN and takes ``argsort(...)[:, :K + 1]`` (NaN sorts last, so these
  are the 4 nearest *other* samples); beyond, it fits ``NearestNeighbors`` on the centred
  embeddings (for cosine: scaled to unit length, Euclidean metric) and queries
  ``kneighbors(n_neighbors=4)`` without ``X`` (which leaves each sample's own match out);
- ``_compute_uniqueness`` takes ``np.mean(dists[:, 1:] * [0.6, 0.3, 0.1], axis=1)``, i.e.
  the 2nd, 3rd and 4th nearest other samples, and divides by the maximum; a set of at most
  ``K = 3`` samples scores 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from mnistlab.errors import MnistlabError
from mnistlab.scores import uncertainty as u

WEIGHTS = np.array([0.6, 0.3, 0.1])


def fiftyone_uniqueness(
    embeddings: np.ndarray, metric: str = "cosine", max_precompute: int = 15000
) -> np.ndarray:
    """Brute-force FiftyOne: plain loops over samples and pairs, no neighbour search."""
    x = np.array(embeddings, dtype=np.float64)
    n = len(x)
    if n <= 3:
        return np.ones(n)
    x = x - x.mean(axis=0, keepdims=True)
    graph = n > max_precompute
    if graph and metric == "cosine":  # the neighbours graph: unit vectors, Euclidean
        for i in range(n):
            norm = math.sqrt(float(x[i] @ x[i]))
            if norm > 0:
                x[i] = x[i] / norm
        metric = "euclidean"
    raw = np.empty(n)
    for i in range(n):
        dists = []
        for j in range(n):
            if j == i:
                continue
            if metric == "euclidean":
                diff = x[i] - x[j]
                dists.append(math.sqrt(float(diff @ diff)))
            else:  # sklearn's cosine_distances: zero vectors have similarity 0
                ni, nj = math.sqrt(float(x[i] @ x[i])), math.sqrt(float(x[j] @ x[j]))
                sim = float(x[i] @ x[j]) / (ni * nj) if ni > 0 and nj > 0 else 0.0
                dists.append(min(max(1.0 - sim, 0.0), 2.0))
        nearest = np.sort(dists)[:4]  # K + 1 = 4 nearest others
        raw[i] = np.mean(nearest[1:] * WEIGHTS)
    return raw / raw.max()


def _random(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # an offset mean and uneven scales: centring and direction both matter
    return rng.normal(size=(n, dim)) * rng.uniform(0.2, 3.0, size=dim) + 2.0


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("dim", [16, 24])  # the KD-tree search and the brute-force one
def test_uniqueness_equals_fiftyone_on_random_embeddings(metric: str, dim: int) -> None:
    x = _random(200, dim, seed=dim)
    got = u.uniqueness(x, metric=metric)
    np.testing.assert_allclose(got, fiftyone_uniqueness(x, metric), rtol=0, atol=1e-9)
    assert got.dtype == np.float64 and got.max() == 1.0 and got.min() > 0


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_uniqueness_equals_fiftyone_with_duplicates_and_zero_vectors(metric: str) -> None:
    rng = np.random.default_rng(5)
    half = rng.integers(-5, 6, size=(90, 8)).astype(np.float64)
    # +v and -v rows: the mean is exactly 0, so the two zero rows stay zero vectors after
    # centring (cosine distance 1 to everything); a duplicated pair, and a row five times
    # (its 2nd-4th nearest others are copies: score 0)
    x = np.vstack([half, -half, np.zeros((2, 8)), half[:1], -half[:1]])
    x = np.vstack([x, np.repeat(x[[3, 93]], 4, axis=0)])  # rows 3 and 93 five times each
    assert np.array_equal(x.mean(axis=0), np.zeros(8))
    got = u.uniqueness(x, metric=metric)
    np.testing.assert_allclose(got, fiftyone_uniqueness(x, metric), rtol=0, atol=1e-9)
    assert got[3] == 0.0 and got[93] == 0.0
    assert np.isfinite(got).all() and got.max() == 1.0


def test_uniqueness_equals_fiftyone_on_real_mnist(mnist_test) -> None:
    images = np.asarray(mnist_test.images[:200], dtype=np.float64) / 255.0
    pooled = images.reshape(200, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(200, 49)
    centred = pooled - pooled.mean(axis=0)
    pca10 = centred @ np.linalg.svd(centred, full_matrices=False)[2][:10].T
    for emb in (pooled, pca10):  # brute-force search (49-D) and KD-tree (10-D)
        for metric in ("cosine", "euclidean"):
            np.testing.assert_allclose(
                u.uniqueness(emb, metric=metric),
                fiftyone_uniqueness(emb, metric),
                rtol=0,
                atol=1e-9,
            )


def test_uniqueness_above_fiftyones_precompute_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _random(200, 6, seed=1)
    precomputed = u.uniqueness(x)
    euclidean = u.uniqueness(x, metric="euclidean")
    monkeypatch.setattr(u, "FIFTYONE_MAX_PRECOMPUTE", 150)
    graph = u.uniqueness(x)
    reference = fiftyone_uniqueness(x, "cosine", max_precompute=150)
    np.testing.assert_allclose(graph, reference, rtol=0, atol=1e-9)
    # cosine: the graph measures sqrt(2 (1 - cos)), another number, nearly the same order
    assert not np.allclose(graph, precomputed)
    assert spearmanr(graph, precomputed).statistic > 0.9
    # Euclidean: the same distances in both regimes
    np.testing.assert_allclose(u.uniqueness(x, metric="euclidean"), euclidean, atol=1e-12)


def test_uniqueness_by_hand_euclidean_line() -> None:
    x = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 20.0])
    # sorted distances to the others, 2nd-4th weighted 0.6/0.3/0.1 (the 1st is skipped)
    raw = np.array(
        [
            0.6 * 3 + 0.3 * 6 + 0.1 * 10,  # 0: others at 1, 3, 6, 10, 20
            0.6 * 2 + 0.3 * 5 + 0.1 * 9,  # 1: 1, 2, 5, 9, 19
            0.6 * 3 + 0.3 * 3 + 0.1 * 7,  # 3: 2, 3, 3, 7, 17
            0.6 * 4 + 0.3 * 5 + 0.1 * 6,  # 6: 3, 4, 5, 6, 14
            0.6 * 7 + 0.3 * 9 + 0.1 * 10,  # 10: 4, 7, 9, 10, 10
            0.6 * 14 + 0.3 * 17 + 0.1 * 19,  # 20: 10, 14, 17, 19, 20
        ]
    )
    got = u.uniqueness(x, metric="euclidean")
    np.testing.assert_allclose(got, raw / raw.max(), rtol=0, atol=1e-12)
    # knn_distance keeps the old definition: the 1st-3rd nearest
    old = np.array(
        [
            0.6 * 1 + 0.3 * 3 + 0.1 * 6,
            0.6 * 1 + 0.3 * 2 + 0.1 * 5,
            0.6 * 2 + 0.3 * 3 + 0.1 * 3,
            0.6 * 3 + 0.3 * 4 + 0.1 * 5,
            0.6 * 4 + 0.3 * 7 + 0.1 * 9,
            0.6 * 10 + 0.3 * 14 + 0.1 * 17,
        ]
    )
    np.testing.assert_allclose(u.knn_distance(x), old / old.max(), rtol=0, atol=1e-12)


def test_uniqueness_by_hand_cosine_and_centring() -> None:
    # Six 2-D points with mean 0 (so centring leaves them), at angles 0, 180, 90, 270, 45,
    # 225 degrees and assorted lengths: cosine distance is 1 - cos(angle between them).
    deg = np.array([0.0, 180.0, 90.0, 270.0, 45.0, 225.0])
    length = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
    x = np.c_[np.cos(np.radians(deg)), np.sin(np.radians(deg))] * length[:, None]
    assert np.abs(x.mean(axis=0)).max() < 1e-15
    dist = 1.0 - np.cos(np.radians(deg[:, None] - deg[None, :]))
    raw = np.array([np.mean(np.sort(np.delete(dist[i], i))[1:4] * WEIGHTS) for i in range(6)])
    got = u.uniqueness(x)
    np.testing.assert_allclose(got, raw / raw.max(), rtol=0, atol=1e-12)
    # The point at 0 degrees: others at 45 (skipped: the nearest), 90, 270, 225 degrees.
    by_hand = (0.6 * 1.0 + 0.3 * 1.0 + 0.1 * (1 + math.cos(math.radians(45)))) / 3
    assert got[0] == pytest.approx(by_hand / raw.max(), abs=1e-12)
    shift = np.array([5.0, -3.0])
    # Centred: moving the whole set changes nothing (the old, uncentred variant changes).
    np.testing.assert_allclose(u.uniqueness(x + shift), got, atol=1e-12)
    assert not np.allclose(
        u.knn_distance(x + shift, metric="cosine"), u.knn_distance(x, metric="cosine")
    )
    np.testing.assert_allclose(u.uniqueness(4.0 * x), got, atol=1e-12)


def test_uniqueness_is_permutation_equivariant_and_deterministic() -> None:
    x = _random(120, 10, seed=3)
    perm = np.random.default_rng(0).permutation(120)
    for metric in ("cosine", "euclidean"):
        got = u.uniqueness(x, metric=metric)
        np.testing.assert_allclose(u.uniqueness(x[perm], metric=metric), got[perm], atol=1e-12)
        assert np.array_equal(u.uniqueness(x, metric=metric), got)  # byte-identical


def test_uniqueness_small_and_degenerate_sets_like_fiftyone() -> None:
    assert u.uniqueness(np.zeros((0, 3))).shape == (0,)
    np.testing.assert_array_equal(u.uniqueness(np.eye(3)), np.ones(3))
    np.testing.assert_array_equal(u.uniqueness(np.array([1.0, 2.0])), np.ones(2))
    # four samples: FiftyOne's 4th "other" neighbour is the sample itself (NaN)
    assert np.isnan(u.uniqueness(np.eye(4))).all()
    same = np.ones((6, 3))
    # cosine: centred, every row is the zero vector, at cosine distance 1 from the others
    np.testing.assert_array_equal(u.uniqueness(same), np.ones(6))
    np.testing.assert_allclose(fiftyone_uniqueness(same), np.ones(6))
    # Euclidean: all distances 0; FiftyOne divides 0 by 0, mnistlab gives 0
    np.testing.assert_array_equal(u.uniqueness(same, metric="euclidean"), np.zeros(6))


def test_uniqueness_errors() -> None:
    with pytest.raises(MnistlabError, match="NaN"):
        u.uniqueness(np.full((6, 2), np.nan))
    with pytest.raises(MnistlabError, match="expected shape"):
        u.uniqueness(np.zeros((6, 2, 2)))
    with pytest.raises(MnistlabError, match="metric"):
        u.uniqueness(np.zeros((6, 2)), metric="manhattan")


def test_knn_distance_cosine_matches_a_brute_force_reference() -> None:
    # The old uniqueness, kept as knn_distance(metric="cosine"): 1st-3rd nearest, uncentred,
    # zero vectors at cosine distance 1 (two zero rows below).
    x = np.vstack([_random(80, 5, seed=7), np.zeros((2, 5))])
    for dim_x in (x, np.hstack([x, x, x, x])):  # KD-tree (5-D) and brute force (20-D)
        norms = np.linalg.norm(dim_x, axis=1)
        safe = np.where(norms > 0, norms, 1.0)
        sim = (dim_x / safe[:, None]) @ (dim_x / safe[:, None]).T
        dist = np.clip(1.0 - sim, 0.0, 2.0)
        raw = np.array([np.sort(np.delete(dist[i], i))[:3] @ WEIGHTS for i in range(len(dim_x))])
        got = u.knn_distance(dim_x, metric="cosine")
        np.testing.assert_allclose(got, raw / raw.max(), rtol=0, atol=1e-9)
