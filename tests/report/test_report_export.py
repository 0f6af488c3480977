"""FiftyOne export layout (fiftyone itself is not installed: the layout is checked by hand)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mnistlab.errors import MnistlabError
from mnistlab.report import export_run
from mnistlab.workflows.variants import variant_images


def test_fiftyone_layout(tmp_path, demo_run):
    out = export_run(demo_run, tmp_path / "fo", variants=["clean", "fixture_noise-s3"])
    labels = json.loads((out / "labels.json").read_text())
    # FiftyOneImageClassificationDataset: {"classes": [...], "labels": {uuid: target index}}
    assert set(labels) == {"classes", "labels"}
    assert labels["classes"][9] == "Ankle boot"
    files = sorted(p.stem for p in (out / "data").glob("*.png"))
    assert len(files) == 600 and sorted(labels["labels"]) == files
    preds = pd.read_parquet(demo_run / "preds" / "cnn.parquet")
    truth = preds[preds.variant == "clean"].set_index("sample_id")["label"]
    assert all(labels["labels"][f"clean__{i}"] == truth[i] for i in (0, 17, 299))
    img = np.asarray(Image.open(out / "data" / "fixture_noise-s3__5.png"))
    np.testing.assert_array_equal(img, variant_images(demo_run, "fixture_noise-s3", [5])[0])
    samples = pd.read_csv(out / "samples.csv")
    assert len(samples) == 600
    for field in (
        "uuid",
        "filepath",
        "variant",
        "label",
        "pred",
        "correct",
        "confidence",
        "entropy",
        "gini",
        "margin",
        "area",
        "thickness",
    ):
        assert field in samples.columns
    assert (out / samples.filepath.iloc[0]).is_file()
    records = json.loads((out / "samples.json").read_text())
    assert records["model"] == "cnn" and len(records["samples"]) == 600
    assert records["samples"][0]["uuid"] == samples.uuid.iloc[0]


def test_export_all_variants_and_errors(tmp_path, demo_run):
    out = export_run(demo_run, tmp_path / "all", variants=None)
    assert len(list((out / "data").glob("*.png"))) == 1500
    with pytest.raises(MnistlabError, match="unknown export format 'coco'"):
        export_run(demo_run, tmp_path / "x", format="coco")
    with pytest.raises(MnistlabError, match="variant 'fog-s1' is not in"):
        export_run(demo_run, tmp_path / "x", variants=["fog-s1"])
    assert not (tmp_path / "x").exists()


def test_export_has_every_models_logits_and_they_round_trip(
    tmp_path, fashion_test, fashion_demo_run
):
    run = fashion_demo_run(tmp_path / "run", 60, embeddings=(), baseline="logreg")
    out = export_run(run, tmp_path / "fo")
    records = json.loads((out / "samples.json").read_text())["samples"]
    assert len(records) == 60
    names = fashion_test.class_names
    for model in ("cnn", "logreg"):
        preds = pd.read_parquet(run / "preds" / f"{model}.parquet")
        preds = preds[preds.variant == "clean"].set_index("sample_id")
        logits = preds[[f"logit_{c}" for c in range(10)]].to_numpy(np.float64)
        probs = preds[[f"prob_{c}" for c in range(10)]].to_numpy(np.float64)
        for r in records:
            i = r["sample_id"]
            p = r["predictions"][model]
            # JSON floats read back to the very float64 of the predictions table.
            assert p["logits"] == logits[i].tolist()
            assert p["label"] == names[int(preds.loc[i, "pred"])]
            assert p["confidence"] == pytest.approx(probs[i].max(), abs=1e-12)
    csv = pd.read_csv(out / "samples.csv").set_index("sample_id")
    cnn = pd.read_parquet(run / "preds" / "cnn.parquet").query("variant == 'clean'")
    np.testing.assert_array_equal(
        csv.loc[cnn.sample_id, [f"logit_{c}" for c in range(10)]].to_numpy(),
        cnn[[f"logit_{c}" for c in range(10)]].to_numpy(np.float64),
    )


def test_export_without_logits_writes_log_probabilities(tmp_path, demo_run):
    import shutil

    from mnistlab.scores.uncertainty import softmax

    run = tmp_path / "probs-only"
    shutil.copytree(demo_run, run)
    preds = pd.read_parquet(run / "preds" / "cnn.parquet")
    preds.drop(columns=[f"logit_{c}" for c in range(10)]).to_parquet(run / "preds" / "cnn.parquet")
    out = export_run(run, tmp_path / "fo")
    first = json.loads((out / "samples.json").read_text())["samples"][0]
    probs = preds.query("variant == 'clean'").sort_values("sample_id").iloc[0]
    np.testing.assert_allclose(
        softmax(np.array([first["predictions"]["cnn"]["logits"]]))[0],
        probs[[f"prob_{c}" for c in range(10)]].to_numpy(np.float64),
        rtol=1e-12,
    )
