"""Leaderboard metrics and paired cells: point estimates equal the study's definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.compare import (
    Outcomes,
    apfd_weighted,
    best_score,
    bootstrap_weights,
    group_accuracy,
    leaderboard,
    paired_cells,
)
from mnistlab.evaluate.robustness import accuracy_table, mce_table
from mnistlab.scores.metrics import apfd

VARIANTS = [("identity", 0), ("fog", 1), ("fog", 2), ("noise", 1), ("noise", 2)]


def _outcomes(seed: int, n: int = 60, p: float = 0.7) -> Outcomes:
    rng = np.random.default_rng(seed)
    v = len(VARIANTS)
    correct = rng.random((v, n)) < np.linspace(p + 0.2, p - 0.2, v)[:, None]
    conf = np.clip(rng.random((v, n)) * 0.5 + 0.5, 0, 1)
    score = np.round(rng.random((v, n)) - correct, 1)  # ties on purpose
    names = tuple("clean" if c == "identity" else f"{c}-s{s}" for c, s in VARIANTS)
    return Outcomes(
        names,
        tuple(c for c, _ in VARIANTS),
        np.array([s for _, s in VARIANTS]),
        correct,
        conf,
        score,
        "toy",
    )


def _preds(name: str, o: Outcomes) -> pd.DataFrame:
    rows = []
    for v, (c, s) in enumerate(VARIANTS):
        rows.append(
            pd.DataFrame(
                {
                    "model": name,
                    "corruption": c,
                    "severity": s,
                    "confidence": o.confidence[v],
                    "correct": o.correct[v].astype(float),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_apfd_weighted_equals_apfd_on_the_resample() -> None:
    rng = np.random.default_rng(0)
    s = np.round(rng.random(30), 1)
    f = rng.random(30) < 0.3
    assert apfd_weighted(s, f, np.ones((1, 30)))[0] == pytest.approx(apfd(s, f))
    w = bootstrap_weights(30, n_boot=20, seed=2)
    got = apfd_weighted(s, f, w)
    for b in range(20):
        counts = w[b].astype(int)
        assert got[b] == pytest.approx(apfd(np.repeat(s, counts), np.repeat(f, counts)))


def test_leaderboard_point_estimates_equal_the_study_tables() -> None:
    models = {"a": _outcomes(0), "base": _outcomes(1, p=0.6)}
    w = bootstrap_weights(60, n_boot=200, seed=0)
    board = leaderboard(models, w, baseline="base").set_index("model")
    acc = accuracy_table(pd.concat([_preds(k, o) for k, o in models.items()]))
    ref = mce_table(acc, "base").set_index("model")
    for m in models:
        for col in ("clean_accuracy", "corrupted_accuracy", "mce", "relative_mce"):
            assert board.loc[m, col] == pytest.approx(ref.loc[m, col])
        assert board.loc[m, "ece"] == pytest.approx(ref.loc[m, "clean_ece"])
        per_variant = [apfd(models[m].score[v], ~models[m].correct[v]) for v in range(5)]
        assert board.loc[m, "apfd"] == pytest.approx(np.mean(per_variant))
        for col in ("clean_accuracy", "corrupted_accuracy", "ece", "apfd"):
            assert board.loc[m, f"{col}_lo"] <= board.loc[m, col] <= board.loc[m, f"{col}_hi"]
    assert board.loc["base", "mce"] == pytest.approx(100.0)
    assert board.loc["base", "mce_lo"] == pytest.approx(100.0)  # the baseline against itself


def test_paired_cells_of_a_model_with_itself_are_zero() -> None:
    o = _outcomes(0)
    cells = paired_cells(o, o, bootstrap_weights(60, n_boot=100, seed=0))
    for col in ("delta", "delta_lo", "delta_hi", "apfd_delta"):
        assert (cells[col] == 0).all()
    assert (cells["p"] == 1).all() and (cells["p_holm"] == 1).all()
    assert not cells["significant"].any()


def test_paired_cells_detect_a_clear_difference() -> None:
    a, b = _outcomes(0), _outcomes(0)
    better = Outcomes(
        a.variants, a.corruption, a.severity, np.ones_like(a.correct), a.confidence, a.score
    )
    cells = paired_cells(better, b, bootstrap_weights(60, n_boot=200, seed=0))
    assert (cells["delta"] > 0).all() and (cells["c"] == 0).all()
    assert (cells["delta_lo"] > 0).all()
    # b >= 12 discordant samples all one way: p = 2 * 0.5**12 < 0.05 / 5 cells
    assert (cells["b"] >= 12).sum() >= 3
    assert cells.loc[cells["b"] >= 12, "significant"].all()
    assert (cells["p_holm"] >= cells["p"]).all()


def test_group_accuracy_and_best_score() -> None:
    models = {"a": _outcomes(0), "b": _outcomes(1)}
    seen = [False, True, True, False, False]
    table = group_accuracy(
        models,
        {"seen": seen, "unseen": [c == "noise" for c, _ in VARIANTS]},
        bootstrap_weights(60, n_boot=50, seed=0),
        reference="b",
    ).set_index(["model", "group"])
    assert table.loc[("a", "seen"), "accuracy"] == pytest.approx(models["a"].correct[1:3].mean())
    assert table.loc[("b", "seen"), "delta"] == 0
    o = models["a"]
    assert (
        best_score({"oracle": (~o.correct).astype(float), "anti": o.correct * 1.0}, o.correct)
        == "oracle"
    )
