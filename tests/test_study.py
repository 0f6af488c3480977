from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mnistlab import run as runlib
from mnistlab.errors import MnistlabError
from mnistlab.workflows.study import STEPS, StudyOptions, add_step, run_study, study_variants
from mnistlab.workflows.variants import variant_images


def test_study_variants_and_options():
    opts = StudyOptions(corruptions=("fog", "inverse"), severities=(1, 3))
    assert study_variants(opts) == [("identity", 0), ("fog", 1), ("fog", 3), ("inverse", 1)]
    with pytest.raises(MnistlabError, match="unknown corruption"):
        study_variants(StudyOptions(corruptions=("nope",)))
    quick = StudyOptions(quick=True).resolved()
    assert quick.train_size == 2000 and quick.test_size == 500 and quick.epochs == 3
    assert quick.corruptions and len(quick.corruptions) <= 5
    full = study_variants(StudyOptions())
    assert full[0] == ("identity", 0) and len({c for c, _ in full}) > 20


def test_add_step_orders_and_replaces():
    before = list(STEPS)
    try:

        def noop(run_dir, options):
            return {}

        add_step("extra", noop, after="predict")
        assert [s.name for s in STEPS].index("extra") == [s.name for s in STEPS].index(
            "predict"
        ) + 1
        add_step("extra", noop)
        assert STEPS[-1].name == "extra" and sum(s.name == "extra" for s in STEPS) == 1
        with pytest.raises(MnistlabError, match="no study step 'nope'"):
            add_step("x", noop, after="nope")
    finally:
        STEPS[:] = before


@pytest.mark.slow
def test_quick_study_end_to_end_and_resume(tmp_path):
    out = tmp_path / "run"
    opts = StudyOptions(
        quick=True, corruptions=("gaussian_noise", "rotate", "inverse"), progress=False
    )
    # Its duration (< 2 min on 2 idle cores) is measured in the report, not asserted here.
    manifest = run_study(out, opts)
    assert all(manifest["steps"][s.name]["done"] for s in STEPS)
    assert manifest["versions"]["torch"] and manifest["versions"]["numpy"]
    assert (
        len(manifest["inputs"]["test_images_sha256"]) == 64
        and manifest["inputs"]["train_size"] == 2000
    )
    assert manifest["variants"][0] == "clean" and "inverse-s1" in manifest["variants"]
    assert len(manifest["variants"]) == 1 + 5 + 5 + 1
    images = runlib.clean_images(out)
    assert images.shape == (500, 28, 28)
    preds = pd.read_parquet(out / "preds" / "cnn.parquet")
    assert len(preds) == 12 * 500 and set(preds["model"]) == {"cnn"}
    # predictions were made on exactly the images variant_images regenerates
    from mnistlab.models import load_model

    cnn = load_model(out / "models" / "cnn")
    some = preds[preds["variant"] == "rotate-s4"].head(20)
    regenerated = variant_images(out, "rotate-s4", some["sample_id"].to_numpy())
    assert (cnn.predict(regenerated) == some["pred"].to_numpy()).all()
    logreg = json.loads((out / "models" / "logreg" / "manifest.json").read_text())
    assert logreg["accuracy"] > 0.7  # the CNN's epoch budget does not cap the baseline
    mce = pd.read_csv(out / "eval" / "mce.csv").set_index("model")
    assert mce.loc["logreg", "mce"] == pytest.approx(100.0)
    assert (out / "eval" / "heatmap_cnn.png").is_file()
    # the later steps: morphometrics, scores and hard samples, embeddings, the report (last)
    assert [s.name for s in STEPS][-1] == "report"
    morpho = pd.read_parquet(out / "morpho.parquet")
    assert morpho["sample_id"].tolist() == list(range(500))
    assert {"area", "length", "thickness", "slant", "width", "height"} <= set(morpho.columns)
    assert morpho["area"].median() > 50
    scores = pd.read_parquet(out / "scores" / "cnn.parquet")
    assert len(scores) == len(preds) and "entropy" in scores.columns
    prio = pd.read_csv(out / "hardness" / "cnn" / "prioritization.csv")
    assert {"entropy", "random"} <= set(prio["score"])
    assert (out / "hardness" / "logreg" / "grid_hardest_misclassified.png").is_file()
    assert (out / "embeddings" / "cnn.parquet").is_file()
    html = (out / "report.html").read_text()
    assert "no morpho.parquet" not in html and "no scores table" not in html
    # a re-run reuses every step
    lines: list[str] = []
    run_study(out, opts, log=lines.append)
    assert all("reused" in line for line in lines) and len(lines) == len(STEPS)
    # forcing one step re-runs it only, and reuses the saved models
    lines.clear()
    again = run_study(out, opts, steps=["train"], force=True, log=lines.append)
    assert again["steps"]["train"]["info"]["cnn"]["reused"] is True
    with pytest.raises(MnistlabError, match="other options"):
        run_study(out, StudyOptions(quick=True, seed=1, progress=False))
    with pytest.raises(MnistlabError, match="unknown study step"):
        run_study(out, opts, steps=["nope"])


