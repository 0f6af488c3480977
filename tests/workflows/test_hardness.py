"""The hard-sample analysis of a run (files written) and the model-based scores of a model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.workflows._helpers import ACTIVE_LEARNING_FILES, files_in

from mnistlab.errors import MnistlabError
from mnistlab.scores.table import score_table
from mnistlab.workflows import hardness


@pytest.mark.slow
def test_analyze_run_writes_everything(run_dir: Path) -> None:
    paths = hardness.analyze_run(run_dir, "cnn", per_class=4)
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
        hardness,
        "pool_from_run",
        lambda run, scores, seed: (
            np.load(run / "data" / "test_images.npy"),
            np.load(run / "data" / "test_labels.npy"),
        ),
    )
    paths = hardness.analyze_run(
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
    assert files_in(out) == ACTIVE_LEARNING_FILES
    assert paths["active_learning"] == out / "one_shot_summary.csv"
    summary = pd.read_csv(out / "one_shot_summary.csv")
    assert set(summary["method"]) == {"gini", "entropy", "random"}


def test_pool_from_run_uses_clean_when_alone(run_dir: Path) -> None:
    scores = pd.DataFrame({"variant": ["clean"], "sample_id": [0]})
    images, labels = hardness.pool_from_run(run_dir, scores, 0)
    assert images.shape == (200, 28, 28) and labels.shape == (200,)
    np.testing.assert_array_equal(images, np.load(run_dir / "data" / "test_images.npy"))


def test_analyze_table_without_images(tmp_path: Path, preds_table: pd.DataFrame) -> None:
    clean = preds_table[preds_table["variant"] == "clean"]
    scores = score_table(clean, ["margin"])
    paths = hardness.analyze_table(scores, tmp_path / "h", score="margin", k=(5,))
    assert "grids" not in paths and "by_corruption" not in paths
    assert (tmp_path / "h" / "hist_correct_incorrect.png").is_file()
    # a second call replaces the folder whole
    hardness.analyze_table(scores, tmp_path / "h", score="margin")
    assert not (tmp_path / ".h.old").exists()
    with pytest.raises(MnistlabError, match="no column 'entropy'"):
        hardness.analyze_table(scores, tmp_path / "x", score="entropy")
    with pytest.raises(MnistlabError, match="per_class"):
        hardness.analyze_table(scores, tmp_path / "x", score="margin", per_class=0)
    assert not (tmp_path / "x").exists()


def test_analyze_run_errors(tmp_path: Path) -> None:
    with pytest.raises(MnistlabError, match="no such run"):
        hardness.analyze_run(tmp_path / "nope")
    with pytest.raises(MnistlabError, match="no such table"):
        hardness.analyze_run(tmp_path)


def test_family_of() -> None:
    assert hardness.family_of("identity") == "clean"
    assert hardness.family_of("gaussian_noise") == "noise"
    assert hardness.family_of("no_such_corruption") == "other"


@pytest.fixture(scope="module")
def tiny_cnns(fashion_train):
    from mnistlab.models import train

    x, y = fashion_train.images[:300], fashion_train.labels[:300]
    return [train(x, y, "tip-cnn", epochs=1, seed=s, progress=False) for s in (0, 1)]


@pytest.mark.slow
def test_model_based_scores(tiny_cnns, fashion_train, fashion_small, tmp_path) -> None:
    images = fashion_small[:40]
    vr = hardness.mc_dropout_variation_ratio(tiny_cnns[0], images, passes=8, seed=0)
    assert vr.shape == (40,) and vr.min() >= 0 and vr.max() < 1
    np.testing.assert_array_equal(
        vr, hardness.mc_dropout_variation_ratio(tiny_cnns[0], images, 8, 0)
    )
    tiny_cnns[1].save(tmp_path / "m1")
    dis = hardness.ensemble_disagreement_of([tiny_cnns[0], tmp_path / "m1"], images)
    assert dis.shape == (40,) and set(np.unique(dis)) <= {0.0, 0.5, 1.0}
    train_x, train_y = fashion_train.images[:300], fashion_train.labels[:300]
    sa = hardness.model_surprise_scores(tiny_cnns[0], train_x, train_y, images, layer="fc")
    assert set(sa) == {"dsa", "lsa", "mahalanobis"}
    assert all(v.shape == (40,) and np.isfinite(v).all() for v in sa.values())
    one = hardness.model_surprise_scores(tiny_cnns[0], train_x, train_y, images, kinds=("lsa",))
    assert list(one) == ["lsa"] and np.isfinite(one["lsa"]).all()
    with pytest.raises(MnistlabError, match="at least 2"):
        hardness.ensemble_disagreement_of(tiny_cnns[:1], images)
    with pytest.raises(MnistlabError, match="unknown surprise"):
        hardness.model_surprise_scores(
            tiny_cnns[0], images, np.zeros(40, dtype=int), images, kinds=("x",)
        )


@pytest.mark.slow
def test_conv_layer_traces_are_channel_means(tiny_cnns, fashion_small) -> None:
    import torch

    from mnistlab.models import activations, layer_names

    model, images = tiny_cnns[0], fashion_small[:12]
    convs = [n for n, m in model.net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and convs[0] in layer_names(model)
    channels = dict(model.net.named_modules())[convs[0]].out_channels
    traces = hardness.activation_traces(model, images, convs[0])
    flat = activations(model, images, convs[0])  # (N, C*H*W), the raw maps
    assert traces.shape == (12, channels) and flat.shape[1] > channels
    np.testing.assert_allclose(traces, flat.reshape(12, channels, -1).mean(axis=2), rtol=1e-5)
    # The scores run on those C-dimensional traces.
    sa = hardness.model_surprise_scores(
        model, fashion_small[12:80], np.arange(68) % 10, images, convs[0]
    )
    assert all(v.shape == (12,) and np.isfinite(v).all() for v in sa.values())
