"""Tables of the hard-sample analyses: per class, grids, morphometrics, corruptions."""

from __future__ import annotations

import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.run import parse_variant
from mnistlab.scores import analysis
from mnistlab.scores.table import score_table


def _family_of(corruption: str) -> str:
    return "clean" if corruption == "identity" else "noise"


_VOCABULARY = {"family_of": _family_of, "parse_variant": parse_variant}


def test_morpho_and_corruption_tables(preds_table: pd.DataFrame) -> None:
    scores = score_table(preds_table, ["entropy"])
    with pytest.raises(MnistlabError, match="sample_id"):
        analysis.morpho_correlations(scores, pd.DataFrame({"a": [1]}), "entropy")
    by_c, by_f = analysis.corruption_tables(scores, "entropy", **_VOCABULARY)
    clean = by_c[by_c["family"] == "clean"]
    assert clean["severity"].tolist() == [0] and clean["n"].tolist() == [200]
    # more noise, more errors
    noisy = by_c[by_c["corruption"] == "gaussian_noise"].sort_values("severity")
    assert noisy["accuracy"].is_monotonic_decreasing
    assert len(by_f) == 3


def test_corruption_tables_mixed_variant(preds_table: pd.DataFrame) -> None:
    # A Fashion-MNIST-C style variant: one name, a different corruption on each row.
    scores = score_table(preds_table, ["entropy"]).copy()
    noisy = scores["variant"] != "clean"
    scores.loc[noisy, "variant"] = "fmnist-c"
    by_c, _ = analysis.corruption_tables(scores, "entropy", **_VOCABULARY)
    assert set(by_c["corruption"]) == {"identity", "gaussian_noise"}
    assert by_c["n"].sum() == len(scores)
    scores = scores.drop(columns=["corruption", "severity"])
    with pytest.raises(MnistlabError, match="not a variant name: 'fmnist-c'"):
        analysis.corruption_tables(scores, "entropy", **_VOCABULARY)


def test_per_class_table_and_grid_samples(preds_table: pd.DataFrame) -> None:
    clean = score_table(preds_table[preds_table["variant"] == "clean"], ["entropy"])
    table = analysis.per_class_table(clean, "entropy", [f"c{i}" for i in range(10)])
    assert table["n"].sum() == 200 and table["name"].iloc[3] == "c3"
    assert table["accuracy"].between(0, 1).all() and set(table["score"]) == {"entropy"}
    samples = analysis.grid_samples(clean, "entropy", per_class=3)
    wrong = samples[samples["kind"] == "hardest_misclassified"]
    right = samples[samples["kind"] == "easiest_correct"]
    assert (wrong["label"] != wrong["pred"]).all() and (right["label"] == right["pred"]).all()
    assert samples.groupby(["kind", "label"]).size().max() <= 3
    for _, g in wrong.groupby("label"):
        assert g["entropy"].is_monotonic_decreasing and g["rank"].tolist() == list(
            range(1, len(g) + 1)
        )
    empty = analysis.grid_samples(clean.iloc[:0], "entropy")
    assert len(empty) == 0 and "kind" in empty.columns


def test_the_former_name_softmax_stands_for_max_softmax() -> None:
    from mnistlab.scores.table import parse_methods

    assert parse_methods(["softmax", "gini", "max_softmax"]) == ["max_softmax", "gini"]
    with pytest.raises(MnistlabError, match="unknown score 'softmaxx'"):
        parse_methods(["softmaxx"])
