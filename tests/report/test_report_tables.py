"""The joined samples view over a run's Parquet tables."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.report.tables import RunTables, class_names_of, models_of
from mnistlab.scores.table import DEFAULT_METHODS


def test_samples_view_joins_every_table(demo_run):
    t = RunTables(demo_run)
    try:
        assert t.model == "cnn" and t.models == ["cnn"]
        # the demo's scores are the study's own (mnistlab.scores.analyze_run)
        assert t.score_columns == [*DEFAULT_METHODS, "uniqueness"]
        assert t.columns.morpho == ["area", "length", "thickness", "slant", "width", "height"]
        assert t.embedding_kinds() == ["pca"] and t.hardness_column() == "entropy"
        assert t.prob_columns == [f"prob_{c}" for c in range(10)]
        assert len(t.logit_columns) == 10
        frame = t.query(
            "SELECT * FROM samples WHERE variant = 'fixture_shift-s1' AND sample_id = 4"
        )
        morpho = pd.read_parquet(demo_run / "morpho.parquet").set_index("sample_id")
        assert frame["area"].iloc[0] == morpho.loc[4, "area"]
        assert frame["pca_0"].isna().all()  # only clean samples were embedded
        n = t.rows("SELECT count(*) FROM samples")[0][0]
        assert n == 1500
    finally:
        t.close()


def test_missing_columns_are_derived_or_refused(tmp_path, demo_run):
    run = tmp_path / "run"
    shutil.copytree(demo_run / "data", run / "data")
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    (run / "preds").mkdir()
    preds.drop(columns=["corruption", "severity"]).to_parquet(run / "preds" / "mlp.parquet")
    t = RunTables(run, "mlp")
    got = t.query("SELECT DISTINCT variant, corruption, severity FROM samples ORDER BY 1")
    assert ("fixture_noise-s3", "fixture_noise", 3) in set(map(tuple, got.to_numpy().tolist()))
    assert ("clean", "identity", 0) in set(map(tuple, got.to_numpy().tolist()))
    assert t.hardness_column() is None and t.embedding_kinds() == []
    with pytest.raises(MnistlabError, match="unknown hardness score 'entropy'"):
        t.hardness_column("entropy")
    t.close()
    preds.drop(columns=["pred"]).to_parquet(run / "preds" / "bad.parquet")
    with pytest.raises(MnistlabError, match="missing column 'pred'"):
        RunTables(run, "bad")
    with pytest.raises(MnistlabError, match="unknown model 'cnn'"):
        RunTables(run, "cnn")
    with pytest.raises(MnistlabError, match="no predictions"):
        RunTables(tmp_path)
    with pytest.raises(MnistlabError, match="not a directory"):
        RunTables(tmp_path / "nope")


def test_models_and_class_names(tmp_path, demo_run):
    assert models_of(tmp_path) == []
    (tmp_path / "preds").mkdir()
    for m in ("rf", "cnn", "logreg"):
        (tmp_path / "preds" / f"{m}.parquet").write_bytes(b"")
    assert models_of(tmp_path) == ["cnn", "logreg", "rf"]
    assert class_names_of(demo_run)[0] == "T-shirt/top"
    (tmp_path / "manifest.json").write_text(json.dumps({"dataset": "mnist"}))
    assert class_names_of(tmp_path) == [str(i) for i in range(10)]
    (tmp_path / "manifest.json").write_text(json.dumps({"dataset": {"name": "kmnist"}}))
    assert class_names_of(tmp_path)[1] == "ki"
    (tmp_path / "manifest.json").write_text(json.dumps({"dataset": "unknown-set"}))
    assert class_names_of(tmp_path, 3) == ["0", "1", "2"]
