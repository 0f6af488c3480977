"""The study steps of the report domain."""

from __future__ import annotations

import shutil
import sys
import types

import numpy as np
import pandas as pd

from mnistlab.workflows.report_steps import step_embed, step_report


def test_step_embed_needs_a_cnn(tmp_path, demo_run, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(demo_run / "data", run / "data")
    shutil.copy(demo_run / "manifest.json", run / "manifest.json")
    opts = types.SimpleNamespace(models=("cnn", "logreg"), quick=True, seed=0)
    assert "skipped" in step_embed(run, opts)
    (run / "models" / "cnn").mkdir(parents=True)
    fake = types.ModuleType("mnistlab.models")
    fake.features = lambda model, images: images.reshape(len(images), -1)[:, ::7].astype(np.float32)
    fake.load_model = lambda path: None
    monkeypatch.setitem(sys.modules, "mnistlab.models", fake)
    import mnistlab.workflows.embed as embed

    calls = {}
    real = embed.embed_features

    def spy(features, **kw):
        calls.update(kw)
        return real(features, methods=["pca"], seed=kw["seed"])

    monkeypatch.setattr(embed, "embed_features", spy)
    info = step_embed(run, opts)
    assert info == {"path": "embeddings/cnn.parquet"} and calls["tsne_max"] == 1000
    assert len(pd.read_parquet(run / info["path"])) == 300


def test_step_report_writes_the_report(tmp_path, demo_run):
    run = tmp_path / "run"
    shutil.copytree(demo_run / "data", run / "data")
    shutil.copytree(demo_run / "preds", run / "preds")
    info = step_report(run, types.SimpleNamespace(progress=False))
    assert info["path"] == "report.html" and info["bytes"] == (run / "report.html").stat().st_size
