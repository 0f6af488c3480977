"""The active-learning driver: trainers by name, the output folder, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.scores._helpers import Centroids, iterative, one_shot
from tests.workflows._helpers import ACTIVE_LEARNING_FILES, files_in

from mnistlab.figures.active import plot_learning_curve, plot_one_shot
from mnistlab.scores import active
from mnistlab.workflows.active import make_trainer, write_active_learning


def test_one_shot_with_pca_logreg_trainer(active_data) -> None:
    trainer = make_trainer("pca-logreg")
    res = one_shot(
        active_data, methods=("margin",), budget=20, seeds=(0,), trainer=trainer, train_subset=500
    )
    assert len(res) == 2 and res["acc_second_half"].min() > 0.5
    summary = active.summarize(res)
    assert np.isnan(summary["ci_low"]).all()  # one seed: no interval


def test_plots_and_write_active_learning(active_data, tmp_path) -> None:
    # The protocols' results themselves are tests/scores/test_active.py's.
    res = iterative(active_data, methods=("gini",), budget_per_round=30, rounds=2, seeds=(0, 1))
    plot_learning_curve(res, tmp_path / "lc.png")
    one = one_shot(active_data, methods=("gini",), budget=20, seeds=(0, 1))
    plot_one_shot(active.summarize(one), tmp_path / "os.png")
    assert (tmp_path / "lc.png").stat().st_size > 1000
    assert (tmp_path / "os.png").read_bytes()[:4] == b"\x89PNG"
    out = write_active_learning(tmp_path / "al", one, active.summarize(one), res)
    assert files_in(out) == ACTIVE_LEARNING_FILES
    pd.testing.assert_frame_equal(pd.read_csv(out / "one_shot.csv"), one, check_dtype=False)
    assert (out / "one_shot_summary.md").read_text().startswith("| method | seeds |")


def test_make_trainer_of_a_registered_model(active_data, monkeypatch) -> None:
    calls = {}

    def fake_train(images, labels, model, epochs, seed, progress):
        calls.update(model=model, epochs=epochs, seed=seed, n=len(images), progress=progress)
        return Centroids(images, labels)

    monkeypatch.setattr("mnistlab.models.train", fake_train)
    tx, ty, px, _ = active_data
    model = make_trainer("tip-cnn", epochs=2)(tx, ty, 7)
    assert calls == {"model": "tip-cnn", "epochs": 2, "seed": 7, "n": 1000, "progress": False}
    assert model.predict_proba(px[:3]).shape == (3, 10)
