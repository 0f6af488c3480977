"""Command line: score, prioritize, label-issues, active-learn, hardness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.workflows._helpers import ACTIVE_LEARNING_FILES, files_in

from mnistlab.cli import main


def _preds(labels: np.ndarray, path: Path, variants=("clean", "fog-s3")) -> Path:
    rng = np.random.default_rng(0)
    parts = []
    for i, variant in enumerate(variants):
        logits = 3.0 * np.eye(10)[labels] + rng.normal(scale=1.0 + i, size=(labels.size, 10))
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        t = pd.DataFrame(
            {
                "sample_id": np.arange(labels.size),
                "variant": variant,
                "label": labels,
                "pred": probs.argmax(1),
            }
        )
        for k in range(10):
            t[f"prob_{k}"] = probs[:, k]
        parts.append(t)
    pd.concat(parts, ignore_index=True).to_parquet(path, index=False)
    return path


@pytest.fixture
def preds_file(tmp_path: Path, fashion_test) -> Path:
    return _preds(np.asarray(fashion_test.labels[:150]), tmp_path / "preds.parquet")


def test_score_and_prioritize(tmp_path: Path, preds_file: Path, capsys) -> None:
    out = tmp_path / "scores.parquet"
    assert (
        main(["score", str(preds_file), "--methods", "entropy,gini,margin", "--out", str(out)]) == 0
    )
    scores = pd.read_parquet(out)
    assert {"sample_id", "variant", "entropy", "gini", "margin", "correct"} <= set(scores.columns)
    assert len(scores) == 300
    capsys.readouterr()
    assert main(["prioritize", str(preds_file), "--k", "10", "--out", str(tmp_path / "p.csv")]) == 0
    printed = capsys.readouterr().out
    assert "apfd" in printed and "fog-s3" in printed and "random" in printed
    table = pd.read_csv(tmp_path / "p.csv")
    assert "found@10" in table.columns and set(table["variant"]) == {"clean", "fog-s3", "all"}
    # from a scores table, one variant, Markdown and a folder
    assert (
        main(
            [
                "prioritize",
                str(preds_file),
                "--scores",
                str(out),
                "--methods",
                "gini",
                "--variant",
                "clean",
                "--out",
                str(tmp_path / "p.md"),
            ]
        )
        == 0
    )
    assert (tmp_path / "p.md").read_text().startswith("| variant | score |")
    assert main(["prioritize", str(out), "--out", str(tmp_path / "dir")]) == 0
    assert (tmp_path / "dir" / "table.csv").is_file() and (tmp_path / "dir" / "table.md").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "{preds}", "--methods", "nope", "--out", "{tmp}/s.parquet"], "unknown score"),
        (["score", "{tmp}/missing.parquet", "--out", "{tmp}/s.parquet"], "no such"),
        (["score", "{preds}", "--out", "{tmp}/s.txt"], "unknown format"),
        (["prioritize", "{preds}", "--k", "x"], "--k"),
        (["prioritize", "{preds}", "--k", "0"], "--k"),
        (["prioritize", "{preds}", "--variant", "zzz"], "no variant 'zzz'"),
        (["prioritize", "{tmp}/missing.parquet"], "no such"),
        (["hardness", "{preds}"], "--out"),
        (["hardness", "{preds}", "--score", "bad", "--out", "{tmp}/h"], "--score"),
        (["hardness", "{preds}", "--morpho", "{tmp}/m.csv", "--out", "{tmp}/h"], "--morpho"),
        (["label-issues", "{preds}", "--grid", "{tmp}/g.png"], "--grid"),
    ],
)
def test_bad_input_exits_2(args, message, tmp_path: Path, preds_file: Path, capsys) -> None:
    argv = [a.format(preds=preds_file, tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_label_issues_from_dataset_and_preds(
    tmp_path: Path, fashion_dir, preds_file: Path, capsys
) -> None:
    out, grid = tmp_path / "issues.csv", tmp_path / "issues.png"
    argv = [
        "label-issues",
        "fashion-mnist",
        "--limit",
        "500",
        "--folds",
        "3",
        "--out",
        str(out),
        "--grid",
        str(grid),
        "--top",
        "5",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "likely label issues" in printed
    table = pd.read_csv(out)
    assert {"rank", "sample_id", "label_name", "suggested_name", "label_quality"} <= set(
        table.columns
    )
    assert grid.read_bytes()[:4] == b"\x89PNG"
    assert (
        main(["label-issues", str(preds_file), "--all", "--out", str(tmp_path / "i.parquet")]) == 0
    )
    assert len(pd.read_parquet(tmp_path / "i.parquet")) == 150


def test_hardness_on_preds_table(tmp_path: Path, preds_file: Path) -> None:
    morpho = tmp_path / "m.csv"
    pd.DataFrame({"sample_id": np.arange(150), "thickness": np.arange(150) % 7}).to_csv(morpho)
    assert (
        main(
            [
                "hardness",
                str(preds_file),
                "--score",
                "gini",
                "--morpho",
                str(morpho),
                "--out",
                str(tmp_path / "h"),
            ]
        )
        == 0
    )
    for name in (
        "prioritization.csv",
        "hist_correct_incorrect.png",
        "morpho_spearman.csv",
        "by_family.csv",
    ):
        assert (tmp_path / "h" / name).is_file(), name


def test_hardness_on_run_dir(tmp_path: Path, fashion_test, capsys) -> None:
    from mnistlab import run as runlib

    run = tmp_path / "run"
    (run / "data").mkdir(parents=True)
    np.save(run / "data" / "test_images.npy", fashion_test.images[:150])
    np.save(run / "data" / "test_labels.npy", fashion_test.labels[:150])
    (run / "preds").mkdir()
    _preds(np.asarray(fashion_test.labels[:150]), run / "preds" / "cnn.parquet", ("clean",))
    assert main(["hardness", str(run), "--per-class", "2"]) == 0
    assert (run / "hardness" / "cnn" / "grid_easiest_correct.png").is_file()
    assert (run / "scores" / "cnn.parquet").is_file()
    assert "prioritization" in capsys.readouterr().out
    assert runlib.step_done(run, "hardness:cnn")


def test_active_learn_command(tmp_path: Path, fashion_dir, capsys) -> None:
    out = tmp_path / "al"
    argv = [
        "active-learn",
        "fashion-mnist",
        "--methods",
        "gini",
        "--budget",
        "50",
        "--seeds",
        "2",
        "--model",
        "pca-logreg",
        "--train-subset",
        "500",
        "--rounds",
        "2",
        "--round-budget",
        "25",
        "--no-progress",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert files_in(out) == ACTIVE_LEARNING_FILES
    assert "gain_over_random" in capsys.readouterr().out


def test_active_learn_pool_from_variant_folder(tmp_path: Path, fashion_test, capsys) -> None:
    from mnistlab.data.variants import write_manifest
    from mnistlab.workflows.pool import variant_pool

    folder = tmp_path / "fmnist-c"
    variants = []
    for name, shift in (("fog", 40), ("noise", 80)):
        (folder / name).mkdir(parents=True)
        imgs = np.clip(fashion_test.images[:120].astype(int) + shift, 0, 255).astype(np.uint8)
        np.save(folder / name / "test_images.npy", imgs)
        np.save(folder / name / "test_labels.npy", fashion_test.labels[:120])
        variants.append(
            {
                "name": f"{name}-s3",
                "corruption": name,
                "severity": 3,
                "splits": {
                    "test": {
                        "images": f"{name}/test_images.npy",
                        "labels": f"{name}/test_labels.npy",
                    }
                },
            }
        )
    write_manifest(
        folder,
        kind="corrupt",
        layout="mnist-c",
        dataset="fashion-mnist",
        class_names=list(fashion_test.class_names),
        variants=variants,
    )
    images, labels = variant_pool(str(folder), "test", 0)
    assert images.shape == (120, 28, 28)
    np.testing.assert_array_equal(labels, fashion_test.labels[:120])
    first = images.reshape(120, -1).min(axis=1)
    assert set(np.unique(first)) <= {40, 80} and len(np.unique(first)) == 2  # both variants
    out = tmp_path / "al"
    argv = [
        "active-learn",
        "fashion-mnist",
        "--pool",
        str(folder),
        "--methods",
        "entropy",
        "--budget",
        "20",
        "--seeds",
        "1",
        "--model",
        "pca-logreg",
        "--train-subset",
        "300",
        "--no-progress",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert (out / "one_shot_summary.csv").is_file() and not (out / "iterative.csv").exists()


def test_label_issues_top_0_prints_no_table(fashion_dir, capsys) -> None:
    argv = ["label-issues", "fashion-mnist", "--limit", "300", "--folds", "2", "--top", "0"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].endswith("likely label issues"), printed
