from __future__ import annotations

import pytest
from tests.evaluate.test_evaluate_robustness import BASE, MODEL, _preds

from mnistlab.workflows.evaluate import evaluate_predictions as evaluate


def test_evaluate_writes_tables_and_plots(tmp_path):
    a = tmp_path / "cnn.parquet"
    _preds("cnn", MODEL).to_parquet(a)
    b = tmp_path / "base.parquet"
    _preds("logreg", BASE).drop(columns="model").to_parquet(b)
    tables = evaluate([a], tmp_path / "eval", baseline_source=b)
    assert tables["mce"].set_index("model").loc["cnn", "mce"] == pytest.approx(60.0)
    assert set(tables["mce"]["model"]) == {
        "cnn",
        "base",
    }  # a table without a model column is named by its file
    out = tmp_path / "eval"
    for name in ("accuracy", "corruptions", "mce", "per_class"):
        assert (out / f"{name}.csv").is_file() and (out / f"{name}.md").read_text().startswith("# ")
    for png in ("heatmap_cnn.png", "reliability_cnn.png", "heatmap_base.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert "mCE" in (out / "summary.md").read_text()
    # default baseline: logreg when present
    tables = evaluate([_preds("cnn", MODEL), _preds("logreg", BASE)], tmp_path / "e2", plots=False)
    assert tables["mce"]["baseline"].iloc[0] == "logreg"
