"""Active learning: one-shot and iterative protocols with a fast trainer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import active


class _Centroids:
    def __init__(self, images: np.ndarray, labels: np.ndarray):
        x = images.reshape(len(images), -1) / 255.0
        self.means = np.stack([x[labels == c].mean(0) for c in range(10)])

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        x = images.reshape(len(images), -1) / 255.0
        d = ((x[:, None, :] - self.means[None]) ** 2).sum(-1)
        z = np.exp(-(d - d.min(1, keepdims=True)))
        return z / z.sum(1, keepdims=True)


def _centroid_trainer(images: np.ndarray, labels: np.ndarray, seed: int) -> _Centroids:
    return _Centroids(images, labels)


@pytest.fixture(scope="module")
def data(fashion_train, fashion_test):
    return (
        fashion_train.images[:1000],
        fashion_train.labels[:1000],
        fashion_test.images[:400],
        fashion_test.labels[:400],
    )


def test_one_shot_protocol(data) -> None:
    tx, ty, px, py = data
    res = active.one_shot(
        tx,
        ty,
        px,
        py,
        methods=("gini", "entropy"),
        budget=50,
        seeds=(0, 1, 2),
        trainer=_centroid_trainer,
        progress=False,
    )
    assert len(res) == 9 and set(res["method"]) == {"gini", "entropy", "random"}
    assert res["acc_second_half"].between(0.3, 1).all()
    # a hardness score picks more of the base model's mistakes than random does
    picked = res.groupby("method")["faults_picked"].mean()
    assert picked["gini"] > picked["random"]
    summary = active.summarize(res)
    row = summary.set_index("method").loc["random"]
    assert row["gain_over_random"] == 0 and row["seeds"] == 3
    assert np.isfinite(summary["ci_low"]).all()


def test_iterative_protocol(data) -> None:
    tx, ty, px, py = data
    res = active.iterative(
        tx,
        ty,
        px,
        py,
        methods=("gini",),
        budget_per_round=30,
        rounds=2,
        seeds=(0, 1),
        trainer=_centroid_trainer,
        progress=False,
    )
    assert set(res["round"]) == {0, 1, 2}
    assert res.groupby(["seed", "method"])["added"].max().eq(60).all()
    # the same picks, the same models: deterministic given the seeds
    again = active.iterative(
        tx,
        ty,
        px,
        py,
        methods=("gini",),
        budget_per_round=30,
        rounds=2,
        seeds=(0, 1),
        trainer=_centroid_trainer,
        progress=False,
    )
    pd.testing.assert_frame_equal(res, again)


def test_active_errors(data) -> None:
    tx, ty, px, py = data
    kw = {"trainer": _centroid_trainer, "progress": False}
    with pytest.raises(MnistlabError, match="budget"):
        active.one_shot(tx, ty, px, py, budget=1000, **kw)
    with pytest.raises(MnistlabError, match="unknown score"):
        active.one_shot(tx, ty, px, py, methods=("nope",), budget=10, **kw)
    with pytest.raises(MnistlabError, match="seeds"):
        active.one_shot(tx, ty, px, py, budget=10, seeds=(), **kw)
    with pytest.raises(MnistlabError, match="train:"):
        active.one_shot(tx, ty[:5], px, py, budget=10, **kw)
    with pytest.raises(MnistlabError, match="pool:"):
        active.one_shot(tx, ty, px, py[:5], budget=10, **kw)
    with pytest.raises(MnistlabError, match="train_subset"):
        active.one_shot(tx, ty, px, py, budget=10, train_subset=0, **kw)
    with pytest.raises(MnistlabError, match="rounds"):
        active.iterative(tx, ty, px, py, rounds=0, **kw)
    with pytest.raises(MnistlabError, match="exceeds half"):
        active.iterative(tx, ty, px, py, budget_per_round=150, rounds=2, **kw)
    with pytest.raises(MnistlabError, match="random"):
        active.summarize(pd.DataFrame({"method": ["gini"], "seed": [0], "acc_second_half": [1]}))


def test_mean_ci() -> None:
    m, _lo, hi = active.mean_ci(np.array([1.0, 2.0, 3.0]))
    assert m == 2.0
    assert hi - m == pytest.approx(4.302652729911275 * 1.0 / np.sqrt(3))
    assert np.isnan(active.mean_ci(np.array([1.0]))[1])
