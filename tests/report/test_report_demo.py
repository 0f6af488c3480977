"""The demo run: tables consistent with each other and with the images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.report.demo import make_demo_run
from mnistlab.run import read_manifest


def test_demo_tables_are_consistent(demo_run, fashion_test):
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    scores = pd.read_parquet(demo_run / "scores" / "cnn.parquet")
    assert len(preds) == len(scores) == 1500
    probs = preds[[f"prob_{c}" for c in range(10)]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0)
    np.testing.assert_array_equal(probs.argmax(1), preds.pred)
    clean = preds.variant == "clean"
    acc_clean = (preds.label == preds.pred)[clean].mean()
    assert 0.5 < acc_clean < 0.95  # nearest centroid on Fashion-MNIST
    assert (preds.label == preds.pred)[preds.variant == "fixture_shift-s3"].mean() < acc_clean
    merged = preds.merge(scores, on=["sample_id", "variant"], suffixes=("", "_scores"))
    assert (merged.correct == (merged.label == merged.pred)).all()
    wrong = ~merged.correct
    assert merged.entropy[wrong].mean() > merged.entropy[~wrong].mean()
    morpho = pd.read_parquet(demo_run / "morpho.parquet")
    ink = (fashion_test.images[:300] >= 128).sum(axis=(1, 2))
    np.testing.assert_array_equal(morpho.area, ink)
    # The study's own writers: the real layout and file names.
    prio = pd.read_csv(demo_run / "hardness" / "cnn" / "prioritization.csv")
    prio = prio[prio.variant == "clean"].set_index("score")
    assert prio.loc["entropy", "apfd"] > prio.loc["random", "apfd"]
    for name in ("mce.csv", "corruptions.csv", "accuracy.csv", "heatmap_cnn.png"):
        assert (demo_run / "eval" / name).is_file(), name
    assert read_manifest(demo_run)["class_names"][0] == "T-shirt/top"


def test_demo_rejects_mismatched_inputs(tmp_path):
    with pytest.raises(MnistlabError, match="must match"):
        make_demo_run(
            tmp_path, np.zeros((20, 28, 28), np.uint8), np.zeros(19), [str(i) for i in range(10)]
        )
