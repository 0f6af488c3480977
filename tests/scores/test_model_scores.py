"""Surprise adequacy over activation traces (arrays in, scores out; no model involved)."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import model_scores as ms
from mnistlab.scores.surprise import SURPRISE


def test_surprise_scores_on_traces() -> None:
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 2
    train = rng.normal(size=(200, 4)) + 3.0 * labels[:, None]
    near = train[:5] + 0.01
    far = np.full((5, 4), 12.0)
    out = ms.surprise_scores(train, labels, np.vstack([near, far]), np.r_[labels[:5], [1] * 5])
    assert list(out) == ["dsa", "lsa", "mahalanobis"]
    for kind, values in out.items():
        assert values.shape == (10,) and np.isfinite(values).all(), kind
        assert values[5:].min() > values[:5].max(), kind  # far from the training set: surprising
    # the same as fitting each score by hand
    ref = SURPRISE["lsa"]().fit(train, labels).score(far, np.ones(5, dtype=np.int64))
    np.testing.assert_allclose(
        ms.surprise_scores(train, labels, far, [1] * 5, ("lsa",))["lsa"], ref
    )


def test_surprise_scores_errors() -> None:
    train, labels = np.zeros((4, 2)), np.array([0, 0, 1, 1])
    with pytest.raises(MnistlabError, match="unknown surprise 'x'"):
        ms.surprise_scores(train, labels, train, labels, kinds=("x",))
    with pytest.raises(MnistlabError, match=r"pred: expected shape \(4,\)"):
        ms.surprise_scores(train, labels, train, labels[:3])
