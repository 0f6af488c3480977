"""mnistlab compare over run directories (demo runs built with the study's writers)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.cli import main
from mnistlab.errors import MnistlabError
from mnistlab.workflows.compare import compare_runs
from mnistlab.workflows.demo import make_demo_run

VARIANTS = ("clean", "gaussian_noise-s1", "gaussian_noise-s3", "fog-s2", "motion_blur-s2")


def _run(root: Path, images: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> Path:
    return make_demo_run(
        root,
        images,
        labels,
        names,
        variants=VARIANTS,
        embeddings=(),
        baseline="logreg",
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, fashion_test) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare")
    images, labels = fashion_test.images[:150], fashion_test.labels[:150]
    names = tuple(fashion_test.class_names)
    a = _run(root / "a", images, labels, names)
    twin = root / "twin"
    shutil.copytree(a, twin)
    other = _run(root / "other", fashion_test.images[150:300], fashion_test.labels[150:300], names)
    reseeded = root / "reseeded"
    shutil.copytree(a, reseeded)
    manifest = json.loads((reseeded / "manifest.json").read_text())
    manifest["seed"] = 7
    (reseeded / "manifest.json").write_text(json.dumps(manifest))
    single = root / "single"
    shutil.copytree(a, single)
    (single / "preds" / "logreg.parquet").unlink()
    return {"a": a, "twin": twin, "other": other, "reseeded": reseeded, "single": single}


def test_a_model_compared_with_itself_gives_zero_deltas(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    result = compare_runs(
        [runs["a"] / "preds" / "cnn.parquet", runs["twin"] / "preds" / "cnn.parquet"],
        tmp_path / "self",
        n_boot=100,
    )
    assert result.models == ["a/cnn", "twin/cnn"]
    cells = result.tables["cells"]
    assert len(cells) == len(VARIANTS)
    for col in ("delta", "delta_lo", "delta_hi", "apfd_delta", "apfd_delta_lo", "apfd_delta_hi"):
        assert (cells[col] == 0).all(), col
    assert (cells["p"] == 1).all() and (cells["p_holm"] == 1).all()
    assert (cells["b"] == 0).all() and (cells["c"] == 0).all()
    board = result.tables["leaderboard"].drop(columns="model")
    pd.testing.assert_series_equal(board.iloc[0], board.iloc[1], check_names=False)


def test_compare_two_models_of_a_run(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = compare_runs([runs["a"]], out, n_boot=200, seed=1)
    board = result.tables["leaderboard"].set_index("model")
    ref = pd.read_csv(runs["a"] / "eval" / "mce.csv").set_index("model")
    for model in ("cnn", "logreg"):
        for col in ("clean_accuracy", "corrupted_accuracy", "mce", "relative_mce"):
            assert board.loc[model, col] == pytest.approx(ref.loc[model, col])
        lo, hi = board.loc[model, "clean_accuracy_lo"], board.loc[model, "clean_accuracy_hi"]
        assert lo < board.loc[model, "clean_accuracy"] < hi
    cells = result.tables["cells"]
    # the McNemar counts are the discordant samples of the two prediction tables
    cnn = pd.read_parquet(runs["a"] / "preds" / "cnn.parquet")
    lr = pd.read_parquet(runs["a"] / "preds" / "logreg.parquet")
    for v in VARIANTS:
        ok_a = (cnn[cnn.variant == v].sort_values("sample_id").eval("pred == label")).to_numpy()
        ok_b = (lr[lr.variant == v].sort_values("sample_id").eval("pred == label")).to_numpy()
        row = cells[cells["variant"] == v].iloc[0]
        assert row["b"] == (ok_a & ~ok_b).sum() and row["c"] == (~ok_a & ok_b).sum()
        assert row["delta"] == pytest.approx(ok_a.mean() - ok_b.mean())
    assert (cells["p_holm"] >= cells["p"]).all()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "cells.parquet"), cells, check_dtype=False)
    html = (out / "compare.html").read_text()
    assert "Leaderboard" in html and "data:image/png;base64," in html and "http" not in html
    assert (out / "delta_cnn__logreg.png").stat().st_size > 1000
    # the same seed gives the same intervals
    again = compare_runs([runs["a"]], tmp_path / "again", n_boot=200, seed=1, html=False)
    pd.testing.assert_frame_equal(again.tables["leaderboard"], result.tables["leaderboard"])


def test_runs_with_different_images_or_seeds_are_refused(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(MnistlabError, match="test images differ"):
        compare_runs([runs["a"], runs["other"]], tmp_path / "x")
    with pytest.raises(MnistlabError, match="seed differ"):
        compare_runs([runs["a"], runs["reseeded"]], tmp_path / "y")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "{single}", "--out", "{tmp}/o"], "needs at least two models"),
        (["compare", "{tmp}", "--out", "{tmp}/o"], "not a mnistlab run directory"),
        (["compare", "{a}", "{other}", "--out", "{tmp}/o"], "test images differ"),
        (["train", "fashion-mnist", "--augment", "nosuch", "--out", "{tmp}/m"], "'nosuch'"),
        (
            ["train", "fashion-mnist", "--augment", "noise", "--augment-p", "1.5", "-o", "{tmp}/m"],
            r"probability in [0, 1], got 1.5",
        ),
        (["train", "fashion-mnist", "--augment-p", "0.2", "-o", "{tmp}/m"], "needs --augment"),
        (
            ["study", "--quick", "--augment", "nosuch", "--out", "{tmp}/r"],
            "unknown corruption or family",
        ),
    ],
)
def test_bad_inputs_exit_2_with_one_line(
    runs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    paths = {k: str(v) for k, v in runs.items()} | {"tmp": str(tmp_path)}
    assert main([a.format(**paths) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "r").exists() and not (tmp_path / "m").exists()


def test_cli_compare_prints_the_leaderboard_and_pairs(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    assert main(["compare", str(runs["a"]), "--out", str(out), "--n-boot", "50"]) == 0
    text = capsys.readouterr().out
    assert "cnn: clean" in text and "cnn vs logreg:" in text and "compare.html" in text
    assert (out / "leaderboard.csv").is_file()
    # a second run into the same folder needs --overwrite; with it, it is replaced
    assert main(["compare", str(runs["a"]), "--out", str(out), "--n-boot", "50"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    args = ["compare", str(runs["a"]), "--out", str(out), "--n-boot", "50", "--overwrite"]
    assert main(args) == 0
