"""The Fashion-MNIST-C protocol: train on the corrupted train split, rank the corrupted test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.scores import apfd, auroc
from mnistlab.workflows.fmnist_c import FOLDER, fmnist_c_prioritization


def test_bad_arguments_fail_before_any_output(tmp_path, fashion_train, fashion_test):
    data = {"train": fashion_train[:50], "test": fashion_test[:50]}
    with pytest.raises(MnistlabError, match="unknown model 'xgb'"):
        fmnist_c_prioritization(tmp_path, dataset=data, trainer="xgb")
    with pytest.raises(MnistlabError, match="train_size must be a positive integer, got 0"):
        fmnist_c_prioritization(tmp_path, dataset=data, train_size=0)
    with pytest.raises(MnistlabError, match="give a 'train' and a 'test' split"):
        fmnist_c_prioritization(tmp_path, dataset={"train": fashion_train[:50]})
    assert not (tmp_path / FOLDER).exists()


@pytest.mark.slow
def test_protocol_on_real_fashion_mnist(tmp_path, fashion_train, fashion_test):
    from mnistlab.corrupt.generate import generate
    from mnistlab.execution import Execution
    from mnistlab.models import load_model, train

    data = {"train": fashion_train[:1000], "test": fashion_test[:300]}
    clean = train(data["train"].images, data["train"].labels, "logreg", epochs=200, progress=False)
    info = fmnist_c_prioritization(
        tmp_path,
        dataset=data,
        clean_models={"logreg": clean},
        trainer="cnn",
        epochs=3,
        seed=3,
        execution=Execution(workers=1),
    )
    out = tmp_path / FOLDER
    for name in (
        "preds.parquet",
        "prioritization.csv",
        "prioritization.md",
        "prioritization_by_corruption.csv",
        "accuracy_by_corruption.csv",
        "accuracy_by_corruption.png",
        "faults_found.png",
    ):
        assert (out / name).is_file(), name
    assert info["train_size"] == 1000 and info["test_size"] == 300

    # the corrupted splits are the fmnist-c layout `mnistlab corrupt` writes with that seed
    reference = generate(data, tmp_path / "ref", layout="fmnist-c", splits="all", seed=3)
    for split in ("train", "test"):
        ours = np.load(out / "data" / f"fmnist-c-{split}.npy")
        assert np.array_equal(ours, np.load(reference / f"fmnist-c-{split}.npy"))
    draw = pd.read_parquet(out / "data" / "fmnist-c-test-corruptions.parquet")
    assert draw["corruption"].nunique() == 15

    # every number of the table is recomputed from the saved predictions
    preds = pd.read_parquet(out / "preds.parquet")
    assert set(preds["trained_on"]) == {"fmnist-c train", "clean train"}
    prio = pd.read_csv(out / "prioritization.csv")
    for (trained_on, model), rows in preds.groupby(["trained_on", "model"]):
        assert len(rows) == 300 and rows["sample_id"].tolist() == list(range(300))
        probs = rows[[f"prob_{k}" for k in range(10)]].to_numpy(np.float64)
        faults = rows["pred"].to_numpy() != rows["label"].to_numpy()
        gini = 1.0 - (probs**2).sum(axis=1)
        row = prio[
            (prio.trained_on == trained_on) & (prio.model == model) & (prio.score == "gini")
        ].iloc[0]
        assert row["faults"] == faults.sum()
        assert row["apfd"] == pytest.approx(apfd(gini, faults), abs=1e-9)
        assert row["auroc"] == pytest.approx(auroc(gini, faults), abs=1e-9)
        key = f"{trained_on}/{model}"
        assert info["apfd"][key]["gini"] == pytest.approx(row["apfd"], abs=1e-6)
        assert info["accuracy"][key] == pytest.approx(1 - faults.mean(), abs=1e-6)
    assert set(prio["score"]) == {
        "entropy",
        "gini",
        "max_softmax",
        "margin",
        "least_confidence",
        "random",
    }
    # the CNN trained on the corrupted split is the one saved, and scored on the test split
    cnn = load_model(out / "models" / "cnn")
    ours = preds[preds.trained_on == "fmnist-c train"]
    assert cnn.manifest["accuracy"] == pytest.approx(info["accuracy"]["fmnist-c train/cnn"])
    test_images = np.load(out / "data" / "fmnist-c-test.npy")
    assert (cnn.predict(test_images[:50]) == ours["pred"].to_numpy()[:50]).all()
    # per corruption: 15 rows per model and score, their sizes add up to the split
    by = pd.read_csv(out / "prioritization_by_corruption.csv")
    gini_rows = by[(by.score == "gini") & (by.model == "cnn")]
    assert gini_rows["variant"].nunique() == 15 and gini_rows["n"].sum() == 300
    acc = pd.read_csv(out / "accuracy_by_corruption.csv")
    assert set(acc["model"]) == {"cnn", "logreg"} and acc.groupby("model")["n"].sum().eq(300).all()
    # orientation and polarity changes fool the clean-trained model far more
    hard = ["inverse", "rotate_90_cw", "rotate_90_ccw", "flip_up_down"]
    sub = acc[acc.corruption.isin(hard)]
    mean = sub.groupby("trained_on").apply(lambda g: np.average(g.accuracy, weights=g.n))
    assert mean["fmnist-c train"] > mean["clean train"]


def test_report_section_reads_the_outputs(tmp_path):
    from mnistlab.report.sections_scores import section_fmnist_c as _section_fmnist_c

    class Ctx:
        run = tmp_path

    assert _section_fmnist_c(Ctx()) is None  # type: ignore[arg-type]  # not asked for: no section
    folder = tmp_path / FOLDER
    folder.mkdir()
    pd.DataFrame(
        {
            "trained_on": ["fmnist-c train"],
            "model": ["cnn"],
            "score": ["gini"],
            "n": [10],
            "faults": [2],
            "accuracy": [0.8],
            "apfd": [0.85],
            "auroc": [0.9],
        }
    ).to_csv(folder / "prioritization.csv", index=False)
    sec = _section_fmnist_c(Ctx())  # type: ignore[arg-type]
    assert sec is not None and not sec.note
    tables = [b for b in sec.blocks if b.kind == "table"]
    assert len(tables) == 1 and "0.850" in tables[0].content and "gini" in tables[0].content