@pytest.mark.slow
def test_quick_study_tables_are_pinned(tmp_path):
    """``mnistlab study --quick`` writes the tables it wrote before the packages were
    re-layered: their contents, to 1e-4 (tests/golden/tables.py says how to re-pin on
    purpose). The study runs on the pinned models (training differs between CPUs), in a
    fresh process, as a user runs it."""
    import subprocess
    import sys

    from tests.golden.tables import MODELS, compare

    out = tmp_path / "run"
    models = f"{MODELS / 'cnn'},{MODELS / 'logreg.parquet'}"
    command = [sys.executable, "-m", "mnistlab", "study", "--quick", "--no-progress"]
    command += ["--corruptions", "gaussian_noise,rotate,inverse", "--models", models]
    command += ["--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert compare(out, Path(__file__).parent / "golden" / "study_quick") == []


@pytest.mark.slow
def test_predict_step_is_the_same_whatever_the_workers_and_overlap(tmp_path):
    """Corrupting the next corruption while predicting the current one changes no byte."""
    out = tmp_path / "run"
    opts = StudyOptions(
        quick=True,
        corruptions=("gaussian_noise", "inverse", "rotate"),
        severities=(1, 3),
        epochs=1,
        test_size=300,
        progress=False,
        executor="serial",
    )
    manifest = run_study(out, opts, steps=["data", "train", "predict"])
    info = manifest["steps"]["predict"]["info"]
    from mnistlab.models.runtime import resolve_runtime

    assert info["runtimes"] == {"cnn": resolve_runtime("auto"), "logreg": "sklearn"}
    assert info["variants"] == 1 + 2 + 1 + 2 and info["rows_per_model"] == 6 * 300
    serial = {m: (out / "preds" / f"{m}.parquet").read_bytes() for m in ("cnn", "logreg")}
    parallel = StudyOptions(**{**opts.__dict__, "executor": "local", "workers": 2})
    run_study(out, parallel, steps=["predict"], force=True)
    for m in ("cnn", "logreg"):
        assert (out / "preds" / f"{m}.parquet").read_bytes() == serial[m]
    preds = pd.read_parquet(out / "preds" / "cnn.parquet")
    assert preds["variant"].unique().tolist() == manifest["variants"]
    # the rows are the predictions of the variants' images, as PyTorch float32 computes them
    from mnistlab.models import load_model

    cnn = load_model(out / "models" / "cnn")
    some = preds[preds["variant"] == "rotate-s3"]
    images = variant_images(out, "rotate-s3", some["sample_id"].to_numpy())
    np.testing.assert_array_equal(cnn.torch_logits(images).argmax(1), some["pred"].to_numpy())
