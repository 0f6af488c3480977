"""Active learning: one-shot and iterative protocols with a fast trainer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.scores._helpers import centroid_trainer, iterative, one_shot

from mnistlab.errors import MnistlabError
from mnistlab.scores import active


def test_one_shot_protocol(active_data) -> None:
    res = one_shot(active_data, methods=("gini", "entropy"), budget=50, seeds=(0, 1, 2))
    assert len(res) == 9 and set(res["method"]) == {"gini", "entropy", "random"}
    assert res["acc_second_half"].between(0.3, 1).all()
    # a hardness score picks more of the base model's mistakes than random does
    picked = res.groupby("method")["faults_picked"].mean()
    assert picked["gini"] > picked["random"]
    summary = active.summarize(res)
    row = summary.set_index("method").loc["random"]
    assert row["gain_over_random"] == 0 and row["seeds"] == 3
    assert np.isfinite(summary["ci_low"]).all()


def test_iterative_protocol(active_data) -> None:
    protocol = {"methods": ("gini",), "budget_per_round": 30, "rounds": 2, "seeds": (0, 1)}
    res = iterative(active_data, **protocol)
    assert set(res["round"]) == {0, 1, 2}
    assert res.groupby(["seed", "method"])["added"].max().eq(60).all()
    # the same picks, the same models: deterministic given the seeds
    pd.testing.assert_frame_equal(res, iterative(active_data, **protocol))


def test_active_errors(active_data) -> None:
    tx, ty, px, py = active_data
    kw = {"trainer": centroid_trainer, "progress": False}
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
