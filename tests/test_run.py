from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab import run
from mnistlab.errors import MnistlabError


def test_variant_names_round_trip():
    assert run.variant_name("identity", 0) == "clean" == run.variant_name("fog", 0)
    assert run.variant_name("motion_blur", 3) == "motion_blur-s3"
    assert run.parse_variant("motion_blur-s3") == ("motion_blur", 3)
    assert run.parse_variant("clean") == ("identity", 0)
    with pytest.raises(MnistlabError, match="not a variant name"):
        run.parse_variant("fog")


def test_manifest_steps_and_tables(tmp_path):
    assert run.read_manifest(tmp_path) == {}
    run.update_manifest(tmp_path, seed=np.int64(3), path=tmp_path)
    assert run.read_manifest(tmp_path)["seed"] == 3
    assert not run.step_done(tmp_path, "train")
    run.mark_step(tmp_path, "train", 1.23456, info={"a": 1})
    assert run.step_done(tmp_path, "train")
    assert run.read_manifest(tmp_path)["steps"]["train"]["seconds"] == 1.235
    table = pd.DataFrame({"sample_id": [0, 1], "x": [0.5, 1.5]})
    run.write_table(tmp_path, "scores/cnn", table)
    pd.testing.assert_frame_equal(run.read_table(tmp_path, "scores/cnn"), table)
    with pytest.raises(MnistlabError, match="no such table"):
        run.read_table(tmp_path, "nope")
    (tmp_path / "manifest.json").write_text("[1]")
    with pytest.raises(MnistlabError, match="not a JSON object"):
        run.read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(MnistlabError, match="invalid JSON"):
        run.read_manifest(tmp_path)


def test_run_layout_names_every_path(tmp_path):
    lay = run.RunLayout(tmp_path)
    assert lay.manifest == tmp_path / "manifest.json"
    assert lay.test_images == tmp_path / "data" / "test_images.npy"
    assert lay.preds("cnn") == tmp_path / "preds" / "cnn.parquet"
    assert lay.scores("logreg") == tmp_path / "scores" / "logreg.parquet"
    assert lay.embeddings("cnn") == tmp_path / "embeddings" / "cnn.parquet"
    assert lay.prioritization("cnn") == tmp_path / "hardness" / "cnn" / "prioritization.csv"
    assert lay.eval_table("mce") == tmp_path / "eval" / "mce.csv"
    assert lay.eval_heatmap("cnn") == tmp_path / "eval" / "heatmap_cnn.png"
    assert lay.morpho == tmp_path / "morpho.parquet"
    assert lay.report == tmp_path / "report.html"
    assert lay.fmnist_c == tmp_path / "fmnist-c"
    assert lay.relative(lay.fmnist_c_table) == "fmnist-c/prioritization.csv"
    # the compare folder, in a run and anywhere else, with labels made safe for file names
    assert lay.compare_table("pairs") == tmp_path / "compare" / "pairs.csv"
    delta = lay.compare_delta("runs a/cnn", "logreg")
    assert delta == tmp_path / "compare" / "delta_runs_a_cnn__logreg.png"
    out = run.CompareLayout(tmp_path / "cmp")
    assert out.delta_heatmap("runs a/cnn", "logreg") == tmp_path / "cmp" / delta.name
    assert out.table("cells", ".parquet") == tmp_path / "cmp" / "cells.parquet"
    assert out.html == tmp_path / "cmp" / "compare.html"
    assert lay.models_with_preds() == []
    for name in ("logreg", "cnn", "a"):
        run.write_table(tmp_path, f"preds/{name}", pd.DataFrame({"x": [1]}))
    assert lay.models_with_preds() == ["cnn", "a", "logreg"]
    # the written table is where the layout says
    assert run.read_table(tmp_path, "preds/a").shape == (1, 1)


def test_corruption_params_come_from_the_manifest(tmp_path):
    assert run.corruption_params(tmp_path) == {"seed": 0, "compat": None}
    run.update_manifest(tmp_path, seed=7, compat="mnist-c")
    assert run.corruption_params(tmp_path) == {"seed": 7, "compat": "mnist-c"}


def test_clean_split_missing_is_a_clear_error(tmp_path):
    with pytest.raises(MnistlabError, match="missing"):
        run.clean_images(tmp_path)
    with pytest.raises(MnistlabError, match="missing"):
        run.clean_labels(tmp_path)
