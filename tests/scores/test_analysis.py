"""Hard-sample analyses of a run directory and of a bare scores table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import analysis
from mnistlab.scores.table import score_table


@pytest.mark.slow
def test_analyze_run_writes_everything(run_dir: Path) -> None:
    paths = analysis.analyze_run(run_dir, "cnn", per_class=4)
    scores = pd.read_parquet(run_dir / "scores" / "cnn.parquet")
    assert {"sample_id", "variant", "entropy", "gini", "uniqueness", "mistakenness"} <= set(
        scores.columns
    )
    assert len(scores) == 600
    out = run_dir / "hardness" / "cnn"
    for name in (
        "prioritization.csv",
        "prioritization.md",
        "prioritization.parquet",
        "hist_correct_incorrect.png",
        "per_class.csv",
        "per_class.png",
        "grid_hardest_misclassified.png",
        "grid_easiest_correct.png",
        "grid_samples.csv",
        "morpho_spearman.csv",
        "morpho_binned.png",
        "by_corruption.csv",
        "by_family.csv",
        "hardness_vs_severity.png",
    ):
        assert (out / name).is_file(), name
    assert paths["prioritization"] == out / "prioritization.csv"
    prio = pd.read_csv(out / "prioritization.csv")
    assert "uniqueness" in set(prio["score"]) and "mistakenness" not in set(prio["score"])
    per_class = pd.read_csv(out / "per_class.csv")
    assert len(per_class) == 10 and per_class["name"].iloc[0] == "T-shirt/top"
    grid = pd.read_csv(out / "grid_samples.csv")
    wrong = grid[grid["kind"] == "hardest_misclassified"]
    assert (wrong["label"] != wrong["pred"]).all() and wrong.groupby("label").size().max() <= 4
    corr = pd.read_csv(out / "morpho_spearman.csv")
    assert set(corr["metric"]) == {"area", "mean_intensity"}  # the constant column is skipped
    assert corr["spearman_hardness"].between(-1, 1).all()
    by_f = pd.read_csv(out / "by_family.csv")
    assert set(by_f["severity"]) == {0, 2, 4}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["steps"]["scores:cnn"]["done"] and manifest["steps"]["hardness:cnn"]["done"]
    assert not list(run_dir.rglob("*.part"))


@pytest.mark.slow
def test_analyze_run_with_active_learning(run_dir: Path, monkeypatch) -> None:
    from mnistlab.data import load

    train = load("fashion-mnist", split="train", download=False)[:800]
    monkeypatch.setattr("mnistlab.data.load", lambda *a, **k: train)
    # variant images of the corrupted variants: only the clean ones exist without the generator
    monkeypatch.setattr(
        analysis,
        "_pool_from_run",
        lambda run, scores, seed: (
            np.load(run / "data" / "test_images.npy"),
            np.load(run / "data" / "test_labels.npy"),
        ),
    )
    paths = analysis.analyze_run(
        run_dir,
        "cnn",
        methods=["gini", "entropy"],
        active_learning=True,
        al_trainer="pca-logreg",
        al_budget=40,
        al_seeds=(0, 1),
        al_train_subset=400,
        al_rounds=2,
    )
    out = run_dir / "active_learning" / "cnn"
    for name in (
        "one_shot.csv",
        "one_shot_summary.csv",
        "one_shot_summary.md",
        "one_shot.png",
        "iterative.csv",
        "learning_curve.png",
    ):
        assert (out / name).is_file(), name
    assert paths["active_learning"] == out / "one_shot_summary.csv"
    summary = pd.read_csv(out / "one_shot_summary.csv")
    assert set(summary["method"]) == {"gini", "entropy", "random"}


def test_pool_from_run_uses_clean_when_alone(run_dir: Path) -> None:
    scores = pd.DataFrame({"variant": ["clean"], "sample_id": [0]})
    images, labels = analysis._pool_from_run(run_dir, scores, 0)
    assert images.shape == (200, 28, 28) and labels.shape == (200,)
    np.testing.assert_array_equal(images, np.load(run_dir / "data" / "test_images.npy"))


def test_analyze_table_without_images(tmp_path: Path, preds_table: pd.DataFrame) -> None:
    clean = preds_table[preds_table["variant"] == "clean"]
    scores = score_table(clean, ["margin"])
    paths = analysis.analyze_table(scores, tmp_path / "h", score="margin", k=(5,))
    assert "grids" not in paths and "by_corruption" not in paths
    assert (tmp_path / "h" / "hist_correct_incorrect.png").is_file()
    # a second call replaces the folder whole
    analysis.analyze_table(scores, tmp_path / "h", score="margin")
    assert not (tmp_path / ".h.old").exists()
    with pytest.raises(MnistlabError, match="no column 'entropy'"):
        analysis.analyze_table(scores, tmp_path / "x", score="entropy")
    with pytest.raises(MnistlabError, match="per_class"):
        analysis.analyze_table(scores, tmp_path / "x", score="margin", per_class=0)
    assert not (tmp_path / "x").exists()


def test_analyze_run_errors(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="no such run"):
        analysis.analyze_run(tmp_path / "nope")
    with pytest.raises(MnistlabError, match="no such table"):
        analysis.analyze_run(tmp_path)


def test_morpho_and_family_helpers(preds_table: pd.DataFrame) -> None:
    scores = score_table(preds_table, ["entropy"])
    with pytest.raises(MnistlabError, match="sample_id"):
        analysis.morpho_correlations(scores, pd.DataFrame({"a": [1]}), "entropy")
    assert analysis.family_of("identity") == "clean"
    assert analysis.family_of("no_such_corruption") == "other"
    by_c, by_f = analysis.corruption_tables(scores, "entropy")
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
    by_c, _ = analysis.corruption_tables(scores, "entropy")
    assert set(by_c["corruption"]) == {"identity", "gaussian_noise"}
    assert by_c["n"].sum() == len(scores)
    scores = scores.drop(columns=["corruption", "severity"])
    with pytest.raises(MnistlabError, match="not a variant name: 'fmnist-c'"):
        analysis.corruption_tables(scores, "entropy")
