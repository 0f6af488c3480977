"""Your model first: objects and named files go into a study, are saved into the run, come
first everywhere, are checked on resume; the baseline costs nothing unless asked for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab.cli import main
from mnistlab.errors import MnistlabError
from mnistlab.workflows.study import StudyOptions, run_study

torch = pytest.importorskip("torch")
nn = torch.nn

BASE = dict(
    quick=True,
    corruptions=("fog",),
    train_size=500,
    test_size=200,
    progress=False,
    executor="serial",
)
NORMALISE = (("mine", (("mean", 0.286), ("std", 0.353))),)


@pytest.fixture(scope="module")
def net(fashion_train) -> nn.Module:
    """A user's small network, trained on normalised real images (Normalize(0.286, 0.353))."""
    torch.manual_seed(0)
    x = torch.tensor(fashion_train.images[:3000], dtype=torch.float32).unsqueeze(1) / 255
    x = (x - 0.286) / 0.353
    y = torch.tensor(fashion_train.labels[:3000])
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(3):
        for i in range(0, 3000, 100):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i : i + 100]), y[i : i + 100]).backward()
            opt.step()
    return model


def constant(images: np.ndarray) -> np.ndarray:
    """A 'model' whose input is wrong: it always answers class 0."""
    return np.tile(np.eye(10)[0], (len(images), 1))


@pytest.fixture(scope="module")
def own_run(tmp_path_factory, fashion_dir, net) -> Path:
    from sklearn.linear_model import LogisticRegression

    from mnistlab.data import load

    train = load("fashion-mnist", "train")
    estimator = LogisticRegression(max_iter=200).fit(
        train.images[:1000].reshape(1000, -1) / 255.0, train.labels[:1000]
    )
    out = tmp_path_factory.mktemp("own") / "run"
    options = StudyOptions(**BASE, models=("logreg",), preprocess=NORMALISE)
    run_study(out, options, models={"mine": net, "sk": estimator, "const": constant})
    return out


def test_the_users_models_come_first_and_are_saved_into_the_run(own_run: Path) -> None:
    manifest = json.loads((own_run / "manifest.json").read_text())
    assert manifest["models"] == ["mine", "sk", "const", "logreg"]
    assert (own_run / "models" / "mine" / "model.onnx").is_file()
    saved = json.loads((own_run / "models" / "mine" / "manifest.json").read_text())
    assert len(saved["sha256"]) == 64
    assert (own_run / "models" / "sk" / "manifest.json").is_file()
    assert not (own_run / "models" / "const").exists()  # a callable cannot be saved
    info = manifest["steps"]["evaluate"]["info"]
    assert info["mine"]["clean_accuracy"] > 0.7 and info["sk"]["clean_accuracy"] > 0.6
    html = (own_run / "report.html").read_text()
    assert "Hardness of mine" in html and "Morphometrics of mine" in html
    first = html.index('data-model="mine"')
    assert first < html.index('data-model="logreg"')


def test_a_model_at_chance_level_is_flagged(own_run: Path) -> None:
    sanity = pd.read_csv(own_run / "eval" / "sanity.csv").set_index("model")
    assert bool(sanity.loc["const", "suspect"]) and not bool(sanity.loc["mine", "suspect"])
    assert "100 % of predictions are class 0" in sanity.loc["const", "reason"]
    html = (own_run / "report.html").read_text()
    assert "const</strong>: likely preprocessing mistake" in html
    from mnistlab.workflows.study import summary_lines

    lines = summary_lines(json.loads((own_run / "manifest.json").read_text()))
    assert any(line.startswith("const: likely preprocessing mistake") for line in lines)


def test_resume_needs_the_same_models(own_run: Path, tmp_path: Path, net) -> None:
    run = tmp_path / "run"
    shutil.copytree(own_run, run)
    options = StudyOptions(**BASE, models=("logreg",), preprocess=NORMALISE)
    with pytest.raises(MnistlabError, match="was a Python object that cannot be saved"):
        run_study(run, options)  # the callable must come again, the others were saved
    lines: list[str] = []
    run_study(run, options, models={"const": constant}, log=lines.append)
    assert lines and all("reused" in line for line in lines if "kept in memory" not in line)
    other = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(MnistlabError, match="model 'mine' changed since this run used it"):
        run_study(run, options, models={"mine": other, "const": constant})


def test_bad_objects_are_refused_before_the_run_exists(tmp_path: Path, fashion_dir) -> None:
    out = tmp_path / "run"
    with pytest.raises(MnistlabError, match="cannot use int as a model: give"):
        run_study(out, StudyOptions(**BASE, models=()), models={"x": 42})
    with pytest.raises(MnistlabError, match="7 classes, but fashion-mnist has 10"):
        run_study(
            out,
            StudyOptions(**BASE, models=()),
            models={"x": lambda im: np.zeros((len(im), 7))},
        )
    assert not out.exists()


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory, net) -> Path:
    from mnistlab.models import wrap

    folder = tmp_path_factory.mktemp("onnx") / "mine"
    wrap(net, mean=0.286, std=0.353).save(folder)
    return folder / "model.onnx"


def test_a_study_of_one_onnx_model_shows_that_model(
    tmp_path: Path, fashion_dir, onnx_file: Path, capsys
) -> None:
    """``--models mine=FILE.onnx`` alone: no baseline is trained, every section is mine's."""
    run = tmp_path / "run"
    args = ["study", "--out", str(run), "--quick", "--corruptions", "fog", "--no-progress"]
    args += ["--models", f"mine={onnx_file}", "--mean", "0.286", "--std", "0.353"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-2].startswith("mine: clean 0.")
    assert sorted(p.name for p in (run / "models").iterdir()) == ["mine"]  # no logreg
    html = (run / "report.html").read_text()
    assert "Hardness of mine" in html and "logreg" not in html.split("Provenance")[0]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["inputs"]["given_models"]["mine"]["source"] == str(onnx_file)
    # an mCE baseline taken from the run's own predictions, nothing trained for it
    base = tmp_path / "base"
    assert main([*args[:2], str(base), *args[3:-6], "--models", "logreg"]) == 0
    capsys.readouterr()
    with_base = tmp_path / "with_base"
    baseline = str(base / "preds" / "logreg.parquet")
    argv = [*args[:2], str(with_base), *args[3:], "--baseline", baseline]
    assert main(argv) == 0
    mce = pd.read_csv(with_base / "eval" / "mce.csv").set_index("model")
    assert mce.loc["logreg", "mce"] == pytest.approx(100.0) and mce.loc["mine", "mce"] > 0
    assert not (with_base / "models" / "logreg").exists()


def test_compare_lists_a_shared_baseline_once(tmp_path: Path, own_run: Path) -> None:
    from mnistlab.workflows.compare import resolve_refs

    twin = tmp_path / "twin"
    shutil.copytree(own_run, twin)
    labels = [r.label for r in resolve_refs([own_run, twin])]
    assert labels.count("logreg") == 1 and "run/mine" in labels and "twin/mine" in labels
