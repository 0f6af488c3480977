from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.evaluate import robustness


def test_ece_hand_computed():
    # bins of width 1/15: 0.9 -> bin 13 (both right: |1 - 0.9| = 0.1),
    # 0.6 -> bin 8 (one right: |0.5 - 0.6| = 0.1), 0.3 -> bin 4 (wrong: |0 - 0.3| = 0.3)
    conf = [0.9, 0.9, 0.6, 0.6, 0.3]
    correct = [1, 1, 1, 0, 0]
    expected = (2 * 0.1 + 2 * 0.1 + 1 * 0.3) / 5
    assert robustness.expected_calibration_error(confidence=conf, correct=correct) == pytest.approx(
        expected
    )
    table = robustness.reliability_table(confidence=conf, correct=correct)
    assert list(table.loc[table["count"] > 0, "bin"]) == [4, 8, 13]
    # from probabilities: top probability and argmax
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    labels = np.array([0, 0, 1])
    # bins: 0.9 right (0.1), 0.8 wrong (0.8), 0.5 predicts class 0, wrong (0.5)
    assert robustness.expected_calibration_error(probs, labels) == pytest.approx(
        (0.1 + 0.8 + 0.5) / 3
    )
    assert robustness.expected_calibration_error(probs, labels, n_bins=1) == pytest.approx(
        abs(1 / 3 - 2.2 / 3)
    )
    assert np.isnan(robustness.expected_calibration_error(confidence=[], correct=[]))


def test_ece_bad_inputs():
    with pytest.raises(MnistlabError, match="shape"):
        robustness.expected_calibration_error(np.zeros(3), np.zeros(3))
    with pytest.raises(MnistlabError, match="labels"):
        robustness.expected_calibration_error(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(MnistlabError, match="n_bins"):
        robustness.reliability_table(confidence=[0.5], correct=[1], n_bins=0)
    with pytest.raises(MnistlabError, match="differ"):
        robustness.expected_calibration_error(confidence=[0.5, 0.2], correct=[1])


def _preds(model, errors, n=10):
    """A predictions table whose error rate per (corruption, severity) is ``errors[key]``."""
    rows = []
    for (corruption, severity), err in errors.items():
        wrong = round(err * n)
        for i in range(n):
            label = i % 2
            pred = 1 - label if i < wrong else label
            rows.append(
                {
                    "sample_id": i,
                    "variant": "clean" if severity == 0 else f"{corruption}-s{severity}",
                    "corruption": corruption,
                    "severity": severity,
                    "label": label,
                    "pred": pred,
                    "prob_0": 0.8 if pred == 0 else 0.2,
                    "prob_1": 0.2 if pred == 0 else 0.8,
                    "model": model,
                }
            )
    return pd.DataFrame(rows)


# error rates: model and baseline; fog at 2 severities, noise at 1
MODEL = {("identity", 0): 0.1, ("fog", 1): 0.2, ("fog", 2): 0.4, ("noise", 1): 0.3}
BASE = {("identity", 0): 0.2, ("fog", 1): 0.4, ("fog", 2): 0.6, ("noise", 1): 0.5}


def test_mce_hand_computed():
    preds = robustness.load_predictions([_preds("cnn", MODEL), _preds("logreg", BASE)])
    acc = robustness.accuracy_table(preds)
    cnn = acc[acc["model"] == "cnn"].set_index(["corruption", "severity"])
    assert cnn.loc[("fog", 2), "error"] == pytest.approx(0.4)
    assert cnn.loc[("fog", 2), "drop"] == pytest.approx(0.9 - 0.6)
    assert cnn.loc[("fog", 2), "ece"] == pytest.approx(abs(0.6 - 0.8))
    per = robustness.corruption_table(acc, "logreg").set_index(["model", "corruption"])
    # CE_fog = (0.2 + 0.4) / (0.4 + 0.6) = 60 %; CE_noise = 0.3 / 0.5 = 60 %
    assert per.loc[("cnn", "fog"), "ce"] == pytest.approx(60.0)
    assert per.loc[("cnn", "noise"), "ce"] == pytest.approx(60.0)
    # rCE_fog = ((0.2 - 0.1) + (0.4 - 0.1)) / ((0.4 - 0.2) + (0.6 - 0.2)) = 0.4 / 0.6
    assert per.loc[("cnn", "fog"), "relative_ce"] == pytest.approx(100 * 0.4 / 0.6)
    # rCE_noise = (0.3 - 0.1) / (0.5 - 0.2)
    assert per.loc[("cnn", "noise"), "relative_ce"] == pytest.approx(100 * 0.2 / 0.3)
    summary = robustness.mce_table(acc, "logreg").set_index("model")
    assert summary.loc["cnn", "mce"] == pytest.approx(60.0)
    assert summary.loc["cnn", "relative_mce"] == pytest.approx(100 * (0.4 / 0.6 + 0.2 / 0.3) / 2)
    assert summary.loc["logreg", "mce"] == pytest.approx(100.0)
    assert summary.loc["cnn", "clean_accuracy"] == pytest.approx(0.9)
    assert summary.loc["cnn", "corrupted_accuracy"] == pytest.approx((0.7 + 0.7) / 2)
    no_base = robustness.mce_table(acc).set_index("model")
    assert np.isnan(no_base.loc["cnn", "mce"])
    with pytest.raises(MnistlabError, match="baseline model 'svc'"):
        robustness.corruption_table(acc, "svc")


def test_per_class_accuracy():
    preds = robustness.load_predictions([_preds("cnn", MODEL)])
    table = robustness.per_class_table(preds)
    fog = table[(table["corruption"] == "fog")].set_index("class")
    # fog: s1 wrong on i = 0, 1 and s2 on i = 0..3; class = i % 2, so each class is
    # wrong 3 times out of 10
    assert fog.loc[0, "n"] == 10 and fog.loc[0, "accuracy"] == pytest.approx(7 / 10)
    assert fog.loc[1, "accuracy"] == pytest.approx(7 / 10)
    noise = table[(table["corruption"] == "noise")].set_index("class")
    # noise: wrong on i = 0, 1, 2 -> class 0 twice, class 1 once
    assert noise.loc[0, "accuracy"] == pytest.approx(3 / 5) and noise.loc[
        1, "accuracy"
    ] == pytest.approx(4 / 5)


def test_load_predictions_errors(tmp_path):
    with pytest.raises(MnistlabError, match="no such predictions table"):
        robustness.load_predictions([tmp_path / "none.parquet"])
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(MnistlabError, match="missing column 'sample_id'"):
        robustness.load_predictions([tmp_path / "x.parquet"])
    (tmp_path / "t.parquet").write_text("text")
    with pytest.raises(MnistlabError, match="not a readable Parquet"):
        robustness.load_predictions([tmp_path / "t.parquet"])
    with pytest.raises(MnistlabError, match="missing column"):
        robustness.load_predictions([pd.DataFrame({"x": [1]})])
    with pytest.raises(MnistlabError, match="no prob_"):
        robustness.load_predictions([_preds("m", MODEL).drop(columns=["prob_0", "prob_1"])])
    with pytest.raises(MnistlabError, match="no predictions"):
        robustness.load_predictions([])
