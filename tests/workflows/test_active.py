"""The active-learning driver: trainers by name, the output folder, figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.figures.active import plot_learning_curve, plot_one_shot
from mnistlab.scores import active
from mnistlab.workflows.active import make_trainer, write_active_learning


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


def test_one_shot_with_pca_logreg_trainer(data) -> None:
    tx, ty, px, py = data
    res = active.one_shot(
        tx,
        ty,
        px,
        py,
        methods=("margin",),
        budget=20,
        seeds=(0,),
        trainer=make_trainer("pca-logreg"),
        train_subset=500,
        progress=False,
    )
    assert len(res) == 2 and res["acc_second_half"].min() > 0.5
    summary = active.summarize(res)
    assert np.isnan(summary["ci_low"]).all()  # one seed: no interval


def test_plots_and_write_active_learning(data, tmp_path) -> None:
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
    plot_learning_curve(res, tmp_path / "lc.png")
    one = active.one_shot(
        tx,
        ty,
        px,
        py,
        methods=("gini",),
        budget=20,
        seeds=(0, 1),
        trainer=_centroid_trainer,
        progress=False,
    )
    plot_one_shot(active.summarize(one), tmp_path / "os.png")
    assert (tmp_path / "lc.png").stat().st_size > 1000
    assert (tmp_path / "os.png").read_bytes()[:4] == b"\x89PNG"
    out = write_active_learning(tmp_path / "al", one, active.summarize(one), res)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "iterative.csv",
        "learning_curve.png",
        "one_shot.csv",
        "one_shot.png",
        "one_shot_summary.csv",
        "one_shot_summary.md",
    ]
    pd.testing.assert_frame_equal(pd.read_csv(out / "one_shot.csv"), one, check_dtype=False)
    assert (out / "one_shot_summary.md").read_text().startswith("| method | seeds |")


def test_make_trainer_of_a_registered_model(data, monkeypatch) -> None:
    calls = {}

    def fake_train(images, labels, model, epochs, seed, progress):
        calls.update(model=model, epochs=epochs, seed=seed, n=len(images), progress=progress)
        return _Centroids(images, labels)

    monkeypatch.setattr("mnistlab.models.train", fake_train)
    tx, ty, px, _ = data
    model = make_trainer("tip-cnn", epochs=2)(tx, ty, 7)
    assert calls == {"model": "tip-cnn", "epochs": 2, "seed": 7, "n": 1000, "progress": False}
    assert model.predict_proba(px[:3]).shape == (3, 10)
