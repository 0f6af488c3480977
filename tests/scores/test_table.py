"""Scores over a predictions table and the prioritisation table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import table as t
from mnistlab.scores.uncertainty import entropy, softmax


def test_score_table_columns_and_values(preds_table: pd.DataFrame) -> None:
    out = t.score_table(preds_table, ["entropy", "gini", "mistakenness", "uniqueness"])
    assert len(out) == len(preds_table)
    for col in (
        "sample_id",
        "variant",
        "model",
        "label",
        "pred",
        "correct",
        "entropy",
        "mistakenness",
        "uniqueness",
    ):
        assert col in out.columns
    probs = preds_table[[f"prob_{k}" for k in range(10)]].to_numpy(np.float64)
    np.testing.assert_allclose(
        out["entropy"], entropy(probs / probs.sum(1, keepdims=True)), atol=1e-5
    )
    assert (out["correct"] == (preds_table["pred"] == preds_table["label"])).all()
    for _, g in out.groupby("variant"):  # uniqueness is scaled within each variant
        assert g["uniqueness"].max() == pytest.approx(1.0)


def test_score_table_from_logits_only_and_default_methods() -> None:
    logits = np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 3.0]])
    table = pd.DataFrame(
        {
            "sample_id": [0, 1, 2],
            "label": [0, 1, 0],
            "logit_0": logits[:, 0],
            "logit_1": logits[:, 1],
        }
    )
    out = t.score_table(table)
    assert list(out["variant"]) == ["clean"] * 3
    assert set(t.DEFAULT_METHODS) <= set(out.columns)
    np.testing.assert_allclose(out["max_softmax"], 1 - softmax(logits).max(axis=1))
    assert out["pred"].tolist() == [0, 0, 1]


def test_parse_methods() -> None:
    assert t.parse_methods(None) == list(t.DEFAULT_METHODS)
    assert t.parse_methods(["all"]) == list(t.TABLE_METHODS)
    assert t.parse_methods(["gini", "gini"]) == ["gini"]
    with pytest.raises(MnistlabError, match="unknown score 'foo'"):
        t.parse_methods(["foo"])
    with pytest.raises(MnistlabError, match="no score"):
        t.parse_methods([])


def test_bad_tables(tmp_path) -> None:
    with pytest.raises(MnistlabError, match="sample_id"):
        t.score_table(pd.DataFrame({"label": [0]}))
    with pytest.raises(MnistlabError, match="prob_0"):
        t.score_table(pd.DataFrame({"sample_id": [0], "label": [0]}))
    with pytest.raises(MnistlabError, match="no such"):
        t.read_preds(str(tmp_path / "missing.parquet"))
    with pytest.raises(MnistlabError, match="prob_0"):
        t.probs_of(pd.DataFrame({"a": [1]}))


def test_read_preds_csv(tmp_path, preds_table: pd.DataFrame) -> None:
    path = tmp_path / "p.csv"
    preds_table.head(10).to_csv(path, index=False)
    assert len(t.read_preds(str(path))) == 10


def test_prioritization_table(preds_table: pd.DataFrame) -> None:
    scores = t.score_table(preds_table, ["entropy", "gini", "margin", "mistakenness"])
    prio = t.prioritization_table(scores, k=(10,))
    assert list(prio.columns[:8]) == [
        "variant",
        "score",
        "n",
        "faults",
        "accuracy",
        "apfd",
        "auroc",
        "aupr",
    ]
    assert prio["variant"].iloc[0] == "clean"
    assert set(prio["variant"]) == {"clean", "gaussian_noise-s2", "gaussian_noise-s4", "all"}
    assert set(prio["score"]) == {"entropy", "gini", "margin", "random"}  # label-aware dropped
    real = prio[prio["score"] != "random"]
    assert (real["apfd"] > 0.6).all() and (real["auroc"] > 0.65).all()
    rand = prio[prio["score"] == "random"]
    assert (rand["auroc"] - 0.5).abs().max() < 0.2
    acc = prio.groupby("variant")["accuracy"].first()
    assert acc["clean"] > acc["gaussian_noise-s4"]
    only = t.prioritization_table(scores, methods=["gini"], pooled=False)
    assert set(only["score"]) == {"gini", "random"} and "all" not in set(only["variant"])
    with pytest.raises(MnistlabError, match="no column 'x'"):
        t.prioritization_table(scores, methods=["x"])
    with pytest.raises(MnistlabError, match="correct"):
        t.prioritization_table(scores.drop(columns="correct"))
