from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mnistlab.cli import main


@pytest.fixture(scope="module")
def logreg_dir(tmp_path_factory, fashion_dir):
    out = tmp_path_factory.mktemp("m") / "lr"
    code = main(
        [
            "train",
            str(fashion_dir),
            "--model",
            "logreg",
            "--train-size",
            "600",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    return out


def test_train_saves_a_model(logreg_dir, capsys):
    manifest = json.loads((logreg_dir / "manifest.json").read_text())
    assert (
        manifest["kind"] == "sklearn"
        and manifest["train_size"] == 600
        and manifest["accuracy"] > 0.7
    )


@pytest.mark.parametrize(
    ("model", "precision", "message"),
    [
        ("tip-cnn", "fp16", "unknown precision 'fp16'"),
        ("logreg", "bf16", "--precision applies to PyTorch models only"),
    ],
)
def test_train_rejects_a_bad_precision(tmp_path, fashion_dir, capsys, model, precision, message):
    out = tmp_path / "m"
    argv = ["train", str(fashion_dir), "--model", model, "--precision", precision]
    code = main([*argv, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.slow
def test_train_tip_cnn_with_onnx(tmp_path, fashion_dir, capsys):
    argv = ["train", str(fashion_dir), "--model", "tip-cnn", "--train-size", "256", "--epochs", "1"]
    argv += ["--out", str(tmp_path / "tip"), "--onnx", str(tmp_path / "tip.onnx")]
    code = main([*argv, "--precision", "fp32", "--no-progress"])
    assert code == 0 and "tip-cnn: test accuracy" in capsys.readouterr().out
    assert json.loads((tmp_path / "tip" / "manifest.json").read_text())["precision"] == "fp32"
    assert (tmp_path / "tip.onnx").stat().st_size > 1000
    code = main(
        [
            "predict",
            str(tmp_path / "tip.onnx"),
            str(fashion_dir),
            "--out",
            str(tmp_path / "p.parquet"),
            "--no-progress",
        ]
    )
    assert code == 0
    assert len(pd.read_parquet(tmp_path / "p.parquet")) == 10000


def test_predict_evaluate_pipeline(tmp_path, logreg_dir, fashion_dir, capsys):
    preds = tmp_path / "lr.parquet"
    assert (
        main(["predict", str(logreg_dir), str(fashion_dir), "--out", str(preds), "--no-progress"])
        == 0
    )
    table = pd.read_parquet(preds)
    assert len(table) == 10000 and table["model"].iloc[0] == "logreg"
    # a logits file of "another" model made from the same predictions
    np.save(tmp_path / "other.npy", table[[f"logit_{i}" for i in range(10)]].to_numpy())
    other = tmp_path / "other.parquet"
    assert (
        main(
            [
                "predict",
                str(tmp_path / "other.npy"),
                str(fashion_dir),
                "--out",
                str(other),
                "--name",
                "other",
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    code = main(["evaluate", str(other), "--baseline", str(preds), "--out", str(tmp_path / "eval")])
    assert code == 0
    out = capsys.readouterr().out
    assert "other: clean" in out
    summary = pd.read_csv(tmp_path / "eval" / "mce.csv")
    assert set(summary["model"]) == {"other", "logreg"}
    assert (
        main(["evaluate", str(preds), "--baseline", "logreg", "--out", str(tmp_path / "e2")]) == 0
    )


def test_exit_codes(tmp_path, fashion_dir, logreg_dir, capsys):
    assert main(["train", str(fashion_dir), "--model", "resnet", "--out", str(tmp_path / "x")]) == 2
    assert "unknown model 'resnet'" in capsys.readouterr().err
    bad = tmp_path / "bad.npy"
    arr = np.zeros((10000, 10))
    arr[0, 0] = np.nan
    np.save(bad, arr)
    assert main(["predict", str(bad), str(fashion_dir), "--out", str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err
    assert "bad.npy" in err and "NaN" in err and err.count("\n") == 1
    assert not (tmp_path / "p.parquet").exists()
    np.save(tmp_path / "short.npy", np.zeros((5, 10)))
    assert (
        main(
            [
                "predict",
                str(tmp_path / "short.npy"),
                str(fashion_dir),
                "--out",
                str(tmp_path / "p.parquet"),
            ]
        )
        == 2
    )
    assert "short.npy: holds 5 rows" in capsys.readouterr().err
    assert (
        main(["predict", str(logreg_dir), str(fashion_dir), "--out", str(tmp_path / "p.csv")]) == 2
    )
    assert main(["evaluate", str(tmp_path / "none.parquet"), "--out", str(tmp_path / "e")]) == 2
    assert (
        main(
            [
                "study",
                "--out",
                str(tmp_path / "s"),
                "--corruptions",
                "nope",
                "--quick",
                "--no-progress",
                "--steps",
                "predict",
            ]
        )
        == 2
    )
    assert (
        main(["benchmark", str(fashion_dir), "--models", "xgb", "--out", str(tmp_path / "b")]) == 2
    )
    assert main(["train", str(fashion_dir), "--seed", "-1", "--out", str(tmp_path / "x")]) == 2


def test_benchmark_command(tmp_path, fashion_dir, capsys):
    argv = ["benchmark", str(fashion_dir), "--models", "logreg"]
    code = main([*argv, "--train-size", "300", "--test-size", "100", "--out", str(tmp_path)])
    assert code == 0 and "best: logreg" in capsys.readouterr().out
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3


@pytest.mark.slow
def test_study_fmnist_c_step(tmp_path, fashion_dir, capsys, monkeypatch):
    import dataclasses

    from mnistlab.workflows.study import StudyOptions

    # CLI wiring only (the protocol itself is tests/scores/test_fmnist_c.py): a tiny quick run.
    quick = StudyOptions.resolved
    monkeypatch.setattr(
        StudyOptions,
        "resolved",
        lambda self: dataclasses.replace(quick(self), train_size=400, test_size=200),
    )
    out = tmp_path / "run"
    args = ["study", "--out", str(out), "--quick", "--models", "cnn", "--no-progress"]
    args += ["--data-dir", str(fashion_dir), "--steps", "data,train,fmnist-c,report"]
    args += ["--epochs", "1"]
    assert main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["steps"]["fmnist-c"]["info"] == {"skipped": "not asked for (--fmnist-c)"}
    assert "Fashion-MNIST-C protocol" not in (out / "report.html").read_text()
    assert main([*args, "--fmnist-c"]) == 2  # other options than the recorded run
    assert "other options (fmnist_c differ)" in capsys.readouterr().err
    assert main([*args, "--fmnist-c", "--force"]) == 0
    info = json.loads((out / "manifest.json").read_text())["steps"]["fmnist-c"]["info"]
    assert set(info["apfd"]) == {"fmnist-c train/cnn", "clean train/cnn"}
    assert info["train_size"] == 400 and info["test_size"] == 200
    prio = pd.read_csv(out / "fmnist-c" / "prioritization.csv")
    assert len(prio) == 2 * 6 and prio["apfd"].between(0, 1).all()
    html = (out / "report.html").read_text()
    assert "fmnist-c/prioritization.csv" in html and "fmnist-c/faults_found.png" in html
