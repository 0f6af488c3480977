"""Embeddings: PCA on all rows, t-SNE on a subsample; embed_run over a run's model."""

from __future__ import annotations

import sys
import types

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.workflows.embed import embed_features, embed_run


def test_pca_matches_the_top_principal_axes(fashion_small):
    x = fashion_small.reshape(100, -1)[:, ::4].astype(np.float64)
    got = embed_features(x, methods=["pca"])["pca"]
    centred = x - x.mean(0)
    _, v = np.linalg.eigh(centred.T @ centred)
    ref = centred @ v[:, ::-1][:, :2]
    for k in range(2):
        assert abs(np.corrcoef(got[:, k], ref[:, k])[0, 1]) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(got.var(0), ref.var(0), rtol=1e-6)
    # Deterministic signs.
    np.testing.assert_array_equal(got, embed_features(x[::1], methods=["pca"])["pca"])


@pytest.mark.slow
def test_tsne_on_a_subsample_separates_classes(fashion_test):
    x = fashion_test.images[:160].reshape(160, -1) / 255.0
    y = fashion_test.labels[:160]
    out = embed_features(x, methods=["tsne"], tsne_max=120, seed=1)["tsne"]
    fitted = np.isfinite(out).all(1)
    assert fitted.sum() == 120 and np.isnan(out[~fitted]).all()
    # Trousers (1) and bags (8) sit apart from each other in the map.
    a, b = out[fitted & (y == 1)], out[fitted & (y == 8)]
    within = np.linalg.norm(a - a.mean(0), axis=1).mean()
    assert np.linalg.norm(a.mean(0) - b.mean(0)) > within


def test_embed_features_rejects_bad_input():
    with pytest.raises(MnistlabError, match="at least 3 rows"):
        embed_features(np.zeros((2, 4)))
    with pytest.raises(MnistlabError, match="NaN"):
        embed_features(np.full((5, 4), np.nan))
    with pytest.raises(MnistlabError, match="unknown embedding method 'isomap'"):
        embed_features(np.zeros((5, 4)), methods=["isomap"])
    with pytest.raises(MnistlabError, match="tsne_max"):
        embed_features(np.zeros((5, 4)), tsne_max=1)


def test_embed_run_uses_the_models_features(tmp_path, demo_run, monkeypatch):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(demo_run / "data", run / "data")
    shutil.copy(demo_run / "manifest.json", run / "manifest.json")
    (run / "models" / "cnn").mkdir(parents=True)
    seen = []

    def features(model, images):
        seen.append((model, images.shape))
        return images.reshape(len(images), -1).astype(np.float32) / 255.0

    fake = types.ModuleType("mnistlab.models")
    fake.features = features
    fake.load_model = lambda path: f"model at {path.name}"
    monkeypatch.setitem(sys.modules, "mnistlab.models", fake)
    path = embed_run(
        run, "cnn", variants=["clean", "fixture_noise-s3"], n_corrupted=50, methods=["pca"]
    )
    table = pd.read_parquet(path)
    assert list(table.columns) == ["sample_id", "variant", "pca_0", "pca_1"]
    assert len(table) == 350 and (table.variant == "fixture_noise-s3").sum() == 50
    assert seen == [("model at cnn", (300, 28, 28)), ("model at cnn", (50, 28, 28))]
    with pytest.raises(MnistlabError, match="no such model"):
        embed_run(run, "vit")


@pytest.mark.slow
def test_embed_run_with_a_real_cnn(tmp_path, demo_run, fashion_train):
    import shutil

    from mnistlab import models

    run = tmp_path / "run"
    shutil.copytree(demo_run / "data", run / "data")
    shutil.copy(demo_run / "manifest.json", run / "manifest.json")
    cnn = models.train(
        fashion_train.images[:256], fashion_train.labels[:256], "cnn", epochs=1, progress=False
    )
    cnn.save(run / "models" / "cnn")
    table = pd.read_parquet(embed_run(run, "cnn", methods=["pca"]))
    assert table.shape == (300, 4) and np.isfinite(table[["pca_0", "pca_1"]].to_numpy()).all()
    assert table[["pca_0", "pca_1"]].std().min() > 0
