"""A study trusts files: model files are checked before any work, a resume re-runs a step whose
files are gone or changed, and readers refuse a run edited by hand (report, export-run,
compare, explore, resume)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnistlab.cli import main
from mnistlab.errors import MnistlabError
from mnistlab.workflows.study import STEPS, StudyOptions, run_study

OPTIONS = StudyOptions(
    quick=True,
    models=("logreg",),
    baseline="logreg",
    corruptions=("fog",),
    train_size=500,
    test_size=200,
    progress=False,
    executor="serial",
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, fashion_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("trust") / "run"
    run_study(out, OPTIONS)
    return out


@pytest.fixture
def run(tiny_run: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    return copy


def _steps(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())["steps"]


def test_every_step_records_the_files_it_wrote(tiny_run: Path) -> None:
    steps = _steps(tiny_run)
    assert "data/test_labels.npy" in steps["data"]["outputs"]
    assert "preds/logreg.parquet" in steps["predict"]["outputs"]
    assert "report.html" in steps["report"]["outputs"]
    owners = [name for name, s in steps.items() for f in s.get("outputs", {})]
    files = [f for s in steps.values() for f in s.get("outputs", {})]
    assert len(files) == len(set(files)), owners  # each file recorded by one step


def test_resume_re_runs_a_step_whose_table_is_missing(run: Path) -> None:
    (run / "preds" / "logreg.parquet").unlink()
    lines: list[str] = []
    run_study(run, OPTIONS, log=lines.append)
    assert (run / "preds" / "logreg.parquet").is_file()
    ran = [line.split(":")[0] for line in lines if "reused" not in line]
    assert ran == ["predict"]  # the same bytes again: nothing after it is redone


def test_resume_re_runs_a_changed_file_and_keeps_what_follows_when_equal(run: Path) -> None:
    table = run / "eval" / "mce.csv"
    original = table.read_text()
    table.write_text(original.replace("100.0", "99.0"))
    lines: list[str] = []
    run_study(run, OPTIONS, log=lines.append)
    assert table.read_text() == original  # redone, with the same bytes as before
    ran = [line.split(":")[0] for line in lines if "reused" not in line]
    assert ran == ["evaluate"]


def test_a_step_redone_with_other_results_redoes_every_later_step(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mnistlab.workflows import study
    from mnistlab.workflows.study import Step

    index = [s.name for s in STEPS].index("evaluate")
    original = STEPS[index]

    def other_results(run_dir: Path, options: StudyOptions) -> dict:
        info = original.fn(run_dir, options)
        with open(run_dir / "eval" / "mce.csv", "a") as fh:
            fh.write("# another result\n")
        return info

    steps = list(STEPS)
    steps[index] = Step("evaluate", other_results)
    monkeypatch.setattr(study, "STEPS", tuple(steps))
    (run / "eval" / "mce.csv").unlink()
    lines: list[str] = []
    run_study(run, OPTIONS, log=lines.append)
    ran = [line.split(":")[0] for line in lines if "reused" not in line]
    assert ran == [s.name for s in STEPS][index:]


def test_resume_redoes_a_run_whose_labels_were_edited(run: Path) -> None:
    path = run / "data" / "test_labels.npy"
    original = np.load(path)
    edited = original.copy()
    edited[:50] = (edited[:50] + 1) % 10
    np.save(path, edited)
    lines: list[str] = []
    run_study(run, OPTIONS, log=lines.append)
    assert not any("reused" in line for line in lines)
    assert (np.load(path) == original).all()


@pytest.mark.parametrize("edit", ["labels", "test_size"])
@pytest.mark.parametrize("command", ["report", "export-run", "compare", "explore"])
def test_readers_refuse_an_edited_run(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str, command: str
) -> None:
    if edit == "labels":
        path = run / "data" / "test_labels.npy"
        labels = np.load(path)
        labels[:50] = (labels[:50] + 1) % 10
        np.save(path, labels)
        expected = "test_labels.npy: its bytes changed since the study's data step"
    else:
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["inputs"]["test_size"] = 150
        (run / "manifest.json").write_text(json.dumps(manifest))
        expected = "inputs.test_size is 150 but"
    args = {
        "report": ["report", str(run), "--no-progress"],
        "export-run": ["export-run", str(run), "--out", str(tmp_path / "ex"), "--no-progress"],
        "compare": ["compare", str(run), str(run), "--out", str(tmp_path / "cmp")],
        "explore": ["explore", str(run), "--no-browser", "--port", "1"],
    }[command]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "ex").exists() and not (tmp_path / "cmp").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("garbage.onnx", b"not a model", "not a valid ONNX model"),
        ("scores.npy", None, "a study needs scores for every variant"),
        ("junk.parquet", b"junk", "cannot read"),
    ],
)
def test_model_files_are_checked_before_anything_is_trained(
    tmp_path: Path, fashion_dir: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is None:
        np.save(path, np.zeros((3, 200, 10), np.float32))  # 3 variants, the study has 6
    else:
        path.write_bytes(content)
    out = tmp_path / "run"
    options = StudyOptions(**{**OPTIONS.__dict__, "models": ("logreg", str(path))})
    with pytest.raises(MnistlabError, match=message):
        run_study(out, options)
    assert not out.exists()


def test_a_logits_file_with_other_classes_is_refused(tmp_path: Path, fashion_dir: Path) -> None:
    path = tmp_path / "mine.npy"
    np.save(path, np.zeros((6, 200, 7), np.float32))
    options = StudyOptions(**{**OPTIONS.__dict__, "models": ("logreg", str(path))})
    with pytest.raises(MnistlabError, match="7 classes, but fashion-mnist has 10"):
        run_study(tmp_path / "run", options)
    assert not (tmp_path / "run").exists()


def test_steps_without_the_report_print_no_report_path(
    tmp_path: Path, fashion_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["study", "--out", str(tmp_path / "r"), "--quick", "--models", "logreg"]
    args += ["--baseline", "logreg", "--corruptions", "fog", "--steps", "data", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "report.html" not in out and f"run -> {tmp_path / 'r'}" in out
    assert len(STEPS) > 2
