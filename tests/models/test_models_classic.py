from __future__ import annotations

import numpy as np
import pytest
from tests.models._helpers import train_on

from mnistlab.errors import MnistlabError
from mnistlab.models import CLASSIFIERS, SklearnModel, load_model, model_names, train
from mnistlab.models.classic import make_pipeline

FAST = {
    "logreg": {"max_iter": 50},
    "rf": {"n_estimators": 10},
    "knn": {},
    "mlp": {"max_iter": 5, "hidden_layer_sizes": (32,)},
    "svc": {"n_components": 100},
    "gb": {"max_iter": 2, "max_leaf_nodes": 8},
}


def test_registry_lists_every_model():
    assert sorted(model_names()) == sorted(
        ["cnn", "tip-cnn", "logreg", "rf", "knn", "mlp", "svc", "gb", "vae", "gan"]
    )
    assert model_names("generative") == ["vae", "gan"]
    assert model_names("sklearn") == list(CLASSIFIERS)
    assert model_names("torch") == ["cnn", "tip-cnn"]


@pytest.mark.parametrize("name", list(FAST))
def test_each_baseline_fits_and_predicts(name, fashion_train, fashion_small):
    val = (fashion_small, np.zeros(100, np.int64))
    model = train_on(fashion_train[:400], name, params=FAST[name], val=val)
    assert isinstance(model, SklearnModel) and model.kind == "sklearn"
    logits = model.predict_logits(fashion_small)
    assert logits.shape == (100, 10) and logits.dtype == np.float32 and np.isfinite(logits).all()
    np.testing.assert_allclose(model.predict_proba(fashion_small).sum(1), 1, atol=1e-5)
    assert model.manifest["model"] == name and 0 <= model.manifest["accuracy"] <= 1


def test_logreg_beats_chance_and_round_trips(tmp_path, tiny_logreg, fashion_test):
    test = fashion_test[:500]
    acc = np.mean(tiny_logreg.predict(test.images) == test.labels)
    assert acc > 0.7
    tiny_logreg.save(tmp_path / "lr")
    back = load_model(tmp_path / "lr")
    np.testing.assert_array_equal(
        back.predict_logits(test.images), tiny_logreg.predict_logits(test.images)
    )
    assert back.class_names == tiny_logreg.class_names
    assert back.manifest["architecture"] == "StandardScaler + LogisticRegression"


def test_missing_classes_get_floor_logits(fashion_train, fashion_small):
    ds = fashion_train[:300]
    ds = ds[ds.labels < 3]
    model = train_on(ds, "logreg")
    assert model.num_classes == 10
    proba = model.predict_proba(fashion_small)
    assert proba[:, 3:].max() < 1e-5 and model.predict(fashion_small).max() < 3
    svc = train_on(ds, "svc", params={"n_components": 50})
    assert svc.predict(fashion_small).max() < 3


def test_bad_inputs(fashion_small, tiny_logreg, tmp_path):
    with pytest.raises(MnistlabError, match="unknown classifier"):
        make_pipeline("xgboost")
    with pytest.raises(MnistlabError, match="epochs"):
        train(fashion_small, np.zeros(100, np.int64), "logreg", epochs=0)
    with pytest.raises(MnistlabError, match="uint8"):
        train(fashion_small[0], np.zeros(100, np.int64), "logreg")
    with pytest.raises(MnistlabError, match="labels"):
        train(fashion_small, np.zeros(5, np.int64), "logreg")
    with pytest.raises(MnistlabError, match="expects images"):
        tiny_logreg.predict_logits(np.zeros((2, 10, 10), np.uint8))
    assert tiny_logreg.predict_logits(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "manifest.json").write_text(
        '{"kind": "sklearn", "name": "x", "class_names": ["a"]}'
    )
    with pytest.raises(MnistlabError, match="missing model file"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "manifest.json").write_text('{"kind": "jax"}')
    with pytest.raises(MnistlabError, match="unknown model kind 'jax'"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "manifest.json").write_text("{")
    with pytest.raises(MnistlabError, match="invalid JSON"):
        load_model(tmp_path / "m")


def test_epochs_cap_iterations(fashion_train):
    ds = fashion_train[:200]
    model = train(ds.images, ds.labels, "logreg", epochs=3, progress=False)
    assert model.pipeline.named_steps["clf"].n_iter_[0] <= 3
